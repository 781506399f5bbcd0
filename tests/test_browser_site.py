"""User journeys through the site shell and the public catalogue, in a real Chromium."""

import re

import pytest
from playwright.sync_api import expect

from portal.choices import UnitLevel
from portal.tests.factories import PASSWORD, UnitFactory, UserFactory
from procedures.choices import OnlineLevel, ProcedureLevel
from procedures.services import seed_holidays
from procedures.tests.factories import DocumentFactory, FieldFactory, ProcedureFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def catalogue():
    UnitFactory(level=UnitLevel.PROVINCE, name="UBND tỉnh Yên Bái")
    seed_holidays(years=[2026, 2027])
    ho_tich = FieldFactory(code="ho-tich", name="Hộ tịch", sort_order=1)
    birth = ProcedureFactory(
        code="1.001193",
        name="Thủ tục đăng ký khai sinh",
        field=ho_tich,
        level=ProcedureLevel.PROVINCE,
        online_level=OnlineLevel.FULL,
    )
    DocumentFactory(procedure=birth, name="Tờ khai đăng ký khai sinh theo mẫu")
    ProcedureFactory(code="1.000656", name="Thủ tục đăng ký khai tử", field=ho_tich)
    return birth


def test_home_page_speaks_vietnamese(page, live_server, catalogue):
    page.goto(live_server.url)
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    expect(page.get_by_role("heading", level=1)).to_have_text("Thủ tục hành chính, tại một nơi")
    expect(page.get_by_role("link", name=re.compile("Hộ tịch"))).to_be_visible()


def test_catalogue_search_finds_a_procedure_by_part_of_its_name(page, live_server, catalogue):
    page.goto(live_server.url)
    page.get_by_role("searchbox").fill("khai sinh")
    page.get_by_role("button", name="Tìm kiếm").click()
    expect(page.get_by_text("Tìm thấy 1 thủ tục")).to_be_visible()
    page.get_by_role("link", name="Thủ tục đăng ký khai sinh").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thủ tục đăng ký khai sinh")
    expect(page.get_by_text("Tờ khai đăng ký khai sinh theo mẫu")).to_be_visible()
    expect(page.get_by_test_id("due-at")).to_contain_text("/20")


def test_search_without_diacritics(page, live_server, catalogue):
    page.goto(f"{live_server.url}/procedures/?search=dang+ky+khai+tu")
    expect(page.get_by_role("link", name="Thủ tục đăng ký khai tử")).to_be_visible()
    expect(page.get_by_role("link", name="Thủ tục đăng ký khai sinh")).to_have_count(0)


def test_language_switch_turns_english_and_back(page, live_server, catalogue):
    page.goto(f"{live_server.url}/procedures/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Thủ tục hành chính")
    page.get_by_role("button", name="EN").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Administrative procedures")
    page.get_by_role("button", name="VI").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thủ tục hành chính")


def test_login_shows_the_users_name_and_logout(page, live_server):
    UserFactory(username="canbo", first_name="Hoa", last_name="Trần Thị")
    page.goto(live_server.url)
    page.get_by_role("link", name="Đăng nhập").click()
    page.get_by_label("Tên đăng nhập").fill("canbo")
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.get_by_role("link", name="Trần Thị Hoa")).to_be_visible()
    page.get_by_role("button", name="Đăng xuất").click()
    expect(page.get_by_role("link", name="Đăng nhập")).to_be_visible()


def test_phone_screen_menu_opens_from_the_button(browser, live_server, catalogue):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="vi-VN")
    page = context.new_page()
    try:
        page.goto(live_server.url)
        menu_link = page.get_by_role("navigation", name="Menu chính").get_by_role(
            "link", name="Lịch làm việc"
        )
        expect(menu_link).to_be_hidden()
        page.get_by_role("button", name="Menu").click()
        expect(menu_link).to_be_visible()
        # Nothing is wider than the phone's screen.
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390
    finally:
        context.close()
