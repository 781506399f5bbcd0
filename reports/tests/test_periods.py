"""Report periods: which days a report covers, on the official basis (the 15th of the previous
month to the 14th, Decree 09/2019/NĐ-CP) and the calendar basis; errors with clear messages."""

from datetime import UTC, date, datetime, timedelta
from itertools import pairwise

import pytest
from django.utils.translation import override

from procedures.deadlines import VN_TZ
from reports.periods import (
    CALENDAR,
    CUSTOM,
    HALF_YEARLY,
    MONTHLY,
    OFFICIAL,
    QUARTERLY,
    YEARLY,
    PeriodError,
    custom_period,
    month_period,
    parse_period,
    period_from_key,
    trailing_periods,
)


def days(period):
    return (period.start, period.end)


# --- Official basis -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "start", "end", "kind"),
    [
        ("2026-10", date(2026, 9, 15), date(2026, 10, 14), MONTHLY),
        ("2026-01", date(2025, 12, 15), date(2026, 1, 14), MONTHLY),
        ("2026-03", date(2026, 2, 15), date(2026, 3, 14), MONTHLY),
        ("2026-12", date(2026, 11, 15), date(2026, 12, 14), MONTHLY),
        ("2026-Q1", date(2025, 12, 15), date(2026, 3, 14), QUARTERLY),
        ("2026-q3", date(2026, 6, 15), date(2026, 9, 14), QUARTERLY),
        ("2026-Q4", date(2026, 9, 15), date(2026, 12, 14), QUARTERLY),
        ("2026-H1", date(2025, 12, 15), date(2026, 6, 14), HALF_YEARLY),
        ("2026-H2", date(2026, 6, 15), date(2026, 12, 14), HALF_YEARLY),
        ("2026", date(2025, 12, 15), date(2026, 12, 14), YEARLY),
        ("2015-01", date(2014, 12, 15), date(2015, 1, 14), MONTHLY),
    ],
)
def test_official_periods_run_from_the_15th_to_the_14th(key, start, end, kind):
    period = parse_period(key)
    assert days(period) == (start, end)
    assert (period.basis, period.kind) == (OFFICIAL, kind)
    assert period.key == key.upper()


def test_keys_are_normalised():
    assert parse_period(" 2026-q3 ").key == "2026-Q3"
    assert parse_period("2026-h2").key == "2026-H2"
    assert parse_period("2026-10").key == "2026-10"
    assert parse_period("2026").key == "2026"


def test_an_official_month_counts_the_days_between_the_cut_offs():
    assert parse_period("2026-03").days == 28  # 15/02 – 14/03 in a common year
    assert parse_period("2028-03").days == 29  # a leap year
    assert parse_period("2026-10").days == 30
    assert parse_period("2026").days == 365


# --- Calendar basis -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "start", "end"),
    [
        ("2026-10", date(2026, 10, 1), date(2026, 10, 31)),
        ("2026-02", date(2026, 2, 1), date(2026, 2, 28)),
        ("2028-02", date(2028, 2, 1), date(2028, 2, 29)),
        ("2026-12", date(2026, 12, 1), date(2026, 12, 31)),
        ("2026-Q1", date(2026, 1, 1), date(2026, 3, 31)),
        ("2026-Q4", date(2026, 10, 1), date(2026, 12, 31)),
        ("2026-H1", date(2026, 1, 1), date(2026, 6, 30)),
        ("2026-H2", date(2026, 7, 1), date(2026, 12, 31)),
        ("2026", date(2026, 1, 1), date(2026, 12, 31)),
    ],
)
def test_calendar_periods_are_calendar_months(key, start, end):
    period = parse_period(key, basis=CALENDAR)
    assert days(period) == (start, end)
    assert period.basis == CALENDAR


# --- Bounds in Vietnam's time -------------------------------------------------------------------


def test_bounds_are_local_midnights_in_vietnam():
    start, end = parse_period("2026-10").bounds(VN_TZ)
    assert start == datetime(2026, 9, 15, tzinfo=VN_TZ)
    assert end == datetime(2026, 10, 15, tzinfo=VN_TZ)  # the first moment after the period
    # 17:00 UTC on the 14th is already the 15th in Hà Nội: the first moment outside the period.
    assert end == datetime(2026, 10, 14, 17, 0, tzinfo=UTC)
    assert start == datetime(2026, 9, 14, 17, 0, tzinfo=UTC)


# --- Custom ranges ------------------------------------------------------------------------------


