"""The public lookup (tra cứu hồ sơ): a dossier's progress for whoever holds its code and the
applicant's phone number. No personal data is shown. Rate-limited."""

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .choices import CITIZEN_STATUS, OPEN_STATUSES
from .lookup_cache import look_up
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


def lookup_params(data: Any) -> tuple[dict[str, str], dict[str, list[str]]]:
    """The code and phone of ``data`` (a QueryDict) cleaned by ``LookupForm``'s fields, and the
    errors by field name: the form's own cleaning and messages, without building a form and
    its widgets (the API, the busiest caller, renders none)."""
    cleaned: dict[str, str] = {}
    errors: dict[str, list[str]] = {}
    for name, field in LookupForm.base_fields.items():
        try:
            cleaned[name] = field.clean(field.widget.value_from_datadict(data, {}, name))
        except ValidationError as error:
            errors[name] = error.messages
    return cleaned, errors


def lookup_result(row: dict[str, Any]) -> dict[str, Any]:
    """What the public may know of a dossier (``lookup_cache.look_up``'s row): progress and
    dates, nothing personal."""
    status = row["status"]
    timeliness = (
        open_timeliness(timezone.now(), row["due_at"], row["paused_at"])
        if status in OPEN_STATUSES
        else row["timeliness"]
    )
    return {
        "code": row["code"],
        "procedure": {"code": row["procedure__code"], "name": row["procedure__name"]},
        "unit": {"code": row["unit__code"], "name": row["unit__name"]},
        "status": status,
        "status_text": str(CITIZEN_STATUS[status]),
        "received_at": row["received_at"],
        "due_at": row["due_at"],
        "promised_at": row["promised_at"],
        "resolved_at": row["resolved_at"],
        "returned_at": row["returned_at"],
        "timeliness": timeliness or None,
    }


def lookup(request: HttpRequest) -> HttpResponse:
    form = LookupForm(request.GET if "phone" in request.GET else None, initial=request.GET)
    result = None
    status = 200
    if form.is_bound and form.is_valid():
        hit, row = look_up(
            scope="lookup",
            request=request,
            code=form.cleaned_data["code"],
            phone=form.cleaned_data["phone"],
        )
        if not hit.allowed:
            form.add_error(
                None, _("Too many lookups from your connection. Try again in a few minutes.")
            )
            status = 429
        elif row is None:
            form.add_error(None, _("No dossier matches this code and phone number."))
        else:
            result = lookup_result(row)
    return render(request, "dossiers/lookup.html", {"form": form, "result": result}, status=status)
