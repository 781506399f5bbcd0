import copy

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from portal.models import Unit


class ModelFieldsOnce:
    """For a ``ModelSerializer``: read the model's fields into serializer fields once per class.

    DRF builds them anew for every serializer it makes — for a dossier's detail, five times
    per answer (the dossier, its events, checklist, pauses and files), about a third of the
    answer's time, the same fields each time. The built fields are kept as a template and
    each serializer gets its own copy, as DRF copies the declared ones: a field is bound to
    its serializer (and through it to the request), so none is shared. Only for serializers
    whose fields depend on nothing but their class; a ``get_fields`` override in a subclass
    still runs each time.
    """

    def get_fields(self) -> dict[str, serializers.Field]:
        cls = type(self)
        template = cls.__dict__.get("_model_fields_template")
        if template is None:
            template = super().get_fields()  # type: ignore[misc]
            cls._model_fields_template = template  # type: ignore[attr-defined]
        return copy.deepcopy(template)


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
