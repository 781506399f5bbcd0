"""Fixed-window rate limits on the shared cache (Redis in production), for public pages.

A limit counts hits of one *key* (a client address, an e-mail address) in one *scope*
("login", "register", …) in a window of ``window_seconds`` that opens with the first hit; the
window's end is kept beside the count, so a refusal can say when to try again. Keys are
hashed: no address or e-mail ends up in the cache's key space.
"""

import hashlib
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    """The client's address. Behind ``NUM_PROXIES`` reverse proxies that each append the
    address they saw to X-Forwarded-For, it is the entry the outermost proxy appended: entries
    further left were written by the client and prove nothing. Without proxies (0) it is
    REMOTE_ADDR and X-Forwarded-For is ignored. The same rule as DRF's throttles."""
    remote = request.META.get("REMOTE_ADDR", "") or "unknown"
    proxies = int(getattr(settings, "NUM_PROXIES", 0))
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies <= 0 or not forwarded:
        return remote
    entries = [entry.strip() for entry in forwarded.split(",") if entry.strip()]
    if not entries:
        return remote
    return entries[-min(proxies, len(entries))]


def digest(value: str) -> str:
    """A short, stable stand-in for ``value`` in cache keys and logs."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True)
class Hit:
    """One counted request: whether it is within the limit, and when the window ends."""

    allowed: bool
    count: int
    retry_at: datetime

    @property
    def retry_after(self) -> int:
        """Seconds until the window ends (for the Retry-After header), at least 1."""
        return max(1, int(self.retry_at.timestamp() - time.time()) + 1)


def counter_key(scope: str, key: str) -> str:
    """The cache key of ``key``'s counter in ``scope``."""
    return f"ratelimit:{scope}:{digest(key)}"


def counted(count: int, left_seconds: float, *, limit: int) -> Hit:
    """The hit a counter at ``count`` makes, its window ending in ``left_seconds``."""
    retry_at = datetime.fromtimestamp(time.time() + left_seconds, tz=UTC)
    return Hit(allowed=count <= limit, count=count, retry_at=retry_at)


def hit(scope: str, key: str, *, limit: int, window_seconds: int) -> Hit:
    """Count one request of ``key`` in ``scope``; not allowed once ``limit`` is passed in the
    window that began with the first counted request (the count starts again after it)."""
    counter = counter_key(scope, key)
    now = time.time()
    count_in_window = getattr(cache, "count_in_window", None)  # Redis: one round trip
    if count_in_window is not None:
        count, left = count_in_window(counter, window_seconds)
        return counted(count, left, limit=limit)
    count = 0
    if not cache.add(counter, 1, timeout=window_seconds):
        try:
            count = cache.incr(counter)
        except ValueError:  # expired between add and incr: a new window
            cache.add(counter, 1, timeout=window_seconds)
    if count == 0:  # this request opened the window
        count, ends = 1, now + window_seconds
        cache.set(f"{counter}:ends", ends, timeout=window_seconds)
    else:
        ends = cache.get(f"{counter}:ends") or now + window_seconds
    retry_at = datetime.fromtimestamp(ends, tz=UTC)
    return Hit(allowed=count <= limit, count=count, retry_at=retry_at)


def hit_address(scope: str, request: HttpRequest, *, limit: int, window_seconds: int) -> Hit:
    """Count one request of this client (by address) in ``scope``."""
    return hit(scope, client_address(request), limit=limit, window_seconds=window_seconds)


def allow(scope: str, request: HttpRequest, *, limit: int, window_seconds: int) -> bool:
    """Count one request of this client in ``scope``; False once it passed ``limit`` in the
    current window."""
    return hit_address(scope, request, limit=limit, window_seconds=window_seconds).allowed
