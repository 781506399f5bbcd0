"""Closed report periods: the numbers as they stood when a period was closed.

A period closes after the statutory cut-off (the 14th) plus two working days. From then on the
official report of that period is read from its snapshot; a later correction (a dossier imported
late, a timestamp corrected) shows as a difference against it, never as a silent change.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from .periods import BASES


class ReportSnapshot(models.Model):
    basis = models.CharField(_("basis"), max_length=16, choices=[(basis, basis) for basis in BASES])
    period_key = models.CharField(_("period"), max_length=32)
    start = models.DateField(_("from"))
    end = models.DateField(_("to"))
    closed_at = models.DateTimeField(_("closed at"))

    class Meta:
        verbose_name = _("closed report period")
        verbose_name_plural = _("closed report periods")
        ordering = ["-start"]
        constraints = [
            models.UniqueConstraint(
                fields=["basis", "start", "end"], name="one_snapshot_per_period"
            )
        ]

    def __str__(self) -> str:
        return f"{self.period_key} ({self.start:%d/%m/%Y} – {self.end:%d/%m/%Y})"


class SnapshotCell(models.Model):
    """One unit's counts in one field for a closed period (the unit's own dossiers)."""

    snapshot = models.ForeignKey(ReportSnapshot, on_delete=models.CASCADE, related_name="cells")
    unit = models.ForeignKey("portal.Unit", on_delete=models.PROTECT, related_name="+")
    field = models.ForeignKey("procedures.Field", on_delete=models.PROTECT, related_name="+")
    received_online = models.PositiveIntegerField(default=0)
    received_in_person = models.PositiveIntegerField(default=0)
    received_postal = models.PositiveIntegerField(default=0)
    carried_over = models.PositiveIntegerField(default=0)
    resolved_early = models.PositiveIntegerField(default=0)
    resolved_on_time = models.PositiveIntegerField(default=0)
    resolved_late = models.PositiveIntegerField(default=0)
    pending_in_time = models.PositiveIntegerField(default=0)
    pending_overdue = models.PositiveIntegerField(default=0)
    withdrawn = models.PositiveIntegerField(default=0)
    online_eligible = models.PositiveIntegerField(default=0)
    digitized_intake = models.PositiveIntegerField(default=0)
    digitized_result = models.PositiveIntegerField(default=0)
    ratings = models.PositiveIntegerField(default=0)
    satisfied = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("closed period count")
        verbose_name_plural = _("closed period counts")
        constraints = [
            models.UniqueConstraint(
                fields=["snapshot", "unit", "field"], name="one_snapshot_cell_per_unit_field"
            )
        ]

    def __str__(self) -> str:
        return f"{self.snapshot.period_key} {self.unit_id}/{self.field_id}"
