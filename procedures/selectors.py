"""Reads of the catalogue and the working calendar."""

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta

from django.db.models import Count, Prefetch, Q, QuerySet

from portal.models import Unit
from portal.text import search_patterns

from . import catalogue_cache
from .choices import CalendarDayKind, OnlineLevel, TimeLimitUnit
from .deadlines import (
    Deadline,
    OfficeHours,
    Pause,
    TimeLimit,
    WorkingCalendar,
    compute_deadline,
)
from .models import CalendarDay, DocumentComponent, Field, Procedure


def procedure_catalogue(
    *,
    search: str = "",
    field: str = "",
    level: str = "",
    online_level: str = "",
    include_inactive: bool = False,
) -> QuerySet[Procedure]:
    """Procedures matching the public catalogue's search and filters.

    Every word of ``search`` must appear, whole, in the code or name, ignoring case and
    diacritics.
    """
    procedures = Procedure.objects.select_related("field")
    if not include_inactive:
        procedures = procedures.active()
    for pattern in search_patterns(search):
        procedures = procedures.filter(search_text__contains=pattern)
    if field:
        procedures = procedures.filter(field__code=field)
    if level:
        procedures = procedures.filter(level=level)
    if online_level:
        procedures = procedures.filter(online_level=online_level)
    return procedures.order_by("field__sort_order", "name", "code")


def procedure_detail(*, code: str, include_inactive: bool = False) -> Procedure:
    """One procedure with its field and documents; raises Procedure.DoesNotExist."""
    procedures = Procedure.objects.select_related("field").prefetch_related(
        Prefetch("documents", queryset=DocumentComponent.objects.order_by("sort_order", "id"))
    )
    if not include_inactive:
        procedures = procedures.active()
    return procedures.get(code=code)


def units_for_procedure(procedure: Procedure) -> QuerySet[Unit]:
    """The units whose counters handle this procedure today: those of its level that are in
    force, by name."""
    from django.utils import timezone

    today = timezone.localdate()
    return (
        Unit.objects.filter(level=procedure.level)
        .filter(Q(valid_from__isnull=True) | Q(valid_from__lte=today))
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=today))
        .order_by("name", "code")
    )


def office_hours(unit: Unit) -> OfficeHours:
    return OfficeHours(
        sessions=(
            (unit.morning_open, unit.morning_close),
            (unit.afternoon_open, unit.afternoon_close),
        ),
        weekdays=frozenset(int(d) - 1 for d in unit.working_weekdays),
        same_day_cutoff=unit.same_day_cutoff,
    )


def _ancestor_ids(unit: Unit) -> list[int]:
    """The ids of the unit's chain from the root down to itself, read off its path."""
    return [int(part) for part in unit.path.strip("/").split("/") if part]


def _choose_days(days: Iterable[CalendarDay], chain: list[int]) -> list[CalendarDay]:
    """For each date, the exception of the nearest scope along ``chain`` (nationwide = 0)."""
    depth = {pk: position for position, pk in enumerate(chain, start=1)}
    chosen: dict[date, CalendarDay] = {}
    for day in days:
        if day.unit_id is not None and day.unit_id not in depth:
            continue
        current = chosen.get(day.date)
        if current is None or depth.get(day.unit_id or 0, 0) > depth.get(current.unit_id or 0, 0):
            chosen[day.date] = day
    return [chosen[d] for d in sorted(chosen)]


def _calendar_days(
    unit_ids: set[int], start: date, end: date, *, with_units: bool = True
) -> list[CalendarDay]:
    """The exceptions between two dates, nationwide and of ``unit_ids``; ``with_units=False``
    when only their dates, kinds and names are read (a deadline: every intake computes one,
    and the join with its unit objects was a third of the calendar's cost); those come from
    the process's catalogue cache when it may be used."""
    if not with_units:
        kept = catalogue_cache.calendar_days(unit_ids, start, end)
        if kept is not None:
            return kept
    days = CalendarDay.objects.filter(date__range=(start, end)).filter(
        Q(unit__isnull=True) | Q(unit__in=unit_ids)
    )
    return list(days.select_related("unit") if with_units else days.order_by())


