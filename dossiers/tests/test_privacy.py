"""Personal data: who sees a citizen ID number in full, and that ID and phone numbers stay out
of the logs."""

import logging
from datetime import datetime
from io import BytesIO

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import RequestFactory
from django.urls import reverse
from django.utils.module_loading import import_string
from openpyxl import load_workbook
from rest_framework.test import APIClient

from dossiers import services
from dossiers.models import Dossier
from dossiers.privacy import (
    IdNumberPolicy,
    mask_id_number,
    may_see_id_number,
    shown_id_number,
)
from portal.choices import Role
from portal.logfilters import (
    PersonalDataExceptionReporterFilter,
    PersonalDataFilter,
    redact,
)
from portal.tests.factories import MembershipFactory, UserFactory
from procedures.deadlines import VN_TZ

from .factories import APPLICANT, office, received, submitted

pytestmark = pytest.mark.django_db

FULL = APPLICANT.id_number  # 015090001234
MASKED = "********1234"


def at(*args):
    return datetime(*args, tzinfo=VN_TZ)


@pytest.fixture
def monday(time_machine):
    time_machine.move_to(at(2026, 3, 9, 9, 0), tick=False)
    return time_machine


def page(response) -> str:
    return response.content.decode()


# --- The rule ---------------------------------------------------------------------------------


def test_a_masked_id_keeps_only_its_last_four_digits():
    assert mask_id_number("015090001234") == MASKED
    assert mask_id_number(" 001234567890 ") == "********7890"
    assert mask_id_number("12345") == "*****"  # too short to keep anything back
    assert mask_id_number("") == ""


def test_who_sees_the_full_id_number(monday):
    o = office()
    dossier = submitted(o)  # the citizen's own
    district_counter = MembershipFactory(unit=o.district, role=Role.COUNTER_OFFICER).user
    admin = MembershipFactory(unit=o.district, role=Role.ADMIN).user
    superuser = UserFactory(is_superuser=True)
    full = [o.citizen, o.counter, o.officer, district_counter]
    masked = [o.manager, admin, superuser, o.outsider, UserFactory()]
    for user in full:
        assert may_see_id_number(user, dossier), user
        assert shown_id_number(user, dossier) == FULL
    for user in masked:
        assert not may_see_id_number(user, dossier), user
        assert shown_id_number(user, dossier) == MASKED
    # The officer the dossier is assigned to works on it, whatever their role.
    dossier.assigned_to = o.manager
    assert may_see_id_number(o.manager, dossier)


def test_a_manager_who_is_also_a_processing_officer_elsewhere_sees_it_masked_here(monday):
    o = office()
    dossier = received(o)
    MembershipFactory(user=o.manager, unit=o.other_commune, role=Role.PROCESSING_OFFICER)
    assert shown_id_number(o.manager, dossier) == MASKED


def test_the_policy_reads_the_roles_once_for_a_whole_list(monday, django_assert_num_queries):
    o = office()
    dossiers = [received(o) for _ in range(5)]
    for dossier in dossiers:
        dossier.unit  # noqa: B018 - as the worklist selects it
    reader = User.objects.get(pk=o.counter.pk)  # as a request reads its user anew
    with django_assert_num_queries(1):
        policy = IdNumberPolicy.for_user(reader)
        assert {policy.id_number(d) for d in dossiers} == {FULL}
        assert IdNumberPolicy.for_user(reader) == policy  # the memberships are in hand


# --- Pages, exports and the API ----------------------------------------------------------------


def test_the_dossier_page_masks_the_id_number_for_managers(client, monday):
    o = office()
    dossier = received(o)
    link = reverse("dossiers:detail", args=[dossier.code])
    for user, expected in ((o.counter, FULL), (o.officer, FULL), (o.manager, MASKED)):
        client.force_login(user)
        response = client.get(link)
        assert response.status_code == 200
        assert f'data-testid="id-number">{expected}<' in page(response)
    assert FULL not in page(response)  # the manager's page, nowhere else either


def test_lists_and_the_register_show_no_id_number(client, monday):
    o = office()
    received(o)
    superuser = UserFactory(is_superuser=True)
    for user in (o.counter, o.manager, superuser):
        client.force_login(user)
        assert FULL not in page(client.get(reverse("dossiers:worklist")))
        register = {"unit": o.commune.code, "start": "01/03/2026", "end": "31/03/2026"}
        html = client.get(reverse("dossiers:register"), register)
        assert html.status_code == 200 and APPLICANT.full_name in page(html)
        assert FULL not in page(html)
        xlsx = client.get(reverse("dossiers:register"), {**register, "format": "xlsx"})
        cells = [
            str(cell)
            for row in load_workbook(BytesIO(xlsx.content)).active.iter_rows(values_only=True)
            for cell in row
            if cell is not None
        ]
        assert APPLICANT.full_name in cells
        assert not any(FULL in cell for cell in cells)


