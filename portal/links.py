"""The links every page carries — the menu, the footer, the layout's style sheet and script —
worked out once per process instead of on every response.

Reversing a URL name and finding a static file's hashed name are pure functions of the URL
configuration, the script prefix and the static files' manifest, none of which changes while
a process runs; the layout asked for about twenty of them per page, a fifth of the time of
rendering the public lookup. Both stay keyed by what they depend on, so a test that changes
``ROOT_URLCONF`` or ``STATIC_URL`` (or a site served under a prefix) gets its own answers.
"""

from functools import lru_cache

from django.conf import settings
from django.templatetags.static import static
from django.urls import get_script_prefix, get_urlconf, reverse


def page_url(name: str) -> str:
    """``reverse(name)`` for a page without arguments, remembered."""
    return _reversed(name, get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF)


@lru_cache(maxsize=512)
def _reversed(name: str, prefix: str, urlconf: str) -> str:
    return reverse(name, urlconf=urlconf)


def asset_url(path: str) -> str:
    """``{% static path %}``, remembered."""
    return _asset(path, settings.STATIC_URL, settings.DEBUG)


@lru_cache(maxsize=512)
def _asset(path: str, static_url: str, debug: bool) -> str:
    return static(path)
