"""What every dossier service shares: errors, who may act, the transition and its event."""

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from portal.inserts import insert_rows
from portal.selectors import user_memberships

from ..choices import Action
from ..models import Dossier, DossierEvent
from ..workflow import APPLICANT, TRANSITIONS


class DossierActionError(Exception):
    """The action is not possible in the dossier's current status."""

    code = "invalid_transition"


class DossierPermissionError(Exception):
    """The actor may see the dossier but not take this action."""

    code = "permission_denied"


@dataclass(frozen=True)
class Applicant:
    full_name: str
    id_number: str
    phone: str
    email: str = ""
    address: str = ""


# --- Who may act --------------------------------------------------------------------------------


def actor_roles(dossier: Dossier, user: User | AnonymousUser) -> set[str]:
    """The roles ``user`` holds over ``dossier``: staff roles at a unit whose subtree contains
    the dossier's unit, and ``applicant`` for the citizen who owns it."""
    if not user.is_authenticated:
        return set()
    roles: set[str] = set()
    if dossier.applicant_user_id == user.pk:
        roles.add(APPLICANT)
    unit_path = dossier.unit.path
    for membership in user_memberships(user):
        if unit_path.startswith(membership.unit.path):
            roles.add(membership.role)
    if user.is_superuser:
        roles |= {actor for t in TRANSITIONS.values() for actor in t.actors if actor != APPLICANT}
    return roles


def _authorize(dossier: Dossier, by: User, action: str) -> None:
    transition = TRANSITIONS[action]
    if dossier.status not in transition.sources:
        raise DossierActionError(
            _("This dossier is “%(status)s”: it cannot be given the action “%(action)s”.")
            % {"status": dossier.get_status_display(), "action": Action(action).label}
        )
    if not actor_roles(dossier, by) & transition.actors:
        raise DossierPermissionError(
            _("Your role does not allow the action “%(action)s” on this dossier.")
            % {"action": Action(action).label}
        )


def _locked(dossier: Dossier, by: User | None = None, action: str | None = None) -> Dossier:
    """The dossier re-read under a row lock (concurrent actions queue instead of racing) and,
    given an actor and an action, checked first: status and role before any input."""
    locked = (
        Dossier.objects.select_for_update().select_related("procedure", "unit").get(pk=dossier.pk)
    )
    if by is not None and action is not None:
        _authorize(locked, by, action)
    return locked


def _hold(dossier: Dossier, **relations: list[Any]) -> None:
    """Keep on ``dossier`` the rows of its relations a service has just written, as a prefetch
    would (``documents=[…]``, ``events=[…]``): what reads them next — the intake's answer —
    reads them from here instead of querying for what is in hand."""
    held = dossier.__dict__.setdefault("_prefetched_objects_cache", {})
    for name, rows in relations.items():
        manager = getattr(dossier, name)
        rows_queryset = manager.all()
        rows_queryset._result_cache = list(rows)
        rows_queryset._prefetch_done = True
        held[manager.field.remote_field.cache_name] = rows_queryset


def _record(
    dossier: Dossier,
    *,
    action: str,
    by: User | None,
    at: datetime,
    from_status: str,
    note: str = "",
    data: dict[str, Any] | None = None,
) -> DossierEvent:
    (event,) = insert_rows(
        [
            DossierEvent(
                dossier=dossier,
                at=at,
                by=by if by is not None and by.is_authenticated else None,
                action=action,
                from_status=from_status,
                to_status=dossier.status,
                note=note,
                data=data or {},
            )
        ]
    )
    from ..lookup_cache import forget_lookups
    from .notifications import notify_applicant

    notify_applicant(dossier, event)
    if from_status:
        # Every change writes an event: the public lookup's kept answer goes once it commits
        # (a new dossier has none: no answer is kept of a code that names no dossier).
        transaction.on_commit(
            functools.partial(forget_lookups, [(dossier.code, dossier.applicant_phone)])
        )
    return event


def _transition(
    dossier: Dossier,
    *,
    action: str,
    by: User,
    at: datetime,
    note: str = "",
    data: dict[str, Any] | None = None,
    fields: Iterable[str] = (),
) -> Dossier:
    """Check and apply one transition of the table, save the named fields, write the event."""
    _authorize(dossier, by, action)
    from_status = dossier.status
    target = TRANSITIONS[action].target
    if target is not None:
        dossier.status = target
    dossier.save(update_fields=["status", "timeliness", "updated_at", *fields])
    _record(dossier, action=action, by=by, at=at, from_status=from_status, note=note, data=data)
    return dossier


def _required_text(value: str, field: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: message})
    return value
