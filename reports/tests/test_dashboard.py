"""The manager's dashboard: who may see it, tiles equal to the monthly report, every number
leading to exactly its dossiers, the twelve-period trend, the units compared, the procedures, the
drill-down banner on the worklist, and a query count that does not grow with the units.

The scenario (now: Tuesday 13/10/2026 15:00, so the current statutory month is October 2026,
15/09/2026 – 14/10/2026; H = Hộ tịch, commune, fully online, 10 working days; C = Chứng thực,
commune, not online, 5 working days; D = Đất đai, district, partly online, 15 working days):

== commune A01 ==
old     H in person, received Mon 20/07 (August's period), resolved 21/07    August: early
online  H online, accepted 21/09, resolved 23/09, returned and rated 24/09  online, early, rating
late    C in person, received 21/09 (due 28/09 09:00), resolved 30/09       in person, late
== commune A02 ==
overdue C in person, received Thu 01/10 (due 08/10 09:00), still open       in person, overdue now
postal  C by post, received 12/10 (due 19/10), still open                   postal, in time
== the district's own ==
own     D in person, received 05/10, still open                             in person, in time
== another district ==
outside H in person, received 02/10                                        nothing
"""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.translation import gettext as _

from dossiers.choices import Channel, RatingScore
from dossiers.models import Dossier
from portal.choices import Role, UnitLevel
from portal.models import Unit
from portal.tests.factories import MembershipFactory, UnitFactory, UserFactory
from reports.cells import CELL_LABELS
from reports.charts import format_rate
from reports.dashboard_selectors import fold_by_row, procedure_counts, trend
from reports.periods import parse_period, trailing_periods
from reports.selectors import monthly_statistics
from reports.services import close_period

from .factories import (
    District,
    at,
    bulk_dossiers,
    district_world,
    dossier_row,
    lifecycle,
)

pytestmark = pytest.mark.django_db

NOW = at(2026, 10, 13, 15, 0)
OCTOBER = parse_period("2026-10")
AUGUST = parse_period("2026-08")
URL = reverse("reports:dashboard")
WORKLIST = reverse("dossiers:worklist")


def build_scenario(world: District) -> dict:
    a01, a02 = world.communes
    h, c, d = world.online_procedure, world.offline_procedure, world.district_procedure
    return {
        "old": lifecycle(
            world,
            unit=a01,
            procedure=h,
            at=at(2026, 7, 20, 9),
            steps=[("start", at(2026, 7, 20, 10)), ("resolve", at(2026, 7, 21, 10))],
        ),
        "online": lifecycle(
            world,
            unit=a01,
            procedure=h,
            channel=Channel.ONLINE,
            at=at(2026, 9, 21, 8),
            steps=[
                ("accept", at(2026, 9, 21, 9)),
                ("start", at(2026, 9, 21, 10)),
                ("resolve", at(2026, 9, 23, 10)),
                ("return", at(2026, 9, 24, 9)),
                ("rate", at(2026, 9, 24, 10), {"score": RatingScore.VERY_SATISFIED}),
            ],
        ),
        "late": lifecycle(
            world,
            unit=a01,
            procedure=c,
            at=at(2026, 9, 21, 9),
            steps=[("start", at(2026, 9, 21, 10)), ("resolve", at(2026, 9, 30, 10))],
        ),
        "overdue": lifecycle(world, unit=a02, procedure=c, at=at(2026, 10, 1, 9)),
        "postal": lifecycle(
            world, unit=a02, procedure=c, channel=Channel.POSTAL, at=at(2026, 10, 12, 9)
        ),
        "own": lifecycle(world, unit=world.district, procedure=d, at=at(2026, 10, 5, 9)),
        "outside": lifecycle(world, unit=world.other_commune, procedure=h, at=at(2026, 10, 2, 9)),
    }


@pytest.fixture
def world(time_machine) -> District:
    world = district_world(communes=2)
    world.scenario = build_scenario(world)  # type: ignore[attr-defined]
    time_machine.move_to(NOW, tick=False)
    return world


@pytest.fixture
def manager(world):
    return MembershipFactory(unit=world.district, role=Role.MANAGER).user


