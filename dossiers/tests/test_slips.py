"""The printed forms of Thông tư 01/2018/TT-VPCP: slips (Mẫu 01–05) and the register (Mẫu 06)."""

from datetime import date, datetime
from io import BytesIO

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.translation import override
from openpyxl import load_workbook

from dossiers import services
from dossiers.qr import qr_svg
from dossiers.slips import official_date, place_name
from portal.choices import Role
from portal.models import Unit
from portal.tests.factories import MembershipFactory, UserFactory
from procedures.deadlines import VN_TZ

from .factories import APPLICANT, office, received, submitted

pytestmark = pytest.mark.django_db

SLIPS = ["receipt", "supplement", "refusal", "apology", "control"]


def at(*args):
    return datetime(*args, tzinfo=VN_TZ)


def slip_url(dossier, slip):
    return reverse("dossiers:slip", args=[dossier.code, slip])


def english(client):
    client.cookies["django_language"] = "en"
    return client


@pytest.fixture
def o(time_machine):
    time_machine.move_to(at(2026, 3, 9, 9, 0), tick=False)  # a Monday
    world = office(time_limit_value=3, fee="Lệ phí 8.000 đồng/hồ sơ")
    world.counter.last_name, world.counter.first_name = "Trần Thị", "Hoa"
    world.counter.save()
    world.officer.last_name, world.officer.first_name = "Phạm Văn", "Minh"
    world.officer.save()
    return world


def full_journey(o, time_machine):
    """Received, started, paused for a supplement, supplied, apologised, resolved, returned."""
    dossier = received(o, documents=[o.procedure.documents.first().pk])
    time_machine.move_to(at(2026, 3, 9, 10, 0), tick=False)
    services.start_processing(dossier=dossier, by=o.officer)
    time_machine.move_to(at(2026, 3, 10, 9, 0), tick=False)
    services.request_supplement(
        dossier=dossier,
        by=o.officer,
        missing="Giấy chứng sinh\n- Bản sao sổ hộ khẩu",
        reason="Thiếu giấy tờ theo quy định",
    )
    time_machine.move_to(at(2026, 3, 12, 9, 0), tick=False)
    services.record_supplement(dossier=dossier, by=o.counter, note="Đã nộp bổ sung")
    time_machine.move_to(at(2026, 3, 13, 10, 0), tick=False)
    services.issue_apology(
        dossier=dossier, by=o.officer, promised_at=at(2026, 3, 20, 16, 0), reason="Chờ xác minh"
    )
    services.resolve_dossier(dossier=dossier, by=o.officer, result="QĐ số 12/QĐ-UBND")
    time_machine.move_to(at(2026, 3, 16, 8, 0), tick=False)
    return services.return_result(dossier=dossier, by=o.counter)


# --- Mẫu 01: the receipt ----------------------------------------------------------------------


def test_the_receipt_shows_what_the_applicant_needs(client, o):
    dossier = received(o, documents=[o.procedure.documents.first().pk])
    english(client).force_login(o.counter)
    response = client.get(slip_url(dossier, "receipt"))
    assert response.status_code == 200
    page = response.content.decode()
    for fact in [
        "Mẫu số 01",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        dossier.code,
        APPLICANT.full_name,
        APPLICANT.address,
        APPLICANT.phone,
        APPLICANT.email,
        o.procedure.name,
        o.procedure.code,
        "Tờ khai theo mẫu",  # the ticked document
        "09:00 09/03/2026",  # received
        "09:00 12/03/2026",  # due: 3 working days
        f"the one-stop counter of {o.commune.name}",
        "Lệ phí 8.000 đồng/hồ sơ",
        "Trần Thị Hoa",  # who received it, family name first
        "In person",
    ]:
        assert fact in page, fact
    assert "Giấy tờ tùy thân" not in page  # not ticked at intake
    assert "@page { size: A5 portrait" in page
    assert "site-header" not in page  # no site chrome on a printed form


def test_the_receipts_qr_code_holds_the_public_lookup_address(client, o):
    dossier = received(o)
    client.force_login(o.counter)
    page = client.get(slip_url(dossier, "receipt")).content.decode()
    url = f"http://testserver{reverse('lookup')}?code={dossier.code}"
    expected = str(qr_svg(url))
    modules = expected[expected.index("<path") : expected.index("</svg>")]
    assert "<svg" in page and modules in page
    assert str(qr_svg(url + "2"))[expected.index("<path") :][:200] not in page


