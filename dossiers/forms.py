"""Forms of the staff pages: the worklist's filter panel, intake, a dossier's action forms and
its upload form. They check input only; the services decide and change.

The required-field messages reuse the services' wording, so the page and the API say the same.
"""

import uuid
from datetime import datetime

from django import forms
from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from portal.choices import Role
from portal.models import Unit
from portal.selectors import unit_ancestors, user_memberships
from portal.text import search_patterns
from portal.validators import clean_citizen_id, phone_validator
from procedures import catalogue_cache
from procedures.models import Procedure
from procedures.selectors import units_for_procedure

from .choices import AttachmentKind, Channel, Status
from .filters import DossierFilterForm
from .models import Dossier, DossierDocument
from .selectors import seen_unit_rows
from .services import Applicant

# --- Worklist -------------------------------------------------------------------------------------


def worklist_filter_form(data, *, user: User | AnonymousUser) -> DossierFilterForm:
    """The shared filter form, dressed for the page: fields and units as lists, dates as date
    pickers. The fields and their cleaning stay those of ``DossierFilterForm``."""
    form = DossierFilterForm(data)
    fields = catalogue_cache.field_choices()
    form.fields["field"].widget = forms.Select(choices=[("", _("All")), *fields])
    units = [(row.code, row.name) for row in seen_unit_rows(user)]
    form.fields["unit"].widget = forms.Select(choices=[("", _("All")), *units])
    form.fields["procedure"].widget.attrs.update({"placeholder": "1.001193", "spellcheck": "false"})
    form.fields["search"].widget.attrs.update({"autocomplete": "off"})
    for name in ("received_from", "received_to"):
        form.fields[name].widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    return form


# --- Intake ---------------------------------------------------------------------------------------


def intake_units(user: User | AnonymousUser) -> QuerySet[Unit]:
    """The units whose counter ``user`` may receive for: each unit where they are a counter
    officer and every unit below it (every unit for a superuser), those in force today."""
    if not user.is_authenticated:
        return Unit.objects.none()
    units = Unit.objects.all()
    if not user.is_superuser:
        paths = [m.unit.path for m in user_memberships(user) if m.role == Role.COUNTER_OFFICER]
        if not paths:
            return Unit.objects.none()
        condition = Q()
        for path in paths:
            condition |= Q(path__startswith=path)
        units = units.filter(condition)
    today = timezone.localdate()
    return units.filter(Q(valid_to__isnull=True) | Q(valid_to__gte=today)).order_by("path")


