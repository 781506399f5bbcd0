"""The access log in the Django admin: read-only, for administrators only."""

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from .models import DossierAccess
from .services.access_log import may_read_access_log


@admin.register(DossierAccess)
class DossierAccessAdmin(admin.ModelAdmin):
    """Who opened which dossier. Search by dossier code or username; filter by kind and date.
    Nobody adds, edits or deletes a row here: the retention task deletes old ones."""

    list_display = ["at", "dossier_code", "user", "kind", "attachment", "ip"]
    list_filter = ["kind", "at"]
    search_fields = ["dossier__code", "user__username"]
    date_hierarchy = "at"
    list_select_related = ["dossier", "user", "attachment"]
    show_full_result_count = False  # no second COUNT(*) over a large table
    fields = ["at", "dossier", "user", "kind", "attachment", "ip"]
    readonly_fields = fields

    @admin.display(description=_("dossier code"), ordering="dossier__code")
    def dossier_code(self, access: DossierAccess) -> str:
        return access.dossier.code

    def has_module_permission(self, request: HttpRequest) -> bool:
        return may_read_access_log(request.user)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return may_read_access_log(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
