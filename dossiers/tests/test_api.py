"""The dossiers API: intake, lists, detail, actions, attachments, import; who sees what."""

from datetime import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from dossiers import services
from dossiers.choices import Action, Status
from dossiers.models import Attachment, Dossier, DossierEvent
from portal.choices import Role
from portal.tests.factories import MembershipFactory, UserFactory
from procedures.deadlines import VN_TZ

from .factories import APPLICANT, office, received, submitted

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def at(*args):
    return datetime(*args, tzinfo=VN_TZ)


@pytest.fixture
def o():
    return office(time_limit_value=3)


@pytest.fixture
def api():
    def client_for(user=None):
        client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
        if user is not None:
            client.force_login(user)
        return client

    return client_for


def _applicant(**changes):
    data = {
        "full_name": APPLICANT.full_name,
        "id_number": APPLICANT.id_number,
        "phone": APPLICANT.phone,
        "email": APPLICANT.email,
        "address": APPLICANT.address,
    }
    return {**data, **changes}


def _intake(o, **changes):
    return {
        "procedure": o.procedure.code,
        "unit": o.commune.code,
        "channel": "in_person",
        "applicant": _applicant(),
        "note": "Nộp tại quầy",
        "documents": [d.pk for d in o.procedure.documents.filter(required=True)],
        **changes,
    }


def _act(client, code, action, **body):
    return client.post(f"/api/v1/dossiers/{code}/actions/{action}/", body, format="json")


def _error(response, status_code, code):
    assert response.status_code == status_code, response.content
    body = response.json()
    assert set(body) == {"code", "message", "fields"}
    assert body["code"] == code
    assert body["message"]
    return body


# --- Intake -------------------------------------------------------------------------------------


def test_a_counter_officer_receives_a_dossier(api, o, time_machine):
    time_machine.move_to(at(2026, 3, 9, 9, 0), tick=False)  # a Monday
    first_document = o.procedure.documents.first()
    response = api(o.counter).post(
        "/api/v1/dossiers/",
        _intake(o, documents=[first_document.pk], digitized_intake=True),
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["code"] == f"{o.commune.code}-260309-0001"
    assert body["status"] == Status.RECEIVED
    assert body["received_at"] == "2026-03-09T09:00:00+07:00"
    assert body["due_at"] == "2026-03-12T09:00:00+07:00"
    assert (body["timeliness"], body["current_timeliness"]) == ("in_time", "in_time")
    assert body["applicant"]["id_number"] == APPLICANT.id_number
    assert body["received_by"] == o.counter.username
    assert body["digitized_intake"] is True
    assert [(d["name"], d["received"]) for d in body["documents"]] == [
        ("Tờ khai theo mẫu", True),
        ("Giấy tờ tùy thân", False),
    ]
    assert body["events"] == [
        {
            "at": "2026-03-09T09:00:00+07:00",
            "by": o.counter.username,
            "action": "receive",
            "from": "",
            "to": "received",
            "note": "Nộp tại quầy",
        }
    ]
    assert body["deadline_trace"][0]["text"] == "Received on 09/03/2026 at 09:00."
    assert body["deadline_trace"][-1]["text"] == "Due at 09:00 on 12/03/2026."


def test_a_citizen_submits_online_and_only_online(api, o):
    client = api(o.citizen)
    response = client.post("/api/v1/dossiers/", _intake(o, channel="online"), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["received_at"], body["due_at"]) == ("submitted", None, None)
    assert Dossier.objects.get().applicant_user == o.citizen
    refused = client.post("/api/v1/dossiers/", _intake(o), format="json")
    assert "channel" in _error(refused, 400, "invalid")["fields"]
    assert Dossier.objects.count() == 1


def test_a_counter_officer_cannot_submit_online(api, o):
    response = api(o.counter).post("/api/v1/dossiers/", _intake(o, channel="online"), format="json")
    assert "channel" in _error(response, 400, "invalid")["fields"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"procedure": "0.000000"}, "procedure"),
        ({"unit": "999.99.99.Z99"}, "unit"),
        ({"channel": "pigeon"}, "channel"),
        ({"channel": "postal"}, "postal_tracking_no"),
        ({"documents": [999999]}, "documents"),
    ],
)
def test_bad_intake_is_a_400_naming_the_field_and_stores_nothing(api, o, changes, field):
    response = api(o.counter).post("/api/v1/dossiers/", _intake(o, **changes), format="json")
    body = _error(response, 400, "invalid")
    assert field in body["fields"]
    assert not Dossier.objects.exists()


