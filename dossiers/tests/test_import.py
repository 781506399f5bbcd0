"""Import of historical dossiers: parsing, checks by row and column, all or nothing, numbering."""

import csv
import io
from datetime import datetime

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.translation import override

from dossiers import services
from dossiers.choices import Status, Timeliness
from dossiers.importers import CSV_COLUMNS, DossierFileError, parse_csv
from dossiers.management.commands.import_dossiers import Command
from dossiers.models import DayCounter, Dossier, DossierEvent
from dossiers.services import DossierImportError, import_dossiers
from portal.tests.factories import UserFactory
from procedures.deadlines import VN_TZ
from procedures.tests.factories import CalendarDayFactory

from .factories import office, received

pytestmark = pytest.mark.django_db


def at(*args):
    return datetime(*args, tzinfo=VN_TZ)


@pytest.fixture
def o(time_machine):
    time_machine.move_to(at(2026, 3, 20, 9, 0), tick=False)
    return office(time_limit_value=3)


def row(o, **values):
    data = {
        "code": "",
        "procedure": o.procedure.code,
        "unit": o.commune.code,
        "channel": "in_person",
        "applicant_name": "Nguyễn Văn An",
        "applicant_id_number": "015090001234",
        "applicant_phone": "0912345678",
        "received_at": "2026-03-09T09:00:00",
        "due_at": "",
        "resolved_at": "",
        "returned_at": "",
        "closed_at": "",
        "outcome": "",
        "digitized_intake": "0",
        "digitized_result": "0",
        "rating": "",
    }
    return {**data, **values}


def csv_text(*rows, columns=CSV_COLUMNS):
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def run(*rows, by=None):
    return import_dossiers(parsed=parse_csv(csv_text(*rows)), by=by)


def errors_of(*rows):
    with override("en"), pytest.raises(DossierImportError) as error:
        run(*rows)
    return [(e.row, e.column, e.message) for e in error.value.errors]


def test_a_good_file_is_imported_with_statuses_deadlines_and_one_event_each(o):
    CalendarDayFactory(date=at(2026, 3, 11, 0).date(), name="Ngày nghỉ thử")  # a Wednesday
    admin = UserFactory(username="quantri")
    result = run(
        row(
            o,
            resolved_at="2026-03-10T10:00:00",
            returned_at="2026-03-11T08:00:00",
            outcome="resolved",
            digitized_intake="1",
            digitized_result="1",
            rating="satisfied",
        ),
        row(
            o,
            received_at="2026-03-02T09:00:00",
            resolved_at="2026-03-06T10:00:00",
            outcome="rejected",
        ),
        row(o, closed_at="2026-03-10T09:00:00", outcome="withdrawn"),
        row(
            o, received_at="2026-03-02T09:00:00", closed_at="2026-03-10T09:00:00", outcome="stopped"
        ),
        row(o, received_at="2026-03-18T15:00:00+00:00"),  # with an offset: 22:00 in Hà Nội
        row(o, due_at="2026-03-30T17:30:00"),
        by=admin,
    )
    assert result.created == 6
    assert result.generated_codes == 6
    assert result.by_status == {
        "received": 2,
        "rejected": 1,
        "returned": 1,
        "withdrawn": 1,
        "stopped": 1,
    }
    returned, rejected, withdrawn, stopped, late_night, given_due = (
        Dossier.objects.get(code=code) for code in result.codes
    )
    # Three working days from Monday 9:00, the Wednesday off: due on Friday at 9:00.
    assert returned.due_at == at(2026, 3, 13, 9, 0)
    assert any(s["kind"] == "day_skipped" for s in returned.deadline_trace)
    assert (returned.status, returned.timeliness) == (Status.RETURNED, Timeliness.EARLY)
    assert (returned.digitized_intake, returned.digitized_result) == (True, True)
    assert returned.applicant_search == "nguyen van an"
    assert (rejected.status, rejected.timeliness) == (Status.REJECTED, Timeliness.LATE)
    assert rejected.due_at == at(2026, 3, 5, 9, 0)
    # Closed without a result: counted apart, never early, late or overdue.
    assert (withdrawn.status, withdrawn.timeliness) == (Status.WITHDRAWN, "")
    assert (stopped.status, stopped.timeliness) == (Status.STOPPED, "")
    assert late_night.received_at == at(2026, 3, 18, 22, 0)
    assert late_night.code == f"{o.commune.code}-260318-0001"
    assert (late_night.status, late_night.timeliness) == (Status.RECEIVED, Timeliness.IN_TIME)
    assert given_due.due_at == at(2026, 3, 30, 17, 30)
    assert given_due.timeliness == Timeliness.IN_TIME
    assert [s["kind"] for s in given_due.deadline_trace] == ["received", "due"]
    events = DossierEvent.objects.order_by("dossier_id")
    assert [(e.action, e.by, e.from_status, e.at, e.data) for e in events[:2]] == [
        ("import", admin, "", at(2026, 3, 20, 9, 0), {"row": 2}),
        ("import", admin, "", at(2026, 3, 20, 9, 0), {"row": 3}),
    ]
    assert [e.to_status for e in events] == [d.status for d in Dossier.objects.order_by("id")]


