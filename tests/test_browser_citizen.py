"""The citizen's journey in a real Chromium: submit online with files, the counter accepts, the
officer asks for a missing document, the citizen supplies it on "My dossiers", the result is
handed over, the citizen rates the service; and the submission on a phone's screen.

The citizen's pages are located by test ids, names of form fields and addresses: their
Vietnamese texts come with a later translation. The staff's pages are those of
test_browser_dossiers.py.
"""

import re
from pathlib import Path

import pytest
from django.utils.translation import gettext, override
from playwright.sync_api import expect

from dossiers.choices import Status
from dossiers.models import Dossier
from dossiers.tests.factories import office
from portal.models import Profile
from portal.tests.factories import UserFactory
from tests.browser import log_in

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def vi(text: str) -> str:
    with override("vi"):
        return gettext(text)


@pytest.fixture
def o():
    return office(code="1.001193", name="Thủ tục đăng ký khai sinh")


@pytest.fixture
def citizen(o):
    user = UserFactory(username="congdan.test", first_name="Mai", last_name="Nguyễn Thị")
    Profile.objects.create(
        user=user,
        full_name="Nguyễn Thị Mai",
        id_number="015190001234",
        phone="0912345678",
        address="Thôn Trung Tâm, xã An Thịnh",
    )
    return user


@pytest.fixture
def files(tmp_path) -> dict[str, Path]:
    paths = {"pdf": tmp_path / "to-khai.pdf", "png": tmp_path / "giay-to.png"}
    paths["pdf"].write_bytes(PDF)
    paths["png"].write_bytes(PNG)
    extra = tmp_path / "giay-chung-sinh.pdf"
    extra.write_bytes(PDF)
    paths["extra"] = extra
    return paths


def staff_act(page, action, **fields):
    """One action of the staff's dossier page: open it, fill its fields (by name), send it."""
    panel = page.get_by_test_id(f"action-{action}")
    panel.locator("summary").click()
    for name, value in fields.items():
        panel.locator(f"[name={name}]").fill(value)
    panel.locator("button[type=submit]").click()


def no_sideways_scrolling(page):
    page.wait_for_load_state()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def submit_online(page, live_server, o, files, *, phone=False):
    """From the procedure's page to the confirmation; returns the dossier's code as shown."""
    page.goto(f"{live_server.url}/procedures/{o.procedure.code}/")
    page.get_by_test_id("submit-online").get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"/dossiers/submit/1\.001193/\?unit="))
    form = page.get_by_test_id("applicant-form")
    # Filled in from the profile.
    expect(form.locator("select[name=unit]")).to_have_value(o.commune.code)
    expect(form.locator("input[name=full_name]")).to_have_value("Nguyễn Thị Mai")
    expect(form.locator("input[name=id_number]")).to_have_value("015190001234")
    expect(form.locator("input[name=phone]")).to_have_value("0912345678")
    if phone:
        no_sideways_scrolling(page)
    page.get_by_test_id("applicant-next").click()

    expect(page).to_have_url(re.compile(r"/dossiers/submit/1\.001193/documents/$"))
    review = page.get_by_test_id("review")
    expect(review.get_by_test_id("review-unit")).to_have_text(o.commune.name)
    page.get_by_label(re.compile("^Tờ khai theo mẫu")).set_input_files(files["pdf"])
    page.get_by_label(re.compile("^Giấy tờ tùy thân")).set_input_files(files["png"])
    # The review lists the chosen files by name and size.
    expect(review.locator("[data-review-files] li")).to_have_count(2)
    expect(review.locator("[data-review-files]")).to_contain_text("to-khai.pdf (50 B)")
    expect(review.locator("[data-review-files]")).to_contain_text("giay-to.png (40 B)")
    if phone:
        no_sideways_scrolling(page)
        button = page.get_by_test_id("submit-dossier")
        button.scroll_into_view_if_needed()
        box = button.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    page.locator("input[name=confirm]").check()
    page.get_by_test_id("submit-dossier").click()

    expect(page).to_have_url(re.compile(r"/dossiers/my/[^/]+/submitted/$"))
    expect(page.get_by_test_id("dossier-status")).to_have_text(vi("Awaiting intake"))
    if phone:
        no_sideways_scrolling(page)
    return page.get_by_test_id("dossier-code").inner_text().strip()


