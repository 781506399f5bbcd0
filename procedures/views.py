from datetime import date

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from .deadline_text import describe_step
from .filters import CatalogueFilterForm
from .forms import CalendarForm, UnitChoiceForm
from .models import Procedure
from .selectors import (
    effective_calendar_days,
    procedure_catalogue,
    procedure_deadline,
    procedure_detail,
    units_for_procedure,
)

PAGE_SIZE = 20


def catalogue(request: HttpRequest) -> HttpResponse:
    """The public listing of procedures (niêm yết công khai)."""
    form = CatalogueFilterForm(request.GET or None)
    filters = form.filters() if form.is_valid() else {}
    page = Paginator(procedure_catalogue(**filters), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "procedures/catalogue.html",
        {"form": form, "page": page, "query": query.urlencode(), "filtered": bool(filters)},
    )


def detail(request: HttpRequest, code: str) -> HttpResponse:
    try:
        procedure = procedure_detail(code=code)
    except Procedure.DoesNotExist:
        raise Http404(_("No procedure has the code %(code)s.") % {"code": code}) from None
    units = units_for_procedure(procedure)
    form = UnitChoiceForm(request.GET or None, units=units)
    unit = form.cleaned_data.get("unit") if form.is_valid() else None
    unit = unit or units.first()
    deadline = trace = None
    if unit is not None:
        deadline = procedure_deadline(procedure=procedure, unit=unit, received_at=timezone.now())
        trace = [describe_step(step) for step in deadline.trace]
    return render(
        request,
        "procedures/detail.html",
        {
            "procedure": procedure,
            "unit_form": form,
            "unit": unit,
            "deadline": deadline,
            "trace": trace,
        },
    )


def calendar(request: HttpRequest) -> HttpResponse:
    """The year's public holidays, days off and make-up working days for a unit."""
    form = CalendarForm(request.GET or None)
    valid = form.is_valid()
    year = form.cleaned_data["year"] if valid else timezone.localdate().year
    unit = form.cleaned_data.get("unit") if valid else None
    days = effective_calendar_days(unit=unit, start=date(year, 1, 1), end=date(year, 12, 31))
    return render(
        request,
        "procedures/calendar.html",
        {
            "form": form,
            "year": year,
            "unit": unit,
            "days": days,
            "years": [year - 1, year + 1],
        },
    )
