"""Biểu số II.06a/VPCP/KSTT as lines, as an XLSX book in the official layout and as CSV.

Pure functions of a :class:`~reports.selectors.Report`: the page, the print view, the
downloads, the API and the command all lay the same report out from the same lines.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date

from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from dossiers.slips import official_date, place_name

from .periods import CALENDAR, CUSTOM
from .selectors import GROUP_BY_FIELD, GROUP_BY_UNIT, Counts, Report

FORM_NUMBER = "Biểu số II.06a/VPCP/KSTT"  # legal text: the same in every language
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"

# The kinds of line, in the order a unit report lists them.
OWN, SUBTOTAL, CHILD, FIELD, TOTAL = "own", "subtotal", "child", "field", "total"


@dataclass
class ReportLine:
    """One line of the form: its number (TT), label, kind, counts, and the filters of the
    dossier list behind it."""

    number: str
    label: str
    kind: str
    counts: Counts
    key: str = ""
    filters: dict[str, str] | None = field(default_factory=dict)


def report_lines(report: Report) -> list[ReportLine]:
    """The report's lines in print order. By unit: the unit's own dossiers (1), the units below
    with their subtotal (2) and each of them (2.1, 2.2, …), then the total. By field: one line
    per field, then the total."""
    lines: list[ReportLine] = []
    if report.group_by == GROUP_BY_UNIT and report.rows:
        own, *children = report.rows
        lines.append(ReportLine("1", own.label, OWN, own.counts, own.key, own.filters))
        if children:
            lines.append(
                ReportLine(
                    "2",
                    report.subtotal_label,
                    SUBTOTAL,
                    report.commune_subtotal or Counts.total(row.counts for row in children),
                    filters={"below": report.unit.code},
                )
            )
            lines += [
                ReportLine(f"2.{n}", row.label, CHILD, row.counts, row.key, row.filters)
                for n, row in enumerate(children, start=1)
            ]
    else:
        lines += [
            ReportLine(str(n), row.label, FIELD, row.counts, row.key, row.filters)
            for n, row in enumerate(report.rows, start=1)
        ]
    lines.append(
        ReportLine(
            "",
            pgettext("report row", "Total"),
            TOTAL,
            report.total,
            filters={"within": report.unit.code},
        )
    )
    return lines


# --- Columns ----------------------------------------------------------------------------------


def column(name: str) -> str:
    """A heading of the form, as the form words it (msgctxt "report column")."""
    return {
        "number": pgettext("report column", "No."),
        "field": pgettext("report column", "Field"),
        "unit": pgettext("report column", "Unit"),
        "code": pgettext("report column", "Code"),
        "received": pgettext("report column", "Received"),
        "total": pgettext("report column", "Total"),
        "in_period": pgettext("report column", "In the period"),
        "online": pgettext("report column", "Online"),
        "in_person_postal": pgettext("report column", "In person, public postal service"),
        "in_person": pgettext("report column", "In person"),
        "postal": pgettext("report column", "Public postal service"),
        "carried_over": pgettext("report column", "From the previous period"),
        "resolved": pgettext("report column", "Resolved"),
        "early": pgettext("report column", "Early"),
        "on_time": pgettext("report column", "On time"),
        "late": pgettext("report column", "Late"),
        "pending": pgettext("report column", "Being processed"),
        "in_time": pgettext("report column", "Not yet due"),
        "overdue": pgettext("report column", "Overdue"),
        "withdrawn": pgettext("report column", "Withdrawn / stopped"),
        "unit_of_count": _("Unit of count: number of dossiers of administrative procedures"),
    }[name]


# The form's 13 columns from (3), and the withdrawn or stopped column that makes a row add up:
# (measure on Counts, drill-down cell). Column (5) is in person and postal together.
FORM_COLUMNS: list[tuple[str, str | None]] = [
    ("received", "received"),
    ("received_online", "received_online"),
    ("received_in_person_postal", None),
    ("carried_over", "carried_over"),
    ("resolved", "resolved"),
    ("resolved_early", "resolved_early"),
    ("resolved_on_time", "resolved_on_time"),
    ("resolved_late", "resolved_late"),
    ("pending", "pending"),
    ("pending_in_time", "pending_in_time"),
    ("pending_overdue", "pending_overdue"),
    ("withdrawn", "withdrawn"),
]
# The same with column (5) split by channel, as the page shows it.
SPLIT_COLUMNS: list[tuple[str, str | None]] = [
    *FORM_COLUMNS[:2],
    ("received_in_person", "received_in_person"),
    ("received_postal", "received_postal"),
    *FORM_COLUMNS[3:],
]
WITHDRAWN_NUMBER = "(3)−(7)−(11)"  # the withdrawn column is what the form's sum leaves over


def measure(counts: Counts, name: str) -> int:
    if name == "received_in_person_postal":
        return counts.received_in_person + counts.received_postal
    return getattr(counts, name)


def form_values(counts: Counts) -> list[int]:
    """Columns (3) to (13) and the withdrawn column."""
    return [measure(counts, name) for name, _cell in FORM_COLUMNS]


def row_heading(report: Report) -> str:
    return column("field") if report.group_by == GROUP_BY_FIELD else column("unit")


# --- Header facts --------------------------------------------------------------------------------


def form_title() -> str:
    return _("The handling of administrative procedures and its results").upper()


def period_dates(report: Report) -> str:
    return _("From %(start)s to %(end)s") % {
        "start": report.period.start.strftime("%d/%m/%Y"),
        "end": report.period.end.strftime("%d/%m/%Y"),
    }


def period_name(report: Report) -> str:
    """ "Kỳ báo cáo: Tháng 10/2026" once translated (a calendar month says so)."""
    label = report.period.label()
    if report.period.basis == CALENDAR and report.period.kind != CUSTOM:
        label = _("%(period)s (calendar months)") % {"period": label}
    return _("Reporting period: %(period)s") % {"period": label}


def receiving_unit(report: Report) -> str:
    """Whom the report goes to: the unit above (its office); a dotted line at the top."""
    parent = report.unit.parent
    return parent.name if parent is not None else "…………………………"


def report_filename(report: Report, extension: str) -> str:
    """``bao-cao-II06a-000.00.15.H61-2026-10.xlsx``; a range, a calendar basis and rows by
    field say so in the name."""
    key = report.period.key.replace("..", "_")
    parts = ["bao-cao-II06a", report.unit.code, key]
    if report.period.basis == CALENDAR and report.period.kind != CUSTOM:
        parts.append("duong-lich")
    if report.group_by == GROUP_BY_FIELD:
        parts.append("linh-vuc")
    return f"{'-'.join(parts)}.{extension}"


def indicator_lines(report: Report) -> list[tuple[str, float | None, int, int]]:
    """(label, rate, numerator, denominator) of each indicator beside the form."""
    total, rates = report.total, report.indicators
    return [
        (
            _("On-time rate (early + on time, of resolved)"),
            rates["on_time_rate"],
            total.resolved_early + total.resolved_on_time,
            total.resolved,
        ),
        (
            _("Online rate (of received for procedures offered online)"),
            rates["online_rate"],
            total.received_online,
            total.online_eligible,
        ),
        (
            _("Digitized at intake (of received in the period)"),
            rates["digitized_intake_rate"],
            total.digitized_intake,
            total.received_in_period,
        ),
        (
            _("Results digitized (of resolved)"),
            rates["digitized_result_rate"],
            total.digitized_result,
            total.resolved,
        ),
        (
            _("Satisfied or very satisfied (of ratings)"),
            rates["satisfaction_rate"],
            total.satisfied,
            total.ratings,
        ),
    ]


def _grouped(value: int) -> str:
    """62.955 in Vietnamese, 62,955 in English."""
    return number_format(value, force_grouping=True)


def signature_roles() -> list[tuple[str, str]]:
    return [
        (_("Prepared by"), _("(sign, full name)")),
        (_("Head of the unit"), _("(sign, seal)")),
    ]


def place_and_date(report: Report, day: date) -> str:
    """ "Văn Yên, ngày 16 tháng 10 năm 2026" once translated."""
    return f"{place_name(report.unit)}, {official_date(day)}"


# --- XLSX -------------------------------------------------------------------------------------

THIN = Side(style="thin", color="000000")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
LEFT = Alignment(horizontal="left", vertical="center", wrap_text=True)
RIGHT = Alignment(horizontal="right", vertical="center")
BOLD = Font(bold=True)
WIDTHS = [6, 34, 10, 10, 12, 10, 10, 9, 9, 9, 10, 9, 9, 12]
LAST = len(WIDTHS)  # 2 label columns, 11 of the form, the withdrawn column
HEADER_TOP = 8  # three levels of headings, then the column numbers
NUMBER_ROW = HEADER_TOP + 3
FIRST_ROW = NUMBER_ROW + 1


def _merge(
    ws: Worksheet, top: int, left: int, bottom: int, right: int, value: object, **style: object
) -> None:
    if (top, left) != (bottom, right):
        ws.merge_cells(start_row=top, start_column=left, end_row=bottom, end_column=right)
    cell = ws.cell(row=top, column=left, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # a unit's or field's name is text, never a formula
    for name, setting in style.items():
        setattr(cell, name, setting)


def _headings(ws: Worksheet, report: Report) -> None:
    top, mid, low = HEADER_TOP, HEADER_TOP + 1, HEADER_TOP + 2
    heading = {"font": BOLD, "alignment": CENTER}
    _merge(ws, top, 1, low, 1, column("number"), **heading)
    _merge(ws, top, 2, low, 2, row_heading(report), **heading)
    _merge(ws, top, 3, top, 6, column("received"), **heading)
    _merge(ws, mid, 3, low, 3, column("total"), **heading)
    _merge(ws, mid, 4, mid, 5, column("in_period"), **heading)
    _merge(ws, low, 4, low, 4, column("online"), **heading)
    _merge(ws, low, 5, low, 5, column("in_person_postal"), **heading)
    _merge(ws, mid, 6, low, 6, column("carried_over"), **heading)
    _merge(ws, top, 7, top, 10, column("resolved"), **heading)
    for offset, name in enumerate(("total", "early", "on_time", "late")):
        _merge(ws, mid, 7 + offset, low, 7 + offset, column(name), **heading)
    _merge(ws, top, 11, top, 13, column("pending"), **heading)
    for offset, name in enumerate(("total", "in_time", "overdue")):
        _merge(ws, mid, 11 + offset, low, 11 + offset, column(name), **heading)
    _merge(ws, top, 14, low, 14, column("withdrawn"), **heading)
    italic = Font(italic=True)
    for index in range(1, LAST + 1):
        label = f"({index})" if index < LAST else WITHDRAWN_NUMBER
        _merge(ws, NUMBER_ROW, index, NUMBER_ROW, index, label, font=italic, alignment=CENTER)
    for row in range(top, NUMBER_ROW + 1):
        for index in range(1, LAST + 1):
            ws.cell(row=row, column=index).border = BORDER
    ws.row_dimensions[low].height = 48


def report_workbook(report: Report, *, today: date | None = None) -> bytes:
    """The form as an XLSX book: header, two levels of merged headings over the 13 columns and
    the withdrawn column, the numbered column row, the lines (numbers, not formulas, so that a
    reader that does not compute reads the right totals), the indicators and the signatures;
    A4 landscape, fitted to the width."""
    today = today or timezone.localdate()
    last = get_column_letter(LAST)
    wb = Workbook()
    ws = wb.active
    ws.title = "II.06a"

    _merge(ws, 1, 1, 1, 4, FORM_NUMBER, font=BOLD, alignment=LEFT)
    _merge(
        ws,
        1,
        9,
        1,
        LAST,
        _("Reporting unit: %(unit)s") % {"unit": report.unit.name},
        alignment=LEFT,
    )
    _merge(
        ws,
        2,
        9,
        2,
        LAST,
        _("Receiving unit: %(unit)s") % {"unit": receiving_unit(report)},
        alignment=LEFT,
    )
    _merge(ws, 4, 1, 4, LAST, form_title(), font=Font(bold=True, size=14), alignment=CENTER)
    _merge(ws, 5, 1, 5, LAST, period_name(report), font=BOLD, alignment=CENTER)
    _merge(ws, 6, 1, 6, LAST, period_dates(report), font=Font(italic=True), alignment=CENTER)
    _merge(ws, 7, 9, 7, LAST, column("unit_of_count"), font=Font(italic=True), alignment=RIGHT)
    _headings(ws, report)

    row = FIRST_ROW
    for line in report_lines(report):
        strong = line.kind in (SUBTOTAL, TOTAL)
        font = BOLD if strong else Font()
        _merge(ws, row, 1, row, 1, line.number, font=font, alignment=CENTER, border=BORDER)
        _merge(ws, row, 2, row, 2, line.label, font=font, alignment=LEFT, border=BORDER)
        for index, value in enumerate(form_values(line.counts), start=3):
            cell = ws.cell(row=row, column=index, value=value)
            cell.font, cell.border, cell.number_format = font, BORDER, "#,##0"
            cell.alignment = Alignment(horizontal="right", vertical="center")
        row += 1

    row += 1
    _merge(ws, row, 1, row, LAST, _("Indicators"), font=BOLD, alignment=LEFT)
    row += 1
    for label, rate, part, whole in indicator_lines(report):
        _merge(ws, row, 1, row, 6, label, alignment=LEFT)
        cell = ws.cell(row=row, column=7, value=rate if rate is not None else "—")
        cell.number_format = "0.0%"
        cell.alignment = RIGHT
        cell.font = BOLD
        _merge(ws, row, 8, row, 10, f"{_grouped(part)} / {_grouped(whole)}", alignment=LEFT)
        row += 1

    row += 1
    _merge(
        ws,
        row,
        9,
        row,
        LAST,
        place_and_date(report, today),
        font=Font(italic=True),
        alignment=CENTER,
    )
    row += 1
    (left_role, left_how), (right_role, right_how) = signature_roles()
    _merge(ws, row, 1, row, 4, left_role.upper(), font=BOLD, alignment=CENTER)
    _merge(ws, row, 9, row, LAST, right_role.upper(), font=BOLD, alignment=CENTER)
    row += 1
    _merge(ws, row, 1, row, 4, left_how, font=Font(italic=True), alignment=CENTER)
    _merge(ws, row, 9, row, LAST, right_how, font=Font(italic=True), alignment=CENTER)

    for index, width in enumerate(WIDTHS, start=1):
        ws.column_dimensions[get_column_letter(index)].width = width
    ws.freeze_panes = ws.cell(row=FIRST_ROW, column=3)
    ws.print_title_rows = f"{HEADER_TOP}:{NUMBER_ROW}"
    ws.print_area = f"A1:{last}{row}"
    ws.page_setup.orientation = ws.ORIENTATION_LANDSCAPE
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.5

    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


# --- CSV --------------------------------------------------------------------------------------


def csv_header(report: Report) -> list[str]:
    """One row of column names (the form's groups joined to their columns)."""
    received, pending, resolved = column("received"), column("pending"), column("resolved")
    in_period = f"{received} – {column('in_period')}"
    return [
        column("number"),
        column("code"),
        row_heading(report),
        f"{received} – {column('total')}",
        f"{in_period} – {column('online')}",
        f"{in_period} – {column('in_person')}",
        f"{in_period} – {column('postal')}",
        f"{received} – {column('carried_over')}",
        f"{resolved} – {column('total')}",
        f"{resolved} – {column('early')}",
        f"{resolved} – {column('on_time')}",
        f"{resolved} – {column('late')}",
        f"{pending} – {column('total')}",
        f"{pending} – {column('in_time')}",
        f"{pending} – {column('overdue')}",
        column("withdrawn"),
    ]


def _csv_safe(text: str) -> str:
    """A name that a spreadsheet would take for a formula is written as text."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@") else text


def report_csv(report: Report, *, bom: bool = True) -> bytes:
    """The lines as CSV, UTF-8 with a byte-order mark so that Excel reads the accents; the
    in-person and postal columns apart."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(csv_header(report))
    for line in report_lines(report):
        writer.writerow(
            [
                line.number,
                line.key,
                _csv_safe(line.label),
                *(measure(line.counts, name) for name, _cell in SPLIT_COLUMNS),
            ]
        )
    return buffer.getvalue().encode("utf-8-sig" if bom else "utf-8")
