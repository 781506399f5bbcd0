"""The deadline engine on Vietnam's real calendar, and the sentences of its trace."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import cache
from typing import Any

import pytest
from django.utils import timezone, translation
from hypothesis import given, settings
from hypothesis import strategies as st

from procedures.deadline_text import describe_step, describe_trace
from procedures.deadlines import (
    VN_TZ,
    Deadline,
    DeadlineError,
    InvalidCalendarError,
    InvalidTimeLimitError,
    OfficeHours,
    Pause,
    TimeLimit,
    TraceStep,
    WorkingCalendar,
    compute_deadline,
)
from procedures.holiday_calendar import vietnam_calendar_days


@cache
def vietnam() -> WorkingCalendar:
    """Default office hours with the holidays and make-up days the package knows, 2023–2030."""
    seeds = vietnam_calendar_days(range(2023, 2031))
    return WorkingCalendar(
        days_off={s.date: s.name for s in seeds if s.kind == "holiday"},
        extra_working_days={s.date: s.name for s in seeds if s.kind == "working_day"},
    )


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=VN_TZ)


def due(
    received_at: datetime,
    value: Any,
    unit: str = "working_days",
    *,
    same_day: bool = False,
    pauses: tuple[Pause, ...] = (),
    now: datetime | None = None,
    calendar: WorkingCalendar | None = None,
) -> Deadline:
    return compute_deadline(
        received_at=received_at,
        limit=TimeLimit(value=value, unit=unit, same_day=same_day),
        calendar=calendar or vietnam(),
        pauses=pauses,
        now=now,
    )


def steps(deadline: Deadline, kind: str) -> list[TraceStep]:
    return [step for step in deadline.trace if step.kind == kind]


def skipped(deadline: Deadline) -> dict[str, str]:
    """Skipped date -> its name, or "weekend"."""
    return {
        s.params["date"]: s.params["name"] or s.params["reason"]
        for s in steps(deadline, "day_skipped")
    }


# Tết -----------------------------------------------------------------------------------------


def test_one_working_day_before_tet_2026_is_due_after_it():
    deadline = due(at(2026, 2, 13, 10, 0), 1)

    assert deadline.start_at == at(2026, 2, 13, 10, 0)
    assert deadline.due_at == at(2026, 2, 23, 10, 0)
    assert skipped(deadline) == {
        "2026-02-14": "weekend",
        "2026-02-15": "weekend",
        "2026-02-16": "Giao thừa Tết Nguyên Đán",
        "2026-02-17": "Tết Nguyên Đán",
        "2026-02-18": "Mùng hai Tết Nguyên Đán",
        "2026-02-19": "Mùng ba Tết Nguyên Đán",
        "2026-02-20": "Mùng bốn Tết Nguyên Đán",
        "2026-02-21": "weekend",
        "2026-02-22": "weekend",
    }
    assert [s.kind for s in deadline.trace][:2] == ["received", "limit"]
    assert deadline.trace[-1].kind == "due"
    assert deadline.trace[-1].at == at(2026, 2, 23, 10, 0)


def test_three_working_days_across_tet_2026():
    # Thu 14:00 -> Fri 14:00 (1) -> Mon 23 14:00 (2) -> Tue 24 14:00 (3).
    deadline = due(at(2026, 2, 12, 14, 0), 3)

    assert deadline.due_at == at(2026, 2, 24, 14, 0)


def test_receipt_during_tet_2026_counts_from_the_first_day_back():
    deadline = due(at(2026, 2, 18, 9, 0), 1)

    assert deadline.start_at == at(2026, 2, 23, 7, 30)
    assert deadline.due_at == at(2026, 2, 23, 17, 30)
    (moved,) = steps(deadline, "start_moved")
    assert moved.params["reason"] == "day_off"
    assert moved.params["name"] == "Mùng hai Tết Nguyên Đán"


def test_two_working_days_across_tet_2027():
    # Tết 2027: Thursday 4 to Wednesday 10 February.
    deadline = due(at(2027, 2, 3, 9, 0), 2)

    assert deadline.due_at == at(2027, 2, 12, 9, 0)
    names = skipped(deadline)
    assert set(names) == {f"2027-02-{day:02d}" for day in range(4, 11)}
    # A holiday on a weekend is named, not just "weekend".
    assert names["2027-02-06"] == "Tết Nguyên Đán"
    assert names["2027-02-04"] == "29 Tết"


# Make-up working days ----------------------------------------------------------------------


def test_the_swapped_saturday_of_2024_is_a_working_day_and_the_monday_is_not():
    calendar = vietnam()

    assert calendar.is_working_day(date(2024, 5, 4))
    assert not calendar.is_working_day(date(2024, 4, 29))
    assert not calendar.is_working_day(date(2024, 5, 5))


def test_a_make_up_saturday_counts_and_is_named_in_the_trace():
    deadline = due(at(2024, 5, 3, 10, 0), 1)

    assert deadline.due_at == at(2024, 5, 4, 10, 0)
    (makeup,) = steps(deadline, "makeup_day")
    assert makeup.params["date"] == "2024-05-04"
    assert "29/04/2024" in makeup.params["name"]


def test_the_bridge_monday_of_2024_is_skipped():
    # Fri 26/04 10:00 -> Thu 02/05 (Mon 29 swapped off, 30/04 and 01/05 holidays) -> Fri 03/05.
    deadline = due(at(2024, 4, 26, 10, 0), 2)

    assert deadline.due_at == at(2024, 5, 3, 10, 0)
    assert skipped(deadline)["2024-04-29"] == "Ngày nghỉ (thay cho ngày 04/05/2024)"


def test_a_make_up_day_entered_by_hand_counts():
    calendar = WorkingCalendar(
        days_off={date(2030, 1, 7): "Nghỉ bù"},
        extra_working_days={date(2030, 1, 12): "Làm bù cho thứ Hai 07/01"},
    )
    # Friday 11/01/2030 16:30: 1 h that day, 7 h on Saturday 12/01.
    deadline = due(at(2030, 1, 11, 16, 30), 1, calendar=calendar)

    assert deadline.due_at == at(2030, 1, 12, 16, 30)


# Receipt outside office hours --------------------------------------------------------------


def test_receipt_at_16_45_spills_into_the_next_working_day():
    # Monday 9 March 2026: 45 min that day, then 4 h on Tuesday morning and 3 h 15 min from
    # 13:30: Tuesday 16:45, the same time of day one working day later.
    deadline = due(at(2026, 3, 9, 16, 45), 1)

    assert deadline.start_at == at(2026, 3, 9, 16, 45)
    assert deadline.due_at == at(2026, 3, 10, 16, 45)
    assert due(at(2026, 3, 9, 16, 45), 1, "working_hours").due_at == at(2026, 3, 10, 7, 45)
    assert not steps(deadline, "start_moved")


def test_one_working_day_from_monday_9_00_is_tuesday_9_00():
    assert due(at(2026, 3, 9, 9, 0), 1).due_at == at(2026, 3, 10, 9, 0)


def test_receipt_on_a_sunday_counts_from_monday_opening():
    deadline = due(at(2026, 3, 8, 10, 0), 1)

    assert deadline.start_at == at(2026, 3, 9, 7, 30)
    assert deadline.due_at == at(2026, 3, 9, 17, 30)
    (moved,) = steps(deadline, "start_moved")
    assert moved.params["reason"] == "weekend"


def test_receipt_during_lunch_counts_from_13_30():
    deadline = due(at(2026, 3, 9, 12, 0), 1)

    assert deadline.start_at == at(2026, 3, 9, 13, 30)
    # 13:30-17:30 on Monday, 07:30-11:30 on Tuesday: the limit runs out at a close.
    assert deadline.due_at == at(2026, 3, 10, 11, 30)
    assert steps(deadline, "start_moved")[0].params["reason"] == "break"


def test_receipt_at_closing_time_counts_from_the_next_opening():
    deadline = due(at(2026, 3, 9, 17, 30), 1)

    assert deadline.start_at == at(2026, 3, 10, 7, 30)
    assert deadline.due_at == at(2026, 3, 10, 17, 30)
    assert steps(deadline, "start_moved")[0].params["reason"] == "after_close"


def test_receipt_before_opening_counts_from_opening():
    deadline = due(at(2026, 3, 9, 6, 15), 1)

    assert deadline.start_at == at(2026, 3, 9, 7, 30)
    assert steps(deadline, "start_moved")[0].params["reason"] == "before_opening"


def test_half_a_working_day_ends_at_the_morning_close_not_the_afternoon_opening():
    assert due(at(2026, 3, 9, 7, 30), Decimal("0.5")).due_at == at(2026, 3, 9, 11, 30)


def test_working_hours_jump_the_lunch_break():
    # 10:00-11:30 (1 h 30), then 13:30 + 2 h 30.
    assert due(at(2026, 3, 9, 10, 0), 4, "working_hours").due_at == at(2026, 3, 9, 16, 0)


def test_a_receipt_in_another_time_zone_is_read_in_vietnam_time():
    deadline = due(datetime(2026, 3, 9, 2, 0, tzinfo=UTC), 1)

    assert deadline.received_at == at(2026, 3, 9, 9, 0)
    assert deadline.due_at == at(2026, 3, 10, 9, 0)
    assert deadline.due_at.tzinfo == VN_TZ


def test_a_hundred_working_days_skip_every_weekend_and_holiday_of_the_spring():
    deadline = due(at(2026, 1, 5, 9, 0), 100)
    # 100 working days from Monday 5 January 2026: 20 weekends, Tết (5 days), Hùng Kings
    # (observed Monday 27/4), 30/4 and 1/5 are skipped.
    assert deadline.due_at == at(2026, 6, 4, 9, 0)


# Same-day procedures -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("received", "expected"),
    [
        (at(2026, 3, 11, 14, 59), at(2026, 3, 11, 17, 30)),
        (at(2026, 3, 11, 15, 0), at(2026, 3, 11, 17, 30)),
        (at(2026, 3, 11, 15, 1), at(2026, 3, 12, 17, 30)),
        (at(2026, 3, 11, 6, 45), at(2026, 3, 11, 17, 30)),
        (at(2026, 3, 11, 12, 0), at(2026, 3, 11, 17, 30)),
        (at(2026, 3, 11, 18, 0), at(2026, 3, 12, 17, 30)),
        (at(2026, 3, 13, 15, 30), at(2026, 3, 16, 17, 30)),  # Friday after the cut-off
        (at(2026, 3, 14, 9, 0), at(2026, 3, 16, 17, 30)),  # Saturday
        (at(2026, 2, 13, 15, 30), at(2026, 2, 23, 17, 30)),  # the eve of Tết 2026
        (at(2026, 4, 29, 15, 30), at(2026, 5, 4, 17, 30)),  # the eve of 30/4 and 1/5
    ],
)
def test_same_day_procedures(received: datetime, expected: datetime):
    assert due(received, 1, same_day=True).due_at == expected


def test_the_cut_off_is_in_the_trace():
    deadline = due(at(2026, 3, 13, 15, 30), 1, same_day=True)

    (cutoff,) = steps(deadline, "cutoff")
    assert cutoff.params["cutoff"] == "15:00"
    assert cutoff.params["date"] == "2026-03-16"
    assert deadline.start_at == at(2026, 3, 16, 7, 30)
    assert set(skipped(deadline)) == {"2026-03-14", "2026-03-15"}


def test_no_cut_off_step_before_the_cut_off():
    assert not steps(due(at(2026, 3, 11, 14, 59), 1, same_day=True), "cutoff")


def test_a_unit_s_own_cut_off():
    calendar = WorkingCalendar(hours=OfficeHours(same_day_cutoff=time(10, 0)))

    assert due(at(2026, 3, 11, 10, 30), 1, same_day=True, calendar=calendar).due_at == at(
        2026, 3, 12, 17, 30
    )


# Calendar days -----------------------------------------------------------------------------


def test_calendar_days_ending_on_national_day_move_to_the_next_working_day():
    # 18/08/2026 + 15 days = Wednesday 02/09/2026 (Quốc khánh).
    deadline = due(at(2026, 8, 18, 10, 0), 15, "calendar_days")

    assert deadline.due_at == at(2026, 9, 3, 17, 30)
    (moved,) = steps(deadline, "moved_to_working_day")
    assert moved.params == {"from": "2026-09-02", "to": "2026-09-03"}
    assert skipped(deadline) == {"2026-09-02": "Quốc khánh"}


def test_calendar_days_ending_before_a_long_break_skip_all_of_it():
    # 18/08/2026 + 11 days = Saturday 29/08; Sun 30, Mon 31 (swapped), 1 and 2/9 are off.
    deadline = due(at(2026, 8, 18, 10, 0), 11, "calendar_days")

    assert deadline.due_at == at(2026, 9, 3, 17, 30)
    assert skipped(deadline) == {
        "2026-08-29": "weekend",
        "2026-08-30": "weekend",
        "2026-08-31": "Ngày nghỉ (thay cho ngày 22/08/2026)",
        "2026-09-01": "Quốc khánh",
        "2026-09-02": "Quốc khánh",
    }


def test_calendar_days_ending_on_a_sunday_move_to_monday():
    deadline = due(at(2026, 3, 5, 16, 0), 10, "calendar_days")

    assert deadline.due_at == at(2026, 3, 16, 17, 30)
    assert skipped(deadline) == {"2026-03-15": "weekend"}


def test_calendar_days_ending_on_a_working_day_end_at_its_close():
    deadline = due(at(2026, 3, 9, 16, 0), 7, "calendar_days")

    assert deadline.due_at == at(2026, 3, 16, 17, 30)
    assert not steps(deadline, "moved_to_working_day")
    assert not steps(deadline, "day_skipped")


def test_calendar_days_count_weekends_and_holidays_inside_the_period():
    # Received Friday 13/02/2026; 10 days later is Monday 23/02 whatever Tết did in between.
    assert due(at(2026, 2, 13, 10, 0), 10, "calendar_days").due_at == at(2026, 2, 23, 17, 30)


# Pauses ------------------------------------------------------------------------------------


def test_a_two_working_day_pause_moves_the_deadline_by_two_working_days():
    pause = Pause(start=at(2026, 3, 10, 9, 0), end=at(2026, 3, 12, 9, 0))
    deadline = due(at(2026, 3, 9, 9, 0), 5, pauses=(pause,))

    assert deadline.due_at == at(2026, 3, 18, 9, 0)
    assert deadline.paused == timedelta(hours=16)
    (step,) = steps(deadline, "pause")
    assert step.params["office_seconds"] == 16 * 3600
    assert step.params["counted"] is True


def test_a_pause_over_a_weekend_counts_only_office_time():
    # Friday 15:30 -> Monday 09:30: 2 h on Friday, 2 h on Monday.
    pause = Pause(start=at(2026, 3, 13, 15, 30), end=at(2026, 3, 16, 9, 30))
    deadline = due(at(2026, 3, 9, 9, 0), 5, pauses=(pause,))

    assert deadline.paused == timedelta(hours=4)
    # Without the pause: Monday 16/03 09:00; plus 4 h: 09:00-11:30, then 13:30 + 1 h 30.
    assert deadline.due_at == at(2026, 3, 16, 15, 0)


def test_an_open_pause_counts_up_to_now():
    pause = Pause(start=at(2026, 3, 10, 9, 0))
    deadline = due(at(2026, 3, 9, 9, 0), 5, pauses=(pause,), now=at(2026, 3, 11, 9, 0))

    assert deadline.paused == timedelta(hours=8)
    assert deadline.due_at == at(2026, 3, 17, 9, 0)
    assert steps(deadline, "pause")[0].params["open"] is True


def test_the_pause_does_not_restart_the_clock():
    # 1 working day; paused after 2 h for 1 h of office time: due 1 h later, not 8 h later.
    pause = Pause(start=at(2026, 3, 9, 10, 0), end=at(2026, 3, 9, 11, 0))
    assert due(at(2026, 3, 9, 8, 0), 1, pauses=(pause,)).due_at == at(2026, 3, 10, 9, 0)


def test_a_pause_begun_after_the_deadline_does_not_move_it():
    pause = Pause(start=at(2026, 3, 12, 9, 0), end=at(2026, 3, 13, 9, 0))
    deadline = due(at(2026, 3, 9, 9, 0), 1, pauses=(pause,))

    assert deadline.due_at == at(2026, 3, 10, 9, 0)
    assert deadline.paused == timedelta()
    assert steps(deadline, "pause")[0].params["counted"] is False


def test_overlapping_pauses_count_their_common_time_once():
    pauses = (
        Pause(start=at(2026, 3, 10, 9, 0), end=at(2026, 3, 10, 11, 0)),
        Pause(start=at(2026, 3, 10, 10, 0), end=at(2026, 3, 10, 14, 30)),
    )
    deadline = due(at(2026, 3, 9, 9, 0), 5, pauses=pauses)

    # 09:00-11:30 and 13:30-14:30.
    assert deadline.paused == timedelta(hours=3, minutes=30)


def test_a_pause_moves_a_calendar_day_deadline_by_office_time():
    pause = Pause(start=at(2026, 3, 10, 7, 30), end=at(2026, 3, 10, 11, 30))
    deadline = due(at(2026, 3, 9, 16, 0), 7, "calendar_days", pauses=(pause,))

    assert deadline.due_at == at(2026, 3, 17, 11, 30)


def test_a_pause_across_tet_names_the_days_it_pushes_over():
    pause = Pause(start=at(2026, 2, 11, 9, 0), end=at(2026, 2, 12, 9, 0))
    deadline = due(at(2026, 2, 10, 9, 0), 3, pauses=(pause,))

    # Without the pause: Friday 13/02 09:00; 8 h more: Monday 23/02 09:00.
    assert deadline.due_at == at(2026, 2, 23, 9, 0)
    assert skipped(deadline)["2026-02-17"] == "Tết Nguyên Đán"


# Bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [0, -1, "0", Decimal("-0.5"), "abc", "NaN", None, True])
def test_a_time_limit_must_be_a_positive_number(value: Any):
    with pytest.raises(InvalidTimeLimitError):
        TimeLimit(value=value, unit="working_days")


def test_an_unknown_unit_is_refused():
    with pytest.raises(InvalidTimeLimitError, match="weeks"):
        TimeLimit(value=1, unit="weeks")


def test_a_fraction_of_a_calendar_day_is_refused():
    with pytest.raises(InvalidTimeLimitError):
        TimeLimit(value="1.5", unit="calendar_days")


def test_time_limit_values_become_decimals():
    assert TimeLimit(value=2, unit="working_days").value == Decimal(2)
    assert TimeLimit(value="0.5", unit="working_days").value == Decimal("0.5")
    assert TimeLimit(value=0.1, unit="working_hours").value == Decimal("0.1")
    assert TimeLimit(value="0.5", unit="working_days").working_time(OfficeHours()) == timedelta(
        hours=4
    )


def test_a_naive_receipt_is_refused():
    with pytest.raises(DeadlineError, match="timezone-aware"):
        due(datetime(2026, 3, 9, 9, 0), 1)


def test_a_naive_pause_is_refused():
    with pytest.raises(DeadlineError):
        due(at(2026, 3, 9, 9, 0), 1, pauses=(Pause(start=datetime(2026, 3, 9, 10, 0)),))


def test_a_pause_ending_before_it_starts_is_refused():
    with pytest.raises(DeadlineError):
        due(at(2026, 3, 9, 9, 0), 1, pauses=(Pause(at(2026, 3, 9, 10, 0), at(2026, 3, 9, 9, 0)),))


def test_a_date_both_off_and_working_is_refused():
    with pytest.raises(InvalidCalendarError, match="2026-05-02"):
        WorkingCalendar(
            days_off={date(2026, 5, 2): "Nghỉ"}, extra_working_days={date(2026, 5, 2): "Làm bù"}
        )


@pytest.mark.parametrize(
    "hours",
    [
        {"sessions": ()},
        {"sessions": ((time(11, 30), time(7, 30)),)},
        {"sessions": ((time(13, 30), time(17, 30)), (time(7, 30), time(11, 30)))},
        {"sessions": ((time(7, 30), time(12, 0)), (time(11, 0), time(17, 0)))},
        {"weekdays": frozenset()},
        {"weekdays": frozenset({5, 7})},
    ],
)
def test_inconsistent_office_hours_are_refused(hours: dict[str, Any]):
    with pytest.raises(InvalidCalendarError):
        OfficeHours(**hours)


def test_the_errors_are_value_errors():
    assert issubclass(InvalidTimeLimitError, DeadlineError)
    assert issubclass(InvalidCalendarError, DeadlineError)
    assert issubclass(DeadlineError, ValueError)


# The calendar's own operations -------------------------------------------------------------


def test_office_hours_defaults():
    hours = OfficeHours()

    assert hours.day_length == timedelta(hours=8)
    assert OfficeHours(sessions=((time(8, 0), time(12, 0)),)).day_length == timedelta(hours=4)


def test_next_opening():
    calendar = vietnam()

    assert calendar.next_opening(at(2026, 3, 9, 9, 0)) == at(2026, 3, 9, 9, 0)
    assert calendar.next_opening(at(2026, 3, 9, 7, 30)) == at(2026, 3, 9, 7, 30)
    assert calendar.next_opening(at(2026, 3, 9, 11, 30)) == at(2026, 3, 9, 13, 30)
    assert calendar.next_opening(at(2026, 3, 13, 17, 30)) == at(2026, 3, 16, 7, 30)


def test_working_time_between():
    calendar = vietnam()

    assert calendar.working_time_between(at(2026, 3, 9, 9, 0), at(2026, 3, 9, 9, 0)) == timedelta()
    assert calendar.working_time_between(at(2026, 3, 9, 10, 0), at(2026, 3, 9, 9, 0)) == timedelta()
    assert calendar.working_time_between(at(2026, 3, 9, 11, 0), at(2026, 3, 9, 14, 0)) == timedelta(
        hours=1
    )
    # A whole week, Monday 00:00 to Monday 00:00.
    assert calendar.working_time_between(at(2026, 3, 9), at(2026, 3, 16)) == timedelta(hours=40)


def test_add_working_time_stops_at_a_close():
    calendar = vietnam()

    assert calendar.add_working_time(at(2026, 3, 9, 9, 0), timedelta()) == at(2026, 3, 9, 9, 0)
    assert calendar.add_working_time(at(2026, 3, 9, 9, 0), timedelta(hours=2, minutes=30)) == at(
        2026, 3, 9, 11, 30
    )
    assert calendar.add_working_time(at(2026, 3, 9, 9, 0), timedelta(hours=6, minutes=30)) == at(
        2026, 3, 9, 17, 30
    )
    assert calendar.add_working_time(at(2026, 3, 9, 11, 30), timedelta(minutes=1)) == at(
        2026, 3, 9, 13, 31
    )
    with pytest.raises(DeadlineError):
        calendar.add_working_time(at(2026, 3, 9, 9, 0), timedelta(hours=-1))


def test_close_of_day():
    assert vietnam().close_of_day(date(2026, 3, 9)) == at(2026, 3, 9, 17, 30)


# The trace as data ---------------------------------------------------------------------------


def test_the_trace_is_json_and_comes_back():
    pause = Pause(start=at(2026, 2, 11, 9, 0), end=at(2026, 2, 12, 9, 0))
    deadline = due(at(2026, 2, 7, 10, 0), "1.50", pauses=(pause,))

    data = json.loads(json.dumps(deadline.trace_as_json()))
    assert data[0] == {
        "kind": "received",
        "at": "2026-02-07T10:00:00+07:00",
        "params": {"working_day": False},
    }
    assert tuple(TraceStep.from_dict(item) for item in data) == deadline.trace
    (limit,) = steps(deadline, "limit")
    assert limit.params["value"] == "1.5"
    assert limit.params["unit"] == "working_days"


# Properties on the real calendar -------------------------------------------------------------

RECEIPTS = st.datetimes(
    min_value=datetime(2024, 1, 1),
    max_value=datetime(2028, 12, 31, 23, 59),
    timezones=st.just(VN_TZ),
)
WORKING_DAY_VALUES = st.decimals(min_value=Decimal("0.5"), max_value=60, places=2)
WORKING_HOUR_VALUES = st.decimals(min_value=1, max_value=200, places=2)
CALENDAR_DAY_VALUES = st.integers(min_value=1, max_value=90)
LIMITS = st.one_of(
    st.builds(TimeLimit, value=WORKING_DAY_VALUES, unit=st.just("working_days")),
    st.builds(TimeLimit, value=WORKING_HOUR_VALUES, unit=st.just("working_hours")),
    st.builds(TimeLimit, value=CALENDAR_DAY_VALUES, unit=st.just("calendar_days")),
    st.builds(
        TimeLimit,
        value=st.just(1),
        unit=st.sampled_from(["working_days", "calendar_days"]),
        same_day=st.just(True),
    ),
)


def inside_office_hours(calendar: WorkingCalendar, moment: datetime) -> bool:
    """open < t <= close of a session on a working day (a session's close counts as inside)."""
    local = moment.astimezone(calendar.tz)
    return any(
        opening < local <= closing for opening, closing in calendar.sessions_on(local.date())
    )


@settings(max_examples=200, deadline=None)
@given(received=RECEIPTS, limit=LIMITS)
def test_the_deadline_is_inside_office_hours_and_after_receipt(
    received: datetime, limit: TimeLimit
):
    calendar = vietnam()
    deadline = compute_deadline(received_at=received, limit=limit, calendar=calendar)

    assert deadline.due_at >= received
    assert inside_office_hours(calendar, deadline.due_at)
    if limit.same_day or limit.unit == "calendar_days":
        assert deadline.due_at == calendar.close_of_day(deadline.due_at.date())
    else:
        # The office time between the start and the deadline is exactly the limit.
        expected = limit.working_time(calendar.hours)
        assert calendar.working_time_between(deadline.start_at, deadline.due_at) == expected
    assert deadline.trace[0].kind == "received"
    assert deadline.trace[-1].kind == "due"


@settings(max_examples=200, deadline=None)
@given(
    received=RECEIPTS,
    unit_and_values=st.one_of(
        st.tuples(st.just("working_days"), WORKING_DAY_VALUES, WORKING_DAY_VALUES),
        st.tuples(st.just("working_hours"), WORKING_HOUR_VALUES, WORKING_HOUR_VALUES),
        st.tuples(st.just("calendar_days"), CALENDAR_DAY_VALUES, CALENDAR_DAY_VALUES),
    ),
)
def test_a_longer_limit_never_ends_earlier(
    received: datetime, unit_and_values: tuple[str, Decimal | int, Decimal | int]
):
    unit, first, second = unit_and_values
    smaller, larger = sorted([first, second])

    assert due(received, smaller, unit).due_at <= due(received, larger, unit).due_at


# Sentences -----------------------------------------------------------------------------------


def every_kind_of_step() -> list[TraceStep]:
    """One deadline of each shape, so that every kind of step appears at least once."""
    deadlines = [
        due(at(2024, 5, 3, 12, 0), 1),  # lunch, make-up Saturday
        due(at(2026, 2, 14, 10, 0), 1),  # weekend receipt, Tết
        due(at(2026, 3, 13, 15, 30), 1, same_day=True),  # cut-off
        due(at(2026, 8, 18, 10, 0), 15, "calendar_days"),  # moved to a working day
        due(
            at(2026, 3, 9, 9, 0),
            5,
            pauses=(
                Pause(at(2026, 3, 10, 9, 0), at(2026, 3, 12, 9, 0)),
                Pause(at(2026, 3, 13, 9, 0)),
                Pause(at(2026, 6, 1, 9, 0), at(2026, 6, 2, 9, 0)),  # after the deadline
            ),
            now=at(2026, 3, 13, 10, 0),
        ),
    ]
    return [step for deadline in deadlines for step in deadline.trace] + [
        TraceStep("apology", at(2026, 3, 20, 9, 0), {"promised_at": "2026-03-25T17:30:00+07:00"})
    ]


def test_every_kind_of_step_reads_as_a_sentence_with_its_date():
    all_steps = every_kind_of_step()
    kinds = {step.kind for step in all_steps}
    assert kinds >= {
        "received",
        "start_moved",
        "cutoff",
        "limit",
        "day_skipped",
        "makeup_day",
        "pause",
        "moved_to_working_day",
        "due",
        "apology",
    }
    with translation.override("en"):
        for step in all_steps:
            sentence = describe_step(step)
            assert sentence.endswith("."), sentence
            day = (
                step.params.get("date")
                or step.params.get("last_day")
                or step.params.get("to")
                or step.params.get("start")
            )
            if step.kind == "apology":
                day = step.params["promised_at"]
            elif day is None:
                assert step.at is not None
                day = step.at.isoformat()
            expected = date.fromisoformat(day[:10]).strftime("%d/%m/%Y")
            assert expected in sentence, (step.kind, sentence)


def test_the_sentences_of_a_tet_deadline():
    with translation.override("en"):
        sentences = describe_trace(due(at(2026, 2, 14, 10, 0), "0.5").trace)

    assert sentences[0] == "Received on 14/02/2026 at 10:00."
    assert sentences[1] == "Received on a weekend; the time limit counts from 07:30 on 23/02/2026."
    assert sentences[2] == "Time limit: 0.5 working days, counted from 07:30 on 23/02/2026."
    assert "Tuesday 17/02/2026 is not a working day: Tết Nguyên Đán." in sentences
    assert sentences[-1] == "Due at 11:30 on 23/02/2026."


def test_the_sentences_of_pauses_and_cut_offs():
    pause = Pause(at(2026, 3, 13, 15, 30), at(2026, 3, 16, 9, 30))
    with translation.override("en"):
        pause_sentences = describe_trace(due(at(2026, 3, 9, 9, 0), 5, pauses=(pause,)).trace)
        cutoff_sentence = describe_trace(due(at(2026, 3, 11, 15, 1), 1, same_day=True).trace)[1]

    (pause_sentence,) = [s for s in pause_sentences if s.startswith("Processing")]

    assert pause_sentence == (
        "Processing was paused for missing documents from 15:30 13/03/2026 to 09:30 16/03/2026; "
        "4 hours of office time is added to the deadline."
    )
    assert cutoff_sentence == (
        "Received after the 15:00 cut-off for same-day procedures; the result is due on the next "
        "working day, 12/03/2026."
    )


def test_stored_json_steps_are_described_too():
    deadline = due(at(2026, 8, 18, 10, 0), 15, "calendar_days")
    with translation.override("en"):
        sentences = describe_trace(deadline.trace_as_json())

    assert sentences[1] == "Time limit: 15 calendar days; the last day is 02/09/2026."
    assert "Wednesday 02/09/2026 is not a working day: Quốc khánh." in sentences
    assert sentences[-2] == (
        "The last day, 02/09/2026, is not a working day; the result is due at the close of the "
        "next working day, 03/09/2026."
    )


def test_an_unknown_kind_still_gives_a_sentence():
    with translation.override("en"):
        assert describe_step(TraceStep("reopened", at(2026, 3, 9, 9, 0), {})) == (
            "reopened: 09:00 09/03/2026."
        )


@st.composite
def calendars(draw) -> WorkingCalendar:
    """Any office week (one to seven weekdays, one or two sessions) with days off and make-up
    days anywhere, weekends included, over 2024–2029."""
    weekdays = draw(st.sets(st.integers(0, 6), min_size=1))
    morning = draw(st.sampled_from([((7, 30), (11, 30)), ((8, 0), (12, 0))]))
    afternoon = draw(st.sampled_from([None, ((13, 30), (17, 30)), ((13, 0), (16, 45))]))
    sessions = [(time(*morning[0]), time(*morning[1]))]
    if afternoon:
        sessions.append((time(*afternoon[0]), time(*afternoon[1])))
    days = st.dates(min_value=date(2024, 1, 1), max_value=date(2029, 12, 31))
    off = draw(st.sets(days, max_size=40))
    extra = draw(st.sets(days, max_size=15)) - off
    return WorkingCalendar(
        hours=OfficeHours(sessions=tuple(sessions), weekdays=frozenset(weekdays)),
        days_off=dict.fromkeys(off, "Nghỉ"),
        extra_working_days=dict.fromkeys(extra, "Làm bù"),
    )


@settings(max_examples=300, deadline=None)
@given(
    calendar=calendars(),
    start=st.datetimes(
        min_value=datetime(2024, 1, 1), max_value=datetime(2029, 6, 30), timezones=st.just(VN_TZ)
    ),
    span=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=1500)),
)
def test_working_time_between_counts_long_spans_as_the_days_add_up(
    calendar: WorkingCalendar, start: datetime, span: timedelta
):
    """Spans of more than two days are counted by arithmetic (whole weeks, then the
    exceptions): the same office time as adding up the days one by one."""
    end = start + span
    assert calendar.working_time_between(start, end) == calendar._working_time_day_by_day(
        start, end
    )
    days = (end.date() - start.date()).days
    assert calendar.working_days_strictly_between(start.date(), end.date()) == sum(
        1
        for n in range(1, max(days, 0))
        if calendar.is_working_day(start.date() + timedelta(days=n))
    )


@pytest.mark.parametrize("language", ["vi", "en"])
@pytest.mark.parametrize("zone", ["Asia/Ho_Chi_Minh", "UTC"])
def test_trace_data_gives_what_the_trace_serializer_gives(language, zone):
    from procedures.api.serializers import TraceStepSerializer, trace_data

    stored = [step.to_dict() for step in every_kind_of_step()]
    stored.append({"kind": "received", "at": "2026-03-09T02:00:00+00:00", "params": {}})
    steps = [TraceStep.from_dict(data) for data in stored]

    with translation.override(language), timezone.override(zone):
        expected = TraceStepSerializer(
            [{**s.to_dict(), "at": s.at, "text": describe_step(s)} for s in steps], many=True
        ).data
        actual = trace_data(steps)

    assert json.dumps(actual, ensure_ascii=False) == json.dumps(expected, ensure_ascii=False)
    assert any(step["at"] is None for step in actual)
