"""Biểu số II.06a as XLSX and CSV: read back the way a spreadsheet reads them."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

import pytest
from django.utils import translation
from openpyxl import load_workbook

from portal.models import Unit
from reports.exports import (
    FIRST_ROW,
    HEADER_TOP,
    NUMBER_ROW,
    report_csv,
    report_filename,
    report_workbook,
)
from reports.periods import custom_period, parse_period
from reports.selectors import Counts, Report, ReportRow

PROVINCE = Unit(pk=1, code="000.00.00.H61", name="UBND tỉnh Yên Bái", path="/1/")
DISTRICT = Unit(pk=2, code="000.00.15.H61", name="UBND huyện Văn Yên", parent=PROVINCE)

OWN = Counts(
    received_online=9140,
    received_in_person=42432,
    received_postal=11383,
    carried_over=17,
    resolved_early=62437,
    resolved_on_time=501,
    resolved_late=0,
    pending_in_time=17,
    pending_overdue=0,
    withdrawn=17,
    online_eligible=20000,
    digitized_intake=1996,
    digitized_result=1500,
    ratings=40,
    satisfied=40,
)
XA_A = Counts(
    received_in_person=20000,
    received_postal=2000,
    carried_over=252,
    resolved_early=21550,
    resolved_on_time=700,
    resolved_late=2,
    online_eligible=100,
)
XA_B = Counts(received_online=3, pending_overdue=2, resolved_early=1, online_eligible=3)


def district_report(*, group_by: str = "unit", label: str = "UBND xã An Thịnh") -> Report:
    communes = Counts.total([XA_A, XA_B])
    rows = [
        ReportRow(DISTRICT.code, "UBND huyện Văn Yên (hồ sơ của huyện)", OWN, {}),
        ReportRow("000.02.15.H61", label, XA_A, {}),
        ReportRow("000.03.15.H61", "UBND xã Đông Cuông", XA_B, {}),
    ]
    return Report(
        unit=DISTRICT,
        period=parse_period("2026-10"),
        group_by=group_by,
        as_of=datetime(2026, 10, 15),
        rows=rows,
        total=Counts.total([OWN, communes]),
        commune_subtotal=communes,
        subtotal_label="Cấp xã",
    )


def read_book(report: Report):
    with translation.override("en"):
        content = report_workbook(report, today=date(2026, 10, 16))
    return load_workbook(io.BytesIO(content)).active


def flat(form: dict) -> list[int]:
    """Columns (3)–(13) and withdrawn from the JSON shape (column 5 = in person + postal)."""
    received, resolved, pending = form["received"], form["resolved"], form["pending"]
    return [
        received["total"],
        received["online"],
        received["in_person"] + received["postal"],
        received["carried_over"],
        resolved["total"],
        resolved["early"],
        resolved["on_time"],
        resolved["late"],
        pending["total"],
        pending["in_time"],
        pending["overdue"],
        form["withdrawn"],
    ]


def test_the_book_has_the_forms_header():
    ws = read_book(district_report())
    texts = [cell.value for row in ws.iter_rows(max_row=HEADER_TOP - 1) for cell in row]
    assert "Biểu số II.06a/VPCP/KSTT" in texts
    assert "Reporting unit: UBND huyện Văn Yên" in texts
    assert "Receiving unit: UBND tỉnh Yên Bái" in texts
    assert "THE HANDLING OF ADMINISTRATIVE PROCEDURES AND ITS RESULTS" in texts
    assert "From 15/09/2026 to 14/10/2026" in texts
    assert any(text and text.startswith("Unit of count") for text in texts)


def test_the_book_has_two_levels_of_merged_headings_and_the_column_numbers():
    ws = read_book(district_report())
    merged = {str(r) for r in ws.merged_cells.ranges}
    top, mid, low = HEADER_TOP, HEADER_TOP + 1, HEADER_TOP + 2
    assert {
        f"A{top}:A{low}",  # TT
        f"B{top}:B{low}",  # unit
        f"C{top}:F{top}",  # received
        f"C{mid}:C{low}",  # received: total
        f"D{mid}:E{mid}",  # in the period: online, in person and postal
        f"F{mid}:F{low}",  # from the previous period
        f"G{top}:J{top}",  # resolved
        f"K{top}:M{top}",  # being processed
        f"N{top}:N{low}",  # withdrawn or stopped
    } <= merged
    assert ws[f"C{top}"].value == "Received"
    assert ws[f"G{top}"].value == "Resolved"
    assert ws[f"K{top}"].value == "Being processed"
    assert ws[f"D{low}"].value == "Online"
    assert ws[f"N{top}"].value == "Withdrawn / stopped"
    numbers = [ws.cell(row=NUMBER_ROW, column=c).value for c in range(1, 15)]
    assert numbers == [f"({n})" for n in range(1, 14)] + ["(3)−(7)−(11)"]


def test_the_books_lines_and_totals_are_numbers_equal_to_the_json():
    report = district_report()
    ws = read_book(report)
    data = report.as_json()
    lines = [
        [ws.cell(row=row, column=c).value for c in range(1, 15)]
        for row in range(FIRST_ROW, FIRST_ROW + 5)
    ]
    assert [line[0] for line in lines] == ["1", "2", "2.1", "2.2", None]
    assert lines[1][1] == "Cấp xã"
    assert lines[4][1] == "Total"
    assert lines[0][2:] == flat(data["rows"][0])
    assert lines[1][2:] == flat(data["commune_subtotal"])
    assert lines[2][2:] == flat(data["rows"][1])
    assert lines[4][2:] == flat(data["total"])
    assert all(isinstance(value, int) for value in lines[4][2:])  # no formula to evaluate
    assert lines[4][2] == 62955 + 17 + 22252 + 3  # column (3) of the total


def test_the_book_lists_the_indicators_and_the_signatures():
    ws = read_book(district_report())
    rows = [[cell.value for cell in row if cell.value is not None] for row in ws.iter_rows()]
    on_time = next(row for row in rows if row and str(row[0]).startswith("On-time rate"))
    assert on_time[1] == pytest.approx((62437 + 501 + 21550 + 700 + 1) / (62938 + 22253))
    satisfaction = next(row for row in rows if row and str(row[0]).startswith("Satisfied"))
    assert satisfaction[1] == 1
    texts = {value for row in rows for value in row if isinstance(value, str)}
    assert "PREPARED BY" in texts and "HEAD OF THE UNIT" in texts
    assert "Văn Yên, 16/10/2026" in texts  # "ngày 16 tháng 10 năm 2026" in Vietnamese


def test_a_rate_without_a_denominator_is_a_dash():
    report = district_report()
    report.total.ratings = report.total.satisfied = 0
    ws = read_book(report)
    rows = [[cell.value for cell in row if cell.value is not None] for row in ws.iter_rows()]
    satisfaction = next(row for row in rows if row and str(row[0]).startswith("Satisfied"))
    assert satisfaction[1] == "—"


def test_the_book_is_set_up_for_an_a4_landscape_page():
    ws = read_book(district_report())
    assert ws.page_setup.orientation == "landscape"
    assert int(ws.page_setup.paperSize) == 9  # A4
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert int(ws.page_setup.fitToWidth) == 1
    assert ws.freeze_panes == f"C{FIRST_ROW}"
    assert ws.print_title_rows == f"${HEADER_TOP}:${NUMBER_ROW}"
    assert ws.column_dimensions["B"].width > ws.column_dimensions["C"].width
    assert ws[f"C{FIRST_ROW}"].border.left.style == "thin"
    assert ws[f"B{HEADER_TOP}"].alignment.wrap_text


def test_a_name_that_looks_like_a_formula_stays_text():
    report = district_report(label="=HYPERLINK(1)")
    ws = read_book(report)
    assert ws[f"B{FIRST_ROW + 2}"].value == "=HYPERLINK(1)"
    assert ws[f"B{FIRST_ROW + 2}"].data_type == "s"
    rows = list(csv.reader(io.StringIO(report_csv(report).decode("utf-8-sig"))))
    assert rows[3][2] == "'=HYPERLINK(1)"


def test_the_csv_has_a_bom_one_header_row_and_the_lines():
    report = district_report()
    with translation.override("vi"):
        content = report_csv(report)
    assert content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    header, *lines = rows
    assert len(header) == 16
    assert [line[0] for line in lines] == ["1", "2", "2.1", "2.2", ""]
    assert lines[0][1] == DISTRICT.code and lines[1][2] == "Cấp xã"
    total = [int(value) for value in lines[-1][3:]]
    data = report.as_json()["total"]
    assert total == [
        data["received"]["total"],
        data["received"]["online"],
        data["received"]["in_person"],
        data["received"]["postal"],
        data["received"]["carried_over"],
        data["resolved"]["total"],
        data["resolved"]["early"],
        data["resolved"]["on_time"],
        data["resolved"]["late"],
        data["pending"]["total"],
        data["pending"]["in_time"],
        data["pending"]["overdue"],
        data["withdrawn"],
    ]


def test_the_csv_header_in_english():
    with translation.override("en"):
        header = next(csv.reader(io.StringIO(report_csv(district_report()).decode("utf-8-sig"))))
    assert header[:4] == ["No.", "Code", "Unit", "Received – Total"]
    assert header[4:7] == [
        "Received – In the period – Online",
        "Received – In the period – In person",
        "Received – In the period – Public postal service",
    ]
    assert header[-1] == "Withdrawn / stopped"


def test_rows_by_field_say_field_and_have_no_subtotal():
    report = district_report(group_by="field")
    report.commune_subtotal = None
    with translation.override("en"):
        rows = list(csv.reader(io.StringIO(report_csv(report).decode("utf-8-sig"))))
    assert rows[0][2] == "Field"
    assert [row[0] for row in rows[1:]] == ["1", "2", "3", ""]


def test_file_names():
    report = district_report()
    assert report_filename(report, "xlsx") == "bao-cao-II06a-000.00.15.H61-2026-10.xlsx"
    report.period = parse_period("2026-Q3", basis="calendar")
    report.group_by = "field"
    assert report_filename(report, "csv") == (
        "bao-cao-II06a-000.00.15.H61-2026-Q3-duong-lich-linh-vuc.csv"
    )
    report.period = custom_period(date(2025, 12, 15), date(2026, 8, 14))
    report.group_by = "unit"
    assert report_filename(report, "xlsx") == (
        "bao-cao-II06a-000.00.15.H61-2025-12-15_2026-08-14.xlsx"
    )


def test_a_unit_at_the_top_reports_to_a_blank_line():
    report = district_report()
    report.unit = PROVINCE
    ws = read_book(report)
    assert ws["I2"].value.startswith("Receiving unit: …")
