"""Faults, tested (issue 7, item 6; DESIGN §7: no dossier is ever lost or numbered twice).

Each fault, and the tests that prove what it must not break:

* The same submission sent twice gives one dossier, on every intake path: the citizen's form,
  the counter's form, the API as a citizen and as a counter officer (``Idempotency-Key``).
  ``test_the_same_submission_sent_twice_gives_one_dossier`` (one after the other, both
  databases), ``test_the_same_submission_sent_twice_at_the_same_instant_gives_one_dossier``
  (threads, PostgreSQL); whose key it is and what a key may be: ``test_an_idempotency_key_*``,
  ``test_a_key_of_64_visible_characters_is_accepted_and_kept``.
* The PostgreSQL connection is lost in the middle of a request (the server terminates the
  backend between two writes of an intake, of a transition): a clean 503, nothing written, the
  next request works. ``test_a_database_connection_lost_mid_request_gives_a_clean_error_and_
  writes_nothing`` (PostgreSQL).
* 50 concurrent intakes, 50 concurrent transitions on one dossier: consecutive codes, no lost
  update, events that chain up to the dossier's status.
  ``test_50_concurrent_intakes_through_the_api_get_50_consecutive_codes``,
  ``test_50_concurrent_transitions_on_one_dossier_lose_no_update`` (PostgreSQL).
* A worker SIGKILLed in the middle of a task: the task is redelivered and nothing is sent
  twice by the portal. ``test_a_worker_killed_mid_delivery_is_redelivered_and_sends_each_
  message_once`` (a real worker on a throwaway Redis, a local SMS gateway that hangs).
* Redis stopped during intake: the intake succeeds, the notifications go out after the restart.
  ``test_redis_stopped_during_intake_then_restarted_delivers_the_notifications`` (a real Redis
  crashed and restarted on its port, a real web process, worker and beat).
  ``tests/test_outbox_worker.py`` covers a broker that refuses or never answers, and a worker
  asked once the broker is back.

SQLite allows one writer at a time and pytest-django keeps its test database in this process's
memory: the tests that need concurrent writers, or a server that cuts the connection, run on
PostgreSQL only (CI's second run) and say so when skipped.
"""

from __future__ import annotations

import contextlib
import html
import http.server
import itertools
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import close_old_connections, connection, connections
from django.test import Client
from django.urls import resolve, reverse
from rest_framework.test import APIClient

from dossiers import services
from dossiers.choices import Action, Channel, Status
from dossiers.models import DayCounter, Dossier, DossierDocument, DossierEvent, Pause
from dossiers.services import base as base_services
from dossiers.services import intake as intake_services
from dossiers.tests.factories import APPLICANT, Office, office, received, submitted
from portal.choices import MessageChannel, MessageStatus, Role
from portal.models import OutboxMessage
from portal.services import ASK_FOR_DELIVERY_TIMEOUT
from portal.tests.factories import MembershipFactory, UserFactory
from tests import test_celery_worker as worker_recipe
from tests.conftest import skip_or_fail
from tests.test_celery_worker import ROOT, WorkerDatabase, _logs, _worker_args, celery
from tests.test_outbox_worker import _outbox

PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
THREAD_TIMEOUT = 120  # seconds for a batch of concurrent requests


def _postgresql_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip(
            "needs PostgreSQL: SQLite takes one writer at a time and its test database lives in "
            "this process's memory"
        )


