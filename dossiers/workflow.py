"""The dossier lifecycle in one place: which action leads from which statuses to which, and who
may take it. Pure data and pure functions; ``services`` enforces them, ``selectors`` offers them.
"""

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from portal.choices import Role

from .choices import Action, Status, Timeliness

APPLICANT = "applicant"  # the citizen who owns the dossier: not a staff role, but an actor

_OPEN = frozenset({Status.RECEIVED, Status.IN_PROGRESS, Status.SUPPLEMENT_REQUESTED})
_PROCESSORS = frozenset({Role.PROCESSING_OFFICER, Role.MANAGER})


@dataclass(frozen=True)
class Transition:
    sources: frozenset[str]
    target: str | None  # None: the status does not change (apology, assignment)
    actors: frozenset[str]


TRANSITIONS: dict[str, Transition] = {
    Action.ACCEPT: Transition(
        frozenset({Status.SUBMITTED}), Status.RECEIVED, frozenset({Role.COUNTER_OFFICER})
    ),
    Action.REFUSE: Transition(
        frozenset({Status.SUBMITTED}), Status.REFUSED, frozenset({Role.COUNTER_OFFICER})
    ),
    Action.START: Transition(frozenset({Status.RECEIVED}), Status.IN_PROGRESS, _PROCESSORS),
    Action.REQUEST_SUPPLEMENT: Transition(
        frozenset({Status.RECEIVED, Status.IN_PROGRESS}), Status.SUPPLEMENT_REQUESTED, _PROCESSORS
    ),
    Action.SUPPLEMENT: Transition(
        frozenset({Status.SUPPLEMENT_REQUESTED}),
        Status.IN_PROGRESS,
        frozenset({Role.COUNTER_OFFICER, Role.PROCESSING_OFFICER, APPLICANT}),
    ),
    Action.RESOLVE: Transition(frozenset({Status.IN_PROGRESS}), Status.RESOLVED, _PROCESSORS),
    Action.REJECT: Transition(frozenset({Status.IN_PROGRESS}), Status.REJECTED, _PROCESSORS),
    Action.RETURN: Transition(
        frozenset({Status.RESOLVED, Status.REJECTED}),
        Status.RETURNED,
        frozenset({Role.COUNTER_OFFICER}),
    ),
    Action.WITHDRAW: Transition(
        _OPEN | {Status.SUBMITTED},
        Status.WITHDRAWN,
        frozenset({Role.COUNTER_OFFICER, APPLICANT}),
    ),
    Action.STOP: Transition(_OPEN, Status.STOPPED, _PROCESSORS),
    Action.APOLOGIZE: Transition(_OPEN, None, _PROCESSORS),
    Action.ASSIGN: Transition(_OPEN, None, frozenset({Role.MANAGER})),
}

# The actions offered on a dossier's page and through the API's actions endpoint.
STAFF_ACTIONS = [
    Action.ACCEPT,
    Action.REFUSE,
    Action.START,
    Action.REQUEST_SUPPLEMENT,
    Action.SUPPLEMENT,
    Action.APOLOGIZE,
    Action.RESOLVE,
    Action.REJECT,
    Action.RETURN,
    Action.WITHDRAW,
    Action.STOP,
    Action.ASSIGN,
]


def can_take(action: str, *, status: str, actors: set[str]) -> bool:
    """Whether someone holding ``actors`` (roles, or ``applicant``) may take ``action`` now."""
    transition = TRANSITIONS.get(action)
    return bool(transition and status in transition.sources and actors & transition.actors)


def resolution_timeliness(resolved_at: datetime, due_at: datetime, tz: ZoneInfo) -> str:
    """Early when resolved on a day before the due date, on time on the due date no later than
    ``due_at``, late after ``due_at`` (DESIGN.md §3 "Timeliness")."""
    if resolved_at > due_at:
        return Timeliness.LATE
    if resolved_at.astimezone(tz).date() < due_at.astimezone(tz).date():
        return Timeliness.EARLY
    return Timeliness.ON_TIME


def open_timeliness(
    now: datetime, due_at: datetime | None, paused_at: datetime | None = None
) -> str:
    """In time while ``now`` is not past ``due_at``, overdue afterwards. A paused dossier's clock
    stands still: it is judged at the moment it was paused."""
    moment = paused_at or now
    if due_at is None or moment <= due_at:
        return Timeliness.IN_TIME
    return Timeliness.OVERDUE
