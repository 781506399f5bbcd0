"""Journeys through the dossier pages in a real Chromium (issue item 11): intake at the counter,
a dossier's way from received to returned, a postal intake, an officer of another commune, the
public lookup from the receipt's QR code, and a phone's screen.

Every user logs in through the login form. Texts are the Vietnamese of
locale/vi/LC_MESSAGES/django.po, as the pages show them.
"""

import re
from urllib.parse import urlencode

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from dossiers import services
from dossiers.choices import Channel, Status
from dossiers.models import Dossier
from dossiers.qr import qr_svg
from dossiers.tests.factories import APPLICANT, office, received
from portal.choices import Role
from portal.tests.factories import MembershipFactory
from tests.browser import log_in

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def o():
    """A commune with its counter officer, processing officer, and an officer of the commune
    next door; its procedure has a required and an optional document."""
    return office(code="2.000815", name="Thủ tục chứng thực bản sao từ bản chính")


def detail_url(live_server, dossier) -> str:
    return f"{live_server.url}/dossiers/{dossier.code}/"


def lookup_url(live_server, dossier) -> str:
    return f"{live_server.url}/lookup/?{urlencode({'code': dossier.code})}"


def act(page, action, label, **textboxes):
    """Open one action of the dossier's page ("Thao tác tiếp theo"), fill its form's text
    boxes (by their labels) and submit it with its button."""
    panel = page.get_by_test_id(f"action-{action}")
    panel.locator("summary").click()
    for name, value in textboxes.items():
        panel.get_by_role("textbox", name=name, exact=True).fill(value)
    panel.get_by_role("button", name=label).click()


# --- 1. In-person intake ----------------------------------------------------------------------


def test_counter_officer_receives_a_dossier_and_prints_the_receipt(page, live_server, o):
    log_in(page, live_server, o.counter)
    page.get_by_role("main").get_by_role("link", name="Tiếp nhận hồ sơ").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tiếp nhận hồ sơ")
    expect(page.get_by_role("combobox", name="Cơ quan tiếp nhận")).to_have_value(o.commune.code)
    page.get_by_role("combobox", name="Thủ tục", exact=True).select_option(o.procedure.code)
    # The due date of a dossier received now comes as soon as the procedure is chosen.
    preview = page.get_by_role("region", name="Nếu tiếp nhận ngay bây giờ")
    expect(preview).to_contain_text(o.procedure.name)
    expect(preview).to_contain_text("thì ngày hẹn trả kết quả là")
    expect(preview.get_by_test_id("preview-due-at")).to_have_text(
        re.compile(r"^(Thứ [2-7]|Chủ nhật), \d\d/\d\d/20\d\d lúc \d\d:\d\d$")
    )
    page.get_by_role("button", name="Tiếp tục").click()

    expect(page.get_by_role("radio", name="Trực tiếp")).to_be_checked()
    expect(page.get_by_label("Mã vận đơn bưu chính")).to_be_hidden()
    page.get_by_role("textbox", name="Họ và tên người nộp hồ sơ").fill("Lê Thị Bình")
    page.get_by_role("textbox", name="Số CCCD").fill("001185012345")
    page.get_by_role("textbox", name="Số điện thoại", exact=True).fill("0987 654 321")
    page.get_by_role("textbox", name="Địa chỉ").fill("Thôn Khe Lụa, xã An Thịnh")
    page.get_by_role("checkbox", name=re.compile("^Tờ khai theo mẫu")).check()
    page.get_by_role("button", name="Tiếp nhận và in giấy hẹn trả kết quả").click()

    expect(page).to_have_url(re.compile(r"/dossiers/[^/]+/slips/receipt/$"))
    dossier = Dossier.objects.get()
    receipt = page.get_by_role("main")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Giấy tiếp nhận hồ sơ và hẹn trả kết quả"
    )
    expect(receipt).to_contain_text(f"Mã hồ sơ: {dossier.code}")
    expect(receipt).to_contain_text("Lê Thị Bình")
    expect(receipt).to_contain_text("Tờ khai theo mẫu")
    expect(receipt).not_to_contain_text("Giấy tờ tùy thân")  # not ticked
    due = timezone.localtime(dossier.due_at)
    expect(receipt).to_contain_text(f"Thời gian trả kết quả giải quyết hồ sơ: {due:%H:%M %d/%m/%Y}")
    # The QR code is an inline <svg> that holds the address of the public lookup.
    qr = page.get_by_role("img", name=f"Tra cứu hồ sơ: {dossier.code}")
    expect(qr).to_be_visible()
    assert qr.evaluate("node => node.tagName") == "svg"
    drawn = qr.locator("path").get_attribute("d")
    assert drawn and f'd="{drawn}"' in qr_svg(lookup_url(live_server, dossier))

    assert dossier.status == Status.RECEIVED
    assert dossier.channel == Channel.IN_PERSON
    assert (dossier.applicant_id_number, dossier.applicant_phone) == ("001185012345", "0987654321")
    assert dossier.unit == o.commune and dossier.received_by == o.counter
    assert [(d.name, d.received) for d in dossier.documents.all()] == [
        ("Tờ khai theo mẫu", True),
        ("Giấy tờ tùy thân", False),
    ]


