"""The access log: who opened which dossier, when and how (view, file download, export).

A write is one INSERT with what the caller already holds: no read before it. The applicant
opening their own dossier is not logged (it is their data); anonymous readers never reach a
dossier. Rows older than ``ACCESS_LOG_RETENTION_DAYS`` are deleted by ``purge_access_log``.
"""

import ipaddress
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.utils import timezone

from portal.choices import Role
from portal.selectors import user_roles

from ..models import Attachment, Dossier, DossierAccess

DEFAULT_RETENTION_DAYS = 730


def _valid_ip(ip: str | None) -> str | None:
    """The address if it is one; a forged or garbled header is not stored."""
    if not ip:
        return None
    try:
        return str(ipaddress.ip_address(ip.strip()))
    except ValueError:
        return None


def _logged(user: User | AnonymousUser, dossier: Dossier) -> bool:
    return user.is_authenticated and dossier.applicant_user_id != user.pk


def record_access(
    *,
    dossier: Dossier,
    user: User | AnonymousUser,
    kind: str,
    attachment: Attachment | None = None,
    ip: str | None = None,
    at: datetime | None = None,
) -> DossierAccess | None:
    """Log that ``user`` opened ``dossier`` (``kind`` a ``DossierAccess.Kind``); None when
    there is nothing to log (the applicant themself)."""
    if not _logged(user, dossier):
        return None
    return DossierAccess.objects.create(
        dossier_id=dossier.pk,
        user_id=user.pk,
        kind=DossierAccess.Kind(kind),
        attachment_id=attachment.pk if attachment is not None else None,
        ip=_valid_ip(ip),
        at=at or timezone.now(),
    )


def record_export(
    *,
    dossiers: Iterable[Dossier],
    user: User | AnonymousUser,
    ip: str | None = None,
    at: datetime | None = None,
) -> int:
    """Log an export (the tracking register) of many dossiers in one INSERT; the number of
    rows written."""
    if not user.is_authenticated:
        return 0
    moment, address = at or timezone.now(), _valid_ip(ip)
    rows = [
        DossierAccess(
            dossier_id=dossier.pk,
            user_id=user.pk,
            kind=DossierAccess.Kind.EXPORT,
            ip=address,
            at=moment,
        )
        for dossier in dossiers
        if dossier.applicant_user_id != user.pk
    ]
    DossierAccess.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


def access_log_retention() -> timedelta:
    return timedelta(days=getattr(settings, "ACCESS_LOG_RETENTION_DAYS", DEFAULT_RETENTION_DAYS))


def purge_access_log(*, now: datetime) -> int:
    """Delete the access log's rows older than the retention period, in one DELETE; the number
    deleted. Safe to run twice."""
    deleted, _by_model = DossierAccess.objects.filter(at__lt=now - access_log_retention()).delete()
    return deleted


def may_read_access_log(user: User | AnonymousUser) -> bool:
    """Administrators (and superusers) read the access log; nobody else does."""
    return user.is_authenticated and (user.is_superuser or Role.ADMIN in user_roles(user))


def dossier_accesses(*, dossier: Dossier, limit: int = 50) -> list[DossierAccess]:
    """The latest reads of one dossier, newest first, with who read it."""
    return list(
        DossierAccess.objects.filter(dossier=dossier)
        .select_related("user", "attachment")
        .order_by("-at", "-id")[:limit]
    )
