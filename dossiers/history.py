"""Synthetic history: months or years of realistic past dossiers, for the demo and benchmarks.

The shape follows the Văn Yên report of 2022 (shared/reference): about 15% of dossiers online,
a few percent by post, the district's counter taking about 60% of the volume and its communes the
rest; about 99% resolved early, under 1% on the due date, a handful late; a few withdrawn or
stopped, refusal decisions, digitized documents, ratings almost all (very) satisfied. Dossiers of
the last days before ``now`` are still open, a few of them overdue or awaiting a supplement.

Everything is deterministic for a given world, range, count, seed and ``now``: a seeded
``random.Random``, never the wall clock. What the rules define is computed by the code that
defines it: codes by ``intake.format_code``, due dates and traces by the deadline engine
(``procedures.deadlines.compute_deadline``) on calendars read once for the whole range,
timeliness by ``dossiers.workflow`` (the classifier of the services and the import).

Two entry points:

* :func:`iter_history_rows` yields :class:`HistoryRow` tuples whose ``dossier`` field follows
  :data:`DOSSIER_COLUMNS` (and events, pause, rating their ``*_COLUMNS``): what COPY loads
  (``bench/generate.py``);
* :func:`create_history` stores them (multi-row INSERTs, as ``bulk_create`` sends them) and
  raises the day counters, so that live intake goes on numbering after them (``seed_demo``).
"""

from __future__ import annotations

import bisect
import json
import random
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import partial
from itertools import islice
from typing import Any, NamedTuple, TypeVar

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import DateTimeField, JSONField, Model

from portal.choices import Role, UnitLevel
from portal.models import Membership, Unit
from portal.text import search_key
from procedures.choices import OnlineLevel
from procedures.deadlines import Pause as DeadlinePause
from procedures.deadlines import TimeLimit, WorkingCalendar, compute_deadline
from procedures.models import Procedure
from procedures.selectors import time_limit_of, working_calendars

from .choices import Action, Channel, RatingScore, Status
from .models import DayCounter, Dossier, DossierEvent, Pause, Rating
from .services.intake import format_code
from .workflow import open_timeliness, resolution_timeliness

# --- Columns ------------------------------------------------------------------------------------

# Every column of Dossier but ``id``, in the model's order (a test keeps this in step).
DOSSIER_COLUMNS: tuple[str, ...] = tuple(
    """code procedure_id unit_id channel postal_tracking_no applicant_name applicant_id_number
    applicant_phone applicant_email applicant_address applicant_search applicant_user_id note
    status timeliness submitted_at received_at received_by_id assigned_to_id due_at
    deadline_trace paused_at promised_at apology_reason apologized_at resolved_at result_summary
    returned_at closed_at close_reason submission_key due_soon_warned_at digitized_intake
    digitized_result created_at updated_at""".split()  # noqa: SIM905 - a long list, compact
)
# The other tables, without ``id`` and ``dossier_id`` (given by whoever stores the dossier).
EVENT_COLUMNS = ("at", "by_id", "action", "from_status", "to_status", "note", "data")
PAUSE_COLUMNS = ("started_at", "ended_at", "missing_documents", "reason", "requested_by_id")
RATING_COLUMNS = ("score", "comment", "created_at")

# The first event of every generated dossier carries this in its data: how seed_demo knows the
# history is there already.
HISTORY_MARK = "history"

# --- Proportions --------------------------------------------------------------------------------

LEVEL_SHARE = {UnitLevel.PROVINCE: 0.03, UnitLevel.DISTRICT: 0.60, UnitLevel.COMMUNE: 0.40}
ONLINE_SHARE = 0.15  # of dossiers (9,140 of 62,955 in the article)
POSTAL_SHARE = 0.03
SAME_DAY_SHARE = 0.006  # of volume: same-day procedures can only be on time (or late)
ON_TIME_RATE = 0.003  # resolved on the due date although there was time to be early
LATE_RATE = 0.0003
REJECTED_RATE = 0.012  # refusal decisions (a result: counted as resolved)
CLOSED_RATE = 0.003  # withdrawn or stopped
REFUSED_ONLINE_RATE = 0.005  # online submissions refused at intake (never received)
SUPPLEMENT_RATE = 0.02  # asked for missing documents once
STUCK_RATE = 0.01  # due within the last STUCK_DAYS and still not resolved: overdue now
STUCK_DAYS = 15
RETURNED_RATE = 0.97
RATED_RATE = 0.25  # of returned dossiers
DIGITIZED_INTAKE_RATE = 0.03
DIGITIZED_RESULT_RATE = 0.03
WEEKEND_SUBMISSION_RATE = 0.15  # of online submissions, per day off before a working day
RATINGS = (
    (RatingScore.VERY_SATISFIED, 0.62),
    (RatingScore.SATISFIED, 0.375),
    (RatingScore.NEUTRAL, 0.005),
)
WEEKDAY_VOLUME = (1.25, 1.05, 1.0, 1.0, 0.85, 0.6, 0.6)  # Monday … Sunday (make-up days)
MONTH_VOLUME = (1.15, 0.8, 1.05, 1.0, 1.0, 0.95, 1.0, 1.05, 1.0, 1.0, 1.0, 1.1)

# --- Demo content (Vietnamese, not translated) --------------------------------------------------

