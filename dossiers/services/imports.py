"""Import of historical dossiers (migration from an older system): all or nothing.

The file is parsed by ``dossiers.importers``; here the rows are checked against the database
(procedures, units, codes already taken), then written in one transaction with a handful of
bulk queries, whatever the number of rows: one calendar per unit for the whole file, deadlines
computed in memory, codes numbered from day counters read and written once.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.contrib.auth.models import AnonymousUser, User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.choices import Role
from portal.models import Membership, Unit
from portal.text import search_key
from procedures.choices import TimeLimitUnit
from procedures.deadlines import (
    STEP_DUE,
    STEP_RECEIVED,
    DeadlineError,
    TraceStep,
    WorkingCalendar,
    compute_deadline,
)
from procedures.models import Procedure
from procedures.selectors import time_limit_of, working_calendar

from ..choices import Action, Status
from ..importers import (
    REJECTED,
    RESOLVED,
    STOPPED,
    WITHDRAWN,
    DossierRecord,
    ParsedDossiers,
    RowError,
)
from ..models import DayCounter, Dossier, DossierEvent
from ..workflow import open_timeliness, resolution_timeliness
from .intake import format_code

_BATCH = 1000
_LOOKUP_CHUNK = 500  # codes per "code IN (…)" query: well under any database's parameter limit


class DossierImportError(Exception):
    """The import was refused; nothing was written. ``errors`` says why, by row and column."""

    def __init__(self, errors: list[RowError]):
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


@dataclass
class ImportResult:
    created: int = 0
    generated_codes: int = 0  # rows whose code was empty and was numbered here
    by_status: dict[str, int] = field(default_factory=dict)
    codes: list[str] = field(default_factory=list)


def _status(record: DossierRecord) -> str:
    if record.outcome in (RESOLVED, REJECTED):
        if record.returned_at is not None:
            return Status.RETURNED
        return Status.RESOLVED if record.outcome == RESOLVED else Status.REJECTED
    if record.outcome == WITHDRAWN:
        return Status.WITHDRAWN
    if record.outcome == STOPPED:
        return Status.STOPPED
    return Status.RECEIVED


def _window_days(procedure: Procedure) -> int:
    """Days after the receipt a deadline may reach, generously (as procedure_deadline does)."""
    value = Decimal(procedure.time_limit_value)
    if procedure.time_limit_unit == TimeLimitUnit.CALENDAR_DAYS:
        span = int(value) + 60
    elif procedure.time_limit_unit == TimeLimitUnit.WORKING_HOURS:
        span = int(value) // 4 + 60
    else:
        span = int(value) * 3 + 60
    return span + 365


def _calendars(
    records: list[DossierRecord], units: dict[str, Unit], procedures: dict[str, Procedure]
) -> dict[str, WorkingCalendar]:
    """One working calendar per unit, over the dates the file's deadlines may touch."""
    spans: dict[str, tuple[date, date]] = {}
    for record in records:
        if record.due_at is not None:
            continue
        day = record.received_day
        last = day + timedelta(days=_window_days(procedures[record.procedure]))
        first_known, last_known = spans.get(record.unit, (day, last))
        spans[record.unit] = (min(first_known, day), max(last_known, last))
    return {
        code: working_calendar(unit=units[code], start=first - timedelta(days=7), end=last)
        for code, (first, last) in spans.items()
    }


def _taken_codes(codes: list[str]) -> set[str]:
    taken: set[str] = set()
    for start in range(0, len(codes), _LOOKUP_CHUNK):
        chunk = codes[start : start + _LOOKUP_CHUNK]
        taken.update(Dossier.objects.filter(code__in=chunk).values_list("code", flat=True))
    return taken


def _administered_paths(by: User | AnonymousUser | None) -> list[str] | None:
    """The paths of the units ``by`` administers; None when any unit will do (the command line,
    a superuser)."""
    if by is None or not by.is_authenticated or by.is_superuser:
        return None
    return list(
        Membership.objects.filter(user=by, role=Role.ADMIN).values_list("unit__path", flat=True)
    )


