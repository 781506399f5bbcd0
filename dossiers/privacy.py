"""Who sees an applicant's citizen ID number (số CCCD) in full, and what the others see.

The one rule, applied by every page, export and API answer that shows the number:

- the applicant themself (the account that owns the dossier) sees it in full;
- so do the officers who verify identity and work the file: counter officers and processing
  officers of a unit whose subtree holds the dossier's unit, and the officer the dossier is
  assigned to;
- everyone else who may see the dossier — managers, administrators, superusers without one of
  those roles there — sees it masked: only its last four digits, ``********1234``. That is
  enough to tell two applicants apart on the telephone, and tells nothing of the first six
  digits (province of birth registration, sex and century, year of birth).

Roles are read once per reader (``portal.selectors.user_memberships``), so a list of any
length costs no more.
"""

from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser, User
from django.http import HttpRequest

from portal.choices import Role
from portal.selectors import user_memberships

from .models import Dossier

# The roles that receive a dossier and verify the applicant's identity, or process it.
FULL_ID_ROLES = frozenset({Role.COUNTER_OFFICER, Role.PROCESSING_OFFICER})
VISIBLE_DIGITS = 4
MASK = "*"


def mask_id_number(value: str) -> str:
    """``"015090001234"`` → ``"********1234"``: the last four digits, the rest starred.

    A value too short to keep four digits back is starred entirely; an empty one stays empty.
    """
    value = (value or "").strip()
    if not value:
        return ""
    if len(value) <= VISIBLE_DIGITS * 2:
        return MASK * len(value)
    return MASK * (len(value) - VISIBLE_DIGITS) + value[-VISIBLE_DIGITS:]


@dataclass(frozen=True)
class IdNumberPolicy:
    """What one reader may see: built once (one query), asked for each dossier."""

    user_id: int | None
    unit_paths: tuple[str, ...]

    @classmethod
    def for_user(cls, user: User | AnonymousUser) -> "IdNumberPolicy":
        """The policy of ``user``, from their memberships (read once per user object)."""
        if not user.is_authenticated:
            return cls(user_id=None, unit_paths=())
        paths = {m.unit.path for m in user_memberships(user) if m.role in FULL_ID_ROLES}
        return cls(user_id=user.pk, unit_paths=tuple(sorted(paths)))

    def allows(self, dossier: Dossier) -> bool:
        """True when the reader sees this dossier's ID number in full. Reads ``dossier.unit``:
        select it with the dossier for lists."""
        if self.user_id is None:
            return False
        if self.user_id in (dossier.applicant_user_id, dossier.assigned_to_id):
            return True
        if not self.unit_paths:
            return False
        return dossier.unit.path.startswith(self.unit_paths)

    def id_number(self, dossier: Dossier) -> str:
        """The dossier's ID number as this reader may see it."""
        if self.allows(dossier):
            return dossier.applicant_id_number
        return mask_id_number(dossier.applicant_id_number)


def id_number_policy(request: HttpRequest) -> IdNumberPolicy:
    """The policy of the request's user, built once per request however many dossiers ask."""
    policy = getattr(request, "_id_number_policy", None)
    if policy is None:
        policy = IdNumberPolicy.for_user(request.user)
        request._id_number_policy = policy  # type: ignore[attr-defined]
    return policy


def may_see_id_number(user: User | AnonymousUser, dossier: Dossier) -> bool:
    """The rule of this module for one reader and one dossier."""
    return IdNumberPolicy.for_user(user).allows(dossier)


def shown_id_number(user: User | AnonymousUser, dossier: Dossier) -> str:
    """The dossier's ID number as ``user`` may see it: in full or masked."""
    return IdNumberPolicy.for_user(user).id_number(dossier)
