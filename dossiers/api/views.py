"""The dossiers API (DESIGN.md §5). Each view authorises, validates with a serializer and calls
one selector or service; the services raise what the error handler turns into 400/403/409."""

from collections.abc import Callable
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, generics, permissions, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from portal.choices import Role
from portal.ratelimit import client_address
from portal.selectors import is_staff_member, user_roles

from .. import services
from ..choices import Action, Channel
from ..filters import DossierFilterForm
from ..importers import DossierFileError, parse_csv
from ..models import Dossier, DossierAccess
from ..selectors import dossier_detail, dossier_detail_in_hand, visible_dossiers, worklist
from ..services.access_log import record_access
from .serializers import (
    ACTION_SERIALIZERS,
    AttachmentSerializer,
    AttachmentUploadSerializer,
    DossierCreateSerializer,
    DossierDetailSerializer,
    DossierSerializer,
    ImportResultSerializer,
    ImportUploadSerializer,
    RatingSerializer,
)

# Documented error responses; every body is {"code", "message", "fields"}.
_INVALID = OpenApiResponse(description='code "invalid": fields names what is wrong.')
_FORBIDDEN = OpenApiResponse(description='code "permission_denied": the role does not allow it.')
_NOT_FOUND = OpenApiResponse(description='code "not_found": no such dossier the user may see.')
_CONFLICT = OpenApiResponse(
    description='code "invalid_transition": the dossier\'s status does not allow it.'
)


def _not_found(code: str) -> exceptions.NotFound:
    return exceptions.NotFound(_("No dossier has the code %(code)s.") % {"code": code})


def _visible(request: Request, code: str) -> Dossier:
    """The dossier if the user may see it; 404 otherwise, never 403 for what one may not see."""
    try:
        return visible_dossiers(request.user).select_related("unit", "procedure").get(code=code)
    except Dossier.DoesNotExist:
        raise _not_found(code) from None


def _detail(request: Request, code: str) -> dict:
    try:
        dossier = dossier_detail(user=request.user, code=code)
    except Dossier.DoesNotExist:
        raise _not_found(code) from None
    return DossierDetailSerializer(dossier, context={"request": request}).data


# The model's names of the applicant's fields, as the request names them.
_APPLICANT_FIELDS = {
    "applicant_name": "full_name",
    "applicant_id_number": "id_number",
    "applicant_phone": "phone",
    "applicant_email": "email",
    "applicant_address": "address",
}


# The intake's one-time key travels in this request header (``submission_key`` to the services).
IDEMPOTENCY_HEADER = "Idempotency-Key"


def _request_fields(exc: DjangoValidationError) -> dict:
    """A service's errors keyed by the request's fields (``applicant.id_number``, not the
    model's ``applicant_id_number``; ``Idempotency-Key``, the header, not ``submission_key``)."""
    errors = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
    fields: dict = {}
    applicant = {}
    for name, messages in errors.items():
        if name in _APPLICANT_FIELDS:
            applicant[_APPLICANT_FIELDS[name]] = messages
        elif name == "submission_key":
            fields[IDEMPOTENCY_HEADER] = messages
        else:
            fields[api_settings.NON_FIELD_ERRORS_KEY if name == NON_FIELD_ERRORS else name] = (
                messages
            )
    if applicant:
        fields["applicant"] = applicant
    return fields


def _filter_parameters() -> list[OpenApiParameter]:
    """The query parameters of the list: the fields of the worklist's filter form."""
    parameters = []
    for name, field in DossierFilterForm.base_fields.items():
        enum = None
        if isinstance(field, forms.ChoiceField):
            enum = [value for value, _label in field.choices if value]  # type: ignore[union-attr,misc]
        kind = OpenApiTypes.DATE if isinstance(field, forms.DateField) else OpenApiTypes.STR
        parameters.append(OpenApiParameter(name, kind, enum=enum, description=field.label or ""))
    return parameters