def _check(
    parsed: ParsedDossiers, now: datetime, paths: list[str] | None
) -> tuple[dict[str, Unit], dict[str, Procedure], list[RowError]]:
    """What the database says about the rows (unknown procedures and units, codes taken, units
    outside the importer's), and what only the present knows: history does not happen in the
    future."""
    records = parsed.records
    units = {u.code: u for u in Unit.objects.filter(code__in={r.unit for r in records})}
    procedures = {
        p.code: p for p in Procedure.objects.filter(code__in={r.procedure for r in records})
    }
    taken = _taken_codes([r.code for r in records if r.code])
    errors: list[RowError] = []
    for record in records:
        # The catalogue of today may differ from the one of the time (a procedure since
        # repealed, moved to another level, or no longer online): only its existence counts.
        if record.procedure not in procedures:
            errors.append(
                RowError(
                    record.row,
                    "procedure",
                    _("No procedure has the code %(code)s.") % {"code": record.procedure},
                )
            )
        if record.unit not in units:
            errors.append(
                RowError(
                    record.row, "unit", _("No unit has the code %(code)s.") % {"code": record.unit}
                )
            )
        elif paths is not None and not any(
            units[record.unit].path.startswith(path) for path in paths
        ):
            errors.append(
                RowError(
                    record.row,
                    "unit",
                    _("The unit %(code)s is outside the units you administer.")
                    % {"code": record.unit},
                )
            )
        for column in ("received_at", "resolved_at", "returned_at", "closed_at"):
            moment = getattr(record, column)
            if moment is not None and moment > now:
                errors.append(RowError(record.row, column, _("This time is in the future.")))
        if record.code in taken:
            errors.append(
                RowError(
                    record.row,
                    "code",
                    _("A dossier with the code %(code)s already exists.") % {"code": record.code},
                )
            )
    return units, procedures, errors


def _deadline(
    record: DossierRecord, procedure: Procedure, calendar: WorkingCalendar | None
) -> tuple[datetime, list[dict]]:
    """The row's due moment and deadline trace: as given, or computed on its unit's calendar.
    Raises ``DeadlineError`` when the procedure's time limit cannot be placed."""
    if record.due_at is not None:
        trace = [
            TraceStep(STEP_RECEIVED, record.received_at, {"imported": True}),
            TraceStep(
                STEP_DUE,
                record.due_at,
                {"date": timezone.localdate(record.due_at).isoformat(), "imported": True},
            ),
        ]
        return record.due_at, [step.to_dict() for step in trace]
    assert calendar is not None
    deadline = compute_deadline(
        received_at=record.received_at, limit=time_limit_of(procedure), calendar=calendar
    )
    return deadline.due_at, deadline.trace_as_json()


def _number(records: list[DossierRecord], units: dict[str, Unit]) -> dict[int, str]:
    """Codes for the rows without one, and every day counter the file touches raised so that
    later intakes never reuse a number: to at least each given code's number, then past the
    numbers given here. Like ``intake.next_code``, but one read and one write for the file.

    The counters are created if missing, then read under a row lock: concurrent intakes of the
    same unit and day wait for this transaction.
    """
    keys = {(units[r.unit].pk, r.received_day) for r in records}
    DayCounter.objects.bulk_create(
        [DayCounter(unit_id=unit_id, day=day, last=0) for unit_id, day in keys],
        ignore_conflicts=True,
        batch_size=_BATCH,
    )
    unit_ids = {unit_id for unit_id, _day in keys}
    days = [day for _unit, day in keys]
    counters = {
        (c.unit_id, c.day): c
        for c in DayCounter.objects.select_for_update().filter(
            unit_id__in=unit_ids, day__range=(min(days), max(days))
        )
        if (c.unit_id, c.day) in keys
    }
    before = {key: counter.last for key, counter in counters.items()}
    for record in records:
        if record.code_number is not None:
            counter = counters[(units[record.unit].pk, record.received_day)]
            counter.last = max(counter.last, record.code_number)
    generated: dict[int, str] = {}
    for record in sorted(records, key=lambda r: (r.received_at, r.row)):
        if record.code:
            continue
        unit = units[record.unit]
        counter = counters[(unit.pk, record.received_day)]
        counter.last += 1
        generated[record.row] = format_code(unit, record.received_day, counter.last)
    changed = [c for key, c in counters.items() if c.last != before[key]]
    DayCounter.objects.bulk_update(changed, ["last"], batch_size=_BATCH)
    return generated


