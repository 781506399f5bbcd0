"""A change to the working calendar moves the due dates of the open dossiers it touches, once
each with an event; closed and resolved dossiers never change."""

from datetime import date, datetime

import pytest
from django.urls import reverse

from dossiers import services
from dossiers.choices import Action, Timeliness
from dossiers.models import DossierEvent
from portal.choices import Role
from portal.tests.factories import MembershipFactory, UserFactory
from procedures.choices import CalendarDayKind
from procedures.deadlines import VN_TZ
from procedures.models import CalendarDay
from procedures.services import add_calendar_day, seed_holidays

from .factories import office, received

pytestmark = pytest.mark.django_db


def at(*args):
    return datetime(*args, tzinfo=VN_TZ)


@pytest.fixture
def world(time_machine):
    time_machine.move_to(at(2026, 3, 9, 9, 0), tick=False)  # Monday
    o = office(time_limit_value=3)
    dossier = received(o)  # due Thursday 12/03 09:00
    services.start_processing(dossier=dossier, by=o.officer)
    return o, dossier


def _recalculations(dossier):
    return list(DossierEvent.objects.filter(dossier=dossier, action=Action.RECALCULATE))


def test_a_day_off_inside_the_span_moves_the_due_date_by_a_working_day(world):
    _o, dossier = world
    assert dossier.due_at == at(2026, 3, 12, 9, 0)
    admin = UserFactory(is_staff=True)
    add_calendar_day(day=date(2026, 3, 11), kind=CalendarDayKind.DAY_OFF, name="Bão", by=admin)
    dossier.refresh_from_db()
    assert dossier.due_at == at(2026, 3, 13, 9, 0)
    assert dossier.timeliness == Timeliness.IN_TIME
    [event] = _recalculations(dossier)
    assert event.by == admin
    assert event.data == {
        "due_before": at(2026, 3, 12, 9, 0).isoformat(),
        "due_after": at(2026, 3, 13, 9, 0).isoformat(),
        "day": "2026-03-11",
        "reason": "Bão",
    }


def test_a_make_up_working_saturday_pulls_the_due_date_earlier(time_machine):
    time_machine.move_to(at(2026, 3, 12, 9, 0), tick=False)  # Thursday
    o = office(time_limit_value=3)
    dossier = received(o)  # Friday, Monday, Tuesday: due Tuesday 17/03 09:00
    assert dossier.due_at == at(2026, 3, 17, 9, 0)
    add_calendar_day(day=date(2026, 3, 14), kind=CalendarDayKind.WORKING_DAY, name="Làm bù")
    dossier.refresh_from_db()
    assert dossier.due_at == at(2026, 3, 16, 9, 0)
    [event] = _recalculations(dossier)
    assert event.data["day"] == "2026-03-14"


def test_a_day_outside_the_span_changes_nothing(world):
    _o, dossier = world
    add_calendar_day(day=date(2026, 3, 20), kind=CalendarDayKind.DAY_OFF, name="Nghỉ")
    add_calendar_day(day=date(2026, 3, 6), kind=CalendarDayKind.DAY_OFF, name="Nghỉ")
    dossier.refresh_from_db()
    assert dossier.due_at == at(2026, 3, 12, 9, 0)
    assert _recalculations(dossier) == []


def test_a_resolved_dossier_never_changes(world):
    o, dossier = world
    services.resolve_dossier(dossier=dossier, by=o.officer, result="Xong")
    dossier.refresh_from_db()
    before = (dossier.due_at, dossier.timeliness, dossier.deadline_trace)
    add_calendar_day(day=date(2026, 3, 11), kind=CalendarDayKind.DAY_OFF, name="Bão")
    dossier.refresh_from_db()
    assert (dossier.due_at, dossier.timeliness, dossier.deadline_trace) == before
    assert _recalculations(dossier) == []