class DossierListCreateView(generics.ListAPIView):
    """Dossiers the user may see: staff those of their units' subtrees, a citizen their own.
    Filters are those of the worklist page."""

    serializer_class = DossierSerializer
    permission_classes = [permissions.IsAuthenticated]
    filter_backends: list = []

    def get_queryset(self) -> QuerySet[Dossier]:
        form = DossierFilterForm(self.request.query_params)
        if not form.is_valid():
            raise exceptions.ValidationError(
                {name: list(errors) for name, errors in form.errors.items()}
            )
        return form.apply(worklist(user=self.request.user))

    @extend_schema(
        parameters=_filter_parameters(),
        responses={200: DossierSerializer(many=True), 400: _INVALID},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=DossierCreateSerializer,
        parameters=[
            OpenApiParameter(
                IDEMPOTENCY_HEADER,
                OpenApiTypes.STR,
                location=OpenApiParameter.HEADER,
                required=False,
                description=(
                    "A key of the client's choosing, unique to this submission (a UUID is "
                    "best): at most 64 visible characters. Sent again by the same account with "
                    "the same key — a retry after a timeout, a double click — the request "
                    "creates nothing and answers 201 with the dossier the key first created, "
                    "as it is now. Keys are per account: another "
                    "account's identical key is a different submission. A key that is too long "
                    'or holds control characters: 400, code "invalid", '
                    'fields["Idempotency-Key"].'
                ),
            )
        ],
        responses={201: DossierDetailSerializer, 400: _INVALID, 403: _FORBIDDEN},
        description=(
            "A citizen (an account without a role at a unit) submits online; the dossier "
            "waits for a counter officer. A counter officer logs in-person or postal intake: "
            "the dossier is numbered, received and timed. With an Idempotency-Key header the "
            "same submission sent twice gives one dossier."
        ),
    )
    def post(self, request: Request) -> Response:
        serializer = DossierCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        common = {
            "procedure": data["procedure"],
            "unit": data["unit"],
            "applicant": serializer.applicant_value(),
            "documents": data["documents"],
            "note": data["note"],
            "submission_key": request.headers.get(IDEMPOTENCY_HEADER, ""),
        }
        try:
            if not is_staff_member(request.user):
                if data["channel"] != Channel.ONLINE:
                    raise exceptions.ValidationError(
                        {"channel": [_("Citizens submit their dossiers online.")]}
                    )
                dossier = services.submit_dossier(user=request.user, **common)
            else:
                dossier = services.receive_dossier(
                    channel=data["channel"],
                    by=request.user,
                    postal_tracking_no=data["postal_tracking_no"],
                    digitized_intake=data["digitized_intake"],
                    **common,
                )
        except DjangoValidationError as exc:
            raise exceptions.ValidationError(_request_fields(exc)) from None
        detail = DossierDetailSerializer(
            dossier_detail_in_hand(dossier), context={"request": request}
        )
        return Response(detail.data, status=status.HTTP_201_CREATED)


class DossierDetailView(APIView):
    """One dossier with its events, deadline trace, checklist, files, pauses and the actions
    the user may take now. 404 for a dossier the user may not see."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses={200: DossierDetailSerializer, 404: _NOT_FOUND})
    def get(self, request: Request, code: str) -> Response:
        try:
            dossier = dossier_detail(user=request.user, code=code)
        except Dossier.DoesNotExist:
            raise _not_found(code) from None
        record_access(
            dossier=dossier,
            user=request.user,
            kind=DossierAccess.Kind.VIEW,
            ip=client_address(request),
        )
        return Response(DossierDetailSerializer(dossier, context={"request": request}).data)


# --- Actions ------------------------------------------------------------------------------------

ACTION_SERVICES: dict[str, Callable[..., Dossier]] = {
    Action.ACCEPT: services.accept_dossier,
    Action.REFUSE: services.refuse_dossier,
    Action.START: services.start_processing,
    Action.REQUEST_SUPPLEMENT: services.request_supplement,
    Action.SUPPLEMENT: services.record_supplement,
    Action.RESOLVE: services.resolve_dossier,
    Action.REJECT: services.reject_dossier,
    Action.RETURN: services.return_result,
    Action.WITHDRAW: services.withdraw_dossier,
    Action.STOP: services.stop_dossier,
    Action.APOLOGIZE: services.issue_apology,
    Action.ASSIGN: services.assign_dossier,
}
ACTION_DESCRIPTIONS: dict[str, str] = {
    Action.ACCEPT: "Counter officer: accept an online submission; it is received and timed.",
    Action.REFUSE: "Counter officer: refuse an online submission, with the reason.",
    Action.START: "Processing officer or manager: start processing a received dossier.",
    Action.REQUEST_SUPPLEMENT: (
        "Processing officer or manager: ask for missing documents; the clock stops."
    ),
    Action.SUPPLEMENT: "The missing documents arrived: the clock runs again.",
    Action.RESOLVE: "Processing officer or manager: issue the result.",
    Action.REJECT: "Processing officer or manager: issue a refusal decision (a result too).",
    Action.RETURN: "Counter officer: hand the result back.",
    Action.WITHDRAW: "The applicant or a counter officer: withdraw an open dossier.",
    Action.STOP: "Processing officer or manager: stop processing for a legal reason.",
    Action.APOLOGIZE: "Processing officer or manager: the apology slip, once, with a new date.",
    Action.ASSIGN: "Manager: give the dossier to a processing officer of the unit.",
}


class DossierActionView(generics.GenericAPIView):
    """One action on a dossier (a subclass per action, so that each has its request schema).
    404 when the dossier is not visible, 403 when the role does not allow the action, 409 when
    the dossier's status does not."""

    permission_classes = [permissions.IsAuthenticated]
    action_name = ""

    @extend_schema(
        responses={
            200: DossierDetailSerializer,
            400: _INVALID,
            403: _FORBIDDEN,
            404: _NOT_FOUND,
            409: _CONFLICT,
        }
    )
    def post(self, request: Request, code: str) -> Response:
        dossier = _visible(request, code)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        ACTION_SERVICES[self.action_name](
            dossier=dossier, by=request.user, **serializer.validated_data
        )
        return Response(_detail(request, code))