def tiles(response) -> dict:
    return {tile.key: tile for tile in response.context["tiles"]}


def listed_codes(client, href: str) -> set[str]:
    """The codes of the dossiers the worklist shows at ``href`` (one page is enough here)."""
    response = client.get(href)
    assert response.status_code == 200
    assert response.context["form"].is_valid(), response.context["form"].errors
    return {dossier.code for dossier, _remaining in response.context["rows"]}


def codes(world, *names: str) -> set[str]:
    return {world.scenario[name].code for name in names}


# --- Who may see it ----------------------------------------------------------------------------


def test_anonymous_users_are_sent_to_log_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_counter_officer_gets_the_forbidden_page(client, world):
    client.force_login(world.counter)
    response = client.get(URL)
    assert response.status_code == 403
    assert "dossiers/forbidden.html" in [t.name for t in response.templates]
    assert _("The dashboard is for managers.") in response.content.decode()


def test_a_citizen_gets_the_forbidden_page(client, world):
    client.force_login(world.citizen)
    assert client.get(URL).status_code == 403


def test_the_districts_manager_sees_the_district_by_default(client, world, manager):
    client.force_login(manager)
    response = client.get(URL)
    assert response.status_code == 200
    board = response.context["board"]
    assert board.unit == world.district
    assert board.period == OCTOBER  # the statutory month that contains today
    page = response.content.decode()
    # The picker offers the district and its communes, not the other district.
    assert [code for code, _name in response.context["unit_options"]] == [
        world.district.code,
        *(c.code for c in world.communes),
    ]
    assert world.other_district.name not in page


def test_a_communes_manager_cannot_pick_the_district(client, world):
    commune_manager = MembershipFactory(unit=world.communes[0], role=Role.MANAGER).user
    client.force_login(commune_manager)
    response = client.get(URL, {"unit": world.district.code})
    assert response.status_code == 403
    assert world.district.code in response.content.decode()
    assert "board" not in response.context
    # Their own commune is theirs.
    response = client.get(URL)
    assert response.status_code == 200
    assert response.context["board"].unit == world.communes[0]


def test_an_unknown_unit_code_is_refused(client, world, manager):
    client.force_login(manager)
    assert client.get(URL, {"unit": "000.99.99.X99"}).status_code == 403


def test_the_manager_may_pick_a_commune(client, world, manager):
    client.force_login(manager)
    response = client.get(URL, {"unit": world.communes[1].code})
    assert response.status_code == 200
    assert tiles(response)["received"].value == "2"  # overdue and postal


def test_a_superuser_starts_at_the_top_unit(client, world):
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    response = client.get(URL)
    assert response.status_code == 200
    assert response.context["board"].unit == world.province


# --- The period --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("period", "message"),
    [
        ("2026-13", _("There is no month %(month)s.") % {"month": "13"}),
        ("tháng 10", "tháng 10"),
        ("2027-01", "2027"),  # has not started yet
    ],
)
def test_a_bad_or_future_period_is_explained_on_the_page(client, world, manager, period, message):
    client.force_login(manager)
    response = client.get(URL, {"period": period})
    assert response.status_code == 400
    assert "board" not in response.context
    assert response.context["form"].errors["period"]
    page = unescape(response.content.decode())
    assert message in page
    assert 'class="error-summary"' in page


def test_a_previous_period_and_the_calendar_basis(client, world, manager):
    client.force_login(manager)
    response = client.get(URL, {"period": "2026-08"})
    assert response.context["board"].period == AUGUST
    assert tiles(response)["received"].value == "1"  # old
    response = client.get(URL, {"period": "2026-09", "basis": "calendar"})
    period = response.context["board"].period
    assert (period.start.isoformat(), period.end.isoformat()) == ("2026-09-01", "2026-09-30")
    assert tiles(response)["received"].value == "2"  # online, late (21/09)
    assert "basis=calendar" in tiles(response)["received"].href


# --- Tiles -------------------------------------------------------------------------------------


