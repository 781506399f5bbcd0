"""Reading a CSV of historical dossiers into validated records, with errors by row and column.

Parsing only: nothing here touches the database. ``services.imports.import_dossiers`` checks
what needs the database (procedures, units, codes already taken) and writes.

Columns (DESIGN.md §6), header row, UTF-8: see ``CSV_COLUMNS``. Times are ISO 8601; without an
offset they are Asia/Ho_Chi_Minh. ``postal_tracking_no`` is an optional extra column: a postal
dossier cannot be stored without one (the ``postal_dossier_has_tracking_no`` constraint).

Rows are numbered as a spreadsheet shows them: the header is row 1, the first dossier row 2.
"""

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.validators import citizen_id_validator, phone_validator
from procedures.deadlines import VN_TZ

from .choices import Channel

CSV_COLUMNS = [
    "code",
    "procedure",
    "unit",
    "channel",
    "applicant_name",
    "applicant_id_number",
    "applicant_phone",
    "received_at",
    "due_at",
    "resolved_at",
    "returned_at",
    "closed_at",
    "outcome",
    "digitized_intake",
    "digitized_result",
    "rating",
]
OPTIONAL_COLUMNS = ["postal_tracking_no"]
REQUIRED_COLUMNS = [
    "procedure",
    "unit",
    "channel",
    "applicant_name",
    "applicant_id_number",
    "applicant_phone",
    "received_at",
]

RESOLVED, REJECTED, WITHDRAWN, STOPPED = "resolved", "rejected", "withdrawn", "stopped"
OUTCOMES = (RESOLVED, REJECTED, WITHDRAWN, STOPPED)
DECIDED_OUTCOMES = (RESOLVED, REJECTED)
CLOSED_OUTCOMES = (WITHDRAWN, STOPPED)
# The scores of a rating (DESIGN.md §5 "POST dossiers/{code}/rating/").
RATING_SCORES = ("very_satisfied", "satisfied", "neutral", "dissatisfied")

# <agency code>-<yymmdd>-<sequence of 4 or more digits>, e.g. 000.00.15.H61-221102-0001.
CODE_PATTERN = re.compile(r"^(?P<unit>.+)-(?P<day>\d{6})-(?P<number>\d{4,})$")
CODE_MAX_LENGTH = 48
_TRUE = {"1", "true", "yes"}
_FALSE = {"0", "false", "no", ""}


@dataclass(frozen=True)
class RowError:
    row: int  # as a spreadsheet numbers it: the header is row 1
    column: str  # "" when the error is about the row as a whole
    message: str

    def __str__(self) -> str:
        if self.column:
            return _("Row %(row)s, %(column)s: %(message)s") % {
                "row": self.row,
                "column": self.column,
                "message": self.message,
            }
        return _("Row %(row)s: %(message)s") % {"row": self.row, "message": self.message}

    def as_dict(self) -> dict[str, int | str]:
        return {"row": self.row, "column": self.column, "message": self.message}


@dataclass
class DossierRecord:
    row: int
    code: str  # "" = generate one
    code_number: int | None  # the sequence number of a given code
    procedure: str
    unit: str
    channel: str
    applicant_name: str
    applicant_id_number: str
    applicant_phone: str
    received_at: datetime
    due_at: datetime | None
    resolved_at: datetime | None
    returned_at: datetime | None
    closed_at: datetime | None
    outcome: str  # "" while open
    digitized_intake: bool
    digitized_result: bool
    postal_tracking_no: str = ""

    @property
    def received_day(self) -> date:
        return timezone.localdate(self.received_at)


@dataclass
class ParsedDossiers:
    records: list[DossierRecord] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


class DossierFileError(ValueError):
    """The file as a whole cannot be read (not CSV, missing or unknown columns, empty)."""


class _RowErrors:
    """Collects every error of one row, so that a user fixes a row in one go."""

    def __init__(self, row: int) -> None:
        self.row = row
        self.errors: list[RowError] = []

    def add(self, column: str, message: str) -> None:
        self.errors.append(RowError(self.row, column, message))


def _text(value: str | None) -> str:
    return (value or "").strip()


def _moment(value: str, column: str, errors: _RowErrors) -> datetime | None:
    text = _text(value)
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        errors.add(
            column,
            _("“%(value)s” is not an ISO 8601 date and time, e.g. 2022-11-02T08:15:00.")
            % {"value": text},
        )
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=VN_TZ)
    return moment


def _flag(value: str, column: str, errors: _RowErrors) -> bool:
    text = _text(value).lower()
    if text in _TRUE:
        return True
    if text not in _FALSE:
        errors.add(column, _("Write 0 or 1, not “%(value)s”.") % {"value": _text(value)})
    return False


