"""Reads for reports: Biểu số II.06a/VPCP/KSTT for a unit subtree and a period, with the
indicators beside it.

The numbers come from one conditional-aggregation query over the dossiers (grouped by unit and
field) and one over the ratings, or from the period's snapshot once it is closed; rows by field
or by unit are folded from those cells in Python, so the query count does not depend on the
number of units, fields or rows.

Every read here goes to ``using``: by default :func:`portal.db.reporting_alias`, the read replica
when one is configured (docs/scaling.md). Closing a period reads the primary instead
(:mod:`reports.services`), and so does :func:`report_units` (who may read what is decided on
the primary: a revoked manager must lose access at once).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from dossiers.choices import RatingScore
from dossiers.models import Dossier, Rating
from dossiers.selectors import managed_units
from portal.db import reporting_alias
from portal.models import Unit
from portal.text import search_key
from procedures.models import Field

from .cells import CELLS, INDICATOR_CELLS, cell_conditions, touches, with_ended_at
from .models import ReportSnapshot, SnapshotCell
from .periods import Period

GROUP_BY_FIELD, GROUP_BY_UNIT = "field", "unit"
GROUPINGS = (GROUP_BY_FIELD, GROUP_BY_UNIT)
RATING_CELLS = ("ratings", "satisfied")
MEASURES = (*CELLS, *INDICATOR_CELLS, *RATING_CELLS)


class ReportError(ValueError):
    """A report that cannot be made as asked; the message is translated."""


@dataclass
class Counts:
    """The measures of one cell, row or total."""

    received_online: int = 0
    received_in_person: int = 0
    received_postal: int = 0
    carried_over: int = 0
    resolved_early: int = 0
    resolved_on_time: int = 0
    resolved_late: int = 0
    pending_in_time: int = 0
    pending_overdue: int = 0
    withdrawn: int = 0
    online_eligible: int = 0
    digitized_intake: int = 0
    digitized_result: int = 0
    ratings: int = 0
    satisfied: int = 0

    def add(self, other: Counts) -> None:
        for name in MEASURES:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @classmethod
    def total(cls, parts: Iterable[Counts]) -> Counts:
        result = cls()
        for part in parts:
            result.add(part)
        return result

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    # The form's columns -------------------------------------------------------------------

    @property
    def received_in_period(self) -> int:
        return self.received_online + self.received_in_person + self.received_postal

    @property
    def received(self) -> int:
        """Column 3: received in the period plus carried over."""
        return self.received_in_period + self.carried_over

    @property
    def resolved(self) -> int:
        """Column 7."""
        return self.resolved_early + self.resolved_on_time + self.resolved_late

    @property
    def pending(self) -> int:
        """Column 11."""
        return self.pending_in_time + self.pending_overdue

    @property
    def balanced(self) -> bool:
        """3 = 7 + 11 + withdrawn/stopped: a report whose row does not add up is a bug."""
        return self.received == self.resolved + self.pending + self.withdrawn

    # Indicators (Decision 766/QĐ-TTg) ------------------------------------------------------

    def indicators(self) -> dict[str, float | None]:
        def rate(part: int, whole: int) -> float | None:
            return part / whole if whole else None

        return {
            "on_time_rate": rate(self.resolved_early + self.resolved_on_time, self.resolved),
            "online_rate": rate(self.received_online, self.online_eligible),
            "digitized_intake_rate": rate(self.digitized_intake, self.received_in_period),
            "digitized_result_rate": rate(self.digitized_result, self.resolved),
            "satisfaction_rate": rate(self.satisfied, self.ratings),
        }

    def as_form(self) -> dict:
        """The contract's JSON shape of a row's numbers (DESIGN.md §5)."""
        return {
            "received": {
                "total": self.received,
                "online": self.received_online,
                "in_person": self.received_in_person,
                "postal": self.received_postal,
                "carried_over": self.carried_over,
            },
            "resolved": {
                "total": self.resolved,
                "early": self.resolved_early,
                "on_time": self.resolved_on_time,
                "late": self.resolved_late,
            },
            "pending": {
                "total": self.pending,
                "in_time": self.pending_in_time,
                "overdue": self.pending_overdue,
            },
            "withdrawn": self.withdrawn,
        }


CellKey = tuple[int, int]  # (unit id, field id)


def live_cells(
    *, unit_ids: list[int] | None, period: Period, as_of: datetime, using: str | None = None
) -> dict[CellKey, Counts]:
    """The period's counts per (unit, field) from the dossiers as they are now, in two queries.

    ``unit_ids`` None means every unit (closing a period). ``using`` None: the reporting
    database."""
    using = using or reporting_alias()
    start, end = period.bounds(timezone.get_default_timezone())
    conditions = cell_conditions(start, end, as_of)
    dossiers = with_ended_at(Dossier.objects.using(using).all())
    if unit_ids is not None:
        dossiers = dossiers.filter(unit_id__in=unit_ids)
    rows = (
        dossiers.filter(touches(start, end))
        .values("unit_id", "procedure__field_id")
        .annotate(**{name: Count("pk", filter=conditions[name]) for name in conditions})
        .order_by()
    )
    cells: dict[CellKey, Counts] = {}
    for row in rows:
        key = (row.pop("unit_id"), row.pop("procedure__field_id"))
        cells[key] = Counts(**row)
    ratings = Rating.objects.using(using).filter(created_at__gte=start, created_at__lt=end)
    if unit_ids is not None:
        ratings = ratings.filter(dossier__unit_id__in=unit_ids)
    satisfied = Q(score__in=(RatingScore.VERY_SATISFIED, RatingScore.SATISFIED))
    for row in (
        ratings.values("dossier__unit_id", "dossier__procedure__field_id")
        .annotate(ratings=Count("pk"), satisfied=Count("pk", filter=satisfied))
        .order_by()
    ):
        key = (row["dossier__unit_id"], row["dossier__procedure__field_id"])
        counts = cells.setdefault(key, Counts())
        counts.ratings, counts.satisfied = row["ratings"], row["satisfied"]
    return cells


def snapshot_cells(
    *, snapshot: ReportSnapshot, unit_ids: list[int], using: str | None = None
) -> dict[CellKey, Counts]:
    """The frozen counts per (unit, field) of a closed period, in one query."""
    rows = (
        SnapshotCell.objects.using(using or reporting_alias())
        .filter(snapshot_id=snapshot.pk, unit_id__in=unit_ids)
        .values("unit_id", "field_id", *MEASURES)
    )
    return {(row.pop("unit_id"), row.pop("field_id")): Counts(**row) for row in rows}


def period_snapshot(period: Period, *, using: str | None = None) -> ReportSnapshot | None:
    return (
        ReportSnapshot.objects.using(using or reporting_alias())
        .filter(basis=period.basis, start=period.start, end=period.end)
        .first()
    )


@dataclass
class ReportRow:
    key: str
    label: str
    counts: Counts
    # Filters of the dossier list behind this row (drill-down): unit, within (subtree), field.
    filters: dict[str, str] = field(default_factory=dict)

    def as_json(self) -> dict:
        return {"key": self.key, "label": self.label, **self.counts.as_form()}


@dataclass
class Correction:
    """A number of a closed period that differs now from its snapshot."""

    row: str  # the row's label
    measure: str
    frozen: int
    live: int
    key: str = ""  # the row's key


def _local(moment: datetime) -> datetime:
    return timezone.localtime(moment) if timezone.is_aware(moment) else moment


@dataclass
class Report:
    unit: Unit
    period: Period
    group_by: str
    as_of: datetime
    rows: list[ReportRow]
    total: Counts
    commune_subtotal: Counts | None = None
    subtotal_label: str = ""
    snapshot: ReportSnapshot | None = None
    corrections: list[Correction] = field(default_factory=list)
    # False when a closed period was read from its snapshot alone (no live recount).
    corrections_checked: bool = True

    @property
    def indicators(self) -> dict[str, float | None]:
        return self.total.indicators()

    def as_json(self) -> dict:
        data: dict = {
            "unit": {"code": self.unit.code, "name": self.unit.name},
            "period": {
                "key": self.period.key,
                "label": self.period.label(),
                "start": self.period.start.isoformat(),
                "end": self.period.end.isoformat(),
                "basis": self.period.basis,
            },
            "group_by": self.group_by,
            "as_of": _local(self.as_of).isoformat(),
            "rows": [row.as_json() for row in self.rows],
            "total": self.total.as_form(),
            "indicators": self.indicators,
            "ratings": {"total": self.total.ratings, "satisfied": self.total.satisfied},
            "digitized": {
                "intake": self.total.digitized_intake,
                "result": self.total.digitized_result,
            },
            "closed": None,
        }
        if self.commune_subtotal is not None:
            data["commune_subtotal"] = self.commune_subtotal.as_form()
        if self.snapshot is not None:
            data["closed"] = {
                "closed_at": _local(self.snapshot.closed_at).isoformat(),
                "corrections": [
                    {
                        "key": c.key,
                        "row": c.row,
                        "measure": c.measure,
                        "frozen": c.frozen,
                        "live": c.live,
                    }
                    for c in self.corrections
                ],
            }
        return data


def report_units(user: User | AnonymousUser) -> QuerySet[Unit]:
    """The units whose reports ``user`` may read: the subtrees they manage."""
    return managed_units(user).order_by("path")


def _child_of(unit: Unit, units: Mapping[int, Unit]) -> dict[int, int]:
    """Each unit of the subtree mapped to the child of ``unit`` it lies under (``unit`` itself
    to itself)."""
    mapping = {}
    for pk, other in units.items():
        rest = other.path[len(unit.path) :].strip("/")
        mapping[pk] = int(rest.split("/")[0]) if rest else unit.pk
    return mapping


def _rows_by_unit(
    unit: Unit, units: Mapping[int, Unit], cells: Mapping[CellKey, Counts]
) -> tuple[list[ReportRow], Counts]:
    child_of = _child_of(unit, units)
    sums: dict[int, Counts] = defaultdict(Counts)
    for (unit_id, _field_id), counts in cells.items():
        if unit_id in child_of:
            sums[child_of[unit_id]].add(counts)
    own = ReportRow(
        key=unit.code,
        label=_("%(unit)s (own dossiers)") % {"unit": unit.name},
        counts=sums[unit.pk],
        filters={"unit": unit.code},
    )
    children = sorted(
        (units[pk] for pk in set(child_of.values()) if pk != unit.pk),
        key=lambda u: (search_key(u.name), u.code),
    )
    rows = [
        ReportRow(key=c.code, label=c.name, counts=sums[c.pk], filters={"within": c.code})
        for c in children
    ]
    return [own, *rows], (Counts.total(row.counts for row in rows) if rows else None)


def _rows_by_field(cells: Mapping[CellKey, Counts], unit: Unit, using: str) -> list[ReportRow]:
    sums: dict[int, Counts] = defaultdict(Counts)
    for (_unit_id, field_id), counts in cells.items():
        sums[field_id].add(counts)
    names = Field.objects.using(using).filter(pk__in=list(sums)).values_list("pk", "code", "name")
    return [
        ReportRow(
            key=code, label=name, counts=sums[pk], filters={"within": unit.code, "field": code}
        )
        for pk, code, name in sorted(names, key=lambda item: (search_key(item[2]), item[1]))
        if sums[pk] != Counts()
    ]


def _corrections(rows_frozen: list[ReportRow], rows_live: list[ReportRow]) -> list[Correction]:
    live = {row.key: row for row in rows_live}
    frozen = {row.key: row for row in rows_frozen}
    found = []
    for key in [*frozen, *(k for k in live if k not in frozen)]:
        before = frozen[key].counts if key in frozen else Counts()
        now = live[key].counts if key in live else Counts()
        label = (frozen.get(key) or live[key]).label
        for name in MEASURES:
            if getattr(before, name) != getattr(now, name):
                found.append(
                    Correction(label, name, getattr(before, name), getattr(now, name), key=key)
                )
    return found


def monthly_statistics(
    *,
    unit: Unit,
    period: Period,
    group_by: str = GROUP_BY_UNIT,
    now: datetime | None = None,
    corrections: bool = True,
    using: str | None = None,
) -> Report:
    """Biểu số II.06a for ``unit``'s subtree over ``period``.

    A closed period reads its snapshot and, unless ``corrections`` is False (pages that only
    show the official figures), lists what differs now as corrections. Every query goes to
    ``using``, by default the reporting database (the replica when there is one).
    """
    if group_by not in GROUPINGS:
        raise ReportError(
            _("Unknown grouping “%(group_by)s”: use field or unit.") % {"group_by": group_by}
        )
    now = now or timezone.now()
    using = using or reporting_alias()
    units = {u.pk: u for u in Unit.objects.using(using).filter(path__startswith=unit.path)}
    unit_ids = list(units)
    snapshot = period_snapshot(period, using=using)
    live = None
    if snapshot is None or corrections:
        live = live_cells(unit_ids=unit_ids, period=period, as_of=now, using=using)
    cells = snapshot_cells(snapshot=snapshot, unit_ids=unit_ids, using=using) if snapshot else live
    assert cells is not None

    def rows_of(source: Mapping[CellKey, Counts]) -> tuple[list[ReportRow], Counts | None]:
        if group_by == GROUP_BY_UNIT:
            return _rows_by_unit(unit, units, source)
        return _rows_by_field(source, unit, using), None

    rows, subtotal = rows_of(cells)
    changed = []
    if snapshot is not None and live is not None:
        live_rows, _subtotal = rows_of(live)
        changed = _corrections(rows, live_rows)
    return Report(
        unit=unit,
        period=period,
        group_by=group_by,
        as_of=snapshot.closed_at
        if snapshot
        else min(now, period.bounds(timezone.get_default_timezone())[1]),
        rows=rows,
        total=Counts.total(cells.values()),
        commune_subtotal=subtotal,
        subtotal_label=_subtotal_label(unit, units),
        snapshot=snapshot,
        corrections=changed,
        corrections_checked=live is not None,
    )


def _subtotal_label(unit: Unit, units: Mapping[int, Unit]) -> str:
    levels = {u.level for u in units.values() if u.parent_id == unit.pk}
    if levels == {"commune"}:
        return _("Commune level")
    if levels == {"district"}:
        return _("District level")
    return _("Units below")
