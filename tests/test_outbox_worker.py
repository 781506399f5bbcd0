"""The outbox when the broker is down, and when it comes back.

DESIGN §7: intake and processing still work with the broker down, the outbox waits, and delivery
resumes when the broker returns. In this process: an intake with the Celery app pointed at a
broker that refuses connections, or at one that accepts them and never answers, succeeds
without hanging and leaves its messages pending. With real processes (the worker recipe of
``test_celery_worker``): a "web" process receives a dossier while the broker is down, then a
real worker on Redis delivers the messages once asked.
"""

from __future__ import annotations

import contextlib
import json
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.utils import timezone

from dossiers.tests.factories import office, received
from portal.choices import MessageChannel, MessageStatus
from portal.models import OutboxMessage
from portal.services import ASK_FOR_DELIVERY_TIMEOUT, _ask_for_delivery, deliver_outbox
from tests import test_celery_worker as recipe
from tests.test_celery_worker import ROOT, WorkerDatabase, _logs, _worker_args, celery

# The worker recipe's fixtures, for pytest to find here: a real Redis (skipped, or failed with
# REQUIRE_REDIS=1, when there is none), the worker's database, the processes' environment.
celery_env = recipe.celery_env
worker_database = recipe.worker_database
migrated_sqlite_file = recipe.migrated_sqlite_file

DELIVERY_TIMEOUT = 60  # seconds for the worker to send what the outbox holds
MESSAGE_COLUMNS = ["channel", "recipient", "status", "attempts", "key", "body"]


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def _silent_broker() -> Iterator[int]:
    """A port that accepts connections and never says a word: a hung broker."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.settimeout(0.2)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError, OSError):
                held.append(server.accept()[0])

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        stop.set()
        thread.join(timeout=5)
        for conn in held:
            conn.close()
        server.close()


@pytest.fixture
def point_broker_at(monkeypatch) -> Iterator[Callable[[str], None]]:
    """Point this process's Celery app at another broker for the test; restored after."""
    from portal.celery import app

    for variable in ("CELERY_BROKER_URL", "CELERY_BROKER_WRITE_URL"):  # would win over conf
        monkeypatch.delenv(variable, raising=False)
    saved = {key: app.conf[key] for key in ("broker_url", "broker_write_url", "task_always_eager")}
    app.conf.task_always_eager = False

    def point(url: str) -> None:
        app.conf.broker_url = url

    yield point
    app.conf.update(saved)


# --- In this process ----------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("broker", ["refuses connections", "accepts and never answers"])
def test_intake_works_and_the_outbox_waits_while_the_broker_is_down(
    broker, point_broker_at, django_capture_on_commit_callbacks, caplog, mailoutbox, settings
):
    settings.SMS_BACKEND = "console"
    o = office()
    with contextlib.ExitStack() as stack:
        port = (
            _closed_port()
            if broker == "refuses connections"
            else stack.enter_context(_silent_broker())
        )
        point_broker_at(f"redis://127.0.0.1:{port}/0")
        started = time.monotonic()
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            dossier = received(o)
        elapsed = time.monotonic() - started
    # Before the fix a silent broker held the request for ever, and each message asked again.
    assert elapsed < ASK_FOR_DELIVERY_TIMEOUT + 1.5, f"the intake took {elapsed:.1f} s"
    assert callbacks == [_ask_for_delivery]  # one ask for the two messages
    assert "Broker unavailable" in caplog.text
    dossier.refresh_from_db()
    assert dossier.code and dossier.events.count() == 1
    messages = OutboxMessage.objects.filter(reference=dossier.code)
    assert sorted(messages.values_list("channel", "status", "attempts")) == [
        (MessageChannel.EMAIL, MessageStatus.PENDING, 0),
        (MessageChannel.SMS, MessageStatus.PENDING, 0),
    ]
    # The next delivery run (beat's, once the broker is back) sends them.
    assert deliver_outbox(now=timezone.now()).sent == 2
    assert [mail.to for mail in mailoutbox] == [["an@example.com"]]


# --- Real processes: a web process with the broker down, then a worker on Redis -------------

# What the web process does at the counter: an officer receives a dossier in person.
WEB = """
import json
import time

import django

django.setup()
from dossiers.tests.factories import office, received

o = office()
started = time.monotonic()
dossier = received(o)  # its own transaction; after commit it asks the broker for a delivery
print(json.dumps({"code": dossier.code, "seconds": time.monotonic() - started}))
"""

# What any process does after queueing a message, now that the broker answers again.
ASK = """
import django

django.setup()
from portal.services import _ask_for_delivery

_ask_for_delivery()
"""