# --- 2. Processing: start, supplement, resolve, return ------------------------------------------


def test_a_dossier_goes_from_received_to_returned(page, new_page, live_server, o):
    dossier = received(o)
    url = detail_url(live_server, dossier)
    officer = page
    log_in(officer, live_server, o.officer, url)
    status = officer.get_by_test_id("dossier-status")
    expect(status).to_have_text("Đã tiếp nhận")

    act(officer, "start", "Bắt đầu xử lý")
    expect(officer.get_by_role("status")).to_contain_text(f"Đã bắt đầu xử lý hồ sơ {dossier.code}.")
    expect(status).to_have_text("Đang giải quyết")
    act(
        officer,
        "request_supplement",
        "Yêu cầu bổ sung, hoàn thiện hồ sơ",
        **{
            "Giấy tờ còn thiếu hoặc chưa đầy đủ": "Bản sao giấy khai sinh\nSổ hộ khẩu",
            "Lý do": "Thiếu giấy tờ chứng minh nhân thân",
        },
    )
    expect(status).to_have_text("Chờ bổ sung")

    # The supplement request (Mẫu 02) opens from the slips to print.
    officer.get_by_role(
        "link", name="Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ (Mẫu 02)", exact=True
    ).click()
    expect(officer).to_have_url(re.compile(r"/slips/supplement/$"))
    expect(officer.get_by_role("heading", level=1)).to_have_text(
        "Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ"
    )
    expect(officer.get_by_role("listitem")).to_contain_text(
        ["Bản sao giấy khai sinh", "Sổ hộ khẩu"]
    )
    expect(officer.get_by_text("Lý do: Thiếu giấy tờ chứng minh nhân thân")).to_be_visible()

    counter = new_page()
    log_in(counter, live_server, o.counter, url)
    act(counter, "supplement", "Ghi nhận hồ sơ đã bổ sung")
    expect(counter.get_by_test_id("dossier-status")).to_have_text("Đang giải quyết")

    officer.goto(url)
    act(officer, "resolve", "Hoàn thành giải quyết", **{"Kết quả thực hiện": "Bản sao số 125"})
    expect(status).to_have_text("Đã có kết quả")

    counter.reload()
    act(counter, "return", "Trả kết quả")
    expect(counter.get_by_role("status")).to_contain_text(f"Đã trả kết quả hồ sơ {dossier.code}.")
    expect(counter.get_by_test_id("dossier-status")).to_have_text("Đã trả kết quả")
    expect(counter.get_by_test_id("timeline-action")).to_have_text(
        [
            "Tiếp nhận hồ sơ",
            "Bắt đầu xử lý",
            "Yêu cầu bổ sung, hoàn thiện hồ sơ",
            "Ghi nhận hồ sơ đã bổ sung",
            "Hoàn thành giải quyết",
            "Trả kết quả",
        ]
    )
    dossier.refresh_from_db()
    assert dossier.status == Status.RETURNED
    assert dossier.result_summary == "Bản sao số 125"
    assert dossier.pauses.get().ended_at is not None


