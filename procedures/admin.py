from django.contrib import admin, messages
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .choices import CalendarDaySource
from .models import CalendarDay, DocumentComponent, Field, Procedure
from .services import recompute_open_deadlines, seed_holidays


class DocumentInline(admin.TabularInline):
    model = DocumentComponent
    extra = 1
    fields = ["sort_order", "name", "kind", "count", "required"]


@admin.register(Field)
class FieldAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "sort_order"]
    list_editable = ["sort_order"]
    search_fields = ["name", "code"]
    prepopulated_fields = {"code": ["name"]}


@admin.register(Procedure)
class ProcedureAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "name",
        "field",
        "level",
        "time_limit_value",
        "time_limit_unit",
        "online_level",
        "is_active",
    ]
    list_filter = ["is_active", "level", "online_level", "time_limit_unit", "field"]
    search_fields = ["code", "name", "search_text"]
    list_select_related = ["field"]
    inlines = [DocumentInline]
    fieldsets = [
        (None, {"fields": ["code", "name", "field", "level", "is_active"]}),
        (
            _("Time limit"),
            {"fields": [("time_limit_value", "time_limit_unit", "same_day"), "time_limit_note"]},
        ),
        (
            _("Fees and channels"),
            {"fields": ["fee", "fee_amount", "online_level", "postal_allowed"]},
        ),
        (_("Published details"), {"fields": ["applicants", "result", "legal_basis", "steps"]}),
    ]


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    list_display = ["date", "kind", "name", "unit", "source", "created_by"]
    list_filter = ["kind", "source", ("unit", admin.EmptyFieldListFilter)]
    search_fields = ["name"]
    date_hierarchy = "date"
    autocomplete_fields = ["unit"]
    fields = ["date", "kind", "name", "unit"]
    actions = ["seed_public_holidays"]

    # The admin's views run in a transaction: the calendar change and the due dates it moves
    # (``recompute_open_deadlines``) are saved together or not at all.

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
            obj.source = CalendarDaySource.ADMIN
        before = CalendarDay.objects.filter(pk=obj.pk).first() if change else None
        super().save_model(request, obj, form, change)
        if before is not None and (before.date, before.unit_id) != (obj.date, obj.unit_id):
            _recompute_for(before, request.user)  # the day it no longer is
        _recompute_for(obj, request.user)

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        _recompute_for(obj, request.user)

    @transaction.atomic
    def delete_queryset(self, request, queryset):  # the changelist's bulk delete action
        days = list(queryset.select_related("unit"))
        super().delete_queryset(request, queryset)
        for day in days:
            _recompute_for(day, request.user)

    @admin.action(description=_("Add the public holidays of this year and the next"))
    def seed_public_holidays(self, request, queryset):
        year = timezone.localdate().year
        result = seed_holidays(years=[year, year + 1])
        self.message_user(
            request,
            ngettext("%(count)d holiday added.", "%(count)d holidays added.", result.created)
            % {"count": result.created},
            messages.SUCCESS,
        )


def _recompute_for(calendar_day: CalendarDay, by) -> None:
    recompute_open_deadlines(
        days={calendar_day.date: calendar_day.name}, unit=calendar_day.unit, by=by
    )
