"""The worklist's query shapes: the same answers as the plain definitions, in forms the
indexes serve (bench/worklist.py times them on ten million dossiers)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from dossiers import selectors, services
from dossiers.choices import TO_DO_STATUSES, Status, Timeliness
from dossiers.filters import DossierFilterForm
from dossiers.models import Dossier
from portal import paging
from portal.choices import Role
from portal.models import Membership
from portal.tests.factories import MembershipFactory, UnitFactory, UserFactory
from procedures.deadlines import VN_TZ

from .factories import office, received, submitted

pytestmark = pytest.mark.django_db


def at(*args) -> datetime:
    return datetime(*args, tzinfo=VN_TZ)


def resolve(o, dossier, result):
    services.start_processing(dossier=dossier, by=o.officer)
    return services.resolve_dossier(dossier=dossier, by=o.officer, result=result)


@pytest.fixture
def every_state(time_machine):
    """Dossiers in every state a classification can come from: in time, overdue, paused before
    and after the due date, finished early and late, returned, withdrawn, awaiting intake."""
    time_machine.move_to(at(2026, 3, 2, 9, 0), tick=False)  # a Monday
    o = office()  # a five-working-day procedure
    made = {"overdue": received(o), "paused late": received(o), "late": received(o)}
    made["paused in time"] = received(o)
    services.request_supplement(
        dossier=made["paused in time"], by=o.officer, missing="X", reason="Y"
    )
    made["early"] = received(o)
    resolve(o, made["early"], "QĐ 1")
    made["returned"] = received(o)
    resolve(o, made["returned"], "QĐ 2")
    services.return_result(dossier=made["returned"], by=o.counter)
    made["withdrawn"] = received(o)
    services.withdraw_dossier(dossier=made["withdrawn"], by=o.counter, reason="Rút")
    time_machine.move_to(at(2026, 3, 16, 9, 0), tick=False)  # past every due date
    services.request_supplement(dossier=made["paused late"], by=o.officer, missing="X", reason="Y")
    resolve(o, made["late"], "QĐ 3")
    made["in time"] = received(o)
    made["submitted"] = submitted(o)
    return made


@pytest.mark.parametrize("value", list(Timeliness.values))
def test_the_timeliness_condition_matches_the_classification(every_state, value):
    now = datetime.now(tz=VN_TZ) + timedelta(minutes=1)
    by_annotation = set(
        selectors.with_current_timeliness(Dossier.objects.all(), now)
        .filter(current_timeliness=value)
        .values_list("code", flat=True)
    )
    by_condition = set(
        Dossier.objects.filter(selectors.timeliness_condition(value, now)).values_list(
            "code", flat=True
        )
    )
    assert by_condition == by_annotation
    if value in (Timeliness.OVERDUE, Timeliness.IN_TIME, Timeliness.EARLY, Timeliness.LATE):
        assert by_condition, f"the fixture has no {value} dossier"


def test_the_overdue_filter_finds_paused_and_running_overdue_dossiers(every_state):
    form = DossierFilterForm({"timeliness": Timeliness.OVERDUE})
    assert form.is_valid()
    found = set(form.apply(Dossier.objects.all()).values_list("code", flat=True))
    assert found == {every_state["overdue"].code, every_state["paused late"].code}


def test_received_dates_are_local_days(every_state):
    # 2026-03-16 09:00 in Hà Nội is 02:00 UTC: a UTC date would put nothing on the 15th
    # either way, but a receipt at 06:00 local on the 16th is 23:00 UTC on the 15th.
    form = DossierFilterForm({"received_from": "2026-03-16", "received_to": "2026-03-16"})
    assert form.is_valid()
    found = set(form.apply(Dossier.objects.all()).values_list("code", flat=True))
    assert found == {every_state["in time"].code}


def test_a_search_looks_only_where_the_text_can_be(every_state):
    dossier = every_state["overdue"]
    search = DossierFilterForm({"search": "nguyen"})
    assert search.is_valid()
    # Letters alone: the name only (no code or phone condition in the query).
    sql = str(search.apply(Dossier.objects.all()).query).split(" WHERE ")[1]
    assert "applicant_search" in sql and "applicant_phone" not in sql and "code" not in sql
    digits = DossierFilterForm({"search": dossier.applicant_phone[-6:]})
    assert digits.is_valid()
    sql = str(digits.apply(Dossier.objects.all()).query).split(" WHERE ")[1]
    assert "applicant_phone" in sql and "applicant_search" not in sql
    nothing = DossierFilterForm({"search": "--"})
    assert nothing.is_valid()
    assert not nothing.apply(Dossier.objects.all()).exists()


def test_current_timeliness_in_python_is_the_annotations(every_state):
    now = datetime.now(tz=VN_TZ) + timedelta(minutes=1)
    for dossier in selectors.with_current_timeliness(Dossier.objects.all(), now):
        assert selectors.current_timeliness(dossier, now) == dossier.current_timeliness, dossier


def _counts_by_orm(dossiers, now, cap):
    """The quick links' figures as plain ORM queries, one by one."""
    to_do = dossiers.filter(status__in=TO_DO_STATUSES)
    every, resolved = dossiers.count(), dossiers.filter(status=Status.RESOLVED).count()
    return {
        "todo": to_do.count(),
        "overdue": to_do.filter(selectors.timeliness_condition(Timeliness.OVERDUE, now)).count(),
        "submitted": to_do.filter(status=Status.SUBMITTED).count(),
        "received": to_do.filter(status=Status.RECEIVED).count(),
        "in_progress": to_do.filter(status=Status.IN_PROGRESS).count(),
        "supplement": to_do.filter(status=Status.SUPPLEMENT_REQUESTED).count(),
        "resolved": min(resolved, cap),
        "resolved_more": resolved > cap,
        "all": min(every, cap),
        "all_more": every > cap,
    }


