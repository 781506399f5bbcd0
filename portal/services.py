"""Writes for units, staff accounts and background-process heartbeats."""

import contextlib
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.contrib.auth.password_validation import validate_password
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Substr
from django.utils import timezone
from django.utils.translation import gettext as _
from kombu import Connection

from .cache import default_cache_is_shared
from .choices import MessageChannel, MessageStatus, Role
from .inserts import insert_rows
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
    message = OutboxMessage(
        channel=channel,
        recipient=recipient.strip(),
        subject=subject[:200],
        body=body,
        key=key[:120],
        reference=reference[:64],
    )
    if not _insert_new(message):
        return OutboxMessage.objects.get(key=message.key)
    if not _delivery_asked():
        transaction.on_commit(_ask_for_delivery)
    return message


def _insert_new(message: OutboxMessage) -> bool:
    """Insert ``message`` unless one with its key exists, in one statement (``INSERT … ON
    CONFLICT (key) DO NOTHING RETURNING id``, PostgreSQL and SQLite 3.35+) instead of
    ``get_or_create``'s four (select, savepoint, insert, release) on every intake. A message
    with the same key being inserted by another transaction is waited for, then counts as
    existing. Sets the id when inserted."""
    return bool(insert_rows([message], unless_conflict_on="key"))


# How long asking for a delivery may hold up the request that queued a message, in seconds.
ASK_FOR_DELIVERY_TIMEOUT = 1.0


def _delivery_asked() -> bool:
    """Whether the current transaction already asks for a delivery after commit: one run sends
    everything it queued (an action queues two messages, a deadline sweep hundreds)."""
    connection = transaction.get_connection()
    return connection.in_atomic_block and any(
        callback is _ask_for_delivery for _sids, callback, _robust in connection.run_on_commit
    )


_broker = threading.local()  # each web thread's connection to the broker, kept between asks


def _broker_connection() -> Connection:
    """This thread's broker connection, opened on first use with short timeouts and kept: a
    new connection per intake cost 3–4 ms (bench/load.py)."""
    from .tasks import deliver_outbox_task

    connection = getattr(_broker, "connection", None)
    if connection is not None and _broker.url != deliver_outbox_task.app.conf.broker_url:
        _forget_broker_connection()  # the broker was configured anew (tests do)
        connection = None
    if connection is None:
        timeout = ASK_FOR_DELIVERY_TIMEOUT
        connection = deliver_outbox_task.app.connection_for_write(
            connect_timeout=timeout,
            transport_options={
                "socket_timeout": timeout,
                "socket_connect_timeout": timeout,
                "max_retries": 0,
            },
        )
        _broker.connection, _broker.url = connection, deliver_outbox_task.app.conf.broker_url
    return connection


def _forget_broker_connection() -> None:
    connection = _broker.__dict__.pop("connection", None)
    if connection is not None:
        with contextlib.suppress(Exception):
            connection.release()


# While a delivery run asked for is waiting to start, more asks add nothing: it will take their
# messages too. This key (in the shared cache) says one is waiting; the run deletes it as it
# starts, before it reads the outbox, so a message committed after that asks anew. An ask
# that was lost (a worker gone) lets the key lapse after this many seconds.
DELIVERY_ASKED_KEY = "outbox:delivery-asked"
DELIVERY_ASKED_SECONDS = 1


