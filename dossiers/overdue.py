"""The managers' overdue page: the open dossiers of their units that are past their due time,
most late first, with a count per unit."""

from collections import Counter

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from portal.choices import Role
from portal.context_processors import request_roles

from . import selectors


@login_required
@require_GET
def overdue(request: HttpRequest) -> HttpResponse:
    """Hồ sơ quá hạn, for managers and superusers."""
    if not (request.user.is_superuser or Role.MANAGER in request_roles(request)):
        return render(
            request,
            "dossiers/forbidden.html",
            {"message": _("The overdue dossiers page is for managers.")},
            status=403,
        )
    rows = selectors.overdue_dossiers(user=request.user, now=timezone.now())
    units = {row.dossier.unit_id: row.dossier.unit for row in rows}
    counts = Counter(row.dossier.unit_id for row in rows)
    per_unit = sorted(
        ((units[pk], count) for pk, count in counts.items()),
        key=lambda item: (-item[1], item[0].name),
    )
    return render(request, "dossiers/overdue.html", {"rows": rows, "per_unit": per_unit})
