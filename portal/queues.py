"""Celery queues: which task runs on which queue, so that sweeps and exports never delay a
notification (docs/scaling.md).

``notifications``  the outbox delivery (e-mail, SMS): short, and someone is waiting for it.
``deadlines``      the deadline sweep and the closing of report periods: one set-based run each,
                   which may take a while on a big database.
``bulk``           long jobs that nobody waits for: the managers' digest, the access-log purge,
                   the holiday seeding (and exports or imports, when one runs as a task).
``celery``         the default queue: everything else (the heartbeat).

Production runs one worker pool on ``notifications,celery`` and another on ``deadlines,bulk``;
``dev.py run`` runs one worker on all four. A worker started without ``-Q`` consumes all four
too (they are declared, :func:`declare_queues`).

The queues are named after the default queue: with ``celery`` (Celery's default and ours) they
are ``notifications``, ``deadlines`` and ``bulk``; with another default queue ``q`` they are
``q.notifications`` and so on. Two installations sharing one Redis database (the tests do, each
with a queue of its own) then never take each other's tasks.
"""

from __future__ import annotations

from typing import Any

from kombu import Exchange, Queue

DEFAULT_QUEUE = "celery"
NOTIFICATIONS, DEADLINES, BULK = "notifications", "deadlines", "bulk"
QUEUES = (NOTIFICATIONS, DEADLINES, BULK)

# Every task of the project but the heartbeat, by name (the heartbeat stays on the default
# queue: light, and a sign that the notifications pool is alive). A new task goes here;
# tests/test_celery_queues.py fails until it does.
TASK_QUEUES = {
    "portal.tasks.deliver_outbox_task": NOTIFICATIONS,
    "dossiers.tasks.sweep_deadlines_task": DEADLINES,
    "reports.tasks.close_periods_task": DEADLINES,
    "dossiers.tasks.send_manager_digest_task": BULK,
    "dossiers.tasks.purge_access_log_task": BULK,
    "portal.tasks.purge_outbox_task": BULK,
    "procedures.tasks.seed_holidays_task": BULK,
}
DEFAULT_QUEUE_TASKS = ("portal.tasks.heartbeat_task",)


def queue_name(queue: str, default_queue: str = DEFAULT_QUEUE) -> str:
    """The broker's name of ``queue`` for an installation whose default queue is
    ``default_queue``."""
    if queue == DEFAULT_QUEUE:
        return default_queue
    return queue if default_queue == DEFAULT_QUEUE else f"{default_queue}.{queue}"


def route_task(
    name: str, args: Any, kwargs: Any, options: Any, task: Any = None, **extra: Any
) -> dict[str, str] | None:
    """Celery's router (CELERY_TASK_ROUTES): the queue of a task, None for the default."""
    queue = TASK_QUEUES.get(name)
    if queue is None:
        return None
    from celery import current_app

    app = task.app if task is not None else current_app
    return {"queue": queue_name(queue, app.conf.task_default_queue)}


def declare_queues(sender: Any = None, source: Any = None, **extra: Any) -> None:
    """Declare the four queues once Celery has read its settings, so that a worker without
    ``-Q`` consumes them all (connected to ``Celery.on_after_configure``)."""
    if source is None or source.task_queues:
        return  # set explicitly: that wins
    default = source.task_default_queue
    names = [default, *(queue_name(queue, default) for queue in QUEUES)]
    source.task_queues = [Queue(name, Exchange(name), routing_key=name) for name in names]
