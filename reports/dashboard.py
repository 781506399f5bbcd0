"""The manager's dashboard (/dashboard/): the figures of a unit's subtree for one period as
tiles, a twelve-period trend by channel, the timeliness of the period, a comparison of the units
below and the busiest and most overdue procedures. Every number leads to the dossiers behind it
(the worklist's drill-down: ``cell``, ``period``, ``basis`` and ``within``/``unit``/``procedure``).

The view authorises, validates the unit and period, calls one selector and dresses its result
for the page (links, formatted rates, SVG charts).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET

from portal.choices import Role
from portal.context_processors import request_roles
from portal.models import Unit

from . import charts
from .cells import CELL_LABELS
from .dashboard_selectors import (
    Dashboard,
    ProcedureCounts,
    busiest,
    manager_dashboard,
    most_overdue,
)
from .periods import (
    CALENDAR,
    CUSTOM,
    MONTHLY,
    OFFICIAL,
    Period,
    PeriodError,
    month_period,
    period_from_key,
    trailing_periods,
)
from .selectors import Counts, ReportRow, report_units

TREND_LENGTH = 12
PERIOD_CHOICES = 24  # months offered in the period picker

BASIS_CHOICES = [
    (OFFICIAL, gettext_lazy("Statutory (15th to 14th)")),
    (CALENDAR, gettext_lazy("Calendar months")),
]


class PeriodForm(forms.Form):
    """The period of a dashboard or of the public results: a key (``2026-10``, ``2026-Q3``…)
    on a basis; the month that contains today when none is given."""

    period = forms.CharField(label=gettext_lazy("Period"), required=False, max_length=32)
    basis = forms.ChoiceField(
        label=gettext_lazy("Period basis"), required=False, choices=BASIS_CHOICES
    )

    def __init__(self, *args: Any, today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        basis = cleaned.get("basis") or OFFICIAL
        cleaned["basis"] = basis
        key = (cleaned.get("period") or "").strip()
        try:
            cleaned["report_period"] = (
                period_from_key(key, basis=basis, today=self.today)
                if key
                else month_period(self.today, basis=basis)
            )
        except PeriodError as error:
            self.add_error("period", str(error))
        return cleaned


def period_options(current: Period, selected: Period | None) -> list[tuple[str, str]]:
    """The months a picker offers, newest first, and the selected period if it is not one."""
    periods = trailing_periods(current, PERIOD_CHOICES)[::-1]
    options = [(p.key, p.label()) for p in periods]
    if selected is not None and selected.key not in {key for key, _label in options}:
        options.insert(0, (selected.key, selected.label()))
    return options


def short_label(period: Period) -> str:
    """A period as an axis label: ``10/2026`` for a month, ``2026-Q3`` for a quarter (its key),
    ``15/09–14/10`` for a range of days."""
    if period.kind == MONTHLY:
        return f"{period.key[5:7]}/{period.key[:4]}"
    if period.kind == CUSTOM:
        return f"{period.start:%d/%m}–{period.end:%d/%m}"
    return period.key


def drilldown_url(scope: dict[str, str], cell: str | None, period: Period, **extra: str) -> str:
    """The worklist of the dossiers behind one figure."""
    query = dict(scope)
    query.update(extra)
    if cell:
        query.update({"cell": cell, "period": period.key, "basis": period.basis})
    return f"{reverse('dossiers:worklist')}?{urlencode(query)}"


# --- Authorisation and input ----------------------------------------------------------------------


def _forbidden(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "dossiers/forbidden.html", {"message": message}, status=403)


def _is_manager(request: HttpRequest) -> bool:
    return request.user.is_superuser or Role.MANAGER in request_roles(request)


def _top_unit(units: Sequence[Unit]) -> Unit:
    """The highest unit a manager manages (the first of the shallowest)."""
    return min(units, key=lambda u: (u.path.count("/"), u.path))


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """Bảng điều khiển: for managers (of the unit picked, or their top unit) and superusers."""
    if not _is_manager(request):
        return _forbidden(request, _("The dashboard is for managers."))
    units = list(report_units(request.user))
    if not units:
        return _forbidden(request, _("You do not manage any unit."))
    code = (request.GET.get("unit") or "").strip()
    unit = next((u for u in units if u.code == code), None) if code else _top_unit(units)
    if unit is None:
        return _forbidden(
            request,
            _("You may only see the dashboard of the units you manage (not “%(code)s”).")
            % {"code": code},
        )
    now = timezone.now()
    form = PeriodForm(request.GET, today=timezone.localdate(now))
    context = {"form": form, "unit": unit, "unit_options": unit_options(units)}
    if not form.is_valid():
        basis = form.cleaned_data.get("basis") or OFFICIAL
        current = month_period(timezone.localdate(now), basis=basis)
        context.update(period_options=period_options(current, None), basis=basis)
        return render(request, "reports/dashboard.html", context, status=400)
    period: Period = form.cleaned_data["report_period"]
    board = manager_dashboard(
        unit=unit,
        units=units,
        period=period,
        trend_periods=trailing_periods(period, TREND_LENGTH),
        now=now,
    )
    context.update(
        board=board,
        period=period,
        basis=period.basis,
        period_options=period_options(board.current, period),
        **dashboard_context(board),
    )
    return render(request, "reports/dashboard.html", context)


def tree_order(units: Sequence[Unit]) -> list[tuple[Unit, int]]:
    """``units`` in tree order, siblings by name, each with its depth below the highest one."""
    names = {u.pk: u.name for u in units}

    def key(unit: Unit) -> list[tuple[str, int]]:
        ids = [int(pk) for pk in unit.path.strip("/").split("/") if pk]
        return [(names.get(pk, ""), pk) for pk in ids]

    top = min((u.path.count("/") for u in units), default=0)
    return [(u, u.path.count("/") - top) for u in sorted(units, key=key)]


def unit_options(units: Sequence[Unit]) -> list[tuple[str, str]]:
    """The units of a picker in tree order, indented by depth."""
    return [(u.code, "\u2003" * depth + u.name) for u, depth in tree_order(units)]


# --- What the page shows --------------------------------------------------------------------------


@dataclass(frozen=True)
class Tile:
    key: str
    label: str
    value: str
    href: str | None = None
    note: str = ""
    note_href: str | None = None
    alert: bool = False


def dashboard_context(board: Dashboard) -> dict:
    """Tiles, charts and tables of the dashboard page, with their links."""
    scope = {"within": board.unit.code}
    return {
        "tiles": tiles(board, scope),
        "trend_chart": trend_chart(board, scope),
        "trend_rows": [
            {
                "label": point.period.label(),
                "received_online": point.received_online,
                "received_in_person": point.received_in_person,
                "received_postal": point.received_postal,
                "received": point.received,
                "resolved": point.resolved,
                "href": drilldown_url(scope, "received_in_period", point.period),
            }
            for point in board.trend
        ],
        "timeliness_charts": timeliness_charts(board.report.total, board.period, scope),
        "unit_rows": unit_rows(board),
        "unit_chart": unit_chart(board),
        "busiest": procedure_rows(busiest(board.procedures), board, scope),
        "most_overdue": procedure_rows(most_overdue(board.procedures), board, scope),
    }


def tiles(board: Dashboard, scope: dict[str, str]) -> list[Tile]:
    total, period = board.report.total, board.period
    rates = total.indicators()

    def link(cell: str, of: Period = period) -> str:
        return drilldown_url(scope, cell, of)

    return [
        Tile(
            "received",
            _("Received in the period"),
            charts.format_count(total.received_in_period),
            link("received_in_period"),
            _("%(count)s carried over") % {"count": charts.format_count(total.carried_over)},
            link("carried_over"),
        ),
        Tile(
            "resolved",
            _("Resolved"),
            charts.format_count(total.resolved),
            link("resolved"),
            _("%(count)s still pending") % {"count": charts.format_count(total.pending)},
            link("pending"),
        ),
        Tile(
            "on_time",
            _("On-time rate"),
            charts.format_rate(rates["on_time_rate"]),
            link("resolved"),
            _("%(count)s resolved late") % {"count": charts.format_count(total.resolved_late)},
            link("resolved_late"),
            alert=bool(total.resolved_late),
        ),
        Tile(
            "overdue_now",
            _("Overdue now"),
            charts.format_count(board.overdue_now),
            drilldown_url(scope, "pending_overdue", board.current),
            _("open dossiers past their due date"),
            alert=bool(board.overdue_now),
        ),
        Tile(
            "online",
            _("Online rate"),
            charts.format_rate(rates["online_rate"]),
            link("received_online"),
            _("%(online)s of %(eligible)s for procedures offered online")
            % {
                "online": charts.format_count(total.received_online),
                "eligible": charts.format_count(total.online_eligible),
            },
            link("online_eligible"),
        ),
        Tile(
            "digitized",
            _("Digitized at intake"),
            charts.format_rate(rates["digitized_intake_rate"]),
            link("digitized_intake"),
            _("result digitized: %(rate)s")
            % {"rate": charts.format_rate(rates["digitized_result_rate"])},
            link("digitized_result"),
        ),
        Tile(
            "satisfaction",
            _("Satisfaction"),
            charts.format_rate(rates["satisfaction_rate"]),
            None,
            ngettext("%(count)s rating", "%(count)s ratings", total.ratings)
            % {"count": charts.format_count(total.ratings)},
        ),
    ]


def trend_chart(board: Dashboard, scope: dict[str, str]) -> SafeString:
    points = board.trend
    received = _("Received")

    def series(cell: str, color: str, group: str, name: str | None = None) -> charts.Series:
        return charts.Series(
            name=name or str(CELL_LABELS[cell]),
            values=[getattr(point, cell) for point in points],
            color=color,
            group=group,
            links=[drilldown_url(scope, cell, point.period) for point in points],
        )

    return charts.bar_chart(
        [short_label(point.period) for point in points],
        [
            series("received_online", charts.BLUE, received),
            series("received_in_person", charts.GOLD, received),
            series("received_postal", charts.SLATE, received),
            series("resolved", charts.GREEN, "resolved", name=_("Resolved")),
        ],
        title=_("Dossiers received by channel and resolved, last %(count)s periods")
        % {"count": len(points)},
        description=_(
            "For each period from %(first)s to %(last)s: a bar of the dossiers received, "
            "split into online, in person and by post, and beside it a bar of those resolved."
        )
        % {"first": points[0].period.label(), "last": points[-1].period.label()},
        chart_id="trend-chart",
    )


def timeliness_charts(total: Counts, period: Period, scope: dict[str, str]) -> list[SafeString]:
    def piece(cell: str, value: int, color: str) -> charts.Slice:
        return charts.Slice(
            str(CELL_LABELS[cell]), value, color, drilldown_url(scope, cell, period)
        )

    return [
        charts.donut(
            [
                piece("resolved_early", total.resolved_early, charts.GREEN),
                piece("resolved_on_time", total.resolved_on_time, charts.LIGHT_GREEN),
                piece("resolved_late", total.resolved_late, charts.RED),
            ],
            title=_("Resolved in %(period)s by timeliness") % {"period": period.label()},
            description=_("Early %(early)s, on time %(on_time)s, late %(late)s.")
            % {
                "early": charts.format_count(total.resolved_early),
                "on_time": charts.format_count(total.resolved_on_time),
                "late": charts.format_count(total.resolved_late),
            },
            chart_id="resolved-chart",
            center_label=_("resolved"),
        ),
        charts.donut(
            [
                piece("pending_in_time", total.pending_in_time, charts.BLUE),
                piece("pending_overdue", total.pending_overdue, charts.RED),
            ],
            title=_("Pending at the end of %(period)s") % {"period": period.label()},
            description=_("Not yet due %(in_time)s, overdue %(overdue)s.")
            % {
                "in_time": charts.format_count(total.pending_in_time),
                "overdue": charts.format_count(total.pending_overdue),
            },
            chart_id="pending-chart",
            center_label=_("pending"),
        ),
    ]


def rate_sort(rate: float | None) -> str:
    """A rate as a sortable cell value: none sorts below zero."""
    return "-1" if rate is None else f"{rate:.6f}"


def unit_rows(board: Dashboard) -> list[dict]:
    """The report's rows by unit (the unit's own dossiers, then each unit below), with the
    numbers a manager compares and where each leads."""
    rows = [*board.report.rows]
    if board.report.commune_subtotal is not None and len(rows) > 1:
        return [_unit_row(row, board) for row in rows]
    return []


def _unit_row(row: ReportRow, board: Dashboard) -> dict:
    counts, period = row.counts, board.period
    rates = counts.indicators()
    overdue = board.overdue_now_by_row.get(row.key, 0)
    return {
        "label": row.label,
        "href": drilldown_url(row.filters, None, period),
        "received": counts.received_in_period,
        "received_href": drilldown_url(row.filters, "received_in_period", period),
        "resolved": counts.resolved,
        "resolved_href": drilldown_url(row.filters, "resolved", period),
        "on_time_rate": charts.format_rate(rates["on_time_rate"]),
        "on_time_sort": rate_sort(rates["on_time_rate"]),
        "overdue_now": overdue,
        "overdue_href": drilldown_url(row.filters, "pending_overdue", board.current),
        "online_rate": charts.format_rate(rates["online_rate"]),
        "online_sort": rate_sort(rates["online_rate"]),
        "satisfaction": charts.format_rate(rates["satisfaction_rate"]),
        "satisfaction_sort": rate_sort(rates["satisfaction_rate"]),
        "ratings": counts.ratings,
    }


def unit_chart(board: Dashboard) -> SafeString | None:
    rows = [row for row in board.report.rows if row.counts.received_in_period]
    if board.report.commune_subtotal is None or len(board.report.rows) < 2 or not rows:
        return None
    rows.sort(key=lambda row: -row.counts.received_in_period)
    period = board.period

    def series(cell: str, color: str) -> charts.Series:
        return charts.Series(
            name=str(CELL_LABELS[cell]),
            values=[getattr(row.counts, cell) for row in rows],
            color=color,
            links=[drilldown_url(row.filters, cell, period) for row in rows],
        )

    return charts.hbar_chart(
        [row.label for row in rows],
        [
            series("received_online", charts.BLUE),
            series("received_in_person", charts.GOLD),
            series("received_postal", charts.SLATE),
        ],
        title=_("Received in %(period)s per unit") % {"period": period.label()},
        description=_(
            "One bar per unit, the most dossiers first, split into online, in person and by post."
        ),
        chart_id="unit-chart",
    )


def procedure_rows(
    rows: Sequence[ProcedureCounts], board: Dashboard, scope: dict[str, str]
) -> list[dict]:
    period = board.period

    def link(row: ProcedureCounts, cell: str) -> str:
        return drilldown_url(scope, cell, period, procedure=row.code)

    return [
        {
            "code": row.code,
            "name": row.name,
            "received": row.received,
            "received_href": link(row, "received_in_period"),
            "resolved": row.resolved,
            "resolved_href": link(row, "resolved"),
            "resolved_late": row.resolved_late,
            "resolved_late_href": link(row, "resolved_late"),
            "pending_overdue": row.pending_overdue,
            "pending_overdue_href": link(row, "pending_overdue"),
            "overdue": row.overdue,
        }
        for row in rows
    ]
