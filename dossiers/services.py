"""Every change to a dossier: one function per transition, each atomic, each writing its event.

Nothing else assigns ``Dossier.status``. A refused change raises and leaves nothing behind:
``DossierActionError`` for a transition the dossier's status does not allow (HTTP 409),
``DossierPermissionError`` for an actor whose role does not allow it (HTTP 403), and Django's
``ValidationError`` for bad input (HTTP 400).
"""

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.models import Unit
from portal.text import search_key
from procedures import deadlines
from procedures.choices import OnlineLevel
from procedures.models import Procedure
from procedures.selectors import procedure_deadline

from .choices import Action, AttachmentKind, Channel, Status
from .models import Attachment, DayCounter, Dossier, DossierDocument, DossierEvent, Pause
from .workflow import APPLICANT, TRANSITIONS, open_timeliness, resolution_timeliness


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
    for membership in user.memberships.select_related("unit"):
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


def _locked(dossier: Dossier) -> Dossier:
    """The dossier re-read under a row lock: concurrent actions queue instead of racing."""
    return (
        Dossier.objects.select_for_update().select_related("procedure", "unit").get(pk=dossier.pk)
    )


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
    return DossierEvent.objects.create(
        dossier=dossier,
        at=at,
        by=by if by is not None and by.is_authenticated else None,
        action=action,
        from_status=from_status,
        to_status=dossier.status,
        note=note,
        data=data or {},
    )


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


# --- Intake -------------------------------------------------------------------------------------


def next_code(*, unit: Unit, at: datetime) -> str:
    """The next code of ``unit`` for the day of ``at``: ``<agency code>-<yymmdd>-<nnnn>``.

    Must run inside the transaction that stores the dossier: the counter row stays locked until
    it commits, so concurrent intakes queue, and a failed intake rolls its number back (no gaps,
    no duplicates).
    """
    day = timezone.localdate(at)
    DayCounter.objects.bulk_create([DayCounter(unit=unit, day=day, last=0)], ignore_conflicts=True)
    DayCounter.objects.filter(unit=unit, day=day).update(last=F("last") + 1)
    number = DayCounter.objects.filter(unit=unit, day=day).values_list("last", flat=True).get()
    return f"{unit.code}-{day:%y%m%d}-{number:04d}"


def _check_intake(*, procedure: Procedure, unit: Unit, channel: str) -> None:
    errors: dict[str, str] = {}
    if not procedure.is_active:
        errors["procedure"] = _("This procedure is no longer in force.")
    elif procedure.level != unit.level:
        errors["procedure"] = _(
            "%(unit)s does not handle this procedure: it is handled at %(level)s."
        ) % {"unit": unit.name, "level": str(procedure.get_level_display()).lower()}
    if channel not in Channel.values:
        errors["channel"] = _("Unknown channel.")
    elif channel == Channel.ONLINE and procedure.online_level == OnlineLevel.NONE:
        errors["channel"] = _("This procedure cannot be submitted online.")
    elif channel == Channel.POSTAL and not procedure.postal_allowed:
        errors["channel"] = _("This procedure cannot be submitted by post.")
    if errors:
        raise ValidationError(errors)


def _new_dossier(
    *,
    procedure: Procedure,
    unit: Unit,
    channel: str,
    applicant: Applicant,
    status: str,
    at: datetime,
    postal_tracking_no: str = "",
    note: str = "",
    applicant_user: User | None = None,
) -> Dossier:
    _check_intake(procedure=procedure, unit=unit, channel=channel)
    dossier = Dossier(
        procedure=procedure,
        unit=unit,
        channel=channel,
        postal_tracking_no=postal_tracking_no.strip(),
        applicant_name=applicant.full_name.strip(),
        applicant_search=search_key(applicant.full_name),
        applicant_id_number=applicant.id_number.strip(),
        applicant_phone=applicant.phone.strip().replace(" ", "").replace(".", ""),
        applicant_email=applicant.email.strip(),
        applicant_address=applicant.address.strip(),
        applicant_user=applicant_user,
        note=note.strip(),
        status=status,
    )
    if channel == Channel.POSTAL and not dossier.postal_tracking_no:
        raise ValidationError(
            {"postal_tracking_no": _("A postal dossier needs its postal tracking number.")}
        )
    dossier.full_clean(exclude=["code"])
    dossier.code = next_code(unit=unit, at=at)
    dossier.save()
    return dossier


