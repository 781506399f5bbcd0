"""The citizen's pages: the online submission, my dossiers, supplying documents, withdrawing,
the result, rating; and the rating API."""

import html
import os
from datetime import date, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.translation import gettext, override
from rest_framework.test import APIClient

from dossiers import services
from dossiers.choices import Action, AttachmentKind, Channel, RatingScore, Status
from dossiers.models import Attachment, DayCounter, Dossier, Pause, Rating
from portal.choices import Role
from portal.models import Profile, Unit
from portal.tests.factories import MembershipFactory, UnitFactory, UserFactory
from procedures.choices import OnlineLevel
from procedures.deadlines import VN_TZ
from procedures.tests.factories import ProcedureFactory

from .factories import APPLICANT, office, received, submitted

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def at(*args):
    return datetime(*args, tzinfo=VN_TZ)


def vi(text: str) -> str:
    """What the page says for ``text`` in Vietnamese (the msgid itself until translated)."""
    with override("vi"):
        return gettext(text)


def text_of(response) -> str:
    return html.unescape(response.content.decode())


def pdf(name="to-khai.pdf"):
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def png(name="cccd.png"):
    return SimpleUploadedFile(name, PNG, content_type="image/png")


@pytest.fixture
def monday(time_machine):
    time_machine.move_to(at(2026, 3, 9, 9, 0), tick=False)
    return time_machine


@pytest.fixture
def o():
    return office(code="1.000001", name="Đăng ký khai sinh", time_limit_value=3)


@pytest.fixture
def citizen_client(client, o):
    client.force_login(o.citizen)
    return client


def url(name, *args):
    return reverse(f"dossiers:{name}", args=args)


def applicant_step(client, o, **changes):
    data = {
        "unit": o.commune.code,
        "full_name": "Nguyễn Văn An",
        "id_number": "015090001234",
        "phone": "0912 345 678",
        "email": "an@example.com",
        "address": "Thôn Trung Tâm",
        **changes,
    }
    return client.post(url("submit", o.procedure.code), data)


def components(o):
    required, optional = o.procedure.documents.order_by("sort_order", "id")
    return required, optional


def documents_step(client, o, *, key="", confirm=True, **files):
    """Step 2: ``files`` by component: required=…, optional=…"""
    required, optional = components(o)
    data = {"note": "Nộp trực tuyến", "submission_key": key or "6f1d0c5e6c2d4f7e9d8b7a6c5b4a3f2e"}
    if confirm:
        data["confirm"] = "on"
    if "required" in files:
        data[f"document_{required.pk}"] = files["required"]
    if "optional" in files:
        data[f"document_{optional.pk}"] = files["optional"]
    return client.post(url("submit-documents", o.procedure.code), data)


def stored_files(settings) -> list[str]:
    found = []
    for root, _dirs, names in os.walk(settings.MEDIA_ROOT):
        found += [os.path.join(root, name) for name in names]
    return found


# --- The online submission ----------------------------------------------------------------------


