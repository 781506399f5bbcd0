"""Keep citizens' ID numbers and phone numbers out of the logs and error reports.

The code does not log them; these are the net under it, for what others log: SQL with its
parameters (``django.db.backends`` at DEBUG), the development SMS backend, an exception message
that quotes its input, a crash report listing the POSTed form.

- ``PersonalDataFilter``, on every handler in ``LOGGING``: rewrites a record's message, its
  traceback text and the SQL parameters attached to it, replacing a 12-digit citizen ID number
  by ``[CCCD]`` and a Vietnamese phone number by ``[SĐT]``. Records without either pass as
  they are.
- ``PersonalDataExceptionReporterFilter`` (``DEFAULT_EXCEPTION_REPORTER_FILTER``): the error
  page and the administrators' crash e-mail hide the applicant's fields of a POSTed form and
  redact the numbers in the traceback's local variables.
"""

import logging
import re
from typing import Any

from django.template.defaultfilters import pprint
from django.views.debug import SafeExceptionReporterFilter

# 12 digits in a row, or in four groups of three split by single spaces, dots or dashes as
# people type them ("015 090 001 234"); not part of a longer run of digits.
ID_NUMBER_RE = re.compile(r"(?<!\d)\d{3}([ .-]?)\d{3}\1\d{3}\1\d{3}(?!\d)")
# A phone number as ``portal.validators.phone_validator`` accepts it — 0, 84 or +84, then a
# mobile number (3, 5, 7, 8 or 9 and 8 digits) or a landline (2 and 9 digits) — also written
# in groups split by single spaces, dots or dashes ("0912 345 678", "+84 912.345.678").
PHONE_RE = re.compile(
    r"(?<![\d+])(?:\+?84[ .-]?|0)(?:[35789](?:[ .-]?\d){8}|2(?:[ .-]?\d){9})(?!\d)"
)
ID_NUMBER_MARK = "[CCCD]"
PHONE_MARK = "[SĐT]"


def redact(text: str) -> str:
    """``text`` with citizen ID numbers and phone numbers replaced by markers."""
    if not text or not any(ch.isdigit() for ch in text):
        return text
    return PHONE_RE.sub(PHONE_MARK, ID_NUMBER_RE.sub(ID_NUMBER_MARK, text))


class PersonalDataFilter(logging.Filter):
    """Redact ID and phone numbers in a record before a handler writes it. Never drops one."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is the formatter's to report, not ours
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        # django.db.backends attaches the SQL and its parameters for structured handlers.
        for name in ("sql", "params"):
            value = getattr(record, name, None)
            if value is not None and redact(str(value)) != str(value):
                setattr(record, name, redact(str(value)))
        return True


class PersonalDataExceptionReporterFilter(SafeExceptionReporterFilter):
    """Django's error reports, with the applicant's identity and contact fields hidden like
    passwords are."""

    hidden_post_fields = re.compile(
        r"id_number|phone|cccd|applicant_(?:name|email|address)|full_name|email|address",
        flags=re.IGNORECASE,
    )

    def get_post_parameters(self, request: Any) -> Any:
        parameters = super().get_post_parameters(request)
        if not parameters:
            return parameters
        cleansed = parameters.copy()
        for name in cleansed:
            if self.hidden_post_fields.search(name):
                cleansed[name] = self.cleansed_substitute
        return cleansed

    def get_traceback_frame_variables(self, request: Any, tb_frame: Any) -> Any:
        return [
            (name, _Shown(redact(pprint(value))))
            for name, value in super().get_traceback_frame_variables(request, tb_frame)
        ]


class _Shown:
    """A variable of a crash report as already printed (and redacted): shown as it is."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text
