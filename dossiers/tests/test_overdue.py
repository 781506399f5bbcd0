"""The managers' overdue page and their morning digest."""

from datetime import date, datetime

import pytest
from django.urls import reverse

from dossiers import services
from dossiers.selectors import overdue_dossiers
from dossiers.services.digest import send_manager_digest
from dossiers.tasks import send_manager_digest_task
from portal.choices import Role, UnitLevel
from portal.models import OutboxMessage
from portal.tests.factories import MembershipFactory, UnitFactory, UserFactory
from procedures.deadlines import VN_TZ
from procedures.tests.factories import CalendarDayFactory

from .factories import office, received, submitted

pytestmark = pytest.mark.django_db


def at(*args):
    return datetime(*args, tzinfo=VN_TZ)


@pytest.fixture
def world(time_machine):
    """Three overdue dossiers by Monday 16/03 09:00 and one in time."""
    time_machine.move_to(at(2026, 3, 9, 9, 0), tick=False)  # Monday
    o = office(time_limit_value=3)  # due Thursday 12/03 09:00
    MembershipFactory(unit=o.other_commune, role=Role.COUNTER_OFFICER, user=o.counter)
    MembershipFactory(unit=o.other_commune, role=Role.PROCESSING_OFFICER, user=o.officer)
    most_late = received(o)
    services.start_processing(dossier=most_late, by=o.officer)
    unassigned = received(o)
    time_machine.move_to(at(2026, 3, 10, 9, 0), tick=False)
    least_late = received(o, unit=o.other_commune)  # due Friday 13/03 09:00
    time_machine.move_to(at(2026, 3, 13, 8, 0), tick=False)
    services.issue_apology(
        dossier=most_late, by=o.officer, promised_at=at(2026, 3, 20, 9, 0), reason="Chờ xác minh"
    )
    time_machine.move_to(at(2026, 3, 16, 9, 0), tick=False)
    in_time = received(o)
    return o, most_late, unassigned, least_late, in_time


def test_the_selector_lists_overdue_dossiers_most_late_first(world):
    o, most_late, unassigned, least_late, _in_time = world
    rows = overdue_dossiers(user=o.manager, now=at(2026, 3, 16, 9, 0))
    assert [r.dossier.code for r in rows] == [most_late.code, unassigned.code, least_late.code]
    # Thu 09:00 → Mon 09:00 is two working days; Fri 09:00 → Mon 09:00 one.
    assert [r.days_late for r in rows] == [2, 2, 1]
    # Half a working day more starts a third late day.
    rows = overdue_dossiers(user=o.manager, now=at(2026, 3, 16, 13, 30))
    assert [r.days_late for r in rows] == [3, 3, 2]


def test_the_selector_only_covers_the_units_a_user_manages(world):
    o, *_ = world
    assert overdue_dossiers(user=o.officer, now=at(2026, 3, 16, 9, 0)) == []
    commune_manager = MembershipFactory(unit=o.commune, role=Role.MANAGER).user
    rows = overdue_dossiers(user=commune_manager, now=at(2026, 3, 16, 9, 0))
    assert {r.dossier.unit for r in rows} == {o.commune}


def test_the_page_shows_the_overdue_dossiers_and_counts_per_unit(world, client):
    o, most_late, unassigned, least_late, in_time = world
    client.force_login(o.manager)
    response = client.get(reverse("dossiers:overdue"))
    assert response.status_code == 200
    page = response.content.decode()
    assert in_time.code not in page
    assert page.index(most_late.code) < page.index(unassigned.code) < page.index(least_late.code)
    assert "chưa phân công" in page
    assert o.officer.username in page or o.officer.get_full_name() in page
    assert "20/03/2026" in page  # the apology's new date
    assert "Chưa lập" in page  # no apology for the others
    assert reverse("dossiers:detail", args=[most_late.code]) in page
    per_unit = [(u.name, n) for u, n in response.context["per_unit"]]
    assert per_unit == [(o.commune.name, 2), (o.other_commune.name, 1)]
    assert "2 ngày" in page and "1 ngày" in page
    # The menu links the page for managers.
    assert "Hồ sơ quá hạn" in page


