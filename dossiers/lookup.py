"""The public lookup (tra cứu hồ sơ): a dossier's progress for whoever holds its code and the
applicant's phone number. No personal data is shown. Rate-limited.

A found dossier's page is filled into markup kept rendered per shape (``portal.kept_pages``):
the status, the timeliness and which dates it has decide the markup; what the visitor typed,
the code, the procedure, the unit and the dates are its holes."""

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.kept_pages import Holes, kept_page

from .choices import CITIZEN_STATUS, OPEN_STATUSES
from .lookup_cache import look_up
from .templatetags.dossier_tags import local_date
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


# The dates the page shows when the dossier has them, in this order.
_DATES = (
    ("received_at", _("Received at")),
    ("due_at", _("Result due")),
    ("promised_at", _("New promised date")),
    ("resolved_at", _("Result issued at")),
    ("returned_at", _("Handed over at")),
)


def lookup(request: HttpRequest) -> HttpResponse:
    """The form, and below it the dossier found by code and phone: a found dossier's page
    filled into its kept markup where it may be (``kept_pages``), else rendered in full."""
    if "phone" not in request.GET:
        return _page(request, LookupForm(initial=request.GET))
    cleaned, errors = lookup_params(request.GET)
    if errors:
        return _page(request, _bound(request))
    code, phone = cleaned["code"], cleaned["phone"]
    hit, row = look_up(scope="lookup", request=request, code=code, phone=phone)
    if not hit.allowed:
        message = _("Too many lookups from your connection. Try again in a few minutes.")
        return _page(request, _bound(request, message), status=429)
    if row is None:
        return _page(request, _bound(request, _("No dossier matches this code and phone number.")))
    result = lookup_result(row)
    shown = [(name, label) for name, label in _DATES if result[name]]
    zone = timezone.get_current_timezone()  # the visitor's, as the template's filters use it
    result["dates"] = [
        (label, local_date(result[name].astimezone(zone), "H:i d/m/Y")) for name, label in shown
    ]
    html = kept_page(
        request,
        "dossiers/lookup.html",
        shape=(result["status"], result["timeliness"], tuple(name for name, _label in shown)),
        context=lambda holes: _with_holes(result, holes),
        fills={
            "typed_code": request.GET["code"],
            "typed_phone": request.GET["phone"],
            "code": result["code"],
            "procedure": result["procedure"]["name"],
            "unit": result["unit"]["name"],
            **{f"date{index}": when for index, (_label, when) in enumerate(result["dates"])},
        },
    )
    if html is not None:
        return HttpResponse(html)
    return _page(request, _bound(request), result)


def _with_holes(result: dict[str, Any], holes: Holes) -> dict[str, Any]:
    """The page's context with a hole for each value ``kept_page``'s fills give: what the
    visitor typed, the dossier's code, procedure, unit and dates."""
    form = LookupForm({"code": holes["typed_code"], "phone": holes["typed_phone"]})
    form.is_valid()
    dates = [(label, holes[f"date{index}"]) for index, (label, _when) in enumerate(result["dates"])]
    return {
        "form": form,
        "result": {
            **result,
            "code": holes["code"],
            "procedure": {"name": holes["procedure"]},
            "unit": {"name": holes["unit"]},
            "dates": dates,
        },
    }


def _bound(request: HttpRequest, error: str | None = None) -> LookupForm:
    """The form as the visitor filled it in, cleaned, with ``error`` for the whole form."""
    form = LookupForm(request.GET, initial=request.GET)
    if form.is_valid() and error is not None:
        form.add_error(None, error)
    return form


def _page(
    request: HttpRequest,
    form: LookupForm,
    result: dict[str, Any] | None = None,
    *,
    status: int = 200,
) -> HttpResponse:
    return render(request, "dossiers/lookup.html", {"form": form, "result": result}, status=status)
