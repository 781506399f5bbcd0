"""Vietnam's public holidays and make-up working days, from the ``holidays`` package.

Pure: no Django, no database. ``procedures.services.seed_holidays`` stores the result as
nationwide calendar exceptions, which administrators may then correct.

The package knows the government's day swaps ("hoán đổi ngày làm việc"): a bridge day off, such
as Monday 29/04/2024, taken in exchange for a Saturday worked, 04/05/2024. The day off is an
ordinary entry of the holiday set; the Saturday is in the set's ``weekend_workdays``, the
package's own structured record of weekend days that are working days. The pairing of the two
comes from the country's ``special_public_holidays`` table, used only to name the make-up day.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any, Final, Literal

import holidays

HOLIDAY: Final = "holiday"
WORKING_DAY: Final = "working_day"

MAKEUP_DAY_NAME = "Ngày làm việc bù"
MAKEUP_DAY_FOR = "Ngày làm việc bù cho ngày nghỉ {day_off:%d/%m/%Y}"


@dataclass(frozen=True)
class HolidaySeed:
    date: date
    kind: Literal["holiday", "working_day"]
    name: str  # in Vietnamese


def vietnam_calendar_days(years: Iterable[int]) -> list[HolidaySeed]:
    """Public holidays (with their observed and bridge days off) and make-up working days of
    ``years``, in date order, one entry per date.

    A holiday on a weekend is returned too (harmless: the day is off anyway). Years the package
    has no data for simply contribute nothing.
    """
    wanted = sorted({int(year) for year in years})
    if not wanted:
        return []
    calendar = holidays.country_holidays("VN", years=wanted, language="vi")
    seeds: dict[date, HolidaySeed] = {
        day: HolidaySeed(date=day, kind=HOLIDAY, name=str(name))
        for day, name in calendar.items()
        if day.year in wanted
    }
    swapped_from = _days_off_by_makeup_day(calendar)
    # weekend_workdays also carries swaps that cross a year boundary, whatever years were
    # asked for (e.g. 27/12/2014 worked for 02/01/2015): keep only the years asked for.
    for day in sorted(getattr(calendar, "weekend_workdays", ())):
        if day.year not in wanted or not calendar.is_working_day(day):
            continue
        day_off = swapped_from.get(day)
        name = MAKEUP_DAY_FOR.format(day_off=day_off) if day_off else MAKEUP_DAY_NAME
        seeds[day] = HolidaySeed(date=day, kind=WORKING_DAY, name=name)
    return [seeds[day] for day in sorted(seeds)]


def _days_off_by_makeup_day(calendar: holidays.HolidayBase) -> dict[date, date]:
    """Make-up working day -> the day off it pays for, from the package's swap table.

    Entries are ``(to_month, to_day, from_month, from_day[, from_year])`` per year: the day off
    ``to`` is "substituted from" the working day ``from``. Three-item entries are one-off
    holidays without a swap. Anything unexpected is ignored: the names are a courtesy.
    """
    table: Any = getattr(calendar, "special_public_holidays", None)
    if not isinstance(table, dict):
        return {}
    pairs: dict[date, date] = {}
    for year, entries in table.items():
        if not isinstance(year, int) or not isinstance(entries, tuple) or not entries:
            continue
        for entry in entries if isinstance(entries[0], tuple) else (entries,):
            if len(entry) not in (4, 5) or not all(isinstance(part, int) for part in entry):
                continue
            to_month, to_day, from_month, from_day, *from_year = entry
            try:
                day_off = date(year, to_month, to_day)
                worked = date(from_year[0] if from_year else year, from_month, from_day)
            except ValueError:
                continue
            pairs[worked] = day_off
    return pairs