def test_a_citizen_submits_online_with_files_end_to_end(citizen_client, o, monday):
    response = citizen_client.get(url("submit", o.procedure.code) + f"?unit={o.commune.code}")
    assert response.status_code == 200
    assert f'<option value="{o.commune.code}" selected>' in response.content.decode()
    # Only the units of the procedure's level are offered.
    assert o.district.code not in response.content.decode()

    response = applicant_step(citizen_client, o)
    assert response.status_code == 302
    assert response["Location"] == url("submit-documents", o.procedure.code)

    response = citizen_client.get(response["Location"])
    page = text_of(response)
    assert response.status_code == 200
    # The review shows what step 1 took, the documents each have their file input.
    for value in (o.commune.name, "Nguyễn Văn An", "015090001234", "0912345678"):
        assert value in page
    required, optional = components(o)
    assert f'name="document_{required.pk}"' in page and f'name="document_{optional.pk}"' in page
    assert 'name="submission_key"' in page
    assert "10 MB" in page

    response = documents_step(citizen_client, o, required=pdf(), optional=png())
    dossier = Dossier.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url("my-submitted", dossier.code)
    assert (dossier.status, dossier.channel) == (Status.SUBMITTED, Channel.ONLINE)
    assert dossier.applicant_user == o.citizen and dossier.unit == o.commune
    assert (dossier.applicant_name, dossier.applicant_phone) == ("Nguyễn Văn An", "0912345678")
    assert dossier.note == "Nộp trực tuyến"
    assert sorted(dossier.attachments.values_list("original_name", "content_type")) == [
        ("cccd.png", "image/png"),
        ("to-khai.pdf", "application/pdf"),
    ]
    assert all(dossier.documents.values_list("received", flat=True))

    response = citizen_client.get(response["Location"])
    page = text_of(response)
    assert dossier.code.split("-")[-1] in page
    assert str(vi("Awaiting intake")) in page  # "Chờ tiếp nhận"
    assert 'data-testid="dossier-status"' in page
    assert "to-khai.pdf" in page and "cccd.png" in page
    # The wizard's state is gone: a new submission starts from step 1.
    assert "citizen_submission" not in citizen_client.session


def test_step_one_is_prefilled_from_the_profile(citizen_client, o):
    o.citizen.first_name, o.citizen.last_name = "Mai", "Nguyễn Thị"
    o.citizen.save()
    Profile.objects.create(
        user=o.citizen,
        full_name="Nguyễn Thị Mai",
        id_number="015190009999",
        phone="0987654321",
        address="Tổ 5, thị trấn Mậu A",
    )
    page = text_of(citizen_client.get(url("submit", o.procedure.code)))
    for value in ("Nguyễn Thị Mai", "015190009999", "0987654321", "Tổ 5, thị trấn Mậu A"):
        assert f'value="{value}"' in page
    assert f'value="{o.citizen.email}"' in page


def test_without_a_profile_the_account_fills_what_it_knows(citizen_client, o):
    o.citizen.first_name, o.citizen.last_name = "An", "Nguyễn Văn"
    o.citizen.save()
    page = text_of(citizen_client.get(url("submit", o.procedure.code)))
    assert 'value="Nguyễn Văn An"' in page


def test_step_one_checks_the_applicant(citizen_client, o):
    response = applicant_step(citizen_client, o, id_number="12345", phone="12")
    assert response.status_code == 400
    page = text_of(response)
    assert vi("A citizen ID number (CCCD) has exactly 12 digits.") in page
    assert vi("Enter a Vietnamese phone number, e.g. 0912345678 or 02163852300.") in page
    assert "citizen_submission" not in citizen_client.session


def test_a_unit_of_another_level_is_refused(citizen_client, o):
    response = applicant_step(citizen_client, o, unit=o.district.code)
    assert response.status_code == 400
    assert vi("Choose one of the units in the list.") in text_of(response)


def test_step_two_without_step_one_starts_over(citizen_client, o):
    response = citizen_client.get(url("submit-documents", o.procedure.code))
    assert response.status_code == 302
    assert response["Location"] == url("submit", o.procedure.code)


def test_a_missing_required_file_stores_nothing_and_uses_no_number(citizen_client, o, settings):
    applicant_step(citizen_client, o)
    response = documents_step(citizen_client, o, optional=png())
    assert response.status_code == 400
    assert vi("Upload this document: it is required.") in text_of(response)
    assert not Dossier.objects.exists()
    assert not Attachment.objects.exists()
    assert not DayCounter.objects.exists()
    assert stored_files(settings) == []
    # Corrected, it gets the day's first number.
    documents_step(citizen_client, o, required=pdf())
    assert Dossier.objects.get().code.endswith("-0001")


def test_the_service_refuses_a_missing_required_file_too(o):
    with pytest.raises(ValidationError, match="Tờ khai theo mẫu"):
        services.submit_online(
            procedure=o.procedure,
            unit=o.commune,
            applicant=APPLICANT,
            user=o.citizen,
            uploads={},
            submission_key="k1",
        )
    assert not Dossier.objects.exists() and not DayCounter.objects.exists()


