"""The staff pages: worklist, intake, a dossier's page, its actions and its files."""

import re
from datetime import datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.translation import gettext, override

from dossiers import services
from dossiers.choices import Action, AttachmentKind, Channel, Status
from dossiers.models import Attachment, DayCounter, Dossier
from dossiers.services import Applicant
from dossiers.templatetags.dossier_tags import working_time_left
from portal.choices import Role
from portal.tests.factories import MembershipFactory, UserFactory
from procedures.deadlines import VN_TZ
from procedures.tests.factories import ProcedureFactory

from .factories import office, received, submitted

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def at(*args):
    return datetime(*args, tzinfo=VN_TZ)


def vi(text: str) -> str:
    """What the page says for ``text`` in Vietnamese (the msgid itself until translated)."""
    with override("vi"):
        return gettext(text)


def page_of(response) -> str:
    return response.content.decode()


@pytest.fixture
def monday(time_machine):
    time_machine.move_to(at(2026, 3, 9, 9, 0), tick=False)
    return time_machine


def url(name, *args):
    return reverse(f"dossiers:{name}", args=args)


def act(client, dossier, action, data=None):
    return client.post(url("act", dossier.code, action), data or {})


# --- Worklist -------------------------------------------------------------------------------------


def test_the_worklist_lists_the_units_dossiers_in_vietnamese(client, monday):
    o = office(time_limit_value=3)
    dossier = received(o)
    waiting = submitted(o)
    elsewhere = received(
        o,
        unit=o.other_commune,
        by=MembershipFactory(unit=o.other_commune, role=Role.COUNTER_OFFICER).user,
    )
    client.force_login(o.officer)
    response = client.get(url("worklist"))
    page = page_of(response)
    assert response.status_code == 200
    assert '<html lang="vi">' in page
    assert vi("Search") == "Tìm kiếm" and "Tìm kiếm" in page
    assert dossier.code in page and waiting.code in page
    assert elsewhere.code not in page  # another commune: outside the officer's subtree
    assert "Nguyễn Văn An" in page
    assert vi(str(Status.RECEIVED.label)) in page
    with override("vi"):
        assert working_time_left(timedelta(hours=24)) in page  # 3 working days left


def test_the_worklist_is_for_staff(client):
    o = office()
    assert client.get(url("worklist")).status_code == 302  # to the login page
    client.force_login(o.citizen)
    response = client.get(url("worklist"))
    assert response.status_code == 403
    assert '<html lang="vi">' in page_of(response)


def _returned(o):
    dossier = received(o)
    services.start_processing(dossier=dossier, by=o.officer)
    services.resolve_dossier(dossier=dossier, by=o.officer, result="QĐ 1/2026")
    return services.return_result(dossier=dossier, by=o.counter)


def test_the_worklist_tabs_count_in_one_statement_and_filter(client, monday):
    o = office()
    received(o)
    received(o)
    submitted(o)
    services.request_supplement(dossier=received(o), by=o.officer, missing="X", reason="Y")
    _returned(o)
    client.force_login(o.counter)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url("worklist"))
    counting = [q["sql"] for q in queries if "COUNT(" in q["sql"].upper()]
    # The quick links in one statement (the work to do by status; capped, the results to hand
    # back and all); the list is the "to do" link's, so its length is that count.
    assert len(counting) == 1, counting
    assert response.context["page"].paginator.count == 4
    tabs = {tab["key"]: tab["count"] for tab in response.context["tabs"]}
    assert tabs == {
        "todo": 4,
        "submitted": 1,
        "received": 2,
        "in_progress": 0,
        "supplement": 1,
        "overdue": 0,
        "resolved": 0,
        "all": 5,
    }
    only = client.get(url("worklist"), {"status": Status.SUBMITTED})
    assert [d.status for d, _left in only.context["rows"]] == [Status.SUBMITTED]
    active = [tab["key"] for tab in only.context["tabs"] if tab["active"]]
    assert active == ["submitted"]
    assert only.context["page"].paginator.count == 1
    # Narrowed by another filter, the list counts its own length.
    with CaptureQueriesContext(connection) as queries:
        narrowed = client.get(url("worklist"), {"scope": "all", "channel": Channel.POSTAL})
    assert len([q for q in queries if "COUNT(" in q["sql"].upper()]) == 2
    assert narrowed.context["page"].paginator.count == 0
    assert [tab["key"] for tab in narrowed.context["tabs"] if tab["active"]] == ["all"]


