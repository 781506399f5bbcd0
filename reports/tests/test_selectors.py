"""Biểu số II.06a from a hand-built district: every column counted by hand.

The scenario is built through the real services (reports/tests/factories.py ``lifecycle``), each
step at its own moment, so statuses, due dates and timeliness are the services' own. The period is
the official October 2026: 15/09/2026 00:00 – 15/10/2026 00:00 in Asia/Ho_Chi_Minh.

Dossiers (procedures: H = Hộ tịch, commune, fully online, 10 working days; C = Chứng thực,
commune, not online, 5 working days; D = Đất đai, district, partly online, 15 working days):

== commune A01 ==
A  H in person, received 07/09 (before), resolved 16/09, early          carried, early
Q  H in person, received 07/09 (before), resolved at 15/09 00:00, early carried, early
N  H in person, received 01/09, resolved 10/09                          nothing
B  H online, submitted Sat 19/09, accepted 21/09 09:00 (due 05/10 09:00),
   resolved 05/10 08:00 (on time), returned, rated very satisfied 06/10  online, on time, rating
C  H by post (digitized at intake), received 22/09 (due 06/10), resolved 07/10 with a digitized
   result (late), rated dissatisfied on 20/10 (after the period)      postal, late
D  H in person, received 01/10, withdrawn 02/10                         in person, withdrawn
F  H online, submitted 02/10, refused 05/10                             nothing
G  H online, submitted 08/10, never accepted                            nothing
J  C in person, received 28/09 (due 05/10 09:00), paused 07/10 (after its due date)
                                                                        in person, overdue
M  H in person, received 14/10 23:59:59 (the period's last second)      in person, in time
== commune A02 ==
B2 H online, submitted 14/09 20:00, accepted 15/09 09:00, resolved 21/09 (early), returned,
   rated neutral 23/09                                                  online, early, rating
E  C in person, received 02/10, stopped 05/10                           in person, withdrawn
H  C in person, received 28/09 (due 05/10), resolved 20/10 (after the period)
                                                                        in person, overdue
I  C in person, received 01/10 (due 08/10 09:00), paused 06/10 (before its due date)
                                                                        in person, in time
K  H in person, received at 15/09 00:00 exactly (due 28/09 17:30), resolved 28/09 16:00
                                                                        in person, on time
L  H in person, received at 15/10 00:00 exactly (the first moment after) nothing
R  H in person, received 12/10, withdrawn at 15/10 00:00 exactly        in person, in time
== the district's own ==
O  D in person, received 07/09 (due 28/09), still open                  carried, overdue
P  D online, accepted 12/10 (due 02/11)                                 online, in time
== another district ==
X  H in person at its commune, received 01/10                           nothing
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.translation import override

from dossiers.choices import Channel, RatingScore, Status, Timeliness
from reports.cells import CELLS
from reports.periods import CALENDAR, custom_period, parse_period
from reports.selectors import Counts, ReportError, monthly_statistics

from .factories import District, act, at, district_world, lifecycle, rating_at

pytestmark = pytest.mark.django_db

START = at(2026, 9, 15)
END = at(2026, 10, 15)  # the first moment after the period
NOW = at(2026, 12, 1, 10, 0)
OCTOBER = parse_period("2026-10")

# The form's columns in its order (4, 5 split in three, 6, 8, 9, 10, 12, 13) and withdrawn.
COLUMNS = CELLS


def counts(
    online=0,
    in_person=0,
    postal=0,
    carried=0,
    early=0,
    on_time=0,
    late=0,
    in_time=0,
    overdue=0,
    withdrawn=0,
) -> dict[str, int]:
    return dict(
        zip(
            COLUMNS,
            (online, in_person, postal, carried, early, on_time, late, in_time, overdue, withdrawn),
            strict=True,
        )
    )


def columns(c: Counts) -> dict[str, int]:
    return {name: getattr(c, name) for name in COLUMNS}


EXPECTED_A01 = counts(
    online=1, in_person=3, postal=1, carried=2, early=2, on_time=1, late=1, in_time=1, overdue=1
) | {"withdrawn": 1}
EXPECTED_A02 = counts(online=1, in_person=5, early=1, on_time=1, in_time=2, overdue=1, withdrawn=1)
EXPECTED_OWN = counts(online=1, carried=1, in_time=1, overdue=1)
EXPECTED_COMMUNES = {k: EXPECTED_A01[k] + EXPECTED_A02[k] for k in COLUMNS}
EXPECTED_TOTAL = {k: EXPECTED_COMMUNES[k] + EXPECTED_OWN[k] for k in COLUMNS}


@pytest.fixture
def world() -> District:
    return district_world(communes=2)


@pytest.fixture
def scenario(world):
    """The dossiers of the module docstring, by letter."""
    a01, a02 = world.communes
    h, c, d = world.online_procedure, world.offline_procedure, world.district_procedure
    built = {}

    def make(name, **kwargs):
        built[name] = lifecycle(world, **kwargs)
        return built[name]

    # Commune A01.
    make(
        "A",
        unit=a01,
        procedure=h,
        at=at(2026, 9, 7, 9),
        steps=[("start", at(2026, 9, 7, 10)), ("resolve", at(2026, 9, 16, 10))],
    )
    make(
        "Q",
        unit=a01,
        procedure=h,
        at=at(2026, 9, 7, 10),
        steps=[("start", at(2026, 9, 7, 11)), ("resolve", START)],
    )
    make(
        "N",
        unit=a01,
        procedure=h,
        at=at(2026, 9, 1, 9),
        steps=[("start", at(2026, 9, 1, 10)), ("resolve", at(2026, 9, 10, 9))],
    )
    make(
        "B",
        unit=a01,
        procedure=h,
        channel=Channel.ONLINE,
        at=at(2026, 9, 19, 10),
        steps=[
            ("accept", at(2026, 9, 21, 9)),
            ("start", at(2026, 9, 21, 10)),
            ("resolve", at(2026, 10, 5, 8)),
            ("return", at(2026, 10, 6, 9)),
            ("rate", at(2026, 10, 6, 10), {"score": RatingScore.VERY_SATISFIED}),
        ],
    )
    make(
        "C",
        unit=a01,
        procedure=h,
        channel=Channel.POSTAL,
        digitized_intake=True,
        at=at(2026, 9, 22, 9),
        steps=[
            ("start", at(2026, 9, 22, 10)),
            ("resolve", at(2026, 10, 7, 9), {"digitized_result": True}),
        ],
    )
    rating_at(built["C"], score=RatingScore.DISSATISFIED, moment=at(2026, 10, 20, 9))
    make(
        "D",
        unit=a01,
        procedure=h,
        at=at(2026, 10, 1, 9),
        steps=[("withdraw", at(2026, 10, 2, 10))],
    )
    make(
        "F",
        unit=a01,
        procedure=h,
        channel=Channel.ONLINE,
        at=at(2026, 10, 2, 9),
        steps=[("refuse", at(2026, 10, 5, 9))],
    )
    make("G", unit=a01, procedure=h, channel=Channel.ONLINE, at=at(2026, 10, 8, 9))
    make(
        "J",
        unit=a01,
        procedure=c,
        at=at(2026, 9, 28, 9),
        steps=[("start", at(2026, 9, 28, 10)), ("request_supplement", at(2026, 10, 7, 10))],
    )
    make("M", unit=a01, procedure=h, at=at(2026, 10, 14, 23, 59, 59))
    # Commune A02.
    make(
        "B2",
        unit=a02,
        procedure=h,
        channel=Channel.ONLINE,
        at=at(2026, 9, 14, 20),
        steps=[
            ("accept", at(2026, 9, 15, 9)),
            ("start", at(2026, 9, 15, 10)),
            ("resolve", at(2026, 9, 21, 9)),
            ("return", at(2026, 9, 22, 9)),
            ("rate", at(2026, 9, 23, 9), {"score": RatingScore.NEUTRAL}),
        ],
    )
    make(
        "E",
        unit=a02,
        procedure=c,
        at=at(2026, 10, 2, 9),
        steps=[("start", at(2026, 10, 2, 10)), ("stop", at(2026, 10, 5, 10))],
    )
    make(
        "H",
        unit=a02,
        procedure=c,
        at=at(2026, 9, 28, 9),
        steps=[("start", at(2026, 9, 28, 10)), ("resolve", at(2026, 10, 20, 9))],
    )
    make(
        "I",
        unit=a02,
        procedure=c,
        at=at(2026, 10, 1, 9),
        steps=[("request_supplement", at(2026, 10, 6, 10))],
    )
    make(
        "K",
        unit=a02,
        procedure=h,
        at=START,
        steps=[("start", at(2026, 9, 15, 8)), ("resolve", at(2026, 9, 28, 16))],
    )
    make("L", unit=a02, procedure=h, at=END)
    make("R", unit=a02, procedure=h, at=at(2026, 10, 12, 9), steps=[("withdraw", END)])
    # The district's own.
    make("O", unit=world.district, procedure=d, at=at(2026, 9, 7, 9))
    make(
        "P",
        unit=world.district,
        procedure=d,
        channel=Channel.ONLINE,
        at=at(2026, 10, 12, 8),
        steps=[("accept", at(2026, 10, 12, 9))],
    )
    # Another district's commune.
    make("X", unit=world.other_commune, procedure=h, at=at(2026, 10, 1, 9))
    return built


def test_the_scenario_is_what_the_docstring_says(scenario):
    """The services' own timestamps and classifications that the counts below rely on."""
    s = scenario
    assert (s["A"].timeliness, s["Q"].timeliness, s["B2"].timeliness) == ("early",) * 3
    assert (s["B"].due_at, s["B"].timeliness) == (at(2026, 10, 5, 9), Timeliness.ON_TIME)
    assert (s["C"].due_at, s["C"].timeliness) == (at(2026, 10, 6, 9), Timeliness.LATE)
    assert (s["K"].received_at, s["K"].due_at) == (START, at(2026, 9, 28, 17, 30))
    assert s["K"].timeliness == Timeliness.ON_TIME
    assert s["J"].due_at == at(2026, 10, 5, 9) and s["J"].paused_at == at(2026, 10, 7, 10)
    assert s["I"].due_at == at(2026, 10, 8, 9) and s["I"].paused_at == at(2026, 10, 6, 10)
    assert s["H"].due_at == at(2026, 10, 5, 9) and s["H"].timeliness == Timeliness.LATE
    assert s["O"].due_at == at(2026, 9, 28, 9)
    assert (s["F"].status, s["F"].received_at) == (Status.REFUSED, None)
    assert (s["G"].status, s["G"].received_at) == (Status.SUBMITTED, None)
    assert s["E"].status == Status.STOPPED and s["D"].status == Status.WITHDRAWN
    assert (s["L"].received_at, s["R"].closed_at) == (END, END)