def concurrently(count: int, work: Callable[[int], Any]) -> list[Any]:
    """``work(0)`` … ``work(count - 1)`` in as many threads, released at the same instant; each
    thread has its own database connection, closed when it ends. What each returned or raised,
    in order."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = work(index)
        except BaseException as exc:  # reported to the test, not lost in the thread
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=THREAD_TIMEOUT)
    assert not any(thread.is_alive() for thread in threads), "a request hung"
    return results


def _api(user) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_authenticate(user)
    return client


def _intake_body(o: Office, channel: str = Channel.IN_PERSON, **applicant: str) -> dict:
    return {
        "procedure": o.procedure.code,
        "unit": o.commune.code,
        "channel": channel,
        "applicant": {
            "full_name": APPLICANT.full_name,
            "id_number": APPLICANT.id_number,
            "phone": APPLICANT.phone,
            "email": APPLICANT.email,
            **applicant,
        },
        "documents": [d.pk for d in o.procedure.documents.filter(required=True)],
    }


def _code_in(location: str) -> str:
    """The dossier code in the address a form redirects to."""
    return resolve(urlsplit(location).path).kwargs["code"]


# --- The same submission sent twice --------------------------------------------------------------
# Each maker prepares one path for a user and returns "send it once" → the dossier's code.


def _citizen_form(o: Office) -> Callable[[], str]:
    """The citizen's two-step form: step 1 stored in the session, step 2 sent with its key.
    Every sending shares the one browser session (a double click, a resend)."""
    first = Client(HTTP_ACCEPT_LANGUAGE="vi")
    first.force_login(o.citizen)
    step1 = first.post(
        reverse("dossiers:submit", args=[o.procedure.code]),
        {
            "unit": o.commune.code,
            "full_name": APPLICANT.full_name,
            "id_number": APPLICANT.id_number,
            "phone": APPLICANT.phone,
            "email": APPLICANT.email,
        },
    )
    assert step1.status_code == 302, step1.content
    page = first.get(reverse("dossiers:submit-documents", args=[o.procedure.code]))
    key = html.unescape(page.content.decode()).split('name="submission_key" value="')[1][:32]
    required = o.procedure.documents.get(required=True)
    cookies = first.cookies

    def send() -> str:
        browser = Client(HTTP_ACCEPT_LANGUAGE="vi")
        browser.cookies = cookies
        response = browser.post(
            reverse("dossiers:submit-documents", args=[o.procedure.code]),
            {
                "submission_key": key,
                "confirm": "on",
                f"document_{required.pk}": SimpleUploadedFile(
                    "to-khai.pdf", PDF, content_type="application/pdf"
                ),
            },
        )
        assert response.status_code == 302, response.content.decode()[-2000:]
        return _code_in(response["Location"])

    return send


def _counter_form(o: Office) -> Callable[[], str]:
    """The counter's intake page: its hidden key is made when the page is shown."""
    officer = Client(HTTP_ACCEPT_LANGUAGE="vi")
    officer.force_login(o.counter)
    page = officer.get(
        reverse("dossiers:intake"), {"unit": o.commune.code, "procedure": o.procedure.code}
    )
    assert page.status_code == 200
    key = html.unescape(page.content.decode()).split('name="submission_key" value="')[1][:32]
    uuid.UUID(key)
    data = {
        "unit": o.commune.code,
        "procedure": o.procedure.code,
        "submission_key": key,
        "channel": Channel.IN_PERSON,
        "applicant_name": APPLICANT.full_name,
        "applicant_id_number": APPLICANT.id_number,
        "applicant_phone": APPLICANT.phone,
        "documents": [str(d.pk) for d in o.procedure.documents.filter(required=True)],
        "save": "1",
    }
    session = officer.cookies

    def send() -> str:
        browser = Client(HTTP_ACCEPT_LANGUAGE="vi")
        browser.cookies = session
        response = browser.post(reverse("dossiers:intake"), data)
        assert response.status_code == 302, response.content.decode()[-2000:]
        return _code_in(response["Location"])

    return send


def _api_as(role: str) -> Callable[[Office], Callable[[], str]]:
    def make(o: Office) -> Callable[[], str]:
        user = o.citizen if role == "citizen" else o.counter
        body = _intake_body(o, Channel.ONLINE if role == "citizen" else Channel.IN_PERSON)
        key = f"retry-{uuid.uuid4()}"

        def send() -> str:
            response = _api(user).post(
                "/api/v1/dossiers/", body, format="json", HTTP_IDEMPOTENCY_KEY=key
            )
            assert response.status_code == 201, response.content
            return response.json()["code"]

        return send

    return make


PATHS = {
    "citizen form": _citizen_form,
    "counter form": _counter_form,
    "API, citizen": _api_as("citizen"),
    "API, counter officer": _api_as("counter"),
}