def test_the_worklist_opens_on_the_work_to_do_and_keeps_the_history_a_click_away(client, monday):
    o = office()
    pending = received(o)
    done = _returned(o)
    client.force_login(o.counter)

    def listed(**query):
        response = client.get(url("worklist"), query)
        return response, [d.code for d, _left in response.context["rows"]]

    response, codes = listed()
    assert codes == [pending.code]
    assert [t["key"] for t in response.context["tabs"] if t["active"]] == ["todo"]
    response, codes = listed(scope="all")
    assert codes == [done.code, pending.code]  # the history newest first
    assert [t["key"] for t in response.context["tabs"] if t["active"]] == ["all"]
    # A search looks everywhere, whatever tab it was typed on.
    assert listed(scope="todo", search=done.code)[1] == [done.code]
    # A filter typed on the to-do tab keeps to the work to do (the form carries the scope).
    assert listed(scope="todo", channel=Channel.IN_PERSON)[1] == [pending.code]
    assert 'name="scope" value="todo"' in page_of(response := listed()[0])
    assert gettext("Searches every dossier, finished ones included.") in page_of(response)


def test_a_long_worklist_counts_no_further_than_its_cap(client, monday, monkeypatch):
    from portal import paging

    monkeypatch.setattr(paging, "COUNT_CAP", 2)
    o = office()
    for _ in range(3):
        received(o)
    client.force_login(o.counter)
    response = client.get(url("worklist"), {"scope": "all"})
    with override("vi"):
        message = gettext(
            "More than %(cap)s dossiers: the pages show the first %(cap)s. Search or filter to "
            "narrow them down."
        ) % {"cap": 2}
    assert message in page_of(response)
    assert [len(response.context["rows"]), response.context["page"].paginator.count] == [2, 2]
    tab = next(t for t in response.context["tabs"] if t["key"] == "all")
    assert (tab["count"], tab["more"]) == (2, True)
    assert '<span class="tab-count">2+</span>' in page_of(response)
    # Narrowed down, the figures are exact again.
    response = client.get(url("worklist"), {"scope": "all", "channel": Channel.POSTAL})
    assert not response.context["page"].paginator.capped


def test_the_worklist_searches_names_without_diacritics_phones_and_codes(client, monday):
    o = office()
    an = received(o)
    binh = received(o, applicant=Applicant("Trần Thị Bình", "015090009999", "0987654321", "", ""))
    client.force_login(o.counter)

    def codes(**query):
        return {d.code for d, _left in client.get(url("worklist"), query).context["rows"]}

    assert codes(search="nguyen van an") == {an.code}
    assert codes(search="TRAN THI BINH") == {binh.code}
    assert codes(search="0987 654 321") == {binh.code}
    assert codes(search=an.code) == {an.code}
    assert codes(channel=Channel.POSTAL) == set()
    assert codes(unit=o.commune.code, sort="code") == {an.code, binh.code}


def test_bad_filters_are_explained(client, monday):
    o = office()
    received(o)
    client.force_login(o.counter)
    response = client.get(
        url("worklist"), {"received_from": "2026-03-10", "received_to": "2026-03-01"}
    )
    assert response.status_code == 200
    page = page_of(response)
    assert "Vui lòng sửa các lỗi sau" in page
    assert vi("The end date is before the start date.") in page


def test_overdue_rows_stand_out_and_due_soon_rows_are_marked(client, time_machine):
    time_machine.move_to(at(2026, 3, 9, 9, 0), tick=False)
    o = office(time_limit_value=1)
    late = received(o)  # due Tuesday 09:00
    time_machine.move_to(at(2026, 3, 10, 8, 0), tick=False)
    soon = received(o)  # due Wednesday 08:00
    time_machine.move_to(at(2026, 3, 10, 16, 0), tick=False)
    client.force_login(o.officer)
    response = client.get(url("worklist"))
    left = {d.code: remaining for d, remaining in response.context["rows"]}
    assert left[late.code] == -timedelta(hours=5)  # 09:00–11:30 and 13:30–16:00
    assert left[soon.code] == timedelta(hours=2)  # 16:00–17:30, 07:30–08:00
    page = page_of(response)
    assert page.count('class="row-overdue"') == 1 and page.count('class="row-due-soon"') == 1
    with override("vi"):
        assert working_time_left(-timedelta(hours=5)) in page
    assert vi("Due soon") in page
    overdue = client.get(url("worklist"), {"timeliness": "overdue"}).context["rows"]
    assert [d.code for d, _left in overdue] == [late.code]