def test_district_report_by_unit_counts_every_column(world, scenario):
    report = monthly_statistics(unit=world.district, period=OCTOBER, group_by="unit", now=NOW)
    a01, a02 = world.communes
    assert [row.key for row in report.rows] == [world.district.code, a01.code, a02.code]
    own, first, second = report.rows
    assert columns(own.counts) == EXPECTED_OWN
    assert columns(first.counts) == EXPECTED_A01
    assert columns(second.counts) == EXPECTED_A02
    assert columns(report.commune_subtotal) == EXPECTED_COMMUNES
    assert columns(report.total) == EXPECTED_TOTAL


def test_the_sums_of_the_form(world, scenario):
    report = monthly_statistics(unit=world.district, period=OCTOBER, now=NOW)
    total = report.total
    # Column 3 = 4 + 5 + 6; 7 = 8 + 9 + 10; 11 = 12 + 13; and 3 = 7 + 11 + withdrawn.
    assert (total.received, total.received_in_period, total.carried_over) == (15, 12, 3)
    assert (total.resolved, total.pending, total.withdrawn) == (6, 7, 2)
    for row in [*report.rows]:
        assert row.counts.balanced, row.key
    assert report.commune_subtotal.balanced and total.balanced


def test_indicators_beside_the_form(world, scenario):
    report = monthly_statistics(unit=world.district, period=OCTOBER, now=NOW)
    total = report.total
    # Received in the period for procedures offered online: all but J, E, H, I (not online).
    assert total.online_eligible == 8
    assert (total.digitized_intake, total.digitized_result) == (1, 1)
    # Ratings created in the period: B (very satisfied) and B2 (neutral); C's came later.
    assert (total.ratings, total.satisfied) == (2, 1)
    assert report.indicators == pytest.approx(
        {
            "on_time_rate": 5 / 6,
            "online_rate": 3 / 8,
            "digitized_intake_rate": 1 / 12,
            "digitized_result_rate": 1 / 6,
            "satisfaction_rate": 1 / 2,
        }
    )


