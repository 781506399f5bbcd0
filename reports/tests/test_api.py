"""GET /api/v1/reports/monthly/ (DESIGN.md §5): the JSON's shape, the downloads, the errors."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from portal.choices import Role
from portal.tests.factories import MembershipFactory
from reports.api.serializers import MonthlyReportSerializer
from reports.exports import FIRST_ROW

from .factories import District, district_world
from .test_views import EXPECTED, NOW, build_scenario

pytestmark = pytest.mark.django_db

URL = "/api/v1/reports/monthly/"

# DESIGN.md §5, key by key.
DESIGN_KEYS = {"unit", "period", "rows", "total", "indicators"}
COUNTS_KEYS = {"received", "resolved", "pending", "withdrawn"}
RECEIVED_KEYS = {"total", "online", "in_person", "postal", "carried_over"}
RESOLVED_KEYS = {"total", "early", "on_time", "late"}
PENDING_KEYS = {"total", "in_time", "overdue"}
INDICATOR_KEYS = {
    "on_time_rate",
    "online_rate",
    "digitized_intake_rate",
    "digitized_result_rate",
    "satisfaction_rate",
}


@pytest.fixture
def world(time_machine) -> District:
    world = district_world(communes=2)
    build_scenario(world)
    time_machine.move_to(NOW, tick=False)
    return world


@pytest.fixture
def api(world) -> APIClient:
    manager = MembershipFactory(unit=world.district, role=Role.MANAGER).user
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=manager).key}")
    return client


def get(api, world, **params):
    return api.get(URL, {"unit": world.district.code, "period": "2026-10", **params})


def check_counts(form: dict) -> None:
    assert set(form) == COUNTS_KEYS
    assert set(form["received"]) == RECEIVED_KEYS
    assert set(form["resolved"]) == RESOLVED_KEYS
    assert set(form["pending"]) == PENDING_KEYS
    assert isinstance(form["withdrawn"], int)


def test_the_json_has_the_shape_of_the_contract(api, world):
    response = get(api, world)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    data = response.json()
    assert set(data) >= DESIGN_KEYS
    assert data["unit"] == {"code": world.district.code, "name": world.district.name}
    assert {"start", "end", "basis"} <= set(data["period"])
    assert (data["period"]["start"], data["period"]["end"]) == ("2026-09-15", "2026-10-14")
    assert data["period"]["basis"] == "official"
    for row in data["rows"]:
        assert set(row) == {"key", "label"} | COUNTS_KEYS
        check_counts({name: row[name] for name in COUNTS_KEYS})
    check_counts(data["total"])
    check_counts(data["commune_subtotal"])  # group_by=unit
    assert set(data["indicators"]) == INDICATOR_KEYS
    assert data["indicators"]["satisfaction_rate"] is None  # no rating: null, not 0
    assert data["indicators"]["on_time_rate"] == pytest.approx(2 / 3)


def test_the_json_has_the_hand_counted_figures(api, world):
    data = get(api, world).json()
    a01, a02 = world.communes
    assert [row["key"] for row in data["rows"]] == [world.district.code, a01.code, a02.code]
    total = data["total"]
    assert total["received"] == {
        "total": 7,
        "online": 1,
        "in_person": 4,
        "postal": 1,
        "carried_over": 1,
    }
    assert total["resolved"] == {"total": 3, "early": 2, "on_time": 0, "late": 1}
    assert total["pending"] == {"total": 3, "in_time": 2, "overdue": 1}
    assert total["withdrawn"] == 1
    assert data["commune_subtotal"]["received"]["total"] == EXPECTED["subtotal"][0]


def test_the_serializer_of_the_schema_names_the_same_keys_as_the_json(api, world):
    data = get(api, world).json()
    documented = MonthlyReportSerializer().fields
    assert set(documented) == set(data)
    assert set(documented["period"].fields) == set(data["period"])
    assert set(documented["rows"].child.fields) == set(data["rows"][0])
    assert set(documented["total"].fields) == set(data["total"])
    assert set(documented["indicators"].fields) == set(data["indicators"])


def test_rows_by_field_and_a_calendar_quarter(api, world):
    data = get(api, world, period="2026-Q4", basis="calendar", group_by="field").json()
    assert data["group_by"] == "field"
    assert (data["period"]["start"], data["period"]["end"]) == ("2026-10-01", "2026-12-31")
    assert "commune_subtotal" not in data
    assert {row["key"] for row in data["rows"]} == {"ho-tich", "chung-thuc", "dat-dai"}


def test_a_range_of_days(api, world):
    data = api.get(URL, {"unit": world.district.code, "from": "2025-12-15", "to": "2026-10-14"})
    data = data.json()
    assert data["period"]["key"] == "2025-12-15..2026-10-14"
    assert data["total"]["resolved"]["total"] == 3


def test_format_xlsx_downloads_the_book_with_the_jsons_totals(api, world):
    total = get(api, world).json()["total"]
    response = get(api, world, format="xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert response["Content-Disposition"] == (
        f'attachment; filename="bao-cao-II06a-{world.district.code}-2026-10.xlsx"'
    )
    ws = load_workbook(io.BytesIO(response.content)).active
    total_row = FIRST_ROW + 4  # own, subtotal, two communes
    values = [ws.cell(row=total_row, column=c).value for c in range(3, 15)]
    assert values == [
        total["received"]["total"],
        total["received"]["online"],
        total["received"]["in_person"] + total["received"]["postal"],
        total["received"]["carried_over"],
        total["resolved"]["total"],
        total["resolved"]["early"],
        total["resolved"]["on_time"],
        total["resolved"]["late"],
        total["pending"]["total"],
        total["pending"]["in_time"],
        total["pending"]["overdue"],
        total["withdrawn"],
    ]


def test_format_csv_downloads_utf8_with_a_bom(api, world):
    response = get(api, world, format="csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["No.", "Code", "Unit"]
    assert rows[-1][3] == "7"


def test_the_accept_header_works_too(api, world):
    response = api.get(
        URL, {"unit": world.district.code, "period": "2026-10"}, HTTP_ACCEPT="text/csv"
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"period": "2026-13"}, "period"),
        ({"period": "October"}, "period"),
        ({"period": "2027-Q1"}, "period"),
        ({"group_by": "district"}, "group_by"),
        ({"basis": "lunar"}, "basis"),
        ({"period": "", "from": "2026-10-14", "to": "2026-09-01"}, "to"),
        ({"unit": ""}, "unit"),
        ({"unit": "000.99.99.H99"}, "unit"),
        ({"period": ""}, "period"),
    ],
)
def test_bad_input_is_400_with_the_error_shape(api, world, params, field):
    response = get(api, world, **params)
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"code", "message", "fields"}
    assert body["code"] == "invalid"
    assert field in body["fields"]


def test_errors_are_json_also_when_xlsx_was_asked_for(api, world):
    response = get(api, world, period="2026-13", format="xlsx")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["fields"]["period"] == ["There is no month 13."]


def test_a_unit_outside_the_managers_subtree_is_403(api, world):
    response = get(api, world, unit=world.other_district.code)
    assert response.status_code == 403
    body = response.json()
    assert body["code"] == "permission_denied"
    assert "outside the units you manage" in body["message"]


def test_staff_who_are_not_managers_are_403(world):
    client = APIClient()
    client.force_authenticate(world.counter)
    response = client.get(URL, {"unit": world.district.code, "period": "2026-10"})
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_anonymous_is_refused(world):
    response = APIClient().get(URL, {"unit": world.district.code, "period": "2026-10"})
    assert response.status_code in (401, 403)
    assert response.json()["code"] == "not_authenticated"


def test_the_schema_documents_the_parameters(client):
    schema = client.get("/api/schema/", {"format": "json"}).json()
    operation = schema["paths"]["/api/v1/reports/monthly/"]["get"]
    names = {parameter["name"] for parameter in operation["parameters"]}
    assert {"unit", "period", "basis", "group_by", "from", "to", "format"} <= names
    content = operation["responses"]["200"]["content"]
    assert {"application/json", "text/csv"} <= set(content)
    assert "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" in content


def test_an_unknown_format_is_400_not_404(api, world):
    response = get(api, world, format="pdf")
    assert response.status_code == 400
    assert response.json()["fields"] == {"format": ["The report comes as json, xlsx or csv."]}
