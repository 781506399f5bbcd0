from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from .choices import Role
from .selectors import user_roles


def navigation(request: HttpRequest) -> dict:
    """The menu each user sees: public pages for everyone, tools by role."""
    roles = user_roles(request.user) if hasattr(request, "user") else set()
    items = [
        {"label": _("Home"), "url": reverse("home"), "key": "home"},
        {"label": _("Procedures"), "url": reverse("procedures:catalogue"), "key": "catalogue"},
        {"label": _("Working calendar"), "url": reverse("procedures:calendar"), "key": "calendar"},
    ]
    if Role.ADMIN in roles or getattr(request.user, "is_staff", False):
        items.append({"label": _("Administration"), "url": reverse("admin:index"), "key": "admin"})
    match = getattr(request, "resolver_match", None)
    current = _ACTIVE_KEYS.get(match.view_name, "") if match else ""
    for item in items:
        item["active"] = item["key"] == current
    return {"nav_items": items, "user_roles": roles}


_ACTIVE_KEYS = {
    "home": "home",
    "procedures:catalogue": "catalogue",
    "procedures:detail": "catalogue",
    "procedures:calendar": "calendar",
}
