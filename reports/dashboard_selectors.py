"""Reads for the manager's dashboard that the monthly report (:mod:`reports.selectors`) does
not give: a trend over many periods, what is overdue right now, and the busiest procedures.

Each read is one or two set-based queries whatever the number of units, periods or procedures,
never one query per period or unit. The conditions are those of :mod:`reports.cells`, so every
number here is the length of the dossier list behind it (a closed period's, as in the report,
as it stood when the period was closed).

Every read goes to ``using``, by default :func:`portal.db.reporting_alias` (the read replica when
one is configured, docs/scaling.md); the dossier lists the numbers link to read the primary.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Case, Count, IntegerField, Q, Sum, Value, When
from django.utils import timezone

from dossiers.models import Dossier
from portal.db import reporting_alias
from portal.models import Unit

from .cells import cell_conditions, touches, with_ended_at
from .models import ReportSnapshot
from .periods import Period, month_period
from .selectors import Report, monthly_statistics

# What the trend counts per period; the channels and timeliness values in the names are those
# stored on the dossier (``received_<channel>``, ``resolved_<timeliness>``).
TREND_CELLS = (
    "received_online",
    "received_in_person",
    "received_postal",
    "resolved_early",
    "resolved_on_time",
    "resolved_late",
)


def subtree(unit: Unit, units: Iterable[Unit]) -> list[Unit]:
    """``unit`` and the units of ``units`` below it (by their materialised paths)."""
    return [other for other in units if other.path.startswith(unit.path)]


@dataclass(frozen=True)
class TrendPoint:
    """One period of the trend: what was received by channel and what was resolved."""

    period: Period
    received_online: int = 0
    received_in_person: int = 0
    received_postal: int = 0
    resolved_early: int = 0
    resolved_on_time: int = 0
    resolved_late: int = 0

    @property
    def received(self) -> int:
        return self.received_online + self.received_in_person + self.received_postal

    @property
    def resolved(self) -> int:
        return self.resolved_early + self.resolved_on_time + self.resolved_late


def trend(
    *, unit_ids: Sequence[int], periods: Sequence[Period], using: str | None = None
) -> list[TrendPoint]:
    """Received by channel and resolved by timeliness for each of ``periods`` (oldest first),
    in two queries whatever their number: the closed periods from their snapshots, as the
    monthly report reads them, and the others (usually the running month) from the dossiers."""
    if not periods:
        return []
    using = using or reporting_alias()
    sums = _frozen_sums(unit_ids, periods, using)
    live = [index for index in range(len(periods)) if index not in sums]
    live_sums = _live_sums(unit_ids, [periods[i] for i in live], using)
    for index, counts in zip(live, live_sums, strict=True):
        sums[index] = counts
    return [TrendPoint(period, **sums[index]) for index, period in enumerate(periods)]


def _frozen_sums(
    unit_ids: Sequence[int], periods: Sequence[Period], using: str
) -> dict[int, dict[str, int]]:
    """The trend's counts of the periods that have a snapshot, by the period's index."""
    index_of = {(p.basis, p.start, p.end): i for i, p in enumerate(periods)}
    in_units = Q(cells__unit_id__in=list(unit_ids))
    rows = (
        ReportSnapshot.objects.using(using)
        .filter(basis__in={p.basis for p in periods}, start__in={p.start for p in periods})
        .values("basis", "start", "end")
        .annotate(**{name: Sum(f"cells__{name}", filter=in_units) for name in TREND_CELLS})
        .order_by()
    )
    found = {}
    for row in rows:
        index = index_of.get((row["basis"], row["start"], row["end"]))
        if index is not None:
            found[index] = {name: row[name] or 0 for name in TREND_CELLS}
    return found


def _bucket(field: str, bounds: Sequence[tuple[datetime, datetime]]) -> Case:
    """Which of the periods ``bounds`` the timestamp ``field`` falls in (its index), or null."""
    return Case(
        *(
            When(**{f"{field}__gte": start, f"{field}__lt": end}, then=Value(index))
            for index, (start, end) in enumerate(bounds)
        ),
        default=None,
        output_field=IntegerField(),
    )


def _live_sums(
    unit_ids: Sequence[int], periods: Sequence[Period], using: str
) -> list[dict[str, int]]:
    """The trend's counts of ``periods`` from the dossiers, in one query.

    Each dossier of the window is put in the period it was received in and the one it was
    resolved in (a ``CASE`` over the periods' bounds, cheaper per row than one filtered count
    per period and measure); the rows are grouped by those two periods, the channel and the
    timeliness, and summed here. The conditions are the cells' (:mod:`reports.cells`):
    ``received_<channel>`` is received in the period by that channel, ``resolved_<timeliness>``
    resolved in it with that timeliness."""
    sums: list[dict[str, int]] = [dict.fromkeys(TREND_CELLS, 0) for _period in periods]
    if not periods:
        return sums
    tz = timezone.get_default_timezone()
    bounds = [period.bounds(tz) for period in periods]
    first, last = min(b[0] for b in bounds), max(b[1] for b in bounds)
    # Received in the window, or resolved in it (and so received before its end and ended in
    # it: the ended-at index finds those).
    window = Q(received_at__lt=last) & (Q(received_at__gte=first) | Q(ended_at__gte=first))
    rows = (
        with_ended_at(Dossier.objects.using(using).filter(unit_id__in=list(unit_ids)))
        .filter(window)
        .annotate(
            received_in=_bucket("received_at", bounds), resolved_in=_bucket("resolved_at", bounds)
        )
        .values("received_in", "resolved_in", "channel", "timeliness")
        .annotate(count=Count("pk"))
        .order_by()
    )
    for row in rows:
        received, resolved = row["received_in"], row["resolved_in"]
        if received is not None and f"received_{row['channel']}" in TREND_CELLS:
            sums[received][f"received_{row['channel']}"] += row["count"]
        if resolved is not None and f"resolved_{row['timeliness']}" in TREND_CELLS:
            sums[resolved][f"resolved_{row['timeliness']}"] += row["count"]
    return sums


def overdue_now(
    *, unit_ids: Sequence[int], now: datetime, basis: str, using: str | None = None
) -> dict[int, int]:
    """The open dossiers overdue at ``now``, counted per unit, in one query.

    The condition is the report's "pending, overdue" of the period that contains ``now``, so the
    list behind the number is ``cell=pending_overdue`` of that period."""
    current = month_period(timezone.localdate(now), basis=basis)
    start, end = current.bounds(timezone.get_default_timezone())
    condition = cell_conditions(start, end, now)["pending_overdue"]
    rows = (
        with_ended_at(
            Dossier.objects.using(using or reporting_alias()).filter(unit_id__in=list(unit_ids))
        )
        .filter(condition)
        .values("unit_id")
        .annotate(count=Count("pk"))
        .order_by()
    )
    return {row["unit_id"]: row["count"] for row in rows}


def fold_by_row(unit: Unit, units: Sequence[Unit], per_unit: dict[int, int]) -> dict[str, int]:
    """Counts per unit summed into the rows of a report by unit: ``unit``'s own dossiers under
    its code, each unit below it under the code of the child of ``unit`` it lies in."""
    by_pk = {other.pk: other for other in units}
    sums: dict[str, int] = defaultdict(int)
    for pk, count in per_unit.items():
        other = by_pk.get(pk)
        if other is None or not other.path.startswith(unit.path):
            continue
        rest = other.path[len(unit.path) :].strip("/")
        child = by_pk.get(int(rest.split("/")[0])) if rest else unit
        if child is not None:
            sums[child.code] += count
    return dict(sums)


@dataclass(frozen=True)
class ProcedureCounts:
    code: str
    name: str
    received: int
    resolved: int
    resolved_late: int
    pending_overdue: int

    @property
    def overdue(self) -> int:
        """Resolved late in the period plus still pending past the due date at its end."""
        return self.resolved_late + self.pending_overdue


def procedure_counts(
    *, unit_ids: Sequence[int], period: Period, as_of: datetime, using: str | None = None
) -> list[ProcedureCounts]:
    """Per procedure: received in the period, resolved, resolved late and pending overdue at its
    end (or now), in one query."""
    start, end = period.bounds(timezone.get_default_timezone())
    c = cell_conditions(start, end, as_of)
    received = c["received_online"] | c["received_in_person"] | c["received_postal"]
    resolved = c["resolved_early"] | c["resolved_on_time"] | c["resolved_late"]
    rows = (
        with_ended_at(
            Dossier.objects.using(using or reporting_alias()).filter(unit_id__in=list(unit_ids))
        )
        .filter(touches(start, end))
        .values("procedure__code", "procedure__name")
        .annotate(
            received=Count("pk", filter=received),
            resolved=Count("pk", filter=resolved),
            resolved_late=Count("pk", filter=c["resolved_late"]),
            pending_overdue=Count("pk", filter=c["pending_overdue"]),
        )
        .order_by()
    )
    return [
        ProcedureCounts(
            code=row["procedure__code"],
            name=row["procedure__name"],
            received=row["received"],
            resolved=row["resolved"],
            resolved_late=row["resolved_late"],
            pending_overdue=row["pending_overdue"],
        )
        for row in rows
    ]


def busiest(rows: Iterable[ProcedureCounts], limit: int = 10) -> list[ProcedureCounts]:
    """The procedures that received the most dossiers (ties by code)."""
    found = [row for row in rows if row.received]
    return sorted(found, key=lambda row: (-row.received, row.code))[:limit]


def most_overdue(rows: Iterable[ProcedureCounts], limit: int = 10) -> list[ProcedureCounts]:
    """The procedures with the most dossiers resolved late or pending overdue (ties by code)."""
    found = [row for row in rows if row.overdue]
    return sorted(found, key=lambda row: (-row.overdue, row.code))[:limit]


@dataclass
class Dashboard:
    """Everything the manager's dashboard shows for one unit's subtree and one period."""

    unit: Unit
    period: Period
    current: Period  # the period that contains now, whose "pending, overdue" is overdue now
    report: Report  # the monthly report grouped by unit (tiles, timeliness, per-unit rows)
    overdue_now: int
    overdue_now_by_row: dict[str, int]
    trend: list[TrendPoint]
    procedures: list[ProcedureCounts]


def manager_dashboard(
    *,
    unit: Unit,
    units: Sequence[Unit],
    period: Period,
    trend_periods: Sequence[Period],
    now: datetime,
    using: str | None = None,
) -> Dashboard:
    """The dashboard of ``unit``'s subtree (``units`` holds at least that subtree) for
    ``period``: the monthly report plus three queries (overdue now, the trend, procedures)."""
    using = using or reporting_alias()
    tree = subtree(unit, units)
    unit_ids = [other.pk for other in tree]
    report = monthly_statistics(unit=unit, period=period, group_by="unit", now=now, using=using)
    per_unit = overdue_now(unit_ids=unit_ids, now=now, basis=period.basis, using=using)
    return Dashboard(
        unit=unit,
        period=period,
        current=month_period(timezone.localdate(now), basis=period.basis),
        report=report,
        overdue_now=sum(per_unit.values()),
        overdue_now_by_row=fold_by_row(unit, tree, per_unit),
        trend=trend(unit_ids=unit_ids, periods=trend_periods, using=using),
        procedures=procedure_counts(unit_ids=unit_ids, period=period, as_of=now, using=using),
    )
