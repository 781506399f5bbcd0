"""Reads for units and roles. Every check of "may this user see that unit" goes through here."""

from collections.abc import Callable
from typing import Any, TypeVar

from django.contrib.auth.models import AnonymousUser, User
from django.db import connections, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Model, Q, QuerySet
from django.db.models.expressions import Col
from rest_framework.authtoken.models import Token

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


_TOKEN_MODELS = (Token, User, Membership, Unit)
M = TypeVar("M", bound=Model)


# ``_token_statement`` by database vendor (not by connection: each thread has its own).
_TOKEN_STATEMENTS: dict[str, str] = {}


def _token_statement(connection: BaseDatabaseWrapper) -> str:
    sql = _TOKEN_STATEMENTS.get(connection.vendor)
    if sql is None:
        sql = _TOKEN_STATEMENTS[connection.vendor] = _written_token_statement(
            connection.ops.quote_name
        )
    return sql


def _written_token_statement(quote: Callable[[str], str]) -> str:
    aliases = ("t", "u", "m", "n")
    columns = [
        f"{alias}.{quote(field.column)}"
        for model, alias in zip(_TOKEN_MODELS, aliases, strict=True)
        for field in model._meta.concrete_fields
    ]
    token, user, membership, unit = (quote(m._meta.db_table) for m in _TOKEN_MODELS)
    return (
        f"SELECT {', '.join(columns)} FROM {token} t "
        f"JOIN {user} u ON u.id = t.user_id "
        f"LEFT JOIN {membership} m ON m.user_id = u.id "
        f"LEFT JOIN {unit} n ON n.id = m.unit_id "
        f"WHERE t.{quote('key')} = %s ORDER BY m.id"
    )


def _converters(connection: BaseDatabaseWrapper) -> list[tuple[Col, list[Callable]]]:
    """Per column of ``_token_statement``: its field and what the ORM would apply to the value
    the driver gives (SQLite's booleans and aware datetimes, a field's ``from_db_value``)."""
    held = connection.__dict__.get("_portal_token_converters")
    if held is None:
        held = []
        for model in _TOKEN_MODELS:
            for field in model._meta.concrete_fields:
                col = field.get_col(model._meta.db_table)
                converters = [
                    *connection.ops.get_db_converters(col),
                    *col.get_db_converters(connection),
                ]
                held.append((col, converters))
        connection.__dict__["_portal_token_converters"] = held
    return held


def _convert(value: Any, col: Col, functions: list[Callable], connection: Any) -> Any:
    for function in functions:
        value = function(value, col, connection)
    return value


def _made(model: type[M], row: list[Any], position: int, alias: str) -> M:
    """The ``position``-th model of ``_TOKEN_MODELS`` from its columns of ``row``."""
    fields = [f.attname for f in model._meta.concrete_fields]
    start = sum(len(m._meta.concrete_fields) for m in _TOKEN_MODELS[:position])
    return model.from_db(alias, fields, row[start : start + len(fields)])


def user_by_token(key: str) -> tuple[User, Token] | None:
    """The API token ``key`` and its user, with the user's memberships and their units held as
    ``user_memberships`` holds them: one statement instead of DRF's read of the token and its
    user and then ours of the memberships (each a few hundred microseconds of the ORM's
    compiling, on every request an API client makes). None for an unknown key."""
    alias = router.db_for_read(Token)
    connection = connections[alias]
    with connection.cursor() as cursor:
        cursor.execute(_token_statement(connection), [key])
        rows = cursor.fetchall()
    if not rows:
        return None
    converters = _converters(connection)
    values = [
        [
            _convert(value, col, functions, connection)
            for value, (col, functions) in zip(row, converters, strict=True)
        ]
        for row in rows
    ]
    token, user = _made(Token, values[0], 0, alias), _made(User, values[0], 1, alias)
    token.user = user
    memberships = []
    for row in values:
        membership = _made(Membership, row, 2, alias)
        if membership.pk is None:  # no membership: a citizen
            continue
        membership.unit = _made(Unit, row, 3, alias)
        membership.user = user
        memberships.append(membership)
    setattr(user, MEMBERSHIPS_HELD, tuple(memberships))
    return user, token


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
