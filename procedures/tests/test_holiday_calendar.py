"""Vietnam's holidays and make-up working days as the portal seeds them."""

from __future__ import annotations

from datetime import date

from procedures.holiday_calendar import HolidaySeed, vietnam_calendar_days


def by_date(years: list[int]) -> dict[date, HolidaySeed]:
    return {seed.date: seed for seed in vietnam_calendar_days(years)}


def test_tet_2026_is_named_in_vietnamese():
    days = by_date([2026])

    assert days[date(2026, 2, 17)] == HolidaySeed(
        date=date(2026, 2, 17), kind="holiday", name="Tết Nguyên Đán"
    )
    assert {d for d, s in days.items() if "Tết" in s.name and d.month == 2} == {
        date(2026, 2, day) for day in range(16, 21)
    }


def test_the_make_up_saturday_of_2024_and_its_bridge_monday():
    days = by_date([2024])

    makeup = days[date(2024, 5, 4)]
    assert makeup.kind == "working_day"
    assert makeup.name == "Ngày làm việc bù cho ngày nghỉ 29/04/2024"
    assert days[date(2024, 4, 29)].kind == "holiday"
    assert [s.date for s in days.values() if s.kind == "working_day"] == [date(2024, 5, 4)]


def test_make_up_days_of_other_years():
    working = {s.date for s in vietnam_calendar_days(range(2014, 2027)) if s.kind == "working_day"}

    assert {date(2025, 4, 26), date(2026, 8, 22), date(2019, 5, 4)} <= working
    # A swap across New Year: Saturday 05/01/2019 worked for Monday 31/12/2018.
    assert date(2019, 1, 5) in working


def test_only_the_years_asked_for():
    seeds = vietnam_calendar_days([2024])

    assert {seed.date.year for seed in seeds} == {2024}
    # The package keeps cross-year swaps of other years (27/12/2014, 05/01/2019) whatever the
    # years asked for: they must not leak in.
    assert date(2019, 1, 5) not in {seed.date for seed in seeds}


def test_weekend_holidays_are_kept():
    days = by_date([2027])

    assert days[date(2027, 2, 6)].kind == "holiday"  # Saturday, Tết Nguyên Đán


def test_one_entry_per_date_in_order():
    seeds = vietnam_calendar_days([2026, 2024, 2025, 2024])
    dates = [seed.date for seed in seeds]

    assert dates == sorted(set(dates))


def test_years_without_data_are_no_error():
    assert vietnam_calendar_days([]) == []
    assert vietnam_calendar_days([1800]) == []
    assert vietnam_calendar_days(year for year in [2300]) == []