def _queries(client, path) -> int:
    with CaptureQueriesContext(connection) as context:
        assert client.get(path).status_code == 200
    return len(context)


def test_the_worklist_runs_a_fixed_number_of_queries(client, monday, django_assert_max_num_queries):
    o = office()
    other_counter = MembershipFactory(unit=o.other_commune, role=Role.COUNTER_OFFICER).user
    received(o)
    received(o, unit=o.other_commune, by=other_counter)
    client.force_login(o.manager)  # of the district: both communes
    few = _queries(client, url("worklist"))
    for _ in range(15):
        received(o)
        received(o, unit=o.other_commune, by=other_counter)
    submitted(o)
    # A full page (25 rows of two communes), the tabs, the filter lists and the menu:
    # session, user, roles, visible units (once: the list, the counts and the filter share
    # them), fields, the tabs' counts (one statement), rows, their procedures and units, and
    # the working calendar of the units on the page. Here the catalogue is read from the
    # database (no shared cache).
    with django_assert_max_num_queries(10):
        response = client.get(url("worklist"), {"search": "an", "sort": "-received"})
    assert len(response.context["rows"]) == 25
    assert _queries(client, url("worklist")) == few  # more dossiers, not more queries


def test_with_the_catalogue_kept_the_worklist_reads_five_statements(
    client, monday, monkeypatch, django_capture_on_commit_callbacks
):
    from procedures import catalogue_cache

    monkeypatch.setattr(catalogue_cache, "default_cache_is_shared", lambda: True)
    with django_capture_on_commit_callbacks(execute=True):  # as if each change committed
        o = office()
        other_counter = MembershipFactory(unit=o.other_commune, role=Role.COUNTER_OFFICER).user
        for _ in range(15):
            received(o)
            received(o, unit=o.other_commune, by=other_counter)
    client.force_login(o.manager)
    first = client.get(url("worklist"))
    # Session, user, roles, the tabs' counts and the rows: units, fields, procedures and the
    # calendar are the catalogue's.
    assert _queries(client, url("worklist")) == 5
    again = client.get(url("worklist"))
    assert [(d.code, d.unit.name, d.procedure.code, left) for d, left in again.context["rows"]] == [
        (d.code, d.unit.name, d.procedure.code, left) for d, left in first.context["rows"]
    ]
    assert {d.unit.name for d, _left in again.context["rows"]} == {
        o.commune.name,
        o.other_commune.name,
    }
    token = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')
    assert token.sub("", page_of(again)) == token.sub("", page_of(first))


# --- Navigation -----------------------------------------------------------------------------------


def test_the_menu_offers_the_dossier_pages_by_role(client):
    o = office()
    worklist, intake, register = url("worklist"), url("intake"), url("register")
    client.force_login(o.counter)
    menu = [item["url"] for item in client.get("/").context["nav_items"]]
    assert {worklist, intake, register} <= set(menu)
    client.force_login(o.officer)
    menu = [item["url"] for item in client.get("/").context["nav_items"]]
    assert worklist in menu and register in menu and intake not in menu
    client.force_login(o.citizen)
    menu = [item["url"] for item in client.get("/").context["nav_items"]]
    assert not {worklist, intake, register} & set(menu)


def test_the_menu_and_the_view_share_one_roles_query(client, monday):
    o = office()
    client.force_login(o.counter)
    with CaptureQueriesContext(connection) as context:
        client.get(url("intake"))
    memberships = 'FROM "portal_membership"'
    assert [memberships in q["sql"] for q in context].count(True) == 1


# --- Intake ---------------------------------------------------------------------------------------


