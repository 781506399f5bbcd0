import json

import pytest
from django.core.management import CommandError, call_command
from django.utils.translation import override

from procedures.importers import CSV_COLUMNS, CatalogueFormatError, parse_catalogue
from procedures.models import DocumentComponent, Field, Procedure
from procedures.services import CatalogueImportError, import_procedures

from .factories import DocumentFactory, ProcedureFactory

pytestmark = pytest.mark.django_db


def _procedure(**overrides):
    data = {
        "code": "1.001193",
        "name": "Thủ tục đăng ký khai sinh",
        "field": "ho-tich",
        "level": "commune",
        "time_limit": {"value": "1", "unit": "working_days", "same_day": True},
        "fee": "Miễn lệ phí",
        "fee_amount": 0,
        "online_level": "full",
        "postal_allowed": True,
        "documents": [
            {"name": "Tờ khai đăng ký khai sinh", "kind": "original", "count": 1, "required": True},
            {"name": "Giấy chứng sinh", "kind": "copy", "count": 1, "required": False},
        ],
    }
    data.update(overrides)
    return data


def _catalogue(*procedures):
    return json.dumps(
        {
            "fields": [{"code": "ho-tich", "name": "Hộ tịch", "sort_order": 1}],
            "procedures": list(procedures),
        },
        ensure_ascii=False,
    )


def test_json_import_creates_fields_procedures_and_documents():
    result = import_procedures(
        catalogue=parse_catalogue(_catalogue(_procedure()), filename="c.json")
    )
    assert result.created == ["1.001193"]
    procedure = Procedure.objects.get(code="1.001193")
    assert procedure.field.name == "Hộ tịch"
    assert procedure.same_day
    assert procedure.search_text == " 1.001193 thu tuc dang ky khai sinh "
    assert list(procedure.documents.values_list("name", "required")) == [
        ("Tờ khai đăng ký khai sinh", True),
        ("Giấy chứng sinh", False),
    ]


def test_a_second_import_updates_and_replaces_the_documents():
    import_procedures(catalogue=parse_catalogue(_catalogue(_procedure())))
    changed = _procedure(name="Đăng ký khai sinh (sửa)", documents=[{"name": "Tờ khai mới"}])
    result = import_procedures(catalogue=parse_catalogue(_catalogue(changed)))
    assert result.updated == ["1.001193"]
    assert Procedure.objects.get().name == "Đăng ký khai sinh (sửa)"
    assert list(DocumentComponent.objects.values_list("name", flat=True)) == ["Tờ khai mới"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"time_limit": {"value": "0", "unit": "working_days"}}, "greater than zero"),
        ({"time_limit": {"value": "-3", "unit": "working_days"}}, "greater than zero"),
        ({"time_limit": {"value": "abc", "unit": "working_days"}}, "not a number"),
        ({"time_limit": {"value": "3", "unit": "weeks"}}, "Time limit unit"),
        ({"level": "village"}, "Level"),
        ({"field": "khong-co"}, "Unknown field"),
        ({"code": ""}, "code is missing"),
        ({"documents": [{"name": "X", "count": 0}]}, "at least 1"),
    ],
)
def test_a_bad_row_refuses_the_whole_file_and_changes_nothing(overrides, message):
    existing = ProcedureFactory(code="1.000001", name="Có sẵn")
    DocumentFactory(procedure=existing)
    good = _procedure(code="1.000002")
    bad = _procedure(
        code=overrides.get("code", "1.000003"),
        **{k: v for k, v in overrides.items() if k != "code"},
    )
    with override("en"), pytest.raises(CatalogueImportError) as error:
        import_procedures(catalogue=parse_catalogue(_catalogue(good, bad)))
    assert message in str(error.value)
    assert "Row 2" in str(error.value)
    assert list(Procedure.objects.values_list("code", flat=True)) == ["1.000001"]
    assert Field.objects.filter(code="ho-tich").count() == 0


def test_duplicate_codes_in_one_file_are_refused():
    with override("en"), pytest.raises(CatalogueImportError, match="also appears in row 1"):
        import_procedures(catalogue=parse_catalogue(_catalogue(_procedure(), _procedure())))
    assert not Procedure.objects.exists()


def test_csv_import_reads_documents_one_a_line(tmp_path):
    import csv

    path = tmp_path / "catalogue.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        writer.writerow(
            {
                "code": "2.000889",
                "name": "Cấp bản sao từ sổ gốc",
                "field_name": "Chứng thực",
                "level": "district",
                "time_limit_value": "1",
                "time_limit_unit": "working_days",
                "same_day": "1",
                "fee": "2.000 đồng/trang",
                "fee_amount": "2.000",
                "online_level": "partial",
                "postal_allowed": "có",
                "documents": "Bản chính giấy tờ|original|1|1\nGiấy tờ tùy thân|copy|1|0",
            }
        )
    call_command("import_procedures", str(path))
    procedure = Procedure.objects.get(code="2.000889")
    assert procedure.field.code == "chung-thuc"
    assert procedure.fee_amount == 2000
    assert procedure.documents.count() == 2
    assert not procedure.documents.get(name="Giấy tờ tùy thân").required


def test_command_exits_non_zero_on_bad_rows_and_reports_each(tmp_path, capsys):
    path = tmp_path / "bad.json"
    path.write_text(
        _catalogue(_procedure(time_limit={"value": "0", "unit": "working_days"})), encoding="utf-8"
    )
    with override("en"), pytest.raises(CommandError, match="Nothing was imported"):
        call_command("import_procedures", str(path))
    assert "greater than zero" in capsys.readouterr().err
    assert not Procedure.objects.exists()


def test_command_refuses_a_missing_file_and_a_non_catalogue(tmp_path):
    with pytest.raises(CommandError):
        call_command("import_procedures", str(tmp_path / "missing.json"))
    path = tmp_path / "x.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(CommandError):
        call_command("import_procedures", str(path))


def test_csv_without_the_required_columns_is_refused():
    with pytest.raises(CatalogueFormatError):
        parse_catalogue("a,b\n1,2\n", filename="x.csv")


def test_a_fractional_number_of_calendar_days_is_refused():
    bad = _procedure(time_limit={"value": "1.5", "unit": "calendar_days"})
    with override("en"), pytest.raises(CatalogueImportError, match="whole number"):
        import_procedures(catalogue=parse_catalogue(_catalogue(bad)))


def test_csv_errors_name_the_line_of_the_file():
    header = "code,name,field_code,level,time_limit_value,time_limit_unit\n"
    text = (
        header + "1.1,Một,ho-tich,commune,3,working_days\n1.2,Hai,ho-tich,commune,0,working_days\n"
    )
    with override("en"):
        parsed = parse_catalogue(text, filename="x.csv")
        assert [str(e) for e in parsed.errors] == [
            "Row 3 (1.2): The time limit must be greater than zero, not 0."
        ]
    with (
        override("en"),
        pytest.raises(CatalogueImportError, match=r"Row 2 \(1\.1\): Unknown field"),
    ):
        import_procedures(catalogue=parse_catalogue(text.replace(",0,", ",2,"), filename="x.csv"))
