"""Reading catalogue files (JSON or CSV) into validated records, with errors per row.

Parsing only: nothing here touches the database. ``services.import_procedures`` writes.

JSON: ``{"fields": [{"code", "name", "sort_order"}], "procedures": [{...}]}`` with the procedure
keys of the API (``time_limit`` {value, unit, same_day}, ``documents`` [{name, kind, count,
required}]). CSV: one procedure a row with the columns of ``CSV_COLUMNS``; ``documents`` holds
one document a line as ``name|kind|count|required``.
"""

import csv
import io
import json
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import models
from django.utils.text import slugify
from django.utils.translation import gettext as _

from .choices import DocumentKind, OnlineLevel, ProcedureLevel, TimeLimitUnit

CSV_COLUMNS = [
    "code",
    "name",
    "field_code",
    "field_name",
    "level",
    "time_limit_value",
    "time_limit_unit",
    "same_day",
    "time_limit_note",
    "fee",
    "fee_amount",
    "legal_basis",
    "result",
    "applicants",
    "online_level",
    "postal_allowed",
    "documents",
]
_TRUE = {"1", "true", "yes", "có", "x"}
_FALSE = {"0", "false", "no", "không", ""}


@dataclass
class DocumentRecord:
    name: str
    kind: str
    count: int
    required: bool


@dataclass
class ProcedureRecord:
    row: int  # where it stands in the file, for error messages
    code: str
    name: str
    field_code: str
    level: str
    time_limit_value: Decimal
    time_limit_unit: str
    same_day: bool = False
    time_limit_note: str = ""
    fee: str = ""
    fee_amount: int | None = None
    legal_basis: str = ""
    result: str = ""
    applicants: str = ""
    steps: str = ""
    online_level: str = OnlineLevel.NONE
    postal_allowed: bool = True
    documents: list[DocumentRecord] = field(default_factory=list)


@dataclass
class FieldRecord:
    code: str
    name: str
    sort_order: int = 0


@dataclass
class RowError:
    row: int  # 1-based: the procedure's position in the JSON list, or the CSV line number
    code: str
    message: str

    def __str__(self) -> str:
        label = _("Row %(row)s") % {"row": self.row}
        if self.code:
            label += f" ({self.code})"
        return f"{label}: {self.message}"


@dataclass
class ParsedCatalogue:
    fields: list[FieldRecord] = field(default_factory=list)
    procedures: list[ProcedureRecord] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


