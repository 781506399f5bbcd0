"""The worklist's filters, shared by the staff page and the API (one definition, one behaviour)."""

import re
from datetime import date, datetime, time, timedelta

from django import forms
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.models import Unit
from portal.text import search_key
from procedures.catalogue_cache import procedure_by_code, unit_by_code
from procedures.models import Procedure
from reports.cells import CELL_LABELS, DRILLDOWN_CELLS, drilldown_condition, with_ended_at
from reports.periods import CALENDAR, OFFICIAL, PeriodError, period_from_key

from .choices import TO_DO_STATUSES, Channel, Status, Timeliness
from .importers import CODE_PATTERN
from .lookups import EndsWithCode, Words  # noqa: F401 - registers the lookups
from .models import Dossier
from .selectors import timeliness_condition

# The worklist's two scopes: what is still to be done, or every dossier ever handled.
TO_DO, ALL = "todo", "all"

SORTS = {
    # Dossiers with no due date yet (awaiting intake) come last either way, on every database.
    "due": (F("due_at").asc(nulls_last=True), "id"),
    "-due": (F("due_at").desc(nulls_last=True), "-id"),
    "received": ("received_at", "id"),
    "-received": ("-received_at", "-id"),
    "code": ("code",),
    "-code": ("-code",),
}


class DossierFilterForm(forms.Form):
    search = forms.CharField(
        label=_("Code, applicant's name or phone"),
        help_text=_("Searches every dossier, finished ones included."),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "aria-describedby": "id_search_help"}),
    )
    scope = forms.ChoiceField(
        label=_("Dossiers"),
        required=False,
        choices=[(ALL, _("All, finished ones included")), (TO_DO, _("To do"))],
    )
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All")), *Status.choices]
    )
    timeliness = forms.ChoiceField(
        label=_("Timeliness"), required=False, choices=[("", _("All")), *Timeliness.choices]
    )
    channel = forms.ChoiceField(
        label=_("Channel"), required=False, choices=[("", _("All")), *Channel.choices]
    )
    procedure = forms.CharField(label=_("Procedure code"), required=False, max_length=32)
    field = forms.SlugField(label=_("Field"), required=False)
    unit = forms.CharField(label=_("Unit code"), required=False, max_length=32)
    received_from = forms.DateField(label=_("Received from"), required=False)
    received_to = forms.DateField(label=_("Received to"), required=False)
    # Drill-down from a report or the dashboard: the dossiers behind one number.
    within = forms.CharField(label=_("Unit and the units below it"), required=False, max_length=32)
    below = forms.CharField(label=_("The units below a unit"), required=False, max_length=32)
    cell = forms.ChoiceField(
        label=_("Report figure"),
        required=False,
        choices=[("", _("All")), *((name, CELL_LABELS[name]) for name in DRILLDOWN_CELLS)],
    )
    period = forms.CharField(label=_("Report period"), required=False, max_length=32)
    basis = forms.ChoiceField(
        label=_("Period basis"),
        required=False,
        choices=[(OFFICIAL, _("Statutory (15th to 14th)")), (CALENDAR, _("Calendar months"))],
    )
    sort = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        choices=[
            ("due", _("Due date, soonest first")),
            ("-received", _("Received, newest first")),
            ("received", _("Received, oldest first")),
            ("-due", _("Due date, latest first")),
            ("code", _("Code")),
        ],
    )

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("received_from"), cleaned.get("received_to")
        if start and end and end < start:
            self.add_error("received_to", _("The end date is before the start date."))
        if cleaned.get("cell"):
            if not cleaned.get("period"):
                self.add_error("period", _("Give the report period of the figure."))
            else:
                try:
                    cleaned["report_period"] = period_from_key(
                        cleaned["period"], basis=cleaned.get("basis") or OFFICIAL
                    )
                except PeriodError as error:
                    self.add_error("period", str(error))
        return cleaned

    def apply(self, dossiers: QuerySet[Dossier], now: datetime | None = None) -> QuerySet[Dossier]:
        """Filter and sort ``dossiers`` by the form, timeliness as of ``now``."""
        now = now or timezone.now()
        data = self.cleaned_data
        if self.to_do():
            dossiers = dossiers.filter(status__in=TO_DO_STATUSES)
        if data.get("status"):
            dossiers = dossiers.filter(status=data["status"])
        if data.get("timeliness"):
            dossiers = dossiers.filter(timeliness_condition(data["timeliness"], now))
        if data.get("channel"):
            dossiers = dossiers.filter(channel=data["channel"])
        if data.get("procedure"):
            dossiers = dossiers.filter(procedure_id=_procedure_id(data["procedure"]))
        if data.get("field"):
            dossiers = dossiers.filter(procedure__field__code=data["field"])
        if data.get("unit"):
            dossiers = dossiers.filter(unit_id=_unit_id(data["unit"]))
        if data.get("within"):
            dossiers = dossiers.filter(unit__path__startswith=_unit_path(data["within"]))
        if data.get("below"):
            path = _unit_path(data["below"])
            dossiers = dossiers.filter(unit__path__startswith=path).exclude(unit__path=path)
        if data.get("cell") and data.get("report_period"):
            start, end = data["report_period"].bounds(timezone.get_default_timezone())
            dossiers = with_ended_at(dossiers).filter(
                drilldown_condition(data["cell"], start, end, now)
            )
        # Local days as ranges of instants, so the received_at indexes serve them.
        if data.get("received_from"):
            dossiers = dossiers.filter(received_at__gte=_local_midnight(data["received_from"]))
        if data.get("received_to"):
            after = data["received_to"] + timedelta(days=1)
            dossiers = dossiers.filter(received_at__lt=_local_midnight(after))
        if data.get("search"):
            dossiers = dossiers.filter(_search(data["search"]))
        return dossiers.order_by(*SORTS[data.get("sort") or self.default_sort()])

    def to_do(self) -> bool:
        """Only the dossiers still to be done: asked for, and no search (which looks
        everywhere)."""
        return self.cleaned_data.get("scope") == TO_DO and not self.cleaned_data.get("search")

    def default_sort(self) -> str:
        """Work still to be done comes by due date, soonest first; the history newest first."""
        data = self.cleaned_data
        pending = data.get("timeliness") in (Timeliness.IN_TIME, Timeliness.OVERDUE)
        if self.to_do() or pending or data.get("status") in TO_DO_STATUSES:
            return "due"
        return "-received"


