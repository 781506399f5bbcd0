from django.contrib import admin, messages
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .choices import MessageStatus
from .models import Heartbeat, Membership, OutboxMessage, Profile, Unit
from .services import save_unit


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "level", "parent", "valid_from", "valid_to"]
    list_filter = ["level"]
    search_fields = ["name", "code"]
    autocomplete_fields = ["parent"]
    inlines = [MembershipInline]
    fieldsets = [
        (None, {"fields": ["code", "name", "level", "parent", "address", "phone"]}),
        (_("Validity"), {"fields": ["valid_from", "valid_to"]}),
        (
            _("Office hours"),
            {
                "fields": [
                    ("morning_open", "morning_close"),
                    ("afternoon_open", "afternoon_close"),
                    "working_weekdays",
                    "same_day_cutoff",
                ]
            },
        ),
    ]

    def save_model(self, request, obj, form, change):
        save_unit(unit=obj)  # keeps the subtree's paths; the form already ran full_clean()


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "unit", "created_at"]
    list_filter = ["role", "unit__level"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "unit__name"]
    autocomplete_fields = ["user", "unit"]


@admin.register(Heartbeat)
class HeartbeatAdmin(admin.ModelAdmin):
    list_display = ["name", "at", "detail"]
    readonly_fields = ["name", "at", "detail"]

    def has_add_permission(self, request):
        return False


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "full_name", "phone", "id_number", "email_verified_at"]
    search_fields = ["user__username", "user__email", "full_name", "phone", "id_number"]
    autocomplete_fields = ["user"]
    list_select_related = ["user"]


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    """The outbox as the worker sees it: what is waiting, what failed and why. Read-only; a
    failed message can be sent again."""

    list_display = [
        "created_at",
        "channel",
        "recipient",
        "reference",
        "status",
        "attempts",
        "available_at",
        "sent_at",
    ]
    list_filter = ["status", "channel"]
    search_fields = ["recipient", "reference"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "channel",
        "recipient",
        "subject",
        "body",
        "key",
        "reference",
        "status",
        "attempts",
        "last_error",
        "available_at",
        "created_at",
        "sent_at",
    ]
    fields = readonly_fields
    actions = ["send_again"]

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Send again"), permissions=["change"])
    def send_again(self, request, queryset):
        """Give failed messages a fresh round of attempts; the next delivery run sends them."""
        count = queryset.filter(status=MessageStatus.FAILED).update(
            status=MessageStatus.PENDING, attempts=0, available_at=timezone.now()
        )
        self.message_user(
            request,
            ngettext(
                "%(count)d failed message will be sent again.",
                "%(count)d failed messages will be sent again.",
                count,
            )
            % {"count": count},
            messages.SUCCESS if count else messages.WARNING,
        )