def test_a_custom_range_is_any_days_on_the_calendar_basis():
    period = custom_period(date(2022, 1, 1), date(2022, 8, 14))  # "8 tháng năm 2022"
    assert days(period) == (date(2022, 1, 1), date(2022, 8, 14))
    assert (period.kind, period.basis, period.key) == (CUSTOM, CALENDAR, "2022-01-01..2022-08-14")
    assert period_from_key("2022-01-01..2022-08-14") == period
    assert period_from_key(" 2022-01-01 .. 2022-08-14 ") == period


def test_a_one_day_range_is_allowed():
    period = custom_period(date(2026, 10, 5), date(2026, 10, 5))
    assert period.days == 1


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("2022-08-14..2022-01-01", "The end date is before the start date."),
        ("2022-01-01..2022-13-01", "is not a range of dates"),
        ("2022-01-01..", "is not a range of dates"),
        ("..2022-01-01", "is not a range of dates"),
        ("2014-12-31..2015-01-31", "between 2015 and 9998"),
    ],
)
def test_a_bad_range_is_refused_with_a_message(key, message):
    with override("en"), pytest.raises(PeriodError, match=message):
        period_from_key(key)


# --- previous() ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "basis", "previous_key", "start", "end"),
    [
        ("2026-01", OFFICIAL, "2025-12", date(2025, 11, 15), date(2025, 12, 14)),
        ("2026-01", CALENDAR, "2025-12", date(2025, 12, 1), date(2025, 12, 31)),
        ("2026-03", OFFICIAL, "2026-02", date(2026, 1, 15), date(2026, 2, 14)),
        ("2026-Q1", OFFICIAL, "2025-Q4", date(2025, 9, 15), date(2025, 12, 14)),
        ("2026-Q1", CALENDAR, "2025-Q4", date(2025, 10, 1), date(2025, 12, 31)),
        ("2026-Q3", OFFICIAL, "2026-Q2", date(2026, 3, 15), date(2026, 6, 14)),
        ("2026-H1", OFFICIAL, "2025-H2", date(2025, 6, 15), date(2025, 12, 14)),
        ("2026-H2", OFFICIAL, "2026-H1", date(2025, 12, 15), date(2026, 6, 14)),
        ("2026", OFFICIAL, "2025", date(2024, 12, 15), date(2025, 12, 14)),
        ("2026", CALENDAR, "2025", date(2025, 1, 1), date(2025, 12, 31)),
    ],
)
def test_previous_crosses_year_boundaries(key, basis, previous_key, start, end):
    period = parse_period(key, basis=basis)
    before = period.previous()
    assert (before.key, before.start, before.end) == (previous_key, start, end)
    assert (before.kind, before.basis) == (period.kind, period.basis)
    assert before == parse_period(previous_key, basis=basis)


def test_the_range_before_a_range_has_as_many_days_and_ends_the_day_before():
    period = custom_period(date(2026, 1, 1), date(2026, 1, 10))
    before = period.previous()
    assert days(before) == (date(2025, 12, 22), date(2025, 12, 31))
    assert before.days == period.days == 10


# --- trailing_periods ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("period", "count"),
    [
        (parse_period("2026-02"), 14),
        (parse_period("2026-02", basis=CALENDAR), 14),
        (parse_period("2026-Q1"), 9),
        (parse_period("2026-Q1", basis=CALENDAR), 9),
        (parse_period("2026-H1"), 5),
        (parse_period("2026"), 4),
        (custom_period(date(2026, 3, 1), date(2026, 3, 10)), 6),
    ],
    ids=lambda value: getattr(value, "key", str(value)),
)
def test_trailing_periods_are_contiguous_oldest_first(period, count):
    periods = trailing_periods(period, count)
    assert len(periods) == count
    assert periods[-1] == period
    for before, after in pairwise(periods):
        assert after.start == before.end + timedelta(days=1)
        assert (after.kind, after.basis) == (before.kind, before.basis)


def test_one_trailing_period_is_the_period_itself():
    period = parse_period("2026-10")
    assert trailing_periods(period, 1) == [period]


def test_twelve_official_months_tile_the_official_year():
    months = trailing_periods(parse_period("2026-12"), 12)
    year = parse_period("2026")
    assert (months[0].start, months[-1].end) == (year.start, year.end)
    assert sum(m.days for m in months) == year.days


