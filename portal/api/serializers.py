from collections.abc import Mapping

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from portal.models import Unit

# What a serializer keeps of one use (its bound fields, its data and errors): never copied.
_PER_USE = ("fields", "_data", "_errors", "_validated_data")


def _copy(field: serializers.Field) -> serializers.Field:
    """A copy of an unbound field that shares the template's attribute values, with its own
    copy of any field it holds (a nested list's child, a many-relation's child relation),
    bound to the copy as the template's is to the template."""
    clone = object.__new__(type(field))
    clone.__dict__ = field.__dict__.copy()
    for name in _PER_USE:
        clone.__dict__.pop(name, None)
    for name in ("child", "child_relation"):
        inner = clone.__dict__.get(name)
        if inner is not None:
            inner = clone.__dict__[name] = _copy(inner)
            inner.parent = clone
    return clone


def copy_fields(fields: Mapping[str, serializers.Field]) -> dict[str, serializers.Field]:
    """Copies of unbound fields for one serializer, as DRF's deep copy gives but cheaper.

    DRF copies each declared field for each serializer by making it again from its
    arguments (``Field.__deepcopy__``), nested serializers and their fields included: for a
    dossier's detail, more than a third of the answer's time. ``bind()`` then sets the
    field's name, parent and source on the copy, and nothing else is ever changed on a
    field, so a copy may share the template's attribute values. A nested serializer's copy
    reads its own fields anew when first asked (``fields`` is never copied); a field it holds
    — a list's child — is copied too and bound to the copy: fields are bound, through their
    parents, to the serializer and so to the request.
    """
    return {name: _copy(field) for name, field in fields.items()}


class DeclaredFieldsCopied:
    """For a plain ``Serializer``: its declared fields copied with ``copy_fields``."""

    def get_fields(self) -> dict[str, serializers.Field]:
        return copy_fields(self._declared_fields)  # type: ignore[attr-defined]


class ModelFieldsOnce:
    """For a ``ModelSerializer``: read the model's fields into serializer fields once per class.

    DRF builds them anew for every serializer it makes — for a dossier's detail, five times
    per answer (the dossier, its events, checklist, pauses and files), about a third of the
    answer's time, the same fields each time. The built fields are kept as a template and
    each serializer gets its own copies (``copy_fields``): a field is bound to its serializer
    (and through it to the request), so none is shared. Only for serializers whose fields
    depend on nothing but their class; a ``get_fields`` override in a subclass still runs
    each time.
    """

    def get_fields(self) -> dict[str, serializers.Field]:
        cls = type(self)
        template = cls.__dict__.get("_model_fields_template")
        if template is None:
            template = super().get_fields()  # type: ignore[misc]
            cls._model_fields_template = template  # type: ignore[attr-defined]
        return copy_fields(template)


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
