"""Sổ theo dõi hồ sơ (Mẫu 06, Thông tư 01/2018/TT-VPCP): its rows, and the book as XLSX."""

from dataclasses import dataclass, fields
from datetime import date, datetime
from io import BytesIO

from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from portal.models import Unit

from .choices import Action, Status, Timeliness
from .models import Dossier, DossierEvent
from .selectors import tracking_register, with_current_timeliness

FORM_NUMBER = "Mẫu số 06"  # legal text: the same in both languages
DATETIME_FORMAT = "dd/mm/yyyy hh:mm"


def register_entries(*, unit: Unit, start: date, end: date, now: datetime) -> QuerySet[Dossier]:
    """The register's dossiers in one query: each with ``handed_over_at`` (the first time it
    was passed on for processing) and ``current_timeliness`` as of ``now``."""
    first_start = (
        DossierEvent.objects.filter(dossier=OuterRef("pk"), action=Action.START)
        .order_by("at", "id")
        .values("at")[:1]
    )
    return with_current_timeliness(
        tracking_register(unit=unit, start=start, end=end), now
    ).annotate(handed_over_at=Subquery(first_start))


def register_note(dossier: Dossier) -> str:
    """Ghi chú: timeliness, status, and the new date of an apology slip."""
    parts = []
    timeliness = getattr(dossier, "current_timeliness", None) or dossier.timeliness
    if timeliness in Timeliness.values:
        parts.append(str(Timeliness(timeliness).label))
    if dossier.status in Status.values:
        parts.append(str(Status(dossier.status).label))
    if dossier.promised_at:
        parts.append(
            _("new date %(date)s")
            % {"date": timezone.localtime(dossier.promised_at).strftime("%d/%m/%Y")}
        )
    return "; ".join(parts)


def applicant_contact(dossier: Dossier) -> str:
    return ", ".join(part for part in (dossier.applicant_address, dossier.applicant_phone) if part)


def register_filename(*, unit: Unit, start: date, end: date) -> str:
    return f"so-theo-doi-ho-so_{unit.code}_{start:%Y%m%d}-{end:%Y%m%d}.xlsx"


# --- The workbook ---------------------------------------------------------------------------


def _columns() -> list[tuple[str, str | None, float]]:
    """(heading, group or None, width in characters) of the book's 13 columns."""
    return [
        (_("No."), None, 5),
        (_("Dossier code"), None, 27),
        (_("Name of the administrative procedure"), None, 38),
        (_("Number of dossiers (sets)"), None, 9),
        (_("Name of the individual or organisation"), None, 22),
        (_("Address, phone number"), None, 30),
        (_("Body in charge of processing"), None, 22),
        (_("Received"), "when", 16),
        (_("Result due"), "when", 16),
        (_("Passed on for processing"), "when", 16),
        (_("Date and time"), "returned", 16),
        (_("Signature of receipt"), "returned", 14),
        (_("Notes"), None, 26),
    ]


def _groups() -> dict[str, str]:
    return {"when": _("Date and time"), "returned": _("Result returned")}


THIN = Side(style="thin", color="000000")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
WRAP_TOP = Alignment(wrap_text=True, vertical="top")
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
HEADER_ROWS = (6, 7)  # two levels of headings
NUMBER_ROW = 8  # (1), (2), … under the headings, as in the printed book
FIRST_DATA_ROW = 9


def _text(value: str) -> str:
    return ILLEGAL_CHARACTERS_RE.sub("", value or "")


def _put(ws: Worksheet, row: int, column: int, value, **style) -> Cell:
    cell = ws.cell(row=row, column=column)
    if isinstance(value, datetime):
        cell.value = timezone.localtime(value).replace(tzinfo=None)
        cell.number_format = DATETIME_FORMAT
    elif isinstance(value, str):
        cell.value = _text(value)
        cell.data_type = "s"  # never a formula, whatever the applicant typed ("=…")
    else:
        cell.value = value
    for name, setting in style.items():
        setattr(cell, name, setting)
    return cell


def _local(value: datetime | None) -> datetime | None:
    return timezone.localtime(value) if value else None


@dataclass
class RegisterRow:
    """One line of the register, in the order of the book's columns (1) to (13)."""

    number: int
    code: str
    procedure: str
    sets: int
    applicant: str
    contact: str
    unit: str
    received_at: datetime | None
    due_at: datetime | None
    handed_over_at: datetime | None
    returned_at: datetime | None
    signature: str
    note: str

    def values(self) -> list:
        return [getattr(self, field.name) for field in fields(self)]


