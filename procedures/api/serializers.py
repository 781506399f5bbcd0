from collections.abc import Iterable
from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from procedures.deadline_text import describe_step
from procedures.deadlines import TraceStep
from procedures.models import DocumentComponent, Field, Procedure


class FieldSerializer(serializers.ModelSerializer):
    class Meta:
        model = Field
        fields = ["code", "name"]


class DocumentSerializer(serializers.ModelSerializer):
    class Meta:
        model = DocumentComponent
        fields = ["name", "kind", "count", "required"]


class TimeLimitSerializer(serializers.Serializer):
    value = serializers.DecimalField(max_digits=6, decimal_places=2, coerce_to_string=False)
    unit = serializers.CharField()
    same_day = serializers.BooleanField()
    text = serializers.CharField(help_text=_("As published."))


class ProcedureListSerializer(serializers.ModelSerializer):
    field = FieldSerializer(read_only=True)
    time_limit = serializers.SerializerMethodField()

    class Meta:
        model = Procedure
        fields = [
            "code",
            "name",
            "field",
            "level",
            "time_limit",
            "fee",
            "fee_amount",
            "online_level",
            "postal_allowed",
        ]

    @extend_schema_field(TimeLimitSerializer)
    def get_time_limit(self, procedure: Procedure) -> dict:
        return {
            "value": procedure.time_limit_value,
            "unit": procedure.time_limit_unit,
            "same_day": procedure.same_day,
            "text": procedure.time_limit_note,
        }


class ProcedureDetailSerializer(ProcedureListSerializer):
    documents = DocumentSerializer(many=True, read_only=True)
    channels = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta(ProcedureListSerializer.Meta):
        fields = [
            *ProcedureListSerializer.Meta.fields,
            "legal_basis",
            "result",
            "applicants",
            "steps",
            "channels",
            "documents",
        ]


class DeadlineQuerySerializer(serializers.Serializer):
    unit = serializers.CharField(required=False, help_text=_("Agency code of the receiving unit."))
    received_at = serializers.DateTimeField(
        required=False,
        help_text=_("ISO 8601; without an offset it is Asia/Ho_Chi_Minh. Default: now."),
    )

    def validate_received_at(self, value):
        # The working calendar (holidays, make-up days) is known from 2015; far dates overflow.
        if value is not None and not 2015 <= value.year <= 9998:
            raise serializers.ValidationError(_("Give a moment between 2015 and 9998."))
        return value


class TraceStepSerializer(serializers.Serializer):
    kind = serializers.CharField()
    at = serializers.DateTimeField(allow_null=True)
    params = serializers.DictField()
    text = serializers.CharField()


_MOMENT = serializers.DateTimeField(allow_null=True)


def trace_data(steps: Iterable[TraceStep]) -> list[dict[str, Any]]:
    """A deadline's steps with their sentences, as ``TraceStepSerializer(many=True)`` gives
    them, without making that serializer and its four fields for each answer: a dossier's
    answer shows its trace, and the intake answers with the dossier (the serializer was a
    third of that answer's time). An unbound field turns a moment into text as a bound one
    does (in the current time zone, ISO 8601)."""
    return [
        {
            "kind": str(step.kind),
            "at": None if step.at is None else _MOMENT.to_representation(step.at),
            "params": {str(key): value for key, value in step.params.items()},
            "text": describe_step(step),
        }
        for step in steps
    ]


class DeadlineSerializer(serializers.Serializer):
    procedure = serializers.CharField()
    unit = serializers.CharField()
    received_at = serializers.DateTimeField()
    start_at = serializers.DateTimeField()
    due_at = serializers.DateTimeField()
    trace = TraceStepSerializer(many=True)
