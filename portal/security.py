"""Defences of the accounts and of every response (docs/security.md).

Login lockout
    Every ``authenticate()`` call, whoever makes it (the login page, the API token endpoint, the
    admin's login), first passes ``LoginLockoutBackend``, listed first in
    AUTHENTICATION_BACKENDS. It refuses, without any password being checked, when

    - the account typed in had ``LOGIN_MAX_FAILURES`` failed logins within
      ``LOGIN_LOCKOUT_SECONDS``: that account is paused for ``LOGIN_LOCKOUT_SECONDS``;
    - the client's address had ``LOGIN_MAX_FAILURES_PER_ADDRESS`` failed logins (any accounts)
      in the same time: the address is paused as long;
    - the client's address made more than ``LOGIN_RATE_LIMIT`` attempts in 10 minutes.

    Failures are counted from Django's ``user_login_failed`` signal; a login resets the
    account's count (``user_logged_in``, or ``login_succeeded`` for the API token). A name
    that belongs to no account is counted and paused the same way, so the lockout tells
    nobody which accounts exist. Counters live in the default cache: Redis (CACHE_URL) when
    several processes serve the site; the deploy check ``portal.W001`` says when it is not.

Headers
    ``SecurityHeadersMiddleware`` puts a Content Security Policy on every response (no inline
    script anywhere; inline ``<style>`` only with the response's nonce), a Permissions-Policy
    and a Cross-Origin-Resource-Policy. Django's SecurityMiddleware adds HSTS, nosniff,
    Referrer-Policy and Cross-Origin-Opener-Policy; XFrameOptionsMiddleware X-Frame-Options.
"""

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import wraps
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import get_user_model, user_logged_in, user_login_failed
from django.contrib.auth import views as auth_views
from django.contrib.auth.models import AbstractBaseUser
from django.core import checks
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from .auth_backends import find_account, looks_like_email_or_phone, parse_identifier
from .cache import default_cache_is_shared
from .ratelimit import client_address, digest, hit_address

logger = logging.getLogger("portal.security")

RATE_WINDOW_SECONDS = 600  # the window of every *_RATE_LIMIT setting: 10 minutes


# --- Messages ---------------------------------------------------------------------------------


def clock(moment: datetime) -> str:
    """A moment as the user reads it: ``14:35`` today, ``14:35 02/11/2026`` another day."""
    local = timezone.localtime(moment)
    text = formats.time_format(local, "H:i")
    if local.date() != timezone.localdate():
        text = f"{text} {formats.date_format(local, 'd/m/Y')}"
    return text


def too_many_attempts_message(until: datetime) -> str:
    """What a client over a per-connection limit is told."""
    return _("Too many attempts from your connection. Try again after %(time)s.") % {
        "time": clock(until)
    }


def seconds_until(moment: datetime) -> int:
    """Whole seconds from now until ``moment``, at least 1 (for Retry-After)."""
    return max(1, int((moment - timezone.now()).total_seconds()) + 1)


# --- Login lockout ----------------------------------------------------------------------------

ACCOUNT = "account"  # the account typed in is paused
ADDRESS = "address"  # the client's address is paused, or over its rate of attempts


@dataclass(frozen=True)
class LoginRefusal:
    """Why and until when logging in is refused."""

    reason: str
    until: datetime

    @property
    def code(self) -> str:
        return "locked" if self.reason == ACCOUNT else "rate_limited"

    @property
    def message(self) -> str:
        if self.reason == ACCOUNT:
            return _(
                "Too many failed logins to this account. Logging in to it is paused until "
                "%(time)s. Try again then, or reset your password if you have forgotten it."
            ) % {"time": clock(self.until)}
        return too_many_attempts_message(self.until)

    @property
    def retry_after(self) -> int:
        return seconds_until(self.until)


def _http_request(request: Any) -> HttpRequest | None:
    """The Django request behind a DRF request (or the request itself, or None)."""
    return getattr(request, "_request", request)


def login_refusal(request: Any) -> LoginRefusal | None:
    """The refusal the last ``authenticate()`` of this request ended with, if any."""
    http_request = _http_request(request)
    return getattr(http_request, "login_refusal", None)


def _refuse(request: HttpRequest | None, refusal: LoginRefusal) -> LoginRefusal:
    if request is not None:
        request.login_refusal = refusal  # type: ignore[attr-defined]
    return refusal


def account_key(username: str) -> str:
    """Whose failures a login attempt counts against: the account the name signs in to (by
    username, e-mail or phone, in any form), else the name itself, normalised."""
    name = (username or "").strip()
    user = None
    if looks_like_email_or_phone(name):
        user = find_account(name)
    if user is None and name:
        user = get_user_model()._default_manager.filter(username=name).first()
    if user is not None:
        return f"user:{user.pk}"
    try:
        _kind, normalised = parse_identifier(name)
    except ValidationError:
        normalised = name.lower()
    return f"name:{digest(normalised)}"


