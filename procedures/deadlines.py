"""The deadline engine: when is a dossier due, and how was that date reached.

Pure functions and frozen dataclasses over the standard library only — no Django, no database
(DESIGN.md §3 "Working calendar"). Callers build a :class:`WorkingCalendar` from the unit's
office hours and its calendar exceptions, a :class:`TimeLimit` from the procedure, and call
:func:`compute_deadline`.

Every datetime going in or out is timezone-aware; inputs are converted to the calendar's zone.
Office sessions are wall-clock intervals of one day: the engine assumes a session never straddles
a daylight-saving change (Vietnam has none).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cached_property
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")

WORKING_DAYS = "working_days"
WORKING_HOURS = "working_hours"
CALENDAR_DAYS = "calendar_days"
TIME_LIMIT_UNITS = frozenset({WORKING_DAYS, WORKING_HOURS, CALENDAR_DAYS})

# Kinds of trace steps, in the order they appear in a trace.
STEP_RECEIVED = "received"
STEP_START_MOVED = "start_moved"
STEP_CUTOFF = "cutoff"
STEP_LIMIT = "limit"
STEP_PAUSE = "pause"
STEP_DAY_SKIPPED = "day_skipped"
STEP_MAKEUP_DAY = "makeup_day"
STEP_MOVED_TO_WORKING_DAY = "moved_to_working_day"
STEP_DUE = "due"
# Not written by compute_deadline; the dossier's apology slip may append it to a stored trace.
STEP_APOLOGY = "apology"

# Why a moment is outside office hours / a day is not a working day (trace ``reason`` values).
REASON_BEFORE_OPENING = "before_opening"
REASON_BREAK = "break"
REASON_AFTER_CLOSE = "after_close"
REASON_WEEKEND = "weekend"
REASON_DAY_OFF = "day_off"

_ONE_HOUR = timedelta(hours=1)
_MICROSECOND = timedelta(microseconds=1)
# Enough to cross any real run of days off; guards the day loops against a broken calendar.
_MAX_DAYS_WITHOUT_WORK = 3660
# Spans of up to this many days are counted day by day; longer ones by arithmetic.
_SHORT_SPAN_DAYS = 2


class DeadlineError(ValueError):
    """A deadline cannot be computed from these inputs."""


class InvalidTimeLimitError(DeadlineError):
    """The time limit is not a positive value in a known unit."""


class InvalidCalendarError(DeadlineError):
    """The office hours or the calendar exceptions contradict themselves."""


def _aware(moment: datetime, tz: ZoneInfo, what: str) -> datetime:
    if not isinstance(moment, datetime):
        raise DeadlineError(f"{what} must be a datetime, not {type(moment).__name__}.")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise DeadlineError(f"{what} must be timezone-aware, got the naive {moment.isoformat()}.")
    return moment.astimezone(tz)


@dataclass(frozen=True)
class OfficeHours:
    """The weekly office hours of a unit: the same sessions on each working weekday."""

    sessions: tuple[tuple[time, time], ...] = (
        (time(7, 30), time(11, 30)),
        (time(13, 30), time(17, 30)),
    )
    weekdays: frozenset[int] = frozenset({0, 1, 2, 3, 4})  # date.weekday(): Monday = 0
    same_day_cutoff: time = time(15, 0)

    def __post_init__(self) -> None:
        sessions = tuple((opening, closing) for opening, closing in self.sessions)
        if not sessions:
            raise InvalidCalendarError("Office hours need at least one session.")
        previous_close: time | None = None
        for opening, closing in sessions:
            if not isinstance(opening, time) or not isinstance(closing, time):
                raise InvalidCalendarError("Office sessions are pairs of times.")
            if opening.tzinfo is not None or closing.tzinfo is not None:
                raise InvalidCalendarError("Office session times carry no time zone.")
            if opening >= closing:
                raise InvalidCalendarError(
                    "An office session must open before it closes: "
                    f"{opening:%H:%M}–{closing:%H:%M}."
                )
            if previous_close is not None and opening < previous_close:
                raise InvalidCalendarError(
                    f"Office sessions must be in order and not overlap: {opening:%H:%M} is "
                    f"before the previous close {previous_close:%H:%M}."
                )
            previous_close = closing
        weekdays = frozenset(self.weekdays)
        if not weekdays:
            raise InvalidCalendarError("At least one weekday must be a working day.")
        if not weekdays <= frozenset(range(7)):
            raise InvalidCalendarError(
                f"Weekdays are numbered 0 (Monday) to 6: {sorted(weekdays)}."
            )
        if not isinstance(self.same_day_cutoff, time):
            raise InvalidCalendarError("The same-day cut-off must be a time.")
        object.__setattr__(self, "sessions", sessions)
        object.__setattr__(self, "weekdays", weekdays)

    @property
    def day_length(self) -> timedelta:
        """Office time of one working day: 8 hours by default."""
        return sum(
            (
                datetime.combine(date.min, closing) - datetime.combine(date.min, opening)
                for opening, closing in self.sessions
            ),
            timedelta(),
        )

    @property
    def opening(self) -> time:
        return self.sessions[0][0]

    @property
    def closing(self) -> time:
        return self.sessions[-1][1]


def _frozen_days(days: Mapping[date, str], what: str) -> Mapping[date, str]:
    frozen: dict[date, str] = {}
    for day, name in days.items():
        if isinstance(day, datetime) or not isinstance(day, date):
            raise InvalidCalendarError(f"{what} are keyed by date, got {day!r}.")
        frozen[day] = str(name)
    return MappingProxyType(frozen)


@dataclass(frozen=True)
class WorkingCalendar:
    """Office hours plus dated exceptions: days off (holidays, one-off days off) and make-up
    working days, each with its name or reason.
    """

    hours: OfficeHours = field(default_factory=OfficeHours)
    days_off: Mapping[date, str] = field(default_factory=dict, hash=False)
    extra_working_days: Mapping[date, str] = field(default_factory=dict, hash=False)
    tz: ZoneInfo = VN_TZ

    def __post_init__(self) -> None:
        days_off = _frozen_days(self.days_off, "Days off")
        extra = _frozen_days(self.extra_working_days, "Make-up working days")
        both = sorted(set(days_off) & set(extra))
        if both:
            listed = ", ".join(day.isoformat() for day in both)
            raise InvalidCalendarError(
                f"A date cannot be both a day off and a working day: {listed}."
            )
        object.__setattr__(self, "days_off", days_off)
        object.__setattr__(self, "extra_working_days", extra)

    # Days ------------------------------------------------------------------------------------

    def is_working_day(self, day: date) -> bool:
        if day in self.extra_working_days:
            return True
        return day.weekday() in self.hours.weekdays and day not in self.days_off

    def is_makeup_day(self, day: date) -> bool:
        """A declared working day that the weekly rule alone would not make one."""
        return day in self.extra_working_days and (
            day.weekday() not in self.hours.weekdays or day in self.days_off
        )

    def non_working_reason(self, day: date) -> tuple[str, str] | None:
        """``(reason, name)`` when ``day`` is not a working day, else None.

        ``reason`` is ``"day_off"`` (with the holiday's or day off's name) or ``"weekend"``.
        A holiday on a weekend is reported by its name.
        """
        if self.is_working_day(day):
            return None
        if day in self.days_off:
            return REASON_DAY_OFF, self.days_off[day]
        return REASON_WEEKEND, ""

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after ``day``."""
        return self.first_working_day(day + timedelta(days=1))

    def first_working_day(self, day: date) -> date:
        """The first working day on or after ``day``."""
        for _ in range(_MAX_DAYS_WITHOUT_WORK):
            if self.is_working_day(day):
                return day
            day += timedelta(days=1)
        raise InvalidCalendarError(f"No working day within ten years after {day.isoformat()}.")

    def sessions_on(self, day: date) -> list[tuple[datetime, datetime]]:
        """The office sessions of ``day`` as aware datetimes; empty on a non-working day."""
        if not self.is_working_day(day):
            return []
        return [
            (
                datetime.combine(day, opening, tzinfo=self.tz),
                datetime.combine(day, closing, tzinfo=self.tz),
            )
            for opening, closing in self.hours.sessions
        ]

    def opening_of_day(self, day: date) -> datetime:
        """Opening of the first session that day."""
        return datetime.combine(day, self.hours.opening, tzinfo=self.tz)

    def close_of_day(self, day: date) -> datetime:
        """Close of the last session that day."""
        return datetime.combine(day, self.hours.closing, tzinfo=self.tz)

    # Moments ---------------------------------------------------------------------------------

    def next_opening(self, moment: datetime) -> datetime:
        """``moment`` itself when inside a session (open <= t < close), else the next opening."""
        current = _aware(moment, self.tz, "moment")
        for opening, closing in self.sessions_on(current.date()):
            if current < opening:
                return opening
            if current < closing:
                return current
        return self.opening_of_day(self.next_working_day(current.date()))

    def outside_hours_reason(self, moment: datetime) -> tuple[str, str] | None:
        """Why ``moment`` is outside office hours as ``(reason, name)``, or None when inside."""
        current = _aware(moment, self.tz, "moment")
        day_reason = self.non_working_reason(current.date())
        if day_reason is not None:
            return day_reason
        sessions = self.sessions_on(current.date())
        if current < sessions[0][0]:
            return REASON_BEFORE_OPENING, ""
        if current >= sessions[-1][1]:
            return REASON_AFTER_CLOSE, ""
        if any(opening <= current < closing for opening, closing in sessions):
            return None
        return REASON_BREAK, ""

    def working_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Office time in [start, end); zero when ``end <= start``.

        The first and last days count their sessions' overlap with the span; every working day
        strictly between them counts a full day, and those are counted by arithmetic (whole
        weeks, then the exceptions in the span), not day by day: the overdue list asks this
        of every late dossier, some late by years."""
        start = _aware(start, self.tz, "start")
        end = _aware(end, self.tz, "end")
        if end <= start:
            return timedelta()
        first, last = start.date(), end.date()
        if (last - first).days <= _SHORT_SPAN_DAYS:
            return self._working_time_day_by_day(start, end)
        return (
            self._time_on(first, start, end)
            + self._time_on(last, start, end)
            + self.hours.day_length * self.working_days_strictly_between(first, last)
        )

    def working_days_strictly_between(self, first: date, last: date) -> int:
        """How many working days lie strictly after ``first`` and before ``last``."""
        days = (last - first).days - 1
        if days <= 0:
            return 0
        weeks, rest = divmod(days, 7)
        weekdays = self.hours.weekdays
        count = weeks * len(weekdays)
        following = first.weekday() + 1
        count += sum(1 for i in range(rest) if (following + i) % 7 in weekdays)
        low, high = first + timedelta(days=1), last - timedelta(days=1)
        off, extra = self._sorted_exceptions
        # A day off on an office weekday takes a day away; a make-up day outside them adds one
        # (the two lists never share a date: __post_init__).
        count -= sum(
            1
            for day in off[bisect_left(off, low) : bisect_right(off, high)]
            if day.weekday() in weekdays
        )
        count += sum(
            1
            for day in extra[bisect_left(extra, low) : bisect_right(extra, high)]
            if day.weekday() not in weekdays
        )
        return count

    @cached_property
    def _sorted_exceptions(self) -> tuple[list[date], list[date]]:
        return sorted(self.days_off), sorted(self.extra_working_days)

    def _time_on(self, day: date, start: datetime, end: datetime) -> timedelta:
        """Office time of ``day`` inside [start, end)."""
        total = timedelta()
        for opening, closing in self.sessions_on(day):
            overlap = min(closing, end) - max(opening, start)
            if overlap > timedelta():
                total += overlap
        return total

    def _working_time_day_by_day(self, start: datetime, end: datetime) -> timedelta:
        total = timedelta()
        day = start.date()
        while day <= end.date():
            total += self._time_on(day, start, end)
            day += timedelta(days=1)
        return total

    def add_working_time(self, start: datetime, amount: timedelta) -> datetime:
        """The moment ``amount`` of office time after ``start``.

        When the amount runs out exactly at a session's close, the result is that close (11:30,
        17:30), not the next opening. A zero amount returns ``start`` unchanged.
        """
        current = _aware(start, self.tz, "start")
        if amount < timedelta():
            raise DeadlineError(f"Cannot add a negative amount of working time: {amount}.")
        if amount == timedelta():
            return current
        remaining = amount
        full_day = self.hours.day_length
        day = current.date()
        for _ in range(remaining // full_day + _MAX_DAYS_WITHOUT_WORK):
            sessions = self.sessions_on(day)
            if sessions:
                if current <= sessions[0][0] and remaining > full_day:
                    remaining -= full_day  # the whole day is used up: skip it in one step
                else:
                    for opening, closing in sessions:
                        if closing <= current:
                            continue
                        begin = max(opening, current)
                        available = closing - begin
                        if remaining <= available:
                            return begin + remaining
                        remaining -= available
            day = self.first_working_day(day + timedelta(days=1))
            current = self.opening_of_day(day)
        raise InvalidCalendarError(f"Cannot place {amount} of working time after {start}.")


def _as_decimal(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise InvalidTimeLimitError(f"A time limit is a number, not {value!r}.")
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float | str):
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise InvalidTimeLimitError(f"A time limit is a number, not {value!r}.") from None
    else:
        raise InvalidTimeLimitError(f"A time limit is a number, not {value!r}.")
    if not number.is_finite():
        raise InvalidTimeLimitError(f"A time limit must be a finite number, not {value!r}.")
    return number


@dataclass(frozen=True)
class TimeLimit:
    """A procedure's time limit: ``value`` (> 0, fractions allowed) in ``unit``.

    ``same_day`` procedures ("trong ngày") are ready at the close of the day of receipt, or of
    the next working day when received after the cut-off; their value and unit are then only
    informative.
    """

    value: Decimal
    unit: str
    same_day: bool = False

    def __post_init__(self) -> None:
        value = _as_decimal(self.value)
        if value <= 0:
            raise InvalidTimeLimitError(f"A time limit must be greater than zero, got {value}.")
        if self.unit not in TIME_LIMIT_UNITS:
            known = ", ".join(sorted(TIME_LIMIT_UNITS))
            raise InvalidTimeLimitError(
                f"Unknown time limit unit {self.unit!r}; expected one of {known}."
            )
        if self.unit == CALENDAR_DAYS and not self.same_day and value != value.to_integral_value():
            raise InvalidTimeLimitError(
                f"A limit in calendar days must be a whole number of days, got {value}."
            )
        object.__setattr__(self, "value", value)
        object.__setattr__(self, "unit", str(self.unit))
        object.__setattr__(self, "same_day", bool(self.same_day))

    def working_time(self, hours: OfficeHours) -> timedelta:
        """Office time of a limit in working days or hours, to the microsecond."""
        if self.unit == WORKING_DAYS:
            per_unit = hours.day_length
        elif self.unit == WORKING_HOURS:
            per_unit = _ONE_HOUR
        else:
            raise InvalidTimeLimitError("A limit in calendar days has no office-time length.")
        microseconds = (self.value * (per_unit // _MICROSECOND)).to_integral_value(ROUND_HALF_UP)
        return timedelta(microseconds=int(microseconds))


@dataclass(frozen=True)
class Pause:
    """A supplement request: the clock stops from ``start`` until ``end``."""

    start: datetime
    end: datetime | None = None  # None: still paused, counted up to `now`


@dataclass(frozen=True)
class TraceStep:
    """One readable step of a deadline computation. ``params`` holds JSON values only."""

    kind: str
    at: datetime | None
    params: Mapping[str, Any] = field(default_factory=dict, hash=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "at": self.at.isoformat() if self.at is not None else None,
            "params": _json_copy(self.params),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TraceStep:
        try:
            kind = str(data["kind"])
        except KeyError:
            raise DeadlineError("A trace step needs a kind.") from None
        at = data.get("at")
        if at is None or isinstance(at, datetime):
            moment = at
        else:
            try:
                moment = datetime.fromisoformat(str(at))
            except ValueError:
                raise DeadlineError(f"Not an ISO 8601 moment in a trace step: {at!r}.") from None
        return cls(kind=kind, at=moment, params=_json_copy(data.get("params") or {}))


def _plain(number: Decimal) -> str:
    """``Decimal("1.00")`` -> "1", ``Decimal("0.50")`` -> "0.5", never an exponent."""
    return format(number.normalize(), "f")


def _json_copy(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(key): _json_copy(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_copy(item) for item in value]
    return value


@dataclass(frozen=True)
class Deadline:
    received_at: datetime
    start_at: datetime  # when the clock started
    due_at: datetime  # timezone-aware, in calendar.tz
    paused: timedelta  # total office time spent paused (counted towards the due date)
    trace: tuple[TraceStep, ...]

    def trace_as_json(self) -> list[dict[str, Any]]:
        return [step.to_dict() for step in self.trace]


def _days(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def _day_steps(
    calendar: WorkingCalendar, *, skipped_from: date, makeup_from: date, until: date
) -> list[TraceStep]:
    """Non-working days in [skipped_from, until] and make-up days in [makeup_from, until]."""
    steps: list[TraceStep] = []
    for day in _days(min(skipped_from, makeup_from), until):
        if day >= makeup_from and calendar.is_makeup_day(day):
            steps.append(
                TraceStep(
                    STEP_MAKEUP_DAY,
                    calendar.opening_of_day(day),
                    {
                        "date": day.isoformat(),
                        "weekday": day.weekday(),
                        "name": calendar.extra_working_days[day],
                    },
                )
            )
        elif day >= skipped_from and (reason := calendar.non_working_reason(day)) is not None:
            steps.append(
                TraceStep(
                    STEP_DAY_SKIPPED,
                    None,
                    {
                        "date": day.isoformat(),
                        "weekday": day.weekday(),
                        "reason": reason[0],
                        "name": reason[1],
                    },
                )
            )
    return steps


def _pause_intervals(
    pauses: Sequence[Pause], *, tz: ZoneInfo, received: datetime, now: datetime | None
) -> list[tuple[Pause, datetime, datetime]]:
    intervals = []
    for pause in pauses:
        start = _aware(pause.start, tz, "pause start")
        if pause.end is not None:
            end = _aware(pause.end, tz, "pause end")
            if end < start:
                raise DeadlineError(
                    f"A pause cannot end ({end.isoformat()}) "
                    f"before it starts ({start.isoformat()})."
                )
        else:
            # An open pause runs up to `now`; without one, up to the present moment.
            end = now if now is not None else datetime.now(tz)
        intervals.append((pause, max(start, received), max(end, start, received)))
    intervals.sort(key=lambda item: (item[1], item[2]))
    return intervals


def _apply_pauses(
    calendar: WorkingCalendar,
    base_due: datetime,
    pauses: Sequence[Pause],
    *,
    received: datetime,
    now: datetime | None,
) -> tuple[datetime, timedelta, list[TraceStep]]:
    """Move ``base_due`` forward by the office time spent paused.

    A pause that begins after the (already extended) deadline does not move it: the dossier was
    overdue before the applicant was asked for anything. One that begins at the due moment
    itself does (the dossier was still in time then, as ``open_timeliness`` and the reports
    judge it). Overlapping pauses count their common time once.
    """
    due = base_due
    counted = timedelta()
    steps: list[TraceStep] = []
    covered_until: datetime | None = None
    for pause, start, end in _pause_intervals(pauses, tz=calendar.tz, received=received, now=now):
        office_time = calendar.working_time_between(start, end)
        new_start = start if covered_until is None else max(start, covered_until)
        extension = calendar.working_time_between(new_start, end)
        applies = start <= due
        if applies and extension > timedelta():
            due = calendar.add_working_time(due, extension)
            counted += extension
        covered_until = end if covered_until is None else max(covered_until, end)
        steps.append(
            TraceStep(
                STEP_PAUSE,
                start,
                {
                    "start": start.isoformat(),
                    "end": end.isoformat(),
                    "open": pause.end is None,
                    "office_seconds": int(office_time.total_seconds()),
                    "counted": applies,
                },
            )
        )
    return due, counted, steps


def compute_deadline(
    *,
    received_at: datetime,
    limit: TimeLimit,
    calendar: WorkingCalendar,
    pauses: Sequence[Pause] = (),
    now: datetime | None = None,
) -> Deadline:
    """When a dossier received at ``received_at`` with ``limit`` is due on ``calendar``.

    - working days / hours: the office time of the limit counted forward from the receipt; a
      receipt outside office hours counts from the next opening;
    - calendar days: the close of (receipt date + N days), moved to the close of the next working
      day when that day is not one;
    - same day: the close of the day of receipt, or of the next working day when received after
      the cut-off, after close or on a non-working day;
    - pauses (supplement requests) move the result forward by the office time spent paused.
    """
    tz = calendar.tz
    received = _aware(received_at, tz, "received_at")
    if now is not None:
        now = _aware(now, tz, "now")
    hours = calendar.hours
    trace: list[TraceStep] = [
        TraceStep(
            STEP_RECEIVED, received, {"working_day": calendar.is_working_day(received.date())}
        )
    ]
    limit_params: dict[str, Any] = {
        "value": _plain(limit.value),
        "unit": limit.unit,
        "same_day": limit.same_day,
    }

    received_day = received.date()
    last_day: date | None = None  # calendar days only
    if limit.same_day:
        cutoff = datetime.combine(received_day, hours.same_day_cutoff, tzinfo=tz)
        open_day = calendar.is_working_day(received_day) and received < calendar.close_of_day(
            received_day
        )
        if open_day and received <= cutoff:
            start = calendar.next_opening(received)
            if start != received:
                trace.append(_start_moved(calendar, received, start))
        else:
            due_day = calendar.next_working_day(received_day)
            start = calendar.opening_of_day(due_day)
            if open_day:
                trace.append(
                    TraceStep(
                        STEP_CUTOFF,
                        start,
                        {
                            "cutoff": hours.same_day_cutoff.strftime("%H:%M"),
                            "received_at": received.isoformat(),
                            "date": due_day.isoformat(),
                        },
                    )
                )
            else:
                trace.append(_start_moved(calendar, received, start))
        base_due = calendar.close_of_day(start.date())
        trace.append(TraceStep(STEP_LIMIT, start, limit_params))
        skipped_from = received_day + timedelta(days=1)
        makeup_from = start.date()
    elif limit.unit == CALENDAR_DAYS:
        start = received
        last_day = received_day + timedelta(days=int(limit.value))
        limit_params["last_day"] = last_day.isoformat()
        trace.append(TraceStep(STEP_LIMIT, start, limit_params))
        due_day = calendar.first_working_day(last_day)
        base_due = calendar.close_of_day(due_day)
        skipped_from = makeup_from = last_day
    else:
        start = calendar.next_opening(received)
        if start != received:
            trace.append(_start_moved(calendar, received, start))
        amount = limit.working_time(hours)
        limit_params["office_seconds"] = int(amount.total_seconds())
        trace.append(TraceStep(STEP_LIMIT, start, limit_params))
        base_due = calendar.add_working_time(start, amount)
        skipped_from = received_day + timedelta(days=1)
        makeup_from = start.date()

    # The deadline before pauses, with the days it skips; then the pauses and what they add.
    trace.extend(
        _day_steps(
            calendar, skipped_from=skipped_from, makeup_from=makeup_from, until=base_due.date()
        )
    )
    if last_day is not None and base_due.date() != last_day:
        trace.append(
            TraceStep(
                STEP_MOVED_TO_WORKING_DAY,
                base_due,
                {"from": last_day.isoformat(), "to": base_due.date().isoformat()},
            )
        )
    due, paused, pause_steps = _apply_pauses(calendar, base_due, pauses, received=received, now=now)
    trace.extend(pause_steps)
    after_base = base_due.date() + timedelta(days=1)
    trace.extend(
        _day_steps(calendar, skipped_from=after_base, makeup_from=after_base, until=due.date())
    )
    trace.append(TraceStep(STEP_DUE, due, {"date": due.date().isoformat()}))
    return Deadline(
        received_at=received, start_at=start, due_at=due, paused=paused, trace=tuple(trace)
    )


def _start_moved(calendar: WorkingCalendar, received: datetime, start: datetime) -> TraceStep:
    reason, name = calendar.outside_hours_reason(received) or (REASON_AFTER_CLOSE, "")
    return TraceStep(
        STEP_START_MOVED,
        start,
        {"received_at": received.isoformat(), "reason": reason, "name": name},
    )
