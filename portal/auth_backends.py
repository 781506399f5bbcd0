"""Signing in with an e-mail address or a phone number, and what such a sign-in name is.

A citizen registers with an e-mail address or a Vietnamese phone number, which becomes their
username (``parse_identifier``). Staff keep their plain usernames: names that look like neither
are left to Django's ``ModelBackend``, listed after this one in AUTHENTICATION_BACKENDS.
"""

import re

from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import Q
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from .validators import normalize_phone, phone_validator

EMAIL = "email"
PHONE = "phone"

# What a phone number may be typed with: digits, spaces, dots, dashes, brackets and a plus.
_PHONE_SHAPE = re.compile(r"^[\d\s.()+\-]{9,}$")


def looks_like_email_or_phone(value: str) -> bool:
    """Whether a sign-in name is shaped like an e-mail address or a phone number (rather than
    a plain username)."""
    value = value.strip()
    return "@" in value or bool(_PHONE_SHAPE.match(value))


def canonical_phone(value: str) -> str:
    """A Vietnamese phone number in its national form, the form accounts are stored with:
    ``0912 345 678``, ``+84 912 345 678``, ``84912345678`` and ``+84 (0) 912…`` all give
    ``0912345678``. Anything else comes back only stripped of separators."""
    number = normalize_phone(value)
    if number.startswith("+84"):
        number = "0" + number[3:]
    elif number.startswith("84") and len(number) in (11, 12):
        number = "0" + number[2:]
    if number.startswith("00"):  # "+84 (0) 912 …": the trunk 0 typed after the country code
        number = number[1:]
    return number


def parse_identifier(value: str) -> tuple[str, str]:
    """What a citizen typed as "e-mail or phone number", told apart by its shape.

    Returns ``(EMAIL, address lower-cased)`` or ``(PHONE, national number)``; raises
    ValidationError with the message the form shows when it is neither.
    """
    value = value.strip()
    if "@" in value:
        address = value.lower()
        validate_email(address)
        return EMAIL, address
    if _PHONE_SHAPE.match(value):
        number = canonical_phone(value)
        phone_validator(number)
        return PHONE, number
    raise ValidationError(
        _("Enter an e-mail address or a Vietnamese phone number."), code="invalid"
    )


def _phone_forms(number: str) -> set[str]:
    """The forms a national number may have been stored in as a username."""
    national = number[1:]
    return {number, f"+84{national}", f"84{national}"}


def identifier_taken(*, kind: str, value: str, exclude: AbstractUser | None = None) -> bool:
    """Whether another account already signs in with this e-mail address (its username or its
    e-mail, in any case) or this phone number (its username, in any common form)."""
    accounts = get_user_model()._default_manager.all()
    if kind == EMAIL:
        accounts = accounts.filter(Q(username__iexact=value) | Q(email__iexact=value))
    else:
        accounts = accounts.filter(username__in=_phone_forms(value))
    if exclude is not None:
        accounts = accounts.exclude(pk=exclude.pk)
    return accounts.exists()


def taken_message(kind: str) -> str:
    """What a citizen is told when the e-mail address or phone number is already registered."""
    if kind == EMAIL:
        return _(
            "An account with this e-mail address already exists. Log in, or reset your "
            "password if you have forgotten it."
        )
    return _("An account with this phone number already exists. Log in instead.")


def sign_in_kind(user: AbstractUser) -> str | None:
    """EMAIL when ``user`` signs in with their e-mail address (it is their username), PHONE
    when with their phone number, None for a plain username (staff)."""
    username = user.get_username()
    if user.email and username.lower() == user.email.lower():
        return EMAIL
    try:
        kind, value = parse_identifier(username)
    except ValidationError:
        return None
    return PHONE if kind == PHONE and value == username else None


def find_account(identifier: str) -> AbstractUser | None:
    """The one account an e-mail address or a phone number signs in to, or None.

    E-mail: the account whose username or e-mail is that address, in any case. Phone: the
    account whose username is that number in any of its common forms. A phone number typed in
    a profile is a contact detail, not a sign-in name: a household often shares one and nobody
    has proven they own it. An address shared by several accounts (staff created by hand) signs
    in to none of them by e-mail; their usernames still work.
    """
    User = get_user_model()
    try:
        kind, value = parse_identifier(identifier)
    except ValidationError:
        return None
    if kind == EMAIL:
        matches = list(
            User._default_manager.filter(Q(username__iexact=value) | Q(email__iexact=value))[:3]
        )
        by_username = [user for user in matches if user.get_username().lower() == value]
        if len(by_username) == 1:
            return by_username[0]
        return matches[0] if len(matches) == 1 else None
    matches = list(User._default_manager.filter(username__in=_phone_forms(value))[:2])
    return matches[0] if len(matches) == 1 else None


class EmailOrPhoneBackend(ModelBackend):
    """Authenticate with an e-mail address (any case) or a phone number (any common form).

    Other sign-in names return None here and are checked as plain usernames by ModelBackend.
    """

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: object,
    ) -> AbstractUser | None:
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)  # type: ignore[assignment]
        if not username or password is None:
            return None
        if not looks_like_email_or_phone(username):
            return None  # a plain username: ModelBackend's job
        user = find_account(username)
        if user is None:
            # Hash once anyway, so that an unknown name answers as slowly as a known one.
            get_user_model()().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None

    async def aauthenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: object,
    ) -> AbstractUser | None:
        return await sync_to_async(self.authenticate)(
            request, username=username, password=password, **kwargs
        )
