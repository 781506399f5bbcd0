"""Accounts and HTTP hardening: login lockout, rate limits, headers, CSP, production settings.

New portal texts are asserted through ``vi()`` (their Vietnamese once translated, their English
until then), so the tests hold before and after locale/vi is updated.
"""

import logging
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth import aauthenticate
from django.contrib.auth.base_user import AbstractBaseUser
from django.core import mail
from django.core.cache import cache
from django.http import HttpResponse
from django.template import Context, Template
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape
from django.utils.translation import gettext

from portal import security
from portal.ratelimit import client_address

from .factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]

LOCKED = (
    "Too many failed logins to this account. Logging in to it is paused until %(time)s. Try "
    "again then, or reset your password if you have forgotten it."
)
TOO_MANY = "Too many attempts from your connection. Try again after %(time)s."
RESET_SENT = (
    "A password reset link was already sent to this e-mail address several times. Use the "
    "latest one, or ask again after %(time)s."
)
TAKEN = (
    "An account with this e-mail address already exists. Log in, or reset your password if "
    "you have forgotten it."
)
NOT_CORRECT = "The username or password is not correct. Both are case-sensitive."


@pytest.fixture(autouse=True)
def _fresh_counters():
    cache.clear()  # rate limits and lockouts count in the cache, shared by every test
    yield
    cache.clear()


def vi(msgid: str) -> str:
    """The part of a portal text before its first placeholder, as a Vietnamese page shows it."""
    with translation.override("vi"):
        return escape(gettext(msgid).split("%(")[0].strip())


def log_in(client, username: str, password: str, **extra):
    return client.post(reverse("login"), {"username": username, "password": password}, **extra)


@pytest.fixture
def password_checks(monkeypatch):
    """How many times a password was compared with a stored hash."""
    calls = []
    original = AbstractBaseUser.check_password

    def counting(self, raw_password):
        calls.append(self.pk)
        return original(self, raw_password)

    monkeypatch.setattr(AbstractBaseUser, "check_password", counting)
    return calls


# --- Login lockout ----------------------------------------------------------------------------


def test_five_failures_pause_the_account_and_say_until_when(client, password_checks):
    UserFactory(username="canbo")
    statuses = [log_in(client, "canbo", f"sai-{n}").status_code for n in range(4)]
    assert statuses == [200] * 4

    fifth = log_in(client, "canbo", "sai-5")
    assert fifth.status_code == 429
    assert vi(LOCKED) in fifth.content.decode()
    assert int(fifth["Retry-After"]) > 14 * 60

    checked = len(password_checks)
    right = log_in(client, "canbo", PASSWORD)
    page = right.content.decode()
    assert right.status_code == 429 and vi(LOCKED) in page
    assert re.search(r"\b\d\d:\d\d\b", page.split(vi(LOCKED))[1])  # "… cho đến 14:35 …"
    assert len(password_checks) == checked  # refused without looking at the password
    assert "_auth_user_id" not in client.session


def test_the_pause_ends_after_the_lockout_time(client, settings, time_machine):
    settings.LOGIN_LOCKOUT_SECONDS = 900
    UserFactory(username="canbo")
    time_machine.move_to("2026-11-02 08:00 +07:00", tick=False)
    for n in range(5):
        log_in(client, "canbo", f"sai-{n}")
    time_machine.move_to("2026-11-02 08:14 +07:00", tick=False)
    assert log_in(client, "canbo", PASSWORD).status_code == 429
    time_machine.move_to("2026-11-02 08:16 +07:00", tick=False)
    assert log_in(client, "canbo", PASSWORD).status_code == 302


def test_a_login_resets_the_accounts_count(client):
    UserFactory(username="canbo")
    for n in range(4):
        log_in(client, "canbo", f"sai-{n}")
    assert log_in(client, "canbo", PASSWORD).status_code == 302
    client.post(reverse("logout"))
    statuses = [log_in(client, "canbo", f"sai-{n}").status_code for n in range(5)]
    assert statuses == [200, 200, 200, 200, 429]