# --- 3. Postal intake ---------------------------------------------------------------------------


def test_a_postal_dossier_needs_its_tracking_number(page, live_server, o):
    query = urlencode({"unit": o.commune.code, "procedure": o.procedure.code, "next": 1})
    log_in(page, live_server, o.counter, f"/dossiers/new/?{query}")
    tracking = page.get_by_role("textbox", name="Mã vận đơn bưu chính")
    expect(tracking).to_be_hidden()
    page.get_by_role("radio", name="Dịch vụ bưu chính công ích").check()
    expect(tracking).to_be_visible()
    page.get_by_role("textbox", name="Họ và tên người nộp hồ sơ").fill("Hoàng Văn Cường")
    page.get_by_role("textbox", name="Số CCCD").fill("015090004321")
    page.get_by_role("textbox", name="Số điện thoại", exact=True).fill("0216 385 2300")
    page.get_by_role("checkbox", name=re.compile("^Tờ khai theo mẫu")).check()
    save = page.get_by_role("button", name="Tiếp nhận và in giấy hẹn trả kết quả")
    save.click()

    error = "Hồ sơ nhận qua bưu chính phải có mã vận đơn bưu chính."
    expect(page.get_by_role("alert")).to_contain_text(error)
    expect(tracking).to_be_visible()
    expect(tracking).to_have_accessible_description(re.compile(re.escape(error)))
    expect(page.get_by_role("radio", name="Dịch vụ bưu chính công ích")).to_be_checked()
    expect(page.get_by_role("textbox", name="Họ và tên người nộp hồ sơ")).to_have_value(
        "Hoàng Văn Cường"
    )
    assert not Dossier.objects.exists()

    tracking.fill("EB123456789VN")
    save.click()
    expect(page).to_have_url(re.compile(r"/slips/receipt/$"))
    expect(page.get_by_role("main")).to_contain_text(
        "Dịch vụ bưu chính công ích (mã vận đơn bưu chính EB123456789VN)"
    )
    dossier = Dossier.objects.get()
    assert (dossier.channel, dossier.postal_tracking_no) == (Channel.POSTAL, "EB123456789VN")


# --- 4. Another commune's officer -----------------------------------------------------------------


def test_an_officer_of_another_commune_cannot_open_the_dossier(page, live_server, o):
    dossier = received(o)
    theirs = received(
        o,
        unit=o.other_commune,
        by=MembershipFactory(unit=o.other_commune, role=Role.COUNTER_OFFICER).user,
        applicant=services.Applicant(
            full_name="Đỗ Thị Hạnh", id_number="015190007777", phone="0977000111"
        ),
    )
    log_in(page, live_server, o.outsider)

    response = page.goto(detail_url(live_server, dossier))
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Không tìm thấy trang")
    content = page.content()
    for value in (APPLICANT.full_name, APPLICANT.id_number, APPLICANT.phone, APPLICANT.address):
        assert value not in content
    response = page.goto(f"{detail_url(live_server, dossier)}slips/receipt/")
    assert response is not None and response.status == 404
    assert APPLICANT.full_name not in page.content()

    # Their worklist lists their own commune's dossier, not this one.
    page.goto(f"{live_server.url}/dossiers/")
    expect(page.get_by_role("link", name=theirs.code)).to_be_visible()
    expect(page.get_by_role("link", name=dossier.code)).to_have_count(0)
    expect(page.get_by_role("main")).not_to_contain_text(APPLICANT.full_name)


# --- 5. The public lookup -------------------------------------------------------------------------


