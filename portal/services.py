"""Writes for units, staff accounts and background-process heartbeats."""

from datetime import datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Substr
from django.utils.translation import gettext as _

from .choices import Role
from .models import Heartbeat, Membership, Unit


def record_heartbeat(*, name: str, at: datetime, detail: str = "") -> Heartbeat:
    beat, _created = Heartbeat.objects.update_or_create(
        name=name, defaults={"at": at, "detail": detail[:255]}
    )
    return beat


@transaction.atomic
def save_unit(*, unit: Unit) -> Unit:
    """Create or update a unit, keeping the materialised paths of it and its subtree."""
    unit.full_clean(exclude=["path"])
    old_path = unit.path
    unit.save()
    new_path = f"{unit.parent.path if unit.parent else '/'}{unit.pk}/"
    if new_path != old_path:
        Unit.objects.filter(pk=unit.pk).update(path=new_path)
        unit.path = new_path
        if old_path:
            # Move the whole subtree in one statement: replace the old prefix with the new one.
            Unit.objects.filter(path__startswith=old_path).exclude(pk=unit.pk).update(
                path=Concat(Value(new_path), Substr(F("path"), len(old_path) + 1))
            )
    return unit


@transaction.atomic
def add_staff(
    *,
    username: str,
    unit: Unit,
    role: str,
    password: str | None = None,
    email: str = "",
    full_name: str = "",
) -> tuple[AbstractUser, bool]:
    """Create or update a staff account and give it ``role`` at ``unit``.

    Administrators also get access to the Django admin (``is_staff``). Returns the user and
    whether it was created.
    """
    if role not in Role.values:
        raise ValidationError(
            {
                "role": _("Unknown role %(role)s. Use one of: %(roles)s.")
                % {"role": role, "roles": ", ".join(Role.values)}
            }
        )
    User = get_user_model()
    user = User.objects.filter(username=username).first()
    created = user is None
    if user is None:
        user = User(username=username)
    if email:
        user.email = email
    if full_name:
        first, _sep, last = full_name.rpartition(" ")
        user.last_name, user.first_name = (first, last) if first else ("", last)
    if role == Role.ADMIN:
        user.is_staff = True
    if password:
        validate_password(password, user)
        user.set_password(password)
    elif created:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    Membership.objects.get_or_create(user=user, unit=unit, role=role)
    return user, created
