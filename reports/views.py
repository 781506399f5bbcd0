"""The monthly report (Biểu số II.06a/VPCP/KSTT) for managers: on screen with every number
linked to the dossiers behind it, as the printed form, and as XLSX or CSV.

Each view authorises (managers and superusers), cleans the question with ``ReportForm``, calls
``monthly_statistics`` and renders. A unit outside the manager's subtrees is refused with 403
and says so.
"""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET

from portal.choices import Role
from portal.context_processors import request_roles
from portal.models import Unit

from .cells import CELL_LABELS
from .exports import (
    CSV_CONTENT_TYPE,
    FORM_COLUMNS,
    FORM_NUMBER,
    SPLIT_COLUMNS,
    SUBTOTAL,
    TOTAL,
    WITHDRAWN_NUMBER,
    XLSX_CONTENT_TYPE,
    form_title,
    indicator_lines,
    measure,
    period_dates,
    period_name,
    place_and_date,
    receiving_unit,
    report_csv,
    report_filename,
    report_lines,
    report_workbook,
    row_heading,
    signature_roles,
)
from .forms import ReportForm, default_period
from .periods import BASES, OFFICIAL, Period
from .selectors import GROUP_BY_UNIT, Report, monthly_statistics, report_units

EXPORT_FORMATS = ("xlsx", "csv")
# The query parameters the pages read (those of ReportForm).
QUERY_FIELDS = ("unit", "period", "key", "basis", "group_by", "from", "to")


def _forbidden(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "dossiers/forbidden.html", {"message": message}, status=403)


def _may_read_reports(request: HttpRequest) -> bool:
    return request.user.is_superuser or Role.MANAGER in request_roles(request)


# --- Links and words --------------------------------------------------------------------------


def drilldown_url(report: Report, filters: dict[str, str], cell: str) -> str:
    """The staff dossier list showing exactly the dossiers behind one number of the report."""
    query = {
        **filters,
        "cell": cell,
        "period": report.period.key,
        "basis": report.period.basis,
    }
    return f"{reverse('dossiers:worklist')}?{urlencode(query)}"


def report_query(report: Report, **extra: str) -> str:
    """The query string that asks for this very report (for the print view and downloads)."""
    query = {
        "unit": report.unit.code,
        "period": report.period.key,
        "basis": report.period.basis,
        "group_by": report.group_by,
        **extra,
    }
    return urlencode(query)


def _n(value: int) -> str:
    return number_format(value, force_grouping=True)


def report_summary(report: Report) -> list[str]:
    """The report in words, as a district writes it in its press release."""
    t = report.total
    sentences = [
        ngettext(
            "In the period, %(received)s dossier was received (%(online)s online, "
            "%(in_person)s in person, %(postal)s by public postal service, %(carried_over)s "
            "carried over from the previous period); %(resolved)s were resolved (%(early)s "
            "early, %(on_time)s on time, %(late)s late); %(pending)s are being processed, "
            "%(overdue)s of them overdue.",
            "In the period, %(received)s dossiers were received (%(online)s online, "
            "%(in_person)s in person, %(postal)s by public postal service, %(carried_over)s "
            "carried over from the previous period); %(resolved)s were resolved (%(early)s "
            "early, %(on_time)s on time, %(late)s late); %(pending)s are being processed, "
            "%(overdue)s of them overdue.",
            t.received,
        )
        % {
            "received": _n(t.received),
            "online": _n(t.received_online),
            "in_person": _n(t.received_in_person),
            "postal": _n(t.received_postal),
            "carried_over": _n(t.carried_over),
            "resolved": _n(t.resolved),
            "early": _n(t.resolved_early),
            "on_time": _n(t.resolved_on_time),
            "late": _n(t.resolved_late),
            "pending": _n(t.pending),
            "overdue": _n(t.pending_overdue),
        }
    ]
    if t.withdrawn:
        sentences.append(
            _("%(withdrawn)s were withdrawn or stopped.") % {"withdrawn": _n(t.withdrawn)}
        )
    below = report.commune_subtotal
    if report.group_by == GROUP_BY_UNIT and below is not None and len(report.rows) > 1:
        level = report.subtotal_label
        sentences.append(
            _("At %(level)s: %(early)s resolved early, %(on_time)s on time, %(late)s late.")
            % {
                "level": level[:1].lower() + level[1:],
                "early": _n(below.resolved_early),
                "on_time": _n(below.resolved_on_time),
                "late": _n(below.resolved_late),
            }
        )
    return sentences


def _figure_label(measure_name: str) -> str:
    extra = {"ratings": _("Ratings"), "satisfied": _("Satisfied or very satisfied ratings")}
    return str(CELL_LABELS.get(measure_name) or extra.get(measure_name, measure_name))


# --- The table ----------------------------------------------------------------------------------


def report_table(report: Report, *, split: bool, links: bool) -> dict:
    """What ``reports/_table.html`` draws: the headings' words and one row per line, each cell
    with its number and, on screen, the link to its dossiers."""
    columns = SPLIT_COLUMNS if split else FORM_COLUMNS
    rows = []
    for line in report_lines(report):
        cells = []
        for name, cell in columns:
            url = ""
            if links and cell is not None and line.filters is not None:
                url = drilldown_url(report, line.filters, cell)
            cells.append(
                {"value": measure(line.counts, name), "url": url, "title": _figure_label(name)}
            )
        rows.append(
            {
                "number": line.number,
                "label": line.label,
                "kind": line.kind,
                "strong": line.kind in (SUBTOTAL, TOTAL),
                "cells": cells,
                "balanced": line.counts.balanced,
            }
        )
    return {
        "split": split,
        "row_heading": row_heading(report),
        "numbers": [f"({n})" for n in range(1, 5)],
        "numbers_after": [f"({n})" for n in range(6, 14)],
        "withdrawn_number": WITHDRAWN_NUMBER,
        "rows": rows,
    }