def test_an_unknown_procedure_code_is_named_in_the_message(api, o):
    response = api(o.counter).post(
        "/api/v1/dossiers/", _intake(o, procedure="0.000000"), format="json"
    )
    assert response.json()["fields"]["procedure"] == ["No procedure has the code 0.000000."]


@pytest.mark.parametrize(("field", "value"), [("id_number", "12345"), ("phone", "12345")])
def test_the_applicants_errors_are_named_as_in_the_request(api, o, field, value):
    response = api(o.counter).post(
        "/api/v1/dossiers/", _intake(o, applicant=_applicant(**{field: value})), format="json"
    )
    assert field in _error(response, 400, "invalid")["fields"]["applicant"]
    assert not Dossier.objects.exists()


def test_a_counter_officer_of_another_commune_may_not_receive_here(api, o):
    other = MembershipFactory(unit=o.other_commune, role=Role.COUNTER_OFFICER).user
    response = api(other).post("/api/v1/dossiers/", _intake(o), format="json")
    _error(response, 403, "permission_denied")
    assert not Dossier.objects.exists()


def test_anonymous_users_are_turned_away(api, o):
    dossier = received(o)
    client = api()
    assert client.get("/api/v1/dossiers/").status_code in (401, 403)
    assert client.get(f"/api/v1/dossiers/{dossier.code}/").status_code in (401, 403)
    assert client.post("/api/v1/dossiers/", _intake(o), format="json").status_code in (401, 403)
    assert _act(client, dossier.code, "start").status_code in (401, 403)


# --- Lists --------------------------------------------------------------------------------------


def test_the_list_shows_what_each_user_may_see(api, o):
    mine = submitted(o)
    at_counter = received(o)
    elsewhere = received(o, unit=o.other_commune, by=MembershipFactory(unit=o.other_commune).user)

    def codes(user):
        response = api(user).get("/api/v1/dossiers/")
        assert response.status_code == 200
        return {row["code"] for row in response.json()["results"]}

    assert codes(o.counter) == {mine.code, at_counter.code}
    assert codes(o.manager) == {mine.code, at_counter.code, elsewhere.code}  # the district
    assert codes(o.outsider) == {elsewhere.code}
    assert codes(o.citizen) == {mine.code}
    assert codes(UserFactory()) == set()


def test_the_list_filters_with_the_worklists_form(api, o, time_machine):
    time_machine.move_to(at(2026, 3, 9, 9, 0), tick=False)
    early = received(o)
    services.start_processing(dossier=early, by=o.officer)
    time_machine.move_to(at(2026, 3, 20, 9, 0), tick=False)
    late = received(o, applicant=APPLICANT.__class__("Trần Thị Bình", "015090009999", "0987654321"))
    client = api(o.officer)

    def codes(**params):
        response = client.get("/api/v1/dossiers/", params)
        assert response.status_code == 200, response.content
        return [row["code"] for row in response.json()["results"]]

    assert codes(status="in_progress") == [early.code]
    assert codes(timeliness="overdue") == [early.code]
    assert codes(timeliness="in_time") == [late.code]
    assert codes(search="tran thi binh") == [late.code]
    assert codes(received_from="2026-03-10") == [late.code]
    assert codes(received_to="2026-03-09") == [early.code]
    assert codes(procedure=o.procedure.code, sort="-received") == [late.code, early.code]
    assert codes(unit=o.other_commune.code) == []
    assert codes(channel="online") == []
    assert codes(field=o.procedure.field.code, sort="received") == [early.code, late.code]
    assert client.get("/api/v1/dossiers/", {"page_size": 1}).json()["count"] == 2
    assert len(client.get("/api/v1/dossiers/", {"page_size": 1}).json()["results"]) == 1


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "lost"}, "status"),
        ({"timeliness": "soon"}, "timeliness"),
        ({"received_from": "09/03/2026x"}, "received_from"),
        ({"received_from": "2026-03-10", "received_to": "2026-03-01"}, "received_to"),
        ({"sort": "applicant"}, "sort"),
    ],
)
def test_an_invalid_filter_is_a_400(api, o, params, field):
    response = api(o.officer).get("/api/v1/dossiers/", params)
    assert field in _error(response, 400, "invalid")["fields"]


LIST_QUERIES = 7  # session, user, memberships, "units exist?", the units' ids, count, page


