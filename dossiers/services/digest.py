"""The managers' morning digest: one e-mail a working day to each manager with what needs their
attention in their units' subtrees. Sent once a day per manager (the outbox key), skipped on
weekends and holidays of the national calendar and for managers with nothing to report."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from portal.choices import MessageChannel, Role
from portal.models import Membership
from portal.services import enqueue_message
from procedures.deadlines import WorkingCalendar
from procedures.selectors import effective_calendar_days

from ..choices import OPEN_STATUSES, Status, Timeliness
from ..models import Dossier
from ..selectors import overdue_rows, with_current_timeliness
from .sweep import _due_soon_horizon

TOP_OVERDUE = 10
_COUNTS = ("overdue", "due_soon", "submitted", "supplement", "received_yesterday")


@dataclass
class Digest:
    overdue: int = 0
    due_soon: int = 0
    submitted: int = 0
    supplement: int = 0
    received_yesterday: int = 0
    most_overdue: list[str] = field(default_factory=list)

    def is_empty(self) -> bool:
        return not any(getattr(self, name) for name in _COUNTS)


def _is_national_working_day(now: datetime) -> bool:
    today = timezone.localdate(now)
    days = effective_calendar_days(unit=None, start=today, end=today)
    calendar = WorkingCalendar(
        days_off={d.date: d.name for d in days if d.kind != "working_day"},
        extra_working_days={d.date: d.name for d in days if d.kind == "working_day"},
    )
    return calendar.is_working_day(today)


def _unit_counts(now: datetime) -> dict[str, dict[str, int]]:
    """Each unit's counts (by unit path), from one grouped query."""
    tz = timezone.get_current_timezone()
    today = datetime.combine(timezone.localdate(now), datetime.min.time(), tzinfo=tz)
    yesterday = today - timedelta(days=1)
    running = Q(status__in=OPEN_STATUSES, paused_at__isnull=True)
    rows = (
        with_current_timeliness(Dossier.objects.all(), now)
        .order_by()
        .values("unit__path")
        .annotate(
            overdue=Count(
                "pk", filter=Q(status__in=OPEN_STATUSES, current_timeliness=Timeliness.OVERDUE)
            ),
            due_soon=Count(
                "pk", filter=running & Q(due_at__gte=now, due_at__lte=_due_soon_horizon(now))
            ),
            submitted=Count("pk", filter=Q(status=Status.SUBMITTED)),
            supplement=Count("pk", filter=Q(status=Status.SUPPLEMENT_REQUESTED)),
            received_yesterday=Count(
                "pk", filter=Q(received_at__gte=yesterday, received_at__lt=today)
            ),
        )
    )
    return {row.pop("unit__path"): row for row in rows}


def manager_digests(*, now: datetime) -> dict[tuple[int, str], Digest]:
    """For each active manager with an e-mail, (user id, e-mail) → the digest of the subtrees
    of the units they manage."""
    paths_of: dict[tuple[int, str], set[str]] = defaultdict(set)
    for user_id, email, path in (
        Membership.objects.filter(role=Role.MANAGER, user__is_active=True)
        .exclude(user__email="")
        .values_list("user_id", "user__email", "unit__path")
    ):
        paths_of[(user_id, email)].add(path)
    if not paths_of:
        return {}
    counts = _unit_counts(now)
    overdue = overdue_rows(Dossier.objects.all(), now)
    digests = {}
    for person, paths in paths_of.items():

        def mine(path: str, paths: set[str] = paths) -> bool:
            return any(path.startswith(p) for p in paths)

        digest = Digest()
        for path, unit_counts in counts.items():
            if mine(path):
                for name in _COUNTS:
                    setattr(digest, name, getattr(digest, name) + unit_counts[name])
        digest.most_overdue = [
            f"{row.dossier.code} ({row.days_late})"
            for row in overdue
            if mine(row.dossier.unit.path)
        ][:TOP_OVERDUE]
        digests[person] = digest
    return digests


def _body(digest: Digest) -> str:
    lines = [
        _("Dossiers of your units this morning:"),
        "",
        _("Overdue now: %(count)d") % {"count": digest.overdue},
        _("Due today or within a working day: %(count)d") % {"count": digest.due_soon},
        _("Awaiting intake (submitted online): %(count)d") % {"count": digest.submitted},
        _("Awaiting supplement: %(count)d") % {"count": digest.supplement},
        _("Received yesterday: %(count)d") % {"count": digest.received_yesterday},
    ]
    if digest.most_overdue:
        lines += ["", _("Most overdue (working days late):"), *digest.most_overdue]
    return "\n".join(lines)


def send_manager_digest(*, now: datetime) -> int:
    """Queue today's digest for each manager with something to report; the number queued.
    Nothing on a non-working day; running it again the same day queues nothing more."""
    if not _is_national_working_day(now):
        return 0
    today = timezone.localdate(now)
    queued = 0
    with translation.override("vi"):
        subject = _("Daily digest of dossiers, %(date)s") % {"date": today.strftime("%d/%m/%Y")}
        for (user_id, email), digest in sorted(manager_digests(now=now).items()):
            if digest.is_empty():
                continue
            message = enqueue_message(
                channel=MessageChannel.EMAIL,
                recipient=email,
                subject=subject,
                body=_body(digest),
                key=f"digest:{today.isoformat()}:{user_id}",
            )
            queued += message is not None
    return queued
