from django.db import models
from django.utils.translation import gettext_lazy as _


class UnitLevel(models.TextChoices):
    PROVINCE = "province", _("Province")
    DISTRICT = "district", _("District")
    COMMUNE = "commune", _("Commune")


class Role(models.TextChoices):
    COUNTER_OFFICER = "counter_officer", _("Counter officer")
    PROCESSING_OFFICER = "processing_officer", _("Processing officer")
    MANAGER = "manager", _("Manager")
    ADMIN = "admin", _("Administrator")


class MessageChannel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("SMS")


class MessageStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    SENDING = "sending", _("Being sent")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