def test_codes_are_generated_in_order_of_receipt_per_unit_and_day(o):
    result = run(
        row(o, received_at="2026-03-09T15:00:00"),
        row(o, received_at="2026-03-09T08:00:00"),
        row(o, received_at="2026-03-10T08:00:00"),
    )
    prefix = f"{o.commune.code}-2603"
    assert result.codes == [f"{prefix}09-0002", f"{prefix}09-0001", f"{prefix}10-0001"]


def test_given_codes_raise_the_day_counter_so_later_intakes_never_collide(o, time_machine):
    time_machine.move_to(at(2026, 3, 9, 16, 0), tick=False)
    received(o)  # today's first intake: -0001
    code = f"{o.commune.code}-260309-0042"
    result = run(
        row(o, code=code),
        row(o, received_at="2026-03-09T10:00:00"),  # numbered after the given code
        row(o, code=f"{o.commune.code}-260302-00007", received_at="2026-03-02T08:00:00"),
    )
    assert result.codes[0] == code
    assert result.codes[1] == f"{o.commune.code}-260309-0043"
    assert result.generated_codes == 1
    assert received(o).code == f"{o.commune.code}-260309-0044"
    counter = DayCounter.objects.get(unit=o.commune, day=at(2026, 3, 2, 0).date())
    assert counter.last == 7


def test_a_given_code_below_the_counter_leaves_it_alone(o):
    DayCounter.objects.create(unit=o.commune, day=at(2026, 3, 9, 0).date(), last=5)
    run(row(o, code=f"{o.commune.code}-260309-0002"))  # a number an older system skipped
    assert DayCounter.objects.get(unit=o.commune).last == 5


