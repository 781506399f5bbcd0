"""The staff pages of dossiers: the worklist, intake, a dossier's page with its actions and files.

Each view authorises, validates its input with a form, calls one service or selector and
renders. Service errors become HTTP answers the same way everywhere:
``DossierPermissionError`` → 403 page, ``DossierActionError`` → 409 with the message on the
dossier's page, ``ValidationError`` → the form's errors (400). A refused request changes nothing.
"""

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from portal import paging
from portal.choices import Role
from portal.context_processors import request_roles
from portal.paging import CappedPaginator, UncountedPaginator
from portal.ratelimit import client_address
from procedures.deadline_text import describe_trace
from procedures.selectors import procedure_deadline

from . import selectors, services
from .choices import TO_DO_STATUSES, Action, AttachmentKind, Status, Timeliness
from .filters import ALL, TO_DO
from .forms import (
    ACTION_FORMS,
    IntakeChoiceForm,
    IntakeForm,
    UploadForm,
    action_form,
    officer_label,
    worklist_filter_form,
)
from .models import Attachment, Dossier, DossierAccess
from .privacy import id_number_policy
from .services import access_log
from .services.attachments import attachment_disposition
from .workflow import TRANSITIONS

PAGE_SIZE = 25


def _is_staff(request: HttpRequest) -> bool:
    """A member of any unit, or a superuser (who holds ``admin``)."""
    return bool(request_roles(request))


def _may_receive(request: HttpRequest) -> bool:
    return request.user.is_superuser or Role.COUNTER_OFFICER in request_roles(request)


def _forbidden(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "dossiers/forbidden.html", {"message": message}, status=403)


def _visible_dossier(request: HttpRequest, code: str) -> Dossier:
    """The dossier with this code if the user may see it; 404 otherwise (whether it exists
    elsewhere is nobody's business)."""
    try:
        return selectors.dossier_detail(user=request.user, code=code)
    except Dossier.DoesNotExist:
        raise Http404(_("No dossier you may see has the code %(code)s.") % {"code": code}) from None


def _add_service_errors(form: forms.Form, error: ValidationError, rename: dict | None = None):
    """Put a service's ValidationError on the form: on the field of the same name (or renamed),
    else at the top."""
    rename = rename or {}
    if not hasattr(error, "error_dict"):
        for message in error.messages:
            form.add_error(None, message)
        return
    for key, messages_ in error.message_dict.items():
        field = rename.get(key, key)
        for message in messages_:
            form.add_error(field if field in form.fields else None, message)


# --- Worklist -------------------------------------------------------------------------------------

# Quick links over the worklist: (key, label, the filter they set). "To do" is where the page
# opens; "All" holds the years of finished dossiers.
TABS: list[tuple[str, Any, dict[str, str]]] = [
    ("todo", gettext_lazy("To do"), {"scope": TO_DO}),
    ("submitted", Status.SUBMITTED.label, {"status": Status.SUBMITTED}),
    ("received", Status.RECEIVED.label, {"status": Status.RECEIVED}),
    ("in_progress", Status.IN_PROGRESS.label, {"status": Status.IN_PROGRESS}),
    ("supplement", Status.SUPPLEMENT_REQUESTED.label, {"status": Status.SUPPLEMENT_REQUESTED}),
    ("overdue", Timeliness.OVERDUE.label, {"timeliness": Timeliness.OVERDUE}),
    ("resolved", Status.RESOLVED.label, {"status": Status.RESOLVED}),
    ("all", gettext_lazy("All"), {"scope": ALL}),
]
_TAB_PARAMETERS = ("scope", "status", "timeliness")


def _active_tab(form) -> str | None:
    """The quick link whose filter the form holds, if any."""
    data = form.cleaned_data if form.is_valid() else {}
    current = {name: data.get(name) or "" for name in _TAB_PARAMETERS}
    for key, _label, params in TABS:
        if dict.fromkeys(_TAB_PARAMETERS, "") | params == current:
            return key
    return None


def _tabs(counts: dict[str, int | bool], active: str | None) -> list[dict]:
    return [
        {
            "key": key,
            "label": label,
            "query": "&".join(f"{name}={value}" for name, value in params.items()),
            "count": counts[key],
            "more": counts.get(f"{key}_more", False),
            "active": key == active,
        }
        for key, label, params in TABS
    ]