def _outbox(database: WorkerDatabase, reference: str) -> list[dict]:
    """The worker database's messages about ``reference``, e-mail first."""
    if database.url.startswith("sqlite:///"):
        columns = ", ".join(f'"{column}"' for column in MESSAGE_COLUMNS)
        path = database.url.removeprefix("sqlite:///")
        with contextlib.closing(sqlite3.connect(path, timeout=20)) as db:
            rows = db.execute(
                f'SELECT {columns} FROM "{OutboxMessage._meta.db_table}" '
                'WHERE "reference" = ? ORDER BY "channel"',
                [reference],
            ).fetchall()
        return [dict(zip(MESSAGE_COLUMNS, row, strict=True)) for row in rows]
    return list(
        OutboxMessage.objects.filter(reference=reference)
        .order_by("channel")
        .values(*MESSAGE_COLUMNS)
    )


def _run(script: str, env: dict[str, str], timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_delivery_resumes_when_the_broker_returns(
    celery_env: dict, worker_database: WorkerDatabase, tmp_path: Path
) -> None:
    # 1. The broker is down: the counter still receives the dossier, the outbox waits.
    down = {**celery_env, "CELERY_BROKER_URL": f"redis://127.0.0.1:{_closed_port()}/0"}
    web = _run(WEB, down)
    assert web.returncode == 0, f"the intake failed:\n{web.stdout}\n{web.stderr}"
    intake = json.loads(web.stdout.strip().splitlines()[-1])
    assert intake["seconds"] < ASK_FOR_DELIVERY_TIMEOUT + 3, web.stderr
    assert "Broker unavailable" in web.stderr
    waiting = _outbox(worker_database, intake["code"])
    assert [(m["channel"], m["status"], m["attempts"]) for m in waiting] == [
        (MessageChannel.EMAIL, MessageStatus.PENDING, 0),
        (MessageChannel.SMS, MessageStatus.PENDING, 0),
    ]

    # 2. The broker is back: asked once more, a real worker sends both.
    sms_file = tmp_path / "sms.jsonl"
    up = {
        **celery_env,
        "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend",
        "SMS_BACKEND": "file",
        "SMS_FILE": str(sms_file),
    }
    worker_log = tmp_path / "worker.log"
    with celery(*_worker_args(), env=up, log=worker_log) as worker:
        ask = _run(ASK, up)
        assert ask.returncode == 0, f"{ask.stdout}\n{ask.stderr}"
        assert "Broker unavailable" not in ask.stderr, ask.stderr
        deadline = time.monotonic() + DELIVERY_TIMEOUT
        messages = waiting
        while time.monotonic() < deadline and worker.poll() is None:
            messages = _outbox(worker_database, intake["code"])
            if all(m["status"] == MessageStatus.SENT for m in messages):
                break
            time.sleep(0.5)
    assert [(m["channel"], m["status"], m["attempts"]) for m in messages] == [
        (MessageChannel.EMAIL, MessageStatus.SENT, 1),
        (MessageChannel.SMS, MessageStatus.SENT, 1),
    ], f"not delivered within {DELIVERY_TIMEOUT} s\n{_logs(worker_log)}"
    sms = [json.loads(line) for line in sms_file.read_text(encoding="utf-8").splitlines()]
    assert sms == [{"to": "0912345678", "body": messages[1]["body"], "key": messages[1]["key"]}]
    assert intake["code"] in sms[0]["body"]
    assert "To: an@example.com" in worker_log.read_text(errors="replace")  # console e-mail


# --- Asks coalesce while a run waits ------------------------------------------------------------


@pytest.fixture
def publishes(monkeypatch) -> list[int]:
    """Every delivery run published to the broker, without a broker."""
    from portal import tasks

    published: list[int] = []
    monkeypatch.setattr(
        tasks.deliver_outbox_task, "apply_async", lambda **kwargs: published.append(1)
    )
    return published


@pytest.mark.django_db
def test_with_a_shared_cache_asks_wait_for_the_run_already_asked_for(
    settings, redis_url, publishes
):
    from django.core.cache import cache

    settings.CACHES = {
        "default": {"BACKEND": "portal.cache.FailOpenRedisCache", "LOCATION": redis_url}
    }
    cache.clear()
    try:
        for _ in range(5):  # five intakes while the run they asked for waits in the queue
            _ask_for_delivery()
        assert len(publishes) == 1
        deliver_outbox(now=timezone.now())  # the run starts: it reads what is committed now
        _ask_for_delivery()  # committed after that read: a run of its own
        assert len(publishes) == 2
        time.sleep(1.2)  # the second run never started (a worker gone): the ask lapses
        _ask_for_delivery()
        assert len(publishes) == 3
    finally:
        cache.clear()
        cache.close()


@pytest.mark.django_db
def test_with_a_per_process_cache_every_commit_asks(settings, publishes):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    for _ in range(3):
        _ask_for_delivery()
    assert len(publishes) == 3  # the worker could not tell this process it has started