def test_rows_by_field(world, scenario):
    report = monthly_statistics(unit=world.district, period=OCTOBER, group_by="field", now=NOW)
    rows = {row.key: columns(row.counts) for row in report.rows}
    assert rows == {
        "ho-tich": counts(
            online=2,
            in_person=4,
            postal=1,
            carried=2,
            early=3,
            on_time=2,
            late=1,
            in_time=2,
            withdrawn=1,
        ),
        "chung-thuc": counts(in_person=4, in_time=1, overdue=2, withdrawn=1),
        "dat-dai": counts(online=1, carried=1, in_time=1, overdue=1),
    }
    assert columns(report.total) == EXPECTED_TOTAL
    assert report.commune_subtotal is None
    labels = {row.key: row.label for row in report.rows}
    assert labels == {"ho-tich": "Hộ tịch", "chung-thuc": "Chứng thực", "dat-dai": "Đất đai"}


def test_a_communes_report_has_only_its_own_dossiers(world, scenario):
    a01, a02 = world.communes
    first = monthly_statistics(unit=a01, period=OCTOBER, now=NOW)
    assert [row.key for row in first.rows] == [a01.code]
    assert columns(first.rows[0].counts) == EXPECTED_A01
    assert columns(first.total) == EXPECTED_A01
    second = monthly_statistics(unit=a02, period=OCTOBER, group_by="field", now=NOW)
    assert columns(second.total) == EXPECTED_A02
    assert {row.key for row in second.rows} == {"ho-tich", "chung-thuc"}
    assert (second.total.ratings, second.total.satisfied) == (1, 0)