def _tab_count(counts: dict[str, int | bool], form, active: str | None) -> tuple[int, bool] | None:
    """The list's length as ``CappedPaginator`` counts it, when the list is exactly its quick
    link's (no other filter): the quick links have counted it already."""
    if active is None or any(
        value for name, value in form.cleaned_data.items() if name not in (*_TAB_PARAMETERS, "sort")
    ):
        return None
    count, more = int(counts[active]), bool(counts.get(f"{active}_more", False))
    return min(count, paging.COUNT_CAP), more or count > paging.COUNT_CAP


_MAIN_FILTERS = ("search", "status", "timeliness", "sort")
_MORE_FILTERS = ("channel", "procedure", "field", "unit", "received_from", "received_to")


@login_required
@require_GET
def worklist(request: HttpRequest) -> HttpResponse:
    """The dossiers of the user's units, filtered, sorted and paged, with the time left."""
    if not _is_staff(request):
        return _forbidden(request, _("The dossier worklist is for the staff of the counters."))
    now = timezone.now()
    dossiers = selectors.worklist_page(user=request.user)
    counts = selectors.worklist_counts(user=request.user, now=now)
    query = request.GET.copy()
    if not any(value for name, value in query.items() if name not in ("page", "sort")):
        query["scope"] = TO_DO  # the page opens on the work still to be done
    form = worklist_filter_form(query, user=request.user)
    listed = (
        form.apply(dossiers, now=now)
        if form.is_valid()
        else dossiers.filter(status__in=TO_DO_STATUSES).order_by("due_at", "id")
    )
    if form.is_valid() and not form.cleaned_data.get("sort"):
        query["sort"] = form.default_sort()  # the select shows the order the list is in
    active = _active_tab(form)
    if form.is_valid() and form.cleaned_data.get("search"):
        paginator: Paginator = UncountedPaginator(listed, PAGE_SIZE)
    else:
        paginator = CappedPaginator(listed, PAGE_SIZE, counted=_tab_count(counts, form, active))
    page = paginator.get_page(request.GET.get("page"))
    rows = selectors.page_rows(list(page.object_list), now)
    query.pop("page", None)
    filtered = any(
        value for name, value in request.GET.items() if name not in ("page", "sort", "scope")
    )
    return render(
        request,
        "dossiers/worklist.html",
        {
            "form": form,
            "main_fields": [form[name] for name in _MAIN_FILTERS],
            "more_fields": [form[name] for name in _MORE_FILTERS],
            "more_open": any(request.GET.get(name) for name in _MORE_FILTERS),
            "page": page,
            "rows": rows,
            "query": query.urlencode(),
            "filtered": filtered,
            "tabs": _tabs(counts, active),
            "may_receive": _may_receive(request),
        },
    )


# --- Intake ---------------------------------------------------------------------------------------


def _deadline_preview(choice: IntakeChoiceForm) -> dict:
    """When a dossier received now would be due, and why: for the officer to read out."""
    procedure, unit = choice.cleaned_data["procedure"], choice.cleaned_data["unit"]
    deadline = procedure_deadline(procedure=procedure, unit=unit, received_at=timezone.now())
    return {
        "procedure": procedure,
        "unit": unit,
        "due_at": deadline.due_at,
        "trace": describe_trace(deadline.trace),
    }


def _intake_choice(request: HttpRequest, data, **kwargs) -> IntakeChoiceForm:
    search = (data or kwargs.get("initial") or {}).get("q", "")
    return IntakeChoiceForm(data, user=request.user, search=search, **kwargs)


def _render_choice(
    request: HttpRequest, choice: IntakeChoiceForm, *, preview=None, status=200
) -> HttpResponse:
    return render(
        request,
        "dossiers/intake_choose.html",
        {"choice": choice, "preview": preview},
        status=status,
    )


def _render_intake(
    request: HttpRequest, choice: IntakeChoiceForm, form: IntakeForm, *, status=200
) -> HttpResponse:
    return render(
        request,
        "dossiers/intake_form.html",
        {"choice": choice, "form": form, "preview": _deadline_preview(choice)},
        status=status,
    )