def _ask_for_delivery() -> None:
    """Queue a delivery run now, unless one asked for has not started yet (under a steady
    intake of 150 dossiers a second, one publish in many instead of one each: a publish cost
    about 0.5 ms of the request and a run of the worker). The publish gives up after about
    ASK_FOR_DELIVERY_TIMEOUT: with the broker down or hung the request must not wait (Celery's
    own publish retries and a silent broker's socket would hold it for seconds or forever). A
    kept connection that fails (the broker restarted) is replaced once by a new one."""
    import logging

    from .tasks import deliver_outbox_task

    coalesce = default_cache_is_shared()
    if coalesce and not cache.add(DELIVERY_ASKED_KEY, 1, timeout=DELIVERY_ASKED_SECONDS):
        return  # a run is waiting to start: it will read this message too
    for attempt in (1, 2):
        kept = getattr(_broker, "connection", None) is not None
        try:
            deliver_outbox_task.apply_async(connection=_broker_connection(), retry=False)
            return
        except Exception:  # the broker is down: the beat's periodic run will deliver it
            _forget_broker_connection()
            if kept and attempt == 1:
                continue  # the kept connection was stale: try once with a new one
            if coalesce:
                cache.delete(DELIVERY_ASKED_KEY)  # no run is waiting: the next one asks again
            logging.getLogger(__name__).warning(
                "Broker unavailable; the outbox will be delivered later", exc_info=True
            )
            return


def purge_outbox(*, now: datetime) -> int:
    """Delete the messages sent, or given up as failed, that were queued more than
    ``OUTBOX_RETENTION_DAYS`` ago: their recipient and text are personal data, and a portal
    queues two for every notable event. A message still waiting or being sent is never
    deleted, however old. One DELETE; the number deleted. Safe to run twice."""
    from django.conf import settings

    cutoff = now - timedelta(days=settings.OUTBOX_RETENTION_DAYS)
    deleted, _by_model = OutboxMessage.objects.filter(
        status__in=[MessageStatus.SENT, MessageStatus.FAILED], created_at__lt=cutoff
    ).delete()
    return deleted


@dataclass
class DeliveryResult:
    sent: int = 0
    retried: int = 0
    failed: int = 0


def outbox_lease() -> timedelta:
    """How long a run holds a message it is sending before another run may take it (the
    holder died): ``OUTBOX_LEASE_SECONDS``."""
    from django.conf import settings

    return timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)


def _claim(now: datetime, batch: int) -> list[OutboxMessage]:
    """Take up to ``batch`` due messages for this worker: marked ``sending`` with a lease, so a
    second worker running at the same moment takes others. A lease left by a worker that died
    runs out and the message is taken again."""
    lease = outbox_lease()
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
            message.available_at = now + lease
        OutboxMessage.objects.bulk_update(due, ["status", "attempts", "available_at"])
    return due


def _renew_lease(message: OutboxMessage, until: datetime) -> bool:
    """Extend this run's lease on ``message`` right before sending it; False when the lease ran
    out while the batch was being sent and another run has taken the message since."""
    return bool(
        OutboxMessage.objects.filter(
            pk=message.pk, status=MessageStatus.SENDING, attempts=message.attempts
        ).update(available_at=until)
    )


def deliver_outbox(*, now: datetime, batch: int = 100) -> DeliveryResult:
    """Send the due messages of the outbox; a failure is retried later with growing delays,
    and given up (``failed``) after OUTBOX_MAX_ATTEMPTS tries."""
    import logging
    import time

    from django.conf import settings

    from .messaging import DeliveryError, send_email, send_sms

    cache.delete(DELIVERY_ASKED_KEY)  # before reading: a message committed from now asks anew
    result = DeliveryResult()
    started = time.monotonic()
    for message in _claim(now, batch):
        # A slow batch (a gateway timing out on each message) can outlast the claim's lease.
        elapsed = timedelta(seconds=time.monotonic() - started)
        if not _renew_lease(message, now + elapsed + outbox_lease()):
            continue  # another run has taken it: sending it here too would send it twice
        try:
            if message.channel == MessageChannel.EMAIL:
                send_email(recipient=message.recipient, subject=message.subject, body=message.body)
            else:
                send_sms(recipient=message.recipient, body=message.body, key=message.key)
        except Exception as exc:  # one bad message must not strand the rest of the batch
            if not isinstance(exc, DeliveryError):
                logging.getLogger(__name__).exception("Outbox message %s failed", message.pk)
            message.last_error = str(exc)[:2000] or repr(exc)
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