def test_the_tiles_equal_the_monthly_report(client, world, manager):
    client.force_login(manager)
    response = client.get(URL)
    report = monthly_statistics(unit=world.district, period=OCTOBER, now=NOW)
    total, rates = report.total, report.total.indicators()
    shown = tiles(response)
    assert shown["received"].value == str(total.received_in_period) == "5"
    assert shown["resolved"].value == str(total.resolved) == "2"
    assert shown["on_time"].value == format_rate(rates["on_time_rate"]) == "50,0\xa0%"
    assert shown["online"].value == format_rate(rates["online_rate"]) == "50,0\xa0%"
    assert shown["satisfaction"].value == format_rate(rates["satisfaction_rate"]) == "100,0\xa0%"
    assert shown["digitized"].value == format_rate(rates["digitized_intake_rate"])
    assert shown["overdue_now"].value == "1"
    page = response.content.decode()
    assert "50,0\xa0%" in page


@pytest.mark.parametrize(
    ("tile", "expected"),
    [
        ("received", ("online", "late", "overdue", "postal", "own")),
        ("resolved", ("online", "late")),
        ("overdue_now", ("overdue",)),
        ("online", ("online",)),
    ],
)
def test_each_tile_leads_to_exactly_its_dossiers(client, world, manager, tile, expected):
    client.force_login(manager)
    href = tiles(client.get(URL))[tile].href
    assert listed_codes(client, href) == codes(world, *expected)


def test_the_overdue_now_tile_counts_an_overdue_open_dossier(client, world, manager, time_machine):
    client.force_login(manager)
    shown = tiles(client.get(URL))["overdue_now"]
    assert shown.value == "1"
    assert shown.alert
    assert "cell=pending_overdue" in shown.href and "period=2026-10" in shown.href
    assert world.scenario["overdue"].code in listed_codes(client, shown.href)
    # A past period's dashboard still counts what is overdue now, in the current period's list.
    shown = tiles(client.get(URL, {"period": "2026-08"}))["overdue_now"]
    assert shown.value == "1"
    assert "period=2026-10" in shown.href
    # Later, the postal one is overdue too (due 19/10 09:00; the period is November's by then).
    time_machine.move_to(at(2026, 10, 20, 9), tick=False)
    shown = tiles(client.get(URL, {"period": "2026-10"}))["overdue_now"]
    assert shown.value == "2"
    assert "period=2026-11" in shown.href
    assert listed_codes(client, shown.href) == codes(world, "overdue", "postal")


# --- The trend ---------------------------------------------------------------------------------


def test_the_trend_has_twelve_periods_and_counts_by_channel(client, world, manager):
    client.force_login(manager)
    response = client.get(URL)
    points = response.context["board"].trend
    assert [p.period.key for p in points] == [p.key for p in trailing_periods(OCTOBER, 12)]
    assert points[0].period.key == "2025-11"
    by_key = {p.period.key: p for p in points}
    # Received three months ago (20/07, August's statutory month), resolved the next day.
    august = by_key["2026-08"]
    assert (august.received_in_person, august.received_online, august.resolved_early) == (1, 0, 1)
    october = by_key["2026-10"]
    channels = (october.received_online, october.received_in_person, october.received_postal)
    assert channels == (1, 3, 1)
    assert (october.resolved_early, october.resolved_late) == (1, 1)
    assert sum(p.received for p in points) == 6
    # The chart is drawn on the server, one link per bar segment.
    page = response.content.decode()
    assert '<svg xmlns="http://www.w3.org/2000/svg" id="trend-chart"' in page
    assert "08/2026" in page


def test_a_trend_segment_leads_to_its_dossiers(client, world, manager):
    client.force_login(manager)
    page = client.get(URL).content.decode()
    links = [unescape(href) for href in re.findall(r'<a href="([^"]+)"><rect', page)]
    august = [
        href for href in links if "period=2026-08" in href and "cell=received_in_person" in href
    ]
    assert len(august) == 1
    assert listed_codes(client, august[0]) == codes(world, "old")