def _validated(value: str, validator: object, column: str, errors: _RowErrors) -> str:
    try:
        validator(value)  # type: ignore[operator]
    except ValidationError as exc:
        errors.add(column, " ".join(exc.messages))
    return value


def _code(record_code: str, unit: str, received_at: datetime | None, errors: _RowErrors) -> int:
    """The sequence number of a given code, after checking its shape, unit and day; 0 when bad."""
    if len(record_code) > CODE_MAX_LENGTH:
        errors.add("code", _("A dossier code has at most %(max)d characters.") % {"max": 48})
        return 0
    match = CODE_PATTERN.match(record_code)
    if match is None:
        errors.add(
            "code",
            _(
                "“%(code)s” is not a dossier code: <agency code>-<yymmdd>-<number of 4 or more "
                "digits>, e.g. 000.00.15.H61-221102-0001."
            )
            % {"code": record_code},
        )
        return 0
    if unit and match["unit"] != unit:
        errors.add(
            "code",
            _("The code “%(code)s” does not start with the unit's code %(unit)s.")
            % {"code": record_code, "unit": unit},
        )
    if received_at is not None:
        day = timezone.localdate(received_at)
        if match["day"] != f"{day:%y%m%d}":
            errors.add(
                "code",
                _("The code “%(code)s” does not carry the day of receipt, %(day)s.")
                % {"code": record_code, "day": f"{day:%y%m%d}"},
            )
    number = int(match["number"])
    if number == 0:
        errors.add("code", _("The sequence number of a code starts at 0001."))
    return number


def _check_outcome(
    outcome: str,
    *,
    received_at: datetime | None,
    due_at: datetime | None,
    resolved_at: datetime | None,
    returned_at: datetime | None,
    closed_at: datetime | None,
    errors: _RowErrors,
) -> None:
    """The timestamps a row carries must be those of its outcome, in order."""
    if received_at is not None:
        if due_at is not None and due_at < received_at:
            errors.add("due_at", _("The due date is before the dossier was received."))
        if resolved_at is not None and resolved_at < received_at:
            errors.add("resolved_at", _("The dossier was resolved before it was received."))
        if closed_at is not None and closed_at < received_at:
            errors.add("closed_at", _("The dossier was closed before it was received."))
    if returned_at is not None and resolved_at is not None and returned_at < resolved_at:
        errors.add("returned_at", _("The result was returned before it was ready."))

    if outcome in DECIDED_OUTCOMES:
        if resolved_at is None:
            errors.add(
                "resolved_at", _("A resolved or rejected dossier needs the time of its result.")
            )
        if closed_at is not None:
            errors.add("closed_at", _("Only withdrawn or stopped dossiers have a time of closing."))
        return
    if outcome in CLOSED_OUTCOMES:
        if closed_at is None:
            errors.add("closed_at", _("A withdrawn or stopped dossier needs its time of closing."))
        if resolved_at is not None:
            errors.add("resolved_at", _("A withdrawn or stopped dossier has no result."))
        if returned_at is not None:
            errors.add("returned_at", _("A withdrawn or stopped dossier has no result to return."))
        return
    # Open: no timestamp of an outcome.
    for column, moment in (
        ("resolved_at", resolved_at),
        ("returned_at", returned_at),
        ("closed_at", closed_at),
    ):
        if moment is not None:
            errors.add(
                column,
                _("An open dossier (empty outcome) has no %(column)s: give its outcome.")
                % {"column": column},
            )


