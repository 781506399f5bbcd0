import socket

from celery import shared_task
from django.db import OperationalError
from django.utils import timezone

from .services import deliver_outbox, purge_outbox, record_heartbeat


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def heartbeat_task(name: str = "worker") -> str:
    """Prove that a worker picks tasks up: beat queues it, the worker records when it ran."""
    beat = record_heartbeat(name=name, at=timezone.now(), detail=socket.gethostname())
    return beat.at.isoformat()


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def deliver_outbox_task() -> dict:
    """Send what the outbox holds that is due. Safe to run twice or at once: each message is
    claimed by one run."""
    result = deliver_outbox(now=timezone.now())
    return {"sent": result.sent, "retried": result.retried, "failed": result.failed}


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def purge_outbox_task() -> int:
    """Delete the messages sent or given up more than OUTBOX_RETENTION_DAYS ago (beat runs it
    daily)."""
    return purge_outbox(now=timezone.now())
