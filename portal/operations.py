"""The operations page: is the background work keeping up? For administrators."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Min, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from .choices import MessageStatus
from .models import Heartbeat, OutboxMessage


def broker_queue_length() -> int | None:
    """Tasks waiting in the broker's default queue, or None when it cannot be read."""
    url = settings.CELERY_BROKER_URL
    try:
        if url.startswith("redis"):
            import redis

            client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
            return int(client.llen("celery"))
        if url.startswith("filesystem"):
            from pathlib import Path

            folder = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"])
            return sum(1 for _ in folder.glob("*.msg"))
    except Exception:  # the page must render with the broker down: that is when it matters
        return None
    return None


def operations_overview(now) -> dict:
    from dossiers.choices import OPEN_STATUSES
    from dossiers.models import Dossier
    from reports.services import closing_status

    beats = {beat.name: beat for beat in Heartbeat.objects.all()}
    outbox = OutboxMessage.objects.aggregate(
        pending=Count("id", filter=Q(status__in=[MessageStatus.PENDING, MessageStatus.SENDING])),
        failed=Count("id", filter=Q(status=MessageStatus.FAILED)),
        oldest=Min("created_at", filter=Q(status=MessageStatus.PENDING)),
    )
    no_due = Dossier.objects.filter(status__in=OPEN_STATUSES, due_at__isnull=True)
    worker = beats.get("worker")
    return {
        "beats": beats,
        "worker_alive": bool(worker and now - worker.at < timedelta(minutes=5)),
        "sweep": beats.get("sweep"),
        "queue_length": broker_queue_length(),
        "outbox": outbox,
        "failed_messages": OutboxMessage.objects.filter(status=MessageStatus.FAILED)[:20],
        "closing": closing_status(today=timezone.localdate(now)),
        "no_due_count": no_due.count(),
        "no_due": no_due.select_related("unit", "procedure").order_by("received_at")[:50],
    }


@login_required
def operations(request: HttpRequest) -> HttpResponse:
    # The page is system-wide (every unit's failed messages and dossiers without a due date):
    # for the portal's administrators (superusers), not a unit's.
    if not request.user.is_superuser:
        raise PermissionDenied
    now = timezone.now()
    return render(request, "portal/operations.html", {"now": now, **operations_overview(now)})