def test_the_trend_takes_two_queries_whatever_the_number_of_periods(world):
    ids = [u.pk for u in world.units]
    with CaptureQueriesContext(connection) as queries:
        points = trend(unit_ids=ids, periods=trailing_periods(OCTOBER, 24))
    assert len(queries) == 2  # the snapshots of closed periods, then the dossiers
    assert len(points) == 24
    assert sum(p.received for p in points) == 6


def test_a_closed_period_reads_its_snapshot_as_the_report_does(client, world, manager):
    close_period(period=AUGUST, now=at(2026, 8, 18, 8))
    # A correction after the closing: the old dossier was in fact received and resolved in
    # September's statutory month (15/08 – 14/09).
    Dossier.objects.filter(pk=world.scenario["old"].pk).update(
        received_at=at(2026, 8, 20, 9), resolved_at=at(2026, 8, 21, 10)
    )
    client.force_login(manager)
    points = {p.period.key: p for p in client.get(URL).context["board"].trend}
    assert (points["2026-08"].received_in_person, points["2026-08"].resolved_early) == (1, 1)
    september = points["2026-09"]
    assert (september.received_in_person, september.resolved_early) == (1, 1)  # live, corrected
    report = monthly_statistics(unit=world.district, period=AUGUST, now=NOW)
    assert report.total.received_in_person == points["2026-08"].received_in_person
    with CaptureQueriesContext(connection) as queries:
        trend(unit_ids=[u.pk for u in world.units], periods=[AUGUST])
    assert len(queries) == 1  # every period closed: no dossier is read


# --- Timeliness, units, procedures -------------------------------------------------------------


def test_the_timeliness_charts_show_the_period(client, world, manager):
    client.force_login(manager)
    page = client.get(URL).content.decode()
    assert 'id="resolved-chart"' in page and 'id="pending-chart"' in page
    for cell in ("resolved_early", "resolved_late", "pending_in_time", "pending_overdue"):
        assert str(CELL_LABELS[cell]) in unescape(page)


def test_the_units_are_compared_row_by_row(client, world, manager):
    client.force_login(manager)
    response = client.get(URL)
    rows = response.context["unit_rows"]
    a01, a02 = world.communes
    assert [row["label"] for row in rows[1:]] == [a01.name, a02.name]
    own, first, second = rows
    assert (own["received"], own["resolved"], own["overdue_now"]) == (1, 0, 0)
    assert (first["received"], first["resolved"], first["overdue_now"]) == (2, 2, 0)
    assert first["on_time_rate"] == "50,0\xa0%"
    assert first["satisfaction"] == "100,0\xa0%"
    assert (second["received"], second["resolved"], second["overdue_now"]) == (2, 0, 1)
    assert second["on_time_rate"] == "—"
    assert f"within={a02.code}" in second["href"]
    assert listed_codes(client, second["overdue_href"]) == codes(world, "overdue")
    assert listed_codes(client, first["received_href"]) == codes(world, "online", "late")
    assert listed_codes(client, own["received_href"]) == codes(world, "own")
    page = response.content.decode()
    assert "data-sortable" in page and 'id="unit-chart"' in page


def test_a_commune_has_no_comparison(client, world):
    commune_manager = MembershipFactory(unit=world.communes[0], role=Role.MANAGER).user
    client.force_login(commune_manager)
    response = client.get(URL)
    assert response.context["unit_rows"] == []
    assert response.context["unit_chart"] is None


def test_fold_by_row_sums_each_unit_into_the_child_it_lies_under(world):
    # A unit two levels down (none exists today; the tree allows more in future).
    village = Unit(pk=888_888, code="000.88.88.X88", path=f"{world.communes[0].path}888888/")
    units = [world.district, *world.communes, village]
    per_unit = {world.district.pk: 1, world.communes[0].pk: 2, village.pk: 3, 999_999: 9}
    assert fold_by_row(world.district, units, per_unit) == {
        world.district.code: 1,
        world.communes[0].code: 5,
    }


