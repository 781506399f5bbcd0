"""The citizen's pages: submit a dossier online, follow one's own dossiers, supply missing
documents, withdraw, download the result, rate the service. Plain words, no office jargon.

Submission is two pages. Step 1 (unit and applicant) is kept in the session. Step 2 takes the
files *and* is the review and the confirmation: files cannot live across a redirect, and
storing them somewhere in between would leave files behind whenever an applicant walks away.
So the files come in the request that submits, and the dossier is stored with all its files or
not at all. The page's script lists the chosen files by name and size before sending.

A submission carries a one-time ``submission_key`` (made when the page is shown): a double
click, a reload or the back button sends it again and leads to the dossier already made.

Each view authorises (a citizen sees only their own dossiers: 404 otherwise), validates with a
form, calls one service and renders. A refused request changes nothing and says why.
"""

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from procedures.choices import OnlineLevel
from procedures.models import Procedure
from procedures.selectors import procedure_detail

from . import selectors, services
from .choices import (
    CITIZEN_STATUS,
    OPEN_STATUSES,
    Action,
    AttachmentKind,
    RatingScore,
    Status,
    Timeliness,
)
from .citizen_forms import (
    ApplicantStepForm,
    DocumentsStepForm,
    RatingForm,
    SupplyForm,
    WithdrawForm,
    applicant_from,
    applicant_initial,
    size_limit_mb,
)
from .models import Dossier, Rating
from .workflow import APPLICANT, can_take, open_timeliness

PAGE_SIZE = 20
SESSION_KEY = "citizen_submission"

# How the timeliness of a dossier reads to its applicant (the lookup page's words).
CITIZEN_TIMELINESS: dict[str, Any] = {
    Timeliness.IN_TIME: gettext_lazy("Within the time limit"),
    Timeliness.OVERDUE: gettext_lazy("Past the time limit"),
    Timeliness.EARLY: gettext_lazy("Resolved before the due date"),
    Timeliness.ON_TIME: gettext_lazy("Resolved on the due date"),
    Timeliness.LATE: gettext_lazy("Resolved after the due date"),
}


def citizen_timeliness(value: str | None) -> str:
    text = CITIZEN_TIMELINESS.get(value or "")
    return str(text) if text else ""


# --- Submitting online --------------------------------------------------------------------------


def _online_procedure(code: str) -> Procedure:
    """A procedure in force that can be submitted online; 404 otherwise."""
    try:
        procedure = procedure_detail(code=code)
    except Procedure.DoesNotExist:
        raise Http404(_("No procedure has the code %(code)s.") % {"code": code}) from None
    if procedure.online_level == OnlineLevel.NONE:
        raise Http404(_("This procedure cannot be submitted online."))
    return procedure


def _stored_step(request: HttpRequest, procedure: Procedure) -> dict[str, str] | None:
    """Step 1's answers for this procedure, as kept in the session."""
    stored = request.session.get(SESSION_KEY)
    if isinstance(stored, dict) and stored.get("procedure") == procedure.code:
        return stored
    return None


@login_required
def submit_applicant(request: HttpRequest, procedure_code: str) -> HttpResponse:
    """Step 1: the receiving unit (``?unit=`` chooses it) and the applicant's details."""
    procedure = _online_procedure(procedure_code)
    status = 200
    if request.method == "POST":
        form = ApplicantStepForm(request.POST, procedure=procedure)
        if form.is_valid():
            request.session[SESSION_KEY] = {"procedure": procedure.code, **form.session_data()}
            return redirect("dossiers:submit-documents", procedure_code=procedure.code)
        status = 400
    else:
        initial: dict[str, Any] = {**applicant_initial(request.user)}
        stored = _stored_step(request, procedure)
        if stored:
            initial.update({k: v for k, v in stored.items() if k != "procedure"})
        if request.GET.get("unit"):
            initial["unit"] = request.GET["unit"]
        form = ApplicantStepForm(initial=initial, procedure=procedure)
    return render(
        request,
        "dossiers/citizen/submit_applicant.html",
        {"procedure": procedure, "form": form, "has_units": form.fields["unit"].queryset.exists()},
        status=status,
    )


