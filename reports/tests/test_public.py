"""The public results page: anyone may read a unit's figures for a statutory month, never any
applicant's data; bad input is told on the page; the page is the same for every visitor.

The scenario (now: Tuesday 13/10/2026 15:00, the current statutory month October 2026,
15/09/2026 – 14/10/2026; H = Hộ tịch, commune, fully online, 10 working days; C = Chứng thực,
commune, not online, 5 working days):

== commune A01 ==
online  H online, accepted 21/09, resolved 23/09, returned and rated 24/09   online, early
late    C in person, received 21/09 (due 28/09 09:00), resolved 30/09        in person, late
gone    H in person, received 01/10, withdrawn 02/10                         in person, withdrawn
== commune A02 ==
overdue C in person, received Thu 01/10 (due 08/10 09:00), still open        in person, overdue
postal  C by post, received 12/10, still open                                postal, in time
== another district ==
outside H in person, received 02/10                                         nothing
"""

from __future__ import annotations

from html import unescape

import pytest
from django.urls import reverse
from django.utils.translation import gettext as _

from dossiers.choices import Channel, RatingScore
from reports.periods import parse_period

from .factories import APPLICANT, District, at, district_world, lifecycle

pytestmark = pytest.mark.django_db

NOW = at(2026, 10, 13, 15, 0)
URL = reverse("reports:public-results")


@pytest.fixture
def world(time_machine) -> District:
    world = district_world(communes=2)
    a01, a02 = world.communes
    h, c = world.online_procedure, world.offline_procedure
    world.scenario = {  # type: ignore[attr-defined]
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
                ("rate", at(2026, 9, 24, 10), {"score": RatingScore.SATISFIED}),
            ],
        ),
        "late": lifecycle(
            world,
            unit=a01,
            procedure=c,
            at=at(2026, 9, 21, 9),
            steps=[("start", at(2026, 9, 21, 10)), ("resolve", at(2026, 9, 30, 10))],
        ),
        "gone": lifecycle(
            world,
            unit=a01,
            procedure=h,
            at=at(2026, 10, 1, 9),
            steps=[("withdraw", at(2026, 10, 2))],
        ),
        "overdue": lifecycle(world, unit=a02, procedure=c, at=at(2026, 10, 1, 9)),
        "postal": lifecycle(
            world, unit=a02, procedure=c, channel=Channel.POSTAL, at=at(2026, 10, 12, 9)
        ),
        "outside": lifecycle(world, unit=world.other_commune, procedure=h, at=at(2026, 10, 2, 9)),
    }
    time_machine.move_to(NOW, tick=False)
    return world


def page_of(response) -> str:
    return unescape(response.content.decode())


def test_anyone_may_read_the_index_of_units(client, world):
    response = client.get(URL)
    assert response.status_code == 200
    page = page_of(response)
    for unit in (world.province, world.district, *world.communes, world.other_commune):
        assert unit.name in page
        assert f"?unit={unit.code}&period=2026-10" in page
    assert "report" not in response.context  # no unit chosen: nothing heavy is computed


def test_a_districts_figures_for_the_current_month(client, world):
    response = client.get(URL, {"unit": world.district.code})
    assert response.status_code == 200
    report = response.context["report"]
    assert report.period == parse_period("2026-10")
    total = report.total
    assert (total.received_online, total.received_in_person, total.received_postal) == (1, 3, 1)
    assert (total.resolved_early, total.resolved_on_time, total.resolved_late) == (1, 0, 1)
    assert (total.pending_in_time, total.pending_overdue, total.withdrawn) == (1, 1, 1)
    assert (total.ratings, total.satisfied) == (1, 1)
    assert response.context["on_time_rate"] == "50,0\xa0%"
    assert response.context["satisfaction_rate"] == "100,0\xa0%"
    page = page_of(response)
    assert "50,0\xa0%" in page and "100,0\xa0%" in page
    # One row per commune (after the district's own), each leading to its own page.
    labels = [row["label"] for row in response.context["rows"]]
    assert labels[1:] == [c.name for c in world.communes]
    a02_row = response.context["rows"][2]
    assert (a02_row["counts"].pending, a02_row["counts"].pending_overdue) == (2, 1)
    assert f"?unit={world.communes[1].code}&period=2026-10" in page
    assert world.other_commune.name not in [row["label"] for row in response.context["rows"]]


def test_a_communes_figures_and_a_previous_month(client, world):
    response = client.get(URL, {"unit": world.communes[0].code, "period": "2026-10"})
    assert response.context["report"].total.received_in_period == 3
    assert response.context["rows"] == []  # nothing below a commune
    response = client.get(URL, {"unit": world.communes[0].code, "period": "2026-09"})
    assert response.status_code == 200
    assert response.context["report"].total.received_in_period == 0


def test_no_personal_data_is_ever_shown(client, world):
    for params in ({}, {"unit": world.district.code}, {"unit": world.communes[0].code}):
        page = page_of(client.get(URL, params))
        for secret in (APPLICANT.full_name, APPLICANT.phone, APPLICANT.id_number, APPLICANT.email):
            assert secret not in page
        for dossier in world.scenario.values():
            assert dossier.code not in page
        assert reverse("dossiers:worklist") not in page  # no drill-down for the public


def test_an_unknown_unit_is_told_on_the_page(client, world):
    response = client.get(URL, {"unit": "000.99.99.X99"})
    assert response.status_code == 404
    page = page_of(response)
    assert (
        _("No unit has the code “%(code)s”. Choose one from the list.") % {"code": "000.99.99.X99"}
        in page
    )
    assert world.district.name in page  # the index to choose from


def test_a_script_in_the_unit_code_is_inert(client, world):
    response = client.get(URL, {"unit": "<script>alert(1)</script>"})
    assert response.status_code == 404
    assert "<script>alert(1)</script>" not in response.content.decode()


@pytest.mark.parametrize(
    ("period", "message"),
    [
        ("2026-13", _("There is no month %(month)s.") % {"month": "13"}),
        ("abc", "abc"),
        ("2026-12", "2026"),  # has not started yet
    ],
)
def test_a_bad_or_future_period_is_told_on_the_page(client, world, period, message):
    response = client.get(URL, {"unit": world.district.code, "period": period})
    assert response.status_code == 400
    assert "report" not in response.context
    page = page_of(response)
    assert message in page
    assert 'class="error-summary"' in page


def test_the_page_needs_no_session_and_may_be_kept_a_while(client, world):
    response = client.get(URL, {"unit": world.district.code})
    assert "sessionid" not in response.cookies
    assert "max-age=300" in response["Cache-Control"]


def test_the_page_runs_a_few_queries(client, world, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        response = client.get(URL, {"unit": world.district.code})
    assert response.status_code == 200
    with django_assert_max_num_queries(1):
        client.get(URL)