def test_the_list_takes_the_same_few_queries_for_any_number_of_rows(
    api, o, django_assert_max_num_queries
):
    client = api(o.manager)
    received(o)
    with django_assert_max_num_queries(LIST_QUERIES):
        assert len(client.get("/api/v1/dossiers/").json()["results"]) == 1
    for _ in range(20):
        received(o, unit=o.other_commune, by=MembershipFactory(unit=o.other_commune).user)
    services.assign_dossier(
        dossier=Dossier.objects.first(), by=o.manager, officer=o.outsider
    )  # a row with an assigned officer
    with django_assert_max_num_queries(LIST_QUERIES):
        assert len(client.get("/api/v1/dossiers/").json()["results"]) == 21


# --- Detail -------------------------------------------------------------------------------------


def test_the_detail_is_a_404_for_those_who_may_not_see_it(api, o):
    dossier = submitted(o)
    assert api(o.counter).get(f"/api/v1/dossiers/{dossier.code}/").status_code == 200
    assert api(o.citizen).get(f"/api/v1/dossiers/{dossier.code}/").status_code == 200
    _error(api(o.outsider).get(f"/api/v1/dossiers/{dossier.code}/"), 404, "not_found")
    _error(api(UserFactory()).get(f"/api/v1/dossiers/{dossier.code}/"), 404, "not_found")
    _error(api(o.counter).get("/api/v1/dossiers/KHONG-CO/"), 404, "not_found")


def test_the_detail_offers_the_actions_of_the_readers_role(api, o):
    dossier = received(o)
    url = f"/api/v1/dossiers/{dossier.code}/"
    assert api(o.counter).get(url).json()["available_actions"] == ["withdraw"]
    assert api(o.officer).get(url).json()["available_actions"] == [
        "start",
        "request_supplement",
        "apologize",
        "stop",
    ]


def test_the_detail_shows_pauses_and_a_moved_deadline(api, o, time_machine):
    time_machine.move_to(at(2026, 3, 9, 9, 0), tick=False)
    dossier = received(o)
    services.request_supplement(
        dossier=dossier, by=o.officer, missing="Giấy chứng sinh", reason="Thiếu"
    )
    body = api(o.officer).get(f"/api/v1/dossiers/{dossier.code}/").json()
    assert body["status"] == "supplement_requested"
    assert body["pauses"] == [
        {
            "started_at": "2026-03-09T09:00:00+07:00",
            "ended_at": None,
            "missing_documents": "Giấy chứng sinh",
            "reason": "Thiếu",
        }
    ]
    time_machine.move_to(at(2026, 4, 20, 9, 0), tick=False)  # long after the due date
    body = api(o.officer).get(f"/api/v1/dossiers/{dossier.code}/").json()
    assert body["current_timeliness"] == "in_time"  # the clock stands while paused


def test_an_open_dossier_becomes_overdue_in_the_detail_and_the_list(api, o, time_machine):
    time_machine.move_to(at(2026, 3, 9, 9, 0), tick=False)
    dossier = received(o)
    time_machine.move_to(at(2026, 3, 13, 9, 0), tick=False)
    client = api(o.officer)
    body = client.get(f"/api/v1/dossiers/{dossier.code}/").json()
    assert (body["timeliness"], body["current_timeliness"]) == ("in_time", "overdue")
    row = client.get("/api/v1/dossiers/").json()["results"][0]
    assert row["current_timeliness"] == "overdue"


def test_the_detail_takes_the_same_queries_however_long_its_history(api, o):
    client = api(o.officer)
    dossier = received(o)

    def queries():
        with CaptureQueriesContext(connection) as context:
            assert client.get(f"/api/v1/dossiers/{dossier.code}/").status_code == 200
        return len(context.captured_queries)

    short = queries()
    services.start_processing(dossier=dossier, by=o.officer)
    for _ in range(3):
        services.request_supplement(dossier=dossier, by=o.officer, missing="X", reason="Y")
        services.record_supplement(dossier=dossier, by=o.counter)
        _upload(api(o.counter), dossier.code, "a.pdf", PDF)
    assert queries() == short


# --- Actions ------------------------------------------------------------------------------------


