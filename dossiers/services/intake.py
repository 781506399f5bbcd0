"""Intake: numbering, in-person and postal receipt, online submission, acceptance, refusal.

The same submission sent twice gives one dossier, on every path: a request may carry a one-time
``submission_key`` (the citizen's or the counter's form, an API client's ``Idempotency-Key``),
and a key its submitter already used returns the dossier that key made. Keys belong to their
submitter — the citizen online, the receiving officer at the counter — so another account's key
never finds someone else's dossier, and an online dossier later accepted by an officer never
collides with that officer's own keys (two unique constraints, ``one_dossier_per_submission``
and ``one_intake_per_submission``).
"""

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from functools import partial

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.inserts import insert_rows
from portal.models import Unit
from portal.selectors import user_memberships
from portal.text import search_key
from procedures.catalogue_cache import documents_of
from procedures.choices import OnlineLevel
from procedures.models import Procedure
from procedures.selectors import procedure_deadline

from ..choices import Action, Channel, Status
from ..models import DayCounter, Dossier, DossierDocument
from ..workflow import open_timeliness
from .attachments import add_attachment
from .base import (
    Applicant,
    DossierPermissionError,
    _hold,
    _locked,
    _record,
    _required_text,
    _transition,
)

# --- Intake -------------------------------------------------------------------------------------


def format_code(unit: Unit, day: date, number: int) -> str:
    """``<agency code>-<yymmdd>-<nnnn>``: the dossier code of the ``number``-th of the day."""
    return f"{unit.code}-{day:%y%m%d}-{number:04d}"


def next_code(*, unit: Unit, at: datetime) -> str:
    """The next code of ``unit`` for the day of ``at``: ``<agency code>-<yymmdd>-<nnnn>``.

    Must run inside the transaction that stores the dossier: the counter row stays locked until
    it commits, so concurrent intakes queue, and a failed intake rolls its number back (no gaps,
    no duplicates).
    """
    day = timezone.localdate(at)
    # One statement (PostgreSQL, and SQLite since 3.35): create the day's counter at 1 or add
    # one, locking its row until the transaction ends, and read the number back.
    table = connection.ops.quote_name(DayCounter._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (unit_id, day, last) VALUES (%s, %s, 1) "
            f"ON CONFLICT (unit_id, day) DO UPDATE SET last = {table}.last + 1 RETURNING last",
            [unit.pk, day],
        )
        (number,) = cursor.fetchone()
    return format_code(unit, day, number)


def _check_intake(*, procedure: Procedure, unit: Unit, channel: str) -> None:
    errors: dict[str, str] = {}
    today = timezone.localdate()
    if (unit.valid_to and unit.valid_to < today) or (unit.valid_from and unit.valid_from > today):
        errors["unit"] = _("%(unit)s is not in force on this date.") % {"unit": unit.name}
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


# --- The same submission twice -----------------------------------------------------------------

SUBMISSION_KEY_MAX_LENGTH = 64


def _checked_key(key: str) -> str:
    """A submission key as given: at most 64 visible characters (no control characters)."""
    if len(key) > SUBMISSION_KEY_MAX_LENGTH or not key.isprintable():
        raise ValidationError(
            {
                "submission_key": _(
                    "A submission key has at most %(max)d characters, all of them visible."
                )
                % {"max": SUBMISSION_KEY_MAX_LENGTH}
            }
        )
    return key


def _submitted_with(*, key: str, by: User, online: bool) -> Dossier | None:
    """The dossier ``by`` already made with ``key``: online, as its applicant; at the counter,
    as its receiving officer (the two unique constraints, one lookup each)."""
    dossiers = Dossier.objects.filter(submission_key=key)
    if online:
        dossiers = dossiers.filter(channel=Channel.ONLINE, applicant_user=by)
    else:
        dossiers = dossiers.exclude(channel=Channel.ONLINE).filter(received_by=by)
    return dossiers.first()


def _once(*, key: str, by: User, online: bool, create: Callable[[], Dossier]) -> Dossier:
    """``create()`` (an atomic intake), unless ``by`` already made a dossier with ``key``.

    The first time — nearly always — costs nothing more than the intake: the unique
    constraint on the key is the check. A second time, the insert hits that constraint, or the
    request fails a check the first one passed (the key returns the first dossier whatever the
    second request carries); either way its transaction, number included, rolls back and the
    dossier the key made is returned instead of an error. At the same instant (PostgreSQL) the
    second insert waits for the first to commit, then hits the constraint.
    """
    if not key:
        return create()
    try:
        return create()
    except (IntegrityError, ValidationError):
        existing = _submitted_with(key=key, by=by, online=online)
        if existing is None:
            raise
        return existing