def _initial_from(form_class: type[forms.Form], data) -> dict:
    """What was typed, as initial values: the form shows it again without judging it."""
    initial: dict[str, Any] = {}
    for name, field in form_class.base_fields.items():
        if isinstance(field, forms.MultipleChoiceField):
            initial[name] = data.getlist(name)
        elif isinstance(field, forms.BooleanField):
            initial[name] = name in data
        elif name in data:
            initial[name] = data.get(name)
    return initial


@login_required
def intake(request: HttpRequest) -> HttpResponse:
    """In-person and postal intake in two steps: (1) unit and procedure, with the due date a
    dossier received now would get; (2) channel, applicant, documents → the receipt slip."""
    if not _may_receive(request):
        return _forbidden(request, _("Only counter officers receive dossiers."))
    if request.method == "POST":
        return _intake_save(request)
    if not request.GET:
        return _render_choice(request, _intake_choice(request, None))
    if "filter" in request.GET:  # the no-script search of the procedure list
        return _render_choice(request, _intake_choice(request, None, initial=request.GET.dict()))
    choice = _intake_choice(request, request.GET)
    if not choice.is_valid():
        return _render_choice(request, choice)
    if "preview" in request.GET:
        return _render_choice(request, choice, preview=_deadline_preview(choice))
    form = IntakeForm(procedure=choice.cleaned_data["procedure"])
    return _render_intake(request, choice, form)


def _intake_save(request: HttpRequest) -> HttpResponse:
    choice = _intake_choice(request, request.POST)
    if not choice.is_valid():
        return _render_choice(request, choice, status=400)
    procedure, unit = choice.cleaned_data["procedure"], choice.cleaned_data["unit"]
    if "preview" in request.POST:
        form = IntakeForm(initial=_initial_from(IntakeForm, request.POST), procedure=procedure)
        return _render_intake(request, choice, form)
    form = IntakeForm(request.POST, procedure=procedure)
    if form.is_valid():
        data = form.cleaned_data
        asked_at = timezone.now()
        try:
            dossier = services.receive_dossier(
                procedure=procedure,
                unit=unit,
                channel=data["channel"],
                applicant=form.applicant(),
                by=request.user,
                documents=data["documents"],
                postal_tracking_no=data["postal_tracking_no"],
                note=data["note"],
                digitized_intake=data["digitized_intake"],
                submission_key=data["submission_key"],
            )
        except services.DossierPermissionError as error:
            return _forbidden(request, str(error))
        except ValidationError as error:
            _add_service_errors(form, error)
        else:
            if dossier.received_at is not None and dossier.received_at < asked_at:
                # The form's one-time key had already made this dossier: sent twice.
                messages.info(
                    request,
                    _(
                        "This form was already sent: dossier %(code)s was received at "
                        "%(at)s and nothing new was recorded. Here is its receipt."
                    )
                    % {
                        "code": dossier.code,
                        "at": date_format(timezone.localtime(dossier.received_at), "H:i d/m/Y"),
                    },
                )
            else:
                messages.success(
                    request,
                    _("Dossier %(code)s received. Print the receipt for the applicant.")
                    % {"code": dossier.code},
                )
            return redirect("dossiers:slip", code=dossier.code, slip="receipt")
    return _render_intake(request, choice, form, status=400)


@login_required
@require_GET
def deadline_preview(request: HttpRequest) -> HttpResponse:
    """``?procedure=&unit=`` → the due date of a dossier received now, as an HTML fragment for
    the intake page's script."""
    if not _may_receive(request):
        return _forbidden(request, _("Only counter officers receive dossiers."))
    choice = _intake_choice(request, request.GET)
    if not choice.is_valid():
        return render(
            request, "dossiers/_deadline_preview.html", {"errors": choice.errors}, status=400
        )
    return render(
        request, "dossiers/_deadline_preview.html", {"preview": _deadline_preview(choice)}
    )


# --- A dossier's page -----------------------------------------------------------------------------

# Statuses in which no file can be added any more (``services.add_attachment`` refuses them).
_NO_UPLOADS = {Status.RETURNED, Status.WITHDRAWN, Status.STOPPED, Status.REFUSED}


