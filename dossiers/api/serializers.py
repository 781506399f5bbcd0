"""Dossiers in and out of the API (DESIGN.md §5): input serializers validate and resolve codes,
output serializers read what the selectors fetched. No business rules here."""

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ObjectDoesNotExist
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.encoding import smart_str
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from portal.api.serializers import DeclaredFieldsCopied, ModelFieldsOnce
from portal.models import Unit
from procedures.api.serializers import TraceStepSerializer, trace_data
from procedures.catalogue_cache import procedure_by_code, unit_by_code
from procedures.deadlines import TraceStep
from procedures.models import Procedure

from ..choices import Action, AttachmentKind, Channel, RatingScore, Timeliness
from ..models import Attachment, Dossier, DossierDocument, DossierEvent, Pause, Rating
from ..privacy import id_number_policy, mask_id_number
from ..selectors import available_actions
from ..selectors import current_timeliness as current_timeliness_at
from ..services import Applicant

# --- Input: intake --------------------------------------------------------------------------


class ApplicantSerializer(DeclaredFieldsCopied, serializers.Serializer):
    full_name = serializers.CharField(max_length=200)
    id_number = serializers.CharField(max_length=12, help_text=_("Citizen ID number (CCCD)."))
    phone = serializers.CharField(max_length=20)
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    address = serializers.CharField(required=False, allow_blank=True, default="", max_length=300)


class _CatalogueCodeField(serializers.SlugRelatedField):
    """A catalogue object named by its code, read through the process's catalogue cache."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(slug_field="code", **kwargs)

    def lookup(self, code: str) -> Any:
        raise NotImplementedError

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str | int):
            self.fail("invalid")
        try:
            return self.lookup(str(data))
        except ObjectDoesNotExist:
            self.fail("does_not_exist", slug_name=self.slug_field, value=smart_str(data))
        except (TypeError, ValueError):  # e.g. a NUL, which PostgreSQL cannot be sent
            self.fail("invalid")


class ProcedureCodeField(_CatalogueCodeField):
    """A procedure with its field (the 201 answer shows the field's code)."""

    default_error_messages = {"does_not_exist": _("No procedure has the code {value}.")}

    def lookup(self, code: str) -> Procedure:
        return procedure_by_code(code)


class UnitCodeField(_CatalogueCodeField):
    default_error_messages = {"does_not_exist": _("No unit has the code {value}.")}

    def lookup(self, code: str) -> Unit:
        return unit_by_code(code)


class DossierCreateSerializer(DeclaredFieldsCopied, serializers.Serializer):
    procedure = ProcedureCodeField(
        queryset=Procedure.objects.all(), help_text=_("Procedure code, e.g. 1.001193.")
    )
    unit = UnitCodeField(
        queryset=Unit.objects.all(), help_text=_("Agency code of the receiving unit.")
    )
    channel = serializers.ChoiceField(
        choices=Channel.choices,
        help_text=_("Citizens submit online; counter officers log in_person and postal intake."),
    )
    applicant = ApplicantSerializer()
    postal_tracking_no = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=64
    )
    note = serializers.CharField(required=False, allow_blank=True, default="")
    documents = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        default=list,
        help_text=_("Ids of the procedure's document components received."),
    )
    digitized_intake = serializers.BooleanField(
        required=False, default=False, help_text=_("Scanned and signed at intake (staff only).")
    )

    def applicant_value(self) -> Applicant:
        return Applicant(**self.validated_data["applicant"])


# --- Input: actions -------------------------------------------------------------------------
# One serializer per action; its validated data are the keyword arguments of the service.


class NoteSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="")


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField()


class RequestSupplementSerializer(serializers.Serializer):
    missing = serializers.CharField(help_text=_("The missing or incomplete documents."))
    reason = serializers.CharField()


class ResolveSerializer(serializers.Serializer):
    result = serializers.CharField(help_text=_("The result, e.g. the decision's number."))
    digitized_result = serializers.BooleanField(required=False, default=False)


class RejectSerializer(serializers.Serializer):
    reason = serializers.CharField()
    digitized_result = serializers.BooleanField(required=False, default=False)


class ApologizeSerializer(serializers.Serializer):
    promised_at = serializers.DateTimeField(
        help_text=_("The new promised date; without an offset it is Asia/Ho_Chi_Minh.")
    )
    reason = serializers.CharField(help_text=_("The reason for the delay."))