_RELATIONS = ("procedure", "unit", "applicant_user", "received_by", "assigned_to")


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
    received_by: User | None = None,
    submission_key: str = "",
    clock_from: datetime | None = None,
    digitized_intake: bool = False,
    submitted_at: datetime | None = None,
) -> Dossier:
    """The dossier checked, numbered and inserted once; with ``clock_from`` (a receipt at
    the counter) its legal clock starts at that moment, before the insert."""
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
        received_by=received_by,
        submission_key=submission_key,
        note=note.strip(),
        status=status,
        digitized_intake=digitized_intake,
        submitted_at=submitted_at,
    )
    if clock_from is not None:
        _start_clock(dossier, at=clock_from)
    if channel == Channel.POSTAL and not dossier.postal_tracking_no:
        raise ValidationError(
            {"postal_tracking_no": _("A postal dossier needs its postal tracking number.")}
        )
    # The fields' own rules (ID number, phone, lengths). Not the relations, which are objects
    # in hand (checking them is a query each), nor the unique constraints, which the database
    # enforces: the key's, at the same instant, is ``_once``'s to turn into the first dossier.
    dossier.full_clean(
        exclude=["code", "submission_key", *_RELATIONS],
        validate_unique=False,
        validate_constraints=False,
    )
    dossier.code = next_code(unit=unit, at=at)
    insert_rows([dossier])
    return dossier


def _checklist(
    dossier: Dossier, received_components: Sequence[int] | None, *, require_all: bool
) -> list[DossierDocument]:
    """Record the procedure's checklist with what was handed in. At the counter a dossier is
    received only complete: every required document present (the applicant is guided to
    complete it first); online, the documents are checked when the counter accepts it."""
    components = documents_of(dossier.procedure)
    wanted = set(received_components or [])
    unknown = wanted - {c.pk for c in components}
    if unknown:
        raise ValidationError(
            {
                "documents": _("These documents do not belong to the procedure: %(ids)s.")
                % {"ids": ", ".join(str(i) for i in sorted(unknown))}
            }
        )
    missing = [c.name for c in components if c.required and c.pk not in wanted]
    if require_all and missing:
        raise ValidationError(
            {
                "documents": _("The dossier lacks required documents: %(names)s.")
                % {"names": "; ".join(missing)}
            }
        )
    return insert_rows(
        [
            DossierDocument(
                dossier=dossier,
                component=component,
                name=component.name,
                kind=component.kind,
                count=component.count,
                required=component.required,
                received=component.pk in wanted,
                sort_order=position,
            )
            for position, component in enumerate(components, start=1)
        ]
    )


def _start_clock(dossier: Dossier, *, at: datetime) -> None:
    dossier.received_at = at
    deadline = procedure_deadline(procedure=dossier.procedure, unit=dossier.unit, received_at=at)
    dossier.due_at = deadline.due_at
    dossier.deadline_trace = deadline.trace_as_json()
    dossier.timeliness = open_timeliness(at, dossier.due_at)


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
    submission_key: str = "",
) -> Dossier:
    """A counter officer logs an in-person or postal dossier: numbered, received, timed.

    ``submission_key`` (the intake form's one-time token, an API client's Idempotency-Key):
    the same key from the same officer again returns the dossier it made, whatever else the
    second request carries (see ``_once``).
    """
    if channel == Channel.ONLINE:
        raise ValidationError({"channel": _("Online dossiers are submitted by the applicant.")})
    if not _is_counter_officer(by, unit):
        raise DossierPermissionError(_("Only counter officers of this unit may receive dossiers."))
    key = _checked_key(submission_key)
    create = partial(
        _receive_dossier,
        procedure=procedure,
        unit=unit,
        channel=channel,
        applicant=applicant,
        by=by,
        documents=documents,
        postal_tracking_no=postal_tracking_no,
        note=note,
        digitized_intake=digitized_intake,
        received_at=received_at,
        submission_key=key,
    )
    return _once(key=key, by=by, online=False, create=create)


@transaction.atomic
def _receive_dossier(
    *,
    procedure: Procedure,
    unit: Unit,
    channel: str,
    applicant: Applicant,
    by: User,
    documents: Sequence[int] | None,
    postal_tracking_no: str,
    note: str,
    digitized_intake: bool,
    received_at: datetime | None,
    submission_key: str,
) -> Dossier:
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
        received_by=by,
        submission_key=submission_key,
        clock_from=at,
        digitized_intake=digitized_intake,
    )
    checklist = _checklist(dossier, documents, require_all=True)
    event = _record(
        dossier,
        action=Action.RECEIVE,
        by=by,
        at=at,
        from_status="",
        note=note,
        data={"channel": channel},
    )
    _hold(dossier, documents=checklist, events=[event], attachments=[], pauses=[])
    return dossier