def test_a_png_named_pdf_is_refused_and_nothing_is_stored(citizen_client, o, settings):
    applicant_step(citizen_client, o)
    response = documents_step(
        citizen_client, o, required=SimpleUploadedFile("to-khai.pdf", PNG), optional=pdf()
    )
    assert response.status_code == 400
    expected = vi("The file's name says “.%(extension)s” but its content is %(kind)s.") % {
        "extension": "pdf",
        "kind": "PNG",
    }
    assert expected in text_of(response)
    assert not Dossier.objects.exists() and not Attachment.objects.exists()
    assert stored_files(settings) == []


def test_a_file_that_is_not_a_pdf_or_an_image_is_refused(citizen_client, o):
    applicant_step(citizen_client, o)
    response = documents_step(
        citizen_client, o, required=SimpleUploadedFile("to-khai.docx", b"PK\x03\x04 word")
    )
    assert response.status_code == 400
    assert vi("Only PDF, JPEG and PNG files are accepted.") in text_of(response)
    assert not Dossier.objects.exists()


def test_an_oversized_file_is_refused(citizen_client, o, settings):
    settings.ATTACHMENT_MAX_BYTES = 1024 * 1024
    applicant_step(citizen_client, o)
    big = SimpleUploadedFile("to-khai.pdf", PDF + b"0" * (1024 * 1024))
    response = documents_step(citizen_client, o, required=big)
    assert response.status_code == 400
    assert vi("The file is larger than %(limit)d MB.") % {"limit": 1} in text_of(response)
    assert not Dossier.objects.exists()


def test_the_applicant_must_confirm(citizen_client, o):
    applicant_step(citizen_client, o)
    response = documents_step(citizen_client, o, confirm=False, required=pdf())
    assert response.status_code == 400
    assert vi("Tick the box to confirm before you submit.") in text_of(response)
    assert not Dossier.objects.exists()


def test_the_same_submission_twice_makes_one_dossier(citizen_client, o):
    applicant_step(citizen_client, o)
    page = text_of(citizen_client.get(url("submit-documents", o.procedure.code)))
    key = page.split('name="submission_key" value="')[1].split('"')[0]
    first = documents_step(citizen_client, o, key=key, required=pdf())
    # The double click / the back button: the same form again, even after the wizard ended.
    second = documents_step(citizen_client, o, key=key, required=pdf())
    dossier = Dossier.objects.get()
    assert first["Location"] == second["Location"] == url("my-submitted", dossier.code)
    assert dossier.attachments.count() == 1
    assert dossier.submission_key == key
    # A new page has a new key: a second dossier is a deliberate one.
    applicant_step(citizen_client, o)
    page = text_of(citizen_client.get(url("submit-documents", o.procedure.code)))
    assert key not in page


def test_a_double_submit_returns_the_first_dossier_and_gives_its_number_back(o):
    """The key's unique constraint is the check: the second insert hits it, its transaction
    (number included) rolls back before any file is stored, and the first dossier is returned.
    On PostgreSQL the same holds when both arrive at once (tests/test_faults.py races real
    threads)."""
    first = submitted(o, submission_key="abc")
    again = services.submit_online(
        procedure=o.procedure,
        unit=o.commune,
        applicant=APPLICANT,
        user=o.citizen,
        uploads={components(o)[0].pk: pdf()},
        submission_key="abc",
    )
    assert again == first
    assert Dossier.objects.count() == 1 and DayCounter.objects.get().last == 1
    assert not Attachment.objects.exists()


def test_only_procedures_offered_online_can_be_submitted(citizen_client, o):
    offline = ProcedureFactory(online_level=OnlineLevel.NONE)
    inactive = ProcedureFactory(online_level=OnlineLevel.FULL, is_active=False)
    for procedure in (offline, inactive):
        assert citizen_client.get(url("submit", procedure.code)).status_code == 404
        assert citizen_client.get(url("submit-documents", procedure.code)).status_code == 404
    assert citizen_client.get(url("submit", "9.999999")).status_code == 404


