"""Closing statutory periods: the closing day, snapshots made once, frozen reports with their
corrections, two closers at once, and the beat entry that runs it."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
import threading
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, connections

from dossiers.choices import Channel, Status, Timeliness
from dossiers.importers import CSV_COLUMNS, parse_csv
from dossiers.models import Dossier
from dossiers.services import import_dossiers
from procedures.choices import CalendarDayKind
from procedures.services import add_calendar_day, seed_holidays
from reports.models import ReportSnapshot, SnapshotCell
from reports.periods import CALENDAR, month_period, parse_period
from reports.selectors import Correction, live_cells, monthly_statistics
from reports.services import ClosingResult, close_due_periods, close_period, closing_day
from reports.tasks import close_periods_task

from .factories import at, district_world, lifecycle

ROOT = Path(__file__).resolve().parents[2]

# --- The closing day ----------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("key", "closes"),
    [
        ("2026-08", date(2026, 8, 18)),  # Friday 14/08: Monday 17, Tuesday 18
        ("2026-05", date(2026, 5, 18)),  # Thursday 14/05: Friday 15, Monday 18
        ("2026-11", date(2026, 11, 17)),  # Saturday 14/11: Monday 16, Tuesday 17
        ("2026-10", date(2026, 10, 16)),  # Wednesday 14/10: Thursday 15, Friday 16
    ],
)
def test_a_period_closes_two_working_days_after_the_14th(key, closes):
    assert closing_day(parse_period(key)) == closes


@pytest.mark.django_db
def test_a_day_off_moves_the_closing_day():
    add_calendar_day(day=date(2026, 8, 17), kind=CalendarDayKind.DAY_OFF, name="Nghỉ đột xuất")
    assert closing_day(parse_period("2026-08")) == date(2026, 8, 19)


@pytest.mark.django_db
def test_a_make_up_working_day_counts():
    add_calendar_day(day=date(2026, 8, 15), kind=CalendarDayKind.WORKING_DAY, name="Làm bù")
    assert closing_day(parse_period("2026-08")) == date(2026, 8, 17)


@pytest.mark.django_db
def test_only_nationwide_days_count_not_a_units_own():
    world = district_world(communes=1)
    add_calendar_day(
        day=date(2026, 8, 17), kind=CalendarDayKind.DAY_OFF, name="Lễ hội xã", unit=world.district
    )
    assert closing_day(parse_period("2026-08")) == date(2026, 8, 18)


@pytest.mark.django_db
def test_tet_holidays_push_the_closing_day_past_them():
    seed_holidays(years=[2026])
    # Saturday 14/02/2026, then Tết from Monday 16 to Friday 20: Monday 23, Tuesday 24.
    assert closing_day(parse_period("2026-02")) == date(2026, 2, 24)
    # 2026-09 ends on Monday 14/09, after Quốc khánh: Tuesday 15, Wednesday 16.
    assert closing_day(parse_period("2026-09")) == date(2026, 9, 16)


# --- Closing due periods ------------------------------------------------------------------------


@pytest.fixture
def world(db):
    return district_world(communes=2)


@pytest.fixture
def history(world):
    """A little history from August to October 2026 (see each dossier's comment)."""
    a01, a02 = world.communes
    h, c, d = world.online_procedure, world.offline_procedure, world.district_procedure
    return {
        # August: the first dossier (03/08), resolved early two days later.
        "august": lifecycle(
            world,
            unit=a01,
            procedure=h,
            at=at(2026, 8, 3, 9),
            steps=[("start", at(2026, 8, 3, 10)), ("resolve", at(2026, 8, 5, 9))],
        ),
        # September's period: received 21/09 at the district, resolved early 25/09.
        "done": lifecycle(
            world,
            unit=world.district,
            procedure=d,
            at=at(2026, 9, 21, 9),
            steps=[("start", at(2026, 9, 21, 10)), ("resolve", at(2026, 9, 25, 9))],
        ),
        # October's period: A01, due 15/10 09:00, open at the end: pending in time.
        "open": lifecycle(world, unit=a01, procedure=h, at=at(2026, 10, 1, 9)),
        # October's period: A02, due 08/10 09:00, open at the end: pending overdue.
        "overdue": lifecycle(
            world,
            unit=a02,
            procedure=c,
            at=at(2026, 10, 1, 9),
            steps=[("start", at(2026, 10, 1, 10))],
        ),
    }


def test_nothing_to_close_without_dossiers(db):
    assert close_due_periods(now=at(2026, 10, 20, 9)) == ClosingResult(closed=[], already_closed=0)
    assert not ReportSnapshot.objects.exists()


def test_every_period_whose_closing_day_has_come_is_closed_once(history):
    # Thursday 15/10: October's period (to 14/10) closes on Friday 16/10, not yet.
    first = close_due_periods(now=at(2026, 10, 15, 12))
    assert first == ClosingResult(closed=["2026-08", "2026-09"], already_closed=0)
    again = close_due_periods(now=at(2026, 10, 15, 13))
    assert again == ClosingResult(closed=[], already_closed=2)
    # The closing day: October closes from its first moment.
    third = close_due_periods(now=at(2026, 10, 16, 0, 5))
    assert third == ClosingResult(closed=["2026-10"], already_closed=2)
    assert close_due_periods(now=at(2026, 10, 17, 0, 5)).closed == []
    snapshots = ReportSnapshot.objects.order_by("start")
    assert [(s.period_key, s.basis, s.start, s.end) for s in snapshots] == [
        ("2026-08", "official", date(2026, 7, 15), date(2026, 8, 14)),
        ("2026-09", "official", date(2026, 8, 15), date(2026, 9, 14)),
        ("2026-10", "official", date(2026, 9, 15), date(2026, 10, 14)),
    ]
    assert [s.closed_at for s in snapshots] == [
        at(2026, 10, 15, 12),
        at(2026, 10, 15, 12),
        at(2026, 10, 16, 0, 5),
    ]


def test_the_closing_day_is_vietnams_day_not_utcs(history):
    # 16:30 UTC on 15/10 is 23:30 on Thursday 15/10 in Hà Nội: not yet October's closing day.
    result = close_due_periods(now=datetime(2026, 10, 15, 16, 30, tzinfo=UTC))
    assert result.closed == ["2026-08", "2026-09"]
    # 17:30 UTC on 15/10 is 00:30 on Friday 16/10 in Hà Nội: it has come.
    assert close_due_periods(now=datetime(2026, 10, 15, 17, 30, tzinfo=UTC)).closed == ["2026-10"]


def test_the_snapshot_holds_the_live_counts_of_every_unit_and_field(world, history):
    period = parse_period("2026-10")
    now = at(2026, 10, 16, 8)
    snapshot = close_period(period=period, now=now)
    live = live_cells(unit_ids=None, period=period, as_of=now)
    frozen = {
        (cell.unit_id, cell.field_id): cell
        for cell in SnapshotCell.objects.filter(snapshot=snapshot)
    }
    assert set(frozen) == set(live)
    for key, counts in live.items():
        for name, value in counts.as_dict().items():
            assert getattr(frozen[key], name) == value, (key, name)
    a01, a02 = world.communes
    h, c = world.online_procedure.field_id, world.offline_procedure.field_id
    assert frozen[(a01.pk, h)].pending_in_time == 1
    assert frozen[(a02.pk, c)].pending_overdue == 1


def test_closing_a_closed_period_again_returns_none(history):
    period = parse_period("2026-10")
    assert close_period(period=period, now=at(2026, 10, 16, 8)) is not None
    cells = SnapshotCell.objects.count()
    assert close_period(period=period, now=at(2026, 10, 16, 9)) is None
    assert ReportSnapshot.objects.count() == 1 and SnapshotCell.objects.count() == cells


def test_a_calendar_period_has_a_snapshot_of_its_own(history):
    """Only statutory months close by themselves; the unique guard is per basis."""
    close_period(period=parse_period("2026-10"), now=at(2026, 11, 2, 8))
    assert close_period(period=parse_period("2026-10", basis=CALENDAR), now=at(2026, 11, 2, 8))
    assert ReportSnapshot.objects.count() == 2


def test_the_task_closes_what_is_due(history, time_machine):
    time_machine.move_to(at(2026, 10, 16, 1), tick=False)
    assert close_periods_task() == ["2026-08", "2026-09", "2026-10"]
    assert close_periods_task() == []


# --- A closed period reads its snapshot ---------------------------------------------------------


def _import_late(world, **values) -> Dossier:
    row = {
        "code": "",
        "procedure": world.online_procedure.code,
        "unit": world.communes[0].code,
        "channel": Channel.IN_PERSON,
        "applicant_name": "Lê Văn Cường",
        "applicant_id_number": "015090009999",
        "applicant_phone": "0911222333",
        "received_at": "2026-10-02T09:00:00",
        "due_at": "",
        "resolved_at": "",
        "returned_at": "",
        "closed_at": "",
        "outcome": "",
        "digitized_intake": "0",
        "digitized_result": "0",
        "rating": "",
        **values,
    }
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerow(row)
    result = import_dossiers(parsed=parse_csv(out.getvalue()), by=None)
    return Dossier.objects.get(code=result.codes[0])


@pytest.fixture
def closed(world, history, time_machine):
    """October closed on its closing day, then the numbers as they were frozen."""
    time_machine.move_to(at(2026, 10, 16, 8), tick=False)
    close_due_periods()
    october = parse_period("2026-10")
    frozen = monthly_statistics(unit=world.district, period=october, now=at(2026, 10, 16, 8))
    return october, frozen


def test_a_closed_report_is_its_snapshot_with_no_corrections(world, closed):
    _october, frozen = closed
    assert frozen.snapshot is not None and frozen.corrections == []
    closed_json = frozen.as_json()["closed"]
    assert closed_json["corrections"] == []
    assert datetime.fromisoformat(closed_json["closed_at"]) == at(2026, 10, 16, 8)
    _own, a01, a02 = frozen.rows
    assert (a01.counts.received_in_person, a01.counts.pending_in_time) == (1, 1)
    assert (a02.counts.received_in_person, a02.counts.pending_overdue) == (1, 1)
    assert frozen.total.balanced


def test_later_changes_show_as_corrections_not_as_new_numbers(world, history, closed, time_machine):
    october, frozen = closed
    time_machine.move_to(at(2026, 11, 3, 9), tick=False)
    # An old dossier of A01 imported late, received inside October's period and still open
    # (due 16/10 09:00: in time at the period's end).
    late = _import_late(world)
    assert (late.status, late.received_at) == (Status.RECEIVED, at(2026, 10, 2, 9))
    # A02's overdue dossier, its resolution recorded late with the real date (09/10, late).
    Dossier.objects.filter(pk=history["overdue"].pk).update(
        status=Status.RESOLVED, resolved_at=at(2026, 10, 9, 9), timeliness=Timeliness.LATE
    )
    report = monthly_statistics(unit=world.district, period=october, now=at(2026, 11, 3, 9))
    # The numbers are the frozen ones...
    assert report.as_json()["rows"] == frozen.as_json()["rows"]
    assert report.as_json()["total"] == frozen.as_json()["total"]
    assert report.indicators == frozen.indicators
    # ... and each changed figure is listed once, frozen against live.
    _own, a01, a02 = report.rows
    assert report.corrections == [
        Correction(a01.label, "received_in_person", frozen=1, live=2, key=a01.key),
        Correction(a01.label, "pending_in_time", frozen=1, live=2, key=a01.key),
        Correction(a01.label, "online_eligible", frozen=1, live=2, key=a01.key),
        Correction(a02.label, "resolved_late", frozen=0, live=1, key=a02.key),
        Correction(a02.label, "pending_overdue", frozen=1, live=0, key=a02.key),
    ]
    first = report.as_json()["closed"]["corrections"][0]
    assert (first["row"], first["measure"], first["frozen"], first["live"]) == (
        a01.label,
        "received_in_person",
        1,
        2,
    )
    # The live numbers really changed: November's carried over follows them.
    november = monthly_statistics(
        unit=world.district, period=parse_period("2026-11"), now=at(2026, 11, 3, 9)
    )
    assert november.rows[1].counts.carried_over == 2  # A01: the open one and the late one
    assert november.rows[2].counts.carried_over == 0  # A02: resolved in October after all


def test_a_closed_report_by_field_and_of_a_commune(world, history, closed, time_machine):
    october, frozen = closed
    time_machine.move_to(at(2026, 11, 3, 9), tick=False)
    _import_late(world)
    by_field = monthly_statistics(
        unit=world.district, period=october, group_by="field", now=at(2026, 11, 3, 9)
    )
    assert by_field.total == frozen.total
    assert {(c.row, c.measure, c.frozen, c.live) for c in by_field.corrections} == {
        ("Hộ tịch", "received_in_person", 1, 2),
        ("Hộ tịch", "pending_in_time", 1, 2),
        ("Hộ tịch", "online_eligible", 1, 2),
    }
    a01 = world.communes[0]
    commune = monthly_statistics(unit=a01, period=october, now=at(2026, 11, 3, 9))
    assert commune.snapshot is not None
    assert commune.total == frozen.rows[1].counts
    assert [(c.measure, c.frozen, c.live) for c in commune.corrections] == [
        ("received_in_person", 1, 2),
        ("pending_in_time", 1, 2),
        ("online_eligible", 1, 2),
    ]
    # The other commune saw no change.
    assert monthly_statistics(unit=world.communes[1], period=october).corrections == []


def test_a_unit_created_after_the_closing_has_a_row_of_zeros(world, closed):
    """A commune created after the closing has no cells in the snapshot: its row is zeros."""
    from portal.choices import UnitLevel
    from portal.tests.factories import UnitFactory

    october, _frozen = closed
    UnitFactory(level=UnitLevel.COMMUNE, parent=world.district, name="UBND xã Mới")
    report = monthly_statistics(unit=world.district, period=october)
    assert len(report.rows) == 4
    assert report.rows[-1].counts.received == 0 and report.corrections == []


# --- Two closers at once (PostgreSQL) -----------------------------------------------------------


def _at_once(count, work):
    barrier = threading.Barrier(count)
    results, errors = [], []
    lock = threading.Lock()

    def run():
        try:
            barrier.wait(timeout=30)
            result = work()
            with lock:
                results.append(result)
        except BaseException as exc:
            with lock:
                errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results, errors


@pytest.mark.django_db(transaction=True)
def test_closers_at_once_make_one_snapshot_and_no_error():
    if connection.vendor != "postgresql":
        pytest.skip("concurrent connections need PostgreSQL (SQLite serialises every write)")
    world = district_world(communes=2)
    for commune in world.communes:
        lifecycle(world, unit=commune, procedure=world.online_procedure, at=at(2026, 10, 1, 9))
    period = parse_period("2026-10")
    results, errors = _at_once(4, lambda: close_period(period=period, now=at(2026, 10, 16, 8)))
    assert errors == []
    assert sorted(r is None for r in results) == [False, True, True, True]
    snapshot = ReportSnapshot.objects.get()
    assert SnapshotCell.objects.filter(snapshot=snapshot).count() == 2
    assert SnapshotCell.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_two_scheduled_runs_at_once_close_each_period_once():
    if connection.vendor != "postgresql":
        pytest.skip("concurrent connections need PostgreSQL (SQLite serialises every write)")
    world = district_world(communes=2)
    lifecycle(world, unit=world.communes[0], procedure=world.online_procedure, at=at(2026, 8, 3, 9))
    lifecycle(
        world, unit=world.communes[1], procedure=world.online_procedure, at=at(2026, 10, 1, 9)
    )
    results, errors = _at_once(4, lambda: close_due_periods(now=at(2026, 10, 16, 8)))
    assert errors == []
    closed = sorted(key for result in results for key in result.closed)
    assert closed == ["2026-08", "2026-09", "2026-10"]
    assert ReportSnapshot.objects.count() == 3
    assert all(result.already_closed + len(result.closed) == 3 for result in results)


# --- The beat entry -----------------------------------------------------------------------------


def test_the_beat_schedule_runs_the_closing_task_hourly_by_default():
    entry = settings.CELERY_BEAT_SCHEDULE["close-periods"]
    assert entry["task"] == close_periods_task.name == "reports.tasks.close_periods_task"
    if not os.environ.get("CLOSE_PERIODS_INTERVAL_SECONDS"):
        assert entry["schedule"] == 3600.0


def test_the_closing_interval_comes_from_the_environment(tmp_path):
    probe = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.CELERY_BEAT_SCHEDULE['close-periods']['schedule'])"
    )
    env = {**os.environ, "DEBUG": "1", "ENV_FILE": str(tmp_path / "none")}
    env.update(DJANGO_SETTINGS_MODULE="portal.settings", CLOSE_PERIODS_INTERVAL_SECONDS="900")
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "900.0"


def test_the_closing_task_is_registered_with_the_celery_app():
    from portal.celery import app

    app.loader.import_default_modules()
    assert "reports.tasks.close_periods_task" in app.tasks


def test_month_period_of_a_closing_day_is_the_next_period():
    """What close_due_periods starts from: on 16/10 the running period is November's."""
    assert month_period(date(2026, 10, 16)).key == "2026-11"


def test_a_closed_report_reads_a_fixed_number_of_queries(world, closed):
    from django.test.utils import CaptureQueriesContext

    october, _frozen = closed
    with CaptureQueriesContext(connection) as queries:
        monthly_statistics(unit=world.district, period=october, now=at(2026, 11, 3, 9))
    # Units, snapshot, its cells, the live cells and ratings (for the corrections).
    assert len(queries.captured_queries) == 5