def test_every_way_of_typing_the_account_counts_together(client):
    user = UserFactory(username="0912345678", email="an@example.com")
    typed = ["0912345678", "+84 912 345 678", "84912345678", "0912.345.678", "0912 345 678"]
    for name in typed:
        log_in(client, name, "sai")
    assert log_in(client, "0912345678", PASSWORD).status_code == 429
    assert security.account_key("+84912345678") == f"user:{user.pk}"


def test_unknown_names_are_paused_alike_so_the_lockout_reveals_no_account(client):
    UserFactory(username="canbo")
    unknown = [log_in(client, "khong-co-ai", "sai").status_code for _ in range(5)]
    known = [log_in(client, "canbo", "sai").status_code for _ in range(5)]
    assert unknown == known == [200, 200, 200, 200, 429]
    again = log_in(client, "KHONG-CO-AI", "sai").content.decode()
    assert vi(LOCKED) in again


def test_one_accounts_pause_does_not_stop_another(client):
    UserFactory(username="canbo")
    UserFactory(username="canbo2")
    for n in range(5):
        log_in(client, "canbo", f"sai-{n}")
    assert log_in(client, "canbo2", PASSWORD).status_code == 302


def test_failures_from_one_address_pause_that_address(client, settings):
    settings.LOGIN_MAX_FAILURES_PER_ADDRESS = 3
    UserFactory(username="canbo")
    for name in ("a", "b", "c"):
        log_in(client, name, "sai", REMOTE_ADDR="203.0.113.7")
    refused = log_in(client, "canbo", PASSWORD, REMOTE_ADDR="203.0.113.7")
    assert refused.status_code == 429 and vi(TOO_MANY) in refused.content.decode()
    assert log_in(Client(), "canbo", PASSWORD, REMOTE_ADDR="198.51.100.9").status_code == 302


def test_login_attempts_are_rate_limited_per_address(client, settings):
    settings.LOGIN_RATE_LIMIT = 2
    user = UserFactory(username="canbo")
    assert log_in(client, "canbo", PASSWORD).status_code == 302
    client.post(reverse("logout"))
    assert log_in(client, "canbo", PASSWORD).status_code == 302
    client.post(reverse("logout"))
    third = log_in(client, "canbo", PASSWORD)
    assert third.status_code == 429 and "Retry-After" in third
    assert vi(TOO_MANY) in third.content.decode()
    assert client.session.get("_auth_user_id") != str(user.pk)


def test_the_pause_is_logged_without_the_password(client, caplog):
    user = UserFactory(username="canbo")
    with caplog.at_level(logging.INFO, logger="portal.security"):
        for n in range(6):
            log_in(client, "canbo", f"bi-mat-{n}")
    text = caplog.text
    assert f"Login paused for user:{user.pk}" in text
    assert "Login refused (account paused" in text
    assert "bi-mat" not in text


def test_a_new_password_from_the_emailed_link_lifts_the_pause(client):
    user = UserFactory(username="an@example.com", email="an@example.com")
    for n in range(5):
        log_in(client, "an@example.com", f"sai-{n}")
    assert log_in(client, "an@example.com", PASSWORD).status_code == 429

    client.post(reverse("password_reset"), {"email": "an@example.com"})
    link = re.search(r"http://testserver(/password-reset/\S+/\S+/)", mail.outbox[0].body)
    form_page = client.get(link.group(1), follow=True)
    new_password = "Mua-xuan-2027"
    client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": new_password, "new_password2": new_password},
    )
    response = log_in(client, "an@example.com", new_password)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_the_admin_login_is_guarded_too(client):
    UserFactory(username="quantri", is_staff=True, is_superuser=True)
    for n in range(5):
        client.post("/admin/login/", {"username": "quantri", "password": f"sai-{n}"})
    response = client.post("/admin/login/", {"username": "quantri", "password": PASSWORD})
    assert response.status_code == 200  # the admin's own form, with its own error
    assert "_auth_user_id" not in client.session