def intake_data(o, **changes):
    data = {
        "unit": o.commune.code,
        "procedure": o.procedure.code,
        "channel": Channel.IN_PERSON,
        "postal_tracking_no": "",
        "applicant_name": "Nguyễn Thị Bình",
        "applicant_id_number": "015 090 001 235",
        "applicant_phone": "0912.345.679",
        "applicant_email": "binh@example.com",
        "applicant_address": "Thôn Trung Tâm, xã An Thịnh",
        "documents": [str(o.procedure.documents.first().pk)],
        "note": "Nộp tại quầy",
        "digitized_intake": "on",
        "save": "1",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def test_intake_starts_with_the_units_and_procedures_of_the_counter(client, monday):
    o = office()
    district_procedure = ProcedureFactory(level="district", name="Thủ tục cấp huyện")
    client.force_login(o.counter)
    response = client.get(url("intake"))
    page = page_of(response)
    assert response.status_code == 200
    assert vi("Receiving unit") == "Cơ quan tiếp nhận" and "Cơ quan tiếp nhận" in page
    assert o.commune.name in page and o.other_commune.name not in page
    assert o.procedure.name in page
    assert district_procedure.name not in page  # no district counter among the officer's units
    found = client.get(url("intake"), {"unit": o.commune.code, "q": "thu nghiem", "filter": "1"})
    assert o.procedure.name in page_of(found)
    none = client.get(url("intake"), {"unit": o.commune.code, "q": "khai tu", "filter": "1"})
    assert o.procedure.name not in page_of(none)


def test_intake_shows_the_due_date_before_saving(client, monday):
    o = office(time_limit_value=3)
    client.force_login(o.counter)
    choice = {"unit": o.commune.code, "procedure": o.procedure.code}
    step1 = page_of(client.get(url("intake"), {**choice, "preview": "1"}))
    assert "12/03/2026" in step1 and "09:00" in step1  # three working days from Monday 09:00
    fragment = client.get(url("deadline-preview"), choice)
    assert fragment.status_code == 200
    assert "<html" not in page_of(fragment)
    assert "12/03/2026" in page_of(fragment)
    with override("vi"):
        assert gettext("Received on %(date)s at %(time)s.") % {
            "date": "09/03/2026",
            "time": "09:00",
        } in page_of(fragment)
    step2 = client.get(url("intake"), {**choice, "next": "1"})
    page = page_of(step2)
    assert "12/03/2026" in page
    assert "Tờ khai theo mẫu" in page and "Giấy tờ tùy thân" in page
    # The no-script "Show the due date" button keeps what was typed and stores nothing.
    again = client.post(url("intake"), intake_data(o, save=None, preview="1"))
    assert again.status_code == 200
    assert "Nguyễn Thị Bình" in page_of(again) and "12/03/2026" in page_of(again)
    assert not Dossier.objects.exists()
    bad = client.get(url("deadline-preview"), {"unit": o.commune.code, "procedure": "0.000000"})
    assert bad.status_code == 400


def test_intake_receives_numbers_and_sends_to_the_receipt(client, monday):
    o = office(time_limit_value=3)
    client.force_login(o.counter)
    response = client.post(url("intake"), intake_data(o))
    dossier = Dossier.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url("slip", dossier.code, "receipt")
    assert dossier.code == f"{o.commune.code}-260309-0001"
    assert (dossier.status, dossier.channel, dossier.received_by) == (
        Status.RECEIVED,
        Channel.IN_PERSON,
        o.counter,
    )
    assert dossier.applicant_id_number == "015090001235"
    assert dossier.applicant_phone == "0912345679"
    assert dossier.digitized_intake is True
    assert dossier.due_at == at(2026, 3, 12, 9, 0)
    assert [d.received for d in dossier.documents.all()] == [True, False]


def test_the_same_form_sent_twice_is_received_once_and_says_so(client, monday):
    o = office()
    client.force_login(o.counter)
    data = intake_data(o, submission_key="4b1d6c1e-1111-4222-8333-944455556666")
    first = client.post(url("intake"), data, follow=True)
    monday.shift(60)  # the second click arrives a minute later, over a slow connection
    again = client.post(url("intake"), data, follow=True)
    dossier = Dossier.objects.get()
    receipt = url("slip", dossier.code, "receipt")
    assert first.redirect_chain[-1][0] == again.redirect_chain[-1][0] == receipt
    with override("vi"):
        received_now = gettext(
            "Dossier %(code)s received. Print the receipt for the applicant."
        ) % {"code": dossier.code}
        already = gettext(
            "This form was already sent: dossier %(code)s was received at %(at)s and nothing "
            "new was recorded. Here is its receipt."
        ) % {"code": dossier.code, "at": "09:00 09/03/2026"}
    assert already.startswith("Biểu mẫu này đã được gửi trước đó: hồ sơ")  # in Vietnamese
    assert received_now in page_of(first) and already not in page_of(first)
    assert already in page_of(again) and received_now not in page_of(again)
    assert DayCounter.objects.get().last == 1  # the second send took no number


def test_a_postal_intake_keeps_its_tracking_number(client, monday):
    o = office()
    client.force_login(o.counter)
    response = client.post(
        url("intake"), intake_data(o, channel=Channel.POSTAL, postal_tracking_no="EMS123VN")
    )
    assert response.status_code == 302
    assert Dossier.objects.get().postal_tracking_no == "EMS123VN"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"applicant_id_number": "0150900"}, "A citizen ID number (CCCD) has exactly 12 digits."),
        (
            {"applicant_phone": "12345"},
            "Enter a Vietnamese phone number, e.g. 0912345678 or 02163852300.",
        ),
        ({"channel": Channel.POSTAL}, "A postal dossier needs its postal tracking number."),
        ({"applicant_name": ""}, "This field is required."),
    ],
)
def test_bad_intake_input_is_explained_and_stores_nothing(client, monday, changes, message):
    o = office()
    client.force_login(o.counter)
    response = client.post(url("intake"), intake_data(o, **changes))
    assert response.status_code == 400
    page = page_of(response)
    assert "Vui lòng sửa các lỗi sau" in page
    assert vi(message) in page
    assert not Dossier.objects.exists() and not DayCounter.objects.exists()


