"""Two web processes and two Celery workers that share nothing but PostgreSQL and Redis (issue 8).

Four real processes: two gunicorn servers on their own ports and two Celery workers, each with a
``VAR_DIR`` of its own (no shared SQLite file, broker folder or beat schedule). What they share
is what a deployment shares: the PostgreSQL test database, Redis as the broker and as the cache
(``CACHE_URL``: login lockouts and rate limits), and, as docs/scaling.md asks of production, one
storage for uploaded documents (here one ``MEDIA_ROOT`` folder standing for the shared volume or
object store). The SMS file is shared too, but only as the test's observation point: in
production SMS go to the gateway.

One journey, as a load balancer would spread it: an officer logs in on web 1 and the session
works on web 2; a dossier received through the API on web 1 is seen and started on web 2; a
document uploaded on web 1 downloads on web 2; failed logins counted on web 1 lock the account
on web 2; intakes alternating between the two web servers at once get unique codes; the two
workers deliver every message exactly once. The deadline sweep run by two processes at once is
``tests/test_sweep_worker.py``'s (``test_two_sweeping_processes_at_once_flip_and_warn_once``).
Beat is never doubled: there must be exactly one (docs/scaling.md).

PostgreSQL only: on SQLite the two web processes would have to share the database file, which is
the very thing this test rules out.
"""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from dossiers.models import Dossier
from dossiers.tests.factories import intake_payload, office
from portal.choices import MessageChannel, MessageStatus
from portal.models import OutboxMessage
from portal.tests.factories import UserFactory
from procedures.choices import CalendarDayKind
from procedures.deadlines import VN_TZ
from procedures.selectors import procedure_deadline
from tests import test_celery_worker as recipe
from tests.test_celery_worker import ROOT, _logs, _worker_args, celery, stop_group

celery_env = recipe.celery_env
worker_database = recipe.worker_database
migrated_sqlite_file = recipe.migrated_sqlite_file

PASSWORD = "Mat-khau-thu-nghiem-2026"
START_TIMEOUT = 60  # seconds for a web server to answer /health/, a worker to be ready
DELIVERY_TIMEOUT = 90  # seconds for the workers to send every message
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
CONCURRENT_INTAKES = 8


@pytest.fixture
def postgres_only(transactional_db: None) -> None:
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip(
            "needs PostgreSQL: on SQLite two web processes would share the database file, "
            "and sharing nothing but PostgreSQL and Redis is what this test checks"
        )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def _server(port: int, *, env: dict[str, str], log: Path) -> Iterator[str]:
    """gunicorn serving the portal on ``port`` in its own process group; stopped on the way
    out. Yields its base URL once /health/ answers."""
    url = f"http://127.0.0.1:{port}"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                *(sys.executable, "-m", "gunicorn", "portal.wsgi"),
                *("--bind", f"127.0.0.1:{port}", "--workers", "1", "--threads", "4"),
                # Not gunicorn's default control socket in $HOME: one file per machine, and
                # the two servers here would fight over it.
                *("--timeout", "60", "--no-control-socket"),
            ],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + START_TIMEOUT
            while True:
                assert proc.poll() is None, f"the web server stopped\n{_logs(log)}"
                assert time.monotonic() < deadline, f"no answer from {url}\n{_logs(log)}"
                with contextlib.suppress(requests.RequestException):
                    if requests.get(f"{url}/health/", timeout=2).status_code == 200:
                        break
                time.sleep(0.3)
            yield url
        finally:
            stop_group(proc)