@pytest.mark.parametrize(
    ("values", "column", "message"),
    [
        ({"procedure": "0.000000"}, "procedure", "No procedure has the code 0.000000."),
        ({"procedure": ""}, "procedure", "missing"),
        ({"unit": "999.99.99.Z99"}, "unit", "No unit has the code 999.99.99.Z99."),
        ({"channel": "fax"}, "channel", "not one of"),
        ({"channel": "postal"}, "postal_tracking_no", "postal tracking number"),
        ({"applicant_name": " "}, "applicant_name", "missing"),
        ({"applicant_id_number": "12345"}, "applicant_id_number", "12 digits"),
        ({"applicant_phone": "12345"}, "applicant_phone", "phone number"),
        ({"received_at": ""}, "received_at", "missing"),
        ({"received_at": "09/03/2026 09:00"}, "received_at", "ISO 8601"),
        ({"received_at": "2026-04-01T08:00:00"}, "received_at", "in the future"),
        ({"due_at": "2026-03-08T08:00:00"}, "due_at", "before the dossier was received"),
        (
            {"resolved_at": "2026-03-08T08:00:00", "outcome": "resolved"},
            "resolved_at",
            "resolved before it was received",
        ),
        (
            {
                "resolved_at": "2026-03-10T08:00:00",
                "returned_at": "2026-03-09T10:00:00",
                "outcome": "resolved",
            },
            "returned_at",
            "returned before it was ready",
        ),
        ({"outcome": "resolved"}, "resolved_at", "needs the time of its result"),
        ({"outcome": "rejected"}, "resolved_at", "needs the time of its result"),
        ({"outcome": "withdrawn"}, "closed_at", "needs its time of closing"),
        ({"resolved_at": "2026-03-10T08:00:00"}, "resolved_at", "give its outcome"),
        ({"closed_at": "2026-03-10T08:00:00"}, "closed_at", "give its outcome"),
        (
            {
                "resolved_at": "2026-03-10T08:00:00",
                "closed_at": "2026-03-10T08:00:00",
                "outcome": "stopped",
            },
            "resolved_at",
            "has no result",
        ),
        (
            {
                "resolved_at": "2026-03-10T08:00:00",
                "closed_at": "2026-03-10T08:00:00",
                "outcome": "resolved",
            },
            "closed_at",
            "Only withdrawn or stopped",
        ),
        ({"outcome": "lost"}, "outcome", "not one of"),
        ({"digitized_intake": "2"}, "digitized_intake", "0 or 1"),
        ({"digitized_result": "có"}, "digitized_result", "0 or 1"),
        ({"rating": "great"}, "rating", "not one of"),
        ({"code": "HS-0001"}, "code", "is not a dossier code"),
        ({"code": "000.00.99.Z99-260309-0001"}, "code", "does not start with the unit's code"),
        ({"code": "{unit}-260310-0001"}, "code", "does not carry the day of receipt, 260309"),
        ({"code": "{unit}-260309-01"}, "code", "is not a dossier code"),
        ({"code": "{unit}-260309-0000"}, "code", "starts at 0001"),
    ],
)
def test_a_bad_row_is_reported_by_row_and_column_and_nothing_is_written(o, values, column, message):
    values = {k: v.format(unit=o.commune.code) for k, v in values.items()}
    counters = list(DayCounter.objects.values_list("unit", "day", "last"))
    errors = errors_of(row(o), row(o, **values), row(o))
    assert [(r, c) for r, c, _m in errors] == [(3, column)], errors
    assert message in errors[0][2]
    assert not Dossier.objects.exists()
    assert not DossierEvent.objects.exists()
    assert list(DayCounter.objects.values_list("unit", "day", "last")) == counters


def test_every_error_of_a_row_is_reported_at_once(o):
    errors = errors_of(row(o, channel="fax", applicant_phone="1", outcome="resolved"))
    assert [(r, c) for r, c, _m in errors] == [
        (2, "channel"),
        (2, "applicant_phone"),
        (2, "resolved_at"),
    ]


def test_an_error_reads_row_and_column():
    with override("en"):
        error = services.imports.RowError(4, "received_at", "This time is in the future.")
        assert str(error) == "Row 4, received_at: This time is in the future."


def test_a_code_twice_in_the_file_or_already_taken_is_refused(o):
    code = f"{o.commune.code}-260309-0001"
    assert errors_of(row(o, code=code), row(o), row(o, code=code)) == [
        (4, "code", f"The code {code} is also in row 2.")
    ]
    existing = received(o)
    taken = errors_of(row(o, code=existing.code, received_at="2026-03-20T09:00:00"))
    assert taken == [(2, "code", f"A dossier with the code {existing.code} already exists.")]
    assert Dossier.objects.count() == 1


def test_the_header_must_name_the_columns():
    with override("en"), pytest.raises(DossierFileError, match="lacks the columns: received_at"):
        parse_csv(
            "code,procedure,unit,channel,applicant_name,applicant_id_number,applicant_phone\n"
        )
    with override("en"), pytest.raises(DossierFileError, match="unknown columns: recieved_at"):
        parse_csv(csv_text(columns=[*CSV_COLUMNS, "recieved_at"]))
    with override("en"), pytest.raises(DossierFileError, match="no dossiers"):
        parse_csv(csv_text())