def test_intake_refuses_a_procedure_the_unit_does_not_handle(client, monday):
    o = office()
    district_procedure = ProcedureFactory(level="district")
    client.force_login(o.counter)
    response = client.post(url("intake"), intake_data(o, procedure=district_procedure.code))
    assert response.status_code == 400
    with override("vi"):
        expected = gettext(
            "%(unit)s does not handle this procedure: it is handled at %(level)s."
        ) % {"unit": o.commune.name, "level": gettext("District level").lower()}
    assert expected in page_of(response)
    assert not Dossier.objects.exists()


def test_intake_is_for_the_counter_officers_of_the_unit(client, monday):
    o = office()
    client.force_login(o.officer)
    assert client.get(url("intake")).status_code == 403
    assert client.post(url("intake"), intake_data(o)).status_code == 403
    client.force_login(o.counter)
    other = client.post(url("intake"), intake_data(o, unit=o.other_commune.code))
    assert other.status_code == 400
    assert vi("You do not receive dossiers for this unit.") in page_of(other)
    assert not Dossier.objects.exists()


def test_a_district_counter_receives_for_its_communes(client, monday):
    o = office()
    district_counter = MembershipFactory(unit=o.district, role=Role.COUNTER_OFFICER).user
    client.force_login(district_counter)
    response = client.post(url("intake"), intake_data(o, unit=o.other_commune.code))
    assert response.status_code == 302
    assert Dossier.objects.get().unit == o.other_commune


# --- A dossier's page -----------------------------------------------------------------------------


def test_the_dossier_page_shows_everything_to_staff_in_vietnamese(client, monday):
    o = office(time_limit_value=3)
    dossier = received(o, documents=[o.procedure.documents.first().pk], note="Nộp tại quầy")
    services.request_supplement(
        dossier=dossier, by=o.officer, missing="Giấy chứng sinh", reason="Thiếu"
    )
    client.force_login(o.officer)
    response = client.get(url("detail", dossier.code))
    page = page_of(response)
    assert response.status_code == 200
    assert '<html lang="vi">' in page and "Cách tính ngày hẹn trả" in page
    assert dossier.code in page and "Nguyễn Văn An" in page and "015090001234" in page
    assert "Giấy chứng sinh" in page  # the pause, and the timeline
    assert vi(str(Action.REQUEST_SUPPLEMENT.label)) in page
    with override("vi"):
        assert (
            gettext("Received on %(date)s at %(time)s.")
            % {
                "date": "09/03/2026",
                "time": "09:00",
            }
            in page
        )
    for slip in ("receipt", "supplement", "control"):
        assert url("slip", dossier.code, slip) in page
    assert url("slip", dossier.code, "refusal") not in page
    offered = [item["action"] for item in response.context["action_forms"]]
    assert offered == ["supplement", "apologize", "stop"]


def test_the_dossier_page_runs_a_fixed_number_of_queries(
    client, monday, django_assert_max_num_queries
):
    o = office()
    dossier = received(o)
    for _ in range(3):
        services.add_attachment(
            dossier=dossier, by=o.counter, upload=SimpleUploadedFile("a.pdf", PDF)
        )
    services.request_supplement(dossier=dossier, by=o.officer, missing="X", reason="Y")
    services.record_supplement(dossier=dossier, by=o.counter)
    client.force_login(o.manager)
    # session, user, visible units (2), the dossier and its documents, files, pauses, events
    # and their authors, roles, the roles over this dossier, the unit's calendar (2), and the
    # officers a manager may assign to.
    with django_assert_max_num_queries(15):
        response = client.get(url("detail", dossier.code))
    assert len(response.context["events"]) == 6


