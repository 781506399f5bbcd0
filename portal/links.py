"""The links every page carries — the menu, the footer, the layout's style sheet and script —
worked out once per process instead of on every response.

Reversing a URL name and finding a static file's hashed name are pure functions of the URL
configuration, the script prefix and the static files' manifest, none of which changes while
a process runs; the layout asked for about twenty of them per page, a fifth of the time of
rendering the public lookup. Both stay keyed by what they depend on, so a test that changes
``ROOT_URLCONF`` or ``STATIC_URL`` (or a site served under a prefix) gets its own answers.
"""

from collections.abc import Callable
from functools import lru_cache
from urllib.parse import quote

from django.conf import settings
from django.templatetags.static import static
from django.urls import get_script_prefix, get_urlconf, reverse


def page_url(name: str) -> str:
    """``reverse(name)`` for a page without arguments, remembered."""
    return _reversed(name, get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF)


@lru_cache(maxsize=512)
def _reversed(name: str, prefix: str, urlconf: str) -> str:
    return reverse(name, urlconf=urlconf)


# Stands for the argument while the path is reversed; matches any converter but a number's.
_ARGUMENT = "arg0placeholder"
# What reverse() leaves unquoted in a path (django.urls.resolvers): RFC 3986's sub-delimiters
# and "/~:@".
_PATH_SAFE = "!$&'()*+,;=/~:@"


def login_link(next_path: str) -> str:
    """The login page's address that comes back to ``next_path`` after signing in (the
    layout's "Log in" link): the path quoted as the ``urlencode`` filter quotes it."""
    return f"{page_url('login')}?next={quote(next_path, safe='/')}"


def page_url_maker(name: str) -> Callable[[str], str]:
    """``reverse(name, args=[argument])`` for a page with one path argument (a code), for many
    arguments in one request (a list's rows): the path reversed once per process, the script
    prefix and URL configuration looked up once per call, each argument quoted into the path
    as reverse() quotes it."""
    path = _reversed_with(name, get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF)
    before, _argument, after = path.partition(_ARGUMENT)
    return lambda argument: before + quote(str(argument), safe=_PATH_SAFE) + after


@lru_cache(maxsize=512)
def _reversed_with(name: str, prefix: str, urlconf: str) -> str:
    path = reverse(name, args=[_ARGUMENT], urlconf=urlconf)
    if path.count(_ARGUMENT) != 1:  # pragma: no cover - a path that repeats or changes it
        raise ValueError(f"{name}: its path does not hold its argument once")
    return path


def asset_url(path: str) -> str:
    """``{% static path %}``, remembered."""
    return _asset(path, settings.STATIC_URL, settings.DEBUG)


@lru_cache(maxsize=512)
def _asset(path: str, static_url: str, debug: bool) -> str:
    return static(path)
