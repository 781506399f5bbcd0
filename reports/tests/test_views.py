"""The monthly report pages: who may see them, the numbers of a small district counted by hand,
the links from each number to its dossiers, the closing banner, the print view and the form's
errors.

The scenario (official October 2026: 15/09/2026 – 14/10/2026; H = Hộ tịch, commune, fully
online, 10 working days; C = Chứng thực, commune, not online, 5 working days; D = Đất đai,
district, 15 working days):

== commune A01 ==
A  H online, submitted and accepted 21/09, resolved 23/09              online, early
B  H in person, received 01/09, resolved 25/09 (due mid-September)     carried, late
C  C by post, received Thu 08/10 (due 15/10), still open               postal, in time
D  C in person, received 28/09 (due 05/10), still open                 in person, overdue
E  H in person, received 01/10, withdrawn 02/10                        in person, withdrawn
== commune A02 ==
F  H in person, received 05/10 09:00, resolved 05/10 15:00             in person, early
== the district's own ==
G  D in person, received 07/10, still open                             in person, in time
== another district ==
X  H in person, received 01/10                                         nothing
"""

from __future__ import annotations

from datetime import datetime

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from dossiers.choices import Channel
from dossiers.models import Dossier
from portal.choices import Role
from portal.models import Unit
from portal.tests.factories import MembershipFactory, UserFactory
from reports.exports import report_lines
from reports.periods import parse_period
from reports.selectors import Counts, Report, ReportRow
from reports.services import close_period
from reports.views import drilldown_url, report_summary, report_table

from .factories import District, at, bulk_dossiers, district_world, dossier_row, lifecycle

pytestmark = pytest.mark.django_db

NOW = at(2026, 12, 1, 10, 0)
OCTOBER = parse_period("2026-10")
URL = reverse("reports:monthly")


def build_scenario(world: District) -> dict[str, Dossier]:
    """The dossiers of the module docstring, by letter."""
    a01, a02 = world.communes
    h, c, d = world.online_procedure, world.offline_procedure, world.district_procedure
    built: dict[str, Dossier] = {}

    def make(name: str, **kwargs) -> None:
        built[name] = lifecycle(world, **kwargs)

    make(
        "A",
        unit=a01,
        procedure=h,
        channel=Channel.ONLINE,
        at=at(2026, 9, 21, 8),
        steps=[
            ("accept", at(2026, 9, 21, 9)),
            ("start", at(2026, 9, 21, 10)),
            ("resolve", at(2026, 9, 23, 10)),
        ],
    )
    make(
        "B",
        unit=a01,
        procedure=h,
        at=at(2026, 9, 1, 9),
        steps=[("start", at(2026, 9, 1, 10)), ("resolve", at(2026, 9, 25, 10))],
    )
    make("C", unit=a01, procedure=c, channel=Channel.POSTAL, at=at(2026, 10, 8, 9))
    make("D", unit=a01, procedure=c, at=at(2026, 9, 28, 9))
    make("E", unit=a01, procedure=h, at=at(2026, 10, 1, 9), steps=[("withdraw", at(2026, 10, 2))])
    make(
        "F",
        unit=a02,
        procedure=h,
        at=at(2026, 10, 5, 9),
        steps=[("start", at(2026, 10, 5, 10)), ("resolve", at(2026, 10, 5, 15))],
    )
    make("G", unit=world.district, procedure=d, at=at(2026, 10, 7, 9))
    make("X", unit=world.other_commune, procedure=h, at=at(2026, 10, 1, 9))
    return built