# The codes are looked up first (in the catalogue each process keeps), so that the database
# plans with the real id: joined on the code, PostgreSQL estimated a procedure that holds an
# eighth of a province's dossiers at a fiftieth and read 1.3 million index entries for a month
# of one district. A code that names nothing matches nothing (an id no row has).
def _procedure_id(code: str) -> int:
    try:
        return procedure_by_code(code).pk
    except Procedure.DoesNotExist:
        return 0


def _unit_id(code: str) -> int:
    try:
        return unit_by_code(code).pk
    except Unit.DoesNotExist:
        return 0


def _unit_path(code: str) -> str:
    """The path of the unit with ``code``; a path that matches nothing when there is none."""
    try:
        return unit_by_code(code).path
    except Unit.DoesNotExist:
        return "//none/"


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_default_timezone())


# The day and number of a code, without its agency: yymmdd-nnnn.
DAY_AND_NUMBER = re.compile(r"^\d{6}-\d{4,}$")


def _search(text: str) -> Q:
    """Code or phone as a substring (a trigram index on PostgreSQL), or the applicant's name
    without diacritics: several words as the name's beginning, one word anywhere in it (a
    full-text index: ``dossiers.lookups``). Only the columns the text could be in are searched:
    a text without digits is no code and no phone, digits alone are no name."""
    text = text.strip()
    if CODE_PATTERN.match(text):
        # A whole code (typed, or read off the receipt's QR code): the unique index, at once.
        # As a substring it would be the slowest of searches, every code sharing its trigrams.
        return Q(code=text) | Q(code=text.upper())
    if DAY_AND_NUMBER.match(text):
        # A day and number off a receipt ("241127-0026"): the end of a code, which an index on
        # the reversed code finds at once (dossiers.lookups.EndsWithCode). Written so, it is
        # no phone number.
        return Q(code__ends="-" + text)
    condition = Q(pk__in=[])
    if any(ch.isdigit() for ch in text):
        condition |= Q(code__icontains=text)
        phone = re.sub(r"[\s.\-]", "", text)
        if phone.lstrip("+").isdigit():
            condition |= Q(applicant_phone__contains=phone)
    key = search_key(text)
    if key and not key.replace(" ", "").replace(".", "").isdigit():
        if " " in key:
            # Several words: a name as written, from the surname on ("dinh kim h…"): the
            # beginning of the search key, which a B-tree finds at once (migration 0012).
            condition |= Q(applicant_search__startswith=key)
        else:
            condition |= Q(applicant_search__words=key)  # one word, anywhere in the name
    return condition