def _checklist(
    dossier: Dossier, received_components: Sequence[int] | None, *, all_received: bool
) -> None:
    components = list(dossier.procedure.documents.all())
    wanted = set(received_components or [])
    unknown = wanted - {c.pk for c in components}
    if unknown:
        raise ValidationError(
            {
                "documents": _("These documents do not belong to the procedure: %(ids)s.")
                % {"ids": ", ".join(str(i) for i in sorted(unknown))}
            }
        )
    DossierDocument.objects.bulk_create(
        DossierDocument(
            dossier=dossier,
            component=component,
            name=component.name,
            kind=component.kind,
            count=component.count,
            required=component.required,
            received=all_received or component.pk in wanted,
            sort_order=position,
        )
        for position, component in enumerate(components, start=1)
    )


def _start_clock(dossier: Dossier, *, at: datetime) -> None:
    dossier.received_at = at
    deadline = procedure_deadline(procedure=dossier.procedure, unit=dossier.unit, received_at=at)
    dossier.due_at = deadline.due_at
    dossier.deadline_trace = deadline.trace_as_json()
    dossier.timeliness = open_timeliness(at, dossier.due_at)


@transaction.atomic
def receive_dossier(
    *,
    procedure: Procedure,
    unit: Unit,
    channel: str,
    applicant: Applicant,
    by: User,
    documents: Sequence[int] | None = None,
    postal_tracking_no: str = "",
    note: str = "",
    digitized_intake: bool = False,
    received_at: datetime | None = None,
) -> Dossier:
    """A counter officer logs an in-person or postal dossier: numbered, received, timed."""
    if channel == Channel.ONLINE:
        raise ValidationError({"channel": _("Online dossiers are submitted by the applicant.")})
    if not _is_counter_officer(by, unit):
        raise DossierPermissionError(_("Only counter officers of this unit may receive dossiers."))
    at = received_at or timezone.now()
    dossier = _new_dossier(
        procedure=procedure,
        unit=unit,
        channel=channel,
        applicant=applicant,
        status=Status.RECEIVED,
        at=at,
        postal_tracking_no=postal_tracking_no,
        note=note,
    )
    _checklist(dossier, documents, all_received=False)
    _start_clock(dossier, at=at)
    dossier.received_by = by
    dossier.digitized_intake = digitized_intake
    dossier.save()
    _record(
        dossier,
        action=Action.RECEIVE,
        by=by,
        at=at,
        from_status="",
        note=note,
        data={"channel": channel},
    )
    return dossier


def _is_counter_officer(user: User, unit: Unit) -> bool:
    from portal.choices import Role

    if user.is_superuser:
        return True
    return any(
        unit.path.startswith(m.unit.path) and m.role == Role.COUNTER_OFFICER
        for m in user.memberships.select_related("unit")
    )


@transaction.atomic
def submit_dossier(
    *,
    procedure: Procedure,
    unit: Unit,
    applicant: Applicant,
    user: User,
    documents: Sequence[int] | None = None,
    note: str = "",
) -> Dossier:
    """A citizen submits online: the dossier is numbered and waits for a counter officer."""
    at = timezone.now()
    dossier = _new_dossier(
        procedure=procedure,
        unit=unit,
        channel=Channel.ONLINE,
        applicant=applicant,
        status=Status.SUBMITTED,
        at=at,
        note=note,
        applicant_user=user,
    )
    dossier.submitted_at = at
    dossier.save(update_fields=["submitted_at"])
    _checklist(dossier, documents, all_received=False)
    _record(dossier, action=Action.SUBMIT, by=user, at=at, from_status="", note=note)
    return dossier