@pytest.mark.parametrize("cap", [10_000, 1])
def test_the_quick_links_count_in_one_statement_what_each_query_counts(
    every_state, monkeypatch, cap
):
    monkeypatch.setattr(paging, "COUNT_CAP", cap)
    dossier = every_state["overdue"]
    staff = Membership.objects.filter(unit=dossier.unit).first().user
    superuser = UserFactory(is_superuser=True)
    outsider = UserFactory()
    MembershipFactory(user=outsider, unit=UnitFactory(), role=Role.PROCESSING_OFFICER)
    for now in (at(2026, 3, 2, 9, 0), datetime.now(tz=VN_TZ)):
        assert selectors.worklist_counts(user=staff, now=now) == _counts_by_orm(
            Dossier.objects.filter(unit__path__startswith=dossier.unit.path), now, cap
        )
        assert selectors.worklist_counts(user=superuser, now=now) == _counts_by_orm(
            Dossier.objects.all(), now, cap
        )
        assert selectors.worklist_counts(user=outsider, now=now) == _counts_by_orm(
            Dossier.objects.none(), now, cap
        )
    assert selectors.worklist_counts(user=staff, now=now)["overdue"] == 2  # running and paused


def test_the_worklist_page_reads_only_what_its_rows_show(every_state, client):
    dossier = every_state["overdue"]
    staff = Membership.objects.filter(unit=dossier.unit).first().user
    now = datetime.now(tz=VN_TZ)
    rows = list(selectors.worklist_page(user=staff).order_by("pk"))
    assert {"deadline_trace", "note", "applicant_id_number"} <= rows[0].get_deferred_fields()
    full = list(selectors.worklist(user=staff, now=now).order_by("pk"))
    page = selectors.page_rows(rows, now)
    assert [(d.pk, d.current_timeliness) for d, _left in page] == [
        (d.pk, d.current_timeliness) for d in full
    ]
    assert {d.pk: left for d, left in page if left is not None} == (
        selectors.remaining_working_time(full, now)
    )


def test_procedure_and_unit_filters_look_their_codes_up_first(every_state):
    dossier = every_state["overdue"]
    for data, by_join in (
        ({"procedure": dossier.procedure.code}, {"procedure__code": dossier.procedure.code}),
        ({"unit": dossier.unit.code}, {"unit__code": dossier.unit.code}),
        ({"procedure": "9.999999"}, {"procedure__code": "9.999999"}),
        ({"unit": "000.00.00.X99"}, {"unit__code": "000.00.00.X99"}),
    ):
        form = DossierFilterForm(data)
        assert form.is_valid()
        filtered = form.apply(Dossier.objects.all())
        assert set(filtered.values_list("code", flat=True)) == set(
            Dossier.objects.filter(**by_join).values_list("code", flat=True)
        )
        sql = str(filtered.query)
        assert "procedures_procedure" not in sql and "portal_unit" not in sql  # no join
    assert form.apply(Dossier.objects.all()).count() == 0


def test_a_day_and_number_finds_the_codes_that_end_with_it(every_state):
    dossier = every_state["overdue"]
    agency, day, number = dossier.code.rsplit("-", 2)
    # A code whose number starts with the same digits, and one that holds them elsewhere.
    longer = Dossier.objects.filter(pk=every_state["late"].pk)
    longer.update(code=f"{agency}-{day}-{number}7")
    inside = Dossier.objects.filter(pk=every_state["early"].pk)
    inside.update(code=f"{agency}-{day}{number[:2]}-{number}")

    def found(text):
        form = DossierFilterForm({"search": text})
        assert form.is_valid()
        return set(form.apply(Dossier.objects.all()).values_list("code", flat=True))

    assert found(f"{day}-{number}") == {dossier.code}
    assert found(f" {day}-{number} ") == {dossier.code}
    assert found(f"{day}-{number[:-1]}") >= {dossier.code}  # a partial number: a substring
    assert found(f"{day}-9999") == set()
    form = DossierFilterForm({"search": f"{day}-{number}"})
    assert form.is_valid()
    assert "applicant_phone" not in str(form.apply(Dossier.objects.all()).query).split(" WHERE ")[1]


def test_the_day_and_number_and_the_procedure_filter_have_their_indexes(every_state):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("the indexes are PostgreSQL's (migrations 0013 and 0014)")
    dossier = every_state["overdue"]
    _agency, day, number = dossier.code.rsplit("-", 2)
    searches = {
        "dossier_code_reversed": {"search": f"{day}-{number}"},
        "dossier_proc_unit_received": {
            "scope": "all",
            "procedure": dossier.procedure.code,
            "received_from": "2026-03-01",
        },
    }
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a tiny table: make the plan tell
        for index, data in searches.items():
            form = DossierFilterForm(data)
            assert form.is_valid()
            listed = form.apply(Dossier.objects.all())
            assert index in listed.order_by().explain(), index
            assert dossier.code in listed.values_list("code", flat=True)