def _slips(dossier: Dossier, *, staff: bool) -> list[tuple[str, str]]:
    """The printed forms (Thông tư 01/2018/TT-VPCP) that apply to the dossier now."""
    slips = []
    if dossier.received_at:
        slips.append(("receipt", _("Receipt and appointment slip (Mẫu 01)")))
    if dossier.pauses.all():
        slips.append(("supplement", _("Supplement request (Mẫu 02)")))
    if dossier.status == Status.REFUSED:
        slips.append(("refusal", _("Refusal slip (Mẫu 03)")))
    if dossier.apologized_at:
        slips.append(("apology", _("Apology and new appointment slip (Mẫu 04)")))
    if staff:
        slips.append(("control", _("Processing control slip (Mẫu 05)")))
    return slips


# Actions that end the dossier's way (their button looks different).
_ENDINGS = {Action.REFUSE, Action.REJECT, Action.WITHDRAW, Action.STOP}


def _moment(value: str | None) -> str:
    if not value:
        return "—"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    return date_format(timezone.localtime(moment), "d/m/Y H:i")


def _event_details(event) -> list[str]:
    """What an event's data adds to its note, in words."""
    data = event.data or {}
    if event.action == Action.REQUEST_SUPPLEMENT and data.get("missing"):
        return [_("Missing: %(missing)s") % {"missing": data["missing"]}]
    if event.action == Action.SUPPLEMENT and data.get("due_after"):
        return [
            _("Due date moved from %(before)s to %(after)s.")
            % {"before": _moment(data.get("due_before")), "after": _moment(data["due_after"])}
        ]
    if event.action == Action.APOLOGIZE and data.get("promised_at"):
        return [_("New promised date: %(date)s.") % {"date": _moment(data["promised_at"])}]
    if event.action == Action.ASSIGN and data.get("officer"):
        return [_("Assigned to %(officer)s.") % {"officer": data["officer"]}]
    return []


def _render_detail(
    request: HttpRequest,
    dossier: Dossier,
    *,
    bound: tuple[str, forms.Form] | None = None,
    upload_form: UploadForm | None = None,
    status: int = 200,
) -> HttpResponse:
    now = timezone.now()
    staff = _is_staff(request)
    action_forms = []
    for action in selectors.available_actions(dossier, request.user):
        form = bound[1] if bound and bound[0] == action else action_form(action, dossier)
        action_forms.append(
            {
                "action": action,
                "label": Action(action).label,
                "form": form,
                "danger": action in _ENDINGS,
            }
        )
    if upload_form is None and dossier.status not in _NO_UPLOADS:
        upload_form = UploadForm(dossier=dossier)
    documents = {document.pk: document for document in dossier.documents.all()}
    attachments = [
        (attachment, documents.get(attachment.document_id))
        for attachment in dossier.attachments.all()
    ]
    return render(
        request,
        "dossiers/detail.html",
        {
            "dossier": dossier,
            "timeliness": selectors.current_timeliness(dossier, now),
            "remaining": selectors.remaining_working_time([dossier], now).get(dossier.pk),
            "documents": list(documents.values()),
            "attachments": attachments,
            "pauses": list(dossier.pauses.all()),
            "events": [(event, _event_details(event)) for event in dossier.events.all()],
            "trace": describe_trace(dossier.deadline_trace or []),
            "slips": _slips(dossier, staff=staff),
            "staff": staff,
            "action_forms": action_forms,
            "error_form": bound[1] if bound else upload_form,
            "open_action": bound[0] if bound else "",
            "upload_form": upload_form,
            "id_number": id_number_policy(request).id_number(dossier),
            "accesses": (
                access_log.dossier_accesses(dossier=dossier)
                if Role.ADMIN in request_roles(request)  # superusers hold it too
                else None
            ),
        },
        status=status,
    )


@login_required
@require_GET
def detail(request: HttpRequest, code: str) -> HttpResponse:
    dossier = _visible_dossier(request, code)
    if not _is_staff(request):
        # The staff page shows officers' working notes: the applicant has a page of their own.
        return redirect("dossiers:my-detail", code=dossier.code)
    access_log.record_access(
        dossier=dossier,
        user=request.user,
        kind=DossierAccess.Kind.VIEW,
        ip=client_address(request),
    )
    return _render_detail(request, dossier)