def test_a_unit_exception_moves_only_the_dossiers_of_its_subtree(world):
    o, dossier = world
    counter = MembershipFactory(unit=o.other_commune, role=Role.COUNTER_OFFICER).user
    elsewhere = received(o, unit=o.other_commune, by=counter)
    add_calendar_day(
        day=date(2026, 3, 11), kind=CalendarDayKind.DAY_OFF, name="Mất điện", unit=o.commune
    )
    dossier.refresh_from_db()
    elsewhere.refresh_from_db()
    assert dossier.due_at == at(2026, 3, 13, 9, 0)
    assert elsewhere.due_at == at(2026, 3, 12, 9, 0)
    assert _recalculations(elsewhere) == []
    # The district's own exception reaches both of its communes.
    add_calendar_day(
        day=date(2026, 3, 10), kind=CalendarDayKind.DAY_OFF, name="Họp", unit=o.district
    )
    dossier.refresh_from_db()
    elsewhere.refresh_from_db()
    assert (dossier.due_at, elsewhere.due_at) == (at(2026, 3, 16, 9, 0), at(2026, 3, 13, 9, 0))
    assert [len(_recalculations(d)) for d in (dossier, elsewhere)] == [2, 1]


def test_a_paused_dossier_keeps_the_due_date_it_had_when_paused_plus_the_day(world):
    o, dossier = world
    services.request_supplement(dossier=dossier, by=o.officer, missing="A", reason="B")
    add_calendar_day(day=date(2026, 3, 11), kind=CalendarDayKind.DAY_OFF, name="Bão")
    dossier.refresh_from_db()
    assert dossier.due_at == at(2026, 3, 13, 9, 0)  # the open pause adds nothing yet


def test_the_admin_recomputes_on_add_change_and_delete(world, client):
    _o, dossier = world
    admin = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)
    response = client.post(
        reverse("admin:procedures_calendarday_add"),
        {"date": "2026-03-11", "kind": "day_off", "name": "Bão"},
    )
    assert response.status_code == 302
    dossier.refresh_from_db()
    assert dossier.due_at == at(2026, 3, 13, 9, 0)
    day = CalendarDay.objects.get()
    # Moved to a date after the span: the old day counts again, the new one is out of reach.
    response = client.post(
        reverse("admin:procedures_calendarday_change", args=[day.pk]),
        {"date": "2026-03-25", "kind": "day_off", "name": "Bão"},
    )
    assert response.status_code == 302
    dossier.refresh_from_db()
    assert dossier.due_at == at(2026, 3, 12, 9, 0)
    add_calendar_day(day=date(2026, 3, 10), kind=CalendarDayKind.DAY_OFF, name="Họp")
    dossier.refresh_from_db()
    assert dossier.due_at == at(2026, 3, 13, 9, 0)
    response = client.post(
        reverse(
            "admin:procedures_calendarday_delete", args=[CalendarDay.objects.get(name="Họp").pk]
        ),
        {"post": "yes"},
    )
    assert response.status_code == 302
    dossier.refresh_from_db()
    assert dossier.due_at == at(2026, 3, 12, 9, 0)
    events = _recalculations(dossier)
    assert [e.data["day"] for e in events] == [
        "2026-03-11",
        "2026-03-11",
        "2026-03-10",
        "2026-03-10",
    ]


def test_seeding_holidays_moves_the_dossiers_they_fall_in(time_machine):
    time_machine.move_to(at(2026, 4, 28, 9, 0), tick=False)  # Tuesday before 30/04 and 01/05
    o = office(time_limit_value=3)
    dossier = received(o)
    assert dossier.due_at == at(2026, 5, 1, 9, 0)
    seed_holidays(years=[2026])
    dossier.refresh_from_db()
    assert dossier.due_at > at(2026, 5, 1, 9, 0)
    [event] = _recalculations(dossier)
    assert event.data["day"] == "2026-04-30"
    # Again: nothing new is seeded, nothing moves.
    seed_holidays(years=[2026])
    assert len(_recalculations(dossier)) == 1
