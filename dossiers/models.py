from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from portal.validators import citizen_id_validator, phone_validator

from .choices import Action, AttachmentKind, Channel, RatingScore, Status, Timeliness


class Dossier(models.Model):
    """One application for one procedure by one applicant (hồ sơ).

    Only the services in ``dossiers.services`` change ``status``; each change writes a
    :class:`DossierEvent` in the same transaction.
    """

    code = models.CharField(_("dossier code"), max_length=48, unique=True)
    procedure = models.ForeignKey(
        "procedures.Procedure",
        verbose_name=_("procedure"),
        on_delete=models.PROTECT,
        related_name="dossiers",
        db_index=False,  # dossier_proc_unit_received leads with it
    )
    unit = models.ForeignKey(
        "portal.Unit",
        verbose_name=_("receiving unit"),
        on_delete=models.PROTECT,
        related_name="dossiers",
    )
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    postal_tracking_no = models.CharField(_("postal tracking number"), max_length=64, blank=True)

    applicant_name = models.CharField(_("applicant's full name"), max_length=200)
    applicant_id_number = models.CharField(
        _("citizen ID number"), max_length=12, validators=[citizen_id_validator]
    )
    applicant_phone = models.CharField(
        _("phone"), max_length=16, validators=[phone_validator], db_index=True
    )
    applicant_email = models.EmailField(_("e-mail"), blank=True)
    applicant_address = models.CharField(_("address"), max_length=300, blank=True)
    # The name lower-cased without diacritics, for search ("nguyen van an").
    applicant_search = models.CharField(max_length=200, editable=False, default="")
    applicant_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("applicant's account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="dossiers",
    )
    note = models.TextField(_("note"), blank=True)

    status = models.CharField(_("status"), max_length=24, choices=Status.choices)
    timeliness = models.CharField(
        _("timeliness"), max_length=16, choices=Timeliness.choices, blank=True
    )
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    received_at = models.DateTimeField(_("received at"), null=True, blank=True)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("received by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned officer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_dossiers",
    )
    due_at = models.DateTimeField(_("due at"), null=True, blank=True)
    deadline_trace = models.JSONField(_("deadline trace"), default=list, blank=True)
    paused_at = models.DateTimeField(_("clock paused since"), null=True, blank=True)
    promised_at = models.DateTimeField(_("new promised date"), null=True, blank=True)
    apology_reason = models.TextField(_("reason for the delay"), blank=True)
    apologized_at = models.DateTimeField(_("apology issued at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    result_summary = models.TextField(_("result"), blank=True)
    returned_at = models.DateTimeField(_("returned at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    close_reason = models.TextField(_("reason"), blank=True)
    # The one-time key of the request that made the dossier (the citizen's or the counter's form,
    # an API client's Idempotency-Key): the same submission sent again finds the same dossier.
    submission_key = models.CharField(max_length=64, blank=True, default="", editable=False)
    # When the deadline worker warned that less than a working day is left (once).
    due_soon_warned_at = models.DateTimeField(_("due-soon warning sent"), null=True, blank=True)
    digitized_intake = models.BooleanField(_("digitized at intake"), default=False)
    digitized_result = models.BooleanField(_("digitized result"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("dossier")
        verbose_name_plural = _("dossiers")
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["unit", "status", "due_at"], name="dossier_unit_status_due"),
            models.Index(fields=["unit", "received_at"], name="dossier_unit_received"),
            # A procedure's dossiers in some units and a period (the worklist's filter, a
            # report's drill-down); also the procedure's foreign-key index. With the two
            # indexes (unit, received) and (procedure) PostgreSQL combined them, reading all of
            # a common procedure's entries (1.3 million, 190 ms) for a district's month.
            models.Index(
                fields=["procedure", "unit", "received_at"], name="dossier_proc_unit_received"
            ),
            # The history newest first (the worklist's "all" tab, searches): walked backwards
            # until a page of the user's units is found, instead of sorting their every dossier.
            models.Index(fields=["received_at", "id"], name="dossier_received"),
            models.Index(fields=["status", "due_at"], name="dossier_status_due"),
            # Reports: the dossiers still pending at, or ended after, a period's start.
            models.Index(
                F("unit"),
                Coalesce("resolved_at", "closed_at"),
                name="dossier_unit_ended",
            ),
        ]
        constraints = [
            # A key is the submitter's own: the citizen's online, the receiving officer's at the
            # counter. An online dossier later accepted by an officer stays under its citizen.
            models.UniqueConstraint(
                fields=["applicant_user", "submission_key"],
                condition=~Q(submission_key="") & Q(channel=Channel.ONLINE),
                name="one_dossier_per_submission",
            ),
            models.UniqueConstraint(
                fields=["received_by", "submission_key"],
                condition=~Q(submission_key="") & ~Q(channel=Channel.ONLINE),
                name="one_intake_per_submission",
            ),
            models.CheckConstraint(
                condition=~Q(channel=Channel.POSTAL) | ~Q(postal_tracking_no=""),
                name="postal_dossier_has_tracking_no",
            ),
            models.CheckConstraint(
                condition=Q(resolved_at__isnull=True)
                | Q(received_at__isnull=False, resolved_at__gte=models.F("received_at")),
                name="dossier_resolved_after_received",
            ),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def is_open(self) -> bool:
        from .choices import OPEN_STATUSES

        return self.status in OPEN_STATUSES

    @property
    def is_paused(self) -> bool:
        return self.paused_at is not None


class DayCounter(models.Model):
    """The last sequence number given to a unit's dossiers on one day (mã hồ sơ)."""

    unit = models.ForeignKey("portal.Unit", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["unit", "day"], name="one_counter_per_unit_day")
        ]

    def __str__(self) -> str:
        return f"{self.unit_id} {self.day}: {self.last}"


class DossierDocument(models.Model):
    """One line of the procedure's document checklist, as ticked at intake."""

    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="documents")
    component = models.ForeignKey(
        "procedures.DocumentComponent",
        verbose_name=_("document component"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    name = models.CharField(_("document"), max_length=1000)
    kind = models.CharField(_("kind"), max_length=16, blank=True)
    count = models.PositiveSmallIntegerField(_("copies"), default=1)
    required = models.BooleanField(_("required"), default=True)
    received = models.BooleanField(_("received"), default=False)
    sort_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("dossier document")
        verbose_name_plural = _("dossier documents")
        ordering = ["dossier", "sort_order", "id"]

    def __str__(self) -> str:
        return self.name


def attachment_path(instance: "Attachment", filename: str) -> str:
    # The stored name never comes from the user: the dossier and a random token only.
    import secrets

    suffix = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}.get(
        instance.content_type, "bin"
    )
    return f"dossiers/{instance.dossier_id}/{secrets.token_hex(16)}.{suffix}"


class Attachment(models.Model):
    dossier = models.ForeignKey(Dossier, on_delete=models.PROTECT, related_name="attachments")
    document = models.ForeignKey(
        DossierDocument,
        verbose_name=_("document"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="attachments",
    )
    kind = models.CharField(
        _("kind"), max_length=16, choices=AttachmentKind.choices, default=AttachmentKind.DOCUMENT
    )
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=255)
    original_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("type"), max_length=64)
    size = models.PositiveIntegerField(_("size"))
    sha256 = models.CharField(max_length=64)
    digitized = models.BooleanField(
        _("digitized"), default=False, help_text=_("Scanned and signed into the e-dossier.")
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["dossier", "uploaded_at", "id"]

    def __str__(self) -> str:
        return self.original_name


class Pause(models.Model):
    """A supplement request: the clock stops at ``started_at`` and runs again at ``ended_at``."""

    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="pauses")
    started_at = models.DateTimeField(_("requested at"))
    ended_at = models.DateTimeField(_("supplied at"), null=True, blank=True)
    missing_documents = models.TextField(_("missing or incomplete documents"))
    reason = models.TextField(_("reason"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("supplement request")
        verbose_name_plural = _("supplement requests")
        ordering = ["dossier", "started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["dossier"],
                condition=Q(ended_at__isnull=True),
                name="one_open_pause_per_dossier",
            )
        ]

    def __str__(self) -> str:
        return f"{self.dossier} @ {self.started_at:%d/%m/%Y %H:%M}"


class DossierEvent(models.Model):
    """An append-only record of what happened to a dossier: who, when, from, to, why."""

    dossier = models.ForeignKey(Dossier, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField(_("at"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    action = models.CharField(_("action"), max_length=24, choices=Action.choices)
    from_status = models.CharField(_("from"), max_length=24, choices=Status.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=24, choices=Status.choices)
    note = models.TextField(_("note"), blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("dossier event")
        verbose_name_plural = _("dossier events")
        ordering = ["dossier", "at", "id"]

    def __str__(self) -> str:
        return f"{self.dossier} {self.action} {self.at:%d/%m/%Y %H:%M}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise ValidationError(_("Dossier events are append-only."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(_("Dossier events are append-only."))


class Rating(models.Model):
    """The applicant's rating of the service, once, after the result was handed over."""

    dossier = models.OneToOneField(Dossier, on_delete=models.CASCADE, related_name="rating")
    score = models.CharField(_("rating"), max_length=16, choices=RatingScore.choices)
    comment = models.TextField(_("comment"), blank=True, max_length=2000)
    created_at = models.DateTimeField(_("rated at"), auto_now_add=True)

    class Meta:
        verbose_name = _("rating")
        verbose_name_plural = _("ratings")
        # Reports count a period's ratings by when they were given.
        indexes = [models.Index(fields=["created_at"], name="rating_created")]

    def __str__(self) -> str:
        return f"{self.dossier} {self.score}"


class DossierAccess(models.Model):
    """Who opened a dossier, when and how: one row per staff page view, file download, API
    read or export. Written with one insert, read by administrators; deleted after
    ``ACCESS_LOG_RETENTION_DAYS`` by ``purge_access_log``."""

    class Kind(models.TextChoices):
        VIEW = "view", _("Viewed")
        DOWNLOAD = "download", _("Downloaded a file")
        EXPORT = "export", _("Exported")

    # Indexed by ``dossier_access_dossier_at`` below, which leads with the dossier.
    dossier = models.ForeignKey(
        Dossier,
        verbose_name=_("dossier"),
        on_delete=models.CASCADE,
        related_name="accesses",
        db_index=False,
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    at = models.DateTimeField(_("at"), db_index=True)
    kind = models.CharField(_("access"), max_length=16, choices=Kind.choices)
    attachment = models.ForeignKey(
        Attachment,
        verbose_name=_("attachment"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    class Meta:
        verbose_name = _("dossier access")
        verbose_name_plural = _("dossier access log")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["dossier", "-at"], name="dossier_access_dossier_at")]

    def __str__(self) -> str:
        return f"{self.dossier_id} {self.kind} {self.user_id} {self.at:%d/%m/%Y %H:%M}"
