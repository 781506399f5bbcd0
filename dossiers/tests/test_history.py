"""The synthetic history (dossiers.history): deterministic, in the article's proportions, every
row a dossier the services could have produced, numbered so that live intake goes on after it."""

import re
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pytest

from dossiers.choices import OPEN_STATUSES, Action, Channel, RatingScore, Status, Timeliness
from dossiers.history import (
    DOSSIER_COLUMNS,
    EVENT_COLUMNS,
    HISTORY_MARK,
    PAUSE_COLUMNS,
    RATING_COLUMNS,
    create_history,
    history_exists,
    history_world,
    iter_history_rows,
)
from dossiers.models import DayCounter, Dossier, DossierEvent, Pause, Rating
from dossiers.services import Applicant, receive_dossier
from dossiers.workflow import open_timeliness, resolution_timeliness
from portal.choices import Role, UnitLevel
from portal.models import Unit
from portal.tests.factories import MembershipFactory, UnitFactory
from portal.text import search_key
from procedures.choices import OnlineLevel, TimeLimitUnit
from procedures.deadlines import VN_TZ
from procedures.models import Procedure
from procedures.selectors import procedure_deadline, working_calendar
from procedures.services import seed_holidays
from procedures.tests.factories import ProcedureFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=VN_TZ)
START, END = date(2026, 5, 1), date(2026, 11, 19)
CODE = re.compile(r"^(?P<unit>[0-9A-Z.]+)-(?P<day>\d{6})-(?P<number>\d{4,})$")


@dataclass
class World:
    district: Unit
    communes: list[Unit]
    units: list[Unit]


@pytest.fixture
def world(time_machine) -> World:
    time_machine.move_to(NOW, tick=False)
    seed_holidays(years=[2026, 2027])
    province = UnitFactory(level=UnitLevel.PROVINCE, name="UBND tỉnh Yên Bái")
    district = UnitFactory(level=UnitLevel.DISTRICT, parent=province, name="UBND huyện Văn Yên")
    communes = [
        UnitFactory(level=UnitLevel.COMMUNE, parent=district, name=f"UBND xã Thử {n}")
        for n in range(1, 4)
    ]
    for level, value, unit, online, postal, same_day in [
        ("district", 5, TimeLimitUnit.WORKING_DAYS, OnlineLevel.PARTIAL, True, False),
        ("district", 15, TimeLimitUnit.WORKING_DAYS, OnlineLevel.NONE, False, False),
        ("district", 30, TimeLimitUnit.CALENDAR_DAYS, OnlineLevel.FULL, True, False),
        ("commune", 1, TimeLimitUnit.WORKING_DAYS, OnlineLevel.FULL, True, True),
        ("commune", 3, TimeLimitUnit.WORKING_DAYS, OnlineLevel.NONE, False, False),
        ("commune", 10, TimeLimitUnit.CALENDAR_DAYS, OnlineLevel.PARTIAL, True, False),
    ]:
        ProcedureFactory(
            level=level,
            time_limit_value=value,
            time_limit_unit=unit,
            online_level=online,
            postal_allowed=postal,
            same_day=same_day,
        )
    MembershipFactory(unit=district, role=Role.COUNTER_OFFICER)
    MembershipFactory(unit=district, role=Role.PROCESSING_OFFICER)
    MembershipFactory(unit=communes[0], role=Role.COUNTER_OFFICER)
    return World(district, communes, [district, *communes])


def generate(world: World, *, count: int = 3000, seed: int = 7, start: date = START, **options):
    plan = history_world(units=world.units, start=start, end=END, seed=seed)
    return list(
        iter_history_rows(plan, start=start, end=END, count=count, seed=seed, now=NOW, **options)
    )


def columns(row) -> dict:
    return dict(zip(DOSSIER_COLUMNS, row.dossier, strict=True))


def test_the_columns_are_the_models_own_in_order():
    def attnames(model, skip):
        return tuple(f.attname for f in model._meta.concrete_fields if f.attname not in skip)

    assert attnames(Dossier, {"id"}) == DOSSIER_COLUMNS
    assert attnames(DossierEvent, {"id", "dossier_id"}) == EVENT_COLUMNS
    assert attnames(Pause, {"id", "dossier_id"}) == PAUSE_COLUMNS
    assert attnames(Rating, {"id", "dossier_id"}) == RATING_COLUMNS


