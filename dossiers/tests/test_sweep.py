"""The deadline worker's sweep: overdue flips, due-soon warnings, once each, set-based."""

import threading
from datetime import datetime

import pytest
from django.core.management import call_command
from django.db import connection, connections

from dossiers import services
from dossiers.choices import Action, Timeliness
from dossiers.models import Dossier, DossierEvent
from dossiers.services.sweep import sweep_deadlines
from portal.models import Heartbeat, OutboxMessage
from procedures.deadlines import VN_TZ

from .factories import office, received

pytestmark = pytest.mark.django_db


def at(*args):
    return datetime(*args, tzinfo=VN_TZ)


@pytest.fixture
def world(time_machine):
    time_machine.move_to(at(2026, 3, 9, 9, 0), tick=False)  # Monday
    o = office(time_limit_value=3)  # due Thursday 12/03 09:00
    for user in (o.officer, o.manager):
        user.email = f"{user.username}@motcua.example"
        user.save()
    dossier = received(o)
    services.start_processing(dossier=dossier, by=o.officer)
    return o, dossier


def _warnings(kind):
    return sorted(
        OutboxMessage.objects.filter(key__startswith=f"{kind}:").values_list("recipient", flat=True)
    )


def test_a_dossier_past_its_due_moment_flips_to_overdue_once(world):
    o, dossier = world
    assert sweep_deadlines(now=at(2026, 3, 12, 8, 59)).overdue == 0
    first = sweep_deadlines(now=at(2026, 3, 12, 9, 1))
    second = sweep_deadlines(now=at(2026, 3, 12, 9, 6))
    assert (first.overdue, second.overdue) == (1, 0)
    dossier.refresh_from_db()
    assert dossier.timeliness == Timeliness.OVERDUE
    assert DossierEvent.objects.filter(dossier=dossier, action=Action.OVERDUE).count() == 1
    # The assigned officer and the district's manager, once each.
    assert _warnings("overdue") == sorted([o.officer.email, o.manager.email])


def test_due_soon_is_warned_once_when_less_than_a_working_day_is_left(world):
    o, dossier = world
    assert sweep_deadlines(now=at(2026, 3, 10, 9, 0)).due_soon == 0  # two working days left
    assert sweep_deadlines(now=at(2026, 3, 11, 9, 30)).due_soon == 1  # 7.5 working hours left
    assert sweep_deadlines(now=at(2026, 3, 11, 10, 0)).due_soon == 0
    assert _warnings("due_soon") == sorted([o.officer.email, o.manager.email])
    dossier.refresh_from_db()
    assert dossier.timeliness == Timeliness.IN_TIME


def test_a_paused_dossier_does_not_flip(world):
    o, dossier = world
    services.request_supplement(dossier=dossier, by=o.officer, missing="A", reason="B")
    assert sweep_deadlines(now=at(2026, 3, 20, 9, 0)).overdue == 0
    assert Dossier.objects.get().timeliness == Timeliness.IN_TIME


def test_resolved_dossiers_are_left_alone(world):
    o, dossier = world
    services.resolve_dossier(dossier=dossier, by=o.officer, result="Xong")
    assert sweep_deadlines(now=at(2026, 3, 20, 9, 0)).overdue == 0
    assert Dossier.objects.get().timeliness == Timeliness.EARLY


def test_the_command_and_the_heartbeat(world, capsys, time_machine):
    time_machine.move_to(at(2026, 3, 13, 9, 0), tick=False)
    call_command("sweep_deadlines")
    assert capsys.readouterr().out.startswith("1 ")
    assert Heartbeat.objects.get(name="sweep").detail.startswith("overdue=1")


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_flip_and_warn_once(time_machine):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent sweeps need PostgreSQL connections")
    time_machine.move_to(at(2026, 3, 9, 9, 0), tick=False)
    o = office(time_limit_value=1)
    o.manager.email = "lanhdao@motcua.example"
    o.manager.save()
    for _ in range(20):
        received(o)
    barrier = threading.Barrier(2)
    results, errors = [], []

    def sweep():
        try:
            barrier.wait(timeout=10)
            results.append(sweep_deadlines(now=at(2026, 3, 11, 9, 0)))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(r.overdue for r in results) == [0, 20]
    assert DossierEvent.objects.filter(action=Action.OVERDUE).count() == 20
    # One grouped warning to the manager names all twenty dossiers, once.
    warning = OutboxMessage.objects.get(key__startswith="overdue:")
    assert warning.recipient == "lanhdao@motcua.example"
    assert (
        sum(code in warning.body for code in Dossier.objects.values_list("code", flat=True)) == 20
    )


def test_a_backlog_is_reported_in_one_message_per_person(world, time_machine):
    o, first = world
    others = [received(o) for _ in range(3)]
    for dossier in others:
        services.start_processing(dossier=dossier, by=o.officer)
    result = sweep_deadlines(now=at(2026, 3, 13, 9, 0))
    assert result.overdue == 4
    assert _warnings("overdue") == sorted([o.officer.email, o.manager.email])
    body = OutboxMessage.objects.get(recipient=o.manager.email).body
    assert all(d.code in body for d in [first, *others])
    assert DossierEvent.objects.filter(action=Action.OVERDUE).count() == 4
