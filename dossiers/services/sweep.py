"""The deadline worker's sweep: set-based SQL that marks open dossiers overdue as their due
moment passes and warns the people responsible, once each.

One sweep runs at a time (a transaction-scoped advisory lock on PostgreSQL; SQLite serialises
writers anyway), and each change is guarded by the row's own state (``timeliness <> 'overdue'``,
``due_soon_warned_at IS NULL``), so two workers sweeping at once, or a sweep run again after a
worker died half-way (the transaction rolled back), leave the same state and no duplicate
events or messages. Resolved dossiers are classified when they are resolved, not here.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from portal.choices import MessageChannel, Role
from portal.models import Membership
from portal.services import enqueue_message, record_heartbeat
from procedures.deadlines import OfficeHours, WorkingCalendar
from procedures.selectors import effective_calendar_days

from ..choices import OPEN_STATUSES, Action, Timeliness
from ..models import Dossier, DossierEvent

_SWEEP_LOCK_ID = 0x4D4F54  # any constant shared by every sweeping process


@dataclass(frozen=True)
class _Row:
    id: int
    code: str
    status: str
    unit_id: int
    assigned_to_id: int | None
    due_at: datetime


@dataclass
class SweepResult:
    at: datetime
    overdue: int = 0
    due_soon: int = 0
    warnings: int = 0


def _lock() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_SWEEP_LOCK_ID])


def _update_returning(
    set_sql: str, set_params: list, where_sql: str, where_params: list
) -> list[_Row]:
    """One ``UPDATE … WHERE … RETURNING`` over the open dossiers whose clock runs
    (PostgreSQL, and SQLite ≥ 3.35). Datetime parameters go in as the database stores them."""
    table = Dossier._meta.db_table
    statuses = ", ".join(["%s"] * len(OPEN_STATUSES))
    sql = (
        f"UPDATE {table} SET {set_sql} "
        f"WHERE status IN ({statuses}) AND paused_at IS NULL AND due_at IS NOT NULL "
        f"AND {where_sql} "
        "RETURNING id, code, status, unit_id, assigned_to_id, due_at"
    )
    with connection.cursor() as cursor:
        params = [_db(p) for p in set_params] + list(OPEN_STATUSES) + [_db(p) for p in where_params]
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    result = []
    for pk, code, status, unit_id, assigned_to_id, due_at in rows:
        if isinstance(due_at, str):  # SQLite returns text
            due_at = datetime.fromisoformat(due_at)
        if timezone.is_naive(due_at):
            due_at = due_at.replace(tzinfo=UTC)
        result.append(_Row(pk, code, status, unit_id, assigned_to_id, due_at))
    return result


def _db(value: Any) -> Any:
    if isinstance(value, datetime):
        return connection.ops.adapt_datetimefield_value(value)
    return value


def _due_soon_horizon(now: datetime) -> datetime:
    """``now`` plus the due-soon allowance (default one working day) on the national calendar."""
    today = timezone.localdate(now)
    days = effective_calendar_days(unit=None, start=today, end=today + timedelta(days=60))
    calendar = WorkingCalendar(
        hours=OfficeHours(),
        days_off={d.date: d.name for d in days if d.kind != "working_day"},
        extra_working_days={d.date: d.name for d in days if d.kind == "working_day"},
    )
    return calendar.add_working_time(now, timedelta(hours=settings.DUE_SOON_WORKING_HOURS))


def _recipients(rows: list[_Row]) -> dict[int, set[tuple[int, str]]]:
    """For each dossier: (user id, e-mail) of its assigned officer and of the managers of its
    unit and the units above it."""
    from django.contrib.auth import get_user_model

    from portal.models import Unit

    units = {u.pk: u.path for u in Unit.objects.filter(pk__in={r.unit_id for r in rows})}
    managers = list(
        Membership.objects.filter(role=Role.MANAGER, user__is_active=True)
        .exclude(user__email="")
        .values_list("unit__path", "user_id", "user__email")
    )
    officers = dict(
        get_user_model()
        .objects.filter(pk__in={r.assigned_to_id for r in rows if r.assigned_to_id})
        .exclude(email="")
        .values_list("pk", "email")
    )
    above = {
        unit_id: {(uid, email) for path, uid, email in managers if unit_path.startswith(path)}
        for unit_id, unit_path in units.items()
    }
    result: dict[int, set[tuple[int, str]]] = {}
    for row in rows:
        people = above[row.unit_id]
        if row.assigned_to_id in officers:
            people = people | {(row.assigned_to_id, officers[row.assigned_to_id])}
        result[row.id] = people
    return result


_LISTED = 50  # dossiers named in one grouped warning; the overdue page has the rest


def _warn(rows: list[_Row], *, kind: str, now: datetime) -> int:
    """One e-mail per person per sweep: about the dossier when one is concerned, else a list.

    Each dossier is reported once (the sweep's row guards return it once). Grouping keeps a
    backlog — the first sweep after an import, or after the worker was down — from queueing
    a message per dossier and recipient (hundreds of thousands at province scale).
    """
    recipients = _recipients(rows)
    people: dict[tuple[int, str], list[_Row]] = {}
    for row in rows:
        for person in recipients[row.id]:
            people.setdefault(person, []).append(row)
    queued = 0
    with translation.override("vi"):
        for (user_id, email), mine in sorted(people.items()):
            subject, body, key = _warning_text(mine, kind=kind, now=now, user_id=user_id)
            message = enqueue_message(
                channel=MessageChannel.EMAIL,
                recipient=email,
                subject=subject,
                body=body,
                key=key,
                reference=mine[0].code if len(mine) == 1 else "",
            )
            queued += message is not None
    return queued


def _when(value: datetime) -> str:
    return formats.date_format(timezone.localtime(value), "H:i d/m/Y")


def _warning_text(
    rows: list[_Row], *, kind: str, now: datetime, user_id: int
) -> tuple[str, str, str]:
    if len(rows) == 1:
        row = rows[0]
        facts = {"code": row.code, "due": _when(row.due_at)}
        if kind == Action.OVERDUE:
            subject = _("Overdue: dossier %(code)s") % facts
            body = _("Dossier %(code)s passed its due time %(due)s and is now overdue.") % facts
        else:
            subject = _("Due soon: dossier %(code)s") % facts
            body = _("Dossier %(code)s is due at %(due)s: less than a working day is left.") % facts
        return subject, body, f"{kind}:{row.id}:{user_id}"
    count = {"count": len(rows)}
    if kind == Action.OVERDUE:
        subject = _("%(count)d dossiers became overdue") % count
        intro = _("These dossiers passed their due time and are now overdue:")
    else:
        subject = _("%(count)d dossiers are due soon") % count
        intro = _("Less than a working day is left for these dossiers:")
    ordered = sorted(rows, key=lambda r: (r.due_at, r.code))
    lines = [intro, *(f"- {r.code} — {_when(r.due_at)}" for r in ordered[:_LISTED])]
    if len(rows) > _LISTED:
        lines.append(
            _("… and %(count)d more: see the list of overdue dossiers in the portal.")
            % {"count": len(rows) - _LISTED}
        )
    return subject, "\n".join(lines), f"{kind}:{now.isoformat()}:{user_id}:{ordered[0].id}"


def _record(rows: list[_Row], *, action: str, now: datetime) -> None:
    DossierEvent.objects.bulk_create(
        DossierEvent(
            dossier_id=row.id,
            at=now,
            action=action,
            from_status=row.status,
            to_status=row.status,
            data={"due_at": row.due_at.isoformat()},
        )
        for row in rows
    )


@transaction.atomic
def sweep_deadlines(*, now: datetime) -> SweepResult:
    """Mark overdue the open, running dossiers whose due moment has passed; warn once when less
    than a working day is left and once when a dossier becomes overdue."""
    _lock()
    result = SweepResult(at=now)
    overdue = _update_returning(
        "timeliness = %s, updated_at = %s",
        [Timeliness.OVERDUE, now],
        "due_at < %s AND timeliness <> %s",
        [now, Timeliness.OVERDUE],
    )
    _record(overdue, action=Action.OVERDUE, now=now)
    result.overdue = len(overdue)
    result.warnings += _warn(overdue, kind=Action.OVERDUE, now=now)

    due_soon = _update_returning(
        "due_soon_warned_at = %s",
        [now],
        "due_soon_warned_at IS NULL AND due_at >= %s AND due_at <= %s",
        [now, _due_soon_horizon(now)],
    )
    _record(due_soon, action=Action.DUE_SOON, now=now)
    result.due_soon = len(due_soon)
    result.warnings += _warn(due_soon, kind=Action.DUE_SOON, now=now)

    record_heartbeat(
        name="sweep",
        at=now,
        detail=f"overdue={result.overdue} due_soon={result.due_soon} warnings={result.warnings}",
    )
    return result
