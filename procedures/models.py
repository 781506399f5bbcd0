from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from portal.text import search_document

from .choices import (
    CalendarDayKind,
    CalendarDaySource,
    DocumentKind,
    OnlineLevel,
    ProcedureLevel,
    TimeLimitUnit,
)


class Field(models.Model):
    """A subject area of procedures (lĩnh vực): hộ tịch, chứng thực, đất đai, …"""

    code = models.SlugField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=0)

    class Meta:
        verbose_name = _("field")
        verbose_name_plural = _("fields")
        ordering = ["sort_order", "name"]

    def __str__(self) -> str:
        return self.name


class ProcedureQuerySet(models.QuerySet):
    def active(self) -> "ProcedureQuerySet":
        return self.filter(is_active=True)


class Procedure(models.Model):
    """An administrative procedure (thủ tục hành chính) of the national catalogue."""

    code = models.CharField(_("procedure code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=500)
    field = models.ForeignKey(
        Field, verbose_name=_("field"), on_delete=models.PROTECT, related_name="procedures"
    )
    level = models.CharField(_("level"), max_length=16, choices=ProcedureLevel.choices)
    time_limit_value = models.DecimalField(
        _("time limit"),
        max_digits=6,
        decimal_places=2,
        validators=[MinValueValidator(0.01)],
    )
    time_limit_unit = models.CharField(
        _("time limit unit"),
        max_length=16,
        choices=TimeLimitUnit.choices,
        default=TimeLimitUnit.WORKING_DAYS,
    )
    same_day = models.BooleanField(
        _("same-day procedure"),
        default=False,
        help_text=_(
            "Resolved within the day of receipt; received after the unit's cut-off, within the "
            "next working day."
        ),
    )
    time_limit_note = models.CharField(_("time limit as published"), max_length=500, blank=True)
    fee = models.CharField(_("fee and charges"), max_length=500, blank=True)
    fee_amount = models.PositiveIntegerField(
        _("fee amount (VND)"), null=True, blank=True, help_text=_("Empty when the fee varies.")
    )
    legal_basis = models.TextField(_("legal basis"), blank=True)
    result = models.CharField(_("result"), max_length=500, blank=True)
    applicants = models.CharField(_("who may apply"), max_length=500, blank=True)
    steps = models.TextField(_("steps"), blank=True)
    online_level = models.CharField(
        _("online service"), max_length=16, choices=OnlineLevel.choices, default=OnlineLevel.NONE
    )
    postal_allowed = models.BooleanField(_("postal service allowed"), default=True)
    is_active = models.BooleanField(_("active"), default=True)
    # Lower-case, accent-free name and code: the same search on SQLite and PostgreSQL.
    search_text = models.TextField(editable=False, default="")
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ProcedureQuerySet.as_manager()

    class Meta:
        verbose_name = _("procedure")
        verbose_name_plural = _("procedures")
        ordering = ["field__sort_order", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(time_limit_value__gt=0), name="procedure_time_limit_positive"
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} — {self.name}"

    def save(self, *args, **kwargs) -> None:
        # A derived column, not a business rule: it must follow name and code wherever they
        # are saved from (admin, import, services), so it is kept here.
        self.search_text = search_document(f"{self.code} {self.name}")
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "search_text"}
        super().save(*args, **kwargs)

    def clean(self) -> None:
        if (
            self.time_limit_unit == TimeLimitUnit.CALENDAR_DAYS
            and self.time_limit_value is not None
            and self.time_limit_value != int(self.time_limit_value)
        ):
            raise ValidationError(
                {"time_limit_value": _("A time limit in calendar days must be a whole number.")}
            )

    @property
    def channels(self) -> list[str]:
        channels = ["in_person"]
        if self.postal_allowed:
            channels.append("postal")
        if self.online_level != OnlineLevel.NONE:
            channels.append("online")
        return channels


class DocumentComponent(models.Model):
    """One document of a procedure's dossier (thành phần hồ sơ)."""

    procedure = models.ForeignKey(
        Procedure,
        verbose_name=_("procedure"),
        on_delete=models.CASCADE,
        related_name="documents",
    )
    name = models.CharField(_("name"), max_length=1000)
    kind = models.CharField(
        _("kind"), max_length=16, choices=DocumentKind.choices, default=DocumentKind.ORIGINAL
    )
    count = models.PositiveSmallIntegerField(
        _("number of copies"), default=1, validators=[MinValueValidator(1)]
    )
    required = models.BooleanField(_("required"), default=True)
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=0)

    class Meta:
        verbose_name = _("document component")
        verbose_name_plural = _("document components")
        ordering = ["procedure", "sort_order", "id"]

    def __str__(self) -> str:
        return self.name


class CalendarDay(models.Model):
    """An exception to the weekly office hours: a holiday, a one-off day off or a make-up
    working day. Nationwide when ``unit`` is empty, otherwise for that unit and its subtree.
    """

    date = models.DateField(_("date"))
    kind = models.CharField(_("kind"), max_length=16, choices=CalendarDayKind.choices)
    name = models.CharField(_("name or reason"), max_length=255)
    unit = models.ForeignKey(
        "portal.Unit",
        verbose_name=_("unit"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="calendar_days",
        help_text=_("Empty for the whole country."),
    )
    source = models.CharField(
        _("source"),
        max_length=16,
        choices=CalendarDaySource.choices,
        default=CalendarDaySource.ADMIN,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("calendar exception")
        verbose_name_plural = _("calendar exceptions")
        ordering = ["-date"]
        constraints = [
            models.UniqueConstraint(
                fields=["date"],
                condition=Q(unit__isnull=True),
                name="one_national_exception_a_day",
                violation_error_message=_(
                    "This date already has a nationwide calendar exception: a day is either a "
                    "day off or a working day, not both."
                ),
            ),
            models.UniqueConstraint(
                fields=["date", "unit"],
                condition=Q(unit__isnull=False),
                name="one_unit_exception_a_day",
                violation_error_message=_(
                    "This date already has a calendar exception for this unit: a day is either "
                    "a day off or a working day, not both."
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date:%d/%m/%Y} — {self.name}"

    def clean(self) -> None:
        if not (self.name or "").strip():
            raise ValidationError({"name": _("Give the name of the holiday or the reason.")})
        if self.date is None or not self.kind:
            return
        weekdays = self.unit.working_weekdays if self.unit_id else "12345"
        regular = str(self.date.isoweekday()) in weekdays
        if self.kind == CalendarDayKind.WORKING_DAY and regular:
            raise ValidationError(
                {
                    "kind": _(
                        "%(date)s is already a working day; a make-up working day must fall on "
                        "a day the office is normally closed."
                    )
                    % {"date": self.date.strftime("%d/%m/%Y")}
                }
            )
        if self.kind == CalendarDayKind.DAY_OFF and not regular:
            raise ValidationError(
                {
                    "kind": _("%(date)s is not a working day anyway; there is nothing to give off.")
                    % {"date": self.date.strftime("%d/%m/%Y")}
                }
            )