def test_the_busiest_and_most_overdue_procedures(client, world, manager):
    client.force_login(manager)
    response = client.get(URL)
    busiest = response.context["busiest"]
    c, h, d = world.offline_procedure, world.online_procedure, world.district_procedure
    assert [(row["code"], row["received"]) for row in busiest] == sorted(
        [(c.code, 3), (h.code, 1), (d.code, 1)], key=lambda item: (-item[1], item[0])
    )
    late = response.context["most_overdue"]
    assert [(row["code"], row["resolved_late"], row["pending_overdue"]) for row in late] == [
        (c.code, 1, 1)
    ]
    assert listed_codes(client, busiest[0]["received_href"]) == codes(
        world, "late", "overdue", "postal"
    )
    assert listed_codes(client, late[0]["pending_overdue_href"]) == codes(world, "overdue")


def test_procedure_counts_leave_out_other_units(world):
    rows = procedure_counts(unit_ids=[world.district.pk], period=OCTOBER, as_of=NOW)
    assert [(r.code, r.received) for r in rows] == [(world.district_procedure.code, 1)]


# --- The drill-down banner on the worklist -----------------------------------------------------


def test_the_worklist_says_which_figure_it_lists_and_leads_back(client, world, manager):
    client.force_login(manager)
    href = tiles(client.get(URL))["resolved"].href
    page = unescape(client.get(href).content.decode())
    assert _("Dossiers behind the figure:") in page
    assert str(CELL_LABELS["resolved"]) in page
    assert OCTOBER.label() in page
    assert world.district.name in page
    back = f"{URL}?unit={world.district.code}&period=2026-10&basis=official"
    assert back in page


def test_the_banner_of_a_units_own_dossiers(client, world, manager):
    client.force_login(manager)
    href = client.get(URL).context["unit_rows"][0]["received_href"]
    assert f"unit={world.district.code}" in href
    page = unescape(client.get(href).content.decode())
    assert _("%(unit)s (own dossiers)") % {"unit": world.district.name} in page


def test_no_banner_without_a_figure_and_no_back_link_for_officers(client, world, manager):
    client.force_login(world.officer)
    page = client.get(WORKLIST).content.decode()
    assert _("Dossiers behind the figure:") not in page
    page = unescape(
        client.get(
            WORKLIST, {"cell": "resolved", "period": "2026-10", "within": world.district.code}
        ).content.decode()
    )
    assert _("Dossiers behind the figure:") in page
    assert _("Back to the dashboard") not in page


def test_a_bad_period_on_the_worklist_shows_the_forms_error_and_no_banner(client, world, manager):
    client.force_login(manager)
    page = unescape(
        client.get(WORKLIST, {"cell": "resolved", "period": "2026-13"}).content.decode()
    )
    assert _("Dossiers behind the figure:") not in page
    assert _("There is no month %(month)s.") % {"month": "13"} in page


# --- Speed -------------------------------------------------------------------------------------

MAX_QUERIES = 15


def add_busy_communes(world: District, count: int) -> None:
    """``count`` more communes under the district, each with dossiers in the trend's months."""
    rows = []
    for n in range(count):
        commune = UnitFactory(level=UnitLevel.COMMUNE, parent=world.district, name=f"UBND xã B{n}")
        for month in (5, 8, 9, 10):
            rows.append(
                dossier_row(
                    unit=commune,
                    procedure=world.offline_procedure,
                    channel=Channel.IN_PERSON,
                    received_at=at(2026, month, 1 + n % 9, 9),
                    due_at=at(2026, month, 12, 9),
                    now=NOW,
                )
            )
    bulk_dossiers(rows)


def count_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(URL)
    assert response.status_code == 200
    return len(queries)


def test_the_page_runs_a_fixed_number_of_queries(
    client, world, manager, django_assert_max_num_queries
):
    client.force_login(manager)
    with django_assert_max_num_queries(MAX_QUERIES):
        client.get(URL)
    few = count_queries(client)
    # Session, user, roles (the managed units' paths come from them); the managed units; the
    # report (units, snapshot, cells, ratings); overdue now; the trend (snapshots, the open
    # periods' dossiers); the procedures.
    assert few == 12
    add_busy_communes(world, 25)
    many = count_queries(client)
    assert many == few
    with django_assert_max_num_queries(MAX_QUERIES):
        response = client.get(URL)
    assert len(response.context["unit_rows"]) == 1 + 2 + 25