def _wait_ready(*logs: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while not all(log.exists() and " ready." in log.read_text(errors="replace") for log in logs):
        assert time.monotonic() < deadline, f"a worker is not ready\n{_logs(*logs)}"
        time.sleep(0.3)


def _token(base: str, username: str, password: str = PASSWORD) -> requests.Response:
    return requests.post(
        f"{base}/api/v1/auth/token/",
        json={"username": username, "password": password},
        timeout=30,
    )


def _logged_in(login_url: str, username: str) -> requests.Session:
    """A browser session logged in through the form at ``login_url`` (the portal's or the
    admin's), with its CSRF cookie and Referer as a browser sends them."""
    browser = requests.Session()
    browser.get(login_url, timeout=30)
    login = browser.post(
        login_url,
        data={
            "username": username,
            "password": PASSWORD,
            "csrfmiddlewaretoken": browser.cookies["csrftoken"],
        },
        headers={"Referer": login_url},
        allow_redirects=False,
        timeout=30,
    )
    assert login.status_code == 302, login.text[:2000]
    return browser


def _api(token: str) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Token {token}"
    return session


def test_two_web_processes_and_two_workers_share_only_postgresql_and_redis(
    postgres_only: None, celery_env: dict, redis_url: str, tmp_path: Path
) -> None:
    # The processes' settings: the recipe's (its own Celery queues) plus a cache key prefix of
    # the test's own (the Redis database is shared with other test runs) and fast hashing.
    (tmp_path / "mp_settings.py").write_text(
        "from ci_celery_settings import *  # noqa: F403\n\n"
        f'CACHES["default"]["KEY_PREFIX"] = {uuid.uuid4().hex!r}  # noqa: F405\n'
        'PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]\n'
    )
    sms_file = tmp_path / "sms.jsonl"
    shared = {
        **celery_env,
        "DJANGO_SETTINGS_MODULE": "mp_settings",
        "DEBUG": "1",  # static files from the finders; no HTTPS redirect on 127.0.0.1
        "ALLOWED_HOSTS": "127.0.0.1",
        "NUM_PROXIES": "0",
        "CACHE_URL": redis_url,
        "MEDIA_ROOT": str(tmp_path / "media"),  # the shared document storage
        "SMS_BACKEND": "file",
        "SMS_FILE": str(sms_file),  # the test's observation point only
        "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend",
        "LOGIN_MAX_FAILURES": "3",
    }

    def own(name: str) -> dict[str, str]:
        (tmp_path / name).mkdir()
        return {**shared, "VAR_DIR": str(tmp_path / name)}

    o = office()
    administrator = UserFactory(is_staff=True, is_superuser=True)
    for user in (o.counter, o.officer, administrator):
        user.set_password(PASSWORD)  # MD5, as the processes' settings expect
        user.save(update_fields=["password"])
    logs = {name: tmp_path / f"{name}.log" for name in ("web1", "web2", "worker1", "worker2")}
    with (
        _server(_free_port(), env=own("web1"), log=logs["web1"]) as web1,
        _server(_free_port(), env=own("web2"), log=logs["web2"]) as web2,
        celery(*_worker_args(), env=own("worker1"), log=logs["worker1"]),
        celery(*_worker_args(), env=own("worker2"), log=logs["worker2"]),
    ):
        _wait_ready(logs["worker1"], logs["worker2"])
        try:
            _journey(o, web1, web2)
            _catalogue_change_seen_by_the_other_process(o, administrator, web1, web2)
            _outbox_delivered_once(sms_file)
        except AssertionError as failure:
            raise AssertionError(f"{failure}\n{_logs(*logs.values())}") from None
    _wait_for_sessions_to_end()


def _wait_for_sessions_to_end(timeout: float = 15) -> None:
    """The stopped processes' PostgreSQL sessions end a moment after them; until they have,
    the test database cannot be dropped at the end of the run."""
    from django.db import connection

    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0] == 0:
                return
            time.sleep(0.2)