def test_a_postal_receipt_gives_the_tracking_number(client, o):
    dossier = received(o, channel="postal", postal_tracking_no="EMS0001234VN")
    english(client).force_login(o.counter)
    page = client.get(slip_url(dossier, "receipt")).content.decode()
    assert "Public postal service" in page and "EMS0001234VN" in page


def test_the_applicant_prints_their_own_receipt_of_an_accepted_online_dossier(client, o):
    dossier = services.accept_dossier(dossier=submitted(o), by=o.counter)
    client.force_login(o.citizen)
    assert client.get(slip_url(dossier, "receipt")).status_code == 200
    assert client.get(slip_url(dossier, "control")).status_code == 404  # staff only


# --- Who sees what, and when a slip applies -----------------------------------------------------


@pytest.mark.parametrize("slip", SLIPS)
def test_an_officer_of_another_commune_gets_404(client, o, time_machine, slip):
    dossier = full_journey(o, time_machine)
    refused = services.refuse_dossier(dossier=submitted(o), by=o.counter, reason="Sai thủ tục")
    client.force_login(o.outsider)
    target = refused if slip == "refusal" else dossier
    assert client.get(slip_url(target, slip)).status_code == 404
    client.force_login(o.manager)  # the district above sees it
    assert client.get(slip_url(target, slip)).status_code == 200


@pytest.mark.parametrize("slip", ["supplement", "refusal", "apology"])
def test_a_slip_that_does_not_apply_is_404(client, o, slip):
    dossier = received(o)
    client.force_login(o.counter)
    assert client.get(slip_url(dossier, slip)).status_code == 404


@pytest.mark.parametrize("slip", ["receipt", "control", "supplement", "apology"])
def test_a_submission_not_yet_received_has_no_receipt_nor_control_sheet(client, o, slip):
    client.force_login(o.counter)
    assert client.get(slip_url(submitted(o), slip)).status_code == 404


def test_an_unknown_slip_or_dossier_is_404_and_anonymous_users_log_in(client, o):
    dossier = received(o)
    client.force_login(o.counter)
    assert client.get(slip_url(dossier, "invoice")).status_code == 404
    assert client.get(
        reverse("dossiers:slip", args=["000.00.00.X00-1", "receipt"])
    ).status_code == (404)
    client.logout()
    response = client.get(slip_url(dossier, "receipt"))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_the_owner_sees_the_citizens_slips_and_another_citizen_none(client, o, time_machine):
    dossier = services.accept_dossier(dossier=submitted(o), by=o.counter)
    services.request_supplement(dossier=dossier, by=o.officer, missing="Tờ khai", reason="Thiếu")
    time_machine.move_to(at(2026, 3, 9, 10, 0), tick=False)
    services.record_supplement(dossier=dossier, by=o.counter)
    services.issue_apology(
        dossier=dossier, by=o.officer, promised_at=at(2026, 3, 20, 16, 0), reason="Chờ"
    )
    refused = services.refuse_dossier(dossier=submitted(o), by=o.counter, reason="Sai thủ tục")
    client.force_login(o.citizen)
    for slip in ["receipt", "supplement", "apology"]:
        assert client.get(slip_url(dossier, slip)).status_code == 200, slip
    assert client.get(slip_url(refused, "refusal")).status_code == 200
    assert client.get(slip_url(dossier, "control")).status_code == 404
    client.force_login(UserFactory())
    for slip in SLIPS:
        assert client.get(slip_url(dossier, slip)).status_code == 404, slip
    assert client.get(slip_url(refused, "refusal")).status_code == 404


# --- Mẫu 02–05 --------------------------------------------------------------------------------


def test_the_supplement_slip_lists_the_missing_documents_of_the_latest_request(
    client, o, time_machine
):
    dossier = received(o)
    services.request_supplement(dossier=dossier, by=o.officer, missing="Cũ", reason="Lần đầu")
    time_machine.move_to(at(2026, 3, 10, 9, 0), tick=False)
    services.record_supplement(dossier=dossier, by=o.counter)
    time_machine.move_to(at(2026, 3, 11, 14, 0), tick=False)
    services.request_supplement(
        dossier=dossier,
        by=o.officer,
        missing="Giấy chứng sinh\n- Bản sao sổ hộ khẩu",
        reason="Thiếu giấy tờ theo quy định",
    )
    english(client).force_login(o.counter)
    page = client.get(slip_url(dossier, "supplement")).content.decode()
    assert "Mẫu số 02" in page
    assert "<li>Giấy chứng sinh</li>" in page and "<li>Bản sao sổ hộ khẩu</li>" in page
    assert "Thiếu giấy tờ theo quy định" in page and "Lần đầu" not in page
    assert "Phạm Văn Minh" in page  # who asked
    assert "11/3/2026" in page  # dated the day of the request (official: month without 0)