def _already_submitted(request: HttpRequest, key: str) -> Dossier | None:
    """The user's dossier made by an earlier sending of this very form, if any."""
    try:
        key = uuid.UUID(key).hex  # as ``DocumentsStepForm`` stores it
    except ValueError:
        return None
    return Dossier.objects.filter(applicant_user=request.user, submission_key=key).first()


def _add_service_errors(form: Form, error: ValidationError, rename: dict | None = None) -> None:
    """A service's ValidationError on the form: on the field of that name, else at the top."""
    if not hasattr(error, "error_dict"):
        for message in error.messages:
            form.add_error(None, message)
        return
    for key, texts in error.message_dict.items():
        field = (rename or {}).get(key, key)
        for text in texts:
            form.add_error(field if field in form.fields else None, text)


@login_required
def submit_documents(request: HttpRequest, procedure_code: str) -> HttpResponse:
    """Step 2: a file per document, the review of everything, the confirmation, submit."""
    procedure = _online_procedure(procedure_code)
    if request.method == "POST":
        existing = _already_submitted(request, request.POST.get("submission_key", ""))
        if existing is not None:  # sent twice: the first one made the dossier
            return redirect("dossiers:my-submitted", code=existing.code)
    stored = _stored_step(request, procedure)
    step1 = ApplicantStepForm(stored, procedure=procedure) if stored else None
    if step1 is None or not step1.is_valid():
        messages.info(request, _("First choose the receiving unit and check your details."))
        return redirect("dossiers:submit", procedure_code=procedure.code)
    unit = step1.cleaned_data["unit"]
    applicant = applicant_from(step1.cleaned_data)
    status = 200
    if request.method == "POST":
        form = DocumentsStepForm(request.POST, request.FILES, procedure=procedure)
        if form.is_valid():
            data = form.cleaned_data
            try:
                dossier = services.submit_online(
                    procedure=procedure,
                    unit=unit,
                    applicant=applicant,
                    user=request.user,
                    uploads=form.uploads(),
                    note=data["note"],
                    submission_key=data["submission_key"],
                )
            except ValidationError as error:
                _add_service_errors(form, error)
            else:
                request.session.pop(SESSION_KEY, None)
                return redirect("dossiers:my-submitted", code=dossier.code)
        status = 400
    else:
        form = DocumentsStepForm(procedure=procedure)
    return render(
        request,
        "dossiers/citizen/submit_documents.html",
        {
            "procedure": procedure,
            "unit": unit,
            "applicant": applicant,
            "form": form,
            "submission_key": form.submission_key_value(),
            "limit_mb": size_limit_mb(),
        },
        status=status,
    )


# --- My dossiers --------------------------------------------------------------------------------


def applicant_dossiers(user: Any, now: datetime) -> QuerySet[Dossier]:
    """The dossiers the user submitted, newest first, with their timeliness as of ``now``."""
    return selectors.with_current_timeliness(
        selectors.visible_dossiers(user)
        .filter(applicant_user=user)
        .select_related("procedure", "unit")
        .order_by("-created_at", "-id"),
        now,
    )