def test_the_whole_lifecycle_through_the_api(api, o, time_machine):
    time_machine.move_to(at(2026, 3, 9, 9, 0), tick=False)
    counter, officer = api(o.counter), api(o.officer)
    code = counter.post("/api/v1/dossiers/", _intake(o), format="json").json()["code"]

    body = _act(officer, code, "start", note="Bắt đầu").json()
    assert (body["status"], body["assigned_to"]) == ("in_progress", o.officer.username)
    time_machine.move_to(at(2026, 3, 10, 9, 0), tick=False)
    body = _act(
        officer, code, "request_supplement", missing="Giấy chứng sinh", reason="Thiếu giấy tờ"
    ).json()
    assert body["status"] == "supplement_requested"
    time_machine.move_to(at(2026, 3, 12, 9, 0), tick=False)
    body = _act(counter, code, "supplement", note="Đã bổ sung").json()
    assert (body["status"], body["due_at"]) == ("in_progress", "2026-03-16T09:00:00+07:00")
    assert any("paused" in step["text"] for step in body["deadline_trace"])
    time_machine.move_to(at(2026, 3, 13, 10, 0), tick=False)
    body = _act(officer, code, "resolve", result="QĐ số 12/QĐ-UBND", digitized_result=True).json()
    assert (body["status"], body["timeliness"]) == ("resolved", "early")
    assert body["digitized_result"] is True
    assert body["available_actions"] == []
    body = _act(counter, code, "return").json()
    assert body["status"] == "returned"
    assert [(e["action"], e["from"], e["to"], e["by"]) for e in body["events"]] == [
        ("receive", "", "received", o.counter.username),
        ("start", "received", "in_progress", o.officer.username),
        ("request_supplement", "in_progress", "supplement_requested", o.officer.username),
        ("supplement", "supplement_requested", "in_progress", o.counter.username),
        ("resolve", "in_progress", "resolved", o.officer.username),
        ("return", "resolved", "returned", o.counter.username),
    ]


def test_an_online_dossier_is_accepted_rejected_and_returned(api, o, time_machine):
    time_machine.move_to(at(2026, 3, 9, 8, 0), tick=False)
    code = api(o.citizen).post("/api/v1/dossiers/", _intake(o, channel="online"), format="json")
    code = code.json()["code"]
    counter, officer = api(o.counter), api(o.officer)
    body = _act(counter, code, "accept").json()
    assert (body["status"], body["received_at"]) == ("received", "2026-03-09T08:00:00+07:00")
    _act(officer, code, "start")
    body = _act(officer, code, "reject", reason="Không đủ điều kiện").json()
    assert (body["status"], body["timeliness"]) == ("rejected", "early")
    assert _act(counter, code, "return").json()["status"] == "returned"


def test_refusal_withdrawal_stop_apology_and_assignment(api, o, time_machine):
    time_machine.move_to(at(2026, 3, 9, 9, 0), tick=False)
    counter, officer, citizen = api(o.counter), api(o.officer), api(o.citizen)
    refused = submitted(o)
    body = _act(counter, refused.code, "refuse", reason="Sai thủ tục").json()
    assert (body["status"], body["close_reason"]) == ("refused", "Sai thủ tục")

    mine = submitted(o)
    assert _act(citizen, mine.code, "withdraw", reason="Nộp nhầm").json()["status"] == "withdrawn"

    stopped = received(o)
    assert _act(officer, stopped.code, "stop", reason="Theo QĐ").json()["status"] == "stopped"

    late = received(o)
    body = _act(
        officer, late.code, "apologize", promised_at="2026-03-20T16:00:00", reason="Chờ xác minh"
    ).json()
    assert body["promised_at"] == "2026-03-20T16:00:00+07:00"
    assert body["deadline_trace"][-1]["kind"] == "apology"
    assert "apologize" not in body["available_actions"]
    again = _act(
        officer, late.code, "apologize", promised_at="2026-03-27T16:00:00", reason="Lần hai"
    )
    _error(again, 409, "invalid_transition")

    manager = api(o.manager)
    body = _act(manager, late.code, "assign", officer=o.officer.username).json()
    assert body["assigned_to"] == o.officer.username
    wrong = _act(manager, late.code, "assign", officer=o.counter.username)
    assert "officer" in _error(wrong, 400, "invalid")["fields"]
    unknown = _act(manager, late.code, "assign", officer="khong-co-ai")
    assert _error(unknown, 400, "invalid")["fields"]["officer"] == [
        "No account has the username khong-co-ai."
    ]


def test_an_action_the_status_does_not_allow_is_a_409(api, o):
    dossier = received(o)
    body = _error(
        _act(api(o.officer), dossier.code, "resolve", result="X"), 409, "invalid_transition"
    )
    assert "cannot be given" in body["message"]
    assert Dossier.objects.get().status == Status.RECEIVED