def test_the_optional_columns_may_be_left_out_and_a_postal_row_needs_its_tracking_number(o):
    columns = [c for c in CSV_COLUMNS if c not in ("code", "due_at", "rating")]
    data = {k: v for k, v in row(o, channel="postal").items() if k in columns}
    with pytest.raises(DossierImportError):
        import_dossiers(parsed=parse_csv(csv_text(data, columns=columns)), by=None)
    with_tracking = csv_text(
        {**data, "postal_tracking_no": "EMS123"}, columns=[*columns, "postal_tracking_no"]
    )
    result = import_dossiers(parsed=parse_csv(with_tracking), by=None)
    assert Dossier.objects.get().postal_tracking_no == "EMS123"
    assert DossierEvent.objects.get().by is None
    assert result.created == 1


def test_a_row_with_the_wrong_number_of_values_is_reported():
    text = "\n".join([",".join(CSV_COLUMNS), "a,b,c"]) + "\n"
    parsed = parse_csv(text)
    assert [(e.row, e.column) for e in parsed.errors] == [(2, "")]


def test_the_import_takes_no_query_per_row(o):
    def queries(count):
        rows = [
            row(o, received_at=f"2026-03-{9 + i % 5:02d}T{8 + i % 8:02d}:{i % 60:02d}:00")
            for i in range(count)
        ]
        parsed = parse_csv(csv_text(*rows))
        with CaptureQueriesContext(connection) as context:
            import_dossiers(parsed=parsed, by=None)
        sql = [q["sql"] for q in context.captured_queries]
        inserts = [q for q in sql if q.startswith('INSERT INTO "dossiers_dossier')]
        return len(sql) - len(inserts), len(inserts)

    few_others, _inserts = queries(5)
    others, inserts = queries(1500)
    assert others == few_others  # lookups, calendar, counters: once per file
    assert inserts <= 1500 // 20  # batches (SQLite allows 999 parameters a query)


# --- The command --------------------------------------------------------------------------------


def test_the_command_imports_and_prints_counts(o, tmp_path):
    UserFactory(username="quantri")
    path = tmp_path / "hoso.csv"
    path.write_text(
        csv_text(row(o), row(o, resolved_at="2026-03-10T09:00:00", outcome="resolved")),
        encoding="utf-8",
    )
    out = io.StringIO()
    with override("en"):
        call_command("import_dossiers", str(path), "--as", "quantri", stdout=out)
    assert "Imported 2 dossiers (2 numbered here)." in out.getvalue()
    assert "resolved: 1" in out.getvalue()
    assert DossierEvent.objects.filter(by__username="quantri").count() == 2


def test_the_command_fails_with_the_row_errors_and_writes_nothing(o, tmp_path):
    path = tmp_path / "hoso.csv"
    path.write_text(csv_text(row(o), row(o, applicant_id_number="1")), encoding="utf-8")
    err = io.StringIO()
    with override("en"), pytest.raises(CommandError, match="Nothing was imported"):
        call_command("import_dossiers", str(path), stderr=err)
    assert "Row 3, applicant_id_number:" in err.getvalue()
    assert not Dossier.objects.exists()


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        (None, [], "File not found"),
        ("ma\n1\n".encode("utf-16"), [], "not UTF-8"),
        (b"ma,thu_tuc\n1,2\n", [], "lacks the columns"),
        (b"x", ["--as", "khong-co-ai"], "No account"),
    ],
)
def test_the_command_exits_non_zero_on_a_bad_file_or_user(tmp_path, content, args, message):
    path = tmp_path / "hoso.csv"
    if content is not None:
        path.write_bytes(content)
    with override("en"), pytest.raises(CommandError, match=message):
        call_command("import_dossiers", str(path), *args)


def test_the_command_line_exits_with_1_on_errors(o, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("django.db.connections.close_all", lambda: None)  # the test's database
    path = tmp_path / "hoso.csv"
    path.write_text(csv_text(row(o, channel="fax")), encoding="utf-8")
    with override("en"), pytest.raises(SystemExit) as exit_:
        Command().run_from_argv(["manage.py", "import_dossiers", str(path)])
    assert exit_.value.code == 1
    assert "Row 2, channel:" in capsys.readouterr().err
