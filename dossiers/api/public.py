"""The public lookup as an API: anyone with the code and the phone number, rate-limited."""

import json

from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, permissions, serializers
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from dossiers.lookup import lookup_params, lookup_result
from dossiers.lookup_cache import look_up


class JSONOnly(BaseContentNegotiation):
    """The answer is JSON whatever the client accepts: nothing to choose, so nothing to parse
    (DRF's negotiation was a tenth of the lookup's time in the view)."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


_Ref = inline_serializer(
    "LookupRef", {"code": serializers.CharField(), "name": serializers.CharField()}
)


class PublicLookupView(APIView):
    """A dossier's progress by its code and the applicant's phone: no personal data."""

    permission_classes = [permissions.AllowAny]
    authentication_classes: list = []
    # LOOKUP_RATE_LIMIT lookups per client in ten minutes, counted as the page's are (in a
    # budget of their own) by look_up, in the round trip that reads the kept answer.
    throttle_classes: list = []
    renderer_classes = [JSONRenderer]
    content_negotiation_class = JSONOnly

    @extend_schema(
        parameters=[
            OpenApiParameter("code", str, required=True),
            OpenApiParameter("phone", str, required=True),
        ],
        responses=inline_serializer(
            "PublicLookup",
            {
                "code": serializers.CharField(),
                "procedure": _Ref,
                "unit": _Ref,
                "status": serializers.CharField(),
                "status_text": serializers.CharField(),
                "received_at": serializers.DateTimeField(allow_null=True),
                "due_at": serializers.DateTimeField(allow_null=True),
                "promised_at": serializers.DateTimeField(allow_null=True),
                "resolved_at": serializers.DateTimeField(allow_null=True),
                "returned_at": serializers.DateTimeField(allow_null=True),
                "timeliness": serializers.CharField(allow_null=True),
            },
        ),
    )
    def get(self, request):
        cleaned, errors = lookup_params(request.query_params)
        if errors:
            raise exceptions.ValidationError(errors)
        hit, row = look_up(
            scope="lookup-api", request=request, code=cleaned["code"], phone=cleaned["phone"]
        )
        if not hit.allowed:
            raise exceptions.Throttled(wait=hit.retry_after)
        if row is None:
            raise exceptions.NotFound(_("No dossier matches this code and phone number."))
        data = lookup_result(row)
        for key in ("received_at", "due_at", "promised_at", "resolved_at", "returned_at"):
            data[key] = data[key].isoformat() if data[key] else None
        # Text and nulls only: written as DRF's JSONRenderer writes them (compact, UTF-8),
        # without its renderer's machinery, a tenth of the answer's time in the view.
        body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        return HttpResponse(body, content_type="application/json")
