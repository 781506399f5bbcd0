from datetime import time
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .choices import MessageChannel, MessageStatus, Role, UnitLevel
from .validators import citizen_id_validator, phone_validator

agency_code_validator = RegexValidator(
    r"^[0-9A-Z]{2,3}(\.[0-9A-Z]{2,3}){2,4}$",
    _("An agency code looks like 000.00.15.H61 (QCVN 102:2016)."),
)
# Which levels may sit directly under which. Since 2025-07-01 communes hang from the province.
ALLOWED_PARENT_LEVELS = {
    UnitLevel.PROVINCE: set(),
    UnitLevel.DISTRICT: {UnitLevel.PROVINCE},
    UnitLevel.COMMUNE: {UnitLevel.DISTRICT, UnitLevel.PROVINCE},
}

weekdays_validator = RegexValidator(
    r"^[1-7]{1,7}$", _("Working weekdays are digits 1 (Monday) to 7 (Sunday), e.g. 12345.")
)


class Unit(models.Model):
    """An administrative unit (province, district or commune) with its counter's office hours.

    ``path`` is the chain of ancestor ids (``/1/5/23/``), kept by the services that create or
    move a unit, so that a subtree is one indexed ``LIKE 'prefix%'`` query.
    """

    code = models.CharField(
        _("agency code"), max_length=32, unique=True, validators=[agency_code_validator]
    )
    name = models.CharField(_("name"), max_length=200)
    level = models.CharField(_("level"), max_length=16, choices=UnitLevel.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    path = models.CharField(max_length=255, editable=False, db_index=True, default="")
    address = models.CharField(_("address of the counter"), max_length=255, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    morning_open = models.TimeField(_("morning opens"), default=time(7, 30))
    morning_close = models.TimeField(_("morning closes"), default=time(11, 30))
    afternoon_open = models.TimeField(_("afternoon opens"), default=time(13, 30))
    afternoon_close = models.TimeField(_("afternoon closes"), default=time(17, 30))
    working_weekdays = models.CharField(
        _("working weekdays"),
        max_length=7,
        default="12345",
        validators=[weekdays_validator],
        help_text=_("Digits 1 (Monday) to 7 (Sunday)."),
    )
    same_day_cutoff = models.TimeField(
        _("same-day cut-off"),
        default=time(15, 0),
        help_text=_(
            "Same-day procedures received after this time count from the next working day."
        ),
    )

    class Meta:
        verbose_name = _("administrative unit")
        verbose_name_plural = _("administrative units")
        ordering = ["path"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors = {}
        if not (
            self.morning_open < self.morning_close <= self.afternoon_open < self.afternoon_close
        ):
            errors["afternoon_close"] = _(
                "Office hours must run in order: morning opens < morning closes <= afternoon "
                "opens < afternoon closes."
            )
        if self.valid_from and self.valid_to and self.valid_to < self.valid_from:
            errors["valid_to"] = _("The end of validity is before its start.")
        parent_error = self._placement_error()
        if parent_error:
            errors["parent"] = parent_error
        if errors:
            raise ValidationError(errors)

    def _placement_error(self) -> str | None:
        if self.level not in UnitLevel.values:
            return None
        allowed = ALLOWED_PARENT_LEVELS[UnitLevel(self.level)]
        parent = self.parent if self.parent_id else None
        if parent is None:
            return _("A unit of this level must belong to a higher unit.") if allowed else None
        if parent.level not in allowed:
            return _("A %(level)s cannot belong to a %(parent_level)s.") % {
                "level": str(self.get_level_display()).lower(),
                "parent_level": str(parent.get_level_display()).lower(),
            }
        if self.pk and (parent.pk == self.pk or f"/{self.pk}/" in parent.path):
            return _("A unit cannot belong to itself or to a unit below it.")
        return None


# Where ``portal.selectors.user_memberships`` keeps a user object's memberships once read.
MEMBERSHIPS_HELD = "_portal_memberships"


class Membership(models.Model):
    """A staff member's role at a unit. A citizen is a user with no membership."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="memberships",
    )
    unit = models.ForeignKey(
        Unit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "unit", "role"], name="unique_membership")
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} — {self.unit}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        super().save(*args, **kwargs)
        self._forget_held()

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        result = super().delete(*args, **kwargs)
        self._forget_held()
        return result

    def _forget_held(self) -> None:
        """The user object this membership was saved or deleted with answers the next question
        about its roles from the database, not from what it read before."""
        user = self._state.fields_cache.get("user")
        if user is not None and getattr(user, MEMBERSHIPS_HELD, None) is not None:
            setattr(user, MEMBERSHIPS_HELD, None)


class Heartbeat(models.Model):
    """The last time each background process (worker, beat) proved it was alive."""

    name = models.CharField(max_length=64, unique=True)
    at = models.DateTimeField()
    detail = models.CharField(max_length=255, blank=True)

    class Meta:
        verbose_name = _("heartbeat")
        verbose_name_plural = _("heartbeats")

    def __str__(self) -> str:
        return f"{self.name} @ {self.at:%Y-%m-%d %H:%M:%S}"


class Profile(models.Model):
    """A citizen's details, which pre-fill their online submissions."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    full_name = models.CharField(_("full name"), max_length=200, blank=True)
    id_number = models.CharField(
        _("citizen ID number"), max_length=12, blank=True, validators=[citizen_id_validator]
    )
    phone = models.CharField(
        _("phone"), max_length=16, blank=True, validators=[phone_validator], db_index=True
    )
    address = models.CharField(_("address"), max_length=300, blank=True)
    email_verified_at = models.DateTimeField(_("e-mail verified at"), null=True, blank=True)

    class Meta:
        verbose_name = _("profile")
        verbose_name_plural = _("profiles")

    def __str__(self) -> str:
        return self.full_name or str(self.user)


class OutboxMessage(models.Model):
    """An e-mail or SMS to send, written in the same transaction as the change it reports and
    delivered by the worker: nothing is lost when the broker or the gateway is down, and
    ``key`` makes sure the same notice is never queued twice."""

    channel = models.CharField(_("channel"), max_length=8, choices=MessageChannel.choices)
    recipient = models.CharField(_("recipient"), max_length=254)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("message"))
    key = models.CharField(max_length=120, unique=True)
    reference = models.CharField(_("about"), max_length=64, blank=True, db_index=True)
    status = models.CharField(
        _("status"), max_length=8, choices=MessageStatus.choices, default=MessageStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    available_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("outgoing message")
        verbose_name_plural = _("outgoing messages")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "available_at"], name="outbox_due"),
            models.Index(fields=["created_at"], name="outbox_created"),  # the purge, the admin
        ]

    def __str__(self) -> str:
        return f"{self.channel} → {self.recipient}: {self.subject or self.body[:40]}"