# --- month_period -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "key"),
    [
        (date(2026, 10, 14), "2026-10"),
        (date(2026, 10, 15), "2026-11"),
        (date(2026, 9, 15), "2026-10"),
        (date(2026, 12, 14), "2026-12"),
        (date(2026, 12, 15), "2027-01"),  # across the year
        (date(2026, 12, 31), "2027-01"),
        (date(2027, 1, 1), "2027-01"),
        (date(2026, 1, 14), "2026-01"),
    ],
)
def test_month_period_turns_on_the_15th(day, key):
    period = month_period(day)
    assert period.key == key
    assert period.start <= day <= period.end


@pytest.mark.parametrize(
    ("day", "key"),
    [
        (date(2026, 10, 14), "2026-10"),
        (date(2026, 10, 15), "2026-10"),
        (date(2026, 10, 31), "2026-10"),
    ],
)
def test_month_period_on_the_calendar_basis(day, key):
    period = month_period(day, basis=CALENDAR)
    assert (period.key, period.basis) == (key, CALENDAR)
    assert period.start <= day <= period.end


# --- Errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("", "is not a period"),
        ("   ", "is not a period"),
        ("abc", "“abc” is not a period: write a month as 2026-10"),
        ("2026-1", "is not a period"),
        ("2026/10", "is not a period"),
        ("10-2026", "is not a period"),
        ("2026-Q5", "is not a period"),
        ("2026-Q0", "is not a period"),
        ("2026-H3", "is not a period"),
        ("26", "is not a period"),
        ("2026-10-01", "is not a period"),
        ("2026-13", "There is no month 13."),
        ("2026-00", "There is no month 00."),
        ("2014", "The year must be between 2015 and 9998."),
        ("2014-12", "The year must be between 2015 and 9998."),
        ("1999-Q1", "The year must be between 2015 and 9998."),
        ("0000-H1", "The year must be between 2015 and 9998."),
    ],
)
def test_a_malformed_or_out_of_range_key_is_refused_with_a_message(key, message):
    with override("en"), pytest.raises(PeriodError) as error:
        period_from_key(key)
    assert message in str(error.value)


def test_an_unknown_basis_is_refused():
    with override("en"), pytest.raises(PeriodError, match="Unknown basis “fiscal”"):
        parse_period("2026-10", basis="fiscal")
    with pytest.raises(PeriodError):
        month_period(date(2026, 10, 1), basis="fiscal")


@pytest.mark.parametrize(
    ("key", "basis", "today"),
    [
        ("2026-11", OFFICIAL, date(2026, 10, 14)),  # starts on 15/10
        ("2026-11", CALENDAR, date(2026, 10, 31)),
        ("2027", OFFICIAL, date(2026, 12, 14)),  # the official year 2027 starts on 15/12/2026
        ("2026-Q4", CALENDAR, date(2026, 9, 30)),
        ("2027-01-01..2027-01-31", OFFICIAL, date(2026, 12, 31)),
    ],
)
def test_a_period_that_has_not_started_is_refused(key, basis, today):
    with override("en"), pytest.raises(PeriodError, match="has not started yet"):
        period_from_key(key, basis=basis, today=today)


@pytest.mark.parametrize(
    ("key", "basis", "today"),
    [
        ("2026-11", OFFICIAL, date(2026, 10, 15)),  # its first day: the running period
        ("2027", OFFICIAL, date(2026, 12, 15)),
        ("2026-10", OFFICIAL, date(2026, 10, 1)),
        ("2026-10-01..2026-12-31", CALENDAR, date(2026, 10, 1)),
    ],
)
def test_the_running_period_may_be_asked_for(key, basis, today):
    assert period_from_key(key, basis=basis, today=today).start <= today


def test_the_error_is_a_value_error_for_callers_that_catch_those():
    assert issubclass(PeriodError, ValueError)


# --- Labels -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "label"),
    [
        ("2026-10", "Month 10/2026"),
        ("2026-01", "Month 1/2026"),
        ("2026-Q3", "Quarter III/2026"),
        ("2026-H1", "First half of 2026"),
        ("2026-H2", "Second half of 2026"),
        ("2026", "Year 2026"),
        ("2022-01-01..2022-08-14", "From 01/01/2022 to 14/08/2022"),
    ],
)
def test_labels_name_the_period(key, label):
    with override("en"):
        assert period_from_key(key).label() == label


def test_a_year_beyond_the_calendar_is_refused_not_crashed():
    with pytest.raises(PeriodError):
        parse_period("9999")
    with pytest.raises(PeriodError):
        custom_period(date(2026, 1, 1), date(9999, 12, 31))
