"""A real Celery worker (and beat), in their own processes, on a real Redis and a real database.

Which database the worker writes to, and how the test reads it back:

* PostgreSQL: the test database pytest-django created (``test_…``), as is. Its name and
  credentials come from ``connection.settings_dict`` after the test database exists. The test
  uses ``transactional_db`` so nothing sits in an uncommitted test transaction, and reads the
  worker's rows through the ORM.
* SQLite: pytest-django's test database lives in this process's memory and cannot be shared, so
  the worker gets its own SQLite file, migrated once per module by ``manage.py migrate`` in a
  subprocess; the test reads that file with the ``sqlite3`` module.

Either way the worker is configured only through the environment, as in production
(DATABASE_URL, CELERY_BROKER_URL, CELERY_RESULT_BACKEND, VAR_DIR), and the task is queued by
a separate process with ``heartbeat_task.delay()`` too, so this test process's own Celery app
(configured with the embedded broker when it was imported) plays no part. The worker and beat
are always stopped, with their whole process group, before the test ends.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from urllib.parse import quote

import pytest

ROOT = Path(__file__).resolve().parent.parent
TASK_TIMEOUT = 60  # seconds for the queued task's result
BEAT_TIMEOUT = 30  # seconds for beat → broker → worker → database

# The producer: what the web process does, in its own process, configured by the environment.
PRODUCER = """
import sys
import django

django.setup()
from portal.tasks import heartbeat_task