def test_the_applicant_sees_their_own_dossier_others_do_not(client, monday):
    o = office()
    dossier = submitted(o)
    client.force_login(o.citizen)
    response = client.get(url("detail", dossier.code))
    # The applicant is sent to their own page, which shows no officer's working notes.
    assert response.status_code == 302
    assert response.url == f"/dossiers/my/{dossier.code}/"
    client.force_login(UserFactory())
    assert client.get(url("detail", dossier.code)).status_code == 404
    client.force_login(o.outsider)
    assert client.get(url("detail", dossier.code)).status_code == 404
    assert client.get(url("detail", "000.00.00.X00-260101-9999")).status_code == 404


# --- Actions --------------------------------------------------------------------------------------


def _received(o):
    return received(o)


def _in_progress(o):
    return services.start_processing(dossier=received(o), by=o.officer)


def _paused(o):
    return services.request_supplement(
        dossier=received(o), by=o.officer, missing="Giấy chứng sinh", reason="Thiếu"
    )


def _resolved(o):
    return services.resolve_dossier(dossier=_in_progress(o), by=o.officer, result="QĐ 1")


ACTION_CASES = [
    # action, the dossier before, who may, who may not, input, status after
    ("accept", submitted, "counter", "officer", {"note": "Đủ hồ sơ"}, Status.RECEIVED),
    ("refuse", submitted, "counter", "officer", {"reason": "Sai thủ tục"}, Status.REFUSED),
    ("start", _received, "officer", "counter", {}, Status.IN_PROGRESS),
    (
        "request_supplement",
        _in_progress,
        "officer",
        "counter",
        {"missing": "Giấy chứng sinh", "reason": "Thiếu giấy tờ"},
        Status.SUPPLEMENT_REQUESTED,
    ),
    ("supplement", _paused, "counter", "manager", {"note": "Đã nộp"}, Status.IN_PROGRESS),
    ("resolve", _in_progress, "officer", "counter", {"result": "GKS số 12"}, Status.RESOLVED),
    ("reject", _in_progress, "officer", "counter", {"reason": "Không đủ"}, Status.REJECTED),
    ("return", _resolved, "counter", "officer", {}, Status.RETURNED),
    ("withdraw", _received, "counter", "officer", {"reason": "Công dân rút"}, Status.WITHDRAWN),
    ("stop", _received, "officer", "counter", {"reason": "Theo quyết định"}, Status.STOPPED),
    (
        "apologize",
        _in_progress,
        "officer",
        "counter",
        {"promised_date": "2026-03-20", "promised_time": "16:00", "reason": "Chờ xác minh"},
        Status.IN_PROGRESS,
    ),
    ("assign", _received, "manager", "officer", {"officer": "OFFICER"}, Status.RECEIVED),
]


@pytest.mark.parametrize(
    ("action", "before", "who", "not_who", "data", "after"),
    ACTION_CASES,
    ids=[case[0] for case in ACTION_CASES],
)
def test_each_action_works_for_its_role_only(
    client, monday, action, before, who, not_who, data, after
):
    o = office()
    dossier = before(o)
    status = dossier.status
    data = {k: (o.officer.pk if v == "OFFICER" else v) for k, v in data.items()}

    client.force_login(o.outsider)  # another commune: the dossier does not exist for them
    assert act(client, dossier, action, data).status_code == 404

    client.force_login(getattr(o, not_who))
    refused = act(client, dossier, action, data)
    assert refused.status_code == 403
    assert '<html lang="vi">' in page_of(refused)
    dossier.refresh_from_db()
    assert dossier.status == status

    client.force_login(getattr(o, who))
    response = act(client, dossier, action, data)
    assert response.status_code == 302
    assert response["Location"] == url("detail", dossier.code)
    dossier.refresh_from_db()
    assert dossier.status == after
    assert dossier.events.last().action == action
    followed = client.get(response["Location"])
    assert dossier.code in page_of(followed)
    assert list(followed.context["messages"])  # the success message


