"""``manage.py monthly_report`` (DESIGN.md §6): JSON, CSV or XLSX; bad input writes nothing."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation
from openpyxl import load_workbook

from reports.exports import FIRST_ROW

from .factories import District, district_world
from .test_views import NOW, build_scenario

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(time_machine) -> District:
    world = district_world(communes=2)
    build_scenario(world)
    time_machine.move_to(NOW, tick=False)
    return world


def run(*args: str) -> str:
    out = io.StringIO()
    with translation.override("en"):
        call_command("monthly_report", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_json_to_the_standard_output_by_default(world):
    data = json.loads(run("--unit", world.district.code, "--period", "2026-10"))
    assert data["unit"]["code"] == world.district.code
    assert data["period"]["start"] == "2026-09-15"
    assert data["total"]["received"]["total"] == 7
    assert data["total"]["resolved"] == {"total": 3, "early": 2, "on_time": 0, "late": 1}
    assert data["rows"][0]["key"] == world.district.code


def test_json_is_pretty_and_keeps_vietnamese_letters(world):
    out = run("--unit", world.district.code, "--period", "2026-10")
    assert out.startswith("{\n  ")
    assert "UBND huyện Văn Yên" in out  # not \u-escaped


def test_options_by_field_on_a_calendar_basis_and_a_range(world):
    data = json.loads(
        run(
            "--unit",
            world.communes[0].code,
            "--period",
            "2026-Q4",
            "--basis",
            "calendar",
            "--group-by",
            "field",
        )
    )
    assert data["group_by"] == "field"
    assert data["period"]["basis"] == "calendar"
    data = json.loads(
        run("--unit", world.district.code, "--from", "2025-12-15", "--to", "2026-10-14")
    )
    assert data["period"]["key"] == "2025-12-15..2026-10-14"


def test_csv_to_the_standard_output_and_to_a_file(world, tmp_path):
    out = run("--unit", world.district.code, "--period", "2026-10", "--format", "csv")
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0][:3] == ["No.", "Code", "Unit"]
    assert rows[-1][3] == "7"
    target = tmp_path / "bao-cao.csv"
    message = run(
        "--unit",
        world.district.code,
        "--period",
        "2026-10",
        "--format",
        "csv",
        "--output",
        str(target),
    )
    assert target.read_bytes().startswith(b"\xef\xbb\xbf")  # for Excel
    assert str(target) in message


def test_xlsx_to_a_file(world, tmp_path):
    target = tmp_path / "bao-cao.xlsx"
    run(
        "--unit",
        world.district.code,
        "--period",
        "2026-10",
        "--format",
        "xlsx",
        "--output",
        str(target),
    )
    ws = load_workbook(target).active
    assert ws.cell(row=FIRST_ROW + 4, column=3).value == 7


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--period", "2026-13"], "There is no month 13."),
        (["--period", "2026/10"], "is not a period"),
        (["--period", "2027-02"], "has not started yet"),
        (["--period", "2026-10", "--group-by", "district"], "Unknown grouping"),
        (["--period", "2026-10", "--basis", "lunar"], "Unknown basis"),
        (["--from", "2026-10-14", "--to", "2026-09-01"], "end date is before the start date"),
        ([], "Choose a period"),
        (["--period", "2026-10", "--format", "pdf"], "Unknown format “pdf”"),
        (["--period", "2026-10", "--format", "xlsx"], "give --output FILE"),
    ],
)
def test_bad_input_stops_with_a_clear_message(world, args, message):
    with pytest.raises(CommandError, match=message):
        run("--unit", world.district.code, *args)


def test_an_unknown_unit(world):
    with pytest.raises(CommandError, match=re.escape("No unit has the code 000.99.99.H99")):
        run("--unit", "000.99.99.H99", "--period", "2026-10")


def test_bad_input_writes_no_file(world, tmp_path):
    target = tmp_path / "bao-cao.xlsx"
    with pytest.raises(CommandError):
        run(
            "--unit",
            world.district.code,
            "--period",
            "2027-02",
            "--format",
            "xlsx",
            "--output",
            str(target),
        )
    assert not target.exists()
    with pytest.raises(CommandError, match="does not exist"):
        run(
            "--unit",
            world.district.code,
            "--period",
            "2026-10",
            "--output",
            str(tmp_path / "nowhere" / "bao-cao.json"),
        )
