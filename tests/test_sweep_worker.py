"""The deadline sweep in real processes: beat → Redis → worker → database → outbox → delivered,
and a sweeping process killed half-way leaves nothing behind.

The worker recipe is ``test_celery_worker``'s (its database sharing on SQLite and PostgreSQL,
its Redis fixture that skips, or fails with REQUIRE_REDIS=1, and its process handling). Every
process here is configured through the environment only, and the test reads the shared
database with plain SQL, the same on both backends.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from tests import test_celery_worker as recipe
from tests.test_celery_worker import ROOT, WorkerDatabase, _logs, _worker_args, celery

celery_env = recipe.celery_env
worker_database = recipe.worker_database
migrated_sqlite_file = recipe.migrated_sqlite_file

_SETUPS = itertools.count(1)
SWEEP_TIMEOUT = 30  # seconds for beat → worker → sweep → outbox → sent

# A dossier received, assigned to an officer and watched by a manager (both with e-mail), whose
# due moment has already passed: its due_at is moved an hour back in the database.
SETUP = """
import json
import sys
from datetime import timedelta

import django

django.setup()
from django.utils import timezone

from dossiers import services
from dossiers.models import Dossier
from dossiers.tests.factories import office, received
from portal.tests.factories import UnitFactory, UserFactory
from procedures.tests.factories import DocumentFactory, FieldFactory, ProcedureFactory

# Several setups share one database file on SQLite: start the factories' numbering apart.
for factory in (UnitFactory, UserFactory, FieldFactory, ProcedureFactory, DocumentFactory):
    factory.reset_sequence(int(sys.argv[1]))
o = office()
for user in (o.officer, o.manager):
    user.email = f"{user.username}@motcua.example"
    user.save()
dossiers = [received(o) for _ in range(int(sys.argv[2]))]
for dossier in dossiers:
    services.start_processing(dossier=dossier, by=o.officer)
Dossier.objects.filter(pk__in=[d.pk for d in dossiers]).update(
    due_at=timezone.now() - timedelta(hours=1)
)
print(json.dumps([{"id": d.pk, "code": d.code} for d in dossiers]))
"""

# A sweep that stops inside its transaction, after the UPDATE, until it is killed.
STUCK_SWEEP = """
import sys
import time

import django

django.setup()
from django.utils import timezone

from dossiers.services import sweep

def stuck(*args, **kwargs):
    print("inside the transaction", flush=True)
    time.sleep(120)

sweep._record = stuck
sweep.sweep_deadlines(now=timezone.now())
"""

SWEEP = """
import json
import sys
import time

import django

django.setup()
from django.utils import timezone

from dossiers.services.sweep import sweep_deadlines

if len(sys.argv) > 1:  # start at this wall-clock moment, together with another process
    time.sleep(max(0.0, float(sys.argv[1]) - time.time()))
result = sweep_deadlines(now=timezone.now())
print(json.dumps({"overdue": result.overdue, "warnings": result.warnings}))
"""


def _run(
    script: str, env: dict[str, str], *args: str, timeout: int = 60
) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-c", script, *args],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    return result


def _setup(env: dict[str, str], count: int = 1) -> list[dict]:
    """Run SETUP; the overdue dossiers' ids and codes."""
    offset = str(100 * next(_SETUPS))  # units' codes differ in their hundreds
    return json.loads(_run(SETUP, env, offset, str(count)).stdout.strip().splitlines()[-1])


def _query(database: WorkerDatabase, sql: str, params: list) -> list[tuple]:
    """Rows of ``sql`` (with ``%s`` placeholders) read from the worker's database."""
    if database.url.startswith("sqlite:///"):
        path = database.url.removeprefix("sqlite:///")
        with contextlib.closing(sqlite3.connect(path, timeout=20)) as db:
            return db.execute(sql.replace("%s", "?"), params).fetchall()
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _state(database: WorkerDatabase, dossier: dict) -> dict:
    """What the sweep changes about ``dossier``: its timeliness, its overdue events, and the
    overdue warnings in the outbox (recipient, status)."""
    from dossiers.models import Dossier, DossierEvent
    from portal.models import OutboxMessage

    [(timeliness,)] = _query(
        database,
        f'SELECT "timeliness" FROM "{Dossier._meta.db_table}" WHERE "id" = %s',
        [dossier["id"]],
    )
    [(events,)] = _query(
        database,
        f'SELECT COUNT(*) FROM "{DossierEvent._meta.db_table}" '
        'WHERE "dossier_id" = %s AND "action" = %s',
        [dossier["id"], "overdue"],
    )
    warnings = _query(
        database,
        f'SELECT "recipient", "status" FROM "{OutboxMessage._meta.db_table}" '
        'WHERE "reference" = %s AND "key" LIKE %s ORDER BY "recipient"',
        [dossier["code"], "overdue:%"],
    )
    return {"timeliness": timeliness, "events": events, "warnings": warnings}