FAMILY_NAMES = tuple(
    "Nguyễn Trần Lê Phạm Hoàng Vũ Đặng Bùi Đỗ Hà Lò Triệu Bàn Giàng Lương Đinh Ngô Dương".split()  # noqa: SIM905
)
MALE_MIDDLE = ("Văn", "Đức", "Minh", "Quang", "Hữu", "Xuân", "Công", "A")
FEMALE_MIDDLE = ("Thị", "Ngọc", "Thu", "Thanh", "Kim", "Hồng")
MALE_GIVEN = tuple(
    "An Bình Cường Dũng Hải Hùng Khoa Long Minh Nam Páo Phong Quý Sơn Thắng Tuấn Tùng Vinh".split()  # noqa: SIM905
)
FEMALE_GIVEN = tuple(
    "Châm Dung Hằng Hoa Hương Lan Linh Mai Oanh Sen Thảo Trang Vân Yến".split()  # noqa: SIM905
)
PHONE_PREFIXES = ("096", "097", "098", "086", "091", "094", "088", "032", "035", "039", "070")
RESULT_TEXT = "Đã giải quyết, có kết quả"
REJECTION_REASONS = (
    "Không đủ điều kiện giải quyết theo quy định",
    "Hồ sơ không thuộc thẩm quyền giải quyết, đã hướng dẫn công dân",
)
REFUSAL_REASONS = (
    "Hồ sơ nộp trực tuyến không đúng thủ tục hành chính cần thực hiện",
    "Thành phần hồ sơ đính kèm không đọc được, đề nghị nộp lại",
)
WITHDRAWAL_REASONS = (
    "Công dân đề nghị rút hồ sơ",
    "Người nộp xin rút hồ sơ để bổ sung giấy tờ và nộp lại sau",
)
STOP_REASONS = (
    "Dừng giải quyết do phát sinh tranh chấp liên quan",
    "Dừng giải quyết theo đề nghị của cơ quan có thẩm quyền",
)
SUPPLEMENT_MISSING = (
    "Bản sao Giấy khai sinh có chứng thực",
    "Bản sao Căn cước công dân của người ủy quyền",
    "Sơ đồ vị trí thửa đất",
)
SUPPLEMENT_REASON = "Thành phần hồ sơ chưa đầy đủ theo quy định."


_T = TypeVar("_T")

# --- The world the history happens in ----------------------------------------------------------


@dataclass(frozen=True)
class UnitPlan:
    unit: Unit
    pk: int
    level: str
    calendar: int  # index into HistoryWorld.calendars
    weight: float  # share of the whole volume
    counters: tuple[int, ...]  # counter officers (user ids) who receive its dossiers
    processors: tuple[int, ...]  # processing officers (or managers) who decide them
    places: tuple[str, ...]  # where its applicants live ("xã An Thịnh")


@dataclass(frozen=True)
class ProcedurePlan:
    pk: int
    level: str
    limit: int  # index into HistoryWorld.limits
    online: bool
    postal: bool
    weight: float  # popularity within its level


@dataclass(frozen=True)
class HistoryWorld:
    """What the generator needs from the database, read once: the units with their staff and
    calendars, the active procedures of their levels with their time limits."""

    units: tuple[UnitPlan, ...]
    procedures: tuple[ProcedurePlan, ...]
    limits: tuple[TimeLimit, ...]
    calendars: tuple[WorkingCalendar, ...]
    start: date  # the calendars cover [start, end]
    end: date


def _nearest(chain: Sequence[int], members: Mapping[int, Sequence[int]]) -> tuple[int, ...]:
    """The users of the unit nearest to the end of ``chain`` (the unit itself) that has any."""
    for unit_id in reversed(chain):
        if members.get(unit_id):
            return tuple(members[unit_id])
    return ()


def history_world(*, units: Iterable[Unit], start: date, end: date, seed: int = 0) -> HistoryWorld:
    """Read what a history of ``units`` between ``start`` and ``end`` needs, in a few queries:
    the calendars once for the whole range (and the deadlines past its end), the procedures,
    the staff. Popularity of procedures and units is drawn from ``seed``."""
    units = sorted(units, key=lambda u: u.path)
    if not units:
        raise ValueError("A history needs at least one unit.")
    rng = random.Random(f"world:{seed}")
    calendar_end = end + timedelta(days=400)  # the longest limit, a pause, the return
    by_unit = working_calendars(units=units, start=start - timedelta(days=7), end=calendar_end)
    calendars: list[WorkingCalendar] = []
    calendar_index: dict[int, int] = {}
    for unit in units:
        calendar = by_unit[unit.pk]
        if calendar not in calendars:
            calendars.append(calendar)
        calendar_index[unit.pk] = calendars.index(calendar)

    chains = {u.pk: [int(p) for p in u.path.strip("/").split("/") if p] for u in units}
    ancestors = {pk for chain in chains.values() for pk in chain}
    members: dict[str, dict[int, list[int]]] = {role: {} for role in Role.values}
    for user_id, unit_id, role in (
        Membership.objects.filter(unit_id__in=ancestors, user__is_active=True)
        .order_by("unit_id", "user_id")
        .values_list("user_id", "unit_id", "role")
    ):
        members[role].setdefault(unit_id, []).append(user_id)

    levels = [level for level in UnitLevel.values if any(u.level == level for u in units)]
    procedures = list(
        Procedure.objects.active()
        .filter(level__in=levels)
        .order_by("code")
        .only(
            "pk",
            "level",
            "time_limit_value",
            "time_limit_unit",
            "same_day",
            "online_level",
            "postal_allowed",
            "code",
        )
    )
    limits: list[TimeLimit] = []
    plans: list[ProcedurePlan] = []
    popularity = {p.pk: min(rng.paretovariate(1.1), 25.0) for p in procedures}
    for level in levels:
        of_level = [p for p in procedures if p.level == level]
        same_day = [p for p in of_level if p.same_day]
        others = [p for p in of_level if not p.same_day]
        for group, share in (
            (same_day, SAME_DAY_SHARE if others else 1.0),
            (others, 1.0 - SAME_DAY_SHARE if same_day else 1.0),
        ):
            total = sum(popularity[p.pk] for p in group)
            for procedure in group:
                limit = time_limit_of(procedure)
                if limit not in limits:
                    limits.append(limit)
                plans.append(
                    ProcedurePlan(
                        pk=procedure.pk,
                        level=level,
                        limit=limits.index(limit),
                        online=procedure.online_level != OnlineLevel.NONE,
                        postal=procedure.postal_allowed,
                        weight=share * popularity[procedure.pk] / total,
                    )
                )

    served = [u for u in units if any(p.level == u.level for p in plans)]
    if not served:
        raise ValueError("No active procedure is handled at the level of these units.")
    level_share = {
        level: LEVEL_SHARE.get(UnitLevel(level), 0.0)
        for level in levels
        if any(u.level == level for u in served)
    }
    level_total = sum(level_share.values())
    size = {u.pk: (1.0 if u.level != UnitLevel.COMMUNE else rng.uniform(0.5, 1.5)) for u in served}
    communes = [u for u in units if u.level == UnitLevel.COMMUNE]
    unit_plans = []
    for unit in served:
        peers = sum(size[u.pk] for u in served if u.level == unit.level)
        below = [c for c in communes if c.path.startswith(unit.path)] or [unit]
        unit_plans.append(
            UnitPlan(
                unit=unit,
                pk=unit.pk,
                level=unit.level,
                calendar=calendar_index[unit.pk],
                weight=level_share[unit.level] / level_total * size[unit.pk] / peers,
                counters=_nearest(chains[unit.pk], members[Role.COUNTER_OFFICER]),
                processors=_nearest(chains[unit.pk], members[Role.PROCESSING_OFFICER])
                or _nearest(chains[unit.pk], members[Role.MANAGER]),
                places=tuple(c.name.removeprefix("UBND ").strip() for c in below),
            )
        )
    return HistoryWorld(
        units=tuple(unit_plans),
        procedures=tuple(plans),
        limits=tuple(limits),
        calendars=tuple(calendars),
        start=start,
        end=calendar_end,
    )