class AssignSerializer(serializers.Serializer):
    officer = serializers.SlugRelatedField(
        slug_field="username",
        queryset=get_user_model().objects.filter(is_active=True),
        help_text=_("Username of a processing officer of the unit."),
        error_messages={"does_not_exist": _("No account has the username {value}.")},
    )


ACTION_SERIALIZERS: dict[str, type[serializers.Serializer]] = {
    Action.ACCEPT: NoteSerializer,
    Action.REFUSE: ReasonSerializer,
    Action.START: NoteSerializer,
    Action.REQUEST_SUPPLEMENT: RequestSupplementSerializer,
    Action.SUPPLEMENT: NoteSerializer,
    Action.RESOLVE: ResolveSerializer,
    Action.REJECT: RejectSerializer,
    Action.RETURN: NoteSerializer,
    Action.WITHDRAW: ReasonSerializer,
    Action.STOP: ReasonSerializer,
    Action.APOLOGIZE: ApologizeSerializer,
    Action.ASSIGN: AssignSerializer,
}


# --- Input: attachments and import ------------------------------------------------------------


class AttachmentUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text=_("PDF, JPEG or PNG, recognised by its content."))
    document = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        help_text=_("Id of the dossier's checklist line this file is for."),
    )
    kind = serializers.ChoiceField(
        choices=AttachmentKind.choices, required=False, default=AttachmentKind.DOCUMENT
    )
    digitized = serializers.BooleanField(required=False, default=False)

    def validate_document(self, value: int | None) -> DossierDocument | None:
        if value is None:
            return None
        document = self.context["dossier"].documents.filter(pk=value).first()
        if document is None:
            raise serializers.ValidationError(_("This dossier has no document with that id."))
        return document


class RatingSerializer(serializers.ModelSerializer):
    """The applicant's rating of the service: in ``score`` and ``comment``, out with the time."""

    score = serializers.ChoiceField(
        choices=RatingScore.choices,
        help_text=_("very_satisfied, satisfied, neutral or dissatisfied."),
        error_messages={"invalid_choice": _("Choose one of the ratings.")},
    )
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)

    class Meta:
        model = Rating
        fields = ["score", "comment", "created_at"]
        read_only_fields = ["created_at"]


class ImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text=_("CSV, UTF-8, with the columns of DESIGN.md §6."))


class ImportResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    generated_codes = serializers.IntegerField(help_text=_("Rows whose code was generated."))
    by_status = serializers.DictField(child=serializers.IntegerField())


# --- Output -----------------------------------------------------------------------------------


class ApplicantOutSerializer(DeclaredFieldsCopied, serializers.Serializer):
    full_name = serializers.CharField(source="applicant_name")
    id_number = serializers.SerializerMethodField(
        help_text=_(
            "Citizen ID number (CCCD): in full for the applicant and the counter and "
            "processing officers of the dossier's unit, otherwise only its last four digits "
            "(********1234)."
        )
    )
    phone = serializers.CharField(source="applicant_phone")
    email = serializers.CharField(source="applicant_email")
    address = serializers.CharField(source="applicant_address")

    def get_id_number(self, dossier: Dossier) -> str:
        request = self.context.get("request")
        if request is None:  # no reader to judge: never the full number
            return mask_id_number(dossier.applicant_id_number)
        return id_number_policy(request).id_number(dossier)


def current_timeliness(dossier: Dossier) -> str | None:
    """As annotated by ``selectors.with_current_timeliness``, or worked out the same way."""
    value = getattr(dossier, "current_timeliness", None)
    if value is None:
        value = current_timeliness_at(dossier, timezone.now())
    return value or None


class DossierSerializer(ModelFieldsOnce, serializers.ModelSerializer):
    """A row of a list: what ``selectors.worklist`` fetched, no further query."""

    procedure = serializers.CharField(source="procedure.code")
    procedure_name = serializers.CharField(source="procedure.name")
    field = serializers.CharField(source="procedure.field.code")
    unit = serializers.CharField(source="unit.code")
    unit_name = serializers.CharField(source="unit.name")
    applicant = ApplicantOutSerializer(source="*")
    assigned_to = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    timeliness = serializers.SerializerMethodField()
    current_timeliness = serializers.SerializerMethodField()

    class Meta:
        model = Dossier
        fields = [
            "code",
            "procedure",
            "procedure_name",
            "field",
            "unit",
            "unit_name",
            "channel",
            "applicant",
            "status",
            "timeliness",
            "current_timeliness",
            "submitted_at",
            "received_at",
            "due_at",
            "paused_at",
            "promised_at",
            "resolved_at",
            "returned_at",
            "closed_at",
            "assigned_to",
        ]

    @extend_schema_field(serializers.ChoiceField(choices=Timeliness.choices, allow_null=True))
    def get_timeliness(self, dossier: Dossier) -> str | None:
        return dossier.timeliness or None

    @extend_schema_field(
        serializers.CharField(
            allow_null=True,
            help_text=_(
                "A value of timeliness: for an open dossier, in time or overdue as of now."
            ),
        )
    )
    def get_current_timeliness(self, dossier: Dossier) -> str | None:
        return current_timeliness(dossier)