def test_the_district_row_and_the_province_see_the_same_numbers(world, scenario):
    province = monthly_statistics(unit=world.province, period=OCTOBER, now=NOW)
    rows = {row.key: row for row in province.rows}
    assert columns(rows[world.district.code].counts) == EXPECTED_TOTAL
    # The other district's one dossier, received in person on 01/10 and still open.
    assert columns(rows[world.other_district.code].counts) == counts(in_person=1, in_time=1)
    assert columns(province.rows[0].counts) == counts()  # the province received nothing itself


def test_the_numbers_come_from_timestamps_not_from_todays_status(world, scenario):
    """October's report run in December gives October's numbers; so does a report run on the
    last evening of October's period, and one run at its very end."""
    late = monthly_statistics(unit=world.district, period=OCTOBER, now=NOW)
    at_end = monthly_statistics(unit=world.district, period=OCTOBER, now=END)
    assert columns(late.total) == columns(at_end.total) == EXPECTED_TOTAL


def test_the_next_period_carries_over_what_was_pending(world, scenario):
    november = monthly_statistics(unit=world.district, period=parse_period("2026-11"), now=NOW)
    october = monthly_statistics(unit=world.district, period=OCTOBER, now=NOW)
    for before, after in zip(october.rows, november.rows, strict=True):
        assert after.counts.carried_over == before.counts.pending, after.key
    a01_nov, a02_nov = november.rows[1].counts, november.rows[2].counts
    # L (received at 15/10 00:00) and H's late resolution on 20/10 belong to November.
    assert a02_nov.received_in_person == 1 and a02_nov.resolved_late == 1
    # R was withdrawn at 15/10 00:00: November's withdrawn column.
    assert a02_nov.withdrawn == 1
    assert a01_nov.ratings == 1 and a01_nov.satisfied == 0  # C's rating on 20/10