def test_the_overdue_page_shows_no_id_number(client, time_machine):
    time_machine.move_to(at(2026, 3, 9, 9, 0), tick=False)
    o = office(time_limit_value=1)
    received(o)
    time_machine.move_to(at(2026, 3, 20, 9, 0), tick=False)
    client.force_login(o.manager)
    response = client.get(reverse("dossiers:overdue"))
    assert response.status_code == 200 and len(response.context["rows"]) == 1
    assert FULL not in page(response)


def api_for(user):
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def test_the_api_masks_the_id_number_for_managers(monday):
    o = office()
    dossier = submitted(o)
    services.accept_dossier(dossier=dossier, by=o.counter)
    superuser = UserFactory(is_superuser=True)
    for user, expected in (
        (o.citizen, FULL),
        (o.counter, FULL),
        (o.officer, FULL),
        (o.manager, MASKED),
        (superuser, MASKED),
    ):
        client = api_for(user)
        listed = client.get("/api/v1/dossiers/").json()["results"]
        assert [row["applicant"]["id_number"] for row in listed] == [expected], user
        detail = client.get(f"/api/v1/dossiers/{dossier.code}/")
        assert detail.json()["applicant"]["id_number"] == expected, user


def test_the_api_list_judges_the_id_number_without_a_query_per_row(
    monday, django_assert_max_num_queries
):
    o = office()
    for _ in range(5):
        received(o)
    client = api_for(o.manager)
    client.get("/api/v1/dossiers/")  # warm up: session, content types
    with django_assert_max_num_queries(8):
        rows = client.get("/api/v1/dossiers/?page_size=50").json()["results"]
    assert {row["applicant"]["id_number"] for row in rows} == {MASKED}


# --- Logs ----------------------------------------------------------------------------------------

SECRETS = (FULL, "015090001235", "015 090 001 235", APPLICANT.phone, "0912.345.679", "0912345679")


def configured_handler() -> logging.Handler:
    """A handler with the filters and format of the console handler of ``settings.LOGGING``,
    writing to memory."""
    config = settings.LOGGING
    console = config["handlers"]["console"]
    handler = logging.StreamHandler(stream=_Memory())
    formatter = config["formatters"][console["formatter"]]
    handler.setFormatter(logging.Formatter(formatter["format"]))
    for name in console.get("filters", []):
        handler.addFilter(import_string(config["filters"][name]["()"])())
    return handler


class _Memory:
    def __init__(self):
        self.parts: list[str] = []

    def write(self, text):
        self.parts.append(text)

    def flush(self):
        pass

    def getvalue(self):
        return "".join(self.parts)


def written(records, *filters) -> str:
    """The records as a console handler with ``filters`` writes them (tracebacks included)."""
    handler = logging.StreamHandler(stream=_Memory())
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    for item in filters:
        handler.addFilter(item)
    for record in records:
        handler.handle(record)
    return handler.stream.getvalue()


def test_a_journey_writes_no_id_or_phone_number_to_the_logs(client, monday, caplog, monkeypatch):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.WARNING, logger="django.db.backends")
    # Records as the code makes them: the configured handlers (which redact) are set aside.
    monkeypatch.setattr(logging.getLogger(), "handlers", [caplog.handler])
    o = office(time_limit_value=3)
    choice = {"unit": o.commune.code, "procedure": o.procedure.code}
    intake = {
        **choice,
        "channel": "in_person",
        "applicant_name": "Nguyễn Thị Bình",
        "applicant_id_number": "015 090 001 235",
        "applicant_phone": "0912.345.679",
        "applicant_address": "Thôn Trung Tâm",
        "documents": [str(o.procedure.documents.first().pk)],
        "save": "1",
    }
    client.force_login(o.counter)
    # A form refused for its phone number, with the ID number in it; then the good one.
    refused = client.post(reverse("dossiers:intake"), {**intake, "applicant_phone": "12"})
    assert refused.status_code == 400
    assert client.post(reverse("dossiers:intake"), intake).status_code == 302
    code = Dossier.objects.get().code
    assert client.get(reverse("dossiers:detail", args=[code])).status_code == 200
    assert client.get(reverse("dossiers:slip", args=[code, "receipt"])).status_code == 200
    # The public lookup, found and not found.
    client.logout()
    assert client.get(reverse("lookup"), {"code": code, "phone": "0912345679"}).status_code == 200
    assert client.get(reverse("lookup"), {"code": code, "phone": "0912345670"}).status_code == 200
    api = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    missing = api.get("/api/v1/public/lookup/", {"code": "X", "phone": "0912345679"})
    assert missing.status_code == 404
    # An API intake whose body is refused, with the ID number in it, and one that is not JSON.
    api.force_login(o.counter)
    body = {
        "procedure": o.procedure.code,
        "unit": o.commune.code,
        "channel": "in_person",
        "applicant": {"full_name": "B", "id_number": "015090001235", "phone": "0912 345 679x"},
    }
    assert api.post("/api/v1/dossiers/", body, format="json").status_code == 400
    broken = '{"applicant": {"id_number": "015090001235", "phone": "0912345679"'
    response = api.post("/api/v1/dossiers/", broken, content_type="application/json")
    assert response.status_code == 400

    # A crash whose message quotes its input (as a database error's DETAIL line does).
    def crash(**kwargs):
        applicant = kwargs["applicant"]
        raise RuntimeError(f"Failing row contains ({applicant.id_number}, {applicant.phone})")

    monkeypatch.setattr(services, "receive_dossier", crash)
    client.raise_request_exception = False
    client.force_login(o.counter)
    assert client.post(reverse("dossiers:intake"), intake).status_code == 500

    records = caplog.records
    assert any(r.name == "django.request" and r.levelno >= logging.ERROR for r in records)
    assert any("Bad Request" in r.getMessage() for r in records)
    # What the code logs itself never holds them ...
    messages = "\n".join(r.getMessage() for r in records)
    for secret in SECRETS:
        assert secret not in messages, secret
    # ... and what a handler writes, tracebacks included, never does once filtered.
    raw = written(records)
    assert "015090001235" in raw  # the crash's traceback: the net below has work to do
    output = written(records, PersonalDataFilter())
    for secret in SECRETS:
        assert secret not in output, secret
    assert "Failing row contains ([CCCD], [SĐT])" in output


