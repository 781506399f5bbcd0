from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from .choices import Role
from .links import login_link, page_url
from .selectors import user_roles


def request_roles(request: HttpRequest) -> set[str]:
    """The roles of the request's user, read once per request: the view that asks first (to
    authorise) and the menu share the one query."""
    roles = getattr(request, "_portal_user_roles", None)
    if roles is None:
        roles = user_roles(request.user) if hasattr(request, "user") else set()
        request._portal_user_roles = roles  # type: ignore[attr-defined]
    return roles


def navigation(request: HttpRequest) -> dict:
    """The menu each user sees (public pages for everyone, tools by role), the page's own
    address and the login link back to it."""
    roles = request_roles(request)
    items = [
        {"label": _("Home"), "url": page_url("home"), "key": "home"},
        {"label": _("Procedures"), "url": page_url("procedures:catalogue"), "key": "catalogue"},
    ]
    if not roles:  # the public and citizens; staff find both in the footer
        if getattr(request, "user", None) is not None and request.user.is_authenticated:
            items.append({"label": _("My dossiers"), "url": page_url("dossiers:my"), "key": "my"})
        items += [
            {"label": _("Look up a dossier"), "url": page_url("lookup"), "key": "lookup"},
            {
                "label": _("Results"),
                "url": page_url("reports:public-results"),
                "key": "results",
            },
            {
                "label": _("Working calendar"),
                "url": page_url("procedures:calendar"),
                "key": "calendar",
            },
        ]
    else:  # staff: a membership anywhere, or a superuser
        items.append(
            {"label": _("Dossiers"), "url": page_url("dossiers:worklist"), "key": "dossiers"}
        )
        if Role.COUNTER_OFFICER in roles or getattr(request.user, "is_superuser", False):
            items.append(
                {
                    "label": _("Receive a dossier"),
                    "url": page_url("dossiers:intake"),
                    "key": "intake",
                }
            )
        if Role.MANAGER in roles or getattr(request.user, "is_superuser", False):
            items += [
                {
                    "label": _("Dashboard"),
                    "url": page_url("reports:dashboard"),
                    "key": "dashboard",
                },
                {
                    "label": _("Overdue dossiers"),
                    "url": page_url("dossiers:overdue"),
                    "key": "overdue",
                },
                {"label": _("Reports"), "url": page_url("reports:monthly"), "key": "reports"},
            ]
        items.append(
            {
                "label": _("Tracking register"),
                "url": page_url("dossiers:register"),
                "key": "register",
            }
        )
    if Role.ADMIN in roles or getattr(request.user, "is_staff", False):
        items.append({"label": _("Administration"), "url": page_url("admin:index"), "key": "admin"})
    match = getattr(request, "resolver_match", None)
    current = _ACTIVE_KEYS.get(match.view_name, "") if match else ""
    for item in items:
        item["active"] = item["key"] == current
    path = request.get_full_path()
    return {
        "nav_items": items,
        "user_roles": roles,
        "current_path": path,  # where the language switch comes back to
        "login_link": login_link(path),
    }


_ACTIVE_KEYS = {
    "home": "home",
    "procedures:catalogue": "catalogue",
    "procedures:detail": "catalogue",
    "procedures:calendar": "calendar",
    "lookup": "lookup",
    "reports:public-results": "results",
    "reports:dashboard": "dashboard",
    "reports:monthly": "reports",
    "reports:print": "reports",
    "dossiers:worklist": "dossiers",
    "dossiers:detail": "dossiers",
    "dossiers:slip": "dossiers",
    "dossiers:intake": "intake",
    "dossiers:register": "register",
    "dossiers:overdue": "overdue",
    "dossiers:my": "my",
    "dossiers:my-detail": "my",
    "dossiers:my-submitted": "my",
    "dossiers:submit": "catalogue",
    "dossiers:submit-documents": "catalogue",
}