def _failures_key(kind: str, key: str) -> str:
    return f"login-failures:{kind}:{digest(key)}"


def _lock_key(kind: str, key: str) -> str:
    return f"login-lock:{kind}:{digest(key)}"


def _locked_until(kind: str, key: str) -> datetime | None:
    until = cache.get(_lock_key(kind, key))
    if until is None:
        return None
    moment = datetime.fromtimestamp(until, tz=UTC)
    return moment if moment > timezone.now() else None


def _count_failure(kind: str, key: str, *, limit: int) -> datetime | None:
    """Count one failure of ``key``; when it reaches ``limit`` within the window, pause ``key``
    for LOGIN_LOCKOUT_SECONDS and return until when."""
    window = settings.LOGIN_LOCKOUT_SECONDS
    counter = _failures_key(kind, key)
    if cache.add(counter, 1, timeout=window):
        count = 1
    else:
        try:
            count = cache.incr(counter)
        except ValueError:  # expired between add and incr
            cache.add(counter, 1, timeout=window)
            count = 1
    if count < limit:
        return None
    until = timezone.now().timestamp() + window
    cache.set(_lock_key(kind, key), until, timeout=window)
    cache.delete(counter)  # after the pause, counting starts again from nothing
    return datetime.fromtimestamp(until, tz=UTC)


def _describe(key: str) -> str:
    """An account key for the log: ``user:42``, or ``unknown name <hash>``."""
    return key if key.startswith("user:") else f"unknown name {key.removeprefix('name:')[:12]}"


def check_login(request: HttpRequest | None, username: str) -> LoginRefusal | None:
    """Whether this login attempt is refused before its password is looked at. Counts the
    attempt against the client's rate of attempts."""
    if request is not None:
        attempts = hit_address(
            "login", request, limit=settings.LOGIN_RATE_LIMIT, window_seconds=RATE_WINDOW_SECONDS
        )
        if not attempts.allowed:
            return _refuse(request, LoginRefusal(ADDRESS, attempts.retry_at))
        until = _locked_until(ADDRESS, client_address(request))
        if until is not None:
            return _refuse(request, LoginRefusal(ADDRESS, until))
    until = _locked_until(ACCOUNT, account_key(username))
    if until is not None:
        return _refuse(request, LoginRefusal(ACCOUNT, until))
    return None


def record_login_failure(request: HttpRequest | None, username: str) -> LoginRefusal | None:
    """Count a failed login against the account typed in and the client's address; the
    refusal that starts now when one of them reached its limit."""
    key = account_key(username)
    address = client_address(request) if request is not None else None
    refusal = None
    until = _count_failure(ACCOUNT, key, limit=settings.LOGIN_MAX_FAILURES)
    if until is not None:
        logger.warning(
            "Login paused for %s until %s after %d failed logins (last from %s)",
            _describe(key),
            until.isoformat(),
            settings.LOGIN_MAX_FAILURES,
            address or "no address",
        )
        refusal = LoginRefusal(ACCOUNT, until)
    if address is not None:
        until = _count_failure(ADDRESS, address, limit=settings.LOGIN_MAX_FAILURES_PER_ADDRESS)
        if until is not None:
            logger.warning(
                "Logins from %s paused until %s after %d failed logins",
                address,
                until.isoformat(),
                settings.LOGIN_MAX_FAILURES_PER_ADDRESS,
            )
            refusal = refusal or LoginRefusal(ADDRESS, until)
    return _refuse(request, refusal) if refusal is not None else None


def login_succeeded(user: AbstractBaseUser) -> None:
    """A correct password: the account's failures start again from nothing."""
    cache.delete(_failures_key(ACCOUNT, f"user:{user.pk}"))


def lift_login_pause(user: AbstractBaseUser) -> None:
    """The account's owner proved who they are (a new password through the e-mailed link):
    forget its failures and lift its pause."""
    key = f"user:{user.pk}"
    cache.delete_many([_failures_key(ACCOUNT, key), _lock_key(ACCOUNT, key)])


