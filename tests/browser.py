"""Steps shared by the browser journeys."""

import re
from urllib.parse import urlencode

from playwright.sync_api import expect

from portal.tests.factories import PASSWORD


def log_in(page, live_server, user, next_path="/dossiers/"):
    """Log ``user`` in through the real login form and wait for ``next_path``."""
    page.goto(f"{live_server.url}/login/?{urlencode({'next': next_path})}")
    form = page.get_by_role("main").locator("form")
    form.locator("input[name=username]").fill(user.username)
    form.locator("input[name=password]").fill(PASSWORD)
    form.locator("button[type=submit]").click()
    expect(page).to_have_url(re.compile(re.escape(next_path.split("?")[0])))
    page.wait_for_load_state()
