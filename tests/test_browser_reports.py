"""Journeys through the manager's dashboard and the monthly report in a real Chromium (issue 6
item 9): from the overdue tile to the dossiers behind it, and the month's XLSX downloaded and
read back with the right totals.

Every user logs in through the login form. Texts are the Vietnamese of
locale/vi/LC_MESSAGES/django.po, as the pages show them.
"""

from datetime import timedelta

import pytest
from django.utils import timezone
from openpyxl import load_workbook
from playwright.sync_api import expect

from dossiers import services
from dossiers.choices import Channel
from dossiers.models import Dossier
from dossiers.tests.factories import office, received
from reports.exports import form_values
from reports.periods import month_period
from reports.selectors import monthly_statistics
from tests.browser import log_in

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def world():
    """A commune's month so far: one dossier overdue, one in time, one resolved, one by post."""
    o = office(code="1.001193", name="Đăng ký khai sinh")
    late = received(o)
    services.start_processing(dossier=late, by=o.officer)
    Dossier.objects.filter(pk=late.pk).update(due_at=timezone.now() - timedelta(hours=2))
    in_time = received(o)
    done = received(o)
    services.start_processing(dossier=done, by=o.officer)
    services.resolve_dossier(dossier=done, by=o.officer, result="Đã cấp giấy khai sinh")
    postal = received(o, channel=Channel.POSTAL, postal_tracking_no="EL123456789VN")
    return o, {"late": late, "in_time": in_time, "done": done, "postal": postal}


def test_manager_drills_from_the_overdue_tile_to_the_overdue_dossier(page, live_server, world):
    o, dossiers = world
    log_in(page, live_server, o.manager, next_path="/dashboard/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Bảng điều khiển")
    tile = page.locator(".tile-overdue_now")
    expect(tile).to_contain_text("Đang quá hạn")
    expect(tile.locator(".tile-value")).to_have_text("1")
    tile.locator(".tile-value").click()

    # The worklist, narrowed to exactly the dossier behind the number, says so above the list.
    expect(page.get_by_text("Hồ sơ của chỉ tiêu:")).to_be_visible()
    rows = page.get_by_role("main").locator("table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(dossiers["late"].code)
    page.get_by_role("link", name="Quay lại bảng điều khiển").click()
    expect(page.locator(".tile-overdue_now .tile-value")).to_have_text("1")


def test_manager_downloads_the_months_xlsx_and_it_adds_up(page, live_server, world, tmp_path):
    o, _dossiers = world
    period = month_period(timezone.localdate())
    log_in(page, live_server, o.manager, next_path="/reports/")
    page.goto(f"{live_server.url}/reports/?unit={o.district.code}&period={period.key}")
    expect(page.get_by_role("main")).to_contain_text("Tổng cộng")
    with page.expect_download() as download:
        page.get_by_role("link", name="Tải tệp XLSX").click()
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    assert path.name.endswith(f"{o.district.code}-{period.key}.xlsx")

    sheet = load_workbook(path).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    text = "\n".join(str(v) for row in values for v in row if v is not None)
    assert "TÌNH HÌNH, KẾT QUẢ GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH" in text.upper()
    assert period.start.strftime("%d/%m/%Y") in text and period.end.strftime("%d/%m/%Y") in text
    assert len(sheet.merged_cells.ranges) >= 5  # the form's two-level headers
    total = next(row for row in values if "Tổng cộng" in row)
    numbers = [v for v in total if isinstance(v, int)]
    # Received 4 in the period (3 in person, 1 by post); resolved 1, early; pending 3, 1 overdue.
    # Columns (3)–(13) of the form, then withdrawn/stopped.
    assert numbers == [4, 0, 4, 0, 1, 1, 0, 0, 3, 2, 1, 0]
    assert numbers == form_values(monthly_statistics(unit=o.district, period=period).total)
