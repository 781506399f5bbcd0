from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import Heartbeat, Membership, Unit
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