@transaction.atomic
def accept_dossier(*, dossier: Dossier, by: User, note: str = "") -> Dossier:
    """A counter officer accepts an online submission: from now on it is received and timed."""
    dossier = _locked(dossier)
    at = timezone.now()
    _authorize(dossier, by, Action.ACCEPT)
    _start_clock(dossier, at=at)
    dossier.received_by = by
    return _transition(
        dossier,
        action=Action.ACCEPT,
        by=by,
        at=at,
        note=note,
        fields=["received_at", "received_by", "due_at", "deadline_trace"],
    )


@transaction.atomic
def refuse_dossier(*, dossier: Dossier, by: User, reason: str) -> Dossier:
    """A counter officer refuses an online submission (Mẫu 03); it never counts as received."""
    reason = _required_text(reason, "reason", _("Give the reason for the refusal."))
    dossier = _locked(dossier)
    at = timezone.now()
    dossier.closed_at = at
    dossier.close_reason = reason
    return _transition(
        dossier,
        action=Action.REFUSE,
        by=by,
        at=at,
        note=reason,
        fields=["closed_at", "close_reason"],
    )


# --- Processing ---------------------------------------------------------------------------------


def _required_text(value: str, field: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: message})
    return value


def _refresh_timeliness(dossier: Dossier, now: datetime) -> None:
    dossier.timeliness = open_timeliness(now, dossier.due_at, dossier.paused_at)


@transaction.atomic
def start_processing(*, dossier: Dossier, by: User, note: str = "") -> Dossier:
    dossier = _locked(dossier)
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
    missing = _required_text(missing, "missing", _("List the missing or incomplete documents."))
    reason = _required_text(reason, "reason", _("Give the reason."))
    dossier = _locked(dossier)
    at = timezone.now()
    _authorize(dossier, by, Action.REQUEST_SUPPLEMENT)
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
    dossier = _locked(dossier)
    at = timezone.now()
    _authorize(dossier, by, Action.SUPPLEMENT)
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
    dossier = _locked(dossier)
    at = timezone.now()
    _authorize(dossier, by, action)
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
    reason = _required_text(reason, "reason", _("Give the reason for the refusal decision."))
    return _decide(
        dossier, action=Action.REJECT, by=by, text=reason, digitized_result=digitized_result
    )


@transaction.atomic
def return_result(*, dossier: Dossier, by: User, note: str = "") -> Dossier:
    dossier = _locked(dossier)
    at = timezone.now()
    dossier.returned_at = at
    return _transition(
        dossier, action=Action.RETURN, by=by, at=at, note=note, fields=["returned_at"]
    )


def _close(dossier: Dossier, *, action: str, by: User, reason: str) -> Dossier:
    dossier = _locked(dossier)
    at = timezone.now()
    _authorize(dossier, by, action)
    dossier.closed_at = at
    dossier.close_reason = reason
    if dossier.paused_at:
        dossier.pauses.filter(ended_at__isnull=True).update(ended_at=at)
        dossier.paused_at = None
    return _transition(
        dossier,
        action=action,
        by=by,
        at=at,
        note=reason,
        fields=["closed_at", "close_reason", "paused_at"],
    )


@transaction.atomic
def withdraw_dossier(*, dossier: Dossier, by: User, reason: str) -> Dossier:
    """The applicant withdraws the dossier (at the counter, or online)."""
    reason = _required_text(reason, "reason", _("Give the reason for the withdrawal."))
    return _close(dossier, action=Action.WITHDRAW, by=by, reason=reason)


