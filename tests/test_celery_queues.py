"""Celery queues (issue 8): sweeps and exports never delay a notification.

The routing table sends each task to its queue (:mod:`portal.queues`); with real processes on
Redis, a worker that consumes only the notifications queue delivers an intake's messages while a
deadline sweep waits on its own queue, which no worker consumes. The worker recipe (a real
worker on Redis and a real database, its own queue names) is ``tests/test_celery_worker.py``'s.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from portal.celery import app
from portal.choices import MessageChannel, MessageStatus
from portal.queues import DEFAULT_QUEUE_TASKS, TASK_QUEUES, queue_name
from tests import test_celery_worker as recipe
from tests.test_celery_worker import ROOT, WorkerDatabase, _logs, _worker_args, celery
from tests.test_outbox_worker import WEB, _outbox, _run

celery_env = recipe.celery_env
worker_database = recipe.worker_database
migrated_sqlite_file = recipe.migrated_sqlite_file

DELIVERY_TIMEOUT = 60

EXPECTED = {
    "portal.tasks.deliver_outbox_task": "notifications",
    "portal.tasks.heartbeat_task": "celery",
    "dossiers.tasks.sweep_deadlines_task": "deadlines",
    "reports.tasks.close_periods_task": "deadlines",
    "dossiers.tasks.send_manager_digest_task": "bulk",
    "dossiers.tasks.purge_access_log_task": "bulk",
    "portal.tasks.purge_outbox_task": "bulk",
    "procedures.tasks.seed_holidays_task": "bulk",
}


def _queue_of(name: str) -> str:
    return app.amqp.router.route({}, name, (), {})["queue"].name


@pytest.mark.parametrize(("task", "queue"), sorted(EXPECTED.items()))
def test_each_task_runs_on_its_queue(task, queue):
    assert _queue_of(task) == queue


def test_every_task_of_the_project_has_a_queue_chosen():
    # A new task must be placed on purpose: on the default queue it would share the
    # notifications pool.
    app.loader.import_default_modules()
    ours = {name for name in app.tasks if not name.startswith("celery.")}
    assert ours == set(TASK_QUEUES) | set(DEFAULT_QUEUE_TASKS) == set(EXPECTED)


def test_a_worker_without_q_consumes_every_queue():
    assert {q.name for q in app.amqp.queues.values()} == {
        "celery",
        "notifications",
        "deadlines",
        "bulk",
    }


def test_queues_are_named_after_a_renamed_default_queue():
    assert queue_name("notifications") == "notifications"
    assert queue_name("notifications", "ci-1") == "ci-1.notifications"
    assert queue_name("celery", "ci-1") == "ci-1"


def test_beat_schedule_names_only_routed_tasks(settings):
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert scheduled <= set(EXPECTED)


# --- Real processes -----------------------------------------------------------------------------

# A beat tick's worth of sweeps, queued before the intake: they wait on the deadlines queue.
SWEEPS = """
import django

django.setup()
from dossiers.tasks import sweep_deadlines_task

for _ in range(int(__import__("sys").argv[1])):
    sweep_deadlines_task.delay()
"""


def test_notifications_are_delivered_while_sweeps_wait_on_their_own_queue(
    celery_env: dict, worker_database: WorkerDatabase, redis_url: str, tmp_path: Path
) -> None:
    import redis

    default = _default_queue(tmp_path)
    env = {
        **celery_env,
        "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend",
        "SMS_BACKEND": "file",
        "SMS_FILE": str(tmp_path / "sms.jsonl"),
    }
    sweeps = subprocess.run(
        [sys.executable, "-c", SWEEPS, "3"],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert sweeps.returncode == 0, sweeps.stderr
    client = redis.Redis.from_url(redis_url)
    deadlines = queue_name("deadlines", default)
    try:
        assert client.llen(deadlines) == 3
        worker_log = tmp_path / "worker.log"
        notifications = queue_name("notifications", default)
        with celery(*_worker_args(), "-Q", notifications, env=env, log=worker_log) as worker:
            web = _run(WEB, env)
            assert web.returncode == 0, f"the intake failed:\n{web.stdout}\n{web.stderr}"
            code = json.loads(web.stdout.strip().splitlines()[-1])["code"]
            deadline = time.monotonic() + DELIVERY_TIMEOUT
            messages: list[dict] = []
            while time.monotonic() < deadline and worker.poll() is None:
                messages = _outbox(worker_database, code)
                if messages and all(m["status"] == MessageStatus.SENT for m in messages):
                    break
                time.sleep(0.5)
        assert [(m["channel"], m["status"]) for m in messages] == [
            (MessageChannel.EMAIL, MessageStatus.SENT),
            (MessageChannel.SMS, MessageStatus.SENT),
        ], f"not delivered within {DELIVERY_TIMEOUT} s\n{_logs(worker_log)}"
        # The sweeps were never taken by the notifications worker: still queued, all three.
        assert client.llen(deadlines) == 3
        assert "sweep_deadlines_task[" not in worker_log.read_text(errors="replace")
    finally:
        client.close()


def _default_queue(tmp_path: Path) -> str:
    """The test's own default queue, as the recipe wrote it into the processes' settings."""
    text = (tmp_path / "ci_celery_settings.py").read_text()
    return text.split("CELERY_TASK_DEFAULT_QUEUE = ", 1)[1].strip().strip("'\"")