def test_after_a_refusal_the_refusal_slip_is_offered(client, monday):
    o = office()
    dossier = submitted(o)
    client.force_login(o.counter)
    response = act(client, dossier, "refuse", {"reason": "Sai thủ tục"})
    page = page_of(client.get(response["Location"]))
    assert page.count(url("slip", dossier.code, "refusal")) == 2  # the message and the list


def test_missing_input_is_explained_and_changes_nothing(client, monday):
    o = office()
    dossier = submitted(o)
    client.force_login(o.counter)
    response = act(client, dossier, "refuse", {"reason": "  "})
    assert response.status_code == 400
    page = page_of(response)
    assert "Vui lòng sửa các lỗi sau" in page
    assert vi("Give the reason for the refusal.") in page
    assert 'href="#refuse-reason"' in page
    assert response.context["open_action"] == "refuse"
    dossier.refresh_from_db()
    assert dossier.status == Status.SUBMITTED and dossier.events.count() == 1


def test_an_action_the_status_does_not_allow_is_a_conflict(client, monday):
    o = office()
    dossier = submitted(o)
    client.force_login(o.officer)
    response = act(client, dossier, "start")
    assert response.status_code == 409
    with override("vi"):
        expected = gettext(
            "This dossier is “%(status)s”: it cannot be given the action “%(action)s”."
        ) % {"status": gettext(str(Status.SUBMITTED.label)), "action": gettext("Start processing")}
    assert expected in page_of(response)
    dossier.refresh_from_db()
    assert dossier.status == Status.SUBMITTED
    assert act(client, dossier, "fly").status_code == 404
    assert client.get(url("act", dossier.code, "start")).status_code == 405


def test_an_apology_is_issued_once_and_its_date_is_checked(client, monday):
    o = office(time_limit_value=3)
    dossier = _in_progress(o)
    client.force_login(o.officer)
    early = act(
        client,
        dossier,
        "apologize",
        {"promised_date": "2026-03-11", "promised_time": "16:00", "reason": "Chờ"},
    )
    assert early.status_code == 400  # before the due date (12/03 09:00): the service says so
    assert vi("The new date must be later than now and than the due date.") in page_of(early)
    dossier.refresh_from_db()
    assert dossier.promised_at is None
    data = {"promised_date": "2026-03-20", "promised_time": "16:00", "reason": "Chờ xác minh"}
    assert act(client, dossier, "apologize", data).status_code == 302
    dossier.refresh_from_db()
    assert dossier.promised_at == at(2026, 3, 20, 16, 0)
    page = page_of(client.get(url("detail", dossier.code)))
    assert "20/03/2026 16:00" in page and url("slip", dossier.code, "apology") in page
    assert act(client, dossier, "apologize", data).status_code == 409


def test_assignment_offers_the_processing_officers_of_the_unit(client, monday):
    o = office()
    dossier = received(o)
    client.force_login(o.manager)
    offered = client.get(url("detail", dossier.code)).context["action_forms"]
    form = next(item["form"] for item in offered if item["action"] == "assign")
    assert list(form.fields["officer"].queryset) == [o.officer]
    wrong = act(client, dossier, "assign", {"officer": o.outsider.pk})
    assert wrong.status_code == 400
    dossier.refresh_from_db()
    assert dossier.assigned_to is None


def test_resolving_with_a_result_file_stores_both_or_neither(client, monday):
    o = office()
    dossier = _in_progress(o)
    client.force_login(o.officer)
    bad = act(
        client,
        dossier,
        "resolve",
        {"result": "GKS số 12", "result_file": SimpleUploadedFile("kq.pdf", b"not a pdf")},
    )
    assert bad.status_code == 400
    assert vi("Only PDF, JPEG and PNG files are accepted.") in page_of(bad)
    dossier.refresh_from_db()
    assert dossier.status == Status.IN_PROGRESS and not Attachment.objects.exists()
    good = act(
        client,
        dossier,
        "resolve",
        {
            "result": "GKS số 12",
            "digitized_result": "on",
            "result_file": SimpleUploadedFile("kq.pdf", PDF, content_type="application/pdf"),
        },
    )
    assert good.status_code == 302
    dossier.refresh_from_db()
    assert (dossier.status, dossier.digitized_result) == (Status.RESOLVED, True)
    assert Attachment.objects.get().kind == AttachmentKind.RESULT


# --- Attachments ----------------------------------------------------------------------------------


def upload(client, dossier, content=PDF, name="to-khai.pdf", **data):
    return client.post(
        url("upload", dossier.code), {"file": SimpleUploadedFile(name, content), **data}
    )


