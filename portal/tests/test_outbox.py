"""The outbox: queueing in the caller's transaction, delivery by e-mail and SMS (file and HTTP
gateway), retries with growing delays, giving up, leases, concurrent runs, and its admin."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.contrib import messages
from django.db import connection, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from portal import messaging
from portal.choices import MessageChannel, MessageStatus
from portal.models import OutboxMessage, Profile
from portal.services import _ask_for_delivery, _claim, deliver_outbox, enqueue_message
from portal.tasks import deliver_outbox_task

from .factories import UserFactory

pytestmark = pytest.mark.django_db

SMS_TEXT = "Hồ sơ 000.00.15.H61-260309-0001 đã được tiếp nhận."


def _queue(channel: str = MessageChannel.SMS, key: str = "test:1", **fields) -> OutboxMessage:
    fields.setdefault(
        "recipient", "an@example.com" if channel == MessageChannel.EMAIL else "0912345678"
    )
    fields.setdefault("subject", "Hồ sơ 000.00.15.H61-260309-0001" if channel == "email" else "")
    fields.setdefault("reference", "R-1")
    fields.setdefault("body", SMS_TEXT)
    message = enqueue_message(channel=channel, key=key, **fields)
    assert message is not None
    return message


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- A tiny SMS gateway on 127.0.0.1 ----------------------------------------------------------


@dataclass
class Gateway:
    url: str
    status: int = 200
    garble: bool = False  # answer with something that is not HTTP
    redirect: bool = False  # answer "302 Found, see /elsewhere" (which would answer 200)
    requests: list[dict] = field(default_factory=list)


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    state = Gateway(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length", 0))
            state.requests.append(
                {
                    "path": self.path,
                    "headers": dict(self.headers),
                    "json": json.loads(self.rfile.read(length)),
                }
            )
            if state.garble:
                self.wfile.write(b"NOT HTTP AT ALL\r\n\r\n")
                return
            if state.redirect:
                self.send_response(302)
                self.send_header("Location", "/elsewhere")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(state.status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"ok": true}' if state.status < 300 else b'{"error": "boom"}')

        def do_GET(self):  # what a followed redirect would do: the message gets lost
            state.requests.append({"path": self.path, "headers": dict(self.headers), "json": None})
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):  # keep the test output clean
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/sms/send"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def http_sms(settings, gateway: Gateway) -> Gateway:
    settings.SMS_BACKEND = "http"
    settings.SMS_GATEWAY_URL = gateway.url
    settings.SMS_GATEWAY_TOKEN = "bi-mat"
    settings.SMS_SENDER = "MOTCUA"
    settings.SMS_GATEWAY_TIMEOUT = 5
    return gateway


# --- Queueing ---------------------------------------------------------------------------------


def test_the_same_key_queues_nothing_more():
    first = _queue(key="dossier-event:7:sms")
    again = enqueue_message(
        channel=MessageChannel.SMS, recipient="0900000000", body="khác", key="dossier-event:7:sms"
    )
    assert again == first
    assert OutboxMessage.objects.count() == 1
    assert OutboxMessage.objects.get().recipient == "0912345678"


def test_an_empty_recipient_queues_nothing():
    assert enqueue_message(channel=MessageChannel.EMAIL, recipient="  ", body="x", key="k") is None
    assert not OutboxMessage.objects.exists()


def test_a_new_message_waits_with_its_details():
    message = _queue(MessageChannel.EMAIL, key="k" * 200, recipient="  an@example.com ")
    message.refresh_from_db()
    assert (message.status, message.attempts, message.recipient) == (
        MessageStatus.PENDING,
        0,
        "an@example.com",
    )
    assert message.key == "k" * 120  # the key is cut to the column, consistently
    assert message.available_at <= timezone.now()


def _delivery_asks(callbacks) -> int:
    return sum(callback is _ask_for_delivery for callback in callbacks)


def test_a_transaction_asks_for_one_delivery_run_however_many_messages(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        for n in range(5):
            _queue(key=f"many:{n}")
        _queue(key="many:0")  # already queued: asks for nothing
    assert _delivery_asks(callbacks) == 1
    assert OutboxMessage.objects.count() == 5


def test_a_rolled_back_savepoint_takes_its_messages_but_not_the_next_ask(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks() as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            _queue(key="gone")
            raise RuntimeError("the change failed")
        _queue(key="kept")
    assert list(OutboxMessage.objects.values_list("key", flat=True)) == ["kept"]
    assert _delivery_asks(callbacks) == 1  # the rolled-back ask went with its savepoint


# --- Delivery ---------------------------------------------------------------------------------


def test_an_email_goes_through_django(mailoutbox, settings):
    settings.DEFAULT_FROM_EMAIL = "Một Cửa <no-reply@motcua.test>"
    message = _queue(MessageChannel.EMAIL, body="Nội dung thư")
    result = deliver_outbox(now=timezone.now())
    assert (result.sent, result.retried, result.failed) == (1, 0, 0)
    [mail] = mailoutbox
    assert (mail.to, mail.subject, mail.body, mail.from_email) == (
        ["an@example.com"],
        "Hồ sơ 000.00.15.H61-260309-0001",
        "Nội dung thư",
        "Một Cửa <no-reply@motcua.test>",
    )
    message.refresh_from_db()
    assert (message.status, message.attempts, message.last_error) == (MessageStatus.SENT, 1, "")
    assert message.sent_at is not None


def test_an_sms_is_written_to_the_sms_file(settings, tmp_path):
    settings.SMS_BACKEND = "file"
    settings.SMS_FILE = str(tmp_path / "sms" / "out.jsonl")  # the folder is made when missing
    message = _queue(key="dossier-event:1:sms")
    assert deliver_outbox(now=timezone.now()).sent == 1
    lines = (tmp_path / "sms" / "out.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == [
        {"to": "0912345678", "body": SMS_TEXT, "key": "dossier-event:1:sms"}
    ]
    assert SMS_TEXT in lines[0]  # readable UTF-8, not \\u escapes
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT


def test_an_sms_is_posted_to_the_gateway(http_sms: Gateway):
    message = _queue(key="dossier-event:1:sms")
    assert deliver_outbox(now=timezone.now()).sent == 1
    [request] = http_sms.requests
    assert request["path"] == "/sms/send"
    assert request["json"] == {"to": "0912345678", "message": SMS_TEXT, "sender": "MOTCUA"}
    headers = {name.lower(): value for name, value in request["headers"].items()}
    assert headers["authorization"] == "Bearer bi-mat"
    assert headers["idempotency-key"] == "dossier-event:1:sms"
    assert headers["content-type"] == "application/json"
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT


@pytest.mark.parametrize(
    "trouble", ["answers 500", "refuses connections", "answers garbage", "redirects"]
)
def test_a_failing_gateway_leaves_the_message_for_later(http_sms: Gateway, settings, trouble):
    if trouble == "answers 500":
        http_sms.status = 500
    elif trouble == "refuses connections":
        settings.SMS_GATEWAY_URL = f"http://127.0.0.1:{_closed_port()}/sms/send"
    elif trouble == "redirects":
        http_sms.redirect = True
    else:
        http_sms.garble = True
    message = _queue()
    now = timezone.now()
    result = deliver_outbox(now=now)
    assert (result.sent, result.retried, result.failed) == (0, 1, 0)
    message.refresh_from_db()
    assert (message.status, message.attempts) == (MessageStatus.PENDING, 1)
    assert message.last_error.startswith("SMS gateway:")
    if trouble == "answers 500":
        assert "500" in message.last_error
    # A redirect is not followed: urllib would re-send a bodiless GET, with the token, and
    # report the message as sent.
    assert [r["path"] for r in http_sms.requests] == (
        [] if trouble == "refuses connections" else ["/sms/send"]
    )
    assert message.available_at == now + timedelta(minutes=2)
    assert message.sent_at is None


def test_retries_wait_longer_each_time_then_give_up(http_sms: Gateway, settings):
    settings.OUTBOX_MAX_ATTEMPTS = 8
    http_sms.status = 503
    message = _queue()
    now = timezone.now()
    waits = []
    for _attempt in range(7):
        assert deliver_outbox(now=now).retried == 1
        message.refresh_from_db()
        waits.append(int((message.available_at - now).total_seconds() // 60))
        assert deliver_outbox(now=message.available_at - timedelta(seconds=1)).retried == 0
        now = message.available_at
    assert waits == [2, 4, 8, 16, 32, 60, 60]  # minutes, capped at an hour
    result = deliver_outbox(now=now)
    assert (result.sent, result.retried, result.failed) == (0, 0, 1)
    message.refresh_from_db()
    assert (message.status, message.attempts) == (MessageStatus.FAILED, 8)
    assert "503" in message.last_error
    assert deliver_outbox(now=now + timedelta(days=1)).failed == 0  # given up: left alone
    assert len(http_sms.requests) == 8


def test_an_sms_file_that_cannot_be_written_is_retried(settings, tmp_path):
    settings.SMS_BACKEND = "file"
    settings.SMS_FILE = str(tmp_path)  # a folder: opening it for writing fails
    message = _queue()
    assert deliver_outbox(now=timezone.now()).retried == 1
    message.refresh_from_db()
    assert message.status == MessageStatus.PENDING
    assert message.last_error.startswith("SMS file")


def test_one_broken_message_does_not_strand_the_rest_of_the_batch(
    monkeypatch, mailoutbox, settings
):
    """An unexpected error (a bug, not a gateway refusal) used to escape the run and leave every
    later message of the batch ``sending`` until its lease ran out, the broken one for ever."""
    settings.SMS_BACKEND = "console"
    broken = _queue(MessageChannel.EMAIL, key="broken")
    OutboxMessage.objects.filter(pk=broken.pk).update(available_at=F("available_at") - timedelta(1))
    fine = _queue(key="fine")
    real_send_email = messaging.send_email

    def send_email(*, recipient, subject, body):
        if recipient == "an@example.com":
            raise KeyError("template variable")
        real_send_email(recipient=recipient, subject=subject, body=body)

    monkeypatch.setattr(messaging, "send_email", send_email)
    result = deliver_outbox(now=timezone.now())
    assert (result.sent, result.retried) == (1, 1)
    broken.refresh_from_db()
    fine.refresh_from_db()
    assert (broken.status, broken.last_error) == (MessageStatus.PENDING, "'template variable'")
    assert fine.status == MessageStatus.SENT


def test_a_message_not_yet_due_is_left_alone(mailoutbox):
    message = _queue(MessageChannel.EMAIL)
    later = timezone.now() + timedelta(minutes=10)
    OutboxMessage.objects.filter(pk=message.pk).update(available_at=later)
    assert deliver_outbox(now=timezone.now()).sent == 0
    message.refresh_from_db()
    assert (message.status, message.attempts, message.available_at) == (
        MessageStatus.PENDING,
        0,
        later,
    )
    assert mailoutbox == []


def test_a_second_run_does_not_take_what_the_first_claimed(mailoutbox):
    message = _queue(MessageChannel.EMAIL)
    now = timezone.now()
    assert [m.pk for m in _claim(now, 100)] == [message.pk]  # a run is sending it
    assert deliver_outbox(now=now + timedelta(minutes=4)).sent == 0
    message.refresh_from_db()
    assert (message.status, message.attempts) == (MessageStatus.SENDING, 1)
    assert mailoutbox == []


def test_the_lease_of_a_dead_worker_runs_out_and_the_message_is_taken_again(mailoutbox):
    message = _queue(MessageChannel.EMAIL)
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=MessageStatus.SENDING,
        attempts=1,
        available_at=timezone.now() - timedelta(minutes=1),
    )
    assert deliver_outbox(now=timezone.now()).sent == 1
    message.refresh_from_db()
    assert (message.status, message.attempts) == (MessageStatus.SENT, 2)
    assert len(mailoutbox) == 1


def test_a_message_taken_over_during_a_slow_batch_is_not_sent_twice(monkeypatch, mailoutbox):
    """A batch used to hold one lease for all its messages: when sending them took longer than
    the lease, another run took the rest and both sent them."""
    first = _queue(MessageChannel.EMAIL, key="first", recipient="mot@example.com")
    OutboxMessage.objects.filter(pk=first.pk).update(available_at=F("available_at") - timedelta(1))
    second = _queue(MessageChannel.EMAIL, key="second", recipient="hai@example.com")
    real_send_email = messaging.send_email

    def slow_send_email(**kwargs):
        real_send_email(**kwargs)
        if kwargs["recipient"] == "mot@example.com":
            # Meanwhile the lease ran out and another run claimed the second message.
            OutboxMessage.objects.filter(pk=second.pk).update(attempts=F("attempts") + 1)

    monkeypatch.setattr(messaging, "send_email", slow_send_email)
    result = deliver_outbox(now=timezone.now())
    assert result.sent == 1
    assert [mail.to for mail in mailoutbox] == [["mot@example.com"]]
    second.refresh_from_db()
    assert (second.status, second.attempts) == (MessageStatus.SENDING, 2)  # the other run's


def test_the_task_reports_what_it_did(mailoutbox):
    _queue(MessageChannel.EMAIL)
    assert deliver_outbox_task.apply().get() == {"sent": 1, "retried": 0, "failed": 0}


# --- Concurrent runs on PostgreSQL --------------------------------------------------------------

needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="concurrent connections need PostgreSQL (SQLite serialises every write)",
)


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_run_skips_the_messages_another_run_holds_locked(mailoutbox):
    queued = [_queue(MessageChannel.EMAIL, key=f"lock:{n}") for n in range(6)]
    held = {m.pk for m in queued[:3]}
    locked, release = threading.Event(), threading.Event()

    def other_run():
        try:
            with transaction.atomic():
                list(OutboxMessage.objects.select_for_update().filter(pk__in=held))
                locked.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    thread = threading.Thread(target=other_run)
    thread.start()
    try:
        assert locked.wait(timeout=10)
        started = time.monotonic()
        result = deliver_outbox(now=timezone.now())
        assert time.monotonic() - started < 5  # skipped the locked rows, did not wait for them
    finally:
        release.set()
        thread.join(timeout=30)
    assert result.sent == 3
    assert (
        set(OutboxMessage.objects.filter(status=MessageStatus.PENDING).values_list("pk", flat=True))
        == held
    )


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_send_every_message_exactly_once(monkeypatch, mailoutbox):
    for n in range(30):
        _queue(MessageChannel.EMAIL, key=f"race:{n}", recipient=f"r{n}@example.com")
    real_send_email = messaging.send_email

    def slow_send_email(**kwargs):
        time.sleep(0.005)
        real_send_email(**kwargs)

    monkeypatch.setattr(messaging, "send_email", slow_send_email)
    start = threading.Barrier(2)
    results = []

    def run():
        try:
            start.wait(timeout=10)
            results.append(deliver_outbox(now=timezone.now(), batch=10))
            results.append(deliver_outbox(now=timezone.now(), batch=10))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    results.append(deliver_outbox(now=timezone.now()))  # whatever both left
    assert sum(r.sent for r in results) == 30
    recipients = [mail.to[0] for mail in mailoutbox]
    assert sorted(recipients) == sorted(f"r{n}@example.com" for n in range(30))
    assert set(OutboxMessage.objects.values_list("status", "attempts")) == {(MessageStatus.SENT, 1)}


# --- Admin --------------------------------------------------------------------------------------


@pytest.fixture
def admin_client_(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_the_outbox_admin_lists_filters_searches_and_shows_a_message(admin_client_):
    sent = _queue(MessageChannel.EMAIL, key="a", reference="000.00.15.H61-260309-0001")
    OutboxMessage.objects.filter(pk=sent.pk).update(status=MessageStatus.SENT)
    failed = _queue(key="b", recipient="0987654321")
    OutboxMessage.objects.filter(pk=failed.pk).update(
        status=MessageStatus.FAILED, last_error="SMS gateway: HTTP Error 500"
    )
    url = reverse("admin:portal_outboxmessage_changelist")
    page = admin_client_.get(url)
    assert page.status_code == 200
    assert list(page.context["cl"].result_list) == [failed, sent]
    only_failed = admin_client_.get(url, {"status__exact": MessageStatus.FAILED})
    assert list(only_failed.context["cl"].result_list) == [failed]
    found = admin_client_.get(url, {"q": "0987654321"})
    assert list(found.context["cl"].result_list) == [failed]
    found = admin_client_.get(url, {"q": "260309-0001"})
    assert list(found.context["cl"].result_list) == [sent]
    detail = admin_client_.get(reverse("admin:portal_outboxmessage_change", args=[failed.pk]))
    assert detail.status_code == 200
    assert "SMS gateway: HTTP Error 500" in detail.content.decode()
    assert not detail.context["adminform"].form.fields  # nothing editable
    assert admin_client_.get(reverse("admin:portal_outboxmessage_add")).status_code == 403


def test_the_send_again_action_gives_failed_messages_a_fresh_start(admin_client_):
    failed = _queue(key="failed")
    sent = _queue(key="sent")
    OutboxMessage.objects.filter(pk=failed.pk).update(status=MessageStatus.FAILED, attempts=10)
    OutboxMessage.objects.filter(pk=sent.pk).update(status=MessageStatus.SENT, attempts=1)
    before = timezone.now()
    response = admin_client_.post(
        reverse("admin:portal_outboxmessage_changelist"),
        {"action": "send_again", "_selected_action": [failed.pk, sent.pk]},
        follow=True,
    )
    assert response.status_code == 200
    failed.refresh_from_db()
    sent.refresh_from_db()
    assert (failed.status, failed.attempts) == (MessageStatus.PENDING, 0)
    assert failed.available_at >= before
    assert (sent.status, sent.attempts) == (MessageStatus.SENT, 1)  # only failed ones
    assert [m.level for m in response.context["messages"]] == [messages.SUCCESS]


def test_the_profile_admin_lists_searches_and_shows_a_profile(admin_client_):
    profile = Profile.objects.create(
        user=UserFactory(username="congdan"), full_name="Trần Thị Bình", phone="0987654321"
    )
    url = reverse("admin:portal_profile_changelist")
    page = admin_client_.get(url, {"q": "0987654321"})
    assert page.status_code == 200
    assert list(page.context["cl"].result_list) == [profile]
    detail = admin_client_.get(reverse("admin:portal_profile_change", args=[profile.pk]))
    assert detail.status_code == 200
    assert "Trần Thị Bình" in detail.content.decode()


# --- Retention ----------------------------------------------------------------------------------


def test_the_purge_deletes_what_was_sent_or_given_up_long_ago_and_nothing_still_to_send(settings):
    from portal.services import purge_outbox
    from portal.tasks import purge_outbox_task

    settings.OUTBOX_RETENTION_DAYS = 90
    now = timezone.now()
    ages = {"old": now - timedelta(days=91), "recent": now - timedelta(days=89)}
    for age, created in ages.items():
        for status in MessageStatus.values:
            message = _queue(key=f"{age}:{status}")
            OutboxMessage.objects.filter(pk=message.pk).update(status=status, created_at=created)
    assert purge_outbox(now=now) == 2  # the old sent and the old failed
    kept = set(OutboxMessage.objects.values_list("key", flat=True))
    assert kept == {
        "old:pending",  # never delivered yet: kept however old (nothing is ever lost)
        "old:sending",
        *(f"recent:{status}" for status in MessageStatus.values),
    }
    assert purge_outbox(now=now) == 0  # safe to run twice
    settings.OUTBOX_RETENTION_DAYS = 30
    assert purge_outbox_task.apply().get() == 2  # the recent sent and failed, past 30 days now


def test_the_purge_runs_daily_on_the_bulk_queue(settings):
    from portal.queues import BULK, TASK_QUEUES

    entry = next(
        e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"].endswith("purge_outbox_task")
    )
    assert str(entry["schedule"].hour) == "{2}" and TASK_QUEUES[entry["task"]] == BULK


# --- The lease ----------------------------------------------------------------------------------


def test_a_claim_holds_a_message_for_the_configured_lease(settings):
    settings.OUTBOX_LEASE_SECONDS = 60
    message = _queue()
    now = timezone.now()
    assert [m.pk for m in _claim(now, 10)] == [message.pk]
    message.refresh_from_db()
    assert message.status == MessageStatus.SENDING
    assert message.available_at == now + timedelta(seconds=60)
    assert _claim(now + timedelta(seconds=59), 10) == []  # still held
    assert [m.pk for m in _claim(now + timedelta(seconds=60), 10)] == [message.pk]  # lapsed


def test_a_lease_no_longer_than_a_send_is_refused_at_start(settings):
    from portal.checks import check_outbox_lease

    settings.SMS_GATEWAY_TIMEOUT, settings.EMAIL_TIMEOUT = 10, 15
    settings.OUTBOX_LEASE_SECONDS = 15
    [error] = check_outbox_lease()
    assert error.id == "portal.E002" and "EMAIL_TIMEOUT" in error.msg
    settings.OUTBOX_LEASE_SECONDS = 16
    assert check_outbox_lease() == []