class CatalogueFormatError(ValueError):
    """The file as a whole cannot be read (not JSON, not CSV, wrong columns)."""


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _bool(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    text = _text(value).lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(
        _("%(name)s must be yes or no, not “%(value)s”.") % {"name": name, "value": value}
    )


def _choice(value: Any, choices: type[models.TextChoices], name: str) -> str:
    text = _text(value)
    if text not in choices.values:
        raise ValueError(
            _("%(name)s “%(value)s” is not one of: %(choices)s.")
            % {"name": name, "value": text, "choices": ", ".join(choices.values)}
        )
    return text


def _positive_decimal(value: Any) -> Decimal:
    try:
        number = Decimal(_text(value).replace(",", "."))
    except InvalidOperation:
        raise ValueError(
            _("The time limit “%(value)s” is not a number.") % {"value": value}
        ) from None
    if not number.is_finite() or number <= 0:
        raise ValueError(
            _("The time limit must be greater than zero, not %(value)s.") % {"value": value}
        )
    if number >= 10000:
        raise ValueError(_("The time limit %(value)s is too large.") % {"value": value})
    return number


def _fee_amount(value: Any) -> int | None:
    text = _text(value).replace(".", "").replace(" ", "")
    if text == "" or text.lower() == "null":
        return None
    if not text.isdigit():
        raise ValueError(
            _("The fee amount “%(value)s” is not a whole number of đồng.") % {"value": value}
        )
    return int(text)


def _document(data: dict[str, Any]) -> DocumentRecord:
    name = _text(data.get("name"))
    if not name:
        raise ValueError(_("A document has no name."))
    try:
        count = int(_text(data.get("count")) or 1)
    except ValueError:
        raise ValueError(
            _("The number of copies of “%(name)s” is not a number.") % {"name": name}
        ) from None
    if count < 1:
        raise ValueError(
            _("The number of copies of “%(name)s” must be at least 1.") % {"name": name}
        )
    return DocumentRecord(
        name=name,
        kind=_choice(data.get("kind") or DocumentKind.ORIGINAL, DocumentKind, _("Document kind")),
        count=count,
        required=_bool(data.get("required", True), _("Required")),
    )


def _procedure(data: dict[str, Any], field_code: str, row: int) -> ProcedureRecord:
    code = _text(data.get("code"))
    name = _text(data.get("name"))
    if not code:
        raise ValueError(_("The procedure code is missing."))
    if len(code) > 32:
        raise ValueError(_("The procedure code is longer than 32 characters."))
    if not name:
        raise ValueError(_("The procedure name is missing."))
    if not field_code:
        raise ValueError(_("The field is missing."))
    limit = data.get("time_limit") or {}
    value = _positive_decimal(limit.get("value"))
    unit = _choice(limit.get("unit"), TimeLimitUnit, _("Time limit unit"))
    if unit == TimeLimitUnit.CALENDAR_DAYS and value != int(value):
        raise ValueError(_("A time limit in calendar days must be a whole number."))
    return ProcedureRecord(
        row=row,
        code=code,
        name=name,
        field_code=field_code,
        level=_choice(data.get("level"), ProcedureLevel, _("Level")),
        time_limit_value=value,
        time_limit_unit=unit,
        same_day=_bool(limit.get("same_day", False), _("Same day")),
        time_limit_note=_text(data.get("time_limit_note"))[:500],
        fee=_text(data.get("fee"))[:500],
        fee_amount=_fee_amount(data.get("fee_amount")),
        legal_basis=_text(data.get("legal_basis")),
        result=_text(data.get("result"))[:500],
        applicants=_text(data.get("applicants"))[:500],
        steps=_text(data.get("steps")),
        online_level=_choice(
            data.get("online_level") or OnlineLevel.NONE, OnlineLevel, _("Online level")
        ),
        postal_allowed=_bool(data.get("postal_allowed", True), _("Postal allowed")),
        documents=[_document(doc) for doc in data.get("documents") or []],
    )


def _check_duplicates(parsed: ParsedCatalogue) -> None:
    seen: dict[str, int] = {}
    for record in parsed.procedures:
        row = record.row
        if record.code in seen:
            parsed.errors.append(
                RowError(
                    row,
                    record.code,
                    _("The code also appears in row %(row)s.") % {"row": seen[record.code]},
                )
            )
        seen.setdefault(record.code, row)


def parse_json(text: str) -> ParsedCatalogue:
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CatalogueFormatError(
            _("The file is not valid JSON: %(error)s") % {"error": exc}
        ) from None
    if isinstance(payload, list):
        payload = {"procedures": payload}
    if not isinstance(payload, dict) or not isinstance(payload.get("procedures"), list):
        raise CatalogueFormatError(_("The JSON file must hold a list of procedures."))
    parsed = ParsedCatalogue()
    for index, item in enumerate(payload.get("fields") or [], start=1):
        code, name = _text(item.get("code")), _text(item.get("name"))
        if not code or not name:
            parsed.errors.append(RowError(index, code, _("A field needs a code and a name.")))
            continue
        parsed.fields.append(
            FieldRecord(code=code, name=name, sort_order=int(item.get("sort_order") or 0))
        )
    for index, item in enumerate(payload["procedures"], start=1):
        if not isinstance(item, dict):
            parsed.errors.append(RowError(index, "", _("A procedure must be an object.")))
            continue
        try:
            parsed.procedures.append(_procedure(item, _text(item.get("field")), index))
        except ValueError as exc:
            parsed.errors.append(RowError(index, _text(item.get("code")), str(exc)))
    _check_duplicates(parsed)
    return parsed


def _csv_documents(text: str) -> list[dict[str, str]]:
    documents = []
    for line in text.splitlines():
        if not line.strip():
            continue
        parts = [part.strip() for part in line.split("|")]
        parts += [""] * (4 - len(parts))
        documents.append(
            {"name": parts[0], "kind": parts[1], "count": parts[2], "required": parts[3] or "1"}
        )
    return documents


def parse_csv(text: str) -> ParsedCatalogue:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [
        c
        for c in ("code", "name", "level", "time_limit_value", "time_limit_unit")
        if c not in (reader.fieldnames or [])
    ]
    if not (
        reader.fieldnames
        and ("field_code" in reader.fieldnames or "field_name" in reader.fieldnames)
    ):
        missing.append("field_code")
    if missing:
        raise CatalogueFormatError(
            _("The CSV header lacks the columns: %(columns)s.") % {"columns": ", ".join(missing)}
        )
    parsed = ParsedCatalogue()
    fields: dict[str, FieldRecord] = {}
    for row in reader:
        line = reader.line_num
        field_name = _text(row.get("field_name"))
        field_code = _text(row.get("field_code")) or slugify(
            field_name.replace("đ", "d").replace("Đ", "D")
        )
        data = {
            **row,
            "time_limit": {
                "value": row.get("time_limit_value"),
                "unit": row.get("time_limit_unit"),
                "same_day": row.get("same_day") or "0",
            },
            "documents": _csv_documents(row.get("documents") or ""),
        }
        try:
            parsed.procedures.append(_procedure(data, field_code, line))
        except ValueError as exc:
            parsed.errors.append(RowError(line, _text(row.get("code")), str(exc)))
            continue
        if field_name and field_code not in fields:
            fields[field_code] = FieldRecord(
                code=field_code, name=field_name, sort_order=len(fields) + 1
            )
    parsed.fields = list(fields.values())
    _check_duplicates(parsed)
    return parsed


def parse_catalogue(text: str, *, filename: str = "") -> ParsedCatalogue:
    """Parse a catalogue file, choosing JSON or CSV by the name, else by the content."""
    lowered = filename.lower()
    if lowered.endswith(".json") or (
        not lowered.endswith(".csv") and text.lstrip("\ufeff \n").startswith(("{", "["))
    ):
        return parse_json(text)
    return parse_csv(text)
