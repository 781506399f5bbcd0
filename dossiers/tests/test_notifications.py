"""What the applicant is told: one e-mail and one SMS per notable action, with the facts, in
Vietnamese; nothing for the others, nothing for a change that did not happen."""

from dataclasses import replace
from datetime import datetime

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import translation

from dossiers import services
from dossiers.choices import Action, RatingScore
from dossiers.models import Dossier, DossierEvent
from dossiers.services import notifications
from portal.choices import MessageChannel, MessageStatus
from portal.models import OutboxMessage
from portal.services import enqueue_message
from procedures.deadlines import VN_TZ

from .factories import APPLICANT, Office, office, received, submitted

pytestmark = pytest.mark.django_db

NOTIFYING = [
    Action.RECEIVE,
    Action.ACCEPT,
    Action.REFUSE,
    Action.REQUEST_SUPPLEMENT,
    Action.RESOLVE,
    Action.REJECT,
    Action.APOLOGIZE,
    Action.RETURN,
]


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=VN_TZ)


@pytest.fixture
def o(time_machine) -> Office:
    time_machine.move_to(at(2026, 3, 9, 9, 0), tick=False)  # a Monday
    return office(time_limit_value=3)  # three working days: due Thursday 12/03 at 09:00


def _notices(dossier: Dossier, action: str) -> dict[str, OutboxMessage]:
    """The messages queued for the dossier's latest ``action`` event, by channel; and checks
    that they are exactly one e-mail and one SMS with the keys of that event."""
    event = dossier.events.filter(action=action).latest("pk")
    queued = OutboxMessage.objects.filter(
        reference=dossier.code, key__startswith=f"dossier-event:{event.pk}:"
    )
    assert sorted(m.channel for m in queued) == [MessageChannel.EMAIL, MessageChannel.SMS]
    found = {m.channel: m for m in queued}
    for channel, message in found.items():
        assert message.key == f"dossier-event:{event.pk}:{channel}"
        assert message.status == MessageStatus.PENDING
    return found


def _count() -> int:
    return OutboxMessage.objects.count()


def test_an_in_person_receipt_tells_the_applicant_the_code_and_the_due_date(o):
    dossier = received(o)
    notices = _notices(dossier, Action.RECEIVE)
    email, sms = notices[MessageChannel.EMAIL], notices[MessageChannel.SMS]
    assert (email.recipient, sms.recipient) == ("an@example.com", "0912345678")
    assert email.body == sms.body
    assert dossier.code in sms.body
    assert "09:00 12/03/2026" in sms.body  # the due date, as the applicant reads dates
    assert o.commune.name in sms.body
    assert o.procedure.name in sms.body
    assert dossier.code in email.subject
    assert sms.subject == ""
    assert _count() == 2


def test_an_accepted_online_dossier_tells_the_due_date(o, time_machine):
    dossier = submitted(o)
    assert _count() == 0  # submitting online is not a notable action
    time_machine.move_to(at(2026, 3, 10, 14, 0), tick=False)
    dossier = services.accept_dossier(dossier=dossier, by=o.counter)
    sms = _notices(dossier, Action.ACCEPT)[MessageChannel.SMS]
    assert dossier.code in sms.body
    assert "14:00 13/03/2026" in sms.body


def test_a_refusal_gives_the_reason(o):
    dossier = services.refuse_dossier(
        dossier=submitted(o), by=o.counter, reason="Không thuộc thẩm quyền của xã"
    )
    sms = _notices(dossier, Action.REFUSE)[MessageChannel.SMS]
    assert dossier.code in sms.body
    assert "Không thuộc thẩm quyền của xã" in sms.body


def test_a_supplement_request_says_what_is_missing(o):
    dossier = services.request_supplement(
        dossier=received(o), by=o.officer, missing="Giấy chứng sinh (bản chính)", reason="Thiếu"
    )
    sms = _notices(dossier, Action.REQUEST_SUPPLEMENT)[MessageChannel.SMS]
    assert dossier.code in sms.body
    assert "Giấy chứng sinh (bản chính)" in sms.body


def test_an_apology_gives_the_new_promised_date(o, time_machine):
    dossier = services.start_processing(dossier=received(o), by=o.officer)
    time_machine.move_to(at(2026, 3, 12, 10, 0), tick=False)
    dossier = services.issue_apology(
        dossier=dossier, by=o.officer, promised_at=at(2026, 3, 16, 15, 30), reason="Chờ xác minh"
    )
    sms = _notices(dossier, Action.APOLOGIZE)[MessageChannel.SMS]
    assert dossier.code in sms.body
    assert "15:30 16/03/2026" in sms.body


@pytest.mark.parametrize("decision", [Action.RESOLVE, Action.REJECT])
def test_a_decision_and_its_return_each_tell_the_applicant(o, decision):
    dossier = services.start_processing(dossier=received(o), by=o.officer)
    if decision == Action.RESOLVE:
        dossier = services.resolve_dossier(dossier=dossier, by=o.officer, result="QĐ 12/QĐ-UBND")
    else:
        dossier = services.reject_dossier(
            dossier=dossier, by=o.officer, reason="Không đủ điều kiện"
        )
    assert dossier.code in _notices(dossier, decision)[MessageChannel.SMS].body
    dossier = services.return_result(dossier=dossier, by=o.counter)
    assert dossier.code in _notices(dossier, Action.RETURN)[MessageChannel.SMS].body
    assert _count() == 2 * 3  # receive, decision, return


