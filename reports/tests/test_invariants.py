"""What must hold for every report, whatever happened: property tests over random lifecycles.

For speed the dossiers are stored directly with ``bulk_create`` (reports/tests/factories.py
``dossier_row``), not through the services: each row's status, timestamps and timeliness are set
consistently with DESIGN.md §3 (open or paused with ``paused_at``; resolved or rejected at
``resolved_at`` and classified early/on time/late against ``due_at``; withdrawn or stopped at
``closed_at``), and a later supplement moves ``due_at`` by the time spent paused as the deadline
engine does (in calendar time here: the engine's working time is tested in procedures/).

Each example runs in a savepoint that is rolled back, so examples do not see each other's rows.
Besides the invariants (3 = 7 + 11 + withdrawn, totals are sums, carried over = previous pending,
a past period does not move), the counts are compared with an oracle written from DESIGN.md's
definitions in plain Python.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import pairwise

import pytest
from django.db import transaction
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from dossiers.choices import Channel, RatingScore, Status
from dossiers.models import Dossier, Pause
from dossiers.workflow import resolution_timeliness
from procedures.deadlines import VN_TZ
from reports.periods import CALENDAR, OFFICIAL, Period, custom_period, parse_period
from reports.selectors import MEASURES, Counts, monthly_statistics

from .factories import (
    FATES,
    OPEN,
    PAUSED,
    REJECTED,
    RESOLVED,
    SATISFIED_SCORES,
    STOPPED,
    WITHDRAWN,
    at,
    bulk_dossiers,
    bulk_ratings,
    district_world,
    dossier_row,
)

pytestmark = pytest.mark.django_db

# Shrinking a failure writes rows for every attempt and may take Hypothesis' full five minutes:
# it is off unless HYPOTHESIS_SHRINK=1 (the plain tests in test_selectors.py pin known bugs).
PHASES = [
    phase
    for phase in Phase
    if os.environ.get("HYPOTHESIS_SHRINK") or phase not in (Phase.shrink, Phase.explain)
]
SETTINGS = settings(
    max_examples=75,
    deadline=None,
    phases=PHASES,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

WINDOW_START = at(2026, 7, 1)
WINDOW_MINUTES = 123 * 24 * 60  # to 01/11/2026
NOW = at(2027, 6, 1)  # every report is judged after all activity
# Local midnights where periods begin and end: dossiers land on them on purpose.
BOUNDARIES = [
    *sorted(at(2026, month, day) for month in range(7, 12) for day in (1, 14, 15, 16)),
    at(2026, 10, 14, 23, 59, 59),
    at(2026, 9, 15) - timedelta(microseconds=1),
]

offsets = st.integers(0, 60 * 24 * 60).map(lambda m: timedelta(minutes=m))
TINY = timedelta(microseconds=1)


def edges_of(periods: list[Period]) -> list[datetime]:
    """The moments where off-by-one errors live: each period's first moment, its last, the first
    moment after it and the last before it, plus the usual cut-offs."""
    edges = set(BOUNDARIES)
    for period in periods:
        start, end = period.bounds(VN_TZ)
        edges |= {start - TINY, start, end - TINY, end}
    return sorted(edges)


def moments(edges: list[datetime]) -> st.SearchStrategy[datetime]:
    return st.one_of(
        st.integers(0, WINDOW_MINUTES).map(lambda m: WINDOW_START + timedelta(minutes=m)),
        st.sampled_from(edges),
    )


@dataclass
class Spec:
    unit: int  # 0 the district, 1..3 its communes, 4 a commune of another district
    offline: bool  # a procedure that cannot be done online
    channel: str
    received_at: datetime
    due_at: datetime
    fate: str
    paused_at: datetime | None
    ended_at: datetime | None
    returned: bool
    digitized_intake: bool
    digitized_result: bool
    rating: str | None
    rated_at: datetime | None


@st.composite
def lifecycles(draw, edges: list[datetime]) -> Spec:
    """One dossier's life: received at a random moment or on an edge, due some time later or
    on an edge, then open, paused, decided or closed at a random moment or on an edge."""
    moment = moments(edges)
    unit = draw(st.integers(0, 4))
    offline = unit != 0 and draw(st.booleans())
    channel = draw(st.sampled_from([Channel.ONLINE, Channel.IN_PERSON, Channel.POSTAL]))
    if offline and channel == Channel.ONLINE:
        channel = Channel.IN_PERSON
    received = draw(moment)
    later = st.one_of(moment, offsets.map(lambda o: received + o))
    due = max(received + TINY, draw(later))
    fate = draw(st.sampled_from(FATES))
    paused = ended = None
    if fate == PAUSED:
        paused = max(received, draw(st.one_of(later, st.just(due))))
    if fate not in (OPEN, PAUSED):
        ended = max(received, draw(later))
    decided = fate in (RESOLVED, REJECTED)
    returned = decided and draw(st.booleans())
    rating = draw(st.sampled_from([None, *RatingScore.values])) if returned else None
    return Spec(
        unit=unit,
        offline=offline,
        channel=channel,
        received_at=received,
        due_at=due,
        fate=fate,
        paused_at=paused,
        ended_at=ended,
        returned=returned,
        digitized_intake=draw(st.booleans()),
        digitized_result=decided and draw(st.booleans()),
        rating=rating,
        rated_at=max(ended, draw(later)) if rating else None,
    )


bases = st.sampled_from([OFFICIAL, CALENDAR])
periods = st.one_of(
    st.builds(lambda m, b: parse_period(f"2026-{m:02d}", basis=b), st.integers(7, 11), bases),
    st.builds(lambda q, b: parse_period(f"2026-Q{q}", basis=b), st.integers(3, 4), bases),
    st.builds(
        lambda first, length: custom_period(first, first + timedelta(days=length)),
        st.dates(date(2026, 6, 25), date(2026, 11, 5)),
        st.integers(0, 70),
    ),
)


def histories(chain: list[Period], *, min_size: int = 3, max_size: int = 40):
    return st.lists(lifecycles(edges_of(chain)), min_size=min_size, max_size=max_size)


@pytest.fixture
def world():
    return district_world(communes=3)


def _units(world):
    return [world.district, *world.communes, world.other_commune]


def _store(world, specs: list[Spec]) -> list[Dossier]:
    units = _units(world)
    rows = []
    for spec in specs:
        unit = units[spec.unit]
        if unit == world.district:
            procedure = world.district_procedure
        else:
            procedure = world.offline_procedure if spec.offline else world.online_procedure
        rows.append(
            dossier_row(
                unit=unit,
                procedure=procedure,
                channel=spec.channel,
                received_at=spec.received_at,
                due_at=spec.due_at,
                fate=spec.fate,
                paused_at=spec.paused_at,
                ended_at=spec.ended_at,
                returned=spec.returned,
                digitized_intake=spec.digitized_intake,
                digitized_result=spec.digitized_result,
                now=NOW,
            )
        )
    stored = bulk_dossiers(rows)
    bulk_ratings(
        (dossier, spec.rating, spec.rated_at)
        for dossier, spec in zip(stored, specs, strict=True)
        if spec.rating
    )
    return stored


def rolled_back(test):
    """Run the example in a savepoint that is rolled back afterwards."""

    def run(*args, **kwargs):
        with transaction.atomic():
            try:
                test(*args, **kwargs)
            finally:
                transaction.set_rollback(True)

    return run


# --- The oracle: DESIGN.md §3 in plain Python ---------------------------------------------------


def oracle(specs: list[Spec], period: Period, unit_indexes: set[int]) -> dict[str, int]:
    start, end = period.bounds(VN_TZ)
    counts: Counter[str] = Counter()
    for spec in specs:
        if spec.unit not in unit_indexes:
            continue
        received = spec.received_at
        in_period = start <= received < end
        ended = spec.ended_at
        decided = spec.fate in (RESOLVED, REJECTED)
        if in_period:
            counts[
                {
                    Channel.ONLINE: "received_online",
                    Channel.IN_PERSON: "received_in_person",
                    Channel.POSTAL: "received_postal",
                }[spec.channel]
            ] += 1
            counts["online_eligible"] += not spec.offline
            counts["digitized_intake"] += spec.digitized_intake
        if received < start and (ended is None or ended >= start):
            counts["carried_over"] += 1
        if decided and start <= ended < end:
            timeliness = resolution_timeliness(ended, spec.due_at, VN_TZ)
            counts[f"resolved_{timeliness}"] += 1
            counts["digitized_result"] += spec.digitized_result
        if spec.fate in (WITHDRAWN, STOPPED) and start <= ended < end:
            counts["withdrawn"] += 1
        if received < end and (ended is None or ended >= end):
            # Judged at the end of the period; a clock paused by then stands at its pause.
            paused = spec.paused_at if spec.fate == PAUSED else None
            judged = paused if paused is not None and paused <= end else end
            counts["pending_overdue" if judged > spec.due_at else "pending_in_time"] += 1
        if spec.rating and start <= spec.rated_at < end:
            counts["ratings"] += 1
            counts["satisfied"] += spec.rating in SATISFIED_SCORES
    return {name: counts[name] for name in MEASURES}


def _sum(parts) -> dict[str, int]:
    return Counts.total(parts).as_dict()


# --- Properties ---------------------------------------------------------------------------------


@SETTINGS
@given(data=st.data())
def test_every_row_adds_up_and_the_totals_are_sums(world, data):
    period = data.draw(periods, label="period")
    specs = data.draw(histories([period]), label="specs")

    @rolled_back
    def example():
        _store(world, specs)
        report = monthly_statistics(unit=world.district, period=period, group_by="unit", now=NOW)
        own, *communes = report.rows
        assert [row.key for row in communes] == [c.code for c in world.communes]
        for row in report.rows:
            assert row.counts.balanced, (row.key, row.counts)
        assert report.total.balanced and report.commune_subtotal.balanced
        assert report.total.as_dict() == _sum(row.counts for row in report.rows)
        assert report.commune_subtotal.as_dict() == _sum(row.counts for row in communes)
        # The oracle, row by row.
        assert own.counts.as_dict() == oracle(specs, period, {0})
        for index, row in enumerate(communes, start=1):
            assert row.counts.as_dict() == oracle(specs, period, {index}), row.key
        assert report.total.as_dict() == oracle(specs, period, {0, 1, 2, 3})
        # By field: other rows, the same total.
        by_field = monthly_statistics(unit=world.district, period=period, group_by="field", now=NOW)
        assert by_field.total == report.total
        assert by_field.total.as_dict() == _sum(row.counts for row in by_field.rows)
        for row in by_field.rows:
            assert row.counts.balanced, (row.key, row.counts)
        # A commune's own report is its row in the district's.
        commune = monthly_statistics(unit=world.communes[0], period=period, now=NOW)
        assert commune.total == communes[0].counts

    example()


@st.composite
def trailing(draw):
    kind = draw(st.sampled_from(["month", "quarter", "range"]))
    basis = draw(bases)
    if kind == "month":
        return [parse_period(f"2026-{m:02d}", basis=basis) for m in (8, 9, 10, 11)]
    if kind == "quarter":
        return [parse_period(f"2026-Q{q}", basis=basis) for q in (3, 4)]
    first = draw(st.dates(date(2026, 6, 25), date(2026, 8, 1)))
    length = draw(st.integers(1, 40))
    last = custom_period(first + timedelta(days=2 * length), first + timedelta(days=3 * length - 1))
    return [last.previous().previous(), last.previous(), last]


@SETTINGS
@given(data=st.data())
def test_the_next_period_carries_over_what_this_one_left_pending(world, data):
    chain = data.draw(trailing(), label="periods")
    specs = data.draw(histories(chain), label="specs")

    @rolled_back
    def example():
        _store(world, specs)
        reports = [
            monthly_statistics(unit=world.district, period=p, group_by="unit", now=NOW)
            for p in chain
        ]
        for before, after in pairwise(reports):
            assert after.period.start == before.period.end + timedelta(days=1)
            assert after.total.carried_over == before.total.pending
            assert after.commune_subtotal.carried_over == before.commune_subtotal.pending
            for row_before, row_after in zip(before.rows, after.rows, strict=True):
                assert row_after.key == row_before.key
                assert row_after.counts.carried_over == row_before.counts.pending, row_after.key

    example()


@dataclass
class Later:
    """Something that happens to an open dossier after the period: decided, closed, paused."""

    fate: str
    after: timedelta
    then: timedelta


later_events = st.builds(
    Later,
    fate=st.sampled_from([RESOLVED, REJECTED, WITHDRAWN, STOPPED, PAUSED]),
    after=offsets,
    then=offsets,
)


def _happen_later(dossier: Dossier, event: Later, *, end: datetime) -> None:
    """Apply ``event`` to an open dossier, no earlier than ``end`` (the period's first moment
    after), as the services would: asking for a supplement opens a pause; deciding a paused
    dossier needs the supplement first; the supplement, a withdrawal or a stop ends the pause and
    moves the due date by the time spent paused when the pause began by the due date."""
    moment = max(end, dossier.received_at, dossier.paused_at or end) + event.after
    due = dossier.due_at
    pauses = Pause.objects.filter(dossier=dossier, ended_at__isnull=True)
    if event.fate == PAUSED:
        if dossier.paused_at is None:
            Dossier.objects.filter(pk=dossier.pk).update(
                status=Status.SUPPLEMENT_REQUESTED, paused_at=moment
            )
            Pause.objects.create(
                dossier=dossier, started_at=moment, missing_documents="Tờ khai", reason="Thiếu"
            )
        return
    if dossier.paused_at is not None:
        if dossier.paused_at <= due:
            due = due + (moment - dossier.paused_at)
        pauses.update(ended_at=moment)
        if event.fate in (RESOLVED, REJECTED):
            moment += event.then
    if event.fate in (RESOLVED, REJECTED):
        Dossier.objects.filter(pk=dossier.pk).update(
            status=Status.RESOLVED if event.fate == RESOLVED else Status.REJECTED,
            due_at=due,
            paused_at=None,
            resolved_at=moment,
            timeliness=resolution_timeliness(moment, due, VN_TZ),
            digitized_result=True,
        )
    else:
        Dossier.objects.filter(pk=dossier.pk).update(
            status=Status.WITHDRAWN if event.fate == WITHDRAWN else Status.STOPPED,
            due_at=due,
            paused_at=None,
            closed_at=moment,
            timeliness="",
        )


@SETTINGS
@given(data=st.data())
def test_a_past_period_does_not_move_when_later_things_happen(world, data):
    period = data.draw(periods, label="period")
    specs = data.draw(histories([period], max_size=30), label="specs")
    group_by = data.draw(st.sampled_from(["unit", "field"]), label="group_by")
    events = data.draw(st.lists(later_events, max_size=30), label="later events")
    newcomers = data.draw(histories([period], max_size=10, min_size=0), label="newcomers")

    @rolled_back
    def example():
        stored = _store(world, specs)
        end = period.bounds(VN_TZ)[1]
        first = monthly_statistics(unit=world.district, period=period, group_by=group_by, now=NOW)
        # Later: some open dossiers are decided, closed or paused after the period...
        # (paused ones first: what happens to a pause later is where past numbers can move)
        open_now = sorted(
            (
                d
                for d in Dossier.objects.filter(pk__in=[d.pk for d in stored]).order_by("pk")
                if d.status in (Status.IN_PROGRESS, Status.SUPPLEMENT_REQUESTED)
            ),
            key=lambda d: d.paused_at is None,
        )
        for dossier, event in zip(open_now, events, strict=False):
            _happen_later(dossier, event, end=end)
        # ... new dossiers arrive from the period's first moment after, some rated later.
        shifted = [
            Spec(
                **{
                    **spec.__dict__,
                    "received_at": end + (spec.received_at - WINDOW_START),
                    "due_at": end + (spec.due_at - WINDOW_START),
                    "paused_at": spec.paused_at and end + (spec.paused_at - WINDOW_START),
                    "ended_at": spec.ended_at and end + (spec.ended_at - WINDOW_START),
                    "rated_at": spec.rated_at and end + (spec.rated_at - WINDOW_START),
                }
            )
            for spec in newcomers
            if spec.received_at >= WINDOW_START
        ]
        _store(world, shifted)
        again = monthly_statistics(
            unit=world.district, period=period, group_by=group_by, now=NOW + timedelta(days=30)
        )
        assert again.as_json() == first.as_json()

    example()


def test_the_oracle_agrees_on_a_hand_example(world):
    """The oracle itself, on a case counted by hand: a dossier received at the period's first
    moment and paused before it was due, one received online and resolved late with a digitized
    result and a rating, one carried over and overdue."""
    period = parse_period("2026-10")
    start, end = period.bounds(VN_TZ)
    specs = [
        Spec(1, False, Channel.IN_PERSON, start, end, PAUSED, at(2026, 10, 1), None, False, True,
             False, None, None),
        Spec(1, False, Channel.ONLINE, at(2026, 10, 1), at(2026, 10, 5), RESOLVED, None,
             at(2026, 10, 10), True, False, True, RatingScore.SATISFIED, at(2026, 10, 12)),
        Spec(2, True, Channel.POSTAL, at(2026, 9, 1), at(2026, 9, 20), OPEN, None, None, False,
             False, False, None, None),
    ]  # fmt: skip
    expected = dict.fromkeys(MEASURES, 0) | {
        "received_in_person": 1,
        "received_online": 1,
        "carried_over": 1,
        "resolved_late": 1,
        "pending_in_time": 1,
        "pending_overdue": 1,
        "online_eligible": 2,
        "digitized_intake": 1,
        "digitized_result": 1,
        "ratings": 1,
        "satisfied": 1,
    }
    assert oracle(specs, period, {1, 2}) == expected
    with transaction.atomic():
        _store(world, specs)
        report = monthly_statistics(unit=world.district, period=period, now=NOW)
        assert report.total.as_dict() == expected
        transaction.set_rollback(True)