# --- Office time as one number ------------------------------------------------------------------


class _Clock:
    """A calendar's office time as a line: a moment in office hours is ``working day index ×
    day length + seconds since that day's opening``. Used only to place random moments (when a
    dossier was started, decided, returned) in office hours quickly; due dates come from the
    deadline engine. Working days and sessions are the calendar's own."""

    def __init__(self, calendar: WorkingCalendar, start: date, end: date):
        self.tz = calendar.tz
        self.first = start.toordinal()
        self.days: list[date] = []
        self.index: list[int] = []  # per date since `start`: first working day on or after it
        day = start
        while day <= end:
            self.index.append(len(self.days))
            if calendar.is_working_day(day):
                self.days.append(day)
            day += timedelta(days=1)
        self.sessions: list[tuple[int, int]] = []  # (opening, closing) in seconds of the day
        for opening, closing in calendar.hours.sessions:
            self.sessions.append((_seconds(opening), _seconds(closing)))
        self.length = sum(closing - opening for opening, closing in self.sessions)
        self.midnights = [datetime(d.year, d.month, d.day, tzinfo=self.tz) for d in self.days]

    def day_index(self, day: date) -> int:
        """The index of ``day`` if it is a working day, else of the next one."""
        return self.index[day.toordinal() - self.first]

    def is_working_day(self, day: date) -> bool:
        i = self.day_index(day)
        return i < len(self.days) and self.days[i] == day

    def position(self, moment: datetime) -> int:
        """Office seconds from the start of the line to ``moment`` (a moment outside office
        hours counts as the next opening; a session's close as its end)."""
        local = moment.astimezone(self.tz)
        day = local.date()
        i = self.day_index(day)
        if i >= len(self.days) or self.days[i] != day:
            return i * self.length
        seconds = local.hour * 3600 + local.minute * 60 + local.second
        done = 0
        for opening, closing in self.sessions:
            if seconds < opening:
                return i * self.length + done
            if seconds <= closing:
                return i * self.length + done + seconds - opening
            done += closing - opening
        return (i + 1) * self.length

    def moment(self, position: int, *, at_close: bool = True) -> datetime:
        """The moment of ``position``. A position between two sessions is the close of the
        first (``at_close``) or the opening of the next (a receipt must be inside hours)."""
        i, seconds = divmod(position, self.length)
        if at_close and seconds == 0 and i > 0:
            i, seconds = i - 1, self.length
        done = 0
        for opening, closing in self.sessions:
            span = closing - opening
            if seconds < done + span or (at_close and seconds == done + span):
                return self.midnights[i] + timedelta(seconds=opening + seconds - done)
            done += span
        raise ValueError(f"No office time at position {position}.")  # pragma: no cover

    def day_start(self, position: int) -> int:
        return position - position % self.length


def _seconds(moment: time) -> int:
    return moment.hour * 3600 + moment.minute * 60 + moment.second


# --- The generator ------------------------------------------------------------------------------


class HistoryRow(NamedTuple):
    """One generated dossier: its columns (:data:`DOSSIER_COLUMNS`), its events
    (:data:`EVENT_COLUMNS`, in order), its supplement request and its rating if any, and the
    unit, day and number of its code (for the day counters)."""

    unit_id: int
    day: date
    number: int
    dossier: tuple[Any, ...]
    events: tuple[tuple[Any, ...], ...]
    pause: tuple[Any, ...] | None
    rating: tuple[Any, ...] | None


@dataclass
class _Draft:
    unit: UnitPlan
    procedure: ProcedurePlan
    channel: str
    day: date  # of the code: the day of the receipt, or of the online submission
    moment: datetime  # what the code's sequence follows
    submitted_at: datetime | None
    received: int  # office position of the receipt (of the acceptance, online)
    postal_tracking_no: str = ""