def _journey(o, web1: str, web2: str) -> None:
    # A session made on web 1 works on web 2 (sessions live in PostgreSQL). The cookie jar
    # keeps cookies per host, not per port: as a browser behind a load balancer would.
    browser = _logged_in(f"{web1}/login/", o.officer.username)
    worklist = browser.get(f"{web2}/dossiers/", allow_redirects=False, timeout=30)
    assert worklist.status_code == 200, "the session of web 1 is not known to web 2"

    # A dossier received through the API on web 1, seen and started on web 2.
    counter = _api(_token(web1, o.counter.username).json()["token"])
    officer = _api(_token(web2, o.officer.username).json()["token"])
    created = counter.post(f"{web1}/api/v1/dossiers/", json=intake_payload(o), timeout=30)
    assert created.status_code == 201, created.text
    code = created.json()["code"]
    assert officer.get(f"{web2}/api/v1/dossiers/{code}/", timeout=30).status_code == 200
    started = officer.post(f"{web2}/api/v1/dossiers/{code}/actions/start/", json={}, timeout=30)
    assert started.status_code == 200, started.text
    assert started.json()["status"] == "in_progress"
    page = browser.get(f"{web2}/dossiers/{code}/", timeout=30)
    assert page.status_code == 200 and code in page.text

    # A document uploaded on web 1 downloads on web 2 (one shared media storage).
    uploaded = counter.post(
        f"{web1}/api/v1/dossiers/{code}/attachments/",
        files={"file": ("to-khai.pdf", PDF, "application/pdf")},
        timeout=30,
    )
    assert uploaded.status_code == 201, uploaded.text
    download = browser.get(web2 + urlsplit(uploaded.json()["url"]).path, timeout=30)
    assert download.status_code == 200 and download.content == PDF

    # Failed logins count across the web servers (the counters are in Redis): the third, on
    # web 1 again, pauses the account, and the right password is then refused on web 2.
    assert _token(web1, o.officer.username, "wrong").status_code == 400
    assert _token(web2, o.officer.username, "wrong").status_code == 400
    assert _token(web1, o.officer.username, "wrong").status_code == 429
    paused = _token(web2, o.officer.username)
    assert paused.status_code == 429, paused.text

    # Intakes alternating between the two web servers, at once: every code is new.
    bases = [web1, web2] * (CONCURRENT_INTAKES // 2)
    # Read here: a query in the pool's threads would leave their connections open.
    body = intake_payload(o)
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(
            pool.map(
                lambda base: counter.post(f"{base}/api/v1/dossiers/", json=body, timeout=60),
                bases,
            )
        )
    assert [answer.status_code for answer in answers] == [201] * CONCURRENT_INTAKES, [
        answer.text for answer in answers if answer.status_code != 201
    ]
    codes = [code, *(answer.json()["code"] for answer in answers)]
    assert len(set(codes)) == len(codes) == CONCURRENT_INTAKES + 1
    assert sorted(Dossier.objects.values_list("code", flat=True)) == sorted(codes)


def _catalogue_change_seen_by_the_other_process(o, administrator, web1: str, web2: str) -> None:
    """Each web process keeps the catalogue it read (procedures.catalogue_cache): web 2 has
    computed deadlines above; a day off declared in the admin on web 1 counts in web 2's very
    next intake."""
    counter = _api(_token(web2, o.counter.username).json()["token"])
    body = intake_payload(o)
    before = counter.post(f"{web2}/api/v1/dossiers/", json=body, timeout=30)
    assert before.status_code == 201, before.text
    received = datetime.fromisoformat(before.json()["received_at"]).astimezone(VN_TZ).date()
    day_off = received + timedelta(days=1)
    while day_off.weekday() >= 5:
        day_off += timedelta(days=1)

    admin = _logged_in(f"{web1}/admin/login/", administrator.username)
    add_url = f"{web1}/admin/procedures/calendarday/add/"
    admin.get(add_url, timeout=30)
    added = admin.post(
        add_url,
        data={
            "date": day_off.strftime("%d/%m/%Y"),
            "kind": CalendarDayKind.DAY_OFF,
            "name": "Nghỉ đột xuất do bão",
            "unit": "",
            "_save": "1",
            "csrfmiddlewaretoken": admin.cookies["csrftoken"],
        },
        headers={"Referer": add_url},
        allow_redirects=False,
        timeout=30,
    )
    assert added.status_code == 302, added.text[:3000]

    after = counter.post(f"{web2}/api/v1/dossiers/", json=body, timeout=30)
    assert after.status_code == 201, after.text
    dossier = Dossier.objects.select_related("procedure", "unit").get(code=after.json()["code"])
    expected = procedure_deadline(
        procedure=dossier.procedure, unit=dossier.unit, received_at=dossier.received_at
    )
    assert dossier.due_at == expected.due_at
    assert "Nghỉ đột xuất do bão" in json.dumps(dossier.deadline_trace, ensure_ascii=False)
    first = Dossier.objects.get(code=before.json()["code"])  # moved by the admin's change
    assert "Nghỉ đột xuất do bão" in json.dumps(first.deadline_trace, ensure_ascii=False)


def _outbox_delivered_once(sms_file: Path) -> None:
    """Both workers take delivery runs from the one notifications queue; each message is
    claimed by one of them and sent once."""
    deadline = time.monotonic() + DELIVERY_TIMEOUT
    messages = list(OutboxMessage.objects.values("channel", "status", "attempts", "key"))
    while time.monotonic() < deadline:
        messages = list(OutboxMessage.objects.values("channel", "status", "attempts", "key"))
        if messages and all(m["status"] == MessageStatus.SENT for m in messages):
            break
        time.sleep(0.5)
    unsent = [m for m in messages if m["status"] != MessageStatus.SENT]
    assert messages and not unsent, f"not delivered within {DELIVERY_TIMEOUT} s: {unsent}"
    assert {m["attempts"] for m in messages} == {1}
    sent_sms = [json.loads(line) for line in sms_file.read_text(encoding="utf-8").splitlines()]
    keys = [sms["key"] for sms in sent_sms]
    expected = {m["key"] for m in messages if m["channel"] == MessageChannel.SMS}
    assert len(keys) == len(set(keys)), "an SMS was sent twice"
    assert set(keys) == expected
    assert len(expected) >= CONCURRENT_INTAKES + 1  # one per intake at least
