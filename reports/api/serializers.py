"""The shape of the monthly report's JSON (DESIGN.md §5), for the OpenAPI schema.

The view answers with ``Report.as_json()``; these serializers describe it, and a test checks
that the two name the same keys."""

from rest_framework import serializers

from ..periods import BASES
from ..selectors import GROUPINGS


class ReportUnitSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class ReportPeriodSerializer(serializers.Serializer):
    key = serializers.CharField(
        help_text="2026-10, 2026-Q3, 2026-H1, 2026 or 2026-01-01..2026-08-14"
    )
    label = serializers.CharField()
    start = serializers.DateField()
    end = serializers.DateField()
    basis = serializers.ChoiceField(choices=BASES)


class ReportReceivedSerializer(serializers.Serializer):
    total = serializers.IntegerField(
        help_text="Column 3 = online + in_person + postal + carried_over"
    )
    online = serializers.IntegerField(help_text="Column 4")
    in_person = serializers.IntegerField(help_text="Column 5, in person")
    postal = serializers.IntegerField(help_text="Column 5, public postal service")
    carried_over = serializers.IntegerField(help_text="Column 6")


class ReportResolvedSerializer(serializers.Serializer):
    total = serializers.IntegerField(help_text="Column 7 = early + on_time + late")
    early = serializers.IntegerField(help_text="Column 8")
    on_time = serializers.IntegerField(help_text="Column 9")
    late = serializers.IntegerField(help_text="Column 10")


class ReportPendingSerializer(serializers.Serializer):
    total = serializers.IntegerField(help_text="Column 11 = in_time + overdue")
    in_time = serializers.IntegerField(help_text="Column 12")
    overdue = serializers.IntegerField(help_text="Column 13")


class ReportCountsSerializer(serializers.Serializer):
    received = ReportReceivedSerializer()
    resolved = ReportResolvedSerializer()
    pending = ReportPendingSerializer()
    withdrawn = serializers.IntegerField(
        help_text="Withdrawn or stopped: received.total = resolved.total + pending.total + this"
    )


class ReportRowSerializer(ReportCountsSerializer):
    key = serializers.CharField(help_text="The unit's agency code or the field's code")
    label = serializers.CharField()


class ReportIndicatorsSerializer(serializers.Serializer):
    on_time_rate = serializers.FloatField(allow_null=True)
    online_rate = serializers.FloatField(allow_null=True)
    digitized_intake_rate = serializers.FloatField(allow_null=True)
    digitized_result_rate = serializers.FloatField(allow_null=True)
    satisfaction_rate = serializers.FloatField(allow_null=True)


class ReportRatingsSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    satisfied = serializers.IntegerField()


class ReportDigitizedSerializer(serializers.Serializer):
    intake = serializers.IntegerField()
    result = serializers.IntegerField()


class ReportCorrectionSerializer(serializers.Serializer):
    row = serializers.CharField()
    measure = serializers.CharField()
    frozen = serializers.IntegerField()
    live = serializers.IntegerField()


class ReportClosedSerializer(serializers.Serializer):
    closed_at = serializers.DateTimeField()
    corrections = ReportCorrectionSerializer(many=True)


class MonthlyReportSerializer(serializers.Serializer):
    unit = ReportUnitSerializer()
    period = ReportPeriodSerializer()
    group_by = serializers.ChoiceField(choices=GROUPINGS)
    as_of = serializers.DateTimeField(help_text="When pending dossiers were judged")
    rows = ReportRowSerializer(many=True)
    total = ReportCountsSerializer()
    commune_subtotal = ReportCountsSerializer(
        required=False, help_text="With group_by=unit: the sum of the units below"
    )
    indicators = ReportIndicatorsSerializer(help_text="Fractions 0–1, null when nothing to divide")
    ratings = ReportRatingsSerializer()
    digitized = ReportDigitizedSerializer()
    closed = ReportClosedSerializer(
        allow_null=True, help_text="A closed period: when, and what differs since"
    )