def action_view(name: str) -> Callable:
    view: type[DossierActionView] = type(
        f"Dossier{name.title().replace('_', '')}View",
        (DossierActionView,),
        {
            "action_name": name,
            "serializer_class": ACTION_SERIALIZERS[name],
            "__doc__": ACTION_DESCRIPTIONS[name],
        },
    )
    return view.as_view()


@extend_schema(exclude=True)
class UnknownActionView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    def post(self, request: Request, code: str, action: str) -> Response:
        raise exceptions.NotFound(_("There is no action “%(action)s”.") % {"action": action})


# --- Attachments and import ---------------------------------------------------------------------


class AttachmentUploadView(APIView):
    """Attach a PDF, JPEG or PNG (recognised by its content, size-limited) to a dossier."""

    permission_classes = [permissions.IsAuthenticated]
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        request=AttachmentUploadSerializer,
        responses={
            201: AttachmentSerializer,
            400: _INVALID,
            403: _FORBIDDEN,
            404: _NOT_FOUND,
            409: _CONFLICT,
        },
    )
    def post(self, request: Request, code: str) -> Response:
        dossier = _visible(request, code)
        serializer = AttachmentUploadSerializer(data=request.data, context={"dossier": dossier})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        attachment = services.add_attachment(
            dossier=dossier,
            by=request.user,
            upload=data["file"],
            kind=data["kind"],
            document=data["document"],
            digitized=data["digitized"],
        )
        attachment.dossier = dossier
        return Response(
            AttachmentSerializer(attachment, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )


class RatingView(APIView):
    """The applicant rates the service, once, after the result was handed over. 403 for
    anyone else who may see the dossier, 404 for those who may not, 409 before the result was
    handed over or when it was already rated."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        request=RatingSerializer,
        responses={
            201: RatingSerializer,
            400: _INVALID,
            403: _FORBIDDEN,
            404: _NOT_FOUND,
            409: OpenApiResponse(
                description='code "invalid_transition": not yet handed over, or already rated.'
            ),
        },
    )
    def post(self, request: Request, code: str) -> Response:
        dossier = _visible(request, code)
        serializer = RatingSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        rating = services.rate_dossier(
            dossier=dossier, by=request.user, **serializer.validated_data
        )
        return Response(RatingSerializer(rating).data, status=status.HTTP_201_CREATED)


class IsAdministrator(permissions.BasePermission):
    def has_permission(self, request: Request, view: APIView) -> bool:
        return Role.ADMIN in user_roles(request.user)


class DossierImportView(APIView):
    """Administrators: import historical dossiers from a CSV file (DESIGN.md §6), all or
    nothing. On errors, ``fields.rows`` lists them by row and column and nothing is written."""

    permission_classes = [permissions.IsAuthenticated, IsAdministrator]
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        request=ImportUploadSerializer,
        responses={
            201: ImportResultSerializer,
            403: _FORBIDDEN,
            400: OpenApiResponse(
                description="Errors by row: fields.rows [{row, column, message}]."
            ),
        },
    )
    def post(self, request: Request) -> Response:
        serializer = ImportUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            text = serializer.validated_data["file"].read().decode("utf-8-sig")
            result = services.import_dossiers(
                parsed=parse_csv(text), by=request.user, own_units_only=True
            )
        except UnicodeDecodeError:
            raise exceptions.ValidationError({"file": [_("The file is not UTF-8 text.")]}) from None
        except DossierFileError as exc:
            raise exceptions.ValidationError({"file": [str(exc)]}) from None
        except services.DossierImportError as exc:
            # Built here rather than raised: the handler would turn the row numbers into text.
            return Response(
                {
                    "code": "invalid",
                    "message": ngettext(
                        "Nothing was imported: the file has %(count)d error.",
                        "Nothing was imported: the file has %(count)d errors.",
                        len(exc.errors),
                    )
                    % {"count": len(exc.errors)},
                    "fields": {"rows": [error.as_dict() for error in exc.errors]},
                },
                status=status.HTTP_400_BAD_REQUEST,
            )
        return Response(
            ImportResultSerializer(result).data,
            status=status.HTTP_201_CREATED,
        )
