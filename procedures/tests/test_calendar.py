"""The working calendar as stored: seeding, exceptions, scopes, and the deadline endpoint."""

from datetime import date, datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.translation import override

from portal.tests.factories import UnitFactory, UserFactory, unit_tree
from procedures.choices import CalendarDayKind, CalendarDaySource
from procedures.deadlines import VN_TZ
from procedures.models import CalendarDay
from procedures.selectors import procedure_deadline, working_calendar
from procedures.services import add_calendar_day, seed_holidays

from .factories import ProcedureFactory

pytestmark = pytest.mark.django_db


def test_seeding_holidays_twice_adds_them_once_and_keeps_admin_corrections():
    add_calendar_day(day=date(2026, 2, 16), kind=CalendarDayKind.HOLIDAY, name="Nghỉ Tết (sửa tay)")
    first = seed_holidays(years=[2026])
    second = seed_holidays(years=[2026])
    assert first.created > 5
    assert second.created == 0
    assert CalendarDay.objects.get(date=date(2026, 2, 16)).name == "Nghỉ Tết (sửa tay)"
    assert (
        CalendarDay.objects.get(date=date(2026, 2, 17)).source == CalendarDaySource.HOLIDAYS_PACKAGE
    )


def test_the_make_up_saturday_of_2024_is_seeded_as_a_working_day():
    seed_holidays(years=[2024])
    assert CalendarDay.objects.get(date=date(2024, 5, 4)).kind == CalendarDayKind.WORKING_DAY
    assert CalendarDay.objects.get(date=date(2024, 4, 29)).kind == CalendarDayKind.HOLIDAY


def test_a_day_cannot_be_both_off_and_working():
    add_calendar_day(day=date(2026, 3, 9), kind=CalendarDayKind.DAY_OFF, name="Nghỉ đột xuất")
    with override("en"), pytest.raises(ValidationError, match="either a day off or a working day"):
        add_calendar_day(day=date(2026, 3, 9), kind=CalendarDayKind.WORKING_DAY, name="Làm bù")
    assert CalendarDay.objects.count() == 1


@pytest.mark.parametrize(
    ("day", "kind", "message"),
    [
        (date(2026, 3, 10), CalendarDayKind.WORKING_DAY, "already a working day"),
        (date(2026, 3, 14), CalendarDayKind.DAY_OFF, "not a working day anyway"),
    ],
)
def test_pointless_exceptions_are_refused(day, kind, message):
    with override("en"), pytest.raises(ValidationError, match=message):
        add_calendar_day(day=day, kind=kind, name="Thử")
    assert not CalendarDay.objects.exists()


def test_a_reason_is_required():
    with pytest.raises(ValidationError):
        add_calendar_day(day=date(2026, 3, 9), kind=CalendarDayKind.DAY_OFF, name="  ")


def test_a_units_own_exception_overrides_the_national_one_for_its_subtree_only():
    tree = unit_tree()
    seed_holidays(years=[2026])
    # The province declares a local working Saturday; its communes follow, others do not.
    add_calendar_day(
        day=date(2026, 3, 14),
        kind=CalendarDayKind.WORKING_DAY,
        name="Làm bù",
        unit=tree["district"],
    )
    inside = working_calendar(unit=tree["commune"], start=date(2026, 1, 1), end=date(2026, 12, 31))
    outside = working_calendar(
        unit=tree["other_commune"], start=date(2026, 1, 1), end=date(2026, 12, 31)
    )
    assert inside.is_working_day(date(2026, 3, 14))
    assert not outside.is_working_day(date(2026, 3, 14))
    assert not inside.is_working_day(date(2026, 2, 17))


def test_procedure_deadline_skips_tet_2026():
    unit = UnitFactory()
    seed_holidays(years=[2026])
    procedure = ProcedureFactory(time_limit_value=1)
    deadline = procedure_deadline(
        procedure=procedure, unit=unit, received_at=datetime(2026, 2, 13, 10, 0, tzinfo=VN_TZ)
    )
    assert deadline.due_at == datetime(2026, 2, 23, 10, 0, tzinfo=VN_TZ)


def test_admin_can_add_a_make_up_day_and_sees_a_clear_error_on_a_conflict(client):
    admin = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)
    url = reverse("admin:procedures_calendarday_add")
    response = client.post(url, {"date": "2026-03-14", "kind": "working_day", "name": "Làm bù"})
    assert response.status_code == 302
    day = CalendarDay.objects.get()
    assert (day.created_by, day.source) == (admin, CalendarDaySource.ADMIN)
    response = client.post(url, {"date": "2026-03-14", "kind": "day_off", "name": "Nghỉ"})
    assert response.status_code == 200
    assert "không phải cả hai" in response.content.decode()
    assert CalendarDay.objects.count() == 1


def test_deadline_endpoint_answers_for_a_moment_and_a_unit(client):
    unit = UnitFactory(code="000.00.15.H61")
    seed_holidays(years=[2026])
    ProcedureFactory(code="1.001193", time_limit_value=1)
    body = client.get(
        "/api/v1/procedures/1.001193/deadline/",
        {"unit": unit.code, "received_at": "2026-02-13T10:00:00"},
    ).json()
    assert body["due_at"] == "2026-02-23T10:00:00+07:00"
    assert body["unit"] == "000.00.15.H61"
    kinds = [step["kind"] for step in body["trace"]]
    assert kinds[0] == "received" and kinds[-1] == "due"
    assert all(step["text"] for step in body["trace"])


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"unit": "000.00.99.X99"}, "unit"),
        ({"received_at": "13/02/2026 25:00"}, "received_at"),
    ],
)
def test_deadline_endpoint_refuses_bad_input(client, params, field):
    UnitFactory()
    ProcedureFactory(code="1.001193")
    response = client.get("/api/v1/procedures/1.001193/deadline/", params)
    assert response.status_code == 400
    assert field in response.json()["fields"]


def test_deadline_endpoint_for_an_unknown_procedure_is_404(client):
    assert client.get("/api/v1/procedures/0.0/deadline/").status_code == 404


def test_calendar_page_lists_the_years_holidays(client):
    seed_holidays(years=[2026])
    page = client.get(reverse("procedures:calendar"), {"year": 2026}).content.decode()
    assert "17/02/2026" in page
    assert "Tết" in page