def register_rows(entries: list[Dossier]) -> list[RegisterRow]:
    """The register's table, one row per dossier, with times in local time."""
    return [
        RegisterRow(
            number=number,
            code=dossier.code,
            procedure=dossier.procedure.name,
            sets=1,
            applicant=dossier.applicant_name,
            contact=applicant_contact(dossier),
            unit=dossier.unit.name,
            received_at=_local(dossier.received_at),
            due_at=_local(dossier.due_at),
            handed_over_at=_local(getattr(dossier, "handed_over_at", None)),
            returned_at=_local(dossier.returned_at),
            signature="",
            note=register_note(dossier),
        )
        for number, dossier in enumerate(entries, start=1)
    ]


def register_workbook(*, unit: Unit, start: date, end: date, entries: list[Dossier]) -> bytes:
    """The register as an XLSX book laid out like the printed one: title, unit and period,
    two levels of merged headings, borders, wrapped text, real dates, A4 landscape."""
    columns, groups = _columns(), _groups()
    last = get_column_letter(len(columns))
    wb = Workbook()
    ws = wb.active
    ws.title = _("Tracking register")[:31]

    ws.merge_cells(f"A1:{last}1")
    _put(ws, 1, 1, FORM_NUMBER, font=Font(bold=True), alignment=Alignment(horizontal="right"))
    ws.merge_cells(f"A2:{last}2")
    _put(
        ws,
        2,
        1,
        _("Dossier tracking register").upper(),
        font=Font(bold=True, size=14),
        alignment=Alignment(horizontal="center"),
    )
    ws.merge_cells(f"A3:{last}3")
    _put(
        ws,
        3,
        1,
        _("Unit: %(unit)s (%(code)s)") % {"unit": unit.name, "code": unit.code},
        alignment=Alignment(horizontal="center"),
    )
    ws.merge_cells(f"A4:{last}4")
    _put(
        ws,
        4,
        1,
        _("From %(start)s to %(end)s") % {"start": f"{start:%d/%m/%Y}", "end": f"{end:%d/%m/%Y}"},
        font=Font(italic=True),
        alignment=Alignment(horizontal="center"),
    )

    top, bottom = HEADER_ROWS
    bold = Font(bold=True)
    index = 1
    while index <= len(columns):
        heading, group, _width = columns[index - 1]
        if group is None:
            ws.merge_cells(start_row=top, start_column=index, end_row=bottom, end_column=index)
            _put(ws, top, index, heading, font=bold, alignment=CENTER)
            index += 1
            continue
        span = [i for i, column in enumerate(columns, start=1) if column[1] == group]
        ws.merge_cells(start_row=top, start_column=span[0], end_row=top, end_column=span[-1])
        _put(ws, top, span[0], groups[group], font=bold, alignment=CENTER)
        for column in span:
            _put(ws, bottom, column, columns[column - 1][0], font=bold, alignment=CENTER)
        index = span[-1] + 1
    for column in range(1, len(columns) + 1):
        _put(ws, NUMBER_ROW, column, f"({column})", font=Font(italic=True), alignment=CENTER)
        for row in (top, bottom, NUMBER_ROW):
            ws.cell(row=row, column=column).border = BORDER
    ws.row_dimensions[bottom].height = 45

    for offset, register_row in enumerate(register_rows(entries)):
        row = FIRST_DATA_ROW + offset
        for column, value in enumerate(register_row.values(), start=1):
            cell = _put(ws, row, column, value, border=BORDER, alignment=WRAP_TOP)
            if column in (1, 4):
                cell.alignment = Alignment(horizontal="center", vertical="top")
    if not entries:
        ws.merge_cells(
            start_row=FIRST_DATA_ROW,
            start_column=1,
            end_row=FIRST_DATA_ROW,
            end_column=len(columns),
        )
        _put(
            ws,
            FIRST_DATA_ROW,
            1,
            _("No dossier was received in this period."),
            alignment=Alignment(horizontal="center"),
        )

    for column, (_heading, _group, width) in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(column)].width = width
    ws.freeze_panes = ws.cell(row=FIRST_DATA_ROW, column=3)
    ws.print_title_rows = f"{top}:{NUMBER_ROW}"
    ws.page_setup.orientation = ws.ORIENTATION_LANDSCAPE
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.5

    buffer = BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