# The table's figures per line: (3) total, (4) online, (5) in person, postal, (6), (7), (8),
# (9), (10), (11), (12), (13), withdrawn.
EXPECTED = {
    "own": [1, 0, 1, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0],
    "subtotal": [6, 1, 3, 1, 1, 3, 2, 0, 1, 2, 1, 1, 1],
    "A01": [5, 1, 2, 1, 1, 2, 1, 0, 1, 2, 1, 1, 1],
    "A02": [1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0],
    "total": [7, 1, 4, 1, 1, 3, 2, 0, 1, 3, 2, 1, 1],
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


def october(client, *, lang: str = "vi", **params):
    return client.get(URL, {"period": "2026-10", **params}, HTTP_ACCEPT_LANGUAGE=lang)


def figures(response) -> dict[str, list[int]]:
    rows = response.context["table"]["rows"]
    named = {"own": rows[0], "total": rows[-1]}
    named |= {row["kind"]: row for row in rows if row["kind"] == "subtotal"}
    named |= {row["label"][-3:]: row for row in rows if row["kind"] == "child"}
    return {name: [cell["value"] for cell in row["cells"]] for name, row in named.items()}


# --- Who may see it --------------------------------------------------------------------------


def test_anonymous_users_are_sent_to_log_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_districts_manager_sees_the_report_of_the_district(client, world, manager):
    client.force_login(manager)
    response = october(client)
    assert response.status_code == 200
    report = response.context["report"]
    assert report.unit == world.district  # the manager's top unit by default
    assert report.period == OCTOBER


@pytest.mark.parametrize("path", ["reports:monthly", "reports:print", "reports:export"])
def test_a_counter_officer_is_refused_with_the_forbidden_page(client, world, path):
    client.force_login(world.counter)
    response = client.get(reverse(path), {"period": "2026-10"})
    assert response.status_code == 403
    assert "dossiers/forbidden.html" in [t.name for t in response.templates]


def test_a_communes_manager_is_refused_the_district_and_told_why(client, world):
    commune_manager = MembershipFactory(unit=world.communes[1], role=Role.MANAGER).user
    client.force_login(commune_manager)
    response = october(client, unit=world.district.code, lang="en")
    assert response.status_code == 403
    assert "report" not in response.context
    page = response.content.decode()
    assert f"The unit {world.district.code} is outside the units you manage" in page
    # Their own commune works, and the list offers only it.
    response = october(client)
    assert response.status_code == 200
    assert response.context["report"].unit == world.communes[1]
    assert [code for code, _name in response.context["form"].fields["unit"].widget.choices] == [
        world.communes[1].code
    ]


def test_a_superuser_may_read_any_unit(client, world):
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    response = october(client, unit=world.other_district.code)
    assert response.status_code == 200
    assert response.context["report"].total.received_in_person == 1  # X


# --- The numbers -----------------------------------------------------------------------------


def test_the_table_shows_the_hand_counted_figures(client, world, manager):
    client.force_login(manager)
    response = october(client)
    assert figures(response) == EXPECTED
    for row in response.context["table"]["rows"]:
        assert row["balanced"], row["label"]
    lines = [row["number"] for row in response.context["table"]["rows"]]
    assert lines == ["1", "2", "2.1", "2.2", ""]
    page = response.content.decode()
    assert "Biểu số II.06a/VPCP/KSTT" in page
    assert "Cấp xã" in page  # the communes' subtotal row
    assert "15/09/2026" in page and "14/10/2026" in page
    assert "(3)−(7)−(11)" in page  # the withdrawn column says what it is


def test_the_table_has_the_forms_two_level_headings_and_column_numbers(client, world, manager):
    client.force_login(manager)
    page = october(client, lang="en").content.decode()
    head = page[page.index('<table class="report-table') : page.index("<tbody>")]
    for words in ("Received", "In the period", "From the previous period", "Resolved", "Early"):
        assert words in head
    for words in ("On time", "Late", "Being processed", "Not yet due", "Overdue", "Withdrawn"):
        assert words in head
    assert 'colspan="5">Received' in head  # total, online, in person, postal, carried over
    assert 'colspan="2">(5)' in head  # in person and postal are column (5), split
    for number in range(1, 14):
        assert f">({number})<" in head


def test_rows_by_field(client, world, manager):
    client.force_login(manager)
    response = october(client, group_by="field")
    rows = response.context["table"]["rows"]
    labels = [row["label"] for row in rows]
    assert labels[:-1] == ["Chứng thực", "Đất đai", "Hộ tịch"]  # Đ sorts with D, as in Vietnamese
    by_label = {row["label"]: [cell["value"] for cell in row["cells"]] for row in rows}
    assert by_label["Chứng thực"][:4] == [2, 0, 1, 1]  # C by post, D in person
    assert by_label["Đất đai"] == EXPECTED["own"]
    assert by_label[labels[-1]] == EXPECTED["total"]


def test_the_summary_says_the_report_in_words(client, world, manager):
    client.force_login(manager)
    response = october(client, lang="en")
    summary = " ".join(response.context["summary"])
    assert summary.startswith("In the period, 7 dossiers were received (1 online, 4 in person")
    assert "3 were resolved (2 early, 0 on time, 1 late)" in summary
    assert "3 are being processed, 1 of them overdue" in summary
    assert "1 were withdrawn or stopped" in summary
    assert "At commune level: 2 resolved early, 0 on time, 1 late." in summary


def test_the_indicators_show_rates_and_a_dash_without_ratings(client, world, manager):
    client.force_login(manager)
    response = october(client, lang="en")
    indicators = response.context["indicators"]
    on_time = indicators[0]
    assert (on_time["part"], on_time["whole"]) == (2, 3)
    assert round(on_time["percent"], 1) == 66.7
    satisfaction = indicators[-1]
    assert satisfaction["percent"] is None
    page = response.content.decode()
    section = page[page.index('class="report-indicators"') :]
    assert "66.7%" in section
    assert "—" in section


def test_numbers_are_written_the_vietnamese_way(rf):
    """62.955 in Vietnamese, in the sentence and in the table."""
    unit = Unit(code="000.00.15.H61", name="UBND huyện Văn Yên")
    counts = Counts(received_online=9140, received_in_person=42432, received_postal=11383)
    report = Report(
        unit=unit,
        period=OCTOBER,
        group_by="field",
        as_of=NOW,
        rows=[ReportRow(key="ho-tich", label="Hộ tịch", counts=counts, filters={})],
        total=counts,
    )
    with translation.override("vi"):
        assert "62.955" in report_summary(report)[0]
        assert "9.140" in report_summary(report)[0]
        html = render_to_string(
            "reports/_table.html",
            {
                "table": report_table(report, split=True, links=True),
                "form_title": "",
                "period_name": "",
            },
        )
    assert ">62.955</a>" in html and ">42.432</a>" in html


# --- Drill-down ------------------------------------------------------------------------------


def _listed(client, url: str) -> set[str]:
    response = client.get(url)
    assert response.status_code == 200
    return {dossier.code for dossier, _remaining in response.context["rows"]}


def test_every_number_links_to_exactly_its_dossiers(client, world, manager):
    client.force_login(manager)
    s = world.scenario
    response = october(client)
    rows = response.context["table"]["rows"]
    a01 = next(row for row in rows if row["label"].endswith("A01"))
    cells = {cell["title"]: cell for cell in a01["cells"]}
    early = next(c for c in a01["cells"] if c["url"] and "cell=resolved_early" in c["url"])
    assert early["value"] == 1
    assert _listed(client, early["url"]) == {s["A"].code}
    carried = next(c for c in a01["cells"] if "cell=carried_over" in c["url"])
    assert _listed(client, carried["url"]) == {s["B"].code}
    received = next(c for c in a01["cells"] if "cell=received&" in c["url"])
    assert _listed(client, received["url"]) == {s[k].code for k in "ABCDE"}
    assert len(cells) == len(a01["cells"])
    # The total's pending figure: C, D and the district's own G, not the other district's X.
    total = rows[-1]
    pending = next(c for c in total["cells"] if "cell=pending&" in c["url"])
    assert pending["value"] == 3
    assert _listed(client, pending["url"]) == {s["C"].code, s["D"].code, s["G"].code}
    # The district's own line lists its own dossiers only.
    own_received = next(c for c in rows[0]["cells"] if "cell=received&" in c["url"])
    assert _listed(client, own_received["url"]) == {s["G"].code}


def test_the_subtotal_lists_the_communes_dossiers_without_the_districts_own(client, world, manager):
    client.force_login(manager)
    rows = october(client).context["table"]["rows"]
    subtotal = next(row for row in rows if row["kind"] == "subtotal")
    received = next(c for c in subtotal["cells"] if "cell=received&" in c["url"])
    assert "below=" in received["url"]
    communes = [row for row in rows if row["kind"] == "child"]
    expected = set()
    for row in communes:
        cell = next(c for c in row["cells"] if "cell=received&" in c["url"])
        expected |= _listed(client, cell["url"])
    assert _listed(client, received["url"]) == expected
    assert received["value"] == len(expected) > 0
    assert world.scenario["G"].code not in expected  # the district's own dossier


def test_the_drilldown_url_carries_the_period_and_basis():
    report = Report(
        unit=Unit(code="000.00.15.H61", name="Văn Yên"),
        period=parse_period("2026-Q3", basis="calendar"),
        group_by="unit",
        as_of=NOW,
        rows=[],
        total=Counts(),
    )
    url = drilldown_url(report, {"within": "000.00.15.H61"}, "resolved_late")
    assert url == (
        "/dossiers/?within=000.00.15.H61&cell=resolved_late&period=2026-Q3&basis=calendar"
    )


# --- Closed periods ----------------------------------------------------------------------------


def _import_late(world, unit) -> None:
    """A dossier of 10/10 imported after October was closed."""
    bulk_dossiers(
        [
            dossier_row(
                unit=unit,
                procedure=world.online_procedure,
                channel=Channel.IN_PERSON,
                received_at=at(2026, 10, 10, 9),
                due_at=at(2026, 10, 24, 9),
                now=NOW,
            )
        ]
    )


def test_a_closed_period_says_so_and_lists_the_corrections(client, world, manager):
    close_period(period=OCTOBER, now=at(2026, 10, 17, 0, 30))
    client.force_login(manager)
    response = october(client, lang="en")
    page = response.content.decode()
    assert "The reporting period was closed on 17/10/2026." in page
    assert "No figure has changed since the closing." in page
    assert response.context["corrections"] == []

    # A dossier of 10/10 imported late: the frozen figures stay, the difference is listed.
    a01 = world.communes[0]
    _import_late(world, a01)
    response = october(client, lang="en")
    assert figures(response) == EXPECTED  # frozen
    corrections = response.context["corrections"]
    assert {(c["row"], c["figure"], c["frozen"], c["live"]) for c in corrections} >= {
        (a01.name, "Received in person", 2, 3),
        (a01.name, "Pending, not yet due", 1, 2),
    }
    page = response.content.decode()
    assert "Corrections since the closing" in page
    assert "Received in person" in page


def test_a_period_closed_long_ago_is_recounted_only_when_asked(
    client, world, manager, settings, time_machine
):
    close_period(period=OCTOBER, now=at(2026, 10, 17, 0, 30))
    a01 = world.communes[0]
    _import_late(world, a01)
    settings.REPORT_LIVE_CORRECTIONS_MONTHS = 0  # October ended more than 0 months ago
    client.force_login(manager)
    with CaptureQueriesContext(connection) as read:
        response = october(client, lang="en")
    assert figures(response) == EXPECTED  # the frozen figures, at once
    assert response.context["corrections"] == []
    page = response.content.decode()
    assert "Check for figures changed since the closing" in page
    assert "corrections=1" in page
    assert "No figure has changed since the closing." not in page  # not claimed: not checked
    asked = october(client, lang="en", corrections="1")
    assert figures(asked) == EXPECTED
    assert (a01.name, "Received in person", 2, 3) in {
        (c["row"], c["figure"], c["frozen"], c["live"]) for c in asked.context["corrections"]
    }
    with CaptureQueriesContext(connection) as recounted:
        october(client, lang="en", corrections="1")
    assert len(read) < len(recounted)  # the snapshot alone, without the live recount


def test_a_running_period_says_when_its_figures_were_taken(client, world, manager):
    client.force_login(manager)
    response = client.get(URL, {"period": "2026-12"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "The period has not ended: the figures are as of 10:00 01/12/2026." in (
        response.content.decode()
    )


# --- The form ----------------------------------------------------------------------------------


def test_the_default_period_is_the_latest_statutory_month_that_has_ended(client, world, manager):
    client.force_login(manager)
    response = client.get(URL)
    assert response.context["report"].period == parse_period("2026-11")  # 15/10 – 14/11


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"period": "2026-13"}, "period", "There is no month 13."),
        ({"period": "tháng 10"}, "period", "is not a period"),
        ({"key": "2027-Q2"}, "key", "has not started yet"),
        ({"period": "2026-10", "group_by": "district"}, "group_by", "Unknown grouping"),
        ({"period": "2026-10", "basis": "lunar"}, "basis", "Unknown basis"),
        ({"from": "2026-10-14", "to": "2026-09-15"}, "to", "end date is before the start date"),
        ({"from": "2027-01-01"}, "from", "has not started yet"),
        ({"to": "2026-09-15"}, "from", "Give the first day of the range."),
        ({"unit": "000.99.99.H99", "period": "2026-10"}, "unit", "No unit has the code"),
    ],
)
def test_bad_input_is_explained_on_the_form(client, world, manager, params, field, message):
    client.force_login(manager)
    response = client.get(URL, params, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert "report" not in response.context
    errors = response.context["form"].errors
    assert any(message in error for error in errors[field]), errors


def test_a_typed_period_and_a_range_of_days(client, world, manager):
    client.force_login(manager)
    quarter = client.get(URL, {"key": "2026-Q4", "period": "2026-10"})
    assert quarter.context["report"].period == parse_period("2026-Q4")
    year_to_date = client.get(URL, {"from": "15/12/2025", "to": "14/10/2026"})
    period = year_to_date.context["report"].period
    assert (period.start.isoformat(), period.end.isoformat()) == ("2025-12-15", "2026-10-14")
    assert year_to_date.context["report"].total.resolved == 3


def test_an_empty_period_is_all_zeros_not_an_error(client, world, manager):
    client.force_login(manager)
    response = client.get(URL, {"period": "2019-03"})
    assert response.status_code == 200
    assert all(
        cell["value"] == 0 for row in response.context["table"]["rows"] for cell in row["cells"]
    )


def test_the_page_links_to_the_print_view_and_the_downloads(client, world, manager):
    client.force_login(manager)
    page = october(client, group_by="field").content.decode()
    query = f"unit={world.district.code}&amp;period=2026-10&amp;basis=official&amp;group_by=field"
    assert f'href="{reverse("reports:print")}?{query}"' in page
    assert f'href="{reverse("reports:export")}?{query}&amp;format=xlsx"' in page
    assert f'href="{reverse("reports:export")}?{query}&amp;format=csv"' in page


def test_the_page_downloads(client, world, manager):
    client.force_login(manager)
    xlsx = client.get(reverse("reports:export"), {"period": "2026-10", "format": "xlsx"})
    assert xlsx.status_code == 200
    assert xlsx["Content-Disposition"] == (
        f'attachment; filename="bao-cao-II06a-{world.district.code}-2026-10.xlsx"'
    )
    csv = client.get(reverse("reports:export"), {"period": "2026-10", "format": "csv"})
    assert csv["Content-Type"] == "text/csv; charset=utf-8"
    assert csv.content.startswith(b"\xef\xbb\xbf")
    bad = client.get(reverse("reports:export"), {"period": "2026-10", "format": "pdf"})
    assert bad.status_code == 400


# --- Print view --------------------------------------------------------------------------------


def test_the_print_view_is_the_official_form_without_the_sites_chrome(client, world, manager):
    client.force_login(manager)
    response = client.get(reverse("reports:print"), {"period": "2026-10"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "site-header" not in page and "site-nav" not in page
    assert "A4 landscape" in page
    assert "Biểu số II.06a/VPCP/KSTT" in page
    assert world.district.name in page and world.province.name in page  # reporting, receiving
    assert "15/09/2026" in page and "14/10/2026" in page
    assert "ngày 01 tháng 12 năm 2026" in page  # the place and date line
    assert "/dossiers/?" not in page  # no links on paper
    # Column (5) is one column on paper, as on the form.
    rows = response.context["table"]["rows"]
    assert [cell["value"] for cell in rows[-1]["cells"]] == [7, 1, 5, 1, 3, 2, 0, 1, 3, 2, 1, 1]


def test_the_print_view_speaks_english_too(client, world, manager):
    client.force_login(manager)
    page = client.get(
        reverse("reports:print"), {"period": "2026-10"}, HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    for words in ("Reporting unit:", "Receiving unit:", "Unit of count", "Prepared by", "Head of"):
        assert words in page


# --- Queries -----------------------------------------------------------------------------------


@pytest.mark.parametrize("group_by", ["unit", "field"])
def test_the_page_runs_a_fixed_number_of_queries(
    client, world, manager, group_by, django_assert_max_num_queries
):
    client.force_login(manager)
    october(client, group_by=group_by)  # warm up: content types, calendars
    with django_assert_max_num_queries(12):
        response = october(client, group_by=group_by)
    assert response.status_code == 200
    # More units and dossiers do not add queries.
    for n in range(3):
        lifecycle(world, unit=world.communes[n % 2], procedure=world.online_procedure, at=NOW)
    with django_assert_max_num_queries(12):
        assert october(client, group_by=group_by).status_code == 200


def test_report_lines_put_the_units_subtotal_before_its_communes():
    unit = Unit(code="000.00.15.H61", name="Văn Yên")
    own, a, b = (Counts(received_online=n) for n in (1, 2, 3))
    report = Report(
        unit=unit,
        period=OCTOBER,
        group_by="unit",
        as_of=datetime(2026, 12, 1),
        rows=[
            ReportRow("000.00.15.H61", "Văn Yên (own)", own, {"unit": "000.00.15.H61"}),
            ReportRow("A", "Xã A", a, {"within": "A"}),
            ReportRow("B", "Xã B", b, {"within": "B"}),
        ],
        total=Counts(received_online=6),
        commune_subtotal=Counts(received_online=5),
        subtotal_label="Cấp xã",
    )
    lines = report_lines(report)
    assert [(line.number, line.kind, line.counts.received_online) for line in lines] == [
        ("1", "own", 1),
        ("2", "subtotal", 5),
        ("2.1", "child", 2),
        ("2.2", "child", 3),
        ("", "total", 6),
    ]
    assert lines[1].filters == {"below": "000.00.15.H61"}
    assert lines[-1].filters == {"within": "000.00.15.H61"}