def test_anonymous_users_log_in_first(client, o):
    response = client.get(url("submit", o.procedure.code) + "?unit=" + o.commune.code)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login") + "?next=")
    assert "unit%3D" in response["Location"]


def test_the_procedure_page_offers_online_submission_only_when_online(client, o):
    page = text_of(client.get(reverse("procedures:detail", args=[o.procedure.code])))
    assert 'data-testid="submit-online"' in page
    assert url("submit", o.procedure.code) + f"?unit={o.commune.code}" in page
    offline = ProcedureFactory(online_level=OnlineLevel.NONE)
    page = text_of(client.get(reverse("procedures:detail", args=[offline.code])))
    assert 'data-testid="submit-online"' not in page


def test_no_unit_in_force_means_no_form(citizen_client, o):
    # The districts were abolished on 2025-07-01: their procedures have no counter any more.
    Unit.objects.filter(level="district").update(valid_to=date(2025, 6, 30))
    procedure = ProcedureFactory(online_level=OnlineLevel.FULL, level="district")
    response = citizen_client.get(url("submit", procedure.code))
    assert response.status_code == 200
    assert 'data-testid="applicant-form"' not in text_of(response)


# --- Navigation -----------------------------------------------------------------------------------


def test_my_dossiers_is_in_the_menu_of_citizens_only(client, o):
    client.force_login(o.citizen)
    assert f'href="{url("my")}"' in text_of(client.get(reverse("home")))
    client.force_login(o.counter)
    assert f'href="{url("my")}"' not in text_of(client.get(reverse("home")))
    client.logout()
    assert f'href="{url("my")}"' not in text_of(client.get(reverse("home")))


# --- My dossiers ----------------------------------------------------------------------------------


def test_my_dossiers_lists_mine_only_newest_first(
    citizen_client, o, time_machine, django_assert_max_num_queries
):
    time_machine.move_to(at(2026, 3, 9, 9, 0), tick=False)
    older = submitted(o)
    time_machine.move_to(at(2026, 3, 9, 10, 0), tick=False)
    newer = submitted(o)
    services.accept_dossier(dossier=newer, by=o.counter)
    someone = UserFactory()
    theirs = services.submit_dossier(
        procedure=o.procedure, unit=o.commune, applicant=APPLICANT, user=someone
    )
    at_counter = received(o)  # same applicant's data, but not submitted from this account
    with django_assert_max_num_queries(7):  # session, user, roles, count, page (+1 spare)
        response = citizen_client.get(url("my"))
    page = text_of(response)
    assert response.status_code == 200
    assert page.index(newer.code.replace("-", "-<wbr>")) < page.index(
        older.code.replace("-", "-<wbr>")
    )
    for other in (theirs, at_counter):
        assert other.code.replace("-", "-<wbr>") not in page
    from dossiers.choices import CITIZEN_STATUS

    with override("vi"):
        assert str(CITIZEN_STATUS[Status.RECEIVED]) in page
        assert str(CITIZEN_STATUS[Status.SUBMITTED]) in page
    assert vi("Within the time limit") in page


def test_my_dossiers_is_paginated(citizen_client, o):
    for _ in range(21):
        submitted(o)
    first = text_of(citizen_client.get(url("my")))
    assert first.count('data-testid="my-dossier"') == 20
    second = text_of(citizen_client.get(url("my") + "?page=2"))
    assert second.count('data-testid="my-dossier"') == 1


def test_someone_elses_dossier_is_a_404(client, o):
    dossier = submitted(o)
    client.force_login(UserFactory())
    for name in ("my-detail", "my-submitted"):
        assert client.get(url(name, dossier.code)).status_code == 404
    assert client.post(url("my-withdraw", dossier.code), {"reason": "x"}).status_code == 404
    # Staff who may see it work on their own page, not on the applicant's.
    client.force_login(o.counter)
    assert client.get(url("my-detail", dossier.code)).status_code == 404
    dossier.refresh_from_db()
    assert dossier.status == Status.SUBMITTED