def test_a_citizen_submits_follows_supplies_and_rates(
    page, new_page, live_server, o, citizen, files
):
    # 1. The citizen submits online from the procedure's page.
    log_in(page, live_server, citizen, f"/procedures/{o.procedure.code}/")
    code = submit_online(page, live_server, o, files)
    dossier = Dossier.objects.get()
    assert code == dossier.code
    assert (dossier.status, dossier.applicant_user) == (Status.SUBMITTED, citizen)
    assert sorted(dossier.attachments.values_list("original_name", flat=True)) == [
        "giay-to.png",
        "to-khai.pdf",
    ]
    page.get_by_test_id("follow-dossier").click()
    mine = f"{live_server.url}/dossiers/my/{code}/"
    expect(page).to_have_url(mine)
    expect(page.get_by_test_id("my-status")).to_have_attribute("data-status", "submitted")

    # 2. The counter officer accepts it on the staff's page.
    staff_url = f"/dossiers/{code}/"
    counter = new_page()
    log_in(counter, live_server, o.counter, staff_url)
    staff_act(counter, "accept")
    expect(counter.get_by_test_id("dossier-status")).to_have_text(vi("Received"))

    # 3. The processing officer starts and asks for a missing document.
    officer = new_page()
    log_in(officer, live_server, o.officer, staff_url)
    staff_act(officer, "start")
    expect(officer.get_by_test_id("dossier-status")).to_have_text(vi("In progress"))
    staff_act(
        officer,
        "request_supplement",
        missing="Bản sao giấy chứng sinh",
        reason="Thiếu giấy chứng sinh",
    )
    expect(officer.get_by_test_id("dossier-status")).to_have_text(vi("Awaiting supplement"))
    due_paused = Dossier.objects.get().due_at

    # 4. The citizen finds it in "My dossiers" and sends the document.
    page.goto(f"{live_server.url}/dossiers/my/")
    row = page.get_by_test_id("my-dossier").filter(has_text=code)
    expect(row.get_by_test_id("my-dossier-status")).to_be_visible()
    row.get_by_role("link").first.click()
    expect(page).to_have_url(mine)
    expect(page.get_by_test_id("my-status")).to_have_attribute(
        "data-status", "supplement_requested"
    )
    request = page.get_by_test_id("supplement-request")
    expect(request.get_by_test_id("missing-documents")).to_have_text("Bản sao giấy chứng sinh")
    expect(request).to_contain_text("Thiếu giấy chứng sinh")
    form = page.get_by_test_id("supply-form")
    form.locator("input[name=other]").set_input_files(files["extra"])
    form.locator("textarea[name=note]").fill("Gửi bản sao giấy chứng sinh")
    page.get_by_test_id("send-documents").click()
    expect(page.get_by_test_id("my-status")).to_have_attribute("data-status", "in_progress")
    expect(page.get_by_test_id("supply-form")).to_have_count(0)
    dossier = Dossier.objects.get()
    assert dossier.paused_at is None and dossier.due_at >= due_paused
    assert dossier.attachments.filter(original_name="giay-chung-sinh.pdf").exists()

    # 5. The officer resolves it, the counter hands the result over.
    officer.reload()
    expect(officer.get_by_test_id("dossier-status")).to_have_text(vi("In progress"))
    staff_act(officer, "resolve", result="Giấy khai sinh số 125, quyển 01/2026")
    expect(officer.get_by_test_id("dossier-status")).to_have_text(vi("Result ready"))
    counter.reload()
    staff_act(counter, "return")
    expect(counter.get_by_test_id("dossier-status")).to_have_text(vi("Result returned"))

    # 6. The citizen sees the result and rates the service, once.
    page.reload()
    expect(page.get_by_test_id("my-status")).to_have_attribute("data-status", "returned")
    expect(page.get_by_test_id("result")).to_contain_text("Giấy khai sinh số 125")
    rating = page.get_by_test_id("rating-form")
    rating.locator("input[name=score][value=very_satisfied]").check()
    rating.locator("textarea[name=comment]").fill("Nhanh, không phải đi lại")
    page.get_by_test_id("send-rating").click()
    expect(page.get_by_test_id("my-rating")).to_have_attribute("data-score", "very_satisfied")
    expect(page.get_by_test_id("rating-form")).to_have_count(0)
    assert Dossier.objects.get().rating.comment == "Nhanh, không phải đi lại"
    timeline = page.get_by_test_id("my-timeline").locator("li")
    expect(timeline).to_have_count(8)
    assert timeline.evaluate_all("items => items.map(i => i.dataset.action)") == [
        "submit",
        "accept",
        "start",
        "request_supplement",
        "supplement",
        "resolve",
        "return",
        "rate",
    ]


def test_the_submission_fits_a_phone(new_page, live_server, o, citizen, files):
    page = new_page(viewport=PHONE)
    log_in(page, live_server, citizen, f"/procedures/{o.procedure.code}/")
    no_sideways_scrolling(page)
    code = submit_online(page, live_server, o, files, phone=True)
    assert code == Dossier.objects.get().code
    page.goto(f"{live_server.url}/dossiers/my/")
    no_sideways_scrolling(page)
    page.goto(f"{live_server.url}/dossiers/my/{code}/")
    expect(page.get_by_test_id("my-status")).to_have_attribute("data-status", "submitted")
    no_sideways_scrolling(page)
