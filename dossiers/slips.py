"""The official printed forms of Thông tư 01/2018/TT-VPCP.

``slip`` prints one form for one dossier (Mẫu 01–05) on its own page, without the site's
chrome; ``register`` shows the tracking register (Mẫu 06) on screen, for print, or as XLSX.
Who may see a dossier is decided by ``selectors.dossier_detail`` alone.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import urlencode

from django import forms
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext, pgettext_lazy

from portal.models import Membership, Unit
from portal.ratelimit import client_address
from portal.selectors import is_staff_member, visible_units
from procedures.choices import DocumentKind

from .choices import Action, Status, Timeliness
from .exports import register_entries, register_filename, register_rows, register_workbook
from .models import Dossier, DossierDocument, DossierEvent, Pause
from .qr import qr_svg
from .selectors import dossier_detail
from .services import actor_roles
from .services.access_log import record_export
from .workflow import APPLICANT, resolution_timeliness

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
REGISTER_MAX_DAYS = 366


# --- Words and dates as the forms write them ------------------------------------------------


def person_name(user: User | None) -> str:
    """A Vietnamese full name, family name first; the username when no name is recorded."""
    if user is None:
        return ""
    return f"{user.last_name} {user.first_name}".strip() or user.get_username()


def official_date(value: datetime | date | None) -> str:
    """ "ngày 05 tháng 3 năm 2026" once translated: a date as official documents write it
    (Nghị định 30/2020: days below 10 and the months 1 and 2 take a leading zero)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = timezone.localtime(value).date()
    # Translators: a date on an official form, worded "ngày %(day)s tháng %(month)s năm %(year)s"
    return pgettext("official document date", "%(day)s/%(month)s/%(year)s") % {
        "day": f"{value.day:02d}",
        "month": f"{value.month:02d}" if value.month < 3 else str(value.month),
        "year": str(value.year),
    }


_UNIT_PREFIX = re.compile(r"^\s*(?:UBND|Ủy ban nhân dân|Uỷ ban nhân dân)\s+", re.IGNORECASE)
_LEVEL_PREFIX = re.compile(
    r"^(?:tỉnh|thành phố|huyện|quận|thị xã|thị trấn|xã|phường|đặc khu)\s+", re.IGNORECASE
)


def place_name(unit: Unit) -> str:
    """The place an official document is dated from: "UBND huyện Văn Yên" → "Văn Yên"."""
    name = _LEVEL_PREFIX.sub("", _UNIT_PREFIX.sub("", unit.name)).strip()
    return name or unit.name


def lookup_url(request: HttpRequest, code: str) -> str:
    """The absolute address of the public lookup page for ``code``: what the receipt's QR
    code holds."""
    try:
        path = reverse("lookup")
    except NoReverseMatch:
        path = "/lookup/"
    return request.build_absolute_uri(f"{path}?{urlencode({'code': code})}")


def _back_url(dossier: Dossier) -> str:
    try:
        return reverse("dossiers:detail", args=[dossier.code])
    except NoReverseMatch:
        return "/"


def _latest_pause(dossier: Dossier) -> Pause | None:
    pauses = sorted(dossier.pauses.all(), key=lambda pause: (pause.started_at, pause.pk))
    return pauses[-1] if pauses else None


def _last_event(dossier: Dossier, action: str) -> DossierEvent | None:
    events = [event for event in dossier.events.all() if event.action == action]
    return events[-1] if events else None


def _kind_label(kind: str) -> str:
    return str(DocumentKind(kind).label) if kind in DocumentKind.values else kind


# --- Which slips a dossier has ----------------------------------------------------------------


@dataclass(frozen=True)
class SlipKind:
    form_number: str  # legal text, printed as it is in both languages
    title: str
    template: str
    applies: Callable[[Dossier], bool]
    staff_only: bool = False