def test_the_same_seed_gives_the_same_rows_and_another_seed_other_rows(world):
    first = generate(world, count=500)
    assert first == generate(world, count=500)
    other = generate(world, count=500, seed=8)
    assert [r.dossier for r in other] != [r.dossier for r in first]
    assert len(first) == 500


def test_proportions_are_the_articles(world):
    rows = [columns(r) for r in generate(world, count=4000)]
    channels = Counter(r["channel"] for r in rows)
    assert 0.12 <= channels[Channel.ONLINE] / len(rows) <= 0.18
    assert 0.01 <= channels[Channel.POSTAL] / len(rows) <= 0.06
    at_district = sum(r["unit_id"] == world.district.pk for r in rows)
    assert 0.55 <= at_district / len(rows) <= 0.65
    decided = Counter(r["timeliness"] for r in rows if r["resolved_at"] is not None)
    resolved = sum(decided.values())
    assert decided[Timeliness.EARLY] / resolved >= 0.97
    assert 0 < decided[Timeliness.ON_TIME] / resolved <= 0.02
    assert decided[Timeliness.LATE] / resolved <= 0.003
    closed = sum(r["status"] in (Status.WITHDRAWN, Status.STOPPED) for r in rows)
    assert 0 < closed / len(rows) <= 0.01
    for flag in ("digitized_intake", "digitized_result"):
        assert 0.01 <= sum(r[flag] for r in rows) / len(rows) <= 0.06, flag
    returned = sum(r["status"] == Status.RETURNED for r in rows)
    assert returned / resolved >= 0.9


def test_channels_and_levels_are_those_the_procedure_allows(world):
    procedures = {p.pk: p for p in Procedure.objects.all()}
    units = {u.pk: u for u in world.units}
    for row in map(columns, generate(world, count=2000)):
        procedure = procedures[row["procedure_id"]]
        assert procedure.level == units[row["unit_id"]].level
        assert row["channel"] in procedure.channels
        if row["channel"] == Channel.POSTAL:
            assert row["postal_tracking_no"]


def test_stored_rows_are_valid_dossiers_received_in_office_hours(world):
    result = create_history(units=world.units, start=START, end=END, count=1500, seed=3, now=NOW)
    assert result.dossiers == Dossier.objects.count() == 1500
    assert result.events == DossierEvent.objects.count() > 3 * 1500
    assert result.ratings == Rating.objects.count() > 0
    dossiers = list(Dossier.objects.select_related("unit", "procedure").order_by("id"))
    for dossier in dossiers[::15]:
        dossier.full_clean()
    calendars = {
        u.pk: working_calendar(unit=u, start=START, end=END + timedelta(days=400))
        for u in world.units
    }
    for dossier in dossiers:
        assert dossier.applicant_search == search_key(dossier.applicant_name)
        assert CODE.match(dossier.code)
        if dossier.received_at is None:
            assert dossier.status in (Status.SUBMITTED, Status.REFUSED)
            continue
        assert calendars[dossier.unit_id].outside_hours_reason(dossier.received_at) is None
        assert dossier.received_at <= NOW
        if dossier.resolved_at is not None:
            assert dossier.resolved_at >= dossier.received_at
        if dossier.returned_at is not None:
            assert dossier.returned_at >= dossier.resolved_at
    for rating in Rating.objects.select_related("dossier"):
        assert rating.dossier.status == Status.RETURNED
        assert rating.dossier.returned_at < rating.created_at <= NOW
    scores = Counter(Rating.objects.values_list("score", flat=True))
    satisfied = scores[RatingScore.VERY_SATISFIED] + scores[RatingScore.SATISFIED]
    assert satisfied / sum(scores.values()) >= 0.97


def test_due_dates_and_traces_come_from_the_deadline_engine(world):
    for row in generate(world, count=600)[::3]:
        dossier = columns(row)
        if dossier["received_at"] is None or row.pause is not None:
            continue
        deadline = procedure_deadline(
            procedure=Procedure.objects.get(pk=dossier["procedure_id"]),
            unit=Unit.objects.get(pk=dossier["unit_id"]),
            received_at=dossier["received_at"],
        )
        assert dossier["due_at"] == deadline.due_at
        assert dossier["deadline_trace"] == deadline.trace_as_json()