print(heartbeat_task.delay(sys.argv[1]).get(timeout=int(sys.argv[2])))
"""


@dataclass(frozen=True)
class WorkerDatabase:
    url: str  # DATABASE_URL for the worker's process
    heartbeat_at: Callable[[str], datetime | None]  # when the named heartbeat was recorded


def _postgres_url(settings_dict: dict) -> str:
    user = quote(settings_dict.get("USER") or "", safe="")
    password = quote(settings_dict.get("PASSWORD") or "", safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = quote(settings_dict.get("HOST") or "", safe="")  # a socket directory is %2F-quoted
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    return f"postgres://{auth}{host}{port}/{quote(settings_dict['NAME'], safe='')}"


def _orm_heartbeat_at(name: str) -> datetime | None:
    from portal.models import Heartbeat

    return Heartbeat.objects.filter(name=name).values_list("at", flat=True).first()


def _sqlite_heartbeat_at(path: Path, name: str) -> datetime | None:
    from portal.models import Heartbeat

    with sqlite3.connect(path, timeout=20) as db:
        row = db.execute(
            f'SELECT "at" FROM "{Heartbeat._meta.db_table}" WHERE "name" = ?',
            [name],
        ).fetchone()
    # Django keeps SQLite datetimes as naive UTC text.
    return datetime.fromisoformat(row[0]).replace(tzinfo=UTC) if row else None


def _base_env(tmp_path: Path, *, database_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("SECRET_KEY", "test-only-insecure-secret-key")
    env.update(
        DATABASE_URL=database_url,
        VAR_DIR=str(tmp_path),  # broker folders and beat's schedule stay out of the repository
        PYTHONUNBUFFERED="1",
        CELERY_TASK_ALWAYS_EAGER="0",
    )
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set for Playwright in this process only
    return env


@pytest.fixture(scope="module")
def migrated_sqlite_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("worker-db")
    path = directory / "worker.sqlite3"
    env = _base_env(directory, database_url=f"sqlite:///{path}")
    result = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, f"migrate failed:\n{result.stdout}\n{result.stderr}"
    return path


@pytest.fixture
def worker_database(request: pytest.FixtureRequest, transactional_db: None) -> WorkerDatabase:
    # transactional_db on both backends (pytest-django only sees it when requested statically).
    # On PostgreSQL it makes the test database exist (NAME is now test_…) and keeps no
    # transaction open; on SQLite it is unused but cheap.
    from django.db import connection

    if connection.vendor == "postgresql":
        return WorkerDatabase(_postgres_url(connection.settings_dict), _orm_heartbeat_at)
    if connection.vendor == "sqlite":
        path = request.getfixturevalue("migrated_sqlite_file")
        return WorkerDatabase(f"sqlite:///{path}", partial(_sqlite_heartbeat_at, path))
    pytest.skip(f"no worker database recipe for {connection.vendor}")


@pytest.fixture
def celery_env(
    redis_url: str, worker_database: WorkerDatabase, tmp_path: Path
) -> Iterator[dict[str, str]]:
    """Environment for worker, beat and producer: Redis, the worker's database, a queue of its own.

    The queue is unique to the test, so that test runs sharing a Redis (two developers, or the
    SQLite and PostgreSQL runs) never run each other's tasks, and leftovers of an interrupted
    run cannot make the beat test pass without beat. Settings only read the queue name from
    Django settings, so the processes get a settings module of their own: the project's plus
    CELERY_TASK_DEFAULT_QUEUE.
    """
    import redis

    queue = f"ci-{uuid.uuid4().hex}"
    (tmp_path / "ci_celery_settings.py").write_text(
        f"from portal.settings import *  # noqa: F403\n\nCELERY_TASK_DEFAULT_QUEUE = {queue!r}\n"
    )
    env = _base_env(tmp_path, database_url=worker_database.url)
    env.update(
        CELERY_BROKER_URL=redis_url,
        CELERY_RESULT_BACKEND=redis_url,
        DJANGO_SETTINGS_MODULE="ci_celery_settings",
        PYTHONPATH=os.pathsep.join(p for p in (str(tmp_path), env.get("PYTHONPATH")) if p),
    )
    yield env
    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=f"*{queue}*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@contextmanager
def celery(*args: str, env: dict[str, str], log: Path) -> Iterator[subprocess.Popen]:
    """Run `celery -A portal ARGS…` in its own process group; always stop it on the way out."""
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "portal", *args],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield proc
        finally:
            stop_group(proc)
            proc.wait(timeout=10)


def stop_group(proc: subprocess.Popen) -> None:
    """Stop a process started with ``start_new_session=True`` and everything it started:
    SIGTERM, then SIGKILL if it has not ended within its grace time."""
    for sig, grace in ((signal.SIGTERM, 15), (signal.SIGKILL, 10)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(timeout=grace)
            break
        except subprocess.TimeoutExpired:
            continue


def _worker_args() -> list[str]:
    name = f"ci-{uuid.uuid4().hex[:8]}@%h"
    return ["worker", "--pool", "solo", "-l", "info", "-n", name, "--without-mingle"]


def _logs(*paths: Path) -> str:
    parts = []
    for path in paths:
        text = path.read_text(errors="replace") if path.exists() else "(no output)"
        parts.append(f"--- {path.name} (last 4000 characters) ---\n{text[-4000:]}")
    return "\n".join(parts)


def test_worker_runs_a_queued_task_and_writes_to_the_database(
    celery_env: dict, worker_database: WorkerDatabase, tmp_path: Path
) -> None:
    worker_log = tmp_path / "worker.log"
    with celery(*_worker_args(), env=celery_env, log=worker_log):
        producer = subprocess.run(
            [sys.executable, "-c", PRODUCER, "ci-worker", str(TASK_TIMEOUT)],
            cwd=ROOT,
            env=celery_env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=TASK_TIMEOUT + 60,
        )
    assert producer.returncode == 0, (
        f"the task did not complete:\n{producer.stdout}\n{producer.stderr}\n{_logs(worker_log)}"
    )
    returned = datetime.fromisoformat(producer.stdout.strip().splitlines()[-1])
    recorded = worker_database.heartbeat_at("ci-worker")
    assert recorded is not None, "no 'ci-worker' heartbeat row in the worker's database"
    assert recorded == returned


def test_beat_schedules_the_heartbeat_that_the_worker_records(
    celery_env: dict, worker_database: WorkerDatabase, tmp_path: Path
) -> None:
    env = {**celery_env, "HEARTBEAT_INTERVAL_SECONDS": "1"}
    worker_log, beat_log = tmp_path / "worker.log", tmp_path / "beat.log"
    started = datetime.now(UTC)
    recorded = None
    with (
        celery(*_worker_args(), env=env, log=worker_log) as worker,
        celery(
            "beat", "-l", "info", "-s", str(tmp_path / "schedule"), env=env, log=beat_log
        ) as beat,
    ):
        deadline = time.monotonic() + BEAT_TIMEOUT
        while time.monotonic() < deadline and worker.poll() is None and beat.poll() is None:
            recorded = worker_database.heartbeat_at("worker")
            if recorded is not None and recorded >= started:
                break
            time.sleep(0.5)
    assert recorded is not None and recorded >= started, (
        f"no fresh 'worker' heartbeat within {BEAT_TIMEOUT} s\n{_logs(worker_log, beat_log)}"
    )