# --- Citizen accounts -------------------------------------------------------------------------
# Imported here rather than at the top so that the accounts section stays in one place.
import hashlib  # noqa: E402
from typing import NoReturn  # noqa: E402

from django.conf import settings  # noqa: E402
from django.core import signing  # noqa: E402
from django.core.exceptions import NON_FIELD_ERRORS  # noqa: E402
from django.core.validators import validate_email  # noqa: E402
from django.db import IntegrityError  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils.translation import ngettext  # noqa: E402

from .auth_backends import (  # noqa: E402
    EMAIL,
    PHONE,
    canonical_phone,
    identifier_taken,
    parse_identifier,
    sign_in_kind,
    taken_message,
)
from .models import Profile  # noqa: E402

VERIFY_EMAIL_SALT = "verify-email"
PROFILE_FIELDS = frozenset({"full_name", "id_number", "phone", "address", "email"})
# The user's name fields are set from the full name: their errors are the full name's.
_NAME_FIELDS = {"first_name": "full_name", "last_name": "full_name"}


class EmailVerificationError(Exception):
    """A verification link that cannot be used. ``code``: ``expired``, ``invalid`` (tampered
    with, or for an address no longer on the account) or ``already_verified``."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def validity_text(seconds: int) -> str:
    """How long a link works, in words: "3 days", "24 hours" (in the active language)."""
    if seconds >= 86400 and seconds % 86400 == 0:
        days = seconds // 86400
        return ngettext("%(count)d day", "%(count)d days", days) % {"count": days}
    hours = max(1, round(seconds / 3600))
    return ngettext("%(count)d hour", "%(count)d hours", hours) % {"count": hours}


def _set_name(user: AbstractUser, full_name: str) -> None:
    """Keep the user's name fields (shown across the site) in step with the profile's full
    name, family name first: "Nguyễn Văn An" → last_name "Nguyễn Văn", first_name "An"."""
    family, _sep, given = full_name.rpartition(" ")
    user.last_name, user.first_name = family, given


def _name_of(user: AbstractUser) -> str:
    """Family name first, as Vietnamese names are written (get_full_name() puts it last)."""
    return f"{user.last_name} {user.first_name}".strip()


def _collect(errors: dict[str, list], exc: ValidationError, rename: dict[str, str]) -> None:
    """Add the errors of ``exc`` to ``errors``, under the names of the form's fields."""
    for name, field_errors in exc.update_error_dict({}).items():
        errors.setdefault(rename.get(name, name), []).extend(field_errors)


def _raise_if(errors: dict[str, list]) -> None:
    if errors:
        raise ValidationError(errors)


def _fail(field: str, message: str, code: str) -> NoReturn:
    raise ValidationError({field: ValidationError(message, code=code)})


def _email_digest(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:16]


def _absolute_url(path: str, site_url: str) -> str:
    """``path`` on this site. The views pass ``request.build_absolute_uri("/")``; other callers
    get settings.SITE_URL when set, else the first host of ALLOWED_HOSTS."""
    base = site_url or getattr(settings, "SITE_URL", "")
    if not base:
        host = next(
            (h for h in settings.ALLOWED_HOSTS if h and h != "*" and not h.startswith(".")),
            "localhost",
        )
        base = f"{'http' if settings.DEBUG else 'https'}://{host}"
    return base.rstrip("/") + path


def email_verification_token(user: AbstractUser) -> str:
    """A signed, timestamped token for the link that confirms ``user``'s current address. It
    carries the user's id and a digest of the address, not the address itself, and stops
    working when the address changes or after ACCOUNT_VERIFY_MAX_AGE seconds."""
    signer = signing.TimestampSigner(salt=VERIFY_EMAIL_SALT)
    return signer.sign(f"{user.pk}:{_email_digest(user.email)}")