def test_the_calendar_month(world, scenario):
    """Calendar October, 01/10 – 31/10, judged at 01/11 00:00."""
    report = monthly_statistics(
        unit=world.district, period=parse_period("2026-10", basis=CALENDAR), now=NOW
    )
    # Received: D, M, E, I, L, R in person and P online. Carried over (open at 01/10): B, C, J,
    # H, O. Resolved: B on time, C and H late. Withdrawn or stopped: D, E, R. Pending at 01/11:
    # I (paused before its due date) and P in time; J, M and L (both due 28/10) and O overdue.
    assert columns(report.total) == counts(
        online=1, in_person=6, carried=5, on_time=1, late=2, in_time=2, overdue=4, withdrawn=3
    )
    period = report.as_json()["period"]
    assert (period["start"], period["end"], period["basis"]) == (
        "2026-10-01",
        "2026-10-31",
        CALENDAR,
    )


def test_a_range_of_one_day_at_the_boundary(world, scenario):
    """15/10 alone: L received at its first moment, R withdrawn at its first moment (and so
    still pending, carried over, when the day began)."""
    report = monthly_statistics(
        unit=world.district, period=custom_period(END.date(), END.date()), now=NOW
    )
    assert columns(report.rows[2].counts) == counts(
        in_person=1, carried=3, in_time=2, overdue=1, withdrawn=1
    )
    assert report.total.balanced


def test_an_empty_period_is_all_zeros(world):
    report = monthly_statistics(unit=world.district, period=OCTOBER, now=NOW)
    assert [row.key for row in report.rows] == [
        world.district.code,
        *(c.code for c in world.communes),
    ]
    for row in report.rows:
        assert row.counts == Counts()
    assert report.total == Counts() and report.commune_subtotal == Counts()
    assert set(report.indicators.values()) == {None}
    data = report.as_json()
    assert data["total"]["received"]["total"] == 0
    by_field = monthly_statistics(unit=world.district, period=OCTOBER, group_by="field", now=NOW)
    assert by_field.rows == [] and by_field.total == Counts()


def test_an_unknown_grouping_is_refused(world):
    with override("en"), pytest.raises(ReportError, match="Unknown grouping “procedure”"):
        monthly_statistics(unit=world.district, period=OCTOBER, group_by="procedure")


# --- The JSON contract (DESIGN.md §5) -----------------------------------------------------------

CONTRACT_KEYS = {"unit", "period", "rows", "total", "indicators"}
# Documented beside the contract by the selector: how the period is named, the grouping, the
# moment the numbers stand at, the rating and digitization counts behind the rates, the closed
# snapshot (null while open) and, grouped by unit, the communes' subtotal.
EXTRA_KEYS = {"group_by", "as_of", "ratings", "digitized", "closed"}
FORM = {
    "received": {"total", "online", "in_person", "postal", "carried_over"},
    "resolved": {"total", "early", "on_time", "late"},
    "pending": {"total", "in_time", "overdue"},
}


def _shape(numbers: dict) -> None:
    assert set(numbers) >= {*FORM, "withdrawn"}
    for group, keys in FORM.items():
        assert set(numbers[group]) == keys
        assert all(type(v) is int for v in numbers[group].values())
    assert type(numbers["withdrawn"]) is int


