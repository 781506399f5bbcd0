"""The cells of the monthly report as query conditions: one definition for the numbers and for
the list of dossiers behind each number (drill-down), so that the two always agree.

Every condition reads timestamps, never today's status: a dossier counts as received when
``received_at`` falls in the period, as resolved when ``resolved_at`` does, as withdrawn or
stopped when ``closed_at`` does, and as pending at a moment when it was received before and had
not ended by then. ``ended_at`` (annotated by :func:`with_ended_at`) is when a dossier left the
pending count: its decision, or its withdrawal or stop.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import DateTimeField, F, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from dossiers.choices import Channel, Status, Timeliness
from dossiers.models import Dossier
from procedures.choices import OnlineLevel

# The columns of Biểu số II.06a (4, 5 split by channel, 6, 8–10, 12–13) and the withdrawn or
# stopped column that makes every row add up, in the form's order.
CELLS = (
    "received_online",
    "received_in_person",
    "received_postal",
    "carried_over",
    "resolved_early",
    "resolved_on_time",
    "resolved_late",
    "pending_in_time",
    "pending_overdue",
    "withdrawn",
)
# What the indicators beside the form need.
INDICATOR_CELLS = ("online_eligible", "digitized_intake", "digitized_result")

CELL_LABELS = {
    "received_online": _("Received online"),
    "received_in_person": _("Received in person"),
    "received_postal": _("Received by post"),
    "carried_over": _("Carried over from the previous period"),
    "resolved_early": _("Resolved early"),
    "resolved_on_time": _("Resolved on time"),
    "resolved_late": _("Resolved late"),
    "pending_in_time": _("Pending, not yet due"),
    "pending_overdue": _("Pending, overdue"),
    "withdrawn": _("Withdrawn or stopped"),
    "online_eligible": _("Received for procedures offered online"),
    "digitized_intake": _("Digitized at intake"),
    "digitized_result": _("Result digitized"),
    "ratings": _("Ratings"),
    "satisfied": _("Satisfied or very satisfied ratings"),
    # Sums a reader may drill into as well.
    "received": _("Received (total)"),
    "received_in_period": _("Received in the period"),
    "resolved": _("Resolved (total)"),
    "pending": _("Pending (total)"),
}

ENDED_AT = Coalesce("resolved_at", "closed_at", output_field=DateTimeField())


def with_ended_at(dossiers: QuerySet[Dossier]) -> QuerySet[Dossier]:
    return dossiers.annotate(ended_at=ENDED_AT)


def _received_between(start: datetime, end: datetime) -> Q:
    return Q(received_at__gte=start, received_at__lt=end)


def _pending_at(moment: datetime) -> Q:
    """Received before ``moment`` and not ended by then."""
    return Q(received_at__lt=moment) & (Q(ended_at__isnull=True) | Q(ended_at__gte=moment))


def _overdue_at(moment: datetime) -> Q:
    """Past its due date at ``moment``; a clock paused before the due date is still in time."""
    return Q(due_at__lt=moment) & (Q(paused_at__isnull=True) | Q(paused_at__gt=F("due_at")))


def _resolved_between(start: datetime, end: datetime, timeliness: str) -> Q:
    return Q(resolved_at__gte=start, resolved_at__lt=end, timeliness=timeliness)


def touches(start: datetime, end: datetime) -> Q:
    """The dossiers any cell of the period [start, end) can count: received before its end and
    not ended before its start. The report query filters by this first (indexed)."""
    return Q(received_at__lt=end) & (Q(ended_at__isnull=True) | Q(ended_at__gte=start))


def cell_conditions(start: datetime, end: datetime, as_of: datetime) -> dict[str, Q]:
    """Each cell for the period [start, end), judging pending dossiers at the period's end or
    at ``as_of`` (now) when the period has not ended yet."""
    at = min(end, as_of)
    received = _received_between(start, end)
    pending = _pending_at(at)
    overdue = _overdue_at(at)
    return {
        "received_online": received & Q(channel=Channel.ONLINE),
        "received_in_person": received & Q(channel=Channel.IN_PERSON),
        "received_postal": received & Q(channel=Channel.POSTAL),
        "carried_over": _pending_at(start),
        "resolved_early": _resolved_between(start, end, Timeliness.EARLY),
        "resolved_on_time": _resolved_between(start, end, Timeliness.ON_TIME),
        "resolved_late": _resolved_between(start, end, Timeliness.LATE),
        "pending_in_time": pending & ~overdue,
        "pending_overdue": pending & overdue,
        "withdrawn": Q(
            status__in=(Status.WITHDRAWN, Status.STOPPED),
            received_at__isnull=False,
            closed_at__gte=start,
            closed_at__lt=end,
        ),
        # A dossier received online counts as offered online even if the procedure has since
        # been taken offline, so the rate stays a fraction.
        "online_eligible": received
        & (Q(channel=Channel.ONLINE) | ~Q(procedure__online_level=OnlineLevel.NONE)),
        "digitized_intake": received & Q(digitized_intake=True),
        "digitized_result": Q(resolved_at__gte=start, resolved_at__lt=end, digitized_result=True),
    }


def drilldown_condition(cell: str, start: datetime, end: datetime, as_of: datetime) -> Q:
    """The condition for one cell or one of the form's sums (received, resolved, pending)."""
    cells = cell_conditions(start, end, as_of)
    sums = {
        "received_in_period": ("received_online", "received_in_person", "received_postal"),
        "received": ("received_online", "received_in_person", "received_postal", "carried_over"),
        "resolved": ("resolved_early", "resolved_on_time", "resolved_late"),
        "pending": ("pending_in_time", "pending_overdue"),
    }
    if cell in sums:
        condition = Q()
        for part in sums[cell]:
            condition |= cells[part]
        return condition
    return cells[cell]


DRILLDOWN_CELLS = (
    *CELLS,
    *INDICATOR_CELLS,
    "received",
    "received_in_period",
    "resolved",
    "pending",
)