@transaction.atomic
def stop_dossier(*, dossier: Dossier, by: User, reason: str) -> Dossier:
    """Processing stops for a legal reason (e.g. the applicant died, a court case)."""
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
    reason = _required_text(reason, "reason", _("Give the reason for the delay."))
    dossier = _locked(dossier)
    at = timezone.now()
    _authorize(dossier, by, Action.APOLOGIZE)
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
    dossier = _locked(dossier)
    at = timezone.now()
    from portal.choices import Role

    if not any(
        dossier.unit.path.startswith(m.unit.path) and m.role == Role.PROCESSING_OFFICER
        for m in officer.memberships.select_related("unit")
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


# --- Attachments --------------------------------------------------------------------------------

_SIGNATURES = {
    "application/pdf": (b"%PDF-",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
}
_EXTENSIONS = {
    "application/pdf": {"pdf"},
    "image/png": {"png"},
    "image/jpeg": {"jpg", "jpeg"},
}


def sniff_content_type(head: bytes) -> str | None:
    """PDF, PNG or JPEG by the file's first bytes, whatever its name says."""
    for content_type, signatures in _SIGNATURES.items():
        if head.startswith(signatures):
            return content_type
    return None


@transaction.atomic
def add_attachment(
    *,
    dossier: Dossier,
    by: User,
    upload: UploadedFile,
    kind: str = AttachmentKind.DOCUMENT,
    document: DossierDocument | None = None,
    digitized: bool = False,
) -> Attachment:
    """Store an uploaded PDF, JPEG or PNG with the dossier, recognised by its content."""
    dossier = _locked(dossier)
    roles = actor_roles(dossier, by)
    if not roles:
        raise DossierPermissionError(_("You may not add files to this dossier."))
    if dossier.status in (Status.RETURNED, Status.WITHDRAWN, Status.STOPPED, Status.REFUSED):
        raise DossierActionError(_("This dossier is closed: no more files can be added."))
    if kind == AttachmentKind.RESULT and not roles & TRANSITIONS[Action.RESOLVE].actors:
        raise DossierPermissionError(_("Only processing officers attach the result."))
    limit = settings.ATTACHMENT_MAX_BYTES
    if upload.size is None or upload.size > limit:
        raise ValidationError(
            {"file": _("The file is larger than %(limit)d MB.") % {"limit": limit // (1024 * 1024)}}
        )
    if upload.size == 0:
        raise ValidationError({"file": _("The file is empty.")})
    upload.seek(0)
    content_type = sniff_content_type(upload.read(16))
    upload.seek(0)
    if content_type is None:
        raise ValidationError({"file": _("Only PDF, JPEG and PNG files are accepted.")})
    extension = (upload.name or "").rsplit(".", 1)[-1].lower() if "." in (upload.name or "") else ""
    if extension not in _EXTENSIONS[content_type]:
        raise ValidationError(
            {
                "file": _("The file's name says “.%(extension)s” but its content is %(kind)s.")
                % {"extension": extension, "kind": content_type.split("/")[-1].upper()}
            }
        )
    if document is not None and document.dossier_id != dossier.pk:
        raise ValidationError({"document": _("This document belongs to another dossier.")})
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    attachment = Attachment(
        dossier=dossier,
        document=document,
        kind=kind,
        original_name=(upload.name or "")[-255:],
        content_type=content_type,
        size=upload.size,
        sha256=digest.hexdigest(),
        digitized=digitized,
        uploaded_by=by,
    )
    attachment.file.save("upload", upload, save=False)
    attachment.save()
    _record(
        dossier,
        action=Action.ATTACH,
        by=by,
        at=timezone.now(),
        from_status=dossier.status,
        note=attachment.original_name,
        data={"kind": kind, "attachment": attachment.pk},
    )
    if kind == AttachmentKind.RESULT and digitized and not dossier.digitized_result:
        dossier.digitized_result = True
        dossier.save(update_fields=["digitized_result", "updated_at"])
    return attachment