def test_as_json_has_the_contracts_keys(world, scenario):
    data = monthly_statistics(unit=world.district, period=OCTOBER, now=NOW).as_json()
    assert set(data) == CONTRACT_KEYS | EXTRA_KEYS | {"commune_subtotal"}
    assert data["unit"] == {"code": world.district.code, "name": world.district.name}
    assert {"start", "end", "basis"} <= set(data["period"])
    assert (data["period"]["start"], data["period"]["end"], data["period"]["basis"]) == (
        "2026-09-15",
        "2026-10-14",
        "official",
    )
    assert set(data["indicators"]) == {
        "on_time_rate",
        "online_rate",
        "digitized_intake_rate",
        "digitized_result_rate",
        "satisfaction_rate",
    }
    for row in data["rows"]:
        assert set(row) == {"key", "label", *FORM, "withdrawn"}
        _shape(row)
    _shape(data["total"])
    _shape(data["commune_subtotal"])
    assert data["closed"] is None
    assert data["total"] == {
        "received": {"total": 15, "online": 3, "in_person": 8, "postal": 1, "carried_over": 3},
        "resolved": {"total": 6, "early": 3, "on_time": 2, "late": 1},
        "pending": {"total": 7, "in_time": 4, "overdue": 3},
        "withdrawn": 2,
    }
    assert data["commune_subtotal"]["received"]["total"] == 13


def test_as_json_by_field_has_no_commune_subtotal(world, scenario):
    data = monthly_statistics(
        unit=world.district, period=OCTOBER, group_by="field", now=NOW
    ).as_json()
    assert set(data) == CONTRACT_KEYS | EXTRA_KEYS
    assert [row["key"] for row in data["rows"]]  # rows there, each with the form's numbers


# --- Query count --------------------------------------------------------------------------------


def _queries(unit, group_by) -> int:
    with CaptureQueriesContext(connection) as queries:
        monthly_statistics(unit=unit, period=OCTOBER, group_by=group_by, now=NOW)
    return len(queries.captured_queries)


@pytest.mark.parametrize("group_by", ["unit", "field"])
def test_the_query_count_does_not_grow_with_the_communes(group_by):
    small, large = district_world(communes=2), district_world(communes=10)
    for world in (small, large):
        for n, commune in enumerate(world.communes):
            procedure = world.online_procedure if n % 2 else world.offline_procedure
            lifecycle(world, unit=commune, procedure=procedure, at=at(2026, 10, 1, 9))
            lifecycle(
                world,
                unit=commune,
                procedure=world.online_procedure,
                at=at(2026, 9, 20, 9),
                steps=[("start", at(2026, 9, 21, 9)), ("resolve", at(2026, 9, 22, 9))],
            )
    assert _queries(small.district, group_by) == _queries(large.district, group_by)
    # Units, snapshot lookup, the dossiers' cells, the ratings (and, by field, the fields' names).
    assert _queries(large.district, group_by) == {"unit": 4, "field": 5}[group_by]


@pytest.mark.parametrize("closing", ["withdraw", "stop"])
def test_a_paused_dossier_closed_after_the_period_stays_in_time_in_it(world, closing):
    """Paused before its due date, it was in time at the end of October; withdrawing or stopping
    it in November (which ends the pause) must not make October's report call it overdue."""
    a01 = world.communes[0]
    dossier = lifecycle(
        world,
        unit=a01,
        procedure=world.offline_procedure,
        at=at(2026, 10, 1, 9),  # due 08/10 09:00
        steps=[("request_supplement", at(2026, 10, 6, 10))],
    )
    assert dossier.due_at == at(2026, 10, 8, 9)
    before = monthly_statistics(unit=world.district, period=OCTOBER, now=NOW)
    assert columns(before.total) == counts(in_person=1, in_time=1)
    act(world, dossier, closing, at(2026, 11, 2, 9))
    after = monthly_statistics(unit=world.district, period=OCTOBER, now=NOW)
    assert columns(after.total) == counts(in_person=1, in_time=1)