SLIPS: dict[str, SlipKind] = {
    "receipt": SlipKind(
        "Mẫu số 01",
        gettext_lazy("Receipt of dossier and appointment to return the result"),
        "dossiers/slips/receipt.html",
        lambda dossier: dossier.received_at is not None,
    ),
    "supplement": SlipKind(
        "Mẫu số 02",
        gettext_lazy("Request to supplement and complete the dossier"),
        "dossiers/slips/supplement.html",
        lambda dossier: _latest_pause(dossier) is not None,
    ),
    "refusal": SlipKind(
        "Mẫu số 03",
        gettext_lazy("Refusal to accept the dossier for processing"),
        "dossiers/slips/refusal.html",
        lambda dossier: dossier.status == Status.REFUSED,
    ),
    "apology": SlipKind(
        "Mẫu số 04",
        gettext_lazy("Apology and new appointment to return the result"),
        "dossiers/slips/apology.html",
        lambda dossier: dossier.apologized_at is not None,
    ),
    "control": SlipKind(
        "Mẫu số 05",
        gettext_lazy("Control sheet of the processing of the dossier"),
        "dossiers/slips/control.html",
        lambda dossier: dossier.received_at is not None,
        staff_only=True,
    ),
}


def _is_staff_of(dossier: Dossier, user: User | AnonymousUser) -> bool:
    return bool(actor_roles(dossier, user) - {APPLICANT})


def available_slips(dossier: Dossier, user: User | AnonymousUser) -> list[dict[str, str]]:
    """The slips ``user`` may print for a dossier they can see, for the dossier's page:
    ``[{"slip", "form_number", "title", "url"}]``."""
    staff = None
    result = []
    for name, kind in SLIPS.items():
        if not kind.applies(dossier):
            continue
        if kind.staff_only:
            staff = _is_staff_of(dossier, user) if staff is None else staff
            if not staff:
                continue
        result.append(
            {
                "slip": name,
                "form_number": kind.form_number,
                "title": str(kind.title),
                "url": reverse("dossiers:slip", args=[dossier.code, name]),
            }
        )
    return result


# --- What each slip shows -----------------------------------------------------------------------


def _receipt(request: HttpRequest, dossier: Dossier) -> dict:
    uploaded = {a.document_id for a in dossier.attachments.all() if a.document_id is not None}
    documents: list[DossierDocument] = [
        document
        for document in dossier.documents.all()
        if document.received or document.pk in uploaded
    ]
    for document in documents:
        document.kind_label = _kind_label(document.kind)  # type: ignore[attr-defined]
    url = lookup_url(request, dossier.code)
    return {
        "documents": documents,
        "lookup_url": url,
        "qr": qr_svg(url, title=_("Look the dossier up: %(code)s") % {"code": dossier.code}),
        "received_by_name": person_name(dossier.received_by),
        "dated": dossier.received_at,
    }


def _supplement(request: HttpRequest, dossier: Dossier) -> dict:
    pause = _latest_pause(dossier)
    assert pause is not None
    missing = [
        line.strip().lstrip("-•*+").strip()
        for line in pause.missing_documents.splitlines()
        if line.strip().lstrip("-•*+").strip()
    ]
    return {
        "pause": pause,
        "missing": missing,
        "requested_by_name": person_name(pause.requested_by),
        "dated": pause.started_at,
    }


def _refusal(request: HttpRequest, dossier: Dossier) -> dict:
    event = _last_event(dossier, Action.REFUSE)
    return {
        "refused_by_name": person_name(event.by) if event else "",
        "dated": dossier.closed_at,
    }


def _apology(request: HttpRequest, dossier: Dossier) -> dict:
    event = _last_event(dossier, Action.APOLOGIZE)
    return {
        "apologized_by_name": person_name(event.by) if event else "",
        "received_text": official_date(dossier.received_at),
        "due_text": official_date(dossier.due_at),
        "promised_text": official_date(dossier.promised_at),
        "dated": dossier.apologized_at,
    }


@dataclass
class ControlRow:
    """One hand-over of the dossier on the control sheet (Mẫu 05)."""

    step: str
    giver: str
    receiver: str
    at: datetime
    result: str
    note: str


def _due_before_first_pause(dossier: Dossier) -> datetime | None:
    for event in dossier.events.all():
        if event.action == Action.SUPPLEMENT and event.data.get("due_before"):
            return datetime.fromisoformat(event.data["due_before"])
    return dossier.due_at


