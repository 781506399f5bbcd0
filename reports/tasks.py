from celery import shared_task
from django.db import OperationalError
from django.utils import timezone

from portal.services import record_heartbeat

from .services import close_due_periods


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def close_periods_task() -> list[str]:
    """Freeze the statutory months whose closing day has come; safe to run twice or at once."""
    now = timezone.now()
    result = close_due_periods(now=now)
    record_heartbeat(
        name="close-periods",
        at=now,
        detail=f"closed={','.join(result.closed) or '-'} already={result.already_closed}",
    )
    return result.closed