def _delivery_env(env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    return {
        **env,
        "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend",
        "SMS_BACKEND": "file",
        "SMS_FILE": str(tmp_path / "sms.jsonl"),
    }


def test_beat_and_worker_flag_an_overdue_dossier_and_warn_once(
    celery_env: dict, worker_database: WorkerDatabase, tmp_path: Path
) -> None:
    env = {
        **_delivery_env(celery_env, tmp_path),
        "SWEEP_INTERVAL_SECONDS": "1",
        "OUTBOX_INTERVAL_SECONDS": "1",
    }
    [dossier] = _setup(env)
    assert _state(worker_database, dossier) == {
        "timeliness": "in_time",
        "events": 0,
        "warnings": [],
    }

    worker_log, beat_log = tmp_path / "worker.log", tmp_path / "beat.log"
    state: dict = {}
    with (
        celery(*_worker_args(), env=env, log=worker_log) as worker,
        celery(
            "beat", "-l", "info", "-s", str(tmp_path / "schedule"), env=env, log=beat_log
        ) as beat,
    ):
        deadline = time.monotonic() + SWEEP_TIMEOUT
        while time.monotonic() < deadline and worker.poll() is None and beat.poll() is None:
            state = _state(worker_database, dossier)
            if len(state["warnings"]) >= 2 and all(s == "sent" for _, s in state["warnings"]):
                time.sleep(2.5)  # a few more sweeps: they must add nothing
                state = _state(worker_database, dossier)
                break
            time.sleep(0.5)
    officer_and_manager = sorted(r for r, _ in state.get("warnings", []))
    assert state == {
        "timeliness": "overdue",
        "events": 1,
        "warnings": [(recipient, "sent") for recipient in officer_and_manager],
    }, f"{state}\n{_logs(worker_log, beat_log)}"
    assert len(officer_and_manager) == 2
    assert all(r.endswith("@motcua.example") for r in officer_and_manager)
    assert f"To: {officer_and_manager[0]}" in worker_log.read_text(errors="replace")


def test_a_sweep_killed_inside_its_transaction_leaves_nothing_and_the_next_one_completes(
    worker_database: WorkerDatabase, tmp_path: Path
) -> None:
    env = recipe._base_env(tmp_path, database_url=worker_database.url)
    env["CELERY_TASK_ALWAYS_EAGER"] = "1"  # no broker here: after-commit asks run in process
    env = _delivery_env(env, tmp_path)
    [dossier] = _setup(env)

    stuck = subprocess.Popen(
        [sys.executable, "-c", STUCK_SWEEP],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        line = stuck.stdout.readline() if stuck.stdout else ""
        assert line.strip() == "inside the transaction", stuck.stderr.read() if stuck.stderr else ""
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(stuck.pid, signal.SIGKILL)
        stuck.wait(timeout=10)
    assert stuck.returncode == -signal.SIGKILL

    # The UPDATE it had made is gone with its transaction: no flip, no event, no warning.
    assert _state(worker_database, dossier) == {
        "timeliness": "in_time",
        "events": 0,
        "warnings": [],
    }

    # The next sweep is not blocked by the dead one's lock (SQLite's journal, PostgreSQL's
    # advisory lock) and does the whole job, once.
    started = time.monotonic()
    result = json.loads(_run(SWEEP, env, timeout=40).stdout.strip().splitlines()[-1])
    elapsed = time.monotonic() - started
    assert elapsed < 15, f"the next sweep waited {elapsed:.1f} s for the dead one's lock"
    assert result["overdue"] >= 1 and result["warnings"] >= 2
    state = _state(worker_database, dossier)
    assert (state["timeliness"], state["events"], len(state["warnings"])) == ("overdue", 1, 2)
    assert json.loads(_run(SWEEP, env).stdout.strip().splitlines()[-1])["overdue"] == 0
    assert _state(worker_database, dossier)["events"] == 1


def test_two_sweeping_processes_at_once_flip_and_warn_once(
    worker_database: WorkerDatabase, tmp_path: Path
) -> None:
    """Two OS processes, each with its own connection, sweep at the same wall-clock moment:
    every dossier flips once, with one event and one warning per person, whoever wins."""
    env = recipe._base_env(tmp_path, database_url=worker_database.url)
    env["CELERY_TASK_ALWAYS_EAGER"] = "1"
    env = _delivery_env(env, tmp_path)
    dossiers = _setup(env, count=12)

    start_at = str(time.time() + 4)  # both processes are set up and waiting by then
    sweepers = [
        subprocess.Popen(
            [sys.executable, "-c", SWEEP, start_at],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [sweeper.communicate(timeout=60) for sweeper in sweepers]
    for sweeper, (out, err) in zip(sweepers, outputs, strict=True):
        assert sweeper.returncode == 0, f"{out}\n{err}"
    results = [json.loads(out.strip().splitlines()[-1]) for out, _err in outputs]
    assert sorted(r["overdue"] for r in results) == [0, 12]
    for dossier in dossiers:
        state = _state(worker_database, dossier)
        assert (state["timeliness"], state["events"]) == ("overdue", 1), state
    # The officer and the manager got one grouped warning each, naming every dossier.
    from portal.models import OutboxMessage

    warnings = _query(  # on SQLite, earlier tests' setups share the database file
        worker_database,
        f'SELECT "recipient", "body" FROM "{OutboxMessage._meta.db_table}" '
        'WHERE "key" LIKE %s AND "body" LIKE %s',
        ["overdue:%", f"%{dossiers[0]['code']}%"],
    )
    assert len(warnings) == 2 and len({recipient for recipient, _body in warnings}) == 2
    for _recipient, body in warnings:
        assert all(dossier["code"] in body for dossier in dossiers)
