"""A change to the working calendar moves the due dates of the open dossiers it touches.

A day off declared (or a make-up working day, or either of them withdrawn) changes how much
office time lies between a dossier's receipt and its due moment. Each open dossier whose counted
span (receipt … due moment) contains a changed day gets its due date computed again exactly as
the supplement does (the receipt and every pause so far), with one ``recalculate`` event when it
moved. Resolved, returned and closed dossiers keep theirs: their classification is final.
"""

from collections.abc import Mapping
from datetime import date, datetime, time

from django.contrib.auth.models import AnonymousUser, User
from django.db import transaction
from django.utils import timezone

from portal.models import Unit

from ..choices import OPEN_STATUSES, Action
from ..models import Dossier
from .base import _record
from .processing import _recompute_deadline, _refresh_timeliness


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _end_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.max))


@transaction.atomic
def recompute_deadlines_for_calendar_days(
    *,
    days: Mapping[date, str],
    unit: Unit | None = None,
    by: User | AnonymousUser | None = None,
    now: datetime,
) -> list[Dossier]:
    """Recompute the due dates of the open dossiers of ``unit``'s subtree (every unit when
    ``unit`` is None) whose counted span contains one of ``days`` (each with the reason the
    calendar gives for it); returns those that moved.

    One query finds the candidates for the whole range of ``days``; each dossier is then matched
    to the first changed day inside its own span, and left alone when there is none.
    """
    changed = sorted(days)
    if not changed:
        return []
    dossiers = (
        Dossier.objects.select_for_update(of=("self",))
        .select_related("procedure", "unit")
        .filter(
            status__in=OPEN_STATUSES,
            received_at__isnull=False,
            due_at__isnull=False,
            received_at__lte=_end_of(changed[-1]),
            due_at__gte=_start_of(changed[0]),
        )
        .order_by("pk")
    )
    if unit is not None:
        dossiers = dossiers.filter(unit__path__startswith=unit.path)
    actor = by if isinstance(by, User) else None
    moved = []
    for dossier in dossiers:
        assert dossier.received_at is not None and dossier.due_at is not None
        day = next(
            (
                d
                for d in changed
                if dossier.received_at <= _end_of(d) and dossier.due_at >= _start_of(d)
            ),
            None,
        )
        if day is None:
            continue
        due_before = dossier.due_at
        # A paused dossier keeps the due date it had when paused (the supplement moves it);
        # counting its open pause up to the pause itself adds nothing.
        _recompute_deadline(dossier, now=dossier.paused_at or now)
        if dossier.due_at == due_before:
            continue
        assert dossier.due_at is not None
        _refresh_timeliness(dossier, now)
        dossier.save(update_fields=["due_at", "deadline_trace", "timeliness", "updated_at"])
        reason = days[day]
        _record(
            dossier,
            action=Action.RECALCULATE,
            by=actor,
            at=now,
            from_status=dossier.status,
            note=reason,
            data={
                "due_before": timezone.localtime(due_before).isoformat(),
                "due_after": timezone.localtime(dossier.due_at).isoformat(),
                "day": day.isoformat(),
                "reason": reason,
            },
        )
        moved.append(dossier)
    return moved


def recompute_deadlines_for_calendar_change(
    *,
    day: date,
    unit: Unit | None = None,
    by: User | AnonymousUser | None = None,
    now: datetime,
    reason: str = "",
) -> list[Dossier]:
    """One calendar exception on ``day`` was added, changed or removed (see above)."""
    return recompute_deadlines_for_calendar_days(days={day: reason}, unit=unit, by=by, now=now)