@pytest.mark.django_db
@pytest.mark.parametrize("path", PATHS)
def test_the_same_submission_sent_twice_gives_one_dossier(path):
    o = office()
    send = PATHS[path](o)
    first, second = send(), send()
    assert first == second
    dossier = Dossier.objects.get()
    assert dossier.code == first
    assert dossier.events.filter(action__in=[Action.SUBMIT, Action.RECEIVE]).count() == 1
    assert DayCounter.objects.get().last == 1  # the second sending took no number


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", PATHS)
def test_the_same_submission_sent_twice_at_the_same_instant_gives_one_dossier(path):
    """Both sendings pass the "already there?" check before either commits; the second waits
    on the first's number, then hits the unique constraint and answers with the first dossier.
    Its number is given back: the next intake of the day follows without a gap."""
    _postgresql_only()
    o = office()
    send = PATHS[path](o)
    codes = concurrently(4, lambda _i: send())
    assert not [c for c in codes if isinstance(c, BaseException)], codes
    dossier = Dossier.objects.get()
    assert set(codes) == {dossier.code}
    assert dossier.events.filter(action__in=[Action.SUBMIT, Action.RECEIVE]).count() == 1
    assert dossier.attachments.count() == (1 if path == "citizen form" else 0)
    assert DayCounter.objects.get().last == 1
    assert received(o).code.endswith("-0002")