def test_my_dossier_shows_status_documents_files_and_history(citizen_client, o, monday):
    dossier = services.submit_online(
        procedure=o.procedure,
        unit=o.commune,
        applicant=APPLICANT,
        user=o.citizen,
        uploads={components(o)[0].pk: pdf()},
    )
    services.accept_dossier(dossier=dossier, by=o.counter, note="ghi chú nội bộ của quầy")
    services.start_processing(dossier=dossier, by=o.officer, note="chuyển tổ thẩm định")
    response = citizen_client.get(url("my-detail", dossier.code))
    page = text_of(response)
    assert response.status_code == 200
    assert 'data-status="in_progress"' in page
    assert "to-khai.pdf" in page
    assert url("attachment", dossier.code, dossier.attachments.get().pk) in page
    assert "Tờ khai theo mẫu" in page and "Giấy tờ tùy thân" in page
    assert vi("You submitted the dossier online.") in page
    assert vi("An officer started processing your dossier.") in page
    # The officers' working notes stay inside the office.
    assert "ghi chú nội bộ" not in page and "chuyển tổ thẩm định" not in page
    assert 'data-testid="withdraw"' in page


def test_a_refused_dossier_shows_the_reason(citizen_client, o):
    dossier = submitted(o)
    services.refuse_dossier(dossier=dossier, by=o.counter, reason="Ảnh tờ khai bị mờ")
    page = text_of(citizen_client.get(url("my-detail", dossier.code)))
    assert 'data-testid="close-reason"' in page and "Ảnh tờ khai bị mờ" in page
    assert 'data-testid="withdraw"' not in page


# --- Supplying documents ----------------------------------------------------------------------


def _asked(o):
    dossier = submitted(o)
    services.accept_dossier(dossier=dossier, by=o.counter)
    services.start_processing(dossier=dossier, by=o.officer)
    return services.request_supplement(
        dossier=dossier, by=o.officer, missing="Bản sao giấy chứng sinh", reason="Thiếu giấy tờ"
    )


def test_supplying_documents_resumes_the_clock(citizen_client, o, time_machine):
    time_machine.move_to(at(2026, 3, 9, 9, 0), tick=False)  # Monday
    dossier = _asked(o)
    due_before = dossier.due_at
    page = text_of(citizen_client.get(url("my-detail", dossier.code)))
    assert 'data-testid="supply-form"' in page
    assert "Bản sao giấy chứng sinh" in page and "Thiếu giấy tờ" in page

    time_machine.move_to(at(2026, 3, 10, 9, 0), tick=False)  # one working day later
    line = dossier.documents.get(name="Giấy tờ tùy thân")
    response = citizen_client.post(
        url("my-supply", dossier.code),
        {
            f"document_{line.pk}": png("giay-to.png"),
            "other": pdf("chung-sinh.pdf"),
            "note": "Đã bổ sung",
        },
    )
    assert response.status_code == 302
    dossier.refresh_from_db()
    assert dossier.status == Status.IN_PROGRESS
    assert dossier.paused_at is None
    assert dossier.due_at == due_before + timedelta(days=1)
    assert Pause.objects.get(dossier=dossier).ended_at == at(2026, 3, 10, 9, 0)
    files = dossier.attachments.order_by("id")
    assert [(a.original_name, a.kind, a.document_id) for a in files] == [
        ("giay-to.png", AttachmentKind.SUPPLEMENT, line.pk),
        ("chung-sinh.pdf", AttachmentKind.SUPPLEMENT, None),
    ]
    line.refresh_from_db()
    assert line.received
    event = dossier.events.get(action=Action.SUPPLEMENT)
    assert (event.by, event.note) == (o.citizen, "Đã bổ sung")
    page = text_of(citizen_client.get(response["Location"]))
    assert vi("You sent the missing documents. The time limit runs again.") in page
    assert 'data-testid="supply-form"' not in page


