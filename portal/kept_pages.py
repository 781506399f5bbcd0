"""Pages kept rendered with holes where the request's values go, for the busiest public page.

The public lookup is answered from Redis in one round trip; what was left of its time was
Django's template engine rendering the layout, the form and the result — the same markup for
every visitor but for a handful of values. So a page's HTML is rendered once per process and
*shape* by Django's own templates, with a marker in place of each value that varies, cut at the
markers, and each request fills the holes with its values, escaped as the template escapes them.

A shape is everything that decides the markup apart from the holes: the template, the language,
the script prefix and the caller's own key (for the lookup: the status, the timeliness and
which dates the dossier has). The layout's own per-request values are holes too: the CSRF token
of the language switch (``csrf_token``), the address it comes back to (``current_path``) and the
login link (``login_link``), which ``portal.context_processors.navigation`` gives every page.

Kept only for what every visitor sees alike: a visitor with no account signed in and no message
waiting (a signed-in user's menu and a message are rendered per request, as everywhere else).
A shape whose markers do not come out whole — a filter changed one, or copied it changed — is
never kept: that page is rendered the ordinary way. Kept shapes are forgotten when a setting
changes (tests) or a file changes under the development server, and bounded in number.
``KEPT_PAGES = False`` renders every page the ordinary way.
"""

import logging
import re
import secrets
from collections.abc import Callable, Mapping
from html import escape  # the text Django's escape() gives, without its lazy-text wrapper
from typing import Any, NamedTuple

from django.conf import settings
from django.contrib.messages import get_messages
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.template.loader import get_template
from django.urls import get_script_prefix
from django.utils.autoreload import file_changed
from django.utils.translation import get_language

from .links import login_link

logger = logging.getLogger(__name__)

# Enough for every shape of every kept page (the lookup has a few dozen per language).
MAX_SHAPES = 1024


class _Cut(NamedTuple):
    """A page cut at its holes: ``texts[0]``, hole ``names[0]``, ``texts[1]``, …, the texts
    encoded as the response is, once, not at every response."""

    texts: tuple[bytes, ...]
    names: tuple[str, ...]


# Shape key -> the page cut at its holes (None: not keepable).
_kept: dict[tuple, _Cut | None] = {}


class Holes:
    """The markers of one render: ``holes["name"]`` stands for the value ``name``.

    A marker is a random number between two private-use characters: escaping leaves it whole,
    no page text contains it, and a filter that transforms it (``upper``, ``urlencode``) keeps
    its digits, so a changed copy is found and the shape is not kept."""

    def __init__(self) -> None:
        self._token = f"{secrets.randbelow(10**10):010d}"
        self._names: list[str] = []
        self._pattern = re.compile(f"\ue000{self._token}(\\d+)\ue001")

    def __getitem__(self, name: str) -> str:
        if name not in self._names:
            self._names.append(name)
        return f"\ue000{self._token}{self._names.index(name)}\ue001"

    def cut(self, html: str) -> tuple[str, ...] | None:
        """``html`` as text, hole name, text, …, text; None if a hole is missing or changed."""
        pieces = self._pattern.split(html)
        texts = pieces[::2]
        if any(self._token in text for text in texts):
            return None  # a marker changed by a filter: its hole cannot be filled
        for index in range(1, len(pieces), 2):
            pieces[index] = self._names[int(pieces[index])]
        if set(pieces[1::2]) != set(self._names):
            return None  # a value the template never showed, or showed only changed
        return tuple(pieces)


def kept_page(
    request: HttpRequest,
    template_name: str,
    *,
    shape: tuple,
    context: Callable[[Holes], dict[str, Any]],
    fills: Mapping[str, str],
) -> bytes | None:
    """The page ``template_name`` for ``request``, encoded in ``DEFAULT_CHARSET`` as a
    response's content, or None where it is not kept (render it).

    ``context(holes)`` is the template's context with ``holes[name]`` for each value that
    varies within ``shape``; ``fills[name]`` is this request's text for it (escaped here)."""
    if not settings.KEPT_PAGES or not _alike_for_everyone(request):
        return None
    key = (template_name, get_language(), get_script_prefix(), shape)
    try:
        cut = _kept[key]
    except KeyError:
        cut = _cut_page(request, template_name, context)
        if len(_kept) < MAX_SHAPES:
            _kept[key] = cut
    if cut is None:
        return None
    path = request.get_full_path()
    values = {
        **fills,
        "csrf_token": get_token(request),
        "current_path": path,
        "login_link": login_link(path),
    }
    charset = settings.DEFAULT_CHARSET
    pieces = [cut.texts[0]]
    for name, text in zip(cut.names, cut.texts[1:], strict=True):
        pieces += (escape(values[name]).encode(charset), text)
    return b"".join(pieces)


def _alike_for_everyone(request: HttpRequest) -> bool:
    """No one signed in and no message waiting — asked as the layout asks it, so the
    response varies on the same headers as the page rendered in full."""
    user = getattr(request, "user", None)
    return user is not None and not user.is_authenticated and not get_messages(request)


def _cut_page(
    request: HttpRequest, template_name: str, context: Callable[[Holes], dict[str, Any]]
) -> _Cut | None:
    holes = Holes()
    values = context(holes)
    for name in ("csrf_token", "current_path", "login_link"):
        values[name] = holes[name]
    parts = holes.cut(get_template(template_name).render(values, request))
    if parts is None:
        logger.warning("%s: a hole came out changed; the page is rendered each time", template_name)
        return None
    charset = settings.DEFAULT_CHARSET
    return _Cut(texts=tuple(text.encode(charset) for text in parts[::2]), names=tuple(parts[1::2]))


@receiver(setting_changed)
@receiver(file_changed)
def forget_kept_pages(**kwargs: Any) -> None:
    _kept.clear()