def test_the_console_handler_of_the_settings_redacts(caplog):
    """LOGGING puts PersonalDataFilter on its console handler (see docs/security.md)."""
    handler = configured_handler()
    record = logging.LogRecord(
        "django.db.backends",
        logging.DEBUG,
        __file__,
        1,
        "(%.3f) %s; args=%s; alias=%s",
        (0.001, "INSERT …", ("015090001234", "0912345678"), "default"),
        None,
    )
    handler.handle(record)
    text = handler.stream.getvalue()
    assert "015090001234" not in text and "0912345678" not in text
    assert "[CCCD]" in text and "[SĐT]" in text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("CCCD 015090001234.", "CCCD [CCCD]."),
        ("cccd=015 090 001 234;", "cccd=[CCCD];"),
        ("cccd 015.090.001.234", "cccd [CCCD]"),
        ("SMS to 0912345678: ready", "SMS to [SĐT]: ready"),
        ("phone +84912345678 / 84 912 345 678", "phone [SĐT] / [SĐT]"),
        ("tel 0912.345.678 and 0912 345 678", "tel [SĐT] and [SĐT]"),
        ("landline 02163 851 234, 0216-385-1234", "landline [SĐT], [SĐT]"),
        ("ID 015-090-001-234", "ID [CCCD]"),
        # What must stay: codes, dates, counts, long numbers.
        ("000.00.15.H61-221102-0001", "000.00.15.H61-221102-0001"),
        ("2026-03-09 09:00:00+07:00", "2026-03-09 09:00:00+07:00"),
        ("Closed period 2026-03: 1234 cells", "Closed period 2026-03: 1234 cells"),
        ("ts 1741489200000", "ts 1741489200000"),
        ("0150900012345", "0150900012345"),  # 13 digits: not an ID number
    ],
)
def test_redaction_marks_id_and_phone_numbers_and_nothing_else(text, expected):
    assert redact(text) == expected


def test_the_filter_redacts_sql_parameters_and_tracebacks():
    try:
        raise ValueError("duplicate 015090001234")
    except ValueError:
        import sys

        exc_info = sys.exc_info()
    record = logging.LogRecord(
        "django.db.backends", logging.ERROR, __file__, 1, "args=%s", (("0912345678",),), exc_info
    )
    record.params = ("015090001234",)
    record.sql = "SELECT 1"
    assert PersonalDataFilter().filter(record) is True
    assert record.getMessage() == "args=('[SĐT]',)"
    assert "015090001234" not in record.exc_text and "[CCCD]" in record.exc_text
    assert record.params == "('[CCCD]',)" and record.sql == "SELECT 1"


def test_error_reports_hide_the_applicants_fields():
    request = RequestFactory().post(
        "/dossiers/new/",
        {"applicant_id_number": FULL, "applicant_phone": "0912345678", "procedure": "1.000001"},
    )
    reporter = PersonalDataExceptionReporterFilter()
    parameters = reporter.get_post_parameters(request)
    assert parameters["applicant_id_number"] == reporter.cleansed_substitute
    assert parameters["applicant_phone"] == reporter.cleansed_substitute
    assert parameters["procedure"] == "1.000001"


def test_error_reports_redact_local_variables():
    from django.views.debug import ExceptionReporter

    def intake(id_number):
        raise ValueError("boom")

    try:
        intake(FULL)
    except ValueError:
        import sys

        exc_info = sys.exc_info()
    reporter = ExceptionReporter(None, *exc_info)
    reporter.filter = PersonalDataExceptionReporterFilter()
    shown = dict(reporter.get_traceback_data()["frames"][-1]["vars"])
    assert shown["id_number"] == "'[CCCD]'"  # as the report prints a string
    assert FULL not in reporter.get_traceback_html()
