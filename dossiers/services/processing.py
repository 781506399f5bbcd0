"""Processing: start, supplement (the clock pauses), decide, return, close, apology."""

from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.selectors import user_memberships
from procedures import deadlines
from procedures.selectors import procedure_deadline

from ..choices import Action
from ..models import Dossier, Pause
from ..workflow import open_timeliness, resolution_timeliness
from .base import (
    DossierActionError,
    _locked,
    _required_text,
    _transition,
)

# --- Processing ---------------------------------------------------------------------------------


def _refresh_timeliness(dossier: Dossier, now: datetime) -> None:
    dossier.timeliness = open_timeliness(now, dossier.due_at, dossier.paused_at)


@transaction.atomic
def start_processing(*, dossier: Dossier, by: User, note: str = "") -> Dossier:
    dossier = _locked(dossier, by, Action.START)
    at = timezone.now()
    if dossier.assigned_to_id is None:
        dossier.assigned_to = by
    _refresh_timeliness(dossier, at)
    return _transition(
        dossier, action=Action.START, by=by, at=at, note=note, fields=["assigned_to"]
    )


@transaction.atomic
def request_supplement(*, dossier: Dossier, by: User, missing: str, reason: str) -> Dossier:
    """Ask the applicant for missing documents (Mẫu 02); the clock stops until they come."""
    dossier = _locked(dossier, by, Action.REQUEST_SUPPLEMENT)
    missing = _required_text(missing, "missing", _("List the missing or incomplete documents."))
    reason = _required_text(reason, "reason", _("Give the reason."))
    at = timezone.now()
    _refresh_timeliness(dossier, at)
    dossier.paused_at = at
    Pause.objects.create(
        dossier=dossier, started_at=at, missing_documents=missing, reason=reason, requested_by=by
    )
    return _transition(
        dossier,
        action=Action.REQUEST_SUPPLEMENT,
        by=by,
        at=at,
        note=reason,
        data={"missing": missing},
        fields=["paused_at"],
    )


def _recompute_deadline(dossier: Dossier, *, now: datetime) -> None:
    """Due date from the receipt and every pause so far: the pauses move it, never restart it."""
    assert dossier.received_at is not None
    pauses = [
        deadlines.Pause(start=p.started_at, end=p.ended_at)
        for p in dossier.pauses.order_by("started_at")
    ]
    deadline = procedure_deadline(
        procedure=dossier.procedure,
        unit=dossier.unit,
        received_at=dossier.received_at,
        pauses=pauses,
        now=now,
    )
    dossier.due_at = deadline.due_at
    trace = deadline.trace_as_json()
    if dossier.promised_at:
        trace.append(_apology_step(dossier))
    dossier.deadline_trace = trace


@transaction.atomic
def record_supplement(*, dossier: Dossier, by: User, note: str = "") -> Dossier:
    """The missing documents arrived: the clock runs again and the due date moves by the
    working time spent waiting."""
    dossier = _locked(dossier, by, Action.SUPPLEMENT)
    at = timezone.now()
    pause = dossier.pauses.get(ended_at__isnull=True)
    pause.ended_at = at
    pause.save(update_fields=["ended_at"])
    dossier.paused_at = None
    old_due = dossier.due_at
    _recompute_deadline(dossier, now=at)
    _refresh_timeliness(dossier, at)
    return _transition(
        dossier,
        action=Action.SUPPLEMENT,
        by=by,
        at=at,
        note=note,
        data={
            "due_before": old_due.isoformat() if old_due else None,
            "due_after": dossier.due_at.isoformat() if dossier.due_at else None,
        },
        fields=["paused_at", "due_at", "deadline_trace"],
    )


def _decide(
    dossier: Dossier, *, action: str, by: User, text: str, digitized_result: bool
) -> Dossier:
    at = timezone.now()
    dossier.resolved_at = at
    dossier.result_summary = text
    dossier.digitized_result = digitized_result
    assert dossier.due_at is not None
    dossier.timeliness = resolution_timeliness(at, dossier.due_at, timezone.get_default_timezone())
    return _transition(
        dossier,
        action=action,
        by=by,
        at=at,
        note=text,
        fields=["resolved_at", "result_summary", "digitized_result"],
    )


@transaction.atomic
def resolve_dossier(
    *, dossier: Dossier, by: User, result: str, digitized_result: bool = False
) -> Dossier:
    """The result is issued; the dossier is classified early, on time or late for good."""
    dossier = _locked(dossier, by, Action.RESOLVE)
    result = _required_text(
        result, "result", _("Describe the result (e.g. the decision's number).")
    )
    return _decide(
        dossier, action=Action.RESOLVE, by=by, text=result, digitized_result=digitized_result
    )