def _indicators(report: Report) -> list[dict]:
    return [
        {
            "label": label,
            "percent": None if rate is None else rate * 100,
            "part": part,
            "whole": whole,
        }
        for label, rate, part, whole in indicator_lines(report)
    ]


def _corrections(report: Report) -> list[dict]:
    return [
        {
            "row": correction.row,
            "figure": _figure_label(correction.measure),
            "frozen": correction.frozen,
            "live": correction.live,
        }
        for correction in report.corrections
    ]


# --- Views ------------------------------------------------------------------------------------


def _report_form(request: HttpRequest, units: list[Unit]) -> ReportForm:
    """The form bound to the query, with the defaults a manager expects: their top unit and
    the latest statutory month that has ended."""
    today = timezone.localdate()
    data = {name: request.GET.get(name, "") for name in QUERY_FIELDS}
    if not data["unit"] and units:
        data["unit"] = units[0].code
    if not any(data[name] for name in ("period", "key", "from", "to")):
        basis = data["basis"] if data["basis"] in BASES else OFFICIAL
        data["period"] = default_period(today=today, basis=basis).key
    form = ReportForm(data, units=report_units(request.user), today=today)
    form.set_choices(units)
    return form


def _answer(request: HttpRequest) -> tuple[ReportForm | None, Report | None, HttpResponse | None]:
    """Authorise and clean; the report, or the response that refuses or shows the errors."""
    if not _may_read_reports(request):
        return None, None, _forbidden(request, _("The monthly report is for managers."))
    units = list(report_units(request.user))
    form = _report_form(request, units)
    if not form.is_valid():
        status = 403 if form.outside_unit() else 400
        return form, None, render(request, "reports/monthly.html", {"form": form}, status=status)
    unit, period, group_by = form.report_args()
    check = request.GET.get("corrections") == "1" or recently_closed(period)
    report = monthly_statistics(unit=unit, period=period, group_by=group_by, corrections=check)
    return form, report, None


def recently_closed(period: Period, today: date | None = None) -> bool:
    """Whether a closed period is recent enough to recount live on every view, to list its
    corrections (REPORT_LIVE_CORRECTIONS_MONTHS). Older ones show their frozen figures at once
    (a snapshot read: milliseconds) and recount when asked: a recount of a month a year back
    reads a district's year of dossiers (600–700 ms at ten million, docs/benchmarks.md)."""
    today = today or timezone.localdate()
    months = settings.REPORT_LIVE_CORRECTIONS_MONTHS
    return (today.year - period.end.year) * 12 + today.month - period.end.month <= months


def _sheet_context(report: Report, *, split: bool, links: bool) -> dict:
    return {
        "report": report,
        "table": report_table(report, split=split, links=links),
        "indicators": _indicators(report),
        "form_number": FORM_NUMBER,
        "form_title": form_title(),
        "period_name": period_name(report),
        "period_dates": period_dates(report),
        "receiving_unit": receiving_unit(report),
    }


def _page(
    request: HttpRequest,
    form: ReportForm | None,
    report: Report,
    *,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "reports/monthly.html",
        {
            "form": form,
            **_sheet_context(report, split=True, links=True),
            "summary": report_summary(report),
            "corrections": _corrections(report),
            "print_query": report_query(report),
            "xlsx_query": report_query(report, format="xlsx"),
            "csv_query": report_query(report, format="csv"),
            "list_url": f"{reverse('dossiers:worklist')}?{urlencode({'within': report.unit.code})}",
            "error": error,
            "running": report.period.end >= timezone.localdate(),
            "check_query": report_query(report, corrections="1"),
        },
        status=status,
    )


@login_required
@require_GET
def monthly_report(request: HttpRequest) -> HttpResponse:
    """Biểu số II.06a for a unit's subtree and a period, with its indicators, its summary in
    words, the closing state, and links to print and download it."""
    form, report, refusal = _answer(request)
    if refusal is not None:
        return refusal
    assert report is not None
    return _page(request, form, report)


@login_required
@require_GET
def monthly_report_print(request: HttpRequest) -> HttpResponse:
    """The report as the official form on an A4 landscape sheet, without the site's chrome."""
    _form, report, refusal = _answer(request)
    if refusal is not None:
        return refusal
    assert report is not None
    roles = signature_roles()
    return render(
        request,
        "reports/print.html",
        {
            **_sheet_context(report, split=False, links=False),
            "back_url": f"{reverse('reports:monthly')}?{report_query(report)}",
            "place_date": place_and_date(report, timezone.localdate()),
            "signatures": [{"role": role, "how": how} for role, how in roles],
        },
    )


@login_required
@require_GET
def monthly_report_export(request: HttpRequest) -> HttpResponse:
    """``format=xlsx`` (the official layout) or ``format=csv`` (one header row) as a download."""
    form, report, refusal = _answer(request)
    if refusal is not None:
        return refusal
    assert report is not None
    wanted = request.GET.get("format") or "xlsx"
    if wanted not in EXPORT_FORMATS:
        error = _("The report downloads as xlsx or csv, not “%(format)s”.") % {"format": wanted}
        return _page(request, form, report, error=error, status=400)
    return export_response(report, wanted)


def export_response(report: Report, wanted: str) -> HttpResponse:
    """The report as an XLSX or CSV attachment (shared with the API)."""
    if wanted == "xlsx":
        response = HttpResponse(report_workbook(report), content_type=XLSX_CONTENT_TYPE)
    else:
        response = HttpResponse(report_csv(report), content_type=CSV_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{report_filename(report, wanted)}"'
    return response