class EventSerializer(ModelFieldsOnce, serializers.ModelSerializer):
    by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    # Plain strings in the schema: one enum of statuses, the dossier's ``status``, is enough.
    from_status = serializers.CharField(
        source="from_status", help_text=_("The status before; empty at intake.")
    )
    to_status = serializers.CharField(source="to_status", help_text=_("The status after."))

    class Meta:
        model = DossierEvent
        fields = ["at", "by", "action", "from_status", "to_status", "note"]

    def get_fields(self) -> dict[str, serializers.Field]:
        # "from" is a Python keyword: the fields are renamed here rather than declared.
        fields = super().get_fields()
        renamed = {"from_status": "from", "to_status": "to"}
        return {renamed.get(name, name): field for name, field in fields.items()}


class DossierDocumentSerializer(ModelFieldsOnce, serializers.ModelSerializer):
    class Meta:
        model = DossierDocument
        fields = ["id", "component", "name", "kind", "count", "required", "received"]


class AttachmentSerializer(ModelFieldsOnce, serializers.ModelSerializer):
    name = serializers.CharField(source="original_name")
    kind = serializers.CharField(help_text=_("document, supplement or result."))
    url = serializers.SerializerMethodField(help_text=_("Download address, for those who see it."))

    class Meta:
        model = Attachment
        fields = [
            "id",
            "name",
            "kind",
            "content_type",
            "size",
            "digitized",
            "document",
            "uploaded_at",
            "url",
        ]

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_url(self, attachment: Attachment) -> str | None:
        try:
            path = reverse("dossiers:attachment", args=[attachment.dossier.code, attachment.pk])
        except NoReverseMatch:  # the download page is not wired up (yet)
            return None
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class PauseSerializer(ModelFieldsOnce, serializers.ModelSerializer):
    class Meta:
        model = Pause
        fields = ["started_at", "ended_at", "missing_documents", "reason"]


class DossierDetailSerializer(DossierSerializer):
    """One dossier with its history, checklist, files, pauses and what the reader may do."""

    received_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    events = EventSerializer(many=True, read_only=True)
    deadline_trace = serializers.SerializerMethodField()
    documents = DossierDocumentSerializer(many=True, read_only=True)
    attachments = serializers.SerializerMethodField()
    pauses = PauseSerializer(many=True, read_only=True)
    available_actions = serializers.SerializerMethodField()

    class Meta(DossierSerializer.Meta):
        fields = [
            *DossierSerializer.Meta.fields,
            "postal_tracking_no",
            "note",
            "received_by",
            "apologized_at",
            "apology_reason",
            "result_summary",
            "close_reason",
            "digitized_intake",
            "digitized_result",
            "deadline_trace",
            "documents",
            "attachments",
            "pauses",
            "events",
            "available_actions",
        ]

    @extend_schema_field(TraceStepSerializer(many=True))
    def get_deadline_trace(self, dossier: Dossier) -> list[dict[str, Any]]:
        return trace_data(TraceStep.from_dict(data) for data in dossier.deadline_trace or [])

    @extend_schema_field(AttachmentSerializer(many=True))
    def get_attachments(self, dossier: Dossier) -> list[dict[str, Any]]:
        attachments = list(dossier.attachments.all())
        if not attachments:  # every new dossier: no serializer made for nothing
            return []
        for attachment in attachments:
            attachment.dossier = dossier  # the url needs its code: no query per file
        return AttachmentSerializer(attachments, many=True, context=self.context).data

    @extend_schema_field(
        serializers.ListField(
            child=serializers.CharField(),
            help_text=_("Actions the reader may take now, as named in actions/{action}/."),
        )
    )
    def get_available_actions(self, dossier: Dossier) -> list[str]:
        request = self.context.get("request")
        if request is None:
            return []
        return available_actions(dossier, request.user)
