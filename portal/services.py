"""Writes for units, staff accounts and background-process heartbeats."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Substr
from django.utils import timezone
from django.utils.translation import gettext as _

from .choices import MessageChannel, MessageStatus, Role
from .models import Heartbeat, Membership, OutboxMessage, Unit


def record_heartbeat(*, name: str, at: datetime, detail: str = "") -> Heartbeat:
    beat, _created = Heartbeat.objects.update_or_create(
        name=name, defaults={"at": at, "detail": detail[:255]}
    )
    return beat


@transaction.atomic
def save_unit(*, unit: Unit) -> Unit:
    """Create or update a unit, keeping the materialised paths of it and its subtree."""
    unit.full_clean(exclude=["path"])
    old_path = unit.path
    unit.save()
    new_path = f"{unit.parent.path if unit.parent else '/'}{unit.pk}/"
    if new_path != old_path:
        Unit.objects.filter(pk=unit.pk).update(path=new_path)
        unit.path = new_path
        if old_path:
            # Move the whole subtree in one statement: replace the old prefix with the new one.
            Unit.objects.filter(path__startswith=old_path).exclude(pk=unit.pk).update(
                path=Concat(Value(new_path), Substr(F("path"), len(old_path) + 1))
            )
    return unit


@transaction.atomic
def add_staff(
    *,
    username: str,
    unit: Unit,
    role: str,
    password: str | None = None,
    email: str = "",
    full_name: str = "",
) -> tuple[AbstractUser, bool]:
    """Create or update a staff account and give it ``role`` at ``unit``.

    Administrators also get access to the Django admin (``is_staff``). Returns the user and
    whether it was created.
    """
    if role not in Role.values:
        raise ValidationError(
            {
                "role": _("Unknown role %(role)s. Use one of: %(roles)s.")
                % {"role": role, "roles": ", ".join(Role.values)}
            }
        )
    User = get_user_model()
    user = User.objects.filter(username=username).first()
    created = user is None
    if user is None:
        user = User(username=username)
    if email:
        user.email = email
    if full_name:
        first, _sep, last = full_name.rpartition(" ")
        user.last_name, user.first_name = (first, last) if first else ("", last)
    if role == Role.ADMIN:
        user.is_staff = True
    if password:
        validate_password(password, user)
        user.set_password(password)
    elif created:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    Membership.objects.get_or_create(user=user, unit=unit, role=role)
    return user, created


def enqueue_message(
    *, channel: str, recipient: str, body: str, key: str, subject: str = "", reference: str = ""
) -> OutboxMessage | None:
    """Queue an e-mail or SMS in the caller's transaction; delivered by the worker after commit.

    Nothing is queued twice for the same ``key``; an empty recipient queues nothing. Delivery
    is also asked for right after commit, best effort: with the broker down the message simply
    waits for the next periodic delivery run.
    """
    if not recipient.strip():
        return None
    message, created = OutboxMessage.objects.get_or_create(
        key=key[:120],
        defaults={
            "channel": channel,
            "recipient": recipient.strip(),
            "subject": subject[:200],
            "body": body,
            "reference": reference[:64],
        },
    )
    if created:
        transaction.on_commit(_ask_for_delivery)
    return message


def _ask_for_delivery() -> None:
    import logging

    from .tasks import deliver_outbox_task

    try:
        deliver_outbox_task.delay()
    except Exception:  # the broker is down: the beat's periodic run will deliver it
        logging.getLogger(__name__).warning(
            "Broker unavailable; the outbox will be delivered later"
        )


@dataclass
class DeliveryResult:
    sent: int = 0
    retried: int = 0
    failed: int = 0


def _claim(now: datetime, batch: int) -> list[OutboxMessage]:
    """Take up to ``batch`` due messages for this worker: marked ``sending`` with a lease, so a
    second worker running at the same moment takes others. A lease left by a worker that died
    runs out and the message is taken again."""
    with transaction.atomic():
        due = list(
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(
                status__in=[MessageStatus.PENDING, MessageStatus.SENDING], available_at__lte=now
            )
            .order_by("available_at", "id")[:batch]
        )
        for message in due:
            message.status = MessageStatus.SENDING
            message.attempts += 1
            message.available_at = now + timedelta(minutes=5)
        OutboxMessage.objects.bulk_update(due, ["status", "attempts", "available_at"])
    return due


def deliver_outbox(*, now: datetime, batch: int = 100) -> DeliveryResult:
    """Send the due messages of the outbox; a failure is retried later with growing delays,
    and given up (``failed``) after OUTBOX_MAX_ATTEMPTS tries."""
    from django.conf import settings

    from .messaging import DeliveryError, send_email, send_sms

    result = DeliveryResult()
    for message in _claim(now, batch):
        try:
            if message.channel == MessageChannel.EMAIL:
                send_email(recipient=message.recipient, subject=message.subject, body=message.body)
            else:
                send_sms(recipient=message.recipient, body=message.body, key=message.key)
        except DeliveryError as exc:
            message.last_error = str(exc)[:2000]
            if message.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
                message.status = MessageStatus.FAILED
                result.failed += 1
            else:
                message.status = MessageStatus.PENDING
                message.available_at = now + timedelta(minutes=min(2**message.attempts, 60))
                result.retried += 1
            message.save(update_fields=["status", "last_error", "available_at"])
            continue
        message.status = MessageStatus.SENT
        message.sent_at = timezone.now()
        message.last_error = ""
        message.save(update_fields=["status", "sent_at", "last_error"])
        result.sent += 1
    return result
