"""The monthly report's question: which unit, which period, on which basis, grouped how.

One form for the page, the downloads, the API and the command: each cleans the same input into
``(unit, Period, group_by)`` with the same translated messages.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal.models import Unit
from portal.text import search_key

from .periods import (
    BASES,
    CALENDAR,
    OFFICIAL,
    Period,
    PeriodError,
    custom_period,
    month_period,
    parse_period,
    period_from_key,
)
from .selectors import GROUP_BY_FIELD, GROUP_BY_UNIT, GROUPINGS

# Error codes the views turn into HTTP statuses: a unit outside the user's subtrees is 403.
OUTSIDE = "outside"
# How many recent periods of each kind the page offers in its list.
RECENT = {"month": 13, "quarter": 5, "half": 3, "year": 3}


def recent_periods(*, today: date, basis: str = OFFICIAL) -> list[tuple[str, list[Period]]]:
    """The periods the page offers, newest first, by kind: the running month and those before
    it, then the quarters, half-years and years that have started."""
    month = month_period(today, basis=basis)
    months = [month]
    while len(months) < RECENT["month"]:
        months.append(months[-1].previous())
    groups: list[tuple[str, list[Period]]] = [(_("Months"), months)]
    year = month.key[:4]
    for kind, label, keys in (
        ("quarter", _("Quarters"), [f"{year}-Q{n}" for n in (4, 3, 2, 1)]),
        ("half", _("Half-years"), [f"{year}-H2", f"{year}-H1"]),
        ("year", _("Years"), [year]),
    ):
        periods = []
        for key in keys:
            try:
                periods.append(parse_period(key, basis=basis, today=today))
            except PeriodError:  # has not started yet
                continue
        while periods and len(periods) < RECENT[kind]:
            periods.append(periods[-1].previous())
        groups.append((label, periods))
    return groups


def default_period(*, today: date, basis: str = OFFICIAL) -> Period:
    """The latest period that has ended: the month a report is due for."""
    return month_period(today, basis=basis).previous()


def tree_order(units: list[Unit]) -> list[tuple[Unit, int]]:
    """Each unit after its parent, brothers in alphabetical order, with its depth."""
    ids = {unit.pk for unit in units}
    children: dict[int | None, list[Unit]] = defaultdict(list)
    for unit in units:
        children[unit.parent_id if unit.parent_id in ids else None].append(unit)
    ordered: list[tuple[Unit, int]] = []

    def walk(parent: int | None, depth: int) -> None:
        for unit in sorted(children[parent], key=lambda u: search_key(u.name)):
            ordered.append((unit, depth))
            walk(unit.pk, depth + 1)

    walk(None, 0)
    return ordered


class ReportForm(forms.Form):
    """Cleans into ``cleaned_data["unit"]`` (a Unit), ``["report_period"]`` (a Period) and
    ``["group_by"]``. ``units`` are the units the user may report on; ``today`` judges whether
    a period has started."""

    unit = forms.CharField(
        label=gettext_lazy("Unit"),
        widget=forms.Select,
        error_messages={"required": gettext_lazy("Choose the unit of the report.")},
    )
    period = forms.CharField(
        label=gettext_lazy("Period"),
        required=False,
        widget=forms.Select,
        help_text=gettext_lazy("A statutory month runs from the 15th to the 14th."),
    )
    key = forms.CharField(
        label=gettext_lazy("Or type a period"),
        required=False,
        max_length=32,
        help_text=gettext_lazy("2022-10, 2022-Q3, 2022-H1 or 2022"),
        widget=forms.TextInput(attrs={"placeholder": "2022-Q3", "size": 10}),
    )
    basis = forms.CharField(
        label=gettext_lazy("Basis"),
        required=False,
        widget=forms.Select(
            choices=[
                (OFFICIAL, gettext_lazy("Statutory (15th to 14th)")),
                (CALENDAR, gettext_lazy("Calendar months")),
            ]
        ),
    )
    group_by = forms.CharField(
        label=gettext_lazy("Rows"),
        required=False,
        widget=forms.Select(
            choices=[
                (GROUP_BY_UNIT, gettext_lazy("By unit")),
                (GROUP_BY_FIELD, gettext_lazy("By field")),
            ]
        ),
    )

    def __init__(self, *args: Any, units: QuerySet[Unit], today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.units = units
        self.today = today
        # "from" is a keyword: the two range fields are added here, under their URL names.
        self.fields["from"] = forms.DateField(
            label=gettext_lazy("From (any range)"),
            required=False,
            widget=forms.DateInput(attrs={"placeholder": "dd/mm/yyyy", "size": 10}),
        )
        self.fields["to"] = forms.DateField(
            label=gettext_lazy("To"),
            required=False,
            widget=forms.DateInput(attrs={"placeholder": "dd/mm/yyyy", "size": 10}),
        )

    # The lists to choose from ------------------------------------------------------------------

    def set_choices(self, unit_list: list[Unit]) -> None:
        """Fill the unit and period lists of the page (the API and the command need neither)."""
        self.fields["unit"].widget.choices = [
            (unit.code, "\u2003" * depth + unit.name) for unit, depth in tree_order(unit_list)
        ]
        basis = str(self.data.get("basis") or "")
        basis = basis if basis in BASES else OFFICIAL
        groups = recent_periods(today=self.today, basis=basis)
        offered = {p.key for _label, periods in groups for p in periods}
        current = (self.data.get("period") or "").strip()
        choices: list = [
            (label, [(p.key, p.label()) for p in periods]) for label, periods in groups
        ]
        if current and current not in offered:
            choices.insert(0, (current, current))
        self.fields["period"].widget.choices = choices

    # Cleaning ------------------------------------------------------------------------------------

    def clean_unit(self) -> Unit:
        code = self.cleaned_data["unit"].strip()
        unit = self.units.filter(code=code).select_related("parent").first()
        if unit is not None:
            return unit
        if Unit.objects.filter(code=code).exists():
            raise forms.ValidationError(
                _(
                    "The unit %(code)s is outside the units you manage: a report covers a unit "
                    "you manage or a unit below it."
                )
                % {"code": code},
                code=OUTSIDE,
            )
        raise forms.ValidationError(_("No unit has the code %(code)s.") % {"code": code})

    def clean_basis(self) -> str:
        basis = self.cleaned_data["basis"].strip() or OFFICIAL
        if basis not in BASES:
            raise forms.ValidationError(
                _("Unknown basis “%(basis)s”: use official (15th to 14th) or calendar.")
                % {"basis": basis}
            )
        return basis

    def clean_group_by(self) -> str:
        group_by = self.cleaned_data["group_by"].strip() or GROUP_BY_UNIT
        if group_by not in GROUPINGS:
            raise forms.ValidationError(
                _("Unknown grouping “%(group_by)s”: use field or unit.") % {"group_by": group_by}
            )
        return group_by

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if any(name in self.errors for name in ("from", "to", "basis")):
            return cleaned
        start, end = cleaned.get("from"), cleaned.get("to")
        if start or end:  # a range of days wins over a named period
            if start is None:
                self.add_error("from", _("Give the first day of the range."))
                return cleaned
            try:
                # Without an end: up to today (a range that starts later is refused as such).
                end_day = end or max(start, self.today)
                cleaned["report_period"] = custom_period(start, end_day, today=self.today)
            except PeriodError as error:
                self.add_error("to" if end and end < start else "from", str(error))
            return cleaned
        typed, chosen = (cleaned.get(name, "").strip() for name in ("key", "period"))
        if not (typed or chosen):
            self.add_error(
                "period", _("Choose a period, or give the first and last day of a range.")
            )
            return cleaned
        try:
            cleaned["report_period"] = period_from_key(
                typed or chosen, basis=cleaned.get("basis") or OFFICIAL, today=self.today
            )
        except PeriodError as error:
            self.add_error("key" if typed else "period", str(error))
        return cleaned

    def outside_unit(self) -> bool:
        """The only thing wrong is a unit outside the user's subtrees (403, not 400)."""
        return self.has_error("unit", OUTSIDE)

    def report_args(self) -> tuple[Unit, Period, str]:
        data = self.cleaned_data
        return data["unit"], data["report_period"], data["group_by"]