def test_timeliness_is_the_services_classification(world):
    rows = [columns(r) for r in generate(world, count=3000, start=date(2026, 9, 1))]
    statuses = Counter(r["status"] for r in rows)
    assert statuses[Status.SUPPLEMENT_REQUESTED] and statuses[Status.IN_PROGRESS]
    overdue = 0
    for row in rows:
        if row["resolved_at"] is not None:
            expected = resolution_timeliness(row["resolved_at"], row["due_at"], VN_TZ)
            assert row["timeliness"] == expected
        elif row["status"] in (Status.WITHDRAWN, Status.STOPPED):
            assert row["timeliness"] == ""
            assert row["closed_at"] is not None and row["close_reason"]
        elif row["status"] in OPEN_STATUSES:
            assert row["timeliness"] == open_timeliness(NOW, row["due_at"], row["paused_at"])
            if row["timeliness"] == Timeliness.OVERDUE:
                overdue += 1
                assert row["due_at"] < NOW
            assert (row["paused_at"] is not None) == (row["status"] == Status.SUPPLEMENT_REQUESTED)
        else:
            assert row["status"] in (Status.SUBMITTED, Status.REFUSED)
            assert row["timeliness"] == "" and row["received_at"] is None
    assert overdue > 0


def test_events_tell_each_story_in_order(world):
    for row in generate(world, count=800):
        dossier = columns(row)
        events = [dict(zip(EVENT_COLUMNS, e, strict=True)) for e in row.events]
        assert events[0]["action"] in (Action.RECEIVE, Action.SUBMIT)
        assert events[0]["data"][HISTORY_MARK] is True
        previous = ""
        for event in events:
            assert event["from_status"] == previous
            previous = event["to_status"]
        assert previous == dossier["status"]
        assert [e["at"] for e in events] == sorted(e["at"] for e in events)
        if row.pause is not None:
            assert Action.REQUEST_SUPPLEMENT in [e["action"] for e in events]


def test_live_intake_numbers_on_after_the_history(world):
    commune = world.communes[0]
    week = [date(2026, 10, 12) + timedelta(days=n) for n in range(5)]  # Monday to Friday
    for day in week:  # five dossiers were received on each of these days already
        DayCounter.objects.create(unit=commune, day=day, last=5)
    create_history(units=world.units, start=START, end=END, count=1500, seed=3, now=NOW)
    assert history_exists()
    numbers: dict[tuple[int, date], list[int]] = {}
    for code, unit_id in Dossier.objects.values_list("code", "unit_id"):
        match = CODE.match(code)
        assert match is not None
        day = datetime.strptime(match["day"], "%y%m%d").date()
        numbers.setdefault((unit_id, day), []).append(int(match["number"]))
    continued = 0
    for (unit_id, day), taken in numbers.items():
        first = 6 if unit_id == commune.pk and day in week else 1
        continued += first == 6
        assert sorted(taken) == list(range(first, first + len(taken)))
        assert DayCounter.objects.get(unit_id=unit_id, day=day).last == max(taken)
    assert continued > 0

    procedure = Procedure.objects.get(level="commune", same_day=True)
    counter = DayCounter.objects.get(unit=commune, day=week[0])
    live = receive_dossier(
        procedure=procedure,
        unit=commune,
        channel=Channel.IN_PERSON,
        applicant=Applicant("Nguyễn Văn An", "015090001234", "0912345678"),
        by=MembershipFactory(unit=commune, role=Role.COUNTER_OFFICER).user,
        received_at=datetime(2026, 10, 12, 16, 0, tzinfo=VN_TZ),
    )
    assert live.code == f"{commune.code}-261012-{counter.last + 1:04d}"


def test_nothing_happens_after_now_and_history_ends_before_today(world):
    rows = generate(world, count=1000, start=date(2026, 10, 1))
    moments = [
        moment
        for row in rows
        for moment in (*[e[0] for e in row.events], row.rating and row.rating[2])
        if moment
    ]
    assert max(moments) <= NOW
    plan = history_world(units=world.units, start=START, end=END, seed=1)
    with pytest.raises(ValueError):
        list(iter_history_rows(plan, start=START, end=NOW.date(), count=10, seed=1, now=NOW))
