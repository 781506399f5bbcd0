"""How dossier pages say durations, statuses and timeliness."""

from datetime import timedelta

from django import template
from django.utils.formats import number_format
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from procedures.choices import DocumentKind

from ..choices import Status, Timeliness

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


@register.filter
def timeliness_label(value: str) -> str:
    if value in Timeliness.values:
        return str(Timeliness(value).label)
    return ""


@register.filter
def status_label(value: str) -> str:
    if value in Status.values:
        return str(Status(value).label)
    return value or ""


@register.filter
def document_kind(value: str) -> str:
    """The label of a document's kind (original, copy, certified copy)."""
    if value in DocumentKind.values:
        return str(DocumentKind(value).label)
    return value or ""


@register.filter
def code_breaks(code: str) -> str:
    """A dossier code that may wrap after its hyphens (000.00.15.H61-/261127-/0001), not
    inside the agency code."""
    return mark_safe("-<wbr>".join(conditional_escape(part) for part in str(code).split("-")))


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
