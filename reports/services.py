"""Writes for reports: closing statutory periods into snapshots.

Closing reads the primary (``default``), never the read replica the report pages use
(docs/scaling.md). A snapshot is the period's official figure for good: frozen from a replica a
few seconds behind, it would miss the last dossiers of the period for ever and show them as
"corrections" on every later reading. The guard against closing twice (which periods are done,
the unique period constraint) must also see the primary's rows, not a lagging copy of them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import DEFAULT_DB_ALIAS, IntegrityError, transaction
from django.utils import timezone

from dossiers.models import Dossier
from procedures.selectors import national_calendar

from .models import ReportSnapshot, SnapshotCell
from .periods import OFFICIAL, Period, month_period
from .selectors import MEASURES, live_cells

logger = logging.getLogger(__name__)

# A period closes this many working days after its statutory cut-off.
CLOSING_WORKING_DAYS = 2


def closing_day(period: Period) -> date:
    """The day a period is frozen: its last day (the 14th) plus two working days."""
    calendar = national_calendar(start=period.end, end=period.end + timedelta(days=40))
    day = period.end
    for _ in range(CLOSING_WORKING_DAYS):
        day = calendar.next_working_day(day)
    return day


def closable_periods(*, today: date, first_day: date) -> list[Period]:
    """The statutory months from the one holding ``first_day`` whose closing day is ``today``
    or earlier, oldest first."""
    periods = []
    period = month_period(today, basis=OFFICIAL)
    while period.end >= first_day:
        if closing_day(period) <= today:
            periods.append(period)
        period = period.previous()
    return periods[::-1]


@dataclass(frozen=True)
class ClosingStatus:
    last: ReportSnapshot | None  # the latest closed period
    next_period: Period  # the next period to close
    next_day: date  # and the day it closes


def closing_status(*, today: date) -> ClosingStatus:
    """Where period closing stands, for the operations page (a read: closes nothing)."""
    last = ReportSnapshot.objects.filter(basis=OFFICIAL).order_by("-end").first()
    current = month_period(today, basis=OFFICIAL)
    ended = current.previous()  # the latest period that has ended
    next_period = ended if last is None or last.end < ended.end else current
    return ClosingStatus(last=last, next_period=next_period, next_day=closing_day(next_period))


@dataclass(frozen=True)
class ClosingResult:
    closed: list[str]
    already_closed: int


def close_period(*, period: Period, now: datetime) -> ReportSnapshot | None:
    """Freeze ``period``: every unit's counts by field as they stand now. None when another
    worker closed it first (the unique period guard), so running twice or at once is safe."""
    cells = live_cells(unit_ids=None, period=period, as_of=now, using=DEFAULT_DB_ALIAS)
    try:
        with transaction.atomic():
            snapshot = ReportSnapshot.objects.create(
                basis=period.basis,
                period_key=period.key,
                start=period.start,
                end=period.end,
                closed_at=now,
            )
            SnapshotCell.objects.bulk_create(
                [
                    SnapshotCell(
                        snapshot=snapshot,
                        unit_id=unit_id,
                        field_id=field_id,
                        **{name: getattr(counts, name) for name in MEASURES},
                    )
                    for (unit_id, field_id), counts in cells.items()
                ],
                batch_size=1000,
            )
    except IntegrityError:
        logger.info("Period %s was closed by another worker.", period.key)
        return None
    logger.info("Closed period %s: %d cells.", period.key, len(cells))
    return snapshot


def close_due_periods(*, now: datetime | None = None) -> ClosingResult:
    """Close every statutory month whose closing day has come and that is not closed yet, back
    to the month of the first dossier received."""
    now = now or timezone.now()
    first = (
        Dossier.objects.filter(received_at__isnull=False)
        .order_by("received_at")
        .values_list("received_at", flat=True)
        .first()
    )
    if first is None:
        return ClosingResult(closed=[], already_closed=0)
    today = timezone.localdate(now)
    periods = closable_periods(today=today, first_day=timezone.localdate(first))
    done = set(ReportSnapshot.objects.filter(basis=OFFICIAL).values_list("start", "end"))
    closed = []
    for period in periods:
        if (period.start, period.end) in done:
            continue
        if close_period(period=period, now=now) is not None:
            closed.append(period.key)
    return ClosingResult(closed=closed, already_closed=len(periods) - len(closed))
