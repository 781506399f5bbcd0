"""The public results page (/results/): công khai tiến độ, kết quả giải quyết hồ sơ.

Anyone may read, without logging in, how a unit and the units below it handled dossiers in a
statutory month: received by channel, resolved early, on time or late, pending, and how satisfied
applicants were. Only counts: never a name, a phone number, an id or a dossier's code. The page
depends on its address alone (unit and period), so a browser or a proxy may keep it a while.
Everything it reads comes from the reporting database (the read replica when there is one).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from portal.db import reporting_alias
from portal.models import Unit

from . import charts
from .dashboard import PeriodForm, period_options, rate_sort, tree_order, unit_options
from .periods import OFFICIAL, month_period
from .selectors import Counts, Report, monthly_statistics

# How long a browser or proxy may keep the page: the figures of an open month move slowly.
MAX_AGE = 300


@require_GET
@cache_control(max_age=MAX_AGE)
def results(request: HttpRequest) -> HttpResponse:
    """One unit's figures for one statutory month, or the index of units to choose from."""
    now = timezone.now()
    today = timezone.localdate(now)
    using = reporting_alias()
    units = list(Unit.objects.using(using).all())
    code = (request.GET.get("unit") or "").strip()
    # Statutory months only: the public reads the official figures.
    form = PeriodForm({"period": request.GET.get("period") or "", "basis": OFFICIAL}, today=today)
    current = month_period(today, basis=OFFICIAL)
    context: dict = {
        "form": form,
        "unit_options": unit_options(units),
        "index": tree_order(units),
        "period_options": period_options(current, None),
        "period": current,
    }
    unit = next((u for u in units if u.code == code), None) if code else None
    status = 200
    if code and unit is None:
        context["error"] = _("No unit has the code “%(code)s”. Choose one from the list.") % {
            "code": code
        }
        status = 404
    elif not form.is_valid():
        context["error"] = " ".join(str(message) for message in form.errors.get("period", []))
        status = 400
    else:
        period = form.cleaned_data["report_period"]
        context.update(period=period, period_options=period_options(current, period))
        if unit is not None:
            report = monthly_statistics(
                unit=unit, period=period, group_by="unit", now=now, corrections=False, using=using
            )
            context.update(unit=unit, report=report, **results_context(report))
    return render(request, "reports/results.html", context, status=status)


def results_context(report: Report) -> dict:
    """The figures of the page: the subtree's totals and one row per unit below."""
    total = report.total
    rates = total.indicators()
    rows = []
    if len(report.rows) > 1:
        for row in report.rows:
            rows.append(_row(row.label, row.key, row.counts, report))
    return {
        "total": total,
        "on_time_rate": charts.format_rate(rates["on_time_rate"]),
        "satisfaction_rate": charts.format_rate(rates["satisfaction_rate"]),
        "online_rate": charts.format_rate(rates["online_rate"]),
        "rows": rows,
    }


def _row(label: str, code: str, counts: Counts, report: Report) -> dict:
    rates = counts.indicators()
    query = urlencode({"unit": code, "period": report.period.key})
    return {
        "label": label,
        # The unit's own row stays on this page; a unit below opens its own.
        "href": None
        if code == report.unit.code
        else f"{reverse('reports:public-results')}?{query}",
        "counts": counts,
        "on_time_rate": charts.format_rate(rates["on_time_rate"]),
        "on_time_sort": rate_sort(rates["on_time_rate"]),
        "satisfaction_rate": charts.format_rate(rates["satisfaction_rate"]),
        "satisfaction_sort": rate_sort(rates["satisfaction_rate"]),
    }
