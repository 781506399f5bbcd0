from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from portal.models import Unit


class UnitSerializer(serializers.ModelSerializer):
    parent = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)

    class Meta:
        model = Unit
        fields = ["code", "name", "level", "parent"]


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(label=_("username"))
    password = serializers.CharField(label=_("password"), style={"input_type": "password"})


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()