@dataclass
class _Story:
    """A dossier's columns as its story is told, event by event."""

    counter: int | None
    processor: int | None
    trace: Any
    status: str = Status.RECEIVED
    timeliness: str = ""
    received_at: datetime | None = None
    received_by: int | None = None
    assigned_to: int | None = None
    due_at: datetime | None = None
    paused_at: datetime | None = None
    resolved_at: datetime | None = None
    result_summary: str = ""
    returned_at: datetime | None = None
    closed_at: datetime | None = None
    close_reason: str = ""
    digitized_intake: bool = False
    digitized_result: bool = False
    events: list[tuple[Any, ...]] = field(default_factory=list)
    pause: tuple[Any, ...] | None = None
    rating: tuple[Any, ...] | None = None


def _event_time(event: tuple[Any, ...]) -> datetime:
    moment: datetime = event[0]
    return moment


@dataclass
class _Cache:
    deadlines: dict[tuple[int, int, datetime], tuple[datetime, list[dict[str, Any]], str]] = field(
        default_factory=dict
    )
    names: dict[str, str] = field(default_factory=dict)


class _Generator:
    def __init__(
        self,
        world: HistoryWorld,
        *,
        start: date,
        end: date,
        count: int,
        seed: int,
        now: datetime,
        first_numbers: Mapping[tuple[int, date], int],
        events: bool,
        json_text: bool,
        time_step: int,
    ):
        if end < start:
            raise ValueError("The history ends before it starts.")
        if start < world.start or end > world.end:
            raise ValueError("The world's calendars do not cover this range.")
        if timedelta(seconds=time_step) > timedelta(hours=1) or 3600 % time_step:
            raise ValueError("The time step divides an hour.")
        self.world = world
        self.start, self.end, self.count = start, end, count
        self.rng = random.Random(f"history:{seed}")
        self.random = self.rng.random
        self.now = now
        self.first_numbers = first_numbers
        self.with_events = events
        self.json_text = json_text
        self.step = time_step
        self.clocks = [_Clock(c, world.start, world.end) for c in world.calendars]
        self.cache = _Cache()
        self.tracking = 0
        self.tz = world.calendars[0].tz
        self.units = list(world.units)
        self.unit_weights = _cumulative(u.weight for u in self.units)
        levels = sorted({u.level for u in self.units})
        self.procedures = {lv: [p for p in world.procedures if p.level == lv] for lv in levels}
        self.procedure_weights = {
            lv: _cumulative(p.weight for p in self.procedures[lv]) for lv in levels
        }
        self._channel_odds()
        self.reference = self.clocks[self.units[0].calendar]

    def _channel_odds(self) -> None:
        """P(online | procedure offered online) and P(postal | by post allowed, not online) such
        that the whole volume has about ONLINE_SHARE online and POSTAL_SHARE by post."""
        online = postal_after = 0.0
        for unit in self.units:
            for procedure in self.procedures[unit.level]:
                weight = unit.weight * procedure.weight
                online += weight if procedure.online else 0.0
        self.p_online = min(0.9, ONLINE_SHARE / online) if online else 0.0
        for unit in self.units:
            for procedure in self.procedures[unit.level]:
                weight = unit.weight * procedure.weight
                if procedure.postal:
                    postal_after += weight * (1 - self.p_online if procedure.online else 1)
        self.p_postal = min(0.5, POSTAL_SHARE / postal_after) if postal_after else 0.0

    def _pick(self, items: Sequence[_T]) -> _T:
        return items[int(self.random() * len(items))]

    def _between(self, low: int, high: int) -> int:
        """An integer in [low, high): ``randrange`` without its checks (a third of the time)."""
        return low + int(self.random() * (high - low))

    def _uniform(self, low: float, high: float) -> float:
        return low + (high - low) * self.random()

    # Allocation ---------------------------------------------------------------------------

    def _batches(self) -> list[tuple[date, list[date], int]]:
        """The working days of the range (on the first unit's calendar), each with the days
        off just before it (online submissions only) and its number of dossiers: weighted by
        weekday and month, exactly ``count`` in all."""
        clock = self.reference
        days: list[tuple[date, list[date]]] = []
        off: list[date] = []
        day = self.start
        while day <= self.end:
            if clock.is_working_day(day):
                days.append((day, off))
                off = []
            else:
                off.append(day)
            day += timedelta(days=1)
        if not days:
            raise ValueError("No working day in this range.")
        weights = [
            WEEKDAY_VOLUME[d.weekday()] * MONTH_VOLUME[d.month - 1] * self.rng.uniform(0.8, 1.2)
            for d, _off in days
        ]
        total = sum(weights)
        exact = [self.count * w / total for w in weights]
        counts = [int(x) for x in exact]
        missing = self.count - sum(counts)
        by_remainder = sorted(range(len(days)), key=lambda i: exact[i] - counts[i], reverse=True)
        for i in by_remainder[:missing]:
            counts[i] += 1
        return [(d, before, n) for (d, before), n in zip(days, counts, strict=True)]

    # Drafts: who, what, how, when -------------------------------------------------------------

    def _unit(self, day: date) -> UnitPlan:
        for _attempt in range(20):
            unit = self.units[bisect.bisect(self.unit_weights, self.rng.random())]
            if self.clocks[unit.calendar].is_working_day(day):
                return unit
        return unit  # a day off at every unit drawn: its receipt moves to the next opening

    def _draft(self, day: date, days_off: list[date]) -> _Draft:
        rng = self.rng
        unit = self._unit(day)
        procedures = self.procedures[unit.level]
        procedure = procedures[
            bisect.bisect(self.procedure_weights[unit.level], rng.random() * 0.999999)
        ]
        clock = self.clocks[unit.calendar]
        r = rng.random()
        if procedure.online and r < self.p_online:
            submitted_day = day
            if days_off and rng.random() < WEEKEND_SUBMISSION_RATE * len(days_off):
                submitted_day = self._pick(days_off)
            midnight = datetime(
                submitted_day.year, submitted_day.month, submitted_day.day, tzinfo=self.tz
            )
            submitted = midnight + timedelta(seconds=self._between(6 * 3600, 23 * 3600))
            wait = self._between(300, 3 * 3600)  # office seconds until a counter accepts it
            received = self._on_step(clock.position(submitted) + wait)
            return _Draft(
                unit, procedure, Channel.ONLINE, submitted_day, submitted, submitted, received
            )
        channel = Channel.IN_PERSON
        tracking = ""
        if procedure.postal and rng.random() < self.p_postal:
            channel = Channel.POSTAL
            self.tracking += 1
            tracking = f"EL{(7919 * self.tracking) % 1_000_000_000:09d}VN"
        # Busier in the morning: a skewed draw over the day's office time.
        offset = int(clock.length * rng.random() ** 1.3) // self.step * self.step
        received = clock.day_index(day) * clock.length + offset
        moment = clock.moment(received, at_close=False)
        return _Draft(unit, procedure, channel, day, moment, None, received, tracking)

    def _on_step(self, position: int) -> int:
        """The first position on the time grid at or after ``position``, inside office hours
        (a receipt is never at a session's close)."""
        step = self.step
        return -(-position // step) * step

    # Rows -----------------------------------------------------------------------------------

    def rows(self) -> Iterator[HistoryRow]:
        numbers: dict[tuple[int, date], int] = {}
        for day, days_off, n in self._batches():
            drafts = [self._draft(day, days_off) for _ in range(n)]
            drafts.sort(key=lambda d: d.moment)
            for draft in drafts:
                key = (draft.unit.pk, draft.day)
                number = numbers.get(key, self.first_numbers.get(key, 0)) + 1
                numbers[key] = number
                yield self._row(draft, number)
            self.cache.deadlines.clear()

    def _deadline(
        self, draft: _Draft, received_at: datetime
    ) -> tuple[datetime, list[dict[str, Any]], str]:
        key = (draft.unit.calendar, draft.procedure.limit, received_at)
        found = self.cache.deadlines.get(key)
        if found is None:
            deadline = compute_deadline(
                received_at=received_at,
                limit=self.world.limits[draft.procedure.limit],
                calendar=self.world.calendars[draft.unit.calendar],
            )
            trace = deadline.trace_as_json()
            found = (deadline.due_at, trace, self._json(trace) if self.json_text else "")
            self.cache.deadlines[key] = found
        return found

    def _json(self, value: Any) -> Any:
        return json.dumps(value, ensure_ascii=False) if self.json_text else value

    def _applicant(self, unit: UnitPlan) -> tuple[str, str, str, str, str]:
        rng = self.rng
        female = rng.random() < 0.5
        middle = self._pick(FEMALE_MIDDLE if female else MALE_MIDDLE)
        given = self._pick(FEMALE_GIVEN if female else MALE_GIVEN)
        name = f"{self._pick(FAMILY_NAMES)} {middle} {given}"
        key = self.cache.names.get(name)
        if key is None:
            key = self.cache.names[name] = search_key(name)
        born = self._between(1945, 2006)
        century = (0 if born < 2000 else 2) + (1 if female else 0)
        id_number = f"015{century}{born % 100:02d}{self._between(0, 1_000_000):06d}"
        phone = f"{self._pick(PHONE_PREFIXES)}{self._between(0, 10_000_000):07d}"
        address = f"Thôn {self._between(1, 13)}, {self._pick(unit.places)}"
        return name, key, id_number, phone, address

    def _row(self, draft: _Draft, number: int) -> HistoryRow:
        unit = draft.unit
        story = _Story(
            counter=self._pick(unit.counters) if unit.counters else None,
            processor=self._pick(unit.processors) if unit.processors else None,
            trace="[]" if self.json_text else [],
        )
        received_at = self._intake(draft, story)
        if received_at is not None:
            self._processing(draft, story, received_at)
        name, search, id_number, phone, address = self._applicant(unit)
        dossier = (
            format_code(unit.unit, draft.day, number),
            draft.procedure.pk,
            unit.pk,
            draft.channel,
            draft.postal_tracking_no,
            name,
            id_number,
            phone,
            "",
            address,
            search,
            None,
            "",
            story.status,
            story.timeliness,
            draft.submitted_at,
            story.received_at,
            story.received_by,
            story.assigned_to,
            story.due_at,
            story.trace,
            story.paused_at,
            None,
            "",
            None,
            story.resolved_at,
            story.result_summary,
            story.returned_at,
            story.closed_at,
            story.close_reason,
            "",
            None,
            story.digitized_intake,
            story.digitized_result,
            self.now,
            self.now,
        )
        events = tuple(sorted(story.events, key=_event_time)) if self.with_events else ()
        return HistoryRow(unit.pk, draft.day, number, dossier, events, story.pause, story.rating)

    def _event(
        self,
        story: _Story,
        at: datetime,
        by: int | None,
        action: str,
        before: str,
        after: str,
        note: str = "",
        data: dict[str, Any] | None = None,
    ) -> None:
        if self.with_events:
            story.events.append((at, by, action, before, after, note, self._json(data or {})))

    def _intake(self, draft: _Draft, story: _Story) -> datetime | None:
        """Receipt at the counter, or online submission then acceptance or refusal. Returns
        the moment the clock started, or None when it never did (refused, still waiting)."""
        clock = self.clocks[draft.unit.calendar]
        mark = {HISTORY_MARK: True}
        if draft.channel != Channel.ONLINE:
            story.received_at = draft.moment
            data = {"channel": draft.channel, **mark}
            self._event(
                story, draft.moment, story.counter, Action.RECEIVE, "", story.status, "", data
            )
        else:
            assert draft.submitted_at is not None
            story.status = Status.SUBMITTED
            self._event(story, draft.submitted_at, None, Action.SUBMIT, "", story.status, "", mark)
            accepted = clock.moment(draft.received, at_close=False)
            if accepted > self.now:
                return None  # still waiting for the counter
            if self.rng.random() < REFUSED_ONLINE_RATE:
                story.status, story.closed_at = Status.REFUSED, accepted
                story.close_reason = self._pick(REFUSAL_REASONS)
                self._event(
                    story,
                    accepted,
                    story.counter,
                    Action.REFUSE,
                    Status.SUBMITTED,
                    story.status,
                    story.close_reason,
                )
                return None
            story.status, story.received_at = Status.RECEIVED, accepted
            self._event(
                story, accepted, story.counter, Action.ACCEPT, Status.SUBMITTED, story.status
            )
        story.received_by = story.counter
        story.digitized_intake = self.rng.random() < DIGITIZED_INTAKE_RATE
        return story.received_at

    def _processing(self, draft: _Draft, story: _Story, received_at: datetime) -> None:
        """From the receipt on: the due date, start, a supplement request, the decision or the
        closing, the return and the rating, as far as ``now`` has come."""
        rng, now = self.rng, self.now
        clock = self.clocks[draft.unit.calendar]
        due_at, trace, trace_text = self._deadline(draft, received_at)
        story.trace = trace_text if self.json_text else trace
        received = draft.received
        due = clock.position(due_at)
        # The milestones as positions on the office-time line.
        # Most are taken up within the hour, some wait in the queue for up to a day.
        wait = self._between(60, 2700) if rng.random() < 0.7 else self._between(2700, clock.length)
        started = received + wait
        paused = supplied = closed = None
        if rng.random() < CLOSED_RATE:
            closed = received + int((due - received) * self._uniform(0.05, 0.8)) + 60
        elif rng.random() < SUPPLEMENT_RATE and due - started > 3600:
            paused = started + int((due - started) * self._uniform(0.1, 0.6))
            supplied = paused + self._between(4 * 3600, 5 * clock.length)

        pause_start = pause_end = None
        old_due = due_at
        if paused is not None and supplied is not None:
            pause_start, pause_end = clock.moment(paused), clock.moment(supplied)
            if pause_start > now:
                paused = supplied = pause_start = pause_end = None
            elif pause_end > now:
                supplied = pause_end = None  # still waiting for the documents
            else:
                # The documents came: the engine moves the due date by the time waited.
                deadline = compute_deadline(
                    received_at=received_at,
                    limit=self.world.limits[draft.procedure.limit],
                    calendar=self.world.calendars[draft.unit.calendar],
                    pauses=[DeadlinePause(start=pause_start, end=pause_end)],
                )
                due_at = deadline.due_at
                story.trace = self._json(deadline.trace_as_json())
                due = clock.position(due_at)
        story.due_at = due_at

        decided = None
        if closed is None and (paused is None or supplied is not None):
            decided = self._decision(clock, max(received, supplied or received), due, due_at)
            if (
                due_at < now
                and now - due_at < timedelta(days=STUCK_DAYS)
                and rng.random() < STUCK_RATE
            ):
                decided = None  # forgotten on a desk: overdue now
        end = decided if decided is not None else closed
        end_at = clock.moment(end) if end is not None else None
        if end_at is not None and end_at > now:
            end = end_at = decided = closed = None  # it happens after `now`: still open
        if paused is not None:
            started = min(started, paused)
        if end is not None:
            started = min(started, end)
        started_at = clock.moment(started)
        if started_at <= now:
            story.assigned_to = story.processor
            story.status = Status.IN_PROGRESS
            self._event(
                story, started_at, story.processor, Action.START, Status.RECEIVED, story.status
            )

        if pause_start is not None:
            missing = self._pick(SUPPLEMENT_MISSING)
            story.pause = (pause_start, pause_end, missing, SUPPLEMENT_REASON, story.processor)
            self._event(
                story,
                pause_start,
                story.processor,
                Action.REQUEST_SUPPLEMENT,
                story.status,
                Status.SUPPLEMENT_REQUESTED,
                SUPPLEMENT_REASON,
                {"missing": missing},
            )
            if pause_end is None:
                story.status, story.paused_at = Status.SUPPLEMENT_REQUESTED, pause_start
            else:
                self._event(
                    story,
                    pause_end,
                    story.counter,
                    Action.SUPPLEMENT,
                    Status.SUPPLEMENT_REQUESTED,
                    story.status,
                    "",
                    {"due_before": old_due.isoformat(), "due_after": due_at.isoformat()},
                )

        # The deadline worker flagged it when its due moment passed while its clock ran.
        flagged_at = min(due_at + timedelta(seconds=self._between(60, 300)), now)
        waiting = pause_start is not None and pause_start <= flagged_at and pause_end is None
        if flagged_at < (end_at or now) and not waiting:
            state = Status.IN_PROGRESS if started_at <= flagged_at else Status.RECEIVED
            self._event(
                story,
                flagged_at,
                None,
                Action.OVERDUE,
                state,
                state,
                "",
                {"due_at": due_at.isoformat()},
            )

        if decided is not None and end_at is not None:
            self._decide(story, clock, decided, end_at)
        elif closed is not None and end_at is not None:
            self._close(story, end_at)
        else:
            story.timeliness = open_timeliness(now, due_at, story.paused_at)

    def _decide(self, story: _Story, clock: _Clock, decided: int, at: datetime) -> None:
        rng = self.rng
        assert story.due_at is not None
        story.resolved_at = at
        story.timeliness = resolution_timeliness(at, story.due_at, self.tz)
        story.digitized_result = rng.random() < DIGITIZED_RESULT_RATE
        if rng.random() < REJECTED_RATE:
            action, story.status = Action.REJECT, Status.REJECTED
            story.result_summary = self._pick(REJECTION_REASONS)
        else:
            action, story.status = Action.RESOLVE, Status.RESOLVED
            story.result_summary = RESULT_TEXT
        self._event(
            story,
            at,
            story.processor,
            action,
            Status.IN_PROGRESS,
            story.status,
            story.result_summary,
        )
        if rng.random() >= RETURNED_RATE:
            return
        wait = 60 if rng.random() < 0.4 else self._between(60, 3 * clock.length)
        handed = clock.moment(decided + wait)
        if handed > self.now:
            return
        story.returned_at = handed
        self._event(story, handed, story.counter, Action.RETURN, story.status, Status.RETURNED)
        story.status = Status.RETURNED
        story.rating = self._rating(handed)
        if story.rating is not None:
            score, _comment, rated_at = story.rating
            self._event(
                story, rated_at, None, Action.RATE, story.status, story.status, "", {"score": score}
            )

    def _close(self, story: _Story, at: datetime) -> None:
        rng = self.rng
        if rng.random() < 2 / 3:
            action, by, reasons = Action.WITHDRAW, story.counter, WITHDRAWAL_REASONS
            status = Status.WITHDRAWN
        else:
            action, by, reasons = Action.STOP, story.processor, STOP_REASONS
            status = Status.STOPPED
        story.closed_at, story.close_reason = at, self._pick(reasons)
        self._event(story, at, by, action, story.status, status, story.close_reason)
        story.status = status
        story.timeliness = ""  # closed without a result: never early, late or overdue

    def _decision(self, clock: _Clock, start: int, due: int, due_at: datetime) -> int:
        """Office position of the decision: early (a working day before the due date), on
        the due date, or late, in the article's proportions. Early is impossible when the due
        date is the day of the receipt (same-day procedures before the cut-off)."""
        rng = self.rng
        r = rng.random()
        if due <= start:
            return start + self._between(60, 3600)
        due_day_start = clock.day_start(due)
        if due_at.astimezone(self.tz).date() != clock.days[due_day_start // clock.length]:
            due_day_start = clock.day_start(due - 1)  # due at a close: position is day's end
        if r < LATE_RATE:
            return due + self._between(1800, 3 * clock.length)
        if r < LATE_RATE + ON_TIME_RATE or start >= due_day_start:
            first = max(start, due_day_start)
            # At least a minute in: a position on a day's boundary is also the previous day's
            # close, which would put the decision before a receipt made at the opening.
            return first + min(due - first, max(60, int((due - first) * rng.random())))
        # Most dossiers are decided well before the due date.
        span = due_day_start - start
        return start + max(60, min(span - 1, int(span * (1 - (1 - rng.random()) ** 0.55))))

    def _rating(self, returned_at: datetime) -> tuple[Any, ...] | None:
        rng = self.rng
        if rng.random() >= RATED_RATE:
            return None
        at = returned_at + timedelta(seconds=self._between(60, 36_000))
        if at > self.now:
            return None
        r = rng.random()
        score = RATINGS[-1][0]
        for candidate, share in RATINGS:
            if r < share:
                score = candidate
                break
            r -= share
        return (score, "", at)


def _cumulative(weights: Iterable[float]) -> list[float]:
    total, out = 0.0, []
    for weight in weights:
        total += weight
        out.append(total)
    return [w / total for w in out] if total else out


def iter_history_rows(
    world: HistoryWorld,
    *,
    start: date,
    end: date,
    count: int,
    seed: int,
    now: datetime,
    first_numbers: Mapping[tuple[int, date], int] | None = None,
    events: bool = True,
    json_text: bool = False,
    time_step: int = 60,
) -> Iterator[HistoryRow]:
    """``count`` dossiers received (or submitted online) on the days ``start``–``end``, in the
    order of their codes, as rows ready to store.

    ``first_numbers`` gives, per (unit id, day), the last code number already used (the day
    counters): numbering goes on after it. ``events=False`` leaves the events out (faster);
    ``json_text`` gives JSON columns as text, as COPY wants them. Receipts fall on a grid of
    ``time_step`` seconds (coarser: more deadlines shared, faster). ``now`` splits the past
    from the future: nothing happens after it, and what is still open is judged at it. Rows
    may share their JSON values (a deadline trace): read them, do not change them.
    """
    if end >= now.astimezone(world.calendars[0].tz).date():
        raise ValueError("A history ends before the day of `now`.")
    if count <= 0:
        return iter(())
    return _Generator(
        world,
        start=start,
        end=end,
        count=count,
        seed=seed,
        now=now,
        first_numbers=first_numbers or {},
        events=events,
        json_text=json_text,
        time_step=time_step,
    ).rows()


# --- Storing it --------------------------------------------------------------------------------


@dataclass
class HistoryResult:
    dossiers: int = 0
    events: int = 0
    pauses: int = 0
    ratings: int = 0
    counters: int = 0
    by_status: dict[str, int] = field(default_factory=dict)


def history_exists() -> bool:
    """Whether a generated history was stored (its first events carry the mark)."""
    return DossierEvent.objects.filter(
        action__in=(Action.RECEIVE, Action.SUBMIT), **{f"data__{HISTORY_MARK}": True}
    ).exists()


class _Insert:
    """Multi-row ``INSERT … VALUES (…), (…) [RETURNING id]`` of rows already in column order:
    the statement ``bulk_create`` sends, without building a model instance per row and
    preparing each value through the SQL compiler (about 10 µs a value: 35 s for 50,000
    dossiers and their events). Times and JSON go through the backend's own adapters; the
    statements skip the DEBUG query log, which quotes every value with an extra query on
    SQLite. Like ``bulk_create``, no ``save()`` runs (events stay append-only) and no
    ``auto_now_add`` stamps over a rating's moment."""

    def __init__(self, model: type[Model], columns: Sequence[str], *, with_dossier: bool = True):
        self.connection = connections[DEFAULT_DB_ALIAS]
        ops = self.connection.ops
        opts = model._meta
        names = ["dossier_id", *columns] if with_dossier else list(columns)
        fields = [opts.get_field(name) for name in names]
        self.adapters: list[Callable[[Any], Any] | None] = []
        for f in fields:
            if isinstance(f, DateTimeField):
                self.adapters.append(ops.adapt_datetimefield_value)
            elif isinstance(f, JSONField):
                self.adapters.append(partial(ops.adapt_json_value, encoder=f.encoder))
            else:
                self.adapters.append(None)
        quote = ops.quote_name
        self.head = f"INSERT INTO {quote(opts.db_table)} ({', '.join(quote(n) for n in names)})"
        self.returning = f" RETURNING {quote(opts.pk.column)}"
        self.row = f"({', '.join(['%s'] * len(names))})"
        self.per_statement = max(1, min(500, ops.bulk_batch_size(fields, [None] * 500)))

    def __call__(self, rows: Sequence[Sequence[Any]], *, returning: bool = False) -> list[int]:
        ids: list[int] = []
        adapters = self.adapters
        connection = self.connection
        with connection.cursor() as wrapper, connection.wrap_database_errors:
            cursor = wrapper.cursor  # the driver's own: not logged, even with DEBUG
            for first in range(0, len(rows), self.per_statement):
                chunk = rows[first : first + self.per_statement]
                params = [
                    value if adapt is None or value is None else adapt(value)
                    for row in chunk
                    for value, adapt in zip(row, adapters, strict=True)
                ]
                sql = f"{self.head} VALUES {', '.join([self.row] * len(chunk))}"
                if returning:
                    cursor.execute(sql + self.returning, params)
                    ids.extend(pk for (pk,) in cursor.fetchall())
                else:
                    cursor.execute(sql, params)
        return ids


@transaction.atomic
def create_history(
    *,
    units: Iterable[Unit],
    start: date,
    end: date,
    count: int,
    seed: int,
    now: datetime,
    batch_size: int = 2000,
) -> HistoryResult:
    """Store ``count`` generated dossiers of ``units`` received between ``start`` and ``end``
    (see :func:`iter_history_rows`), with their events, supplement requests and ratings, in
    one transaction. Numbering goes on from the day counters, locked meanwhile, and they end
    at the last number used: live intake never reuses one.
    """
    world = history_world(units=units, start=start, end=end, seed=seed)
    counters = {
        (c.unit_id, c.day): c
        for c in DayCounter.objects.select_for_update().filter(
            unit_id__in=[u.pk for u in world.units], day__range=(start, end)
        )
    }
    rows = iter_history_rows(
        world,
        start=start,
        end=end,
        count=count,
        seed=seed,
        now=now,
        first_numbers={key: c.last for key, c in counters.items()},
    )
    insert_dossiers = _Insert(Dossier, DOSSIER_COLUMNS, with_dossier=False)
    insert_events = _Insert(DossierEvent, EVENT_COLUMNS)
    insert_pauses = _Insert(Pause, PAUSE_COLUMNS)
    insert_ratings = _Insert(Rating, RATING_COLUMNS)
    status_column = DOSSIER_COLUMNS.index("status")
    result = HistoryResult()
    statuses: Counter[str] = Counter()
    last: dict[tuple[int, date], int] = {}
    while batch := list(islice(rows, batch_size)):
        ids = insert_dossiers([row.dossier for row in batch], returning=True)
        events: list[tuple[Any, ...]] = []
        pauses: list[tuple[Any, ...]] = []
        ratings: list[tuple[Any, ...]] = []
        for row, pk in zip(batch, ids, strict=True):
            last[(row.unit_id, row.day)] = row.number
            statuses[row.dossier[status_column]] += 1
            events.extend((pk, *event) for event in row.events)
            if row.pause is not None:
                pauses.append((pk, *row.pause))
            if row.rating is not None:
                ratings.append((pk, *row.rating))
        insert_events(events)
        insert_pauses(pauses)
        insert_ratings(ratings)
        result.dossiers += len(ids)
        result.events += len(events)
        result.pauses += len(pauses)
        result.ratings += len(ratings)
    for key, counter in counters.items():
        counter.last = last.get(key, counter.last)
    DayCounter.objects.bulk_update(list(counters.values()), ["last"], batch_size=batch_size)
    DayCounter.objects.bulk_create(
        [
            DayCounter(unit_id=unit_id, day=day, last=number)
            for (unit_id, day), number in last.items()
            if (unit_id, day) not in counters
        ],
        batch_size=batch_size,
    )
    result.counters = len(last)
    result.by_status = dict(sorted(statuses.items()))
    return result


__all__ = [
    "DOSSIER_COLUMNS",
    "EVENT_COLUMNS",
    "HISTORY_MARK",
    "PAUSE_COLUMNS",
    "RATING_COLUMNS",
    "HistoryResult",
    "HistoryRow",
    "HistoryWorld",
    "create_history",
    "history_exists",
    "history_world",
    "iter_history_rows",
]
