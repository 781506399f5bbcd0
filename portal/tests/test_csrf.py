"""CSRF strings from portal.csrf: Django's alphabet and length, each character uniform, and the
tokens Django's own check accepts."""

from collections import Counter

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.middleware import csrf
from django.test import Client

from portal import csrf as portal_csrf
from portal.csrf import mask_cipher_secret, new_csrf_string

ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def django_mask(secret: str) -> str:
    """Django 5.2's _mask_cipher_secret, as its source has it (ours replaced it at start)."""
    mask = csrf._get_new_csrf_string()
    chars = csrf.CSRF_ALLOWED_CHARS
    pairs = zip((chars.index(x) for x in secret), (chars.index(x) for x in mask), strict=True)
    cipher = "".join(chars[(x + y) % len(chars)] for x, y in pairs)
    return mask + cipher


def test_django_draws_its_csrf_strings_and_masks_its_tokens_here():
    assert csrf._get_new_csrf_string is new_csrf_string
    assert csrf._mask_cipher_secret is mask_cipher_secret


def test_a_token_is_masked_as_django_masks_it(monkeypatch):
    masks = [new_csrf_string() for _ in range(200)]
    secrets_ = [new_csrf_string() for _ in range(200)]

    def masked(function) -> list[str]:
        drawn = iter(masks)
        monkeypatch.setattr(portal_csrf, "new_csrf_string", lambda: next(drawn))
        monkeypatch.setattr(csrf, "_get_new_csrf_string", lambda: next(drawn))
        return [function(secret) for secret in secrets_]

    ours, django_s = masked(mask_cipher_secret), masked(django_mask)

    assert ours == django_s
    assert [csrf._unmask_cipher_token(token) for token in ours] == secrets_


def test_a_string_has_django_s_length_and_alphabet_and_none_repeats():
    drawn = [new_csrf_string() for _ in range(2000)]

    assert {len(s) for s in drawn} == {32}
    assert set("".join(drawn)) <= set(ALPHABET)
    assert len(set(drawn)) == 2000


def test_every_character_is_drawn_equally_often():
    counts = Counter("".join(new_csrf_string() for _ in range(8000)))  # 256,000 characters
    expected = 256_000 / 62

    chi_square = sum((counts[c] - expected) ** 2 / expected for c in ALPHABET)

    # 61 degrees of freedom: above 140 happens by chance less than once in a billion runs;
    # "byte % 62" without dropping the bytes from 248 up gives about 1,700 here
    assert chi_square < 140


def test_install_refuses_a_django_whose_csrf_module_changed(monkeypatch):
    monkeypatch.setattr(csrf, "CSRF_ALLOWED_CHARS", ALPHABET + "-_")

    with pytest.raises(ImproperlyConfigured, match=r"portal/csrf\.py"):
        portal_csrf.install()


@pytest.mark.django_db
def test_a_new_visitor_s_token_passes_django_s_check():
    client = Client(enforce_csrf_checks=True)
    page = client.get("/lookup/")
    token = page.context["csrf_token"]
    secret = client.cookies["csrftoken"].value

    assert len(secret) == 32 and set(secret) <= set(ALPHABET)
    refused = Client(enforce_csrf_checks=True).post("/i18n/setlang/", {"language": "en"})
    switched = client.post("/i18n/setlang/", {"language": "en", "csrfmiddlewaretoken": token})

    assert refused.status_code == 403
    assert switched.status_code == 302
    assert client.cookies["django_language"].value == "en"