class DataSelect(forms.Select):
    """A select whose options carry ``data-*`` attributes, read by the page's small script."""

    def __init__(self, *args, option_data: dict[str, dict[str, str]] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.option_data = option_data or {}

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        option["attrs"].update(self.option_data.get(str(value), {}))
        return option


class IntakeChoiceForm(forms.Form):
    """Step 1 of intake: which unit receives, for which procedure."""

    unit = forms.ModelChoiceField(
        label=_("Receiving unit"),
        queryset=Unit.objects.none(),
        to_field_name="code",
        empty_label=None,
        widget=DataSelect,
        error_messages={"invalid_choice": _("You do not receive dossiers for this unit.")},
    )
    q = forms.CharField(
        label=_("Find a procedure"),
        required=False,
        max_length=100,
        help_text=_("Name or code, with or without diacritics."),
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("e.g. khai sinh, 1.001193")}
        ),
    )
    procedure = forms.CharField(
        label=_("Procedure"),
        widget=DataSelect,
        error_messages={"required": _("Choose a procedure.")},
    )

    def __init__(self, *args, user: User | AnonymousUser, search: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        queryset = intake_units(user)
        units = list(queryset)
        self.fields["unit"].queryset = queryset
        self.fields["unit"].widget.option_data = {
            unit.code: {"data-level": unit.level} for unit in units
        }
        self.fields["unit"].label_from_instance = lambda unit: unit.name
        levels = {unit.level for unit in units}
        procedures = Procedure.objects.active().select_related("field").filter(level__in=levels)
        for pattern in search_patterns(search):
            procedures = procedures.filter(search_text__contains=pattern)
        procedures = procedures.order_by("field__sort_order", "field__name", "name", "code")
        groups: dict[str, list[tuple[str, str]]] = {}
        data: dict[str, dict[str, str]] = {}
        for procedure in procedures:
            label = f"{procedure.name} ({procedure.code})"
            if len(levels) > 1:
                label = f"{label} — {procedure.get_level_display()}"
            groups.setdefault(procedure.field.name, []).append((procedure.code, label))
            data[procedure.code] = {
                "data-level": procedure.level,
                "data-search": procedure.search_text.strip(),
            }
        self.procedure_count = len(data)
        widget = self.fields["procedure"].widget
        widget.choices = [("", _("— Choose a procedure —")), *groups.items()]
        widget.option_data = data

    def clean_procedure(self) -> Procedure:
        code = self.cleaned_data["procedure"].strip()
        procedure = (
            Procedure.objects.active()
            .select_related("field")
            .prefetch_related("documents")
            .filter(code=code)
            .first()
        )
        if procedure is None:
            raise forms.ValidationError(
                _("No procedure in force has the code %(code)s."), params={"code": code}
            )
        return procedure

    def clean(self):
        cleaned = super().clean()
        unit, procedure = cleaned.get("unit"), cleaned.get("procedure")
        if unit and procedure and not units_for_procedure(procedure).filter(pk=unit.pk).exists():
            self.add_error(
                "procedure",
                _("%(unit)s does not handle this procedure: it is handled at %(level)s.")
                % {"unit": unit.name, "level": str(procedure.get_level_display()).lower()},
            )
        return cleaned


def document_label(document) -> str:
    """ "Tờ khai — original, 1 copy" for a procedure's document component."""
    copies = ngettext("%(count)d copy", "%(count)d copies", document.count) % {
        "count": document.count
    }
    return _("%(name)s — %(kind)s, %(count)s") % {
        "name": document.name,
        "kind": str(document.get_kind_display()).lower(),
        "count": copies,
    }


class IntakeForm(forms.Form):
    """Step 2 of intake: channel, applicant, the documents handed in, note."""

    channel = forms.ChoiceField(
        label=_("Channel"), widget=forms.RadioSelect, initial=Channel.IN_PERSON
    )
    postal_tracking_no = forms.CharField(
        label=_("Postal tracking number"),
        required=False,
        max_length=64,
        help_text=_("For dossiers received by post: the number on the postal receipt."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    applicant_name = forms.CharField(
        label=_("Applicant's full name"),
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    applicant_id_number = forms.CharField(
        label=_("Citizen ID number (CCCD)"),
        max_length=20,
        help_text=_("12 digits."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    applicant_phone = forms.CharField(
        label=_("Phone"),
        max_length=20,
        help_text=_("e.g. 0912345678 or 02163852300."),
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel", "autocomplete": "off"}),
    )
    applicant_email = forms.EmailField(label=_("E-mail"), required=False, max_length=254)
    applicant_address = forms.CharField(label=_("Address"), required=False, max_length=300)
    documents = forms.MultipleChoiceField(
        label=_("Documents handed in"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    digitized_intake = forms.BooleanField(
        label=_("Digitized at intake"),
        required=False,
        help_text=_("The documents were scanned and signed into the electronic dossier."),
    )
    # Made when the page is first shown and carried by every sending of it: the form sent
    # twice (a double click, a resend after a timeout) receives one dossier.
    submission_key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)

    def __init__(self, *args, procedure: Procedure, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound and not self.initial.get("submission_key"):
            self.initial["submission_key"] = uuid.uuid4().hex
        self.procedure = procedure
        channels = [(Channel.IN_PERSON.value, Channel.IN_PERSON.label)]
        if procedure.postal_allowed:
            channels.append((Channel.POSTAL.value, Channel.POSTAL.label))
        self.fields["channel"].choices = channels
        self.components = list(procedure.documents.all())
        self.fields["documents"].choices = [(str(c.pk), document_label(c)) for c in self.components]

    def checklist(self) -> list:
        """(check box, document component) pairs, in the procedure's order."""
        return list(zip(self["documents"], self.components, strict=True))

    def clean_applicant_name(self) -> str:
        return " ".join(self.cleaned_data["applicant_name"].split())

    def clean_applicant_id_number(self) -> str:
        return clean_citizen_id(self.cleaned_data["applicant_id_number"])

    def clean_applicant_phone(self) -> str:
        value = self.cleaned_data["applicant_phone"]
        for separator in (" ", ".", "-", "(", ")"):
            value = value.replace(separator, "")
        phone_validator(value)
        return value

    def clean_documents(self) -> list[int]:
        return [int(pk) for pk in self.cleaned_data["documents"]]

    def clean_submission_key(self) -> str:
        """The page's key; a missing or mangled one (a forged form) gets a new key: the intake
        goes ahead, only without the protection against a second sending."""
        try:
            return uuid.UUID(self.cleaned_data["submission_key"].strip()).hex
        except ValueError:
            return uuid.uuid4().hex

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("channel") == Channel.POSTAL and not cleaned.get("postal_tracking_no"):
            self.add_error(
                "postal_tracking_no", _("A postal dossier needs its postal tracking number.")
            )
        return cleaned

    def applicant(self) -> Applicant:
        data = self.cleaned_data
        return Applicant(
            full_name=data["applicant_name"],
            id_number=data["applicant_id_number"],
            phone=data["applicant_phone"],
            email=data["applicant_email"],
            address=data["applicant_address"],
        )


# --- A dossier's actions --------------------------------------------------------------------------


def _text(label, message=None, *, required=True, rows=3, help_text=""):
    return forms.CharField(
        label=label,
        required=required,
        max_length=4000,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": rows}),
        error_messages={"required": message} if message else {},
    )


class NoteForm(forms.Form):
    note = _text(_("Note"), required=False, rows=2)


class RefuseForm(forms.Form):
    reason = _text(
        _("Reason for the refusal"),
        _("Give the reason for the refusal."),
        help_text=_("Printed on the refusal slip (Mẫu 03)."),
    )


class RequestSupplementForm(forms.Form):
    missing = _text(
        _("Missing or incomplete documents"),
        _("List the missing or incomplete documents."),
        help_text=_("One per line. Printed on the supplement request (Mẫu 02)."),
    )
    reason = _text(_("Reason"), _("Give the reason."), rows=2)


class ResolveForm(forms.Form):
    result = _text(
        _("Result"),
        _("Describe the result (e.g. the decision's number)."),
        rows=2,
        help_text=_("e.g. Giấy khai sinh số 123, quyển 01/2026."),
    )
    digitized_result = forms.BooleanField(
        label=_("Digitized result"),
        required=False,
        help_text=_("The result was scanned and signed into the electronic dossier."),
    )
    result_file = forms.FileField(
        label=_("Result file"),
        required=False,
        help_text=_("Optional. PDF, JPEG or PNG."),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}),
    )


class RejectForm(forms.Form):
    reason = _text(
        _("Reason for the refusal decision"), _("Give the reason for the refusal decision.")
    )
    digitized_result = forms.BooleanField(
        label=_("Digitized result"),
        required=False,
        help_text=_("The written answer was scanned and signed into the electronic dossier."),
    )


class WithdrawForm(forms.Form):
    reason = _text(_("Reason for the withdrawal"), _("Give the reason for the withdrawal."))


class StopForm(forms.Form):
    reason = _text(_("Reason for stopping"), _("Give the reason for stopping."))


class ApologizeForm(forms.Form):
    promised_date = forms.DateField(
        label=_("New promised date"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    promised_time = forms.TimeField(
        label=_("New promised time"),
        initial="16:00",
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    reason = _text(
        _("Reason for the delay"),
        _("Give the reason for the delay."),
        help_text=_("Printed on the apology slip (Mẫu 04)."),
    )

    def promised_at(self) -> datetime:
        data = self.cleaned_data
        return timezone.make_aware(datetime.combine(data["promised_date"], data["promised_time"]))


class AssignForm(forms.Form):
    officer = forms.ModelChoiceField(
        label=_("Processing officer"),
        queryset=User.objects.none(),
        empty_label=_("— Choose an officer —"),
        error_messages={"required": _("Choose an officer.")},
    )

    def __init__(self, *args, dossier: Dossier, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["officer"]
        field.queryset = (
            User.objects.filter(
                is_active=True,
                memberships__role=Role.PROCESSING_OFFICER,
                memberships__unit__in=unit_ancestors(dossier.unit),
            )
            .distinct()
            .order_by("last_name", "first_name", "username")
        )
        field.label_from_instance = officer_label
        if dossier.assigned_to_id:
            field.initial = dossier.assigned_to_id


def officer_label(user: User) -> str:
    name = f"{user.last_name} {user.first_name}".strip()
    return f"{name} ({user.username})" if name else user.username


# Which form each action of the page takes. Keys are ``dossiers.choices.Action`` values.
ACTION_FORMS: dict[str, type[forms.Form]] = {
    "accept": NoteForm,
    "refuse": RefuseForm,
    "start": NoteForm,
    "request_supplement": RequestSupplementForm,
    "supplement": NoteForm,
    "apologize": ApologizeForm,
    "resolve": ResolveForm,
    "reject": RejectForm,
    "return": NoteForm,
    "withdraw": WithdrawForm,
    "stop": StopForm,
    "assign": AssignForm,
}


def action_form(action: str, dossier: Dossier, data=None, files=None) -> forms.Form:
    """The form of ``action`` for ``dossier``, its ids prefixed by the action (one page holds
    several forms with a ``reason``)."""
    form_class = ACTION_FORMS[action]
    kwargs = {"auto_id": f"{action}-%s"}
    if form_class is AssignForm:
        kwargs["dossier"] = dossier
    return form_class(data, files, **kwargs)


# --- Attachments ----------------------------------------------------------------------------------


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("File"),
        widget=forms.ClearableFileInput(
            attrs={"accept": ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"}
        ),
        error_messages={"required": _("Choose a file to upload.")},
    )
    document = forms.ChoiceField(label=_("Document of the checklist"), required=False)
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[
            (AttachmentKind.DOCUMENT.value, AttachmentKind.DOCUMENT.label),
            (AttachmentKind.SUPPLEMENT.value, AttachmentKind.SUPPLEMENT.label),
        ],
    )
    digitized = forms.BooleanField(
        label=_("Digitized"),
        required=False,
        help_text=_("Scanned and signed into the electronic dossier."),
    )

    def __init__(self, *args, dossier: Dossier, **kwargs):
        kwargs.setdefault("auto_id", "upload-%s")
        super().__init__(*args, **kwargs)
        limit = settings.ATTACHMENT_MAX_BYTES // (1024 * 1024)
        self.fields["file"].help_text = _("PDF, JPEG or PNG, up to %(limit)d MB.") % {
            "limit": limit
        }
        self.documents = {str(d.pk): d for d in dossier.documents.all()}
        self.fields["document"].choices = [
            ("", _("— None —")),
            *((pk, d.name) for pk, d in self.documents.items()),
        ]
        if dossier.status == Status.SUPPLEMENT_REQUESTED:
            self.fields["kind"].initial = AttachmentKind.SUPPLEMENT

    def clean_document(self) -> DossierDocument | None:
        return self.documents.get(self.cleaned_data.get("document") or "")
