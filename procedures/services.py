"""Writes to the catalogue and the working calendar."""

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from django.contrib.auth.models import AnonymousUser, User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.models import Unit

from .catalogue_cache import catalogue_changed
from .choices import CalendarDaySource
from .holiday_calendar import vietnam_calendar_days
from .importers import ParsedCatalogue, ProcedureRecord, RowError
from .models import CalendarDay, DocumentComponent, Field, Procedure


class CatalogueImportError(Exception):
    """The import was refused; nothing was written. ``errors`` says why, row by row."""

    def __init__(self, errors: list[RowError]):
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


# The record's attributes that are the procedure's own columns, copied as they are.
PROCEDURE_ATTRIBUTES = [
    f.name
    for f in dataclasses.fields(ProcedureRecord)
    if f.name not in {"row", "code", "field_code", "documents"}
]


@dataclass
class ImportResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    fields_created: list[str] = field(default_factory=list)


@transaction.atomic
def import_procedures(*, catalogue: ParsedCatalogue) -> ImportResult:
    """Create or update the procedures of a parsed catalogue file, all or nothing.

    A procedure's documents are replaced by the file's list. Procedures absent from the file
    are left alone (an import is an update, not a sync).
    """
    errors = list(catalogue.errors)
    known_fields = {f.code: f for f in Field.objects.all()}
    result = ImportResult()
    for field_record in catalogue.fields:
        existing = known_fields.get(field_record.code)
        if existing is None:
            existing = Field.objects.create(
                code=field_record.code, name=field_record.name, sort_order=field_record.sort_order
            )
            result.fields_created.append(field_record.code)
        elif (existing.name, existing.sort_order) != (field_record.name, field_record.sort_order):
            existing.name, existing.sort_order = field_record.name, field_record.sort_order
            existing.save(update_fields=["name", "sort_order"])
        known_fields[field_record.code] = existing
    for record in catalogue.procedures:
        if record.field_code not in known_fields:
            errors.append(
                RowError(
                    record.row,
                    record.code,
                    _("Unknown field “%(field)s”.") % {"field": record.field_code},
                )
            )
    if errors:
        raise CatalogueImportError(sorted(errors, key=lambda e: e.row))

    existing_procedures = {
        p.code: p for p in Procedure.objects.filter(code__in=[r.code for r in catalogue.procedures])
    }
    for record in catalogue.procedures:
        procedure = existing_procedures.get(record.code) or Procedure(code=record.code)
        is_new = procedure.pk is None
        for name in PROCEDURE_ATTRIBUTES:
            setattr(procedure, name, getattr(record, name))
        procedure.field = known_fields[record.field_code]
        procedure.is_active = True
        procedure.save()
        if not is_new:
            procedure.documents.all().delete()
        DocumentComponent.objects.bulk_create(
            DocumentComponent(
                procedure=procedure,
                name=doc.name,
                kind=doc.kind,
                count=doc.count,
                required=doc.required,
                sort_order=position,
            )
            for position, doc in enumerate(record.documents, start=1)
        )
        (result.created if is_new else result.updated).append(record.code)
    return result


@dataclass
class HolidaySeedResult:
    created: int = 0
    kept: int = 0


@transaction.atomic
def seed_holidays(*, years: Iterable[int]) -> HolidaySeedResult:
    """Add the nationwide public holidays and make-up working days of ``years``.

    Safe to run again: a date that already has a nationwide exception (seeded before, or entered
    by an administrator) is left as it is, so an administrator's correction is never undone.
    """
    seeds = vietnam_calendar_days(years)
    taken = set(
        CalendarDay.objects.filter(unit__isnull=True, date__in=[s.date for s in seeds]).values_list(
            "date", flat=True
        )
    )
    new_days = [
        CalendarDay(
            date=seed.date,
            kind=seed.kind,
            name=seed.name[:255],
            source=CalendarDaySource.HOLIDAYS_PACKAGE,
        )
        for seed in seeds
        if seed.date not in taken
    ]
    CalendarDay.objects.bulk_create(new_days, ignore_conflicts=True)
    catalogue_changed()  # bulk_create sends no signals
    recompute_open_deadlines(days={d.date: d.name for d in new_days})
    return HolidaySeedResult(created=len(new_days), kept=len(seeds) - len(new_days))


@transaction.atomic
def add_calendar_day(
    *,
    day: date,
    kind: str,
    name: str,
    unit: Unit | None = None,
    by: User | AnonymousUser | None = None,
) -> CalendarDay:
    """Declare a one-off day off or a make-up working day, with its reason."""
    calendar_day = CalendarDay(
        date=day,
        kind=kind,
        name=name.strip(),
        unit=unit,
        source=CalendarDaySource.ADMIN,
        created_by=by if isinstance(by, User) else None,
    )
    calendar_day.full_clean()
    calendar_day.save()
    recompute_open_deadlines(days={calendar_day.date: calendar_day.name}, unit=unit, by=by)
    return calendar_day


def recompute_open_deadlines(
    *,
    days: Mapping[date, str],
    unit: Unit | None = None,
    by: User | AnonymousUser | None = None,
) -> None:
    """After exceptions on ``days`` (date → reason) were added, changed or removed, for the
    whole country or ``unit``'s subtree: move the due dates of the open dossiers they touch.

    Call it inside the transaction that changed the calendar, so that both stand or fall
    together. The dossiers app is imported here, not at module level: it imports this app.
    """
    if not days:
        return
    from dossiers.services.calendar import recompute_deadlines_for_calendar_days

    recompute_deadlines_for_calendar_days(days=days, unit=unit, by=by, now=timezone.now())
