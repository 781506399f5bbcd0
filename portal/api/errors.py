"""One error shape for the whole API: {"code", "message", "fields"}.

``exception_handler`` shapes what DRF's views raise. ``page_not_found`` and ``server_error``
(Django's handler404 and handler500) give the same shape to what never reaches a view under
``/api/``: an address no route matches, an unhandled exception.
"""

from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
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


def _django_fields(exc: DjangoValidationError) -> dict[str, list[str]]:
    """A model's or a service's errors by field; those of no field (Django's ``__all__``)
    under the API's ``non_field_errors``."""
    if not hasattr(exc, "error_dict"):
        return {api_settings.NON_FIELD_ERRORS_KEY: exc.messages}
    return {
        api_settings.NON_FIELD_ERRORS_KEY if name == NON_FIELD_ERRORS else name: messages
        for name, messages in exc.message_dict.items()
    }


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
        exc = exceptions.ValidationError(detail=_django_fields(exc))
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


# --- Errors outside the views -------------------------------------------------------------------

API_PREFIX = "/api/"
_UTF8 = {"ensure_ascii": False}  # like DRF's JSON: "Không tìm thấy.", not "Kh\u00f4ng …"


def _is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIX)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler404: an address under /api/ that no route matches (a code with a slash in it,
    a misspelt path) answers in the API's shape; the site's pages keep their HTML 404."""
    if not _is_api(request):
        return defaults.page_not_found(request, exception)
    body = {"code": "not_found", "message": str(exceptions.NotFound.default_detail), "fields": {}}
    return JsonResponse(body, status=status.HTTP_404_NOT_FOUND, json_dumps_params=_UTF8)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: an unhandled exception under /api/ answers in the API's shape (the
    traceback goes to the log, never to the client); the site's pages keep their HTML 500."""
    if not _is_api(request):
        return defaults.server_error(request)
    body = {
        "code": "server_error",
        "message": str(exceptions.APIException.default_detail),
        "fields": {},
    }
    return JsonResponse(body, status=status.HTTP_500_INTERNAL_SERVER_ERROR, json_dumps_params=_UTF8)
