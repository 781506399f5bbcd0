"""One error shape for the whole API: {"code", "message", "fields"}."""

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from dossiers.services import DossierActionError, DossierPermissionError


class ConflictError(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"
    default_detail = "The request conflicts with the current state."


def _flatten(detail: Any) -> Any:
    if isinstance(detail, dict):
        return {key: _flatten(value) for key, value in detail.items()}
    if isinstance(detail, list):
        flat = [_flatten(item) for item in detail]
        return [str(item) if not isinstance(item, dict | list) else item for item in flat]
    return str(detail)


def _first_message(fields: Any) -> str:
    if isinstance(fields, dict):
        for value in fields.values():
            return _first_message(value)
    if isinstance(fields, list) and fields:
        return _first_message(fields[0])
    return str(fields)


def _domain_error(exc: Exception) -> Exception:
    """The dossier services' refusals as API errors: a status that does not allow the action is
    a conflict (409), a role that does not allow it is forbidden (403)."""
    if isinstance(exc, DossierActionError):
        message = str(exc) or _("The dossier's status does not allow this action.")
        return ConflictError(detail=message, code="invalid_transition")
    if isinstance(exc, DossierPermissionError):
        message = str(exc) or _("You do not have permission to perform this action.")
        return exceptions.PermissionDenied(detail=message, code="permission_denied")
    return exc


def exception_handler(exc: Exception, context: dict) -> Response | None:
    exc = _domain_error(exc)
    if isinstance(exc, DjangoValidationError):
        detail = (
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
        exc = exceptions.ValidationError(detail=detail)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(
            exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        )
        non_field = fields.get("non_field_errors") if isinstance(fields, dict) else None
        message = _first_message(non_field) if non_field else _("Some fields are not valid.")
        body = {"code": "invalid", "message": message, "fields": fields}
    else:
        codes = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
        body = {
            "code": codes if isinstance(codes, str) else "error",
            "message": str(getattr(exc, "detail", exc)),
            "fields": {},
        }
    response.data = body
    return response