def test_the_page_is_for_managers_and_superusers(world, client):
    o, *_ = world
    url = reverse("dossiers:overdue")
    response = client.get(url)
    assert response.status_code == 302 and reverse("login") in response["Location"]
    for user in (o.counter, o.officer, o.outsider, o.citizen):
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 403
        assert "Hồ sơ quá hạn" not in response.content.decode()
    client.force_login(UserFactory(is_superuser=True))
    assert client.get(url).status_code == 200


def test_the_page_query_count_does_not_grow_with_the_rows(
    world, client, time_machine, django_assert_max_num_queries
):
    o, *_ = world
    time_machine.move_to(at(2026, 3, 9, 9, 0), tick=False)
    for unit in (o.commune, o.other_commune) * 5:
        services.start_processing(dossier=received(o, unit=unit), by=o.officer)
    third = UnitFactory(level=UnitLevel.COMMUNE, parent=o.district, name="UBND xã Mậu A")
    MembershipFactory(unit=third, role=Role.COUNTER_OFFICER, user=o.counter)
    received(o, unit=third)
    time_machine.move_to(at(2026, 3, 16, 9, 0), tick=False)
    client.force_login(o.manager)
    # Session, user, roles, units, rows, calendar; the rows' procedures and units one query
    # each here, none where the catalogue is kept (a shared cache).
    with django_assert_max_num_queries(8):
        response = client.get(reverse("dossiers:overdue"))
    assert len(response.context["rows"]) == 14


# --- The digest -----------------------------------------------------------------------------------


def _digests():
    return {m.recipient: m for m in OutboxMessage.objects.filter(key__startswith="digest:")}


def test_the_digest_counts_what_needs_the_managers_attention(world, time_machine):
    o, most_late, _unassigned, least_late, in_time = world
    o.manager.email = "lanhdao@motcua.example"
    o.manager.save()
    time_machine.move_to(at(2026, 3, 17, 7, 30), tick=False)  # Tuesday
    submitted(o)
    supplement = received(o, unit=o.other_commune)
    services.start_processing(dossier=supplement, by=o.officer)
    services.request_supplement(dossier=supplement, by=o.officer, missing="A", reason="B")
    assert send_manager_digest(now=at(2026, 3, 17, 7, 30)) == 1
    message = _digests()["lanhdao@motcua.example"]
    assert message.key == f"digest:2026-03-17:{o.manager.pk}"
    body = message.body
    assert "Quá hạn hiện tại: 3" in body
    assert "Đến hạn trong hôm nay hoặc trong một ngày làm việc: 0" in body
    assert "Chờ tiếp nhận (nộp trực tuyến): 1" in body
    assert "Chờ bổ sung: 1" in body
    assert "Tiếp nhận hôm qua: 1" in body  # the in-time one, received Monday
    assert body.index(most_late.code) < body.index(least_late.code)
    assert f"{most_late.code} (3)" in body
    assert in_time.code not in body


def test_the_digest_goes_once_a_day(world, time_machine):
    time_machine.move_to(at(2026, 3, 17, 7, 30), tick=False)
    assert send_manager_digest_task() == 1
    assert send_manager_digest(now=at(2026, 3, 17, 9, 0)) == 1  # the same message, not a new one
    assert OutboxMessage.objects.filter(key__startswith="digest:").count() == 1
    time_machine.move_to(at(2026, 3, 18, 7, 30), tick=False)
    send_manager_digest_task()
    assert OutboxMessage.objects.filter(key__startswith="digest:").count() == 2


def test_no_digest_on_a_sunday_or_a_holiday(world):
    assert send_manager_digest(now=at(2026, 3, 15, 7, 30)) == 0  # Sunday
    CalendarDayFactory(date=date(2026, 3, 17), name="Ngày nghỉ bù")
    assert send_manager_digest(now=at(2026, 3, 17, 7, 30)) == 0
    assert not _digests()


def test_no_digest_for_a_manager_with_nothing_to_report(world):
    o, *_ = world
    elsewhere = UnitFactory(name="UBND huyện Lục Yên")
    idle = MembershipFactory(unit=elsewhere, role=Role.MANAGER, user__email="idle@motcua.example")
    no_email = MembershipFactory(unit=o.district, role=Role.MANAGER, user__email="").user
    send_manager_digest(now=at(2026, 3, 17, 7, 30))
    assert set(_digests()) == {o.manager.email}
    assert idle.user.email not in _digests()
    assert no_email.email == ""
