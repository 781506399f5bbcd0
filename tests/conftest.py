"""Fixtures for everyone: a real headless Chromium (Playwright) and a real Redis.

Browser journeys use ``page`` together with pytest-django's ``live_server``::

    def test_home(page, live_server):
        page.goto(live_server.url)
        expect(page.get_by_role("heading", name="Một Cửa")).to_be_visible()

Chromium is Debian's (``/usr/bin/chromium``, or ``CHROMIUM_PATH``); Playwright's own browser
downloads are never used. Without it the browser tests are skipped, unless ``REQUIRE_BROWSER=1``
(CI), when they fail. Likewise Redis: ``REDIS_URL`` (default ``redis://127.0.0.1:6379/15``),
skipped when unreachable unless ``REQUIRE_REDIS=1``.

Tests that use ``page``/``browser`` are marked ``browser``, tests that use ``redis_url`` are
marked ``redis``, so ``pytest -m "not browser"`` runs the quick ones.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/15"


def _required(variable: str) -> bool:
    return os.environ.get(variable, "").strip().lower() in {"1", "true", "yes", "on"}


def skip_or_fail(reason: str, *, required_by: str) -> None:
    """Skip the test, or fail it when the environment says the resource is required."""
    if _required(required_by):
        pytest.fail(f"{reason} ({required_by}=1)", pytrace=False)
    pytest.skip(reason)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if fixtures & {"page", "browser"}:
            item.add_marker(pytest.mark.browser)
        if "redis_url" in fixtures:
            item.add_marker(pytest.mark.redis)


# --- Browser ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, headless, driven by Playwright's sync API for the whole session."""
    executable = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    if not Path(executable).is_file():
        skip_or_fail(f"Chromium not found at {executable}", required_by="REQUIRE_BROWSER")
    # Playwright's sync API keeps an asyncio loop running in this thread from now on, and Django
    # refuses ORM calls from a thread with a running loop unless told that it is safe (it is:
    # nothing else runs on that loop).
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=executable, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    if report.when == "call":
        item.stash[_CALL_FAILED] = report.failed
    return report


_CALL_FAILED = pytest.StashKey[bool]()
RESULTS_DIR = Path(__file__).resolve().parent.parent / "test-results"


@pytest.fixture
def page(browser, request: pytest.FixtureRequest):
    """A fresh page (own cookies and storage) in Vietnamese, on Vietnam's clock.

    When the test fails, a screenshot of the page is saved under test-results/.
    """
    context = browser.new_context(locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh")
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        yield page
        if request.node.stash.get(_CALL_FAILED, False):
            RESULTS_DIR.mkdir(exist_ok=True)
            name = re.sub(r"[^\w.-]+", "_", request.node.nodeid)[-150:]
            with contextlib.suppress(Exception):  # a broken page must not hide the failure
                page.screenshot(path=RESULTS_DIR / f"{name}.png", full_page=True)
    finally:
        context.close()


@pytest.fixture
def new_page(browser):
    """More pages, each in its own context (own cookies): one per user of a journey."""
    contexts = []

    def make(**options):
        context = browser.new_context(locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh", **options)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        return page

    yield make
    for context in contexts:
        context.close()


# --- Redis ------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """The URL of a Redis that answers PING (a database reserved for tests: default /15)."""
    import redis

    url = os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL
    client = redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3)
    try:
        client.ping()
    except redis.RedisError as exc:
        skip_or_fail(f"Redis at {url} does not answer: {exc}", required_by="REQUIRE_REDIS")
    finally:
        client.close()
    yield url


@pytest.fixture
def redis_cache(settings, redis_url):
    """The production cache (``portal.cache.FailOpenRedisCache``) on the tests' Redis, under a
    key prefix of this test's own; yields a plain client of the same Redis to look inside."""
    import uuid

    import redis
    from django.core.cache import cache

    settings.CACHES = {
        "default": {
            "BACKEND": "portal.cache.FailOpenRedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": f"test-{uuid.uuid4().hex}",
        }
    }
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()
    cache.close()
