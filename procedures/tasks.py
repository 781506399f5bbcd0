from celery import shared_task
from django.conf import settings
from django.db import OperationalError
from django.utils import timezone

from .services import seed_holidays


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def seed_holidays_task() -> int:
    """Keep the public holidays of the coming years in the calendar (idempotent)."""
    year = timezone.localdate().year
    years = range(
        year - settings.HOLIDAY_SEED_YEARS_BACK, year + settings.HOLIDAY_SEED_YEARS_AHEAD + 1
    )
    return seed_holidays(years=years).created
