"""Reads for units and roles. Every check of "may this user see that unit" goes through here."""

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Q, QuerySet

from .choices import Role
from .models import Membership, Unit


def unit_subtree(unit: Unit) -> QuerySet[Unit]:
    """The unit and every unit below it."""
    return Unit.objects.filter(path__startswith=unit.path)


def visible_units(user: User | AnonymousUser) -> QuerySet[Unit]:
    """The units whose work ``user`` may see: the subtree of each unit they are a member of.

    Superusers see every unit; citizens and anonymous users see none.
    """
    if not user.is_authenticated:
        return Unit.objects.none()
    if user.is_superuser:
        return Unit.objects.all()
    paths = list(
        Membership.objects.filter(user=user).values_list("unit__path", flat=True).distinct()
    )
    if not paths:
        return Unit.objects.none()
    condition = Q()
    for path in paths:
        condition |= Q(path__startswith=path)
    return Unit.objects.filter(condition)


def user_roles(user: User | AnonymousUser) -> set[str]:
    """The roles ``user`` holds at any unit (``admin`` for superusers too)."""
    if not user.is_authenticated:
        return set()
    roles = set(Membership.objects.filter(user=user).values_list("role", flat=True))
    if user.is_superuser:
        roles.add(Role.ADMIN)
    return roles


def is_staff_member(user: User | AnonymousUser) -> bool:
    return bool(user_roles(user))


def unit_ancestors(unit: Unit) -> QuerySet[Unit]:
    """The unit and the units above it, from the root down."""
    ids = [int(part) for part in unit.path.strip("/").split("/") if part]
    return Unit.objects.filter(pk__in=ids).order_by("path")