# --- Actions --------------------------------------------------------------------------------------


def _resolve(dossier: Dossier, by, data: dict) -> Dossier:
    """The result, and its file when one is given: both or neither."""
    with transaction.atomic():
        if data.get("result_file"):
            services.add_attachment(
                dossier=dossier,
                by=by,
                upload=data["result_file"],
                kind=AttachmentKind.RESULT,
                digitized=data["digitized_result"],
            )
        return services.resolve_dossier(
            dossier=dossier,
            by=by,
            result=data["result"],
            digitized_result=data["digitized_result"],
        )


# Each action's service call, given the dossier, the user and the form's cleaned data.
PERFORM: dict[str, Callable[[Dossier, Any, dict], Dossier]] = {
    Action.ACCEPT: lambda d, u, c: services.accept_dossier(dossier=d, by=u, note=c["note"]),
    Action.REFUSE: lambda d, u, c: services.refuse_dossier(dossier=d, by=u, reason=c["reason"]),
    Action.START: lambda d, u, c: services.start_processing(dossier=d, by=u, note=c["note"]),
    Action.REQUEST_SUPPLEMENT: lambda d, u, c: services.request_supplement(
        dossier=d, by=u, missing=c["missing"], reason=c["reason"]
    ),
    Action.SUPPLEMENT: lambda d, u, c: services.record_supplement(dossier=d, by=u, note=c["note"]),
    Action.APOLOGIZE: lambda d, u, c: services.issue_apology(
        dossier=d, by=u, promised_at=c["promised_at"], reason=c["reason"]
    ),
    Action.RESOLVE: _resolve,
    Action.REJECT: lambda d, u, c: services.reject_dossier(
        dossier=d, by=u, reason=c["reason"], digitized_result=c["digitized_result"]
    ),
    Action.RETURN: lambda d, u, c: services.return_result(dossier=d, by=u, note=c["note"]),
    Action.WITHDRAW: lambda d, u, c: services.withdraw_dossier(dossier=d, by=u, reason=c["reason"]),
    Action.STOP: lambda d, u, c: services.stop_dossier(dossier=d, by=u, reason=c["reason"]),
    Action.ASSIGN: lambda d, u, c: services.assign_dossier(dossier=d, by=u, officer=c["officer"]),
}

# Service error keys that a form names differently.
_RENAMED = {"promised_at": "promised_date", "file": "result_file"}


def _success(request: HttpRequest, action: str, dossier: Dossier, form: forms.Form) -> None:
    code = dossier.code
    slip = None
    if action == Action.ACCEPT:
        text = _("Dossier %(code)s accepted: it is received and its clock runs.")
        slip = ("receipt", _("Print the receipt"))
    elif action == Action.REFUSE:
        text = _("Dossier %(code)s refused.")
        slip = ("refusal", _("Print the refusal slip"))
    elif action == Action.START:
        text = _("Processing of %(code)s started.")
    elif action == Action.REQUEST_SUPPLEMENT:
        text = _("Supplement requested: the clock of %(code)s is paused.")
        slip = ("supplement", _("Print the supplement request"))
    elif action == Action.SUPPLEMENT:
        text = _("Supplement recorded: the clock of %(code)s runs again.")
    elif action == Action.APOLOGIZE:
        text = _("Apology slip issued for %(code)s.")
        slip = ("apology", _("Print the apology slip"))
    elif action == Action.RESOLVE:
        text = _("Dossier %(code)s resolved: the result is ready to hand back.")
    elif action == Action.REJECT:
        text = _("Refusal decision recorded for %(code)s.")
    elif action == Action.RETURN:
        text = _("The result of %(code)s was handed back.")
    elif action == Action.WITHDRAW:
        text = _("Dossier %(code)s withdrawn.")
    elif action == Action.STOP:
        text = _("Processing of %(code)s stopped.")
    else:
        text = _("Dossier %(code)s assigned to %(name)s.")
    officer = form.cleaned_data.get("officer")
    message = text % {"code": code, "name": officer_label(officer) if officer else ""}
    if slip:
        url = reverse("dossiers:slip", kwargs={"code": code, "slip": slip[0]})
        messages.success(request, format_html('{} <a href="{}">{}</a>', message, url, slip[1]))
    else:
        messages.success(request, message)