def test_a_pause_supplied_after_the_period_leaves_it_in_time_there(world):
    """Paused before its due date, supplied and resolved in November: the due date moves by the
    time waited, and October still counts the dossier pending in time."""
    dossier = lifecycle(
        world,
        unit=world.communes[0],
        procedure=world.offline_procedure,
        at=at(2026, 10, 1, 9),  # due 08/10 09:00
        steps=[("start", at(2026, 10, 1, 10)), ("request_supplement", at(2026, 10, 6, 10))],
    )
    before = columns(monthly_statistics(unit=world.district, period=OCTOBER, now=NOW).total)
    dossier = act(world, dossier, "supplement", at(2026, 11, 2, 9))
    assert dossier.due_at > END and dossier.paused_at is None
    dossier = act(world, dossier, "resolve", at(2026, 11, 3, 9))
    after = columns(monthly_statistics(unit=world.district, period=OCTOBER, now=NOW).total)
    assert before == after == counts(in_person=1, in_time=1)


def test_a_pause_asked_after_the_period_does_not_save_an_overdue_dossier(world):
    dossier = lifecycle(
        world,
        unit=world.communes[0],
        procedure=world.offline_procedure,
        at=at(2026, 10, 1, 9),  # due 08/10 09:00: overdue at the end of October
        steps=[("start", at(2026, 10, 1, 10))],
    )
    act(world, dossier, "request_supplement", at(2026, 10, 20, 9))
    report = monthly_statistics(unit=world.district, period=OCTOBER, now=NOW)
    assert columns(report.total) == counts(in_person=1, overdue=1)


def test_the_online_rate_stays_a_fraction_when_a_procedure_goes_offline(world):
    """A procedure taken off the online list after dossiers were received online for it: those
    dossiers were eligible when they came, so the rate cannot pass 100 %."""
    from procedures.choices import OnlineLevel
    from procedures.models import Procedure
    from procedures.tests.factories import ProcedureFactory

    withdrawn_online = ProcedureFactory(
        name="Cấp bản sao trích lục hộ tịch", level="commune", online_level=OnlineLevel.FULL
    )
    a01 = world.communes[0]
    for procedure in (world.online_procedure, withdrawn_online):
        lifecycle(
            world,
            unit=a01,
            procedure=procedure,
            channel=Channel.ONLINE,
            at=at(2026, 10, 1, 9),
            steps=[("accept", at(2026, 10, 1, 10))],
        )
    Procedure.objects.filter(pk=withdrawn_online.pk).update(online_level=OnlineLevel.NONE)
    report = monthly_statistics(unit=world.district, period=OCTOBER, now=NOW)
    assert report.total.received_online == 2
    assert report.total.received_online <= report.total.online_eligible
    assert 0 <= report.indicators["online_rate"] <= 1


@pytest.mark.parametrize("closing", ["withdraw", "stop", "supplement"])
def test_a_pause_asked_at_the_due_moment_itself_stays_in_time_in_the_past(world, closing):
    """Paused exactly at its due moment, the dossier is in time (now <= due_at); ending the pause
    in November must not turn October's in-time count into an overdue one."""
    dossier = lifecycle(
        world,
        unit=world.communes[0],
        procedure=world.offline_procedure,
        at=at(2026, 10, 1, 9),  # due 08/10 09:00
        steps=[("start", at(2026, 10, 1, 10)), ("request_supplement", at(2026, 10, 8, 9))],
    )
    assert dossier.paused_at == dossier.due_at == at(2026, 10, 8, 9)
    assert dossier.timeliness == Timeliness.IN_TIME
    before = columns(monthly_statistics(unit=world.district, period=OCTOBER, now=NOW).total)
    assert before == counts(in_person=1, in_time=1)
    act(world, dossier, closing, at(2026, 11, 2, 9))
    after = columns(monthly_statistics(unit=world.district, period=OCTOBER, now=NOW).total)
    assert after == before
