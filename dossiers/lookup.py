"""The public lookup (tra cứu hồ sơ): a dossier's progress for whoever holds its code and the
applicant's phone number. No personal data is shown. Rate-limited."""

from django import forms
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.ratelimit import allow

from .choices import CITIZEN_STATUS
from .models import Dossier
from .selectors import public_lookup
from .workflow import open_timeliness


class LookupForm(forms.Form):
    code = forms.CharField(
        label=_("Dossier code"),
        max_length=48,
        help_text=_("As printed on the receipt, e.g. 000.00.15.H61-221102-0001."),
    )
    phone = forms.CharField(
        label=_("Applicant's phone number"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )


def lookup_result(dossier: Dossier) -> dict:
    """What the public may know of a dossier: progress and dates, nothing personal."""
    timeliness = (
        open_timeliness(timezone.now(), dossier.due_at, dossier.paused_at)
        if dossier.is_open
        else dossier.timeliness
    )
    return {
        "code": dossier.code,
        "procedure": {"code": dossier.procedure.code, "name": dossier.procedure.name},
        "unit": {"code": dossier.unit.code, "name": dossier.unit.name},
        "status": dossier.status,
        "status_text": str(CITIZEN_STATUS[dossier.status]),
        "received_at": dossier.received_at,
        "due_at": dossier.due_at,
        "promised_at": dossier.promised_at,
        "resolved_at": dossier.resolved_at,
        "returned_at": dossier.returned_at,
        "timeliness": timeliness or None,
    }


def lookup(request: HttpRequest) -> HttpResponse:
    form = LookupForm(request.GET if "phone" in request.GET else None, initial=request.GET)
    result = None
    status = 200
    if form.is_bound and form.is_valid():
        if not allow("lookup", request, limit=settings.LOOKUP_RATE_LIMIT, window_seconds=600):
            form.add_error(
                None, _("Too many lookups from your connection. Try again in a few minutes.")
            )
            status = 429
        else:
            dossier = public_lookup(
                code=form.cleaned_data["code"], phone=form.cleaned_data["phone"]
            )
            if dossier is None:
                form.add_error(None, _("No dossier matches this code and phone number."))
            else:
                result = lookup_result(dossier)
    return render(request, "dossiers/lookup.html", {"form": form, "result": result}, status=status)
