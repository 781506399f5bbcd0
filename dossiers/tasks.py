from celery import shared_task
from django.db import OperationalError
from django.utils import timezone

from .services.access_log import purge_access_log
from .services.digest import send_manager_digest
from .services.sweep import sweep_deadlines


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def sweep_deadlines_task() -> dict:
    """One sweep of the deadline worker (beat runs it every SWEEP_INTERVAL_SECONDS)."""
    result = sweep_deadlines(now=timezone.now())
    return {"overdue": result.overdue, "due_soon": result.due_soon, "warnings": result.warnings}


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def send_manager_digest_task() -> int:
    """The managers' morning digest (beat runs it at DIGEST_HOUR:DIGEST_MINUTE)."""
    return send_manager_digest(now=timezone.now())


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def purge_access_log_task() -> int:
    """Delete access-log rows older than ACCESS_LOG_RETENTION_DAYS (beat runs it daily)."""
    return purge_access_log(now=timezone.now())
