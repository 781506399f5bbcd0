"""The database gone in the middle of a request (a restart, a failover, a dropped connection):
an answer the client can act on, not a traceback.

Django's own atomic blocks have already rolled back whatever the request had begun, and the
broken connection is dropped at the end of the request (``close_old_connections``), so the
next request connects afresh. What is left is the answer: 503 with ``Retry-After``, in the
API's error shape under ``/api/`` and as a static page elsewhere (rendered without the context
processors, which would query the database again). The traceback goes to the log.
"""

import logging
from collections.abc import Callable

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.utils.translation import gettext as _

from .api.errors import _UTF8, _is_api

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 10


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        logger.error(
            "Database unavailable during %s %s", request.method, request.path, exc_info=exception
        )
        response: HttpResponse
        if _is_api(request):
            body = {
                "code": "service_unavailable",
                "message": _("The service is briefly unavailable. Please try again in a moment."),
                "fields": {},
            }
            response = JsonResponse(body, status=503, json_dumps_params=_UTF8)
        else:
            response = HttpResponse(loader.get_template("503.html").render(), status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
