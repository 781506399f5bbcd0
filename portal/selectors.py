"""Reads for units and roles. Every check of "may this user see that unit" goes through here."""

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Q, QuerySet

from .choices import Role
from .models import MEMBERSHIPS_HELD, Membership, Unit


def unit_subtree(unit: Unit) -> QuerySet[Unit]:
    """The unit and every unit below it."""
    return Unit.objects.filter(path__startswith=unit.path)


def user_memberships(user: User | AnonymousUser) -> tuple[Membership, ...]:
    """The user's memberships with their units, read once per user object.

    Every question about a user's roles and units (may they see this unit, act on this
    dossier, see this ID number) is answered from this one read, as Django keeps a user's
    permissions on the object (``ModelBackend``'s ``_perm_cache``): a request's user is read
    anew by each request, so a request pays one query however many checks it makes. Saving or
    deleting a membership with the user object in hand forgets what that object read
    (``Membership.save``); after a bulk change, read the user anew.
    """
    if not user.is_authenticated:
        return ()
    held = getattr(user, MEMBERSHIPS_HELD, None)
    if held is None:
        held = tuple(Membership.objects.filter(user=user).select_related("unit"))
        setattr(user, MEMBERSHIPS_HELD, held)
    return held


def visible_units(user: User | AnonymousUser) -> QuerySet[Unit]:
    """The units whose work ``user`` may see: the subtree of each unit they are a member of.

    Superusers see every unit; citizens and anonymous users see none.
    """
    if not user.is_authenticated:
        return Unit.objects.none()
    if user.is_superuser:
        return Unit.objects.all()
    paths = sorted({m.unit.path for m in user_memberships(user)})
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
    roles = {m.role for m in user_memberships(user)}
    if user.is_superuser:
        roles.add(Role.ADMIN)
    return roles


def is_staff_member(user: User | AnonymousUser) -> bool:
    return bool(user_roles(user))


def unit_ancestors(unit: Unit) -> QuerySet[Unit]:
    """The unit and the units above it, from the root down."""
    ids = [int(part) for part in unit.path.strip("/").split("/") if part]
    return Unit.objects.filter(pk__in=ids).order_by("path")
