import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.utils.translation import override

from portal.choices import Role
from portal.models import Membership

from .factories import unit_tree

pytestmark = pytest.mark.django_db
User = get_user_model()


def test_add_staff_creates_the_account_and_its_membership(capsys):
    tree = unit_tree()
    with override("en"):
        call_command(
            "add_staff",
            "canbo1",
            unit=tree["district"].code,
            role="counter_officer",
            password="Ky-thuat-2026",
            full_name="Trần Thị Hoa",
        )
    user = User.objects.get(username="canbo1")
    assert user.check_password("Ky-thuat-2026")
    assert (user.last_name, user.first_name) == ("Trần Thị", "Hoa")
    assert not user.is_staff
    assert list(Membership.objects.filter(user=user).values_list("role", "unit")) == [
        (Role.COUNTER_OFFICER, tree["district"].pk)
    ]
    assert "Created canbo1" in capsys.readouterr().out


def test_add_staff_again_adds_a_role_without_duplicating_anything():
    tree = unit_tree()
    call_command("add_staff", "canbo2", unit=tree["district"].code, role="manager")
    call_command("add_staff", "canbo2", unit=tree["district"].code, role="manager")
    call_command("add_staff", "canbo2", unit=tree["commune"].code, role="admin")
    user = User.objects.get(username="canbo2")
    assert Membership.objects.filter(user=user).count() == 2
    assert user.is_staff  # administrators use the admin site
    assert not user.has_usable_password()


def test_add_staff_refuses_an_unknown_unit_and_changes_nothing():
    unit_tree()
    with override("en"), pytest.raises(CommandError, match="No unit has the code 999"):
        call_command("add_staff", "canbo3", unit="999", role="manager")
    assert not User.objects.filter(username="canbo3").exists()


def test_add_staff_refuses_an_unknown_role():
    tree = unit_tree()
    with pytest.raises(CommandError):
        call_command("add_staff", "canbo4", unit=tree["district"].code, role="mayor")
    assert not User.objects.filter(username="canbo4").exists()


def test_add_staff_refuses_a_weak_password_in_vietnamese():
    tree = unit_tree()
    with override("vi"), pytest.raises(CommandError) as error:
        call_command(
            "add_staff", "canbo5", unit=tree["district"].code, role="manager", password="123"
        )
    assert "Mật khẩu" in str(error.value)
    assert not User.objects.filter(username="canbo5").exists()
