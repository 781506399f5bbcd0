"""The public lookup as an API: anyone with the code and the phone number, rate-limited."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, permissions, serializers
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from dossiers.lookup import LookupForm, lookup_result
from dossiers.selectors import public_lookup


class LookupThrottle(AnonRateThrottle):
    scope = "lookup"

    def get_rate(self) -> str:
        from django.conf import settings

        return f"{settings.LOOKUP_RATE_LIMIT}/10m"

    def parse_rate(self, rate):
        count, _period = rate.split("/")
        return int(count), 600


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
        dossier = public_lookup(code=form.cleaned_data["code"], phone=form.cleaned_data["phone"])
        if dossier is None:
            raise exceptions.NotFound(_("No dossier matches this code and phone number."))
        data = lookup_result(dossier)
        for key in ("received_at", "due_at", "promised_at", "resolved_at", "returned_at"):
            data[key] = data[key].isoformat() if data[key] else None
        return Response(data)