def control_rows(dossier: Dossier) -> list[ControlRow]:
    """Every step of the dossier from its events: who handed it to whom, when, and whether
    that was before, on or after the due date in force at that moment (a supplement moves it;
    the supplement events record the due date before and after)."""
    applicant = _("%(name)s (applicant)") % {"name": dossier.applicant_name}

    def at_counter(user: User | None) -> str:
        name = person_name(user)
        return _("%(name)s (one-stop counter)") % {"name": name} if name else _("One-stop counter")

    due = _due_before_first_pause(dossier)
    tz = timezone.get_default_timezone()

    def judged(moment: datetime) -> str:
        if due is None:
            return ""
        return str(Timeliness(resolution_timeliness(moment, due, tz)).label)

    rows: list[ControlRow] = []
    for event in dossier.events.all():
        who = person_name(event.by) or "—"
        action = event.action
        if action in (Action.RECEIVE, Action.ACCEPT):
            note = _("Submitted online, accepted") if action == Action.ACCEPT else event.note
            row = ControlRow(_("Intake"), applicant, at_counter(event.by), event.at, "", note)
        elif action == Action.START:
            row = ControlRow(
                _("Passed on for processing"),
                at_counter(dossier.received_by),
                who,
                event.at,
                judged(event.at),
                event.note,
            )
        elif action == Action.ASSIGN:
            officer = event.data.get("officer", "—")
            row = ControlRow(_("Assigned"), who, officer, event.at, judged(event.at), event.note)
        elif action == Action.REQUEST_SUPPLEMENT:
            missing = event.data.get("missing", "")
            note = "; ".join(part for part in (missing, event.note) if part)
            row = ControlRow(
                _("Supplement requested"), who, applicant, event.at, judged(event.at), note
            )
        elif action == Action.SUPPLEMENT:
            if event.data.get("due_after"):
                due = datetime.fromisoformat(event.data["due_after"])
            row = ControlRow(
                _("Supplement received"), applicant, who, event.at, judged(event.at), event.note
            )
        elif action in (Action.RESOLVE, Action.REJECT):
            decided = dossier.timeliness in (Timeliness.EARLY, Timeliness.ON_TIME, Timeliness.LATE)
            row = ControlRow(
                _("Result issued") if action == Action.RESOLVE else _("Refusal decision issued"),
                who,
                _("One-stop counter"),
                event.at,
                str(Timeliness(dossier.timeliness).label) if decided else judged(event.at),
                event.note,
            )
        elif action == Action.RETURN:
            row = ControlRow(
                _("Result returned"),
                at_counter(event.by),
                applicant,
                event.at,
                judged(event.at),
                event.note,
            )
        elif action == Action.APOLOGIZE:
            note = event.note
            if event.data.get("promised_at"):
                promised = timezone.localtime(datetime.fromisoformat(event.data["promised_at"]))
                note = _("New date %(date)s. %(reason)s") % {
                    "date": f"{promised:%H:%M %d/%m/%Y}",
                    "reason": event.note,
                }
            row = ControlRow(_("Apology issued"), who, applicant, event.at, judged(event.at), note)
        elif action in (Action.WITHDRAW, Action.STOP):
            row = ControlRow(str(Action(action).label), who, "", event.at, "", event.note)
        else:  # submit, attach, import: not a hand-over
            continue
        rows.append(row)
    return rows


def _control(request: HttpRequest, dossier: Dossier) -> dict:
    return {
        "rows": control_rows(dossier),
        "received_by_name": person_name(dossier.received_by),
        "assigned_to_name": person_name(dossier.assigned_to),
        "dated": dossier.received_at,
    }


_BUILDERS: dict[str, Callable[[HttpRequest, Dossier], dict]] = {
    "receipt": _receipt,
    "supplement": _supplement,
    "refusal": _refusal,
    "apology": _apology,
    "control": _control,
}


@login_required
def slip(request: HttpRequest, code: str, slip: str) -> HttpResponse:
    """One printed form of one dossier: 404 unless the user may see the dossier and the form
    applies to it (the control sheet is for staff only)."""
    kind = SLIPS.get(slip)
    if kind is None:
        raise Http404(_("There is no such slip."))
    try:
        dossier = dossier_detail(user=request.user, code=code)
    except Dossier.DoesNotExist:
        raise Http404(_("No dossier has the code %(code)s.") % {"code": code}) from None
    if not kind.applies(dossier) or (kind.staff_only and not _is_staff_of(dossier, request.user)):
        raise Http404(_("This slip does not apply to this dossier."))
    context = {
        "dossier": dossier,
        "unit": dossier.unit,
        "procedure": dossier.procedure,
        "slip": slip,
        "form_number": kind.form_number,
        "slip_title": kind.title,
        "place": place_name(dossier.unit),
        "back_url": _back_url(dossier),
        **_BUILDERS[slip](request, dossier),
    }
    context["dated_text"] = official_date(context.get("dated"))
    return render(request, kind.template, context)