def test_the_refusal_slip_gives_the_reason(client, o):
    dossier = services.refuse_dossier(
        dossier=submitted(o), by=o.counter, reason="Hồ sơ không thuộc thẩm quyền của xã"
    )
    client.force_login(o.counter)
    page = client.get(slip_url(dossier, "refusal")).content.decode()
    assert "Mẫu số 03" in page
    assert "Hồ sơ không thuộc thẩm quyền của xã" in page
    assert "Trần Thị Hoa" in page


def test_the_apology_slip_gives_the_due_and_the_new_date(client, o):
    dossier = received(o)
    services.start_processing(dossier=dossier, by=o.officer)
    services.issue_apology(
        dossier=dossier, by=o.officer, promised_at=at(2026, 3, 20, 16, 0), reason="Chờ xác minh"
    )
    english(client).force_login(o.officer)
    page = client.get(slip_url(dossier, "apology")).content.decode()
    assert "Mẫu số 04" in page
    assert "The result was due at 09:00 on 12/3/2026" in page
    assert "at 16:00 on 20/3/2026" in page
    assert "Chờ xác minh" in page
    assert "On 09/3/2026" in page


def test_the_control_sheet_lists_every_step_with_who_and_when(client, o, time_machine):
    dossier = full_journey(o, time_machine)
    english(client).force_login(o.officer)
    response = client.get(slip_url(dossier, "control"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Mẫu số 05" in page and "@page { size: A4 portrait" in page
    steps = [
        "1. Intake",
        "2. Passed on for processing",
        "3. Supplement requested",
        "4. Supplement received",
        "5. Apology issued",
        "6. Result issued",
        "7. Result returned",
    ]
    positions = [page.index(step) for step in steps]
    assert positions == sorted(positions)
    for moment in ["09:00 09/03/2026", "10:00 09/03/2026", "09:00 10/03/2026", "08:00 16/03/2026"]:
        assert moment in page
    assert "From: Trần Thị Hoa (one-stop counter)<br>" in page  # passed on by the counter
    assert "To: Phạm Văn Minh" in page  # to the officer who started
    assert "To: Nguyễn Văn An (applicant)" in page  # the result handed back
    assert "Giấy chứng sinh" in page  # what was missing, in the notes
    assert "QĐ số 12/QĐ-UBND" in page
    result = page[page.index("6. Result issued") :]
    assert "Early" in result[: result.index("</tr>")]  # the pause moved the due date to 16/03


def test_the_control_sheet_judges_a_step_against_the_due_date_then_in_force(
    client, o, time_machine
):
    dossier = received(o)  # due 09:00 12/03
    time_machine.move_to(at(2026, 3, 12, 8, 0), tick=False)
    services.start_processing(dossier=dossier, by=o.officer)  # on the due day: on time
    time_machine.move_to(at(2026, 3, 12, 8, 30), tick=False)
    services.request_supplement(dossier=dossier, by=o.officer, missing="X", reason="Y")
    time_machine.move_to(at(2026, 3, 16, 9, 0), tick=False)
    dossier = services.record_supplement(dossier=dossier, by=o.counter)
    assert dossier.due_at == at(2026, 3, 16, 9, 30)  # 30 minutes were left at the pause
    english(client).force_login(o.officer)
    page = client.get(slip_url(dossier, "control")).content.decode()

    def row(step):
        text = page[page.index(step) :]
        return text[: text.index("</tr>")]

    assert "On time" in row("Passed on for processing")  # judged against 12/03, not the new date
    # 09:00 16/03 against the moved date (09:30 16/03), not against 09:00 12/03 (late):
    assert "On time" in row("Supplement received") and "Late" not in row("Supplement received")


def test_slip_queries_do_not_grow_with_the_history(
    client, o, time_machine, django_assert_max_num_queries
):
    fresh = received(o)
    dossier = full_journey(o, time_machine)
    client.force_login(o.officer)
    for slip in ["receipt", "supplement", "apology", "control"]:
        with django_assert_max_num_queries(12):
            assert client.get(slip_url(dossier, slip)).status_code == 200

    def count(target) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(slip_url(target, "control")).status_code == 200
        return len(queries)

    assert count(fresh) == count(dossier)  # one event or eight


# --- Helpers ------------------------------------------------------------------------------------


def test_official_dates_and_places():
    with override("en"):
        assert official_date(date(2026, 11, 27)) == "27/11/2026"
        assert official_date(date(2026, 2, 5)) == "05/02/2026"  # months 1 and 2 take a zero
        assert official_date(at(2026, 3, 31, 23, 30)) == "31/3/2026"  # local day
    assert place_name(Unit(name="UBND huyện Văn Yên")) == "Văn Yên"
    assert place_name(Unit(name="UBND thị trấn Mậu A")) == "Mậu A"
    assert place_name(Unit(name="Sở Tư pháp")) == "Sở Tư pháp"


# --- Mẫu 06: the register -----------------------------------------------------------------------


def register_url(**params):
    from urllib.parse import urlencode

    return f"{reverse('dossiers:register')}?{urlencode(params)}"


@pytest.fixture
def march(o, time_machine):
    """Dossiers received on 27/02, 09/03 (started at 10:00), 20/03 and 01/04, and one at
    another commune in March."""
    time_machine.move_to(at(2026, 2, 27, 9, 0), tick=False)
    february = received(o)
    time_machine.move_to(at(2026, 3, 9, 9, 0), tick=False)
    first = received(o)
    time_machine.move_to(at(2026, 3, 9, 10, 0), tick=False)
    services.start_processing(dossier=first, by=o.officer)
    time_machine.move_to(at(2026, 3, 20, 16, 0), tick=False)
    second = received(
        o, applicant=APPLICANT.__class__("=HYPERLINK(1)", "015090001234", "0987654321")
    )
    other_counter = MembershipFactory(unit=o.other_commune, role=Role.COUNTER_OFFICER).user
    elsewhere = received(o, unit=o.other_commune, by=other_counter)
    time_machine.move_to(at(2026, 4, 1, 8, 0), tick=False)
    april = received(o)
    time_machine.move_to(at(2026, 4, 2, 9, 0), tick=False)
    return {
        "february": february,
        "first": first,
        "second": second,
        "elsewhere": elsewhere,
        "april": april,
    }


def test_the_register_shows_the_dossiers_of_the_period_only(client, o, march):
    english(client).force_login(o.counter)
    response = client.get(register_url(unit=o.commune.code, start="2026-03-01", end="2026-03-31"))
    assert response.status_code == 200
    page = response.content.decode()
    assert march["first"].code in page and march["second"].code in page
    for outside in ["february", "april", "elsewhere"]:
        assert march[outside].code not in page, outside
    assert "10:00<br>09/03/2026" in page  # passed on for processing
    assert "Mẫu số 06" in page
    assert [row.code for row in response.context["rows"]] == [
        march["first"].code,
        march["second"].code,
    ]


def test_the_district_register_holds_its_communes(client, o, march):
    client.force_login(o.manager)
    response = client.get(register_url(unit=o.district.code, start="2026-03-01", end="2026-03-31"))
    codes = {row.code for row in response.context["rows"]}
    assert codes == {march["first"].code, march["second"].code, march["elsewhere"].code}


def test_the_register_defaults_to_this_month_at_the_users_unit(client, o, march):
    client.force_login(o.counter)
    response = client.get(reverse("dossiers:register"))
    assert response.status_code == 200
    assert response.context["unit"] == o.commune
    assert (response.context["start"], response.context["end"]) == (
        date(2026, 4, 1),
        date(2026, 4, 30),
    )
    assert [row.code for row in response.context["rows"]] == [march["april"].code]
    page = response.content.decode()
    assert 'value="01/04/2026"' in page and 'value="30/04/2026"' in page  # dd/mm/yyyy
    typed = client.get(register_url(unit=o.commune.code, start="01/03/2026", end="31/03/2026"))
    codes = [row.code for row in typed.context["rows"]]
    assert codes == [march["first"].code, march["second"].code]


def test_the_register_as_xlsx_holds_the_same_rows_laid_out_like_the_book(client, o, march):
    client.force_login(o.counter)
    response = client.get(
        register_url(unit=o.commune.code, start="2026-03-01", end="2026-03-31", format="xlsx")
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert "attachment;" in response["Content-Disposition"]
    sheet = load_workbook(BytesIO(response.content)).active
    assert sheet["A1"].value == "Mẫu số 06"
    merged = {str(cells) for cells in sheet.merged_cells.ranges}
    assert {"A1:M1", "A6:A7", "B6:B7", "G6:G7", "H6:J6", "K6:L6", "M6:M7"} <= merged
    assert "H7:H7" not in merged and sheet["H7"].value and sheet["L7"].value
    assert [sheet.cell(row=8, column=c).value for c in (1, 13)] == ["(1)", "(13)"]
    assert [sheet[f"B{row}"].value for row in (9, 10)] == [
        march["first"].code,
        march["second"].code,
    ]
    assert sheet["B11"].value is None
    received_at = sheet["H9"]
    assert received_at.value == datetime(2026, 3, 9, 9, 0)  # local time, as a real date
    assert received_at.number_format == "dd/mm/yyyy hh:mm"
    assert sheet["J9"].value == datetime(2026, 3, 9, 10, 0)
    assert sheet["E10"].value == "=HYPERLINK(1)" and sheet["E10"].data_type == "s"
    assert sheet.freeze_panes == "C9"
    assert sheet.page_setup.orientation == "landscape"
    assert int(sheet.page_setup.paperSize) == 9  # A4
    assert sheet.column_dimensions["C"].width > sheet.column_dimensions["A"].width


@pytest.mark.parametrize(
    "params",
    [
        {"start": "2026-13-01", "end": "2026-03-31"},
        {"start": "2026-03-31", "end": "2026-03-01"},
        {"start": "2025-01-01", "end": "2026-03-31"},
        {"unit": "999.99.99.Z99", "start": "2026-03-01", "end": "2026-03-31"},
    ],
)
def test_bad_register_input_is_a_form_error(client, o, params):
    english(client).force_login(o.counter)
    params = {"unit": o.commune.code, **params}
    response = client.get(register_url(**params))
    assert response.status_code == 200
    assert response.context["form"].errors
    assert "Please correct the following" in response.content.decode()
    response = client.get(register_url(**params, format="xlsx"))
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")


def test_the_register_of_a_unit_outside_the_users_subtree_is_404(client, o):
    client.force_login(o.counter)
    assert client.get(register_url(unit=o.other_commune.code)).status_code == 404
    assert client.get(register_url(unit=o.district.code, format="xlsx")).status_code == 404


def test_the_register_is_for_staff(client, o):
    client.force_login(o.citizen)
    assert client.get(reverse("dossiers:register")).status_code == 403
    client.logout()
    assert client.get(reverse("dossiers:register")).status_code == 302
    client.force_login(UserFactory(username="root", is_superuser=True))
    assert client.get(register_url(unit=o.other_commune.code)).status_code == 200


def test_register_queries_are_fixed(client, o, march, time_machine, django_assert_max_num_queries):
    client.force_login(o.manager)
    params = {"unit": o.district.code, "start": "2026-03-01", "end": "2026-03-31"}

    def count(**extra) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(register_url(**params, **extra)).status_code == 200
        return len(queries)

    few = count(), count(format="xlsx")
    time_machine.move_to(at(2026, 3, 25, 9, 0), tick=False)
    for _ in range(5):
        services.start_processing(dossier=received(o), by=o.officer)
    assert (count(), count(format="xlsx")) == few
    with django_assert_max_num_queries(9):
        client.get(register_url(**params))
    with django_assert_max_num_queries(7):  # + the access log's one INSERT for the export
        client.get(register_url(**params, format="xlsx"))


def test_available_slips_lists_what_each_user_may_print(o, time_machine):
    from dossiers.selectors import dossier_detail
    from dossiers.slips import available_slips

    dossier = full_journey(o, time_machine)
    staff_view = dossier_detail(user=o.officer, code=dossier.code)
    assert [s["slip"] for s in available_slips(staff_view, o.officer)] == [
        "receipt",
        "supplement",
        "apology",
        "control",
    ]
    assert available_slips(staff_view, o.officer)[0]["url"] == slip_url(dossier, "receipt")
    fresh = dossier_detail(user=o.counter, code=received(o).code)
    assert [s["slip"] for s in available_slips(fresh, o.citizen)] == ["receipt"]
