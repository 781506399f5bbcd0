from django.contrib.auth import authenticate
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, generics, permissions
from rest_framework.authtoken.models import Token
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.models import Unit
from portal.security import login_refusal, login_succeeded

from .serializers import TokenRequestSerializer, TokenSerializer, UnitSerializer


class UnitListView(generics.ListAPIView):
    """Administrative units: code, name, level and the parent's code."""

    serializer_class = UnitSerializer
    permission_classes = [permissions.AllowAny]
    queryset = Unit.objects.select_related("parent").order_by("path")
    filterset_fields = ["level"]


class ObtainTokenView(APIView):
    """Exchange a username and password for an API token.

    Guarded like the login page (portal.security): too many failures pause the account or the
    address, answered with 429 and Retry-After."""

    permission_classes = [permissions.AllowAny]
    authentication_classes: list = []

    @extend_schema(request=TokenRequestSerializer, responses=TokenSerializer)
    def post(self, request):
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = authenticate(
            request,
            username=serializer.validated_data["username"],
            password=serializer.validated_data["password"],
        )
        refusal = login_refusal(request)
        if refusal is not None:
            refused = exceptions.Throttled(detail=refusal.message, code=refusal.code)
            refused.wait = refusal.retry_after  # the Retry-After header
            raise refused
        if user is None or not user.is_active:
            raise exceptions.ValidationError(
                {"non_field_errors": [_("The username or password is not correct.")]}
            )
        login_succeeded(user)
        token, _created = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})