def send_verification_email(*, user: AbstractUser, site_url: str = "") -> OutboxMessage | None:
    """Queue the e-mail with a link that confirms ``user``'s address; each call makes a new
    link (the older ones keep working until they expire)."""
    if not user.email:
        _fail("email", _("There is no e-mail address on this account."), "no_email")
    profile = Profile.objects.filter(user_id=user.pk).first()
    if profile is not None and profile.email_verified_at is not None:
        raise EmailVerificationError("already_verified")
    token = email_verification_token(user)
    link = _absolute_url(reverse("verify-email", args=[token]), site_url)
    name = (profile.full_name if profile else "") or _name_of(user) or user.email
    body = _(
        "Hello %(name)s,\n\n"
        "To confirm that %(email)s is your e-mail address on the Một Cửa portal, open this "
        "link:\n\n%(link)s\n\n"
        "The link works for %(valid_for)s. If you did not register or change your e-mail "
        "address on the portal, you can ignore this message."
    ) % {
        "name": name,
        "email": user.email,
        "link": link,
        "valid_for": validity_text(settings.ACCOUNT_VERIFY_MAX_AGE),
    }
    return enqueue_message(
        channel=MessageChannel.EMAIL,
        recipient=user.email,
        subject=_("Confirm your e-mail address"),
        body=body,
        key=f"verify-email:{user.pk}:{hashlib.sha256(token.encode()).hexdigest()[:16]}",
    )


@transaction.atomic
def register_citizen(
    *, identifier: str, full_name: str, password: str, site_url: str = ""
) -> AbstractUser:
    """Create a citizen's account, signing in with an e-mail address or a phone number.

    The username is the address, lower-cased, or the phone number in its national form. An
    address also gets a verification e-mail (``site_url``: see ``_absolute_url``). A phone
    number is taken on trust for now: there is no SMS one-time code, so nothing proves the
    number is the citizen's own until one is added.
    """
    errors: dict[str, list] = {}
    try:
        kind, value = parse_identifier(identifier)
    except ValidationError as exc:
        errors["identifier"] = exc.error_list
        kind, value = "", identifier.strip()
    full_name = " ".join(full_name.split())
    if kind and identifier_taken(kind=kind, value=value):
        errors["identifier"] = [ValidationError(taken_message(kind), code="taken")]
    if not full_name:
        errors["full_name"] = [ValidationError(_("Enter your full name."), code="required")]
    User = get_user_model()
    user = User(username=value, email=value if kind == EMAIL else "")
    _set_name(user, full_name)
    try:
        validate_password(password, user)
    except ValidationError as exc:
        errors["password"] = exc.error_list
    _raise_if(errors)
    user.set_password(password)
    try:
        user.full_clean(exclude=["password"])
    except ValidationError as exc:
        _collect(errors, exc, {"username": "identifier", "email": "identifier"} | _NAME_FIELDS)
    _raise_if(errors)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:  # registered a moment ago by a second click or a second tab
        _fail("identifier", taken_message(kind), "taken")
    profile = Profile(user=user, full_name=full_name, phone=value if kind == PHONE else "")
    profile.full_clean()
    profile.save()
    if kind == EMAIL:
        send_verification_email(user=user, site_url=site_url)
    return user


@transaction.atomic
def verify_email(*, token: str) -> AbstractUser:
    """Mark the address a verification link was sent to as verified, once."""
    signer = signing.TimestampSigner(salt=VERIFY_EMAIL_SALT)
    try:
        value = signer.unsign(token, max_age=settings.ACCOUNT_VERIFY_MAX_AGE)
    except signing.SignatureExpired as exc:
        raise EmailVerificationError("expired") from exc
    except signing.BadSignature as exc:
        raise EmailVerificationError("invalid") from exc
    user_pk, _sep, digest = value.partition(":")
    user = get_user_model()._default_manager.filter(pk=int(user_pk)).first()
    if user is None or not user.email or digest != _email_digest(user.email):
        raise EmailVerificationError("invalid")  # the address changed since the link was sent
    profile, _created = Profile.objects.select_for_update().get_or_create(
        user=user, defaults={"full_name": _name_of(user)}
    )
    if profile.email_verified_at is not None:
        raise EmailVerificationError("already_verified")
    profile.email_verified_at = timezone.now()
    profile.save(update_fields=["email_verified_at"])
    return user