def effective_calendar_days(
    *, unit: Unit | None, start: date, end: date, with_units: bool = True
) -> list[CalendarDay]:
    """The exceptions between two dates that apply to ``unit``: nationwide ones, overridden by
    those of its ancestors and its own (the nearest scope wins), in date order.
    Nationwide ones only when ``unit`` is None."""
    chain = _ancestor_ids(unit) if unit is not None else []
    return _choose_days(_calendar_days(set(chain), start, end, with_units=with_units), chain)


def _calendar_of(unit: Unit, days: list[CalendarDay]) -> WorkingCalendar:
    return WorkingCalendar(
        hours=office_hours(unit),
        days_off={d.date: d.name for d in days if d.kind != CalendarDayKind.WORKING_DAY},
        extra_working_days={d.date: d.name for d in days if d.kind == CalendarDayKind.WORKING_DAY},
    )


def working_calendar(*, unit: Unit, start: date, end: date) -> WorkingCalendar:
    """The unit's calendar between two dates: its office hours and the exceptions that apply."""
    days = effective_calendar_days(unit=unit, start=start, end=end, with_units=False)
    return _calendar_of(unit, days)


def national_calendar(*, start: date, end: date) -> WorkingCalendar:
    """The nationwide calendar between two dates (standard office week, national exceptions):
    what statutory dates such as a report period's closing day are counted on."""
    days = effective_calendar_days(unit=None, start=start, end=end, with_units=False)
    return WorkingCalendar(
        days_off={d.date: d.name for d in days if d.kind != CalendarDayKind.WORKING_DAY},
        extra_working_days={d.date: d.name for d in days if d.kind == CalendarDayKind.WORKING_DAY},
    )


def working_calendars(
    *, units: Iterable[Unit], start: date, end: date
) -> dict[int, WorkingCalendar]:
    """The calendars of several units between two dates, from one query."""
    units = list(units)
    chains = {unit.pk: _ancestor_ids(unit) for unit in units}
    days = _calendar_days(
        {pk for chain in chains.values() for pk in chain}, start, end, with_units=False
    )
    return {unit.pk: _calendar_of(unit, _choose_days(days, chains[unit.pk])) for unit in units}


def time_limit_of(procedure: Procedure) -> TimeLimit:
    return TimeLimit(
        value=procedure.time_limit_value,
        unit=procedure.time_limit_unit,
        same_day=procedure.same_day,
    )


def _calendar_window(received_at: datetime, limit: TimeLimit) -> tuple[date, date]:
    """Dates the computation may touch: generous, since a year of exceptions is a few rows."""
    if limit.unit == TimeLimitUnit.CALENDAR_DAYS:
        span = int(limit.value) + 60
    elif limit.unit == TimeLimitUnit.WORKING_HOURS:
        span = int(limit.value) // 4 + 60
    else:
        span = int(limit.value) * 3 + 60
    first = received_at.date() - timedelta(days=7)
    return first, received_at.date() + timedelta(days=span + 365)


def procedure_deadline(
    *,
    procedure: Procedure,
    unit: Unit,
    received_at: datetime,
    pauses: Sequence[Pause] = (),
    now: datetime | None = None,
) -> Deadline:
    """When a dossier of ``procedure`` received at ``unit`` at ``received_at`` is due."""
    limit = time_limit_of(procedure)
    start, end = _calendar_window(received_at, limit)
    for pause in pauses:
        end = max(end, (pause.end or now or received_at).date() + timedelta(days=400))
    calendar = working_calendar(unit=unit, start=start, end=end)
    return compute_deadline(
        received_at=received_at, limit=limit, calendar=calendar, pauses=pauses, now=now
    )


def catalogue_overview() -> dict:
    """Counts for the home page: fields with their active procedures, and online services."""
    active = Procedure.objects.active()
    fields = (
        Field.objects.filter(procedures__is_active=True)
        .annotate(procedure_count=Count("procedures"))
        .order_by("sort_order", "name")
    )
    return {
        "fields": list(fields),
        "procedures": active.count(),
        "online_full": active.filter(online_level=OnlineLevel.FULL).count(),
        "online_partial": active.filter(online_level=OnlineLevel.PARTIAL).count(),
    }
