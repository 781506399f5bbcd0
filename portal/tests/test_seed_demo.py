from datetime import date, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db.models import Max, Min
from django.utils import timezone

from dossiers.choices import Status
from dossiers.models import DayCounter, Dossier
from portal.models import Membership, Unit
from procedures.models import Field, Procedure

pytestmark = pytest.mark.django_db


def test_demo_world_is_the_articles_and_loads_once(capsys):
    call_command("seed_demo", history=200)
    call_command("seed_demo", history=200)
    district = Unit.objects.get(code="000.00.15.H61")
    assert district.name == "UBND huyện Văn Yên"
    assert Unit.objects.filter(parent=district).count() >= 10
    assert Procedure.objects.count() >= 40
    assert Field.objects.count() >= 8
    assert Procedure.objects.filter(name__icontains="khai sinh").exists()
    roles = set(Membership.objects.values_list("role", flat=True))
    assert roles == {"counter_officer", "processing_officer", "manager", "admin"}
    statuses = set(Dossier.objects.values_list("status", flat=True))
    assert {Status.RECEIVED, Status.IN_PROGRESS, Status.RETURNED} <= statuses
    count = Dossier.objects.count()
    assert count > 200
    call_command("seed_demo", history=200)
    assert Dossier.objects.count() == count


def test_demo_logins_work(client, capsys):
    call_command("seed_demo", history=0)
    capsys.readouterr()
    call_command("seed_demo", "--print-logins")
    lines = [line.split("\t") for line in capsys.readouterr().out.strip().splitlines()]
    assert {role for role, _user, _password in lines} >= {"admin", "manager", "citizen"}
    for _role, username, password in lines:
        assert client.login(username=username, password=password), username
    assert get_user_model().objects.get(username="quantri").is_superuser


def test_the_history_is_a_year_of_van_yen_added_once(capsys):
    call_command("seed_demo", history=300)
    out = capsys.readouterr().out
    assert "300 dossiers of history added" in out
    # The year's statutory months are closed, as the worker would have done by now.
    from reports.models import ReportSnapshot

    closed = ReportSnapshot.objects.count()
    assert closed >= 12 and f"{closed} report periods closed" in out
    today = timezone.localdate()
    hand_made = Dossier.objects.filter(code__contains=f"-{today:%y%m%d}-").count()
    assert hand_made > 0  # the day's demo dossiers are still there
    history = Dossier.objects.exclude(code__contains=f"-{today:%y%m%d}-")
    assert history.count() == 300
    district = Unit.objects.get(code="000.00.15.H61")
    assert not history.exclude(unit__path__startswith=district.path).exists()
    span = history.exclude(received_at=None).aggregate(
        first=Min("received_at"), last=Max("received_at")
    )
    months_back = today.year * 12 + today.month - 13
    first_day = date(months_back // 12, months_back % 12 + 1, 1)
    assert first_day <= timezone.localdate(span["first"]) < first_day + timedelta(days=31)
    assert timezone.localdate(span["last"]) < today
    assert history.filter(status=Status.RETURNED).count() > 200
    counters = DayCounter.objects.count()

    call_command("seed_demo", history=300)
    out = capsys.readouterr().out
    assert "0 dossiers of history added" in out and "0 report periods closed" in out
    assert Dossier.objects.count() == 300 + hand_made
    assert DayCounter.objects.count() == counters


def test_no_history_when_asked_for_none(capsys):
    call_command("seed_demo", "--history", "0")
    assert "0 dossiers of history added" in capsys.readouterr().out
    assert not Dossier.objects.filter(received_at__date__lt=timezone.localdate()).exists()