def _pdf() -> SimpleUploadedFile:
    return SimpleUploadedFile("giay-to.pdf", b"%PDF-1.4\n%test\n", content_type="application/pdf")


def test_the_other_actions_tell_nothing(o):
    dossier = received(o)
    queued = _count()
    dossier = services.assign_dossier(dossier=dossier, by=o.manager, officer=o.officer)
    dossier = services.start_processing(dossier=dossier, by=o.officer)
    services.add_attachment(dossier=dossier, by=o.officer, upload=_pdf())
    assert _count() == queued
    dossier = services.request_supplement(
        dossier=dossier, by=o.officer, missing="Tờ khai", reason="-"
    )
    queued += 2  # the request itself tells the applicant
    dossier = services.record_supplement(dossier=dossier, by=o.counter)
    dossier = services.stop_dossier(dossier=dossier, by=o.officer, reason="Có tranh chấp")
    assert _count() == queued
    assert {e.action for e in dossier.events.all()} >= {
        Action.ASSIGN,
        Action.START,
        Action.ATTACH,
        Action.SUPPLEMENT,
        Action.STOP,
    }


def test_submitting_withdrawing_and_rating_tell_nothing(o):
    online = submitted(o)
    services.withdraw_dossier(dossier=online, by=o.citizen, reason="Nộp nhầm")
    assert _count() == 0
    dossier = received(o, applicant=APPLICANT)
    Dossier.objects.filter(pk=dossier.pk).update(applicant_user=o.citizen)
    dossier = services.start_processing(dossier=dossier, by=o.officer)
    dossier = services.resolve_dossier(dossier=dossier, by=o.officer, result="QĐ 1")
    dossier = services.return_result(dossier=dossier, by=o.counter)
    queued = _count()
    services.rate_dossier(dossier=dossier, by=o.citizen, score=RatingScore.SATISFIED)
    assert _count() == queued


def test_without_an_email_on_the_dossier_the_account_email_is_used(o):
    dossier = services.submit_dossier(
        procedure=o.procedure,
        unit=o.commune,
        applicant=replace(APPLICANT, email=""),
        user=o.citizen,
    )
    dossier = services.accept_dossier(dossier=dossier, by=o.counter)
    email = _notices(dossier, Action.ACCEPT)[MessageChannel.EMAIL]
    assert email.recipient == o.citizen.email


def test_without_any_email_only_the_sms_is_queued(o):
    dossier = received(o, applicant=replace(APPLICANT, email=""))
    assert list(OutboxMessage.objects.values_list("channel", "recipient")) == [
        (MessageChannel.SMS, "0912345678")
    ]
    assert dossier.code in OutboxMessage.objects.get().body


def test_a_rolled_back_action_queues_nothing(o):
    with pytest.raises(RuntimeError), transaction.atomic():
        received(o)
        raise RuntimeError("the request failed after the intake")
    assert _count() == 0
    dossier = received(o)
    with pytest.raises(ValidationError):
        services.issue_apology(dossier=dossier, by=o.officer, promised_at=at(2026, 4, 1), reason="")
    assert _count() == 2


def test_notifying_again_for_the_same_event_queues_nothing_more(o):
    dossier = received(o)
    event = dossier.events.get(action=Action.RECEIVE)
    notifications.notify_applicant(dossier, event)
    message = OutboxMessage.objects.get(channel=MessageChannel.SMS)
    again = enqueue_message(
        channel=MessageChannel.SMS, recipient="0900000000", body="x", key=message.key
    )
    assert again == message
    assert _count() == 2


def test_notices_are_written_in_vietnamese_whatever_the_officers_language(o, monkeypatch):
    languages = []
    real_gettext = notifications._

    def spying_gettext(message: str) -> str:
        languages.append(translation.get_language())
        return real_gettext(message)

    monkeypatch.setattr(notifications, "_", spying_gettext)
    with translation.override("en"):
        received(o)
    assert languages and set(languages) == {"vi"}


def test_every_notice_has_its_vietnamese_text(o):
    dossier = received(o)
    untranslated = []
    for action in NOTIFYING:
        with translation.override("en"):
            english = notifications._text(dossier, action, missing="Tờ khai")
        with translation.override("vi"):
            vietnamese = notifications._text(dossier, action, missing="Tờ khai")
        if english == vietnamese:
            untranslated.append(action)
    assert untranslated == []


def test_every_notable_action_has_a_notice_and_no_other(o):
    dossier = received(o)
    told = {
        action
        for action in Action.values
        if notifications._text(dossier, action) is not None  # type: ignore[arg-type]
    }
    assert told == set(NOTIFYING)
    assert DossierEvent.objects.filter(dossier=dossier).count() == 1