def test_supplying_nothing_or_a_bad_file_changes_nothing(citizen_client, o, settings):
    dossier = _asked(o)
    response = citizen_client.post(url("my-supply", dossier.code), {"note": "?"})
    assert response.status_code == 400
    assert vi("Add at least one file with the missing documents.") in text_of(response)
    response = citizen_client.post(
        url("my-supply", dossier.code),
        {"other": SimpleUploadedFile("a.pdf", PNG), "note": "?"},
    )
    assert response.status_code == 400
    assert not Attachment.objects.exists() and stored_files(settings) == []
    dossier.refresh_from_db()
    assert dossier.status == Status.SUPPLEMENT_REQUESTED


def test_supplying_when_nothing_is_asked_is_refused(citizen_client, o):
    dossier = submitted(o)
    response = citizen_client.post(url("my-supply", dossier.code), {"other": pdf()})
    assert response.status_code == 409
    assert not Attachment.objects.exists()


def test_the_supply_service_checks_the_actor_before_the_files(o):
    dossier = _asked(o)
    with pytest.raises(services.DossierPermissionError):
        services.supply_documents(dossier=dossier, by=UserFactory(), uploads={}, others=[pdf()])


# --- Withdrawing --------------------------------------------------------------------------------


def test_a_citizen_withdraws_before_the_result(citizen_client, o):
    dossier = submitted(o)
    services.accept_dossier(dossier=dossier, by=o.counter)
    response = citizen_client.post(url("my-withdraw", dossier.code), {"reason": ""})
    assert response.status_code == 400
    assert vi("Give the reason for the withdrawal.") in text_of(response)
    response = citizen_client.post(url("my-withdraw", dossier.code), {"reason": "Nộp nhầm"})
    assert response.status_code == 302
    dossier.refresh_from_db()
    assert (dossier.status, dossier.close_reason) == (Status.WITHDRAWN, "Nộp nhầm")
    page = text_of(citizen_client.get(url("my-detail", dossier.code)))
    assert "Nộp nhầm" in page and 'data-testid="withdraw"' not in page


def test_withdrawing_after_the_result_is_refused(citizen_client, o):
    dossier = _asked(o)
    services.record_supplement(dossier=dossier, by=o.counter)
    services.resolve_dossier(dossier=dossier, by=o.officer, result="Giấy khai sinh số 12")
    page = text_of(citizen_client.get(url("my-detail", dossier.code)))
    assert 'data-testid="withdraw"' not in page
    response = citizen_client.post(url("my-withdraw", dossier.code), {"reason": "Không cần nữa"})
    assert response.status_code == 409
    assert vi("This dossier can no longer be withdrawn (%(status)s).").split("(")[0] in text_of(
        response
    )
    dossier.refresh_from_db()
    assert dossier.status == Status.RESOLVED


# --- The result and the rating --------------------------------------------------------------------


def _returned(o, *, with_file=True):
    dossier = submitted(o)
    services.accept_dossier(dossier=dossier, by=o.counter)
    services.start_processing(dossier=dossier, by=o.officer)
    if with_file:
        services.add_attachment(
            dossier=dossier,
            by=o.officer,
            upload=pdf("giay-khai-sinh.pdf"),
            kind=AttachmentKind.RESULT,
        )
    services.resolve_dossier(dossier=dossier, by=o.officer, result="Giấy khai sinh số 12")
    return services.return_result(dossier=dossier, by=o.counter)


def test_the_result_file_can_be_downloaded(citizen_client, o):
    dossier = _returned(o)
    result = dossier.attachments.get(kind=AttachmentKind.RESULT)
    page = text_of(citizen_client.get(url("my-detail", dossier.code)))
    assert 'data-testid="download-result"' in page and "Giấy khai sinh số 12" in page
    response = citizen_client.get(url("attachment", dossier.code, result.pk))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF


def test_a_citizen_rates_once(citizen_client, o):
    dossier = _returned(o, with_file=False)
    page = text_of(citizen_client.get(url("my-detail", dossier.code)))
    assert 'data-testid="rating-form"' in page
    response = citizen_client.post(url("my-rate", dossier.code), {"score": "excellent"})
    assert response.status_code == 400
    assert not Rating.objects.exists()
    response = citizen_client.post(
        url("my-rate", dossier.code), {"score": RatingScore.SATISFIED, "comment": "Nhanh gọn"}
    )
    assert response.status_code == 302
    rating = Rating.objects.get()
    assert (rating.score, rating.comment) == (RatingScore.SATISFIED, "Nhanh gọn")
    page = text_of(citizen_client.get(url("my-detail", dossier.code)))
    assert 'data-testid="rating-form"' not in page
    assert 'data-score="satisfied"' in page and "Nhanh gọn" in page

    response = citizen_client.post(url("my-rate", dossier.code), {"score": "dissatisfied"})
    assert response.status_code == 409
    assert vi("This dossier was already rated. Thank you!") in text_of(response)
    assert Rating.objects.get().score == RatingScore.SATISFIED


def test_rating_before_the_result_is_handed_over_is_refused(citizen_client, o):
    dossier = submitted(o)
    response = citizen_client.post(url("my-rate", dossier.code), {"score": "satisfied"})
    assert response.status_code == 409
    assert not Rating.objects.exists()


# --- The rating API -------------------------------------------------------------------------------


def api_for(user=None):
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    if user is not None:
        client.force_login(user)
    return client


def _rate(user, dossier, **body):
    return api_for(user).post(f"/api/v1/dossiers/{dossier.code}/rating/", body, format="json")


def _error(response, status_code, code):
    assert response.status_code == status_code, response.content
    body = response.json()
    assert set(body) == {"code", "message", "fields"}
    assert body["code"] == code
    return body


def test_the_rating_api(o):
    dossier = _returned(o, with_file=False)
    _error(_rate(o.counter, dossier, score="satisfied"), 403, "permission_denied")
    _error(_rate(UserFactory(), dossier, score="satisfied"), 404, "not_found")
    assert _rate(None, dossier, score="satisfied").status_code in (401, 403)
    body = _error(_rate(o.citizen, dossier, score="great"), 400, "invalid")
    assert "score" in body["fields"]

    response = _rate(o.citizen, dossier, score="very_satisfied", comment="Cảm ơn")
    assert response.status_code == 201, response.content
    assert response.json()["score"] == "very_satisfied"
    assert response.json()["comment"] == "Cảm ơn"
    _error(_rate(o.citizen, dossier, score="neutral"), 409, "invalid_transition")
    assert Rating.objects.get().score == "very_satisfied"
    assert dossier.events.filter(action=Action.RATE).count() == 1


def test_the_rating_api_waits_for_the_result(o):
    dossier = submitted(o)
    _error(_rate(o.citizen, dossier, score="satisfied"), 409, "invalid_transition")


def test_a_citizen_submits_through_the_api(o):
    """POST dossiers/ by a citizen: online, with the documents' ids."""
    body = {
        "procedure": o.procedure.code,
        "unit": o.commune.code,
        "channel": "online",
        "applicant": {
            "full_name": APPLICANT.full_name,
            "id_number": APPLICANT.id_number,
            "phone": APPLICANT.phone,
        },
        "documents": [components(o)[0].pk],
    }
    response = api_for(o.citizen).post("/api/v1/dossiers/", body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "submitted"
    dossier = Dossier.objects.get()
    assert dossier.applicant_user == o.citizen


def test_staff_of_another_unit_get_a_404_on_my_pages(client, o):
    dossier = submitted(o)
    other = MembershipFactory(unit=UnitFactory(), role=Role.COUNTER_OFFICER).user
    client.force_login(other)
    assert client.get(url("my-detail", dossier.code)).status_code == 404


def test_a_mangled_submission_key_does_not_stop_the_applicant(citizen_client, o):
    applicant_step(citizen_client, o)
    response = documents_step(citizen_client, o, key="not-a-key", required=pdf())
    dossier = Dossier.objects.get()
    assert response["Location"] == url("my-submitted", dossier.code)
    assert len(dossier.submission_key) == 32 and dossier.submission_key != "not-a-key"