def test_an_action_the_role_does_not_allow_is_a_403(api, o):
    dossier = received(o)
    body = _error(_act(api(o.counter), dossier.code, "start"), 403, "permission_denied")
    assert "Start processing" in body["message"]
    assert DossierEvent.objects.count() == 1


def test_an_action_on_a_dossier_one_may_not_see_is_a_404(api, o):
    dossier = received(o)
    _error(_act(api(o.outsider), dossier.code, "start"), 404, "not_found")
    _error(_act(api(UserFactory()), dossier.code, "withdraw", reason="x"), 404, "not_found")
    assert Dossier.objects.get().status == Status.RECEIVED


def test_an_unknown_action_is_a_404(api, o):
    dossier = received(o)
    _error(_act(api(o.officer), dossier.code, "fly"), 404, "not_found")
    _error(_act(api(o.officer), dossier.code, "submit"), 404, "not_found")


@pytest.mark.parametrize(
    ("action", "body", "field"),
    [
        ("refuse", {}, "reason"),
        ("request_supplement", {"reason": "Thiếu"}, "missing"),
        ("resolve", {}, "result"),
        ("apologize", {"reason": "Chậm", "promised_at": "hôm nay"}, "promised_at"),
        ("apologize", {"reason": "Chậm", "promised_at": "2020-01-01T08:00:00"}, "promised_at"),
        ("withdraw", {"reason": "   "}, "reason"),
    ],
)
def test_an_actions_input_is_validated(api, o, action, body, field):
    dossier = submitted(o) if action == "refuse" else received(o)
    actor = {"refuse": o.counter, "withdraw": o.counter}.get(action, o.officer)
    response = _act(api(actor), dossier.code, action, **body)
    assert field in _error(response, 400, "invalid")["fields"]
    assert Dossier.objects.get().events.count() == 1


# --- Attachments --------------------------------------------------------------------------------


def _upload(client, code, name, content, **data):
    return client.post(
        f"/api/v1/dossiers/{code}/attachments/",
        {"file": SimpleUploadedFile(name, content, content_type="application/pdf"), **data},
        format="multipart",
    )


def test_a_file_is_attached_and_recognised_by_its_content(api, o):
    dossier = received(o)
    document = dossier.documents.first()
    response = _upload(
        api(o.counter), dossier.code, "to-khai.pdf", PDF, document=document.pk, digitized=True
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["name"], body["content_type"], body["size"]) == (
        "to-khai.pdf",
        "application/pdf",
        len(PDF),
    )
    assert (body["kind"], body["digitized"], body["document"]) == ("document", True, document.pk)
    assert body["url"].endswith(f"/dossiers/{dossier.code}/attachments/{body['id']}/")
    detail = api(o.counter).get(f"/api/v1/dossiers/{dossier.code}/").json()
    assert [a["id"] for a in detail["attachments"]] == [body["id"]]
    assert detail["events"][-1]["action"] == Action.ATTACH
    png = api(o.citizen).post(
        f"/api/v1/dossiers/{submitted(o).code}/attachments/",
        {"file": SimpleUploadedFile("anh.PNG", PNG, content_type="application/octet-stream")},
        format="multipart",
    )
    # By its bytes: the client declared no type (one contradicting the bytes is refused).
    assert png.json()["content_type"] == "image/png"


def test_a_png_named_pdf_is_refused(api, o):
    dossier = received(o)
    body = _error(_upload(api(o.counter), dossier.code, "giay.pdf", PNG), 400, "invalid")
    assert "PNG" in body["fields"]["file"][0]
    assert not Attachment.objects.exists()


def test_an_oversized_file_is_refused(api, o, settings):
    settings.ATTACHMENT_MAX_BYTES = 1024 * 1024
    dossier = received(o)
    big = PDF + b"0" * (1024 * 1024)
    body = _error(_upload(api(o.counter), dossier.code, "lon.pdf", big), 400, "invalid")
    assert "larger than 1 MB" in body["fields"]["file"][0]
    assert not Attachment.objects.exists()


def test_a_document_of_another_dossier_is_refused(api, o):
    dossier, other = received(o), received(o)
    response = _upload(
        api(o.counter), dossier.code, "a.pdf", PDF, document=other.documents.first().pk
    )
    assert "document" in _error(response, 400, "invalid")["fields"]


