"""How dossier pages say durations, statuses and timeliness."""

import html
from datetime import date, datetime, timedelta
from functools import lru_cache

from django import template
from django.template.defaultfilters import date as django_date
from django.utils.formats import number_format
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from procedures.choices import DocumentKind

from ..choices import Channel, Status, Timeliness

register = template.Library()

# A working day is eight office hours (07:30–11:30 and 13:30–17:30): what the clock counts.
WORKING_DAY = timedelta(hours=8)


def _parts(duration: timedelta) -> str:
    """ "2 days 3 hours", "5 hours", "45 minutes" in working time (a day is 8 office hours)."""
    minutes = int(duration.total_seconds() // 60)
    days, minutes = divmod(minutes, int(WORKING_DAY.total_seconds() // 60))
    hours, minutes = divmod(minutes, 60)
    parts = []
    if days:
        parts.append(ngettext("%(count)d day", "%(count)d days", days) % {"count": days})
    if hours:
        parts.append(ngettext("%(count)d hour", "%(count)d hours", hours) % {"count": hours})
    if not days and (minutes or not hours):
        parts.append(
            ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}
        )
    return " ".join(parts)


@register.filter
def working_time_left(duration: timedelta | None) -> str:
    """ "2 days 3 hours of working time left" or "overdue by 1 day"; empty without a clock."""
    if duration is None:
        return ""
    if duration >= timedelta(0):
        return _("%(duration)s of working time left") % {"duration": _parts(duration)}
    return _("overdue by %(duration)s of working time") % {"duration": _parts(-duration)}


@register.filter
def due_soon(duration: timedelta | None) -> bool:
    """Less than one working day left, not yet overdue."""
    return duration is not None and timedelta(0) <= duration < WORKING_DAY


# Labels by value, read once: ``get_FOO_display`` and ``Choices.values`` rebuild their lists on
# every call, a tenth of a worklist page's rendering. The labels stay lazy (translated when shown).
_TIMELINESS = dict(Timeliness.choices)
_STATUS = dict(Status.choices)
_CHANNEL = dict(Channel.choices)
_DOCUMENT_KIND = dict(DocumentKind.choices)


@register.filter
def timeliness_label(value: str) -> str:
    label = _TIMELINESS.get(value)
    return str(label) if label is not None else ""


@register.filter
def status_label(value: str) -> str:
    label = _STATUS.get(value)
    return str(label) if label is not None else value or ""


@register.filter
def channel_label(value: str) -> str:
    label = _CHANNEL.get(value)
    return str(label) if label is not None else value or ""


@register.filter
def document_kind(value: str) -> str:
    """The label of a document's kind (original, copy, certified copy)."""
    label = _DOCUMENT_KIND.get(value)
    return str(label) if label is not None else value or ""


# Django's date format characters that the lists use, as strftime's: the same digits.
_STRFTIME = {"d": "%d", "m": "%m", "Y": "%Y", "H": "%H", "i": "%M"}


@lru_cache(maxsize=64)
def _strftime_pattern(django_format: str) -> str | None:
    if any(ch.isalpha() and ch not in _STRFTIME for ch in django_format) or "%" in django_format:
        return None
    return "".join(_STRFTIME.get(ch, ch) for ch in django_format)


@register.filter(expects_localtime=True, is_safe=False)
def local_date(value: date | datetime | None, django_format: str) -> str:
    """``|date:"d/m/Y"`` for the lists' rows, where Django's date filter (its format lookup
    and formatter) was a seventh of a worklist page: the same text for the format characters
    d, m, Y, H and i, in the current time zone; any other format goes to Django's filter."""
    if value in (None, ""):
        return ""
    pattern = _strftime_pattern(django_format)
    if (
        pattern is None
        or not isinstance(value, date)
        or (not isinstance(value, datetime) and ("%H" in pattern or "%M" in pattern))
    ):
        return django_date(value, django_format)
    return value.strftime(pattern)


@register.filter
def code_breaks(code: str) -> str:
    """A dossier code that may wrap after its hyphens (000.00.15.H61-/261127-/0001), not
    inside the agency code."""
    return mark_safe("-<wbr>".join(html.escape(part) for part in str(code).split("-")))


@register.filter
def filesize(size: int | None) -> str:
    """Bytes as KB or MB, with the language's decimal separator."""
    if size is None:
        return ""
    if size < 1024:
        return _("%(size)d bytes") % {"size": size}
    if size < 1024 * 1024:
        return _("%(size)s KB") % {"size": round(size / 1024)}
    return _("%(size)s MB") % {"size": number_format(size / (1024 * 1024), 1)}


@register.simple_tag
def worklist_rows(rows) -> str:
    """The worklist's rows, written in Python (``dossiers.rows``)."""
    from ..rows import worklist_rows as write

    return write(rows)


@register.simple_tag
def overdue_rows(rows) -> str:
    """The overdue list's rows, written in Python (``dossiers.rows``)."""
    from ..rows import overdue_rows as write

    return write(rows)


@register.simple_tag
def filter_fields(fields) -> str:
    """The worklist filter's fields, each in its ``<div class="field">``: what
    ``dossiers/_filter_field.html`` wrote for each (``dossiers/tests/test_rows.py`` renders
    both and compares), in Python — ten includes were a tenth of the page's rendering."""
    from ..rows import e

    out = []
    for field in fields:
        errors = field.errors
        label_for = e(field.id_for_label)
        help_text = (
            f'<p class="hint" id="{label_for}_help">{e(field.help_text)}</p>'
            if field.help_text
            else ""
        )
        out.append(
            f'<div class="field{" field-error" if errors else ""}">'
            f'<label for="{label_for}">{e(field.label)}</label>\n{e(field)}\n{help_text}\n'
            + "".join(f'<p class="error-text">{e(error)}</p>' for error in errors)
            + "\n</div>"
        )
    return mark_safe("".join(out))