def _not_available(request: HttpRequest, dossier: Dossier, action: str) -> HttpResponse:
    """The action is not offered to this user on this dossier now: say why, as the service
    would (409 for the dossier's status, 403 for the user's role)."""
    label = Action(action).label
    if action == Action.APOLOGIZE and dossier.apologized_at is not None:
        return _conflict(
            request, dossier, _("An apology slip was already issued for this dossier.")
        )
    if dossier.status not in TRANSITIONS[action].sources:
        return _conflict(
            request,
            dossier,
            _("This dossier is “%(status)s”: it cannot be given the action “%(action)s”.")
            % {"status": dossier.get_status_display(), "action": label},
        )
    return _forbidden(
        request,
        _("Your role does not allow the action “%(action)s” on this dossier.") % {"action": label},
    )


def _conflict(request: HttpRequest, dossier: Dossier, message: str) -> HttpResponse:
    messages.error(request, message)
    return _render_detail(request, dossier, status=409)


@login_required
@require_POST
def act(request: HttpRequest, code: str, action: str) -> HttpResponse:
    """One action of the lifecycle on one dossier, from its page."""
    dossier = _visible_dossier(request, code)
    if action not in ACTION_FORMS:
        raise Http404(_("Unknown action."))
    if action not in selectors.available_actions(dossier, request.user):
        return _not_available(request, dossier, action)
    form = action_form(action, dossier, request.POST, request.FILES)
    if not form.is_valid():
        return _render_detail(request, dossier, bound=(action, form), status=400)
    data = dict(form.cleaned_data)
    if action == Action.APOLOGIZE:
        data["promised_at"] = form.promised_at()
    try:
        PERFORM[action](dossier, request.user, data)
    except services.DossierPermissionError as error:
        return _forbidden(request, str(error))
    except services.DossierActionError as error:
        return _conflict(request, _visible_dossier(request, code), str(error))
    except ValidationError as error:
        _add_service_errors(form, error, _RENAMED)
        return _render_detail(
            request, _visible_dossier(request, code), bound=(action, form), status=400
        )
    _success(request, action, dossier, form)
    return redirect("dossiers:detail", code=dossier.code)


# --- Attachments ----------------------------------------------------------------------------------


@login_required
@require_POST
def upload(request: HttpRequest, code: str) -> HttpResponse:
    dossier = _visible_dossier(request, code)
    form = UploadForm(request.POST, request.FILES, dossier=dossier)
    if form.is_valid():
        data = form.cleaned_data
        try:
            attachment = services.add_attachment(
                dossier=dossier,
                by=request.user,
                upload=data["file"],
                kind=data["kind"],
                document=data["document"],
                digitized=data["digitized"],
            )
        except services.DossierPermissionError as error:
            return _forbidden(request, str(error))
        except services.DossierActionError as error:
            return _conflict(request, dossier, str(error))
        except ValidationError as error:
            _add_service_errors(form, error)
        else:
            messages.success(
                request, _("File “%(name)s” added.") % {"name": attachment.original_name}
            )
            return redirect(reverse("dossiers:detail", kwargs={"code": code}) + "#attachments")
    return _render_detail(request, dossier, upload_form=form, status=400)


@login_required
@require_GET
def attachment(request: HttpRequest, code: str, pk: int) -> FileResponse:
    """A dossier's file, for those who may see the dossier, always as a download under a
    sanitised name; logged in the access log unless the applicant downloads their own."""
    item = get_object_or_404(
        Attachment.objects.filter(
            dossier__in=selectors.visible_dossiers(request.user)
        ).select_related("dossier"),
        pk=pk,
        dossier__code=code,
    )
    try:
        handle = item.file.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404(_("The file is missing from the storage.")) from None
    access_log.record_access(
        dossier=item.dossier,
        user=request.user,
        kind=DossierAccess.Kind.DOWNLOAD,
        attachment=item,
        ip=client_address(request),
    )
    response = FileResponse(handle, content_type=item.content_type)
    response["Content-Disposition"] = attachment_disposition(item.original_name, item.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