class LoginLockoutBackend:
    """First of AUTHENTICATION_BACKENDS: refuses a paused account or address before any other
    backend checks the password (PermissionDenied stops ``authenticate()``). Never signs
    anyone in itself, so it has no ``get_user``: ``login()`` and the test client's
    ``force_login`` look for the first backend that has one."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> None:
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        http_request = _http_request(request)
        refusal = check_login(http_request, username or "")
        if refusal is not None:
            logger.info(
                "Login refused (%s paused until %s) from %s",
                refusal.reason,
                refusal.until.isoformat(),
                client_address(http_request) if http_request is not None else "no address",
            )
            raise PermissionDenied(refusal.message)
        return None

    async def aauthenticate(
        self, request: HttpRequest | None, username: str | None = None, **kwargs: Any
    ) -> None:
        return await sync_to_async(self.authenticate)(request, username=username, **kwargs)


# Connected when this module is imported: at the latest by the first authenticate(), which
# loads the backend above before it can send user_login_failed. PortalConfig.ready() imports
# the module as well, so that the deploy check below is registered.
@receiver(user_login_failed, dispatch_uid="portal.security.count_login_failure")
def _count_login_failure(
    sender: Any, credentials: dict, request: Any = None, **kwargs: Any
) -> None:
    http_request = _http_request(request)
    if login_refusal(http_request) is not None:
        return  # refused before the password was checked: not a failed guess
    record_login_failure(http_request, str(credentials.get("username") or ""))


@receiver(user_logged_in, dispatch_uid="portal.security.reset_login_failures")
def _reset_login_failures(sender: Any, user: AbstractBaseUser, **kwargs: Any) -> None:
    login_succeeded(user)


class LoginView(auth_views.LoginView):
    """Django's login view, answering 429 with Retry-After when logging in was refused."""

    def form_invalid(self, form: Any) -> HttpResponse:
        response = super().form_invalid(form)
        refusal = login_refusal(self.request)
        if refusal is not None:
            response.status_code = 429
            response["Retry-After"] = str(refusal.retry_after)
        return response


# --- Content Security Policy and other headers ------------------------------------------------

# The policy of every page. No inline scripts, no eval, nothing from another origin (district
# offices sit behind restricted networks: the site brings its own assets). Inline <style> only
# with the response's nonce ({{ request.csp_nonce }}); style="" attributes are refused.
CONTENT_SECURITY_POLICY: dict[str, str] = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}
# For third-party developer pages only (Swagger UI at /api/docs/, DRF's browsable API): their
# templates carry inline styles. Their scripts still come from files.
DEVELOPER_PAGE_CSP = {"style-src": "'self' 'unsafe-inline'"}

# Powerful browser features the site never uses, switched off for it and anything it embeds.
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"


class CspNonce:
    """A per-response nonce for inline <style> elements. The policy names it only when a
    template used it: ``<style nonce="{{ request.csp_nonce }}">``."""

    def __init__(self) -> None:
        self.value = secrets.token_urlsafe(18)
        self.used = False

    def __str__(self) -> str:
        self.used = True
        return self.value


def content_security_policy(
    *, nonce: CspNonce | None = None, overrides: dict[str, str] | None = None
) -> str:
    directives = {**CONTENT_SECURITY_POLICY, **(overrides or {})}
    if nonce is not None and nonce.used and "'unsafe-inline'" not in directives["style-src"]:
        directives["style-src"] = f"{directives['style-src']} 'nonce-{nonce.value}'"
    return "; ".join(f"{name} {sources}" for name, sources in directives.items())


def csp_override(**directives: str) -> Callable:
    """A view decorator: this view's responses get these directives instead of the site's,
    e.g. ``csp_override(style_src="'self' 'unsafe-inline'")``. For third-party pages only."""
    overrides = {name.replace("_", "-"): value for name, value in directives.items()}
    unknown = set(overrides) - set(CONTENT_SECURITY_POLICY)
    if unknown:
        raise ValueError(f"Unknown CSP directives: {sorted(unknown)}")

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            response = view(request, *args, **kwargs)
            response.csp_overrides = overrides
            return response

        return wrapped

    return decorator


class SecurityHeadersMiddleware:
    """Content-Security-Policy (or -Report-Only with CSP_REPORT_ONLY), Permissions-Policy and
    Cross-Origin-Resource-Policy on every response, static files included."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        nonce = CspNonce()
        request.csp_nonce = nonce  # type: ignore[attr-defined]
        response = self.get_response(request)
        header = (
            "Content-Security-Policy-Report-Only"
            if settings.CSP_REPORT_ONLY
            else "Content-Security-Policy"
        )
        if header not in response:
            overrides = getattr(response, "csp_overrides", None)
            renderer = getattr(response, "accepted_renderer", None)
            if overrides is None and getattr(renderer, "format", None) == "api":
                overrides = DEVELOPER_PAGE_CSP  # DRF's browsable API
            response[header] = content_security_policy(nonce=nonce, overrides=overrides)
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        response.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        return response


# --- Deploy check -----------------------------------------------------------------------------


@checks.register(checks.Tags.security, deploy=True)
def check_shared_cache(**kwargs: Any) -> list[checks.CheckMessage]:
    """Lockouts and rate limits count in the default cache: a per-process cache lets every
    web process count on its own, multiplying every limit."""
    if not default_cache_is_shared():
        return [
            checks.Warning(
                "The default cache is not shared between processes, so login lockouts and "
                "rate limits are counted per process.",
                hint="Set CACHE_URL to a Redis database, e.g. redis://redis:6379/2.",
                id="portal.W001",
            )
        ]
    return []