def test_the_lockout_backend_never_holds_a_session(client):
    # force_login() and login() pick the first backend that can load a user: not the lockout.
    user = UserFactory(username="canbo")
    client.force_login(user)
    assert client.get(reverse("account")).status_code == 200


def test_the_async_authenticate_is_guarded_too(client):
    UserFactory(username="canbo")
    for n in range(5):
        log_in(client, "canbo", f"sai-{n}")
    request = RequestFactory().post("/login/")
    user = async_to_sync(aauthenticate)(request, username="canbo", password=PASSWORD)
    assert user is None
    assert security.login_refusal(request).reason == security.ACCOUNT


# --- API token --------------------------------------------------------------------------------


def test_the_api_token_endpoint_pauses_an_account_after_five_failures(client, password_checks):
    UserFactory(username="canbo")
    url = "/api/v1/auth/token/"
    statuses = [
        client.post(url, {"username": "canbo", "password": f"sai-{n}"}).status_code
        for n in range(5)
    ]
    assert statuses == [400, 400, 400, 400, 429]

    checked = len(password_checks)
    refused = client.post(url, {"username": "canbo", "password": PASSWORD})
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    body = refused.json()
    assert body["code"] == "locked"
    assert body["message"].startswith(vi(LOCKED))
    assert len(password_checks) == checked

    # The same account is paused on the login page too.
    assert log_in(client, "canbo", PASSWORD).status_code == 429


def test_an_api_token_resets_the_count(client):
    UserFactory(username="canbo")
    url = "/api/v1/auth/token/"
    for n in range(4):
        client.post(url, {"username": "canbo", "password": f"sai-{n}"})
    assert client.post(url, {"username": "canbo", "password": PASSWORD}).status_code == 200
    for n in range(4):
        assert client.post(url, {"username": "canbo", "password": f"sai-{n}"}).status_code == 400


# --- Rate limits ------------------------------------------------------------------------------


def _registration(identifier: str) -> dict:
    return {
        "identifier": identifier,
        "full_name": "Nguyễn Văn An",
        "password": PASSWORD,
        "password_confirm": PASSWORD,
        "consent": "on",
    }


def test_registration_is_rate_limited_per_address_without_telling_who_is_registered(
    client, settings
):
    settings.REGISTER_RATE_LIMIT = 2
    UserFactory(username="an@example.com", email="an@example.com")
    client.post(reverse("register"), _registration("not-an-identifier"))
    client.post(reverse("register"), _registration("not-an-identifier"))
    refused = client.post(reverse("register"), _registration("an@example.com"))
    page = refused.content.decode()
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert vi(TOO_MANY) in page
    assert 'value="an@example.com"' in page  # what was typed stays in the form
    assert vi(TAKEN) not in page


def test_password_reset_is_rate_limited_per_address(client, settings):
    settings.PASSWORD_RESET_RATE_LIMIT = 2
    for n in range(2):
        client.post(reverse("password_reset"), {"email": f"ai{n}@example.com"})
    refused = client.post(reverse("password_reset"), {"email": "ai9@example.com"})
    assert refused.status_code == 429
    assert vi(TOO_MANY) in refused.content.decode()