@transaction.atomic
def update_profile(*, user: AbstractUser, site_url: str = "", **fields: str) -> Profile:
    """Change a user's profile: any of full_name, id_number, phone, address and email.

    The sign-in name follows the e-mail address or phone number the account signs in with.
    A new e-mail address is unverified: a verification e-mail goes to it, and a notice to the
    old one when that was confirmed. Raises ValidationError keyed by field name.
    """
    unknown = set(fields) - PROFILE_FIELDS
    if unknown:
        raise TypeError(f"update_profile() got unknown fields: {', '.join(sorted(unknown))}")
    User = get_user_model()
    user = User._default_manager.select_for_update().get(pk=user.pk)
    profile, _created = Profile.objects.get_or_create(
        user=user, defaults={"full_name": _name_of(user)}
    )
    signs_in_with = sign_in_kind(user)
    errors: dict[str, list] = {}

    if "full_name" in fields:
        profile.full_name = " ".join(fields["full_name"].split())
        _set_name(user, profile.full_name)
    if "id_number" in fields:
        profile.id_number = "".join(ch for ch in fields["id_number"] if ch not in " .-")
    if "address" in fields:
        profile.address = " ".join(fields["address"].split())
    if "phone" in fields:
        profile.phone = canonical_phone(fields["phone"]) if fields["phone"].strip() else ""
        if signs_in_with == PHONE and profile.phone != user.username:
            if not profile.phone:
                errors["phone"] = [
                    _("You log in with your phone number, so it cannot be left empty.")
                ]
            elif identifier_taken(kind=PHONE, value=profile.phone, exclude=user):
                errors["phone"] = [_("Another account already logs in with this phone number.")]
            else:
                user.username = profile.phone

    old_email, old_email_verified = user.email, profile.email_verified_at is not None
    if "email" in fields:
        email = fields["email"].strip().lower()
        if email != old_email.lower():
            try:
                if email:
                    validate_email(email)
                if not email and signs_in_with == EMAIL:
                    _fail(
                        "email",
                        _("You log in with your e-mail address, so it cannot be left empty."),
                        "required",
                    )
                if email and identifier_taken(kind=EMAIL, value=email, exclude=user):
                    _fail("email", _("Another account already uses this e-mail address."), "taken")
            except ValidationError as exc:
                _collect(errors, exc, {NON_FIELD_ERRORS: "email"})
            else:
                user.email = email
                if signs_in_with == EMAIL:
                    user.username = email
                profile.email_verified_at = None

    for instance, rename in (
        (profile, {}),
        (user, {"username": signs_in_with or "email"} | _NAME_FIELDS),
    ):
        try:
            instance.full_clean(exclude=["user", "password"])
        except ValidationError as exc:
            _collect(errors, exc, rename)
    _raise_if(errors)
    try:
        with transaction.atomic():
            user.save(update_fields=["username", "email", "first_name", "last_name"])
    except IntegrityError:
        _fail(
            signs_in_with or "email",
            _("Another account already uses this e-mail or phone number."),
            "taken",
        )
    profile.save()

    if user.email.lower() != old_email.lower():
        if user.email:
            send_verification_email(user=user, site_url=site_url)
        if old_email_verified:  # never tell an unconfirmed (perhaps mistyped) address anything
            enqueue_message(
                channel=MessageChannel.EMAIL,
                recipient=old_email,
                subject=_("The e-mail address of your account was changed"),
                body=_(
                    "The e-mail address of your account on the Một Cửa portal was changed "
                    "from %(old)s to %(new)s. If you did not make this change, contact the "
                    "one-stop counter."
                )
                % {"old": old_email, "new": user.email or "—"},
                key=f"email-changed:{user.pk}:{_email_digest(old_email)}:"
                f"{_email_digest(user.email)}:{int(timezone.now().timestamp())}",
            )
    return profile