# --- Mẫu 06: the tracking register -------------------------------------------------------------


class DateInput(forms.DateInput):
    """dd/mm/yyyy typed as text: a browser's date picker shows the browser's own order."""

    def __init__(self, **kwargs):
        attrs = {"placeholder": "dd/mm/yyyy", "inputmode": "numeric", "size": 10}
        super().__init__(format="%d/%m/%Y", attrs=attrs, **kwargs)


class RegisterForm(forms.Form):
    unit = forms.ModelChoiceField(
        label=gettext_lazy("Unit"),
        queryset=Unit.objects.none(),
        to_field_name="code",
        empty_label=None,
    )
    start = forms.DateField(label=pgettext_lazy("period", "From"), widget=DateInput())
    end = forms.DateField(label=pgettext_lazy("period", "To"), widget=DateInput())

    def __init__(self, *args, units, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units

    def clean(self) -> dict:
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                raise forms.ValidationError(_("The end of the period is before its start."))
            if end - start > timedelta(days=REGISTER_MAX_DAYS - 1):
                raise forms.ValidationError(
                    _("Choose a period of at most %(days)d days.") % {"days": REGISTER_MAX_DAYS}
                )
        return data


def _default_unit(user: User) -> Unit | None:
    membership = Membership.objects.filter(user=user).select_related("unit").order_by("id").first()
    if membership is not None:
        return membership.unit
    return visible_units(user).order_by("path").first()


@login_required
def register(request: HttpRequest) -> HttpResponse:
    """Sổ theo dõi hồ sơ (Mẫu 06) of a unit's subtree for a period: for staff only."""
    user = request.user
    assert isinstance(user, User)
    if not (user.is_superuser or is_staff_member(user)):
        raise PermissionDenied(_("The tracking register is for the staff of a unit."))
    units = visible_units(user).order_by("path")
    wants_xlsx = request.GET.get("format") == "xlsx"
    today = timezone.localdate()
    first = today.replace(day=1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    data = {
        "unit": request.GET.get("unit") or "",
        "start": request.GET.get("start") or f"{first:%d/%m/%Y}",
        "end": request.GET.get("end") or f"{last:%d/%m/%Y}",
    }
    if not data["unit"]:
        default = _default_unit(user)
        data["unit"] = default.code if default else ""
    form = RegisterForm(data, units=units)
    if not form.is_valid():
        if "unit" in form.errors and Unit.objects.filter(code=data["unit"]).exists():
            raise Http404(_("This unit is outside the units you work for."))
        return render(
            request,
            "dossiers/slips/register.html",
            {"form": form, "entries": None},
            status=400 if wants_xlsx else 200,
        )
    unit, start, end = (form.cleaned_data[key] for key in ("unit", "start", "end"))
    entries = list(register_entries(unit=unit, start=start, end=end, now=timezone.now()))
    if wants_xlsx:
        record_export(dossiers=entries, user=user, ip=client_address(request))
        response = HttpResponse(
            register_workbook(unit=unit, start=start, end=end, entries=entries),
            content_type=XLSX_CONTENT_TYPE,
        )
        filename = register_filename(unit=unit, start=start, end=end)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
    xlsx_query = urlencode(
        {"unit": unit.code, "start": start.isoformat(), "end": end.isoformat(), "format": "xlsx"}
    )
    return render(
        request,
        "dossiers/slips/register.html",
        {
            "form": form,
            "unit": unit,
            "start": start,
            "end": end,
            "entries": entries,
            "rows": register_rows(entries),
            "column_numbers": range(1, 14),
            # print widths in %: TT, code, procedure, sets, name, address, unit, 4 × time,
            # signature, notes
            "column_widths": [4, 12, 12, 5, 9, 11, 8, 6, 6, 6, 6, 6, 9],
            "xlsx_query": xlsx_query,
        },
    )