@login_required
def my_dossiers(request: HttpRequest) -> HttpResponse:
    page = Paginator(applicant_dossiers(request.user, timezone.now()), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    rows = [
        {
            "dossier": dossier,
            "status_text": CITIZEN_STATUS[dossier.status],
            "timeliness_text": citizen_timeliness(dossier.current_timeliness),
        }
        for dossier in page.object_list
    ]
    return render(request, "dossiers/citizen/my_list.html", {"page": page, "rows": rows})


def _my_dossier(request: HttpRequest, code: str) -> Dossier:
    """The user's own dossier with this code; 404 for anyone else's (staff use their page)."""
    try:
        dossier = selectors.dossier_detail(user=request.user, code=code)
    except Dossier.DoesNotExist:
        dossier = None
    if dossier is None or dossier.applicant_user_id != request.user.pk:
        raise Http404(_("You have no dossier with the code %(code)s.") % {"code": code})
    return dossier


@login_required
def my_submitted(request: HttpRequest, code: str) -> HttpResponse:
    """The confirmation after submitting: the code, the status, what happens next."""
    dossier = _my_dossier(request, code)
    return render(
        request,
        "dossiers/citizen/submitted.html",
        {
            "dossier": dossier,
            "status_text": CITIZEN_STATUS[dossier.status],
            "files": list(dossier.attachments.all()),
        },
    )


def _when(value: str | None) -> str:
    if not value:
        return ""
    try:
        return date_format(timezone.localtime(datetime.fromisoformat(value)), "d/m/Y H:i")
    except ValueError:
        return value


def _timeline(dossier: Dossier) -> list[dict[str, Any]]:
    """What happened, in the applicant's words. Internal steps (assignment, each file's upload)
    and officers' working notes are left out; what the applicant must know (why refused, what
    is missing, the result, a new date) is kept."""
    mine = dossier.applicant_user_id
    items = []
    for event in dossier.events.all():
        by_me = event.by_id is not None and event.by_id == mine
        data = event.data or {}
        notes: list[str] = []
        if event.action == Action.SUBMIT:
            text = _("You submitted the dossier online.")
        elif event.action == Action.RECEIVE:
            text = _("The dossier was received at the counter.")
        elif event.action == Action.ACCEPT:
            text = _("The counter accepted your dossier: it is received and the time limit runs.")
        elif event.action == Action.REFUSE:
            text = _("The counter did not accept your dossier.")
            notes = [_("Reason: %(reason)s") % {"reason": event.note}] if event.note else []
        elif event.action == Action.START:
            text = _("An officer started processing your dossier.")
        elif event.action == Action.REQUEST_SUPPLEMENT:
            text = _("The office asked for more documents. The time limit is paused until then.")
            if data.get("missing"):
                notes.append(_("Missing: %(missing)s") % {"missing": data["missing"]})
            if event.note:
                notes.append(_("Reason: %(reason)s") % {"reason": event.note})
        elif event.action == Action.SUPPLEMENT:
            text = (
                _("You sent the missing documents. The time limit runs again.")
                if by_me
                else _("The missing documents were received. The time limit runs again.")
            )
            if data.get("due_after"):
                notes.append(_("New due date: %(date)s") % {"date": _when(data["due_after"])})
            if by_me and event.note:
                notes.append(event.note)
        elif event.action == Action.RESOLVE:
            text = _("The result is ready.")
            notes = [event.note] if event.note else []
        elif event.action == Action.REJECT:
            text = _("The office answered in writing that the request cannot be granted.")
            notes = [_("Reason: %(reason)s") % {"reason": event.note}] if event.note else []
        elif event.action == Action.RETURN:
            text = _("The result was handed over.")
        elif event.action == Action.WITHDRAW:
            text = _("You withdrew the dossier.") if by_me else _("The dossier was withdrawn.")
            notes = [_("Reason: %(reason)s") % {"reason": event.note}] if event.note else []
        elif event.action == Action.STOP:
            text = _("Processing was stopped.")
            notes = [_("Reason: %(reason)s") % {"reason": event.note}] if event.note else []
        elif event.action == Action.APOLOGIZE:
            text = _("The office apologised for the delay and set a new date: %(date)s.") % {
                "date": _when(data.get("promised_at"))
            }
            notes = [_("Reason: %(reason)s") % {"reason": event.note}] if event.note else []
        elif event.action == Action.RATE:
            score = data.get("score", "")
            label = RatingScore(score).label if score in RatingScore.values else score
            text = _("You rated the service: %(score)s.") % {"score": label}
        else:  # assignment, each file's upload, import: not the applicant's concern
            continue
        items.append({"at": event.at, "action": event.action, "text": text, "notes": notes})
    return items


def _next_step(dossier: Dossier) -> str:
    """What happens next, or what the applicant should do, in a sentence."""
    unit = dossier.unit.name
    if dossier.status == Status.SUBMITTED:
        return _(
            "The one-stop counter of %(unit)s checks your dossier and its files. Once they "
            "accept it, it is received and you are told the date of the result; if something "
            "is wrong, they tell you why."
        ) % {"unit": unit}
    if dossier.status in (Status.RECEIVED, Status.IN_PROGRESS):
        return _("Your dossier is being processed. You will be told when the result is ready.")
    if dossier.status == Status.SUPPLEMENT_REQUESTED:
        return _(
            "Some documents are missing. Add them below: the time limit is paused until you do."
        )
    if dossier.status == Status.RESOLVED:
        return _("The result is ready. Collect it at the one-stop counter of %(unit)s.") % {
            "unit": unit
        }
    if dossier.status == Status.REJECTED:
        return _("A written answer is ready. Collect it at the one-stop counter of %(unit)s.") % {
            "unit": unit
        }
    if dossier.status == Status.RETURNED:
        return _("The result has been handed over. Tell us how the service was.")
    return ""


def _rating_of(dossier: Dossier) -> Rating | None:
    return Rating.objects.filter(dossier=dossier).first()


def _render_mine(
    request: HttpRequest,
    dossier: Dossier,
    *,
    supply_form: SupplyForm | None = None,
    withdraw_form: WithdrawForm | None = None,
    rating_form: RatingForm | None = None,
    status: int = 200,
) -> HttpResponse:
    now = timezone.now()
    attachments = list(dossier.attachments.all())
    lines = list(dossier.documents.all())
    by_line: dict[int, list] = {line.pk: [] for line in lines}
    other_files = []
    for attachment in attachments:
        if attachment.kind == AttachmentKind.RESULT:
            continue
        if attachment.document_id in by_line:
            by_line[attachment.document_id].append(attachment)
        else:
            other_files.append(attachment)
    open_pause = next((p for p in dossier.pauses.all() if p.ended_at is None), None)
    if open_pause and supply_form is None:
        supply_form = SupplyForm(dossier=dossier)
    may_withdraw = can_take(Action.WITHDRAW, status=dossier.status, actors={APPLICANT})
    if may_withdraw and withdraw_form is None:
        withdraw_form = WithdrawForm()
    rating = _rating_of(dossier)
    if dossier.status == Status.RETURNED and rating is None and rating_form is None:
        rating_form = RatingForm()
    if dossier.status in OPEN_STATUSES:
        timeliness = open_timeliness(now, dossier.due_at, dossier.paused_at)
    else:
        timeliness = dossier.timeliness
    return render(
        request,
        "dossiers/citizen/my_detail.html",
        {
            "dossier": dossier,
            "status_text": CITIZEN_STATUS[dossier.status],
            "timeliness_text": citizen_timeliness(timeliness),
            "overdue": timeliness == Timeliness.OVERDUE,
            "next_step": _next_step(dossier),
            "documents": [(line, by_line[line.pk]) for line in lines],
            "other_files": other_files,
            "results": [a for a in attachments if a.kind == AttachmentKind.RESULT],
            "open_pause": open_pause,
            "supply_form": supply_form if open_pause else None,
            "withdraw_form": withdraw_form if may_withdraw else None,
            "rating": rating,
            "rating_form": rating_form if rating is None else None,
            "timeline": _timeline(dossier),
            "limit_mb": size_limit_mb(),
        },
        status=status,
    )


@login_required
def my_detail(request: HttpRequest, code: str) -> HttpResponse:
    return _render_mine(request, _my_dossier(request, code))


def _after(request: HttpRequest, dossier: Dossier, anchor: str = "") -> HttpResponse:
    url = reverse("dossiers:my-detail", kwargs={"code": dossier.code})
    return redirect(f"{url}#{anchor}" if anchor else url)


def _refused(request: HttpRequest, code: str, message: str, *, status: int = 409) -> HttpResponse:
    """Not possible now (the dossier's status, or someone was quicker): say why in plain words,
    show the dossier as it is, change nothing."""
    messages.error(request, message)
    return _render_mine(request, _my_dossier(request, code), status=status)


def _not_now(dossier: Dossier, action: str) -> str | None:
    """Why the applicant cannot take ``action`` on the dossier now, or None when they can."""
    if action == Action.SUPPLEMENT and dossier.status != Status.SUPPLEMENT_REQUESTED:
        return _("No documents are asked for at the moment.")
    if action == Action.WITHDRAW and not can_take(
        Action.WITHDRAW, status=dossier.status, actors={APPLICANT}
    ):
        return _("This dossier can no longer be withdrawn (%(status)s).") % {
            "status": CITIZEN_STATUS[Status(dossier.status)]
        }
    if action == Action.RATE:
        if dossier.status != Status.RETURNED:
            return _("The service can be rated once the result was handed over.")
        if _rating_of(dossier) is not None:
            return _("This dossier was already rated. Thank you!")
    return None


def _perform(
    request: HttpRequest,
    dossier: Dossier,
    action: str,
    form: Form,
    call: Callable[[], object],
    *,
    success: str,
    anchor: str = "",
    form_kwarg: str,
    rename: dict | None = None,
) -> HttpResponse:
    """The shape every action of the page shares: allowed now? valid input? then the service.
    The service checks again under the dossier's lock: when it refuses (a concurrent change),
    the page says why, in the same plain words."""
    reason = _not_now(dossier, action)
    if reason:
        return _refused(request, dossier.code, reason)
    if form.is_valid():
        try:
            call()
        except services.DossierPermissionError as error:
            return _refused(request, dossier.code, str(error), status=403)
        except services.DossierActionError as error:
            fresh = _my_dossier(request, dossier.code)
            return _refused(request, dossier.code, _not_now(fresh, action) or str(error))
        except ValidationError as error:
            _add_service_errors(form, error, rename)
        else:
            messages.success(request, success)
            return _after(request, dossier, anchor)
    return _render_mine(request, dossier, status=400, **{form_kwarg: form})


@login_required
@require_POST
def my_supply(request: HttpRequest, code: str) -> HttpResponse:
    """Send the documents a supplement request asked for: the clock runs again."""
    dossier = _my_dossier(request, code)
    form = SupplyForm(request.POST, request.FILES, dossier=dossier)
    return _perform(
        request,
        dossier,
        Action.SUPPLEMENT,
        form,
        lambda: services.supply_documents(
            dossier=dossier,
            by=request.user,
            uploads=form.uploads(),
            others=form.others(),
            note=form.cleaned_data["note"],
        ),
        success=_("Thank you: your documents were sent. Processing continues."),
        form_kwarg="supply_form",
        rename={"other_0": "other", "files": None},
    )


@login_required
@require_POST
def my_withdraw(request: HttpRequest, code: str) -> HttpResponse:
    dossier = _my_dossier(request, code)
    form = WithdrawForm(request.POST)
    return _perform(
        request,
        dossier,
        Action.WITHDRAW,
        form,
        lambda: services.withdraw_dossier(
            dossier=dossier, by=request.user, reason=form.cleaned_data["reason"]
        ),
        success=_("Your dossier was withdrawn."),
        form_kwarg="withdraw_form",
    )


@login_required
@require_POST
def my_rate(request: HttpRequest, code: str) -> HttpResponse:
    dossier = _my_dossier(request, code)
    form = RatingForm(request.POST)
    return _perform(
        request,
        dossier,
        Action.RATE,
        form,
        lambda: services.rate_dossier(
            dossier=dossier,
            by=request.user,
            score=form.cleaned_data["score"],
            comment=form.cleaned_data["comment"],
        ),
        success=_("Thank you for rating the service."),
        anchor="rating",
        form_kwarg="rating_form",
    )
