"""Report periods: which days a monthly, quarterly, half-yearly or yearly report covers.

Pure date arithmetic, no database. The official basis follows Decree 09/2019/NĐ-CP: a month's
report runs from the 15th of the previous month to the 14th of the month, and a quarter, a
half-year or a year follows the same cut-off (the year 2026 is 15/12/2025 – 14/12/2026). The
calendar basis uses calendar months.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _

OFFICIAL = "official"
CALENDAR = "calendar"
BASES = (OFFICIAL, CALENDAR)

MONTHLY, QUARTERLY, HALF_YEARLY, YEARLY, CUSTOM = "month", "quarter", "half", "year", "range"

# The statutory cut-off: a month's report closes on this day of the month.
CUTOFF_DAY = 14
# The earliest year a report may be asked for (the one-stop mechanism in its present form).
FIRST_YEAR = 2015

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-[Qq]([1-4])$")
_HALF = re.compile(r"^(\d{4})-[Hh]([12])$")
_YEAR = re.compile(r"^(\d{4})$")


class PeriodError(ValueError):
    """A period that is malformed, out of range or in the future; the message is translated."""


@dataclass(frozen=True)
class Period:
    """The days ``start``..``end`` (both included) of one report."""

    start: date
    end: date
    basis: str
    kind: str
    key: str

    def bounds(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """The period as [first moment, first moment after it) in ``tz``."""
        return (
            datetime.combine(self.start, time.min, tzinfo=tz),
            datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=tz),
        )

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """The period of the same kind just before this one (a range: the same number of days)."""
        if self.kind == CUSTOM:
            end = self.start - timedelta(days=1)
            return custom_period(end - timedelta(days=self.days - 1), end)
        step = {MONTHLY: 1, QUARTERLY: 3, HALF_YEARLY: 6, YEARLY: 12}[self.kind]
        year, month = _months_back(_key_year_month(self), step)
        return _of_kind(self.kind, year, month, self.basis)

    def label(self) -> str:
        """How a Vietnamese report names the period: "Tháng 10/2026", "Quý III/2026"…"""
        year = self.key[:4]
        if self.kind == MONTHLY:
            return _("Month %(month)s/%(year)s") % {"month": int(self.key[5:7]), "year": year}
        if self.kind == QUARTERLY:
            roman = ("I", "II", "III", "IV")[int(self.key[-1]) - 1]
            return _("Quarter %(quarter)s/%(year)s") % {"quarter": roman, "year": year}
        if self.kind == HALF_YEARLY:
            if self.key.endswith("1"):
                return _("First half of %(year)s") % {"year": year}
            return _("Second half of %(year)s") % {"year": year}
        if self.kind == YEARLY:
            return _("Year %(year)s") % {"year": year}
        return _("From %(start)s to %(end)s") % {
            "start": self.start.strftime("%d/%m/%Y"),
            "end": self.end.strftime("%d/%m/%Y"),
        }


def _key_year_month(period: Period) -> tuple[int, int]:
    """The last calendar month the period is named after."""
    year = int(period.key[:4])
    if period.kind == MONTHLY:
        return year, int(period.key[5:7])
    if period.kind == QUARTERLY:
        return year, int(period.key[-1]) * 3
    if period.kind == HALF_YEARLY:
        return year, int(period.key[-1]) * 6
    return year, 12


def _months_back(year_month: tuple[int, int], months: int) -> tuple[int, int]:
    year, month = year_month
    index = year * 12 + (month - 1) - months
    return index // 12, index % 12 + 1


def _month_end(year: int, month: int, basis: str) -> date:
    """The last day counted for calendar month ``year-month``."""
    if basis == OFFICIAL:
        return date(year, month, CUTOFF_DAY)
    next_year, next_month = _months_back((year, month), -1)
    return date(next_year, next_month, 1) - timedelta(days=1)


def _months_start(year: int, month: int, basis: str) -> date:
    """The first day counted for calendar month ``year-month``."""
    if basis == OFFICIAL:
        prev_year, prev_month = _months_back((year, month), 1)
        return date(prev_year, prev_month, CUTOFF_DAY + 1)
    return date(year, month, 1)


def _of_kind(kind: str, year: int, last_month: int, basis: str) -> Period:
    span = {MONTHLY: 1, QUARTERLY: 3, HALF_YEARLY: 6, YEARLY: 12}[kind]
    first_year, first_month = _months_back((year, last_month), span - 1)
    if kind == MONTHLY:
        key = f"{year:04d}-{last_month:02d}"
    elif kind == QUARTERLY:
        key = f"{year:04d}-Q{last_month // 3}"
    elif kind == HALF_YEARLY:
        key = f"{year:04d}-H{last_month // 6}"
    else:
        key = f"{year:04d}"
    return Period(
        start=_months_start(first_year, first_month, basis),
        end=_month_end(year, last_month, basis),
        basis=basis,
        kind=kind,
        key=key,
    )


def _check_basis(basis: str) -> None:
    if basis not in BASES:
        raise PeriodError(
            _("Unknown basis “%(basis)s”: use official (15th to 14th) or calendar.")
            % {"basis": basis}
        )


def _check_year(year: int) -> None:
    if year < FIRST_YEAR or year > 9998:
        raise PeriodError(_("The year must be between %(first)s and 9998.") % {"first": FIRST_YEAR})


def parse_period(text: str, *, basis: str = OFFICIAL, today: date | None = None) -> Period:
    """``YYYY-MM``, ``YYYY-Qn``, ``YYYY-H1``/``H2`` or ``YYYY`` on ``basis``.

    Raises PeriodError for a malformed key or a period that has not started by ``today``.
    """
    _check_basis(basis)
    text = (text or "").strip()
    if match := _MONTH.match(text):
        year, month = int(match[1]), int(match[2])
        if not 1 <= month <= 12:
            raise PeriodError(_("There is no month %(month)s.") % {"month": match[2]})
        kind, last_month = MONTHLY, month
    elif match := _QUARTER.match(text):
        year, kind, last_month = int(match[1]), QUARTERLY, int(match[2]) * 3
    elif match := _HALF.match(text):
        year, kind, last_month = int(match[1]), HALF_YEARLY, int(match[2]) * 6
    elif match := _YEAR.match(text):
        year, kind, last_month = int(match[1]), YEARLY, 12
    else:
        raise PeriodError(
            _(
                "“%(period)s” is not a period: write a month as 2026-10, a quarter as 2026-Q3, "
                "a half-year as 2026-H1 or a year as 2026."
            )
            % {"period": text}
        )
    _check_year(year)
    period = _of_kind(kind, year, last_month, basis)
    _check_started(period, today)
    return period


def custom_period(start: date, end: date, *, today: date | None = None) -> Period:
    """Any range of days, e.g. year to date ("8 tháng năm 2022")."""
    if end < start:
        raise PeriodError(_("The end date is before the start date."))
    _check_year(start.year)
    _check_year(end.year)
    period = Period(
        start=start,
        end=end,
        basis=CALENDAR,
        kind=CUSTOM,
        key=f"{start.isoformat()}..{end.isoformat()}",
    )
    _check_started(period, today)
    return period


def _check_started(period: Period, today: date | None) -> None:
    if today is not None and period.start > today:
        raise PeriodError(
            _("The period %(period)s has not started yet.") % {"period": period.label()}
        )


def period_from_key(key: str, *, basis: str = OFFICIAL, today: date | None = None) -> Period:
    """A period from its key: those of :func:`parse_period`, or ``YYYY-MM-DD..YYYY-MM-DD``."""
    first, sep, last = (key or "").partition("..")
    if not sep:
        return parse_period(key, basis=basis, today=today)
    try:
        start, end = date.fromisoformat(first.strip()), date.fromisoformat(last.strip())
    except ValueError:
        raise PeriodError(
            _("“%(period)s” is not a range of dates: write 2026-01-01..2026-08-14.")
            % {"period": key}
        ) from None
    return custom_period(start, end, today=today)


def month_period(day: date, *, basis: str = OFFICIAL) -> Period:
    """The monthly period that contains ``day``."""
    _check_basis(basis)
    year, month = day.year, day.month
    if basis == OFFICIAL and day.day > CUTOFF_DAY:
        year, month = _months_back((year, month), -1)
    return _of_kind(MONTHLY, year, month, basis)


def trailing_periods(last: Period, count: int) -> list[Period]:
    """``count`` consecutive periods of ``last``'s kind ending with ``last``, oldest first."""
    periods = [last]
    while len(periods) < count:
        periods.append(periods[-1].previous())
    return periods[::-1]
