"""A citizen registers, confirms the e-mail address from the verification message, logs out and
back in with that address: in a real Chromium, in Vietnamese."""

import re

import pytest
from playwright.sync_api import expect

from portal.models import OutboxMessage, Profile

pytestmark = pytest.mark.django_db(transaction=True)


def test_register_verify_and_log_in_with_the_email(page, live_server):
    page.goto(live_server.url)
    page.locator("header").get_by_role("link", name="Đăng ký").click()
    page.locator("#id_identifier").fill("Mai.Nguyen@Example.com")
    page.locator("#id_full_name").fill("Nguyễn Thị Mai")
    page.locator("#id_password").fill("Hoa-sen-2026!")
    page.locator("#id_password_confirm").fill("Hoa-sen-2026!")
    page.locator("#id_consent").check()
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/account/profile/$"))
    expect(page.locator("header")).to_contain_text("Nguyễn Thị Mai")

    message = OutboxMessage.objects.get(key__startswith="verify-email:")
    assert message.recipient == "mai.nguyen@example.com"
    link = re.search(r"https?://\S+/verify-email/\S+/", message.body).group(0)
    page.goto(live_server.url + link[link.index("/verify-email/") :])
    profile = Profile.objects.get(user__username="mai.nguyen@example.com")
    assert profile.email_verified_at is not None

    page.locator("header form[action='/logout/'] button").click()
    page.goto(f"{live_server.url}/login/")
    page.locator("#id_username").fill("MAI.NGUYEN@example.com")
    page.locator("#id_password").fill("Hoa-sen-2026!")
    page.locator("main form button[type=submit]").click()
    expect(page.locator("header")).to_contain_text("Nguyễn Thị Mai")


def test_a_weak_password_is_refused_in_vietnamese(page, live_server):
    page.goto(f"{live_server.url}/register/")
    page.locator("#id_identifier").fill("0912 345 678")
    page.locator("#id_full_name").fill("Hoàng Văn Bình")
    page.locator("#id_password").fill("12345678")
    page.locator("#id_password_confirm").fill("12345678")
    page.locator("#id_consent").check()
    page.locator("main form button[type=submit]").click()
    expect(page.get_by_role("alert")).to_contain_text("Mật khẩu")
    assert not Profile.objects.exists()
