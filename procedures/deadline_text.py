"""Readable sentences for the steps of a deadline trace (``procedures.deadlines.TraceStep``).

The trace is stored as data; these sentences are made at display time in the reader's language.
Dates read dd/mm/yyyy and times HH:MM, in Asia/Ho_Chi_Minh.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.dates import WEEKDAYS
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .deadlines import (
    CALENDAR_DAYS,
    REASON_AFTER_CLOSE,
    REASON_BEFORE_OPENING,
    REASON_BREAK,
    REASON_DAY_OFF,
    REASON_WEEKEND,
    STEP_APOLOGY,
    STEP_CUTOFF,
    STEP_DAY_SKIPPED,
    STEP_DUE,
    STEP_LIMIT,
    STEP_MAKEUP_DAY,
    STEP_MOVED_TO_WORKING_DAY,
    STEP_PAUSE,
    STEP_RECEIVED,
    STEP_START_MOVED,
    VN_TZ,
    WORKING_DAYS,
    WORKING_HOURS,
    TraceStep,
)


def describe_trace(steps: Iterable[TraceStep | dict[str, Any]]) -> list[str]:
    """One sentence per step; stored JSON steps (``TraceStep.to_dict()``) are accepted too."""
    return [
        describe_step(step if isinstance(step, TraceStep) else TraceStep.from_dict(step))
        for step in steps
    ]


def describe_step(step: TraceStep) -> str:
    describe = _DESCRIBERS.get(step.kind, _other)
    return describe(step)


# Formatting ------------------------------------------------------------------------------------


def _moment(value: datetime | str | None) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=VN_TZ)
    return value.astimezone(VN_TZ)


def _day(value: date | str | None) -> date | None:
    if isinstance(value, datetime):
        return value.astimezone(VN_TZ).date() if value.tzinfo else value.date()
    if isinstance(value, date):
        return value
    if not value:
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _date_text(day: date | None) -> str:
    return day.strftime("%d/%m/%Y") if day is not None else "—"


def _time_text(moment: datetime | None) -> str:
    return moment.strftime("%H:%M") if moment is not None else "—"


def _moment_text(moment: datetime | None) -> str:
    """ "14:30 13/02/2026"."""
    return f"{_time_text(moment)} {_date_text(moment.date() if moment else None)}"


def _when(step: TraceStep) -> dict[str, str]:
    moment = _moment(step.at)
    return {"date": _date_text(moment.date() if moment else None), "time": _time_text(moment)}


def _weekday(day: date | None) -> str:
    return str(WEEKDAYS[day.weekday()]) if day is not None else ""


def _number(value: Any) -> tuple[str, Decimal]:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value), Decimal(2)
    return number_format(number), number


def _duration(seconds: Any) -> str:
    try:
        total = int(seconds)
    except (TypeError, ValueError):
        total = 0
    minutes_total = round(timedelta(seconds=total).total_seconds() / 60)
    hours, minutes = divmod(minutes_total, 60)
    hours_text = ngettext("%(count)d hour", "%(count)d hours", hours) % {"count": hours}
    minutes_text = ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}
    if hours and minutes:
        return _("%(hours)s %(minutes)s") % {"hours": hours_text, "minutes": minutes_text}
    return hours_text if hours else minutes_text


# One function per kind ---------------------------------------------------------------------------


def _received(step: TraceStep) -> str:
    return _("Received on %(date)s at %(time)s.") % _when(step)


def _start_moved(step: TraceStep) -> str:
    values = {**_when(step), "name": step.params.get("name") or ""}
    reason = step.params.get("reason")
    if reason == REASON_BEFORE_OPENING:
        text = _("Received before office hours; the time limit counts from %(time)s on %(date)s.")
    elif reason == REASON_BREAK:
        text = _(
            "Received during the midday break; the time limit counts from %(time)s on %(date)s."
        )
    elif reason == REASON_WEEKEND:
        text = _("Received on a weekend; the time limit counts from %(time)s on %(date)s.")
    elif reason == REASON_DAY_OFF and values["name"]:
        text = _(
            "Received on a day off (%(name)s); the time limit counts from %(time)s on %(date)s."
        )
    elif reason == REASON_DAY_OFF:
        text = _("Received on a day off; the time limit counts from %(time)s on %(date)s.")
    elif reason == REASON_AFTER_CLOSE:
        text = _("Received after office hours; the time limit counts from %(time)s on %(date)s.")
    else:
        text = _("The time limit counts from %(time)s on %(date)s.")
    return text % values


def _cutoff(step: TraceStep) -> str:
    day = _day(step.params.get("date")) or _day(step.at)
    return _(
        "Received after the %(cutoff)s cut-off for same-day procedures; the result is due on "
        "the next working day, %(date)s."
    ) % {"cutoff": step.params.get("cutoff") or "", "date": _date_text(day)}


def _limit(step: TraceStep) -> str:
    params = step.params
    value_text, value = _number(params.get("value"))
    count = 1 if value == 1 else 2
    if params.get("same_day"):
        return _("Time limit: the same working day, counted from %(time)s on %(date)s.") % _when(
            step
        )
    unit = params.get("unit")
    if unit == CALENDAR_DAYS:
        limit = ngettext("%(value)s calendar day", "%(value)s calendar days", count)
        return _("Time limit: %(limit)s; the last day is %(date)s.") % {
            "limit": limit % {"value": value_text},
            "date": _date_text(_day(params.get("last_day")) or _day(step.at)),
        }
    if unit == WORKING_HOURS:
        limit = ngettext("%(value)s working hour", "%(value)s working hours", count)
    elif unit == WORKING_DAYS:
        limit = ngettext("%(value)s working day", "%(value)s working days", count)
    else:
        limit = "%(value)s " + str(unit)
    return _("Time limit: %(limit)s, counted from %(time)s on %(date)s.") % {
        **_when(step),
        "limit": limit % {"value": value_text},
    }


def _day_skipped(step: TraceStep) -> str:
    day = _day(step.params.get("date")) or _day(step.at)
    values = {"weekday": _weekday(day), "date": _date_text(day), "name": step.params.get("name")}
    if step.params.get("reason") == REASON_DAY_OFF and values["name"]:
        return _("%(weekday)s %(date)s is not a working day: %(name)s.") % values
    if step.params.get("reason") == REASON_DAY_OFF:
        return _("%(weekday)s %(date)s is not a working day (day off).") % values
    return _("%(weekday)s %(date)s is not a working day (weekend).") % values


def _makeup_day(step: TraceStep) -> str:
    day = _day(step.params.get("date")) or _day(step.at)
    values = {"weekday": _weekday(day), "date": _date_text(day), "name": step.params.get("name")}
    if values["name"]:
        text = _(
            "%(weekday)s %(date)s is a make-up working day (%(name)s) and counts as a working day."
        )
    else:
        text = _("%(weekday)s %(date)s is a make-up working day and counts as a working day.")
    return text % values


def _pause(step: TraceStep) -> str:
    params = step.params
    values = {
        "start": _moment_text(_moment(params.get("start")) or _moment(step.at)),
        "end": _moment_text(_moment(params.get("end"))),
        "duration": _duration(params.get("office_seconds")),
    }
    counted = params.get("counted", True)
    if params.get("open") and not counted:
        text = _(
            "Processing has been paused for missing documents since %(start)s, after the "
            "deadline had passed; the deadline does not move."
        )
    elif params.get("open"):
        text = _(
            "Processing has been paused for missing documents since %(start)s; "
            "%(duration)s of office time so far is added to the deadline."
        )
    elif not counted:
        text = _(
            "Processing was paused for missing documents from %(start)s to %(end)s, after the "
            "deadline had passed; the deadline does not move."
        )
    else:
        text = _(
            "Processing was paused for missing documents from %(start)s to %(end)s; "
            "%(duration)s of office time is added to the deadline."
        )
    return text % values


def _moved_to_working_day(step: TraceStep) -> str:
    params = step.params
    return _(
        "The last day, %(from)s, is not a working day; the result is due at the close of the "
        "next working day, %(to)s."
    ) % {
        "from": _date_text(_day(params.get("from"))),
        "to": _date_text(_day(params.get("to")) or _day(step.at)),
    }


def _due(step: TraceStep) -> str:
    return _("Due at %(time)s on %(date)s.") % _when(step)


def _apology(step: TraceStep) -> str:
    moment = _moment(step.params.get("promised_at")) or _moment(step.at)
    return _("An apology slip was issued; the new promised date is %(time)s on %(date)s.") % {
        "date": _date_text(moment.date() if moment else None),
        "time": _time_text(moment),
    }


def _other(step: TraceStep) -> str:
    # A kind this module does not know (yet): say what little can be said, untranslated.
    when = _when(step)
    return f"{step.kind}: {when['time']} {when['date']}." if step.at else f"{step.kind}."


_DESCRIBERS: dict[str, Callable[[TraceStep], str]] = {
    STEP_RECEIVED: _received,
    STEP_START_MOVED: _start_moved,
    STEP_CUTOFF: _cutoff,
    STEP_LIMIT: _limit,
    STEP_DAY_SKIPPED: _day_skipped,
    STEP_MAKEUP_DAY: _makeup_day,
    STEP_PAUSE: _pause,
    STEP_MOVED_TO_WORKING_DAY: _moved_to_working_day,
    STEP_DUE: _due,
    STEP_APOLOGY: _apology,
}