def test_the_receipts_lookup_link_shows_the_status_in_citizen_words(page, live_server, o):
    dossier = services.start_processing(dossier=received(o), by=o.officer)
    services.request_supplement(
        dossier=dossier, by=o.officer, missing="Sổ hộ khẩu", reason="Bản sao bị mờ"
    )
    # What the receipt's QR code holds (test 1 checks that it does), opened by a citizen.
    page.goto(lookup_url(live_server, dossier))
    expect(page.get_by_role("heading", level=1)).to_have_text("Tra cứu hồ sơ")
    expect(page.get_by_role("textbox", name="Mã hồ sơ")).to_have_value(dossier.code)
    phone = page.get_by_role("textbox", name="Số điện thoại người nộp hồ sơ")

    phone.fill("0912 000 000")  # not the applicant's
    page.get_by_role("button", name="Tra cứu").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "Không tìm thấy hồ sơ với mã và số điện thoại này."
    )
    expect(page.get_by_test_id("lookup-status")).to_have_count(0)

    phone.fill("0912 345 678")
    page.get_by_role("button", name="Tra cứu").click()
    expect(page.get_by_test_id("lookup-status")).to_have_text(
        "Hồ sơ còn thiếu giấy tờ: vui lòng bổ sung"
    )
    result = page.get_by_role("status")
    expect(result).to_contain_text(dossier.code)
    expect(result).to_contain_text(o.procedure.name)
    content = page.content()
    for value in (APPLICANT.full_name, APPLICANT.id_number, APPLICANT.address, "Bản sao bị mờ"):
        assert value not in content

    # The answer's page is filled into kept markup (portal.kept_pages): asked again, and in
    # English through the layout's language switch (its CSRF token is this visitor's own).
    page.reload()
    expect(page.get_by_test_id("lookup-status")).to_have_text(
        "Hồ sơ còn thiếu giấy tờ: vui lòng bổ sung"
    )
    page.get_by_role("button", name="EN").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_test_id("lookup-status")).to_have_text(
        "Documents missing: please supplement"
    )
    expect(page.get_by_role("textbox", name="Applicant's phone number")).to_have_value(
        "0912 345 678"
    )
    expect(page.get_by_role("status")).to_contain_text(dossier.code)


# --- 6. On a phone --------------------------------------------------------------------------------


def test_the_worklist_and_the_dossier_page_fit_a_phone(new_page, live_server, o):
    dossier = services.start_processing(dossier=received(o), by=o.officer)
    services.resolve_dossier(dossier=dossier, by=o.officer, result="Bản sao số 7")
    page = new_page(viewport=PHONE)
    log_in(page, live_server, o.counter)

    def no_sideways_scrolling():
        page.wait_for_load_state()  # measured with the style sheet applied
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    def on_screen(locator):
        expect(locator).to_be_visible()
        locator.scroll_into_view_if_needed()
        box = locator.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]

    on_screen(page.get_by_role("main").get_by_role("link", name="Tiếp nhận hồ sơ"))
    on_screen(page.get_by_role("button", name="Tìm kiếm"))
    # The page opens on the work in hand; results to hand back have their own quick link.
    expect(page.get_by_role("link", name=dossier.code)).to_have_count(0)
    results = page.get_by_role("navigation", name="Lọc nhanh").get_by_role(
        "link", name="Đã có kết quả"
    )
    on_screen(results)
    results.click()
    on_screen(page.get_by_role("link", name=dossier.code))
    no_sideways_scrolling()

    page.get_by_role("link", name=dossier.code).click()
    expect(page.get_by_test_id("dossier-status")).to_have_text("Đã có kết quả")
    no_sideways_scrolling()
    action = page.get_by_test_id("action-return")
    on_screen(action.locator("summary"))
    action.locator("summary").click()
    button = action.get_by_role("button", name="Trả kết quả")
    on_screen(button)
    no_sideways_scrolling()
    button.click()
    expect(page.get_by_test_id("dossier-status")).to_have_text("Đã trả kết quả")
    no_sideways_scrolling()
