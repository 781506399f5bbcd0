import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from dossiers.choices import Status
from dossiers.models import Dossier
from portal.models import Membership, Unit
from procedures.models import Field, Procedure

pytestmark = pytest.mark.django_db


def test_demo_world_is_the_articles_and_loads_once(capsys):
    call_command("seed_demo")
    call_command("seed_demo")
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
    call_command("seed_demo")
    assert Dossier.objects.count() == count


def test_demo_logins_work(client, capsys):
    call_command("seed_demo")
    capsys.readouterr()
    call_command("seed_demo", "--print-logins")
    lines = [line.split("\t") for line in capsys.readouterr().out.strip().splitlines()]
    assert {role for role, _user, _password in lines} >= {"admin", "manager", "citizen"}
    for _role, username, password in lines:
        assert client.login(username=username, password=password), username
    assert get_user_model().objects.get(username="quantri").is_superuser