@pytest.mark.django_db
def test_an_idempotency_key_belongs_to_the_account_that_sent_it():
    o = office()
    other_citizen = UserFactory()
    other_counter = MembershipFactory(unit=o.commune, role=Role.COUNTER_OFFICER).user
    key = "client-retry-1"
    online = _intake_body(o, Channel.ONLINE)
    at_counter = _intake_body(o)

    def post(user, body) -> str:
        response = _api(user).post(
            "/api/v1/dossiers/", body, format="json", HTTP_IDEMPOTENCY_KEY=key
        )
        assert response.status_code == 201, response.content
        return response.json()["code"]

    mine = post(o.citizen, online)
    assert post(other_citizen, online) != mine  # never someone else's dossier
    counter_code = post(o.counter, at_counter)
    assert post(other_counter, at_counter) != counter_code
    assert counter_code != mine
    # An online dossier accepted by a counter officer stays its citizen's submission: the
    # officer's own key, the same text, is still the officer's.
    accepted = services.accept_dossier(dossier=Dossier.objects.get(code=mine), by=o.counter)
    assert accepted.received_by == o.counter
    assert post(o.counter, at_counter) == counter_code
    assert post(o.citizen, online) == mine
    assert Dossier.objects.count() == 4


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["k" * 65, "abc\x07def", "tab\there", "del\x7f"])
def test_an_idempotency_key_too_long_or_with_control_characters_is_refused(key):
    o = office()
    response = _api(o.counter).post(
        "/api/v1/dossiers/", _intake_body(o), format="json", HTTP_IDEMPOTENCY_KEY=key
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid" and set(body) == {"code", "message", "fields"}
    assert body["fields"] == {
        "Idempotency-Key": ["A submission key has at most 64 characters, all of them visible."]
    }
    assert not Dossier.objects.exists() and not DayCounter.objects.exists()


@pytest.mark.django_db
def test_a_key_of_64_visible_characters_is_accepted_and_kept():
    o = office()
    key = "Ä" + "x" * 62 + "!"
    first = received(o, submission_key=key)
    assert first.submission_key == key
    assert received(o, submission_key=key) == first
    assert submitted(o, submission_key=key) != first  # the citizen's key, not the officer's


# --- PostgreSQL connection lost in the middle of a request ---------------------------------------


def _terminate_this_connection() -> None:
    """Cut this thread's database connection from the server's side, as a database restart or
    a failover does: from a second connection, ``pg_terminate_backend`` (waiting until done)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    killer = connections.create_connection("default")
    try:
        with killer.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s, 10000)", [pid])
            assert cursor.fetchone()[0], "the backend was not terminated"
    finally:
        killer.close()


def _cut_during(monkeypatch, module, name: str) -> None:
    """The connection is cut when ``module.name`` is called: after the writes before it, before
    its own."""
    real = getattr(module, name)

    def cut_then_call(*args, **kwargs):
        _terminate_this_connection()
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, cut_then_call)


def _no_traceback(content: str) -> None:
    for leak in ("Traceback", "psycopg", "terminat", "OperationalError", 'File "'):
        assert leak not in content, f"{leak!r} leaked to the client"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("request_kind", ["API intake", "counter form intake", "API transition"])
def test_a_database_connection_lost_mid_request_gives_a_clean_error_and_writes_nothing(
    request_kind, monkeypatch, caplog
):
    _postgresql_only()
    o = office()
    started = received(o, applicant=APPLICANT) if request_kind == "API transition" else None
    outbox_before = OutboxMessage.objects.count()

    def send():
        if request_kind == "API intake":
            return _api(o.counter).post("/api/v1/dossiers/", _intake_body(o), format="json")
        if request_kind == "API transition":
            assert started is not None
            return _api(o.officer).post(
                f"/api/v1/dossiers/{started.code}/actions/start/", {}, format="json"
            )
        browser = Client(HTTP_ACCEPT_LANGUAGE="vi")
        browser.force_login(o.counter)
        return browser.post(
            reverse("dossiers:intake"),
            {
                "unit": o.commune.code,
                "procedure": o.procedure.code,
                "submission_key": uuid.uuid4().hex,
                "channel": Channel.IN_PERSON,
                "applicant_name": APPLICANT.full_name,
                "applicant_id_number": APPLICANT.id_number,
                "applicant_phone": APPLICANT.phone,
                "documents": [str(d.pk) for d in o.procedure.documents.filter(required=True)],
                "save": "1",
            },
        )

    with monkeypatch.context() as patch:
        if request_kind == "API transition":  # the status is updated, the event not yet
            _cut_during(patch, base_services, "_record")
        else:  # the dossier is inserted and numbered, its checklist not yet
            _cut_during(patch, intake_services, "_checklist")
        response = send()

    assert response.status_code == 503
    assert response["Retry-After"].isdigit()
    content = response.content.decode()
    _no_traceback(content)
    if request_kind.startswith("API"):
        assert response.json() == {
            "code": "service_unavailable",
            "message": "The service is briefly unavailable. Please try again in a moment.",
            "fields": {},
        }
    else:
        assert "Tạm thời gián đoạn" in content and "briefly unavailable" in content
    assert "Database unavailable" in caplog.text  # the traceback is in the log instead

    # What a WSGI server does when the request ends: the broken connection is dropped.
    close_old_connections()
    # Nothing of the request was kept.
    if started is None:
        assert not Dossier.objects.exists() and not DayCounter.objects.exists()
        assert not DossierDocument.objects.exists() and not DossierEvent.objects.exists()
    else:
        started.refresh_from_db()
        assert started.status == Status.RECEIVED and started.assigned_to is None
        assert list(started.events.values_list("action", flat=True)) == [Action.RECEIVE]
    assert OutboxMessage.objects.count() == outbox_before

    # The next request connects afresh and succeeds; the intake gets the number given back.
    again = send()
    assert again.status_code in (200, 201, 302), again.content
    if started is None:
        assert Dossier.objects.get().code.endswith("-0001")
    else:
        started.refresh_from_db()
        assert started.status == Status.IN_PROGRESS


# --- 50 at once ---------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_50_concurrent_intakes_through_the_api_get_50_consecutive_codes():
    """Fifty counter intakes at once through the API, each with its own Idempotency-Key and
    applicant: fifty dossiers, codes 0001-0050, each with its event and its two notices.
    (``dossiers/tests/test_numbering.py`` races the service alone.)"""
    _postgresql_only()
    o = office()

    def intake(i: int) -> tuple[int, dict]:
        body = _intake_body(
            o, full_name=f"Nguyễn Văn Số {i}", id_number=f"015090{i:06d}", phone=f"09123456{i:02d}"
        )
        response = _api(o.counter).post(
            "/api/v1/dossiers/", body, format="json", HTTP_IDEMPOTENCY_KEY=f"intake-{i}"
        )
        return response.status_code, response.json()

    results = concurrently(50, intake)
    assert not [r for r in results if isinstance(r, BaseException)], results
    assert [status for status, _body in results] == [201] * 50, results
    codes = [body["code"] for _status, body in results]
    prefix = f"{o.commune.code}-{codes[0].split('-')[-2]}"
    assert sorted(codes) == [f"{prefix}-{n:04d}" for n in range(1, 51)]
    assert DayCounter.objects.get().last == 50
    by_code = {d.code: d for d in Dossier.objects.all()}
    assert set(by_code) == set(codes)
    for i, (_status, body) in enumerate(results):  # each answer is its own request's dossier
        assert by_code[body["code"]].applicant_name == f"Nguyễn Văn Số {i}"
        assert by_code[body["code"]].submission_key == f"intake-{i}"
    assert DossierEvent.objects.filter(action=Action.RECEIVE).count() == 50
    assert OutboxMessage.objects.filter(reference__in=codes).count() == 100


@pytest.mark.django_db(transaction=True)
def test_50_concurrent_transitions_on_one_dossier_lose_no_update():
    """Start, ask for a supplement, record it, resolve, assign: 50 requests on one dossier at
    once, through the API. Each either happens whole or gets a clean 409; the events form one
    chain that ends in the dossier's status, and the pauses agree with it."""
    _postgresql_only()
    o = office()
    dossier = received(o)
    actions: list[tuple[Any, str, dict]] = [
        (o.officer, Action.START, {}),
        (o.officer, Action.REQUEST_SUPPLEMENT, {"missing": "Tờ khai", "reason": "Thiếu"}),
        (o.counter, Action.SUPPLEMENT, {"note": "Đã bổ sung"}),
        (o.manager, Action.ASSIGN, {"officer": o.officer.username}),
        (o.officer, Action.RESOLVE, {"result": "QĐ 12/QĐ-UBND"}),
    ]

    def act(i: int):
        user, action, body = actions[i % len(actions)]
        response = _api(user).post(
            f"/api/v1/dossiers/{dossier.code}/actions/{action}/", body, format="json"
        )
        return action, response.status_code, response.json()

    results = concurrently(50, act)
    assert not [r for r in results if isinstance(r, BaseException)], results
    done = [action for action, status, _body in results if status == 200]
    refused = [body for _action, status, body in results if status != 200]
    assert all(status in (200, 409) for _action, status, _body in results), [
        (a, s, b) for a, s, b in results if s not in (200, 409)
    ]
    assert all(body["code"] == "invalid_transition" and body["message"] for body in refused)
    assert done, "no request got through"

    dossier.refresh_from_db()
    events = list(dossier.events.order_by("id"))
    assert events[0].action == Action.RECEIVE
    assert len(events) == 1 + len(done)  # one event per change that happened, no more
    assert sorted(e.action for e in events[1:]) == sorted(done)
    for previous, event in itertools.pairwise(events):
        assert event.from_status == previous.to_status, (previous, event)
        assert event.at >= previous.at
    assert dossier.status == events[-1].to_status
    open_pauses = Pause.objects.filter(dossier=dossier, ended_at__isnull=True).count()
    paused = dossier.status == Status.SUPPLEMENT_REQUESTED
    assert open_pauses == int(paused) and (dossier.paused_at is not None) == paused
    assert Pause.objects.filter(dossier=dossier).count() == done.count(Action.REQUEST_SUPPLEMENT)


# --- Real processes: a web process, a worker (and beat) on a Redis of the test's own ------------
# The worker recipe of ``test_celery_worker`` (its database, its environment) with a throwaway
# redis-server that the test may stop and start again on the same port: the Redis on 6379 is
# shared with other test runs and is never touched.

celery_env = worker_recipe.celery_env
worker_database = worker_recipe.worker_database
migrated_sqlite_file = worker_recipe.migrated_sqlite_file

DELIVERY_TIMEOUT = 60  # seconds for the worker to send what the outbox holds

# A long-lived web process: each line on its stdin is one counter intake, answered on stdout.
# ``sys.argv[1]`` shifts the factories' sequences, so that two tests sharing a worker database
# (SQLite: one per module) create distinct units and procedures.
WEB = """
import json
import sys
import time

import django

django.setup()
from dossiers.tests.factories import office, received
from portal.tests.factories import UnitFactory
from procedures.tests.factories import ProcedureFactory

UnitFactory.reset_sequence(int(sys.argv[1]))
ProcedureFactory.reset_sequence(int(sys.argv[1]))
o = office()
print(json.dumps({"ready": True}), flush=True)
for _line in sys.stdin:
    started = time.monotonic()
    dossier = received(o)  # its own transaction; after commit it asks the broker for a delivery
    print(json.dumps({"code": dossier.code, "seconds": time.monotonic() - started}), flush=True)
"""


class OwnRedis:
    """A redis-server of the test's own, without persistence: stopped, it loses its queues, as a
    crashed Redis without AOF would."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                *("redis-server", "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--dir", str(self.directory)),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        import redis

        client = redis.Redis.from_url(self.url, socket_connect_timeout=1, socket_timeout=1)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.RedisError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise
                time.sleep(0.1)
            finally:
                client.close()

    def kill(self) -> None:
        """SIGKILL: a crash, not a clean shutdown."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    if shutil.which("redis-server") is None:
        skip_or_fail("redis-server is not installed", required_by="REQUIRE_REDIS")
    server = OwnRedis(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.kill()


def _env_on(own_redis: OwnRedis, celery_env: dict[str, str], **more: str) -> dict[str, str]:
    env = {
        **celery_env,
        "CELERY_BROKER_URL": own_redis.url,
        "CELERY_RESULT_BACKEND": "",
        "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend",
        "no_proxy": "127.0.0.1,localhost",
        "NO_PROXY": "127.0.0.1,localhost",
        **more,
    }
    for proxy in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY"):
        env.pop(proxy, None)
    return env


@contextlib.contextmanager
def _web(env: dict[str, str], sequence: int, log: Path) -> Iterator[Callable[[], dict]]:
    """The web process; yields "receive one dossier now" → {"code", "seconds"}."""
    with log.open("wb") as errors:
        process = subprocess.Popen(
            [sys.executable, "-c", WEB, str(sequence)],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
            start_new_session=True,
        )
        assert process.stdin is not None and process.stdout is not None

        def answer() -> dict:
            line = process.stdout.readline()  # type: ignore[union-attr]
            assert line, f"the web process ended:\n{_logs(log)}"
            return json.loads(line)

        def intake() -> dict:
            process.stdin.write("intake\n")  # type: ignore[union-attr]
            process.stdin.flush()  # type: ignore[union-attr]
            return answer()

        try:
            assert answer() == {"ready": True}
            yield intake
        finally:
            process.stdin.close()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


def _wait_for(condition: Callable[[], bool], timeout: float, *processes: subprocess.Popen) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        if any(p.poll() is not None for p in processes):
            return condition()
        time.sleep(0.3)
    return condition()


def _sent(database: WorkerDatabase, code: str) -> bool:
    messages = _outbox(database, code)
    return len(messages) == 2 and all(m["status"] == MessageStatus.SENT for m in messages)


def _states(database: WorkerDatabase, code: str) -> list[tuple[str, str, int]]:
    return [(m["channel"], m["status"], m["attempts"]) for m in _outbox(database, code)]


def test_redis_stopped_during_intake_then_restarted_delivers_the_notifications(
    own_redis: OwnRedis, celery_env: dict, worker_database: WorkerDatabase, tmp_path: Path
) -> None:
    """A web process, a worker and beat run on a Redis that crashes and comes back empty.
    While it is down the counter still receives dossiers (quickly); once it is back, beat's
    periodic run through the reconnected worker delivers what waited, each message once, and
    the web process's next intake asks the broker again without trouble."""
    sms_file = tmp_path / "sms.jsonl"
    env = _env_on(
        own_redis,
        celery_env,
        SMS_BACKEND="file",
        SMS_FILE=str(sms_file),
        OUTBOX_INTERVAL_SECONDS="2",
    )
    worker_log, beat_log, web_log = (
        tmp_path / "worker.log",
        tmp_path / "beat.log",
        tmp_path / "web.log",
    )
    logs = (worker_log, beat_log, web_log)
    with (
        celery(*_worker_args(), env=env, log=worker_log) as worker,
        celery("beat", "-l", "info", "-s", str(tmp_path / "schedule"), env=env, log=beat_log),
        _web(env, 2000, web_log) as intake,
    ):
        # 1. All up: the intake's messages go out.
        before = intake()
        assert _wait_for(
            lambda: _sent(worker_database, before["code"]), DELIVERY_TIMEOUT, worker
        ), f"{_states(worker_database, before['code'])}\n{_logs(*logs)}"

        # 2. Redis crashes: the counter still receives the dossier, without waiting for it.
        own_redis.kill()
        during = intake()
        assert during["seconds"] < ASK_FOR_DELIVERY_TIMEOUT + 3, _logs(web_log)
        assert "Broker unavailable" in web_log.read_text(errors="replace")
        time.sleep(3)  # beat's runs come and go: nothing can reach the worker
        assert _states(worker_database, during["code"]) == [
            (MessageChannel.EMAIL, MessageStatus.PENDING, 0),
            (MessageChannel.SMS, MessageStatus.PENDING, 0),
        ]

        # 3. Redis is back, empty: beat and worker reconnect, and the waiting messages go out
        # with no one asking.
        own_redis.start()
        assert _wait_for(
            lambda: _sent(worker_database, during["code"]), DELIVERY_TIMEOUT, worker
        ), (
            f"not delivered after the restart: {_states(worker_database, during['code'])}\n"
            f"{_logs(*logs)}"
        )
        # The web process asks the broker again, on a fresh connection.
        unavailable = web_log.read_text(errors="replace").count("Broker unavailable")
        after = intake()
        assert after["seconds"] < ASK_FOR_DELIVERY_TIMEOUT + 3
        assert _wait_for(lambda: _sent(worker_database, after["code"]), DELIVERY_TIMEOUT, worker), (
            _logs(*logs)
        )
        assert web_log.read_text(errors="replace").count("Broker unavailable") == unavailable

    codes = [before["code"], during["code"], after["code"]]
    assert [_states(worker_database, code) for code in codes] == [
        [(MessageChannel.EMAIL, MessageStatus.SENT, 1), (MessageChannel.SMS, MessageStatus.SENT, 1)]
    ] * 3
    sms = [json.loads(line) for line in sms_file.read_text(encoding="utf-8").splitlines()]
    assert sorted(code for m in sms for code in codes if code in m["body"]) == sorted(codes)
    assert worker_log.read_text(errors="replace").count("To: an@example.com") == 3


class HangingGateway:
    """An SMS gateway on a local port that honours ``Idempotency-Key`` (one SMS per key, as the
    portal's gateway contract says) and, while ``hang`` is set, holds every request without an
    answer: the worker is then stuck in the middle of sending."""

    def __init__(self) -> None:
        self.requests: list[dict] = []  # every POST: its key and message
        self.delivered: dict[str, str] = {}  # what reached phones: one SMS per key
        self.hang = threading.Event()
        self.release = threading.Event()
        self.arrived = threading.Event()
        gateway = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                key = self.headers["Idempotency-Key"]
                gateway.requests.append({"key": key, "message": body["message"]})
                gateway.delivered.setdefault(key, body["message"])
                gateway.arrived.set()
                if gateway.hang.is_set():
                    gateway.release.wait(timeout=120)
                with contextlib.suppress(OSError):  # the sender may be dead by now
                    self.send_response(200)
                    self.end_headers()
                    self.wfile.write(b'{"status": "queued"}')

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sms"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> HangingGateway:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def _expire_leases(database: WorkerDatabase, code: str) -> None:
    """What five minutes do to the dead worker's claim (OUTBOX_LEASE): it runs out."""
    if database.url.startswith("sqlite:///"):
        path = database.url.removeprefix("sqlite:///")
        now = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")
        with contextlib.closing(sqlite3.connect(path, timeout=20)) as db, db:
            db.execute(
                f'UPDATE "{OutboxMessage._meta.db_table}" SET "available_at" = ? '
                'WHERE "reference" = ? AND "status" = ?',
                [now, code, MessageStatus.SENDING],
            )
        return
    OutboxMessage.objects.filter(reference=code, status=MessageStatus.SENDING).update(
        available_at=datetime.now(UTC)
    )


def test_a_worker_killed_mid_delivery_is_redelivered_and_sends_each_message_once(
    own_redis: OwnRedis, celery_env: dict, worker_database: WorkerDatabase, tmp_path: Path
) -> None:
    """The guarantee, honestly: the outbox records each message sent exactly once, and the
    gateway gets it at least once, every time under the same Idempotency-Key.

    A worker is SIGKILLed while the gateway holds its SMS request. The task (acks_late) was
    never acknowledged: after the visibility timeout a second worker gets it again. That rerun
    finds the SMS still claimed by the dead worker's lease and sends nothing — no second copy
    while the first one may still be on its way. When the lease runs out, the next run sends it
    again with the same key: the gateway has had two requests, the phone one SMS, the outbox
    one ``sent`` after two attempts. The e-mail, sent before the kill, is never sent again.
    """
    with HangingGateway() as gateway:
        env = _env_on(
            own_redis,
            celery_env,
            SMS_BACKEND="http",
            SMS_GATEWAY_URL=gateway.url,
            SMS_GATEWAY_TIMEOUT="120",
            CELERY_VISIBILITY_TIMEOUT="3",
        )
        first_log, second_log, web_log = (
            tmp_path / "worker-1.log",
            tmp_path / "worker-2.log",
            tmp_path / "web.log",
        )
        logs = (first_log, second_log, web_log)
        gateway.hang.set()
        with _web(env, 1000, web_log) as intake:
            with celery(*_worker_args(), env=env, log=first_log) as first:
                code = intake()["code"]  # after commit the web process asks for a delivery
                assert gateway.arrived.wait(DELIVERY_TIMEOUT), _logs(*logs)
                os.killpg(first.pid, signal.SIGKILL)  # mid-task: the SMS request is open
                first.wait(timeout=10)
            killed_at = time.monotonic()
            task_ids = re.findall(
                r"deliver_outbox_task\[([0-9a-f-]{36})\] received", _text(first_log)
            )
            assert len(task_ids) == 1, _logs(first_log)
            assert _states(worker_database, code) == [
                (MessageChannel.EMAIL, MessageStatus.SENT, 1),
                (MessageChannel.SMS, MessageStatus.SENDING, 1),  # claimed by the dead worker
            ]
            gateway.hang.clear()
            gateway.release.set()  # its answer goes nowhere: the worker is gone

            time.sleep(max(0.0, killed_at + 4 - time.monotonic()))  # past the visibility timeout
            with celery(*_worker_args(), env=env, log=second_log) as second:
                # The same task, redelivered: it runs and sends nothing (the lease holds).
                rerun = re.compile(
                    rf"deliver_outbox_task\[{task_ids[0]}\] succeeded in [0-9.e-]+s: "
                    r"\{'sent': 0, 'retried': 0, 'failed': 0\}"
                )
                assert _wait_for(
                    lambda: bool(rerun.search(_text(second_log))), DELIVERY_TIMEOUT, second
                ), f"not redelivered\n{_logs(*logs)}"
                assert len(gateway.requests) == 1
                # The lease runs out; the next delivery run (beat's, here the next intake's ask)
                # sends the SMS again under the same key.
                _expire_leases(worker_database, code)
                later = intake()["code"]
                assert _wait_for(
                    lambda: _sent(worker_database, code) and _sent(worker_database, later),
                    DELIVERY_TIMEOUT,
                    second,
                ), f"{_states(worker_database, code)}\n{_logs(*logs)}"

    assert _states(worker_database, code) == [
        (MessageChannel.EMAIL, MessageStatus.SENT, 1),
        (MessageChannel.SMS, MessageStatus.SENT, 2),
    ]
    sms_key = f"{_outbox(worker_database, code)[1]['key']}"
    assert [r["key"] for r in gateway.requests if code in r["message"]] == [sms_key, sms_key]
    assert sum(code in message for message in gateway.delivered.values()) == 1  # one SMS
    # Two e-mails in all, the killed dossier's and the later one's: none sent twice.
    assert (_text(first_log) + _text(second_log)).count("To: an@example.com") == 2


def _text(path: Path) -> str:
    return path.read_text(errors="replace") if path.exists() else ""
