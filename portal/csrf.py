"""CSRF strings drawn in one read of the operating system's random source.

Django draws each of a CSRF string's 32 characters with ``secrets.choice``: one ``getrandom``
system call and a dozen Python calls per character, two strings for a new visitor's first
page (the cookie's secret and the token's mask) — about a tenth of the public lookup page's
CPU time (docs/benchmarks.md). ``new_csrf_string`` gives the same: 32 characters of Django's
alphabet, each uniform and independent, from the same source (``secrets``), reading 40 random
bytes at a time and keeping each byte below 248 (4 × 62, so that ``byte % 62`` takes every
character equally often).

``mask_cipher_secret`` masks a secret into a token as Django does, with a table of positions
instead of 64 searches of the alphabet. ``install()`` puts both in Django's place
(``django.middleware.csrf._get_new_csrf_string``, the one function both the secret and the
mask come from, and ``_mask_cipher_secret``) and refuses to start if that module no
longer has the shape it was written for — a Django upgrade that changed it must be looked at,
not worked around silently.
"""

import secrets

from django.core.exceptions import ImproperlyConfigured
from django.middleware import csrf

_DJANGO_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_ALPHABET = csrf.CSRF_ALLOWED_CHARS
_LENGTH = csrf.CSRF_SECRET_LENGTH
_UNBIASED_BELOW = 256 - 256 % len(_ALPHABET)  # 248: a multiple of 62


def new_csrf_string() -> str:
    chosen: list[str] = []
    while len(chosen) < _LENGTH:
        random = secrets.token_bytes(40)
        chosen.extend(_ALPHABET[b % len(_ALPHABET)] for b in random if b < _UNBIASED_BELOW)
    return "".join(chosen[:_LENGTH])


_INDEX = {character: index for index, character in enumerate(_ALPHABET)}


def mask_cipher_secret(secret: str) -> str:
    """Django's ``_mask_cipher_secret``: a new mask, then each character of ``secret`` shifted
    by the mask's character at its place, in the alphabet — the same token, the positions
    looked up in a table instead of by 64 searches of the alphabet."""
    mask = new_csrf_string()
    size = len(_ALPHABET)
    cipher = "".join(
        _ALPHABET[(_INDEX[s] + _INDEX[m]) % size] for s, m in zip(secret, mask, strict=True)
    )
    return mask + cipher


def install() -> None:
    shape = (
        callable(getattr(csrf, "_get_new_csrf_string", None))
        and callable(getattr(csrf, "_mask_cipher_secret", None)),
        getattr(csrf, "CSRF_ALLOWED_CHARS", None),
        getattr(csrf, "CSRF_SECRET_LENGTH", None),
    )
    if shape != (True, _DJANGO_ALPHABET, 32):
        raise ImproperlyConfigured(
            "django.middleware.csrf changed: look at portal/csrf.py before upgrading Django."
        )
    csrf._get_new_csrf_string = new_csrf_string
    csrf._mask_cipher_secret = mask_cipher_secret