def _record(data: dict[str, str], row: int) -> tuple[DossierRecord | None, list[RowError]]:
    errors = _RowErrors(row)
    procedure = _text(data.get("procedure"))
    unit = _text(data.get("unit"))
    if not procedure:
        errors.add("procedure", _("The procedure code is missing."))
    if not unit:
        errors.add("unit", _("The unit's agency code is missing."))
    channel = _text(data.get("channel"))
    if channel not in Channel.values:
        errors.add(
            "channel",
            _("“%(value)s” is not one of: %(choices)s.")
            % {"value": channel, "choices": ", ".join(Channel.values)},
        )
    postal_tracking_no = _text(data.get("postal_tracking_no"))
    if channel == Channel.POSTAL and not postal_tracking_no:
        errors.add("postal_tracking_no", _("A postal dossier needs its postal tracking number."))
    elif len(postal_tracking_no) > 64:
        errors.add("postal_tracking_no", _("At most 64 characters."))

    name = " ".join(_text(data.get("applicant_name")).split())
    if not name:
        errors.add("applicant_name", _("The applicant's name is missing."))
    elif len(name) > 200:
        errors.add("applicant_name", _("At most 200 characters."))
    id_number = _validated(
        _text(data.get("applicant_id_number")),
        citizen_id_validator,
        "applicant_id_number",
        errors,
    )
    phone = _validated(
        _text(data.get("applicant_phone")).replace(" ", "").replace(".", ""),
        phone_validator,
        "applicant_phone",
        errors,
    )

    received_at = _moment(data.get("received_at", ""), "received_at", errors)
    if received_at is None and _text(data.get("received_at")) == "":
        errors.add("received_at", _("The time of receipt is missing."))
    due_at = _moment(data.get("due_at", ""), "due_at", errors)
    resolved_at = _moment(data.get("resolved_at", ""), "resolved_at", errors)
    returned_at = _moment(data.get("returned_at", ""), "returned_at", errors)
    closed_at = _moment(data.get("closed_at", ""), "closed_at", errors)

    outcome = _text(data.get("outcome")).lower()
    if outcome and outcome not in OUTCOMES:
        errors.add(
            "outcome",
            _("“%(value)s” is not one of: %(choices)s, or empty while open.")
            % {"value": outcome, "choices": ", ".join(OUTCOMES)},
        )
    else:
        _check_outcome(
            outcome,
            received_at=received_at,
            due_at=due_at,
            resolved_at=resolved_at,
            returned_at=returned_at,
            closed_at=closed_at,
            errors=errors,
        )
    digitized_intake = _flag(data.get("digitized_intake", ""), "digitized_intake", errors)
    digitized_result = _flag(data.get("digitized_result", ""), "digitized_result", errors)

    # There is no rating model yet: the column is checked, and nothing of it is stored.
    rating = _text(data.get("rating"))
    if rating and rating not in RATING_SCORES:
        errors.add(
            "rating",
            _("“%(value)s” is not one of: %(choices)s, or empty.")
            % {"value": rating, "choices": ", ".join(RATING_SCORES)},
        )

    code = _text(data.get("code"))
    number = _code(code, unit, received_at, errors) if code else None

    if errors.errors or received_at is None:
        return None, errors.errors
    return (
        DossierRecord(
            row=row,
            code=code,
            code_number=number,
            procedure=procedure,
            unit=unit,
            channel=channel,
            applicant_name=name,
            applicant_id_number=id_number,
            applicant_phone=phone,
            received_at=received_at,
            due_at=due_at,
            resolved_at=resolved_at,
            returned_at=returned_at,
            closed_at=closed_at,
            outcome=outcome,
            digitized_intake=digitized_intake,
            digitized_result=digitized_result,
            postal_tracking_no=postal_tracking_no,
        ),
        [],
    )


def _check_header(columns: Iterable[str] | None) -> None:
    names = [name.strip() for name in columns or []]
    missing = [name for name in REQUIRED_COLUMNS if name not in names]
    if missing:
        raise DossierFileError(
            _("The CSV header lacks the columns: %(columns)s.") % {"columns": ", ".join(missing)}
        )
    unknown = [name for name in names if name not in CSV_COLUMNS and name not in OPTIONAL_COLUMNS]
    if unknown:
        raise DossierFileError(
            _("The CSV header has unknown columns: %(columns)s. The columns are: %(known)s.")
            % {
                "columns": ", ".join(unknown),
                "known": ", ".join([*CSV_COLUMNS, *OPTIONAL_COLUMNS]),
            }
        )
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise DossierFileError(
            _("The CSV header repeats the columns: %(columns)s.")
            % {"columns": ", ".join(duplicated)}
        )


def parse_csv(text: str) -> ParsedDossiers:
    """Every row of the file as a record, or its errors by row and column."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise DossierFileError(_("The file is not valid CSV: %(error)s") % {"error": exc}) from None
    _check_header(header)
    assert header is not None
    columns = [name.strip() for name in header]
    parsed = ParsedDossiers()
    seen_codes: dict[str, int] = {}
    row = 1
    try:
        for values in reader:
            row += 1
            if not any(value.strip() for value in values):
                continue  # a blank line, e.g. at the end of the file
            if len(values) != len(columns):
                parsed.errors.append(
                    RowError(
                        row,
                        "",
                        _("The row has %(found)d values; the header has %(expected)d columns.")
                        % {"found": len(values), "expected": len(columns)},
                    )
                )
                continue
            record, errors = _record(dict(zip(columns, values, strict=True)), row)
            parsed.errors.extend(errors)
            if record is None:
                continue
            if record.code:
                first = seen_codes.setdefault(record.code, row)
                if first != row:
                    parsed.errors.append(
                        RowError(
                            row,
                            "code",
                            _("The code %(code)s is also in row %(row)s.")
                            % {"code": record.code, "row": first},
                        )
                    )
                    continue
            parsed.records.append(record)
    except csv.Error as exc:
        raise DossierFileError(
            _("The file is not valid CSV (row %(row)s): %(error)s") % {"row": row + 1, "error": exc}
        ) from None
    if not parsed.records and not parsed.errors:
        raise DossierFileError(_("The file holds no dossiers."))
    return parsed