def _dossier(
    record: DossierRecord,
    *,
    code: str,
    unit: Unit,
    procedure: Procedure,
    due_at: datetime,
    trace: list[dict],
    now: datetime,
) -> Dossier:
    status = _status(record)
    if record.resolved_at is not None:
        timeliness = resolution_timeliness(
            record.resolved_at, due_at, timezone.get_default_timezone()
        )
    elif status in (Status.WITHDRAWN, Status.STOPPED):
        timeliness = ""  # closed without a result: counted apart, never early, late or overdue
    else:
        timeliness = open_timeliness(now, due_at)
    return Dossier(
        code=code,
        procedure=procedure,
        unit=unit,
        channel=record.channel,
        postal_tracking_no=record.postal_tracking_no,
        applicant_name=record.applicant_name,
        applicant_search=search_key(record.applicant_name),
        applicant_id_number=record.applicant_id_number,
        applicant_phone=record.applicant_phone,
        status=status,
        timeliness=timeliness,
        received_at=record.received_at,
        due_at=due_at,
        deadline_trace=trace,
        resolved_at=record.resolved_at,
        returned_at=record.returned_at,
        closed_at=record.closed_at,
        digitized_intake=record.digitized_intake,
        digitized_result=record.digitized_result,
    )


@transaction.atomic
def import_dossiers(
    *,
    parsed: ParsedDossiers,
    by: User | AnonymousUser | None,
    now: datetime | None = None,
    own_units_only: bool = False,
) -> ImportResult:
    """Store the dossiers of a parsed file, all or nothing, each with one ``import`` event.

    With ``own_units_only`` (the API), every row's unit must lie in the subtree of a unit
    ``by`` administers (superusers: any); the command line, run by whoever holds the server,
    imports anywhere.

    Raises ``DossierImportError`` (nothing written: the transaction is rolled back) when any
    row has an error, from the file, from the database or from its deadline.
    """
    now = now or timezone.now()
    records = parsed.records
    paths = _administered_paths(by) if own_units_only else None
    units, procedures, errors = _check(parsed, now, paths)
    errors = [*parsed.errors, *errors]
    if errors:
        raise DossierImportError(sorted(errors, key=lambda e: e.row))

    calendars = _calendars(records, units, procedures)
    generated = _number(records, units)
    actor = by if by is not None and by.is_authenticated else None
    statuses: Counter[str] = Counter()
    codes: list[str] = []
    # Batch by batch, so that a file of 100,000 rows never holds 100,000 model objects.
    for start in range(0, len(records), _BATCH):
        batch: list[tuple[DossierRecord, Dossier]] = []
        for record in records[start : start + _BATCH]:
            procedure = procedures[record.procedure]
            try:
                due_at, trace = _deadline(record, procedure, calendars.get(record.unit))
            except DeadlineError as exc:
                message = _("The due date cannot be computed: %(error)s") % {"error": exc}
                errors.append(RowError(record.row, "due_at", message))
                continue
            if errors:
                continue  # still looking for errors, but nothing more will be written
            code = record.code or generated[record.row]
            batch.append(
                (
                    record,
                    _dossier(
                        record,
                        code=code,
                        unit=units[record.unit],
                        procedure=procedure,
                        due_at=due_at,
                        trace=trace,
                        now=now,
                    ),
                )
            )
        if errors:
            continue
        # PostgreSQL and SQLite >= 3.35 return the new ids, which the events need.
        Dossier.objects.bulk_create([dossier for _record, dossier in batch])
        DossierEvent.objects.bulk_create(
            DossierEvent(
                dossier_id=dossier.pk,
                at=now,
                by=actor,
                action=Action.IMPORT,
                from_status="",
                to_status=dossier.status,
                data={"row": record.row},
            )
            for record, dossier in batch
        )
        statuses.update(dossier.status for _record, dossier in batch)
        codes.extend(dossier.code for _record, dossier in batch)
    if errors:
        raise DossierImportError(errors)
    return ImportResult(
        created=len(codes),
        generated_codes=len(generated),
        by_status={s: n for s in Status.values if (n := statuses[s])},
        codes=codes,
    )