def test_attachments_follow_visibility_role_and_status(api, o):
    dossier = received(o)
    _error(_upload(api(o.outsider), dossier.code, "a.pdf", PDF), 404, "not_found")
    result = _upload(api(o.counter), dossier.code, "kq.pdf", PDF, kind="result")
    _error(result, 403, "permission_denied")
    services.withdraw_dossier(dossier=dossier, by=o.counter, reason="Rút")
    _error(_upload(api(o.counter), dossier.code, "a.pdf", PDF), 409, "invalid_transition")
    assert not Attachment.objects.exists()


# --- Import -------------------------------------------------------------------------------------

HEADER = (
    "code,procedure,unit,channel,applicant_name,applicant_id_number,applicant_phone,received_at,"
    "due_at,resolved_at,returned_at,closed_at,outcome,digitized_intake,digitized_result,rating\n"
)


def _csv(o, *rows):
    lines = [
        f"{code},{o.procedure.code},{o.commune.code},in_person,Nguyễn Văn An,015090001234,"
        f"0912345678,{received_at},,{resolved_at},,,{outcome},0,0,"
        for code, received_at, resolved_at, outcome in rows
    ]
    return (HEADER + "\n".join(lines) + "\n").encode()


def _import(client, content):
    return client.post(
        "/api/v1/dossiers/import/",
        {"file": SimpleUploadedFile("hoso.csv", content, content_type="text/csv")},
        format="multipart",
    )


def test_an_administrator_imports_dossiers(api, o, time_machine):
    time_machine.move_to(at(2026, 3, 20, 9, 0), tick=False)
    admin = MembershipFactory(unit=o.district, role=Role.ADMIN).user
    content = _csv(
        o,
        ("", "2026-03-09T09:00:00", "2026-03-10T10:00:00", "resolved"),
        (f"{o.commune.code}-260309-0007", "2026-03-09T10:00:00", "", ""),
    )
    response = _import(api(admin), content)
    assert response.status_code == 201, response.content
    assert response.json() == {
        "created": 2,
        "generated_codes": 1,
        "by_status": {"received": 1, "resolved": 1},
    }
    assert DossierEvent.objects.filter(action="import", by=admin).count() == 2


def test_only_administrators_import(api, o):
    content = _csv(o, ("", "2026-03-09T09:00:00", "", ""))
    _error(_import(api(o.manager), content), 403, "permission_denied")
    superuser = UserFactory(is_superuser=True)
    assert _import(api(superuser), content).status_code == 201


def test_an_administrator_imports_only_into_their_own_units(api, o):
    """The administrator of the commune next door may not write into this commune's books."""
    neighbour = MembershipFactory(unit=o.other_commune, role=Role.ADMIN).user
    before = Dossier.objects.count()
    response = _import(api(neighbour), _csv(o, ("", "2026-03-09T09:00:00", "", "")))
    assert response.status_code == 400
    [error] = response.json()["fields"]["rows"]
    assert (error["row"], error["column"]) == (2, "unit")
    assert o.commune.code in error["message"]
    assert Dossier.objects.count() == before


def test_a_bad_import_lists_errors_by_row_and_column_and_writes_nothing(api, o):
    admin = MembershipFactory(unit=o.district, role=Role.ADMIN).user
    content = _csv(
        o,
        ("", "2026-03-09T09:00:00", "", ""),
        ("", "2026-03-09T09:00:00", "2026-03-08T09:00:00", "resolved"),
        ("", "09/03/2026", "", ""),
    )
    body = _error(_import(api(admin), content), 400, "invalid")
    assert body["message"] == "Nothing was imported: the file has 2 errors."
    assert body["fields"] == {
        "rows": [
            {
                "row": 3,
                "column": "resolved_at",
                "message": "The dossier was resolved before it was received.",
            },
            {
                "row": 4,
                "column": "received_at",
                "message": (
                    "“09/03/2026” is not an ISO 8601 date and time, e.g. 2022-11-02T08:15:00."
                ),
            },
        ]
    }
    assert not Dossier.objects.exists()


def test_an_unreadable_import_file_is_a_400_on_the_file(api, o):
    admin = UserFactory(is_superuser=True)
    body = _error(_import(api(admin), b"ma,thu_tuc\n1,2\n"), 400, "invalid")
    assert "lacks the columns" in body["fields"]["file"][0]
    body = _error(_import(api(admin), "\ufeffcode".encode("utf-16")), 400, "invalid")
    assert "file" in body["fields"]