@transaction.atomic
def reject_dossier(
    *, dossier: Dossier, by: User, reason: str, digitized_result: bool = False
) -> Dossier:
    """A refusal decision is a result too: it counts as resolved in the statistics."""
    dossier = _locked(dossier, by, Action.REJECT)
    reason = _required_text(reason, "reason", _("Give the reason for the refusal decision."))
    return _decide(
        dossier, action=Action.REJECT, by=by, text=reason, digitized_result=digitized_result
    )


@transaction.atomic
def return_result(*, dossier: Dossier, by: User, note: str = "") -> Dossier:
    dossier = _locked(dossier, by, Action.RETURN)
    at = timezone.now()
    dossier.returned_at = at
    return _transition(
        dossier, action=Action.RETURN, by=by, at=at, note=note, fields=["returned_at"]
    )


def _close(dossier: Dossier, *, action: str, by: User, reason: str) -> Dossier:
    at = timezone.now()
    dossier.closed_at = at
    dossier.close_reason = reason
    dossier.timeliness = ""  # closed without a result: counted apart, never early or late
    fields = ["closed_at", "close_reason"]
    if dossier.paused_at:
        # The pause ends here and moves the due date as a supplement would, so that the
        # dossier's past stays readable from its timestamps: paused before its due date, it was
        # in time while waiting (reports of past periods depend on it).
        dossier.pauses.filter(ended_at__isnull=True).update(ended_at=at)
        dossier.paused_at = None
        _recompute_deadline(dossier, now=at)
        fields += ["paused_at", "due_at", "deadline_trace"]
    return _transition(dossier, action=action, by=by, at=at, note=reason, fields=fields)


@transaction.atomic
def withdraw_dossier(*, dossier: Dossier, by: User, reason: str) -> Dossier:
    """The applicant withdraws the dossier (at the counter, or online)."""
    dossier = _locked(dossier, by, Action.WITHDRAW)
    reason = _required_text(reason, "reason", _("Give the reason for the withdrawal."))
    return _close(dossier, action=Action.WITHDRAW, by=by, reason=reason)


@transaction.atomic
def stop_dossier(*, dossier: Dossier, by: User, reason: str) -> Dossier:
    """Processing stops for a legal reason (e.g. the applicant died, a court case)."""
    dossier = _locked(dossier, by, Action.STOP)
    reason = _required_text(reason, "reason", _("Give the reason for stopping."))
    return _close(dossier, action=Action.STOP, by=by, reason=reason)


def _apology_step(dossier: Dossier) -> dict[str, Any]:
    assert dossier.promised_at is not None
    return deadlines.TraceStep(
        kind=deadlines.STEP_APOLOGY,
        at=dossier.apologized_at,
        params={"promised_at": dossier.promised_at.isoformat()},
    ).to_dict()


@transaction.atomic
def issue_apology(*, dossier: Dossier, by: User, promised_at: datetime, reason: str) -> Dossier:
    """The apology slip (Mẫu 04): a new promised date for the applicant. Once only; ``due_at``
    stays, and the dossier still counts as late."""
    dossier = _locked(dossier, by, Action.APOLOGIZE)
    reason = _required_text(reason, "reason", _("Give the reason for the delay."))
    at = timezone.now()
    if dossier.apologized_at is not None:
        raise DossierActionError(_("An apology slip was already issued for this dossier."))
    if timezone.is_naive(promised_at):
        promised_at = timezone.make_aware(promised_at)
    if promised_at <= at or (dossier.due_at and promised_at <= dossier.due_at):
        raise ValidationError(
            {"promised_at": _("The new date must be later than now and than the due date.")}
        )
    dossier.promised_at = promised_at
    dossier.apology_reason = reason
    dossier.apologized_at = at
    dossier.deadline_trace = [*dossier.deadline_trace, _apology_step(dossier)]
    _refresh_timeliness(dossier, at)
    return _transition(
        dossier,
        action=Action.APOLOGIZE,
        by=by,
        at=at,
        note=reason,
        data={"promised_at": promised_at.isoformat()},
        fields=["promised_at", "apology_reason", "apologized_at", "deadline_trace"],
    )


@transaction.atomic
def assign_dossier(*, dossier: Dossier, by: User, officer: User) -> Dossier:
    """A manager gives the dossier to a processing officer of the unit's subtree."""
    dossier = _locked(dossier, by, Action.ASSIGN)
    at = timezone.now()
    from portal.choices import Role

    if not officer.is_active or not any(
        dossier.unit.path.startswith(m.unit.path) and m.role == Role.PROCESSING_OFFICER
        for m in user_memberships(officer)
    ):
        raise ValidationError(
            {
                "officer": _("%(name)s is not a processing officer of this unit.")
                % {"name": officer.get_username()}
            }
        )
    dossier.assigned_to = officer
    _refresh_timeliness(dossier, at)
    return _transition(
        dossier,
        action=Action.ASSIGN,
        by=by,
        at=at,
        data={"officer": officer.get_username()},
        fields=["assigned_to"],
    )
