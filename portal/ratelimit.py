"""A fixed-window rate limit on the shared cache (Redis in production), for public pages."""

from django.core.cache import cache
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    """The client's address; behind the project's reverse proxy, the first forwarded one."""
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    return forwarded.split(",")[0].strip() or request.META.get("REMOTE_ADDR", "") or "unknown"


def allow(scope: str, request: HttpRequest, *, limit: int, window_seconds: int) -> bool:
    """Count one request of this client in ``scope``; False once it passed ``limit`` in the
    current window."""
    key = f"ratelimit:{scope}:{client_address(request)}"
    if cache.add(key, 1, timeout=window_seconds):
        return True
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=window_seconds)
        return True
    return count <= limit