def test_password_reset_emails_are_limited_per_email_address(client, settings):
    settings.PASSWORD_RESET_EMAIL_LIMIT = 2
    UserFactory(username="an@example.com", email="an@example.com")
    sent = [
        client.post(reverse("password_reset"), {"email": typed}, REMOTE_ADDR=f"192.0.2.{n}")
        for n, typed in enumerate(["an@example.com", "AN@example.com", "an@example.com"])
    ]
    assert [response.status_code for response in sent] == [302, 302, 429]
    assert len(mail.outbox) == 2
    assert vi(RESET_SENT) in sent[2].content.decode()
    # The same for an address without an account: the limit tells nothing about accounts.
    for _attempt in range(2):
        client.post(reverse("password_reset"), {"email": "ai@example.com"}, REMOTE_ADDR="x")
    other = client.post(reverse("password_reset"), {"email": "ai@example.com"}, REMOTE_ADDR="y")
    assert other.status_code == 429


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "1.1.1.1", "10.0.0.2"),  # no proxy: the header is the client's own writing
        (1, "", "10.0.0.2"),
        (1, "1.1.1.1", "1.1.1.1"),
        (1, "6.6.6.6, 1.1.1.1", "1.1.1.1"),  # a forged first entry is ignored
        (2, "6.6.6.6, 1.1.1.1, 172.16.0.1", "1.1.1.1"),
    ],
)
def test_the_client_address_trusts_only_the_proxies_own_entries(
    settings, proxies, forwarded, expected
):
    settings.NUM_PROXIES = proxies
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_address(request) == expected


def test_a_forged_forwarded_header_does_not_escape_the_lookup_limit(client, settings):
    settings.NUM_PROXIES = 1
    settings.LOOKUP_RATE_LIMIT = 2
    params = {"code": "000.00.15.H61-221102-0001", "phone": "0912345678"}
    statuses = [
        client.get(
            reverse("lookup"), params, HTTP_X_FORWARDED_FOR=f"10.9.9.{n}, 203.0.113.5"
        ).status_code
        for n in range(3)
    ]
    assert statuses == [200, 200, 429]


# --- Headers and Content Security Policy ------------------------------------------------------


def _policy(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in header.split(";"))


@pytest.mark.parametrize("url", ["/", "/login/", "/api/v1/units/", "/api/v1/procedures/"])
def test_every_response_carries_the_security_headers(client, url):
    response = client.get(url)
    assert response.status_code == 200
    policy = _policy(response)
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["object-src"] == "'none'"
    assert policy["base-uri"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["form-action"] == "'self'"
    assert policy["img-src"] == "'self' data:"
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["Cross-Origin-Resource-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"]


def test_static_files_carry_the_policy_too(client):
    response = client.get("/static/js/site.js")
    assert response.status_code == 200
    assert _policy(response)["script-src"] == "'self'"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_an_inline_style_gets_the_responses_nonce_and_only_then():
    styled = Template('<style nonce="{{ request.csp_nonce }}">@page {}</style>')

    def view(request):
        return HttpResponse(styled.render(Context({"request": request})))

    response = security.SecurityHeadersMiddleware(view)(RequestFactory().get("/"))
    nonce = re.search(r'nonce="([^"]+)"', response.content.decode()).group(1)
    assert len(nonce) >= 20
    assert _policy(response)["style-src"] == f"'self' 'nonce-{nonce}'"

    plain = security.SecurityHeadersMiddleware(lambda request: HttpResponse("x"))
    assert _policy(plain(RequestFactory().get("/")))["style-src"] == "'self'"


def test_report_only_mode(client, settings):
    settings.CSP_REPORT_ONLY = True
    response = client.get("/")
    assert "Content-Security-Policy" not in response
    assert "script-src 'self'" in response["Content-Security-Policy-Report-Only"]


def test_swagger_ui_runs_its_script_from_a_file_and_alone_may_use_inline_styles(client):
    page = client.get("/api/docs/")
    policy = _policy(page)
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self' 'unsafe-inline'"
    html = page.content.decode()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200
    assert "SwaggerUIBundle" in script.content.decode()


TEMPLATE_DIRS = [ROOT / "templates", *ROOT.glob("*/templates")]
INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)(?![^>]*type=\"application/(ld\+)?json\")")
EVENT_HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"<[^>]*\sstyle\s*=", re.IGNORECASE)
STYLE_ELEMENT = re.compile(r"<style\b(?![^>]*nonce=\"\{\{ request\.csp_nonce \}\}\")")


