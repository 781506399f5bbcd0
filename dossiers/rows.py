"""The rows of the worklist and the overdue list, written in Python.

Django's template engine spent about half a worklist page's CPU on its 25 rows (twenty-odd
variables, filters and conditions each, every one resolved, escaped and localised on its own),
more than the page's queries took in PostgreSQL; the overdue list shows a hundred rows and more.
These functions write the same markup the templates wrote (``dossiers/tests/test_rows.py``
renders both and compares), escaping every value as the templates did. The rest of each page
stays a template.
"""

import html
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta, tzinfo

from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from portal.links import page_url_maker

from .models import Dossier
from .selectors import OverdueDossier
from .templatetags.dossier_tags import (
    channel_label,
    code_breaks,
    due_soon,
    status_label,
    timeliness_label,
    working_time_left,
)


def e(value: object) -> str:
    """``conditional_escape`` without its lazy-string wrapper: safe strings as they are,
    anything else through ``html.escape`` as Django's ``escape`` does."""
    if hasattr(value, "__html__"):
        return value.__html__()
    return html.escape(str(value))


def _local(value: datetime, zone: tzinfo) -> datetime:
    return value.astimezone(zone) if value.utcoffset() is not None else value


def _moment(value: datetime, zone: tzinfo) -> str:
    """``<span class="nowrap">dd/mm/yyyy</span> hh:mm`` in the current time zone."""
    value = _local(value, zone)
    return f'<span class="nowrap">{value:%d/%m/%Y}</span> {value:%H:%M}'


def _code_cell(dossier: Dossier, label: str, url_of: Callable[[str], str]) -> str:
    return (
        f'<th scope="row" data-label="{label}">'
        f'<a class="code" href="{e(url_of(dossier.code))}">{code_breaks(dossier.code)}</a></th>'
    )


def _procedure_cell(dossier: Dossier, label: str) -> str:
    procedure = dossier.procedure
    return (
        f'<td data-label="{label}"><span class="clamp">{e(procedure.name)}</span> '
        f'<span class="hint code">{e(procedure.code)}</span></td>'
    )


def worklist_rows(rows: Iterable[tuple[Dossier, timedelta | None]]) -> SafeString:
    """The worklist's ``<tr>`` rows: each dossier with its working time left (None: no clock)."""
    labels = {
        name: e(text)
        for name, text in (
            ("code", _("Dossier code")),
            ("applicant", _("Applicant")),
            ("procedure", _("Procedure")),
            ("unit", _("Unit")),
            ("received", _("Received")),
            ("due", _("Due")),
            ("left", _("Time left")),
            ("status", _("Status")),
        )
    }
    not_yet = f'<span class="hint">{e(_("not yet"))}</span>'
    soon_badge = f'<span class="badge badge-soon">{e(_("Due soon"))}</span>'
    paused_badge = f'<span class="badge badge-paused">{e(_("Clock paused"))}</span>'
    zone = timezone.get_current_timezone()
    url_of = page_url_maker("dossiers:detail")
    out = []
    for dossier, remaining in rows:
        soon = due_soon(remaining)
        overdue = dossier.current_timeliness == "overdue"
        row_class = "row-overdue" if overdue else "row-due-soon" if soon else ""
        received = _moment(dossier.received_at, zone) if dossier.received_at else not_yet
        due = _moment(dossier.due_at, zone) if dossier.due_at else "—"
        if remaining is not None:
            time_class = "time-overdue" if overdue else "time-soon" if soon else ""
            left = " ".join(
                [f'<span class="{time_class}">{e(working_time_left(remaining))}</span>']
                + ([soon_badge] if soon and not overdue else [])
                + ([paused_badge] if dossier.paused_at else [])
            )
        else:
            left = "—"
        timeliness = dossier.current_timeliness
        out.append(
            f'<tr class="{row_class}">'
            + _code_cell(dossier, labels["code"], url_of)
            + f'<td data-label="{labels["applicant"]}">{e(dossier.applicant_name)}<br>'
            f'<span class="hint">{e(dossier.applicant_phone)}</span></td>'
            + _procedure_cell(dossier, labels["procedure"])
            + f'<td data-label="{labels["unit"]}">{e(dossier.unit.name)}</td>'
            f'<td data-label="{labels["received"]}">{received}<br>'
            f'<span class="hint">{e(channel_label(dossier.channel))}</span></td>'
            f'<td data-label="{labels["due"]}">{due}</td>'
            f'<td data-label="{labels["left"]}">{left}</td>'
            f'<td data-label="{labels["status"]}">'
            f'<span class="badge status-{e(dossier.status)}">'
            f"{e(status_label(dossier.status))}</span>"
            + (
                f' <span class="badge timeliness-{e(timeliness)}">'
                f"{e(timeliness_label(timeliness))}</span>"
                if timeliness
                else ""
            )
            + "</td></tr>"
        )
    return mark_safe("\n".join(out))


def overdue_rows(rows: Iterable[OverdueDossier]) -> SafeString:
    """The overdue list's ``<tr>`` rows, most late first as given."""
    labels = {
        name: e(text)
        for name, text in (
            ("code", _("Dossier code")),
            ("procedure", _("Procedure")),
            ("unit", _("Unit")),
            ("held", _("Held by")),
            ("received", _("Received")),
            ("due", _("Due")),
            ("late", _("Working days late")),
            ("apology", _("Apology slip")),
        )
    }
    not_assigned = f'<span class="hint">{e(_("not assigned"))}</span>'
    paused_badge = f' <span class="badge badge-paused">{e(_("Clock paused"))}</span>'
    issued = f'<span class="badge">{e(_("Issued"))}</span>'
    late_days: dict[int, str] = {}
    not_issued = f'<span class="hint">{e(_("Not issued"))}</span>'
    zone = timezone.get_current_timezone()
    url_of = page_url_maker("dossiers:detail")
    out = []
    for row in rows:
        dossier = row.dossier
        holder = dossier.assigned_to
        held = e(holder.get_full_name() or holder.username) if holder else not_assigned
        received = _moment(dossier.received_at, zone) if dossier.received_at else "—"
        # As {% blocktranslate %} does: the message as translated, only its values escaped.
        days = late_days.get(row.days_late)
        if days is None:
            days = late_days[row.days_late] = ngettext(
                "%(counter)s day", "%(counter)s days", row.days_late
            ) % {"counter": row.days_late}
        if dossier.apologized_at:
            promised = (
                f"{_local(dossier.promised_at, zone):%d/%m/%Y}" if dossier.promised_at else ""
            )
            apology = (
                f'{issued} <span class="hint">'
                f"{_('new date %(date)s') % {'date': e(promised)}}</span>"
            )
        else:
            apology = not_issued
        out.append(
            '<tr class="row-overdue">'
            + _code_cell(dossier, labels["code"], url_of)
            + _procedure_cell(dossier, labels["procedure"])
            + f'<td data-label="{labels["unit"]}">{e(dossier.unit.name)}</td>'
            f'<td data-label="{labels["held"]}">{held}</td>'
            f'<td data-label="{labels["received"]}">{received}</td>'
            f'<td data-label="{labels["due"]}">{_moment(dossier.due_at, zone)}</td>'
            f'<td data-label="{labels["late"]}" class="days-late">'
            f'<span class="time-overdue">{days}</span>'
            + (paused_badge if dossier.paused_at else "")
            + "</td>"
            f'<td data-label="{labels["apology"]}">{apology}</td></tr>'
        )
    return mark_safe("\n".join(out))