def _is_counter_officer(user: User, unit: Unit) -> bool:
    from portal.choices import Role

    if user.is_superuser:
        return True
    return any(
        unit.path.startswith(m.unit.path) and m.role == Role.COUNTER_OFFICER
        for m in user_memberships(user)
    )


def submit_dossier(
    *,
    procedure: Procedure,
    unit: Unit,
    applicant: Applicant,
    user: User,
    documents: Sequence[int] | None = None,
    uploads: Mapping[int, UploadedFile] | None = None,
    note: str = "",
    submission_key: str = "",
) -> Dossier:
    """A citizen submits online: the dossier is numbered and waits for a counter officer.

    ``uploads`` maps document components to their files: every required document needs one,
    and all are stored with the dossier or none is. ``submission_key`` (the form's one-time
    token, an API client's Idempotency-Key) makes a resent or double-clicked submit return the
    dossier it already created, also when both arrive at the same instant (see ``_once``).
    """
    key = _checked_key(submission_key)
    create = partial(
        _submit_dossier,
        procedure=procedure,
        unit=unit,
        applicant=applicant,
        user=user,
        documents=documents,
        uploads=uploads,
        note=note,
        submission_key=key,
    )
    return _once(key=key, by=user, online=True, create=create)


@transaction.atomic
def _submit_dossier(
    *,
    procedure: Procedure,
    unit: Unit,
    applicant: Applicant,
    user: User,
    documents: Sequence[int] | None,
    uploads: Mapping[int, UploadedFile] | None,
    note: str,
    submission_key: str,
) -> Dossier:
    at = timezone.now()
    if uploads is not None:
        components = {c.pk: c for c in documents_of(procedure)}
        missing = [c.name for c in components.values() if c.required and c.pk not in uploads]
        if missing:
            raise ValidationError(
                {
                    "documents": _("Upload every required document. Missing: %(names)s.")
                    % {"names": "; ".join(missing)}
                }
            )
        documents = list(uploads)
    dossier = _new_dossier(
        procedure=procedure,
        unit=unit,
        channel=Channel.ONLINE,
        applicant=applicant,
        status=Status.SUBMITTED,
        at=at,
        note=note,
        applicant_user=user,
        submission_key=submission_key,
        submitted_at=at,
    )
    checklist = _checklist(dossier, documents, require_all=False)
    event = _record(dossier, action=Action.SUBMIT, by=user, at=at, from_status="", note=note)
    if not uploads:
        _hold(dossier, documents=checklist, events=[event], attachments=[], pauses=[])
        return dossier
    _hold(dossier, documents=checklist, pauses=[])  # each file adds an event
    for line in checklist:
        upload = uploads.get(line.component_id) if line.component_id is not None else None
        if upload is None:
            continue
        try:
            add_attachment(dossier=dossier, by=user, upload=upload, document=line)
        except ValidationError as error:
            raise ValidationError({f"document_{line.component_id}": error.messages}) from None
    return dossier


@transaction.atomic
def accept_dossier(
    *, dossier: Dossier, by: User, note: str = "", digitized_intake: bool = False
) -> Dossier:
    """A counter officer accepts an online submission: from now on it is received and timed.
    ``digitized_intake`` when its documents were checked and signed into the e-dossier."""
    dossier = _locked(dossier, by, Action.ACCEPT)
    at = timezone.now()
    _start_clock(dossier, at=at)
    dossier.received_by = by
    dossier.digitized_intake = digitized_intake
    return _transition(
        dossier,
        action=Action.ACCEPT,
        by=by,
        at=at,
        note=note,
        fields=["received_at", "received_by", "due_at", "deadline_trace", "digitized_intake"],
    )


@transaction.atomic
def refuse_dossier(*, dossier: Dossier, by: User, reason: str) -> Dossier:
    """A counter officer refuses an online submission (Mẫu 03); it never counts as received."""
    dossier = _locked(dossier, by, Action.REFUSE)
    reason = _required_text(reason, "reason", _("Give the reason for the refusal."))
    at = timezone.now()
    dossier.closed_at = at
    dossier.close_reason = reason
    dossier.timeliness = ""
    return _transition(
        dossier,
        action=Action.REFUSE,
        by=by,
        at=at,
        note=reason,
        fields=["closed_at", "close_reason"],
    )
