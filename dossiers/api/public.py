"""The public lookup as an API: anyone with the code and the phone number, rate-limited."""

from django.conf import settings
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, permissions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from dossiers.lookup import LOOKUP_WINDOW_SECONDS, LookupForm, lookup_result
from dossiers.selectors import public_lookup
from portal.ratelimit import Hit, hit_address


class LookupThrottle(BaseThrottle):
    """``LOOKUP_RATE_LIMIT`` lookups per client in ten minutes, counted by
    ``portal.ratelimit`` as the lookup page's are (in a budget of their own): one round trip
    to the cache per request, where DRF's throttle reads and writes back each client's list of
    request times."""

    hit: Hit | None = None

    def allow_request(self, request: Request, view: APIView) -> bool:
        self.hit = hit_address(
            "lookup-api",
            request,
            limit=settings.LOOKUP_RATE_LIMIT,
            window_seconds=LOOKUP_WINDOW_SECONDS,
        )
        return self.hit.allowed

    def wait(self) -> float | None:
        return self.hit.retry_after if self.hit is not None else None


_Ref = inline_serializer(
    "LookupRef", {"code": serializers.CharField(), "name": serializers.CharField()}
)


class PublicLookupView(APIView):
    """A dossier's progress by its code and the applicant's phone: no personal data."""

    permission_classes = [permissions.AllowAny]
    authentication_classes: list = []
    throttle_classes = [LookupThrottle]

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
        form = LookupForm(request.query_params)
        if not form.is_valid():
            raise exceptions.ValidationError({name: list(e) for name, e in form.errors.items()})
        row = public_lookup(code=form.cleaned_data["code"], phone=form.cleaned_data["phone"])
        if row is None:
            raise exceptions.NotFound(_("No dossier matches this code and phone number."))
        data = lookup_result(row)
        for key in ("received_at", "due_at", "promised_at", "resolved_at", "returned_at"):
            data[key] = data[key].isoformat() if data[key] else None
        return Response(data)