def _templates() -> list[Path]:
    return sorted(path for folder in TEMPLATE_DIRS for path in folder.rglob("*.html"))


def test_no_template_has_inline_scripts_handlers_or_styles():
    assert len(_templates()) > 20
    found = []
    for path in _templates():
        text = path.read_text(encoding="utf-8")
        for name, pattern in [
            ("inline <script>", INLINE_SCRIPT),
            ("on…= handler", EVENT_HANDLER),
            ("style= attribute", STYLE_ATTRIBUTE),
            ("<style> without the nonce", STYLE_ELEMENT),
        ]:
            if pattern.search(text):
                found.append(f"{path.relative_to(ROOT)}: {name}")
        if "javascript:" in text.lower():
            found.append(f"{path.relative_to(ROOT)}: javascript: URL")
    assert found == []


def test_the_template_check_would_catch_each_kind_of_inline_code():
    samples = {
        INLINE_SCRIPT: "<script>alert(1)</script> <script defer>x()</script>",
        EVENT_HANDLER: '<button type="button" onclick="print()">',
        STYLE_ATTRIBUTE: '<p class="x" style="color:red">',
        STYLE_ELEMENT: "<style>p{}</style>",
    }
    for pattern, sample in samples.items():
        assert pattern.search(sample), pattern
    assert not INLINE_SCRIPT.search('<script src="/static/js/print.js" defer></script>')
    assert not STYLE_ELEMENT.search('<style nonce="{{ request.csp_nonce }}">@page{}</style>')


# --- Production settings ----------------------------------------------------------------------


def test_http_is_redirected_to_https_except_the_health_check(settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_REDIRECT_EXEMPT = [r"^health/$"]
    client = Client()  # a new handler: the security middleware reads the settings again
    home = client.get("/")
    assert home.status_code == 301 and home["Location"] == "https://testserver/"
    assert client.get("/health/").status_code in (200, 503)


def test_the_shared_cache_check(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    assert [message.id for message in security.check_shared_cache()] == ["portal.W001"]
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/2",
        }
    }
    assert security.check_shared_cache() == []


def _production_env(tmp_path) -> dict[str, str]:
    keep = {"PATH", "HOME", "LANG", "LC_ALL", "PYTHONPATH", "VIRTUAL_ENV", "TMPDIR"}
    env = {key: value for key, value in os.environ.items() if key in keep}
    (tmp_path / "empty.env").write_text("")
    env.update(
        DJANGO_SETTINGS_MODULE="portal.settings",
        ENV_FILE=str(tmp_path / "empty.env"),  # not this checkout's .env
        VAR_DIR=str(tmp_path / "var"),
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="motcua.example.gov.vn",
        CSRF_TRUSTED_ORIGINS="https://motcua.example.gov.vn",
        DATABASE_URL="postgres://motcua:mat-khau@127.0.0.1:5432/motcua",
        CELERY_BROKER_URL="redis://127.0.0.1:6379/0",
        CACHE_URL="redis://127.0.0.1:6379/2",
        EMAIL_HOST="mail.example.gov.vn",
    )
    return env


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=_production_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stdout + result.stderr


PROBE = """
import django
django.setup()
from django.conf import settings as s
print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY,
      s.SESSION_COOKIE_SAMESITE, s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS,
      s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.X_FRAME_OPTIONS, s.SECURE_PROXY_SSL_HEADER[0])
"""


def test_production_cookies_https_and_hsts(tmp_path):
    env = _production_env(tmp_path)
    env.update(SECURE_HSTS_SECONDS="600", SECURE_HSTS_INCLUDE_SUBDOMAINS="1")
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "True", "True", "True", "Lax", "True", "600", "True", "DENY", "HTTP_X_FORWARDED_PROTO",
    ]  # fmt: skip