def test_an_upload_is_stored_with_its_document(client, monday):
    o = office()
    dossier = received(o)
    document = dossier.documents.first()
    client.force_login(o.counter)
    response = upload(client, dossier, document=document.pk, kind="document", digitized="on")
    assert response.status_code == 302
    attachment = Attachment.objects.get()
    assert (attachment.document, attachment.digitized, attachment.original_name) == (
        document,
        True,
        "to-khai.pdf",
    )
    page = page_of(client.get(url("detail", dossier.code)))
    assert url("attachment", dossier.code, attachment.pk) in page and "to-khai.pdf" in page


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"MZ\x90\x00 not a document", "virus.pdf", "Only PDF, JPEG and PNG files are accepted."),
        (PNG, "anh.pdf", "The file's name says “.%(extension)s” but its content is %(kind)s."),
        (b"", "rong.pdf", "The submitted file is empty."),
    ],
)
def test_a_bad_upload_is_explained_and_stores_nothing(client, monday, content, name, message):
    o = office()
    dossier = received(o)
    client.force_login(o.counter)
    response = upload(client, dossier, content=content, name=name, kind="document")
    assert response.status_code == 400
    page = page_of(response)
    assert "Vui lòng sửa các lỗi sau" in page
    expected = vi(message)
    if "%(extension)s" in message:
        expected = expected % {"extension": "pdf", "kind": "PNG"}
    assert expected.replace("'", "&#x27;") in page or expected in page
    assert not Attachment.objects.exists()


def test_uploads_follow_who_may_see_the_dossier_and_its_status(client, monday):
    o = office()
    dossier = received(o)
    client.force_login(o.outsider)
    assert upload(client, dossier, kind="document").status_code == 404
    closed = services.withdraw_dossier(dossier=received(o), by=o.counter, reason="Rút")
    client.force_login(o.counter)
    response = upload(client, closed, kind="document")
    assert response.status_code == 409
    assert vi("This dossier is closed: no more files can be added.") in page_of(response)
    assert not Attachment.objects.exists()


def test_a_download_is_for_those_who_may_see_the_dossier(client, monday):
    o = office()
    dossier = submitted(o)
    client.force_login(o.citizen)
    upload(client, dossier, name="Tờ khai.pdf", kind="document")
    attachment = Attachment.objects.get()
    link = url("attachment", dossier.code, attachment.pk)
    for user in (o.citizen, o.counter, o.manager):
        client.force_login(user)
        response = client.get(link)
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"].startswith("attachment;")
        assert "filename*=utf-8''T%E1%BB%9D%20khai.pdf" in response["Content-Disposition"]
        assert response["X-Content-Type-Options"] == "nosniff"
        assert b"".join(response.streaming_content) == PDF
    for user in (o.outsider, UserFactory()):
        client.force_login(user)
        assert client.get(link).status_code == 404
    client.force_login(o.counter)
    other = received(o)
    assert client.get(url("attachment", other.code, attachment.pk)).status_code == 404
    client.logout()
    assert client.get(link).status_code == 302
    assert not attachment.file.name.startswith(("static", "/"))


def test_a_search_is_paged_without_counting(client, monday, monkeypatch):
    monkeypatch.setattr("dossiers.views.PAGE_SIZE", 2)
    o = office()
    made = [received(o) for _ in range(3)]  # the factories' applicant: Nguyễn Văn An
    client.force_login(o.counter)
    first = client.get(url("worklist"), {"search": "nguyen van an"})
    assert first.context["page"].paginator.count is None  # no COUNT for a search
    # The sort select shows the order the results are in: newest first.
    assert '<option value="-received" selected>' in page_of(first)
    assert len(first.context["rows"]) == 2 and first.context["page"].has_next()
    with override("vi"):
        shown = gettext("Dossiers %(first)s–%(last)s: search results are not counted.")
    assert shown % {"first": 1, "last": 2} in page_of(first)
    assert 'rel="next"' in page_of(first)
    second = client.get(url("worklist"), {"search": "nguyen van an", "page": 2})
    assert not second.context["page"].has_next()
    codes = {d.code for d, _left in first.context["rows"]} | {
        d.code for d, _left in second.context["rows"]
    }
    assert codes == {d.code for d in made}
    # A whole code goes to the unique index and finds its dossier, in any case.
    whole = client.get(url("worklist"), {"search": made[0].code.lower()})
    assert [d.code for d, _left in whole.context["rows"]] == [made[0].code]
