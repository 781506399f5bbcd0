from celery import shared_task
from django.db import OperationalError
from django.utils import timezone

from .services import close_due_periods


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def close_periods_task() -> list[str]:
    """Freeze the statutory months whose closing day has come; safe to run twice or at once."""
    return close_due_periods(now=timezone.now()).closed
