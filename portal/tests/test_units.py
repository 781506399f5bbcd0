import pytest
from django.core.exceptions import ValidationError
from django.utils.translation import override

from portal.choices import Role, UnitLevel
from portal.models import Unit
from portal.selectors import unit_subtree, user_roles, visible_units
from portal.services import save_unit

from .factories import MembershipFactory, UnitFactory, UserFactory, unit_tree

pytestmark = pytest.mark.django_db


def test_subtree_is_the_unit_and_everything_below_it():
    tree = unit_tree()
    names = set(unit_subtree(tree["district"]).values_list("name", flat=True))
    assert names == {"UBND huyện A", "UBND xã A1", "UBND xã A2"}


def test_staff_see_their_unit_subtree_and_nothing_else():
    tree = unit_tree()
    manager = MembershipFactory(unit=tree["district"], role=Role.MANAGER).user
    assert set(visible_units(manager)) == {tree["district"], tree["commune"], tree["commune2"]}


def test_memberships_of_several_units_add_up():
    tree = unit_tree()
    user = UserFactory()
    MembershipFactory(user=user, unit=tree["commune"])
    MembershipFactory(user=user, unit=tree["other_commune"], role=Role.MANAGER)
    assert set(visible_units(user)) == {tree["commune"], tree["other_commune"]}
    assert user_roles(user) == {Role.COUNTER_OFFICER, Role.MANAGER}


def test_citizens_and_anonymous_users_see_no_unit():
    from django.contrib.auth.models import AnonymousUser

    unit_tree()
    assert not visible_units(UserFactory()).exists()
    assert not visible_units(AnonymousUser()).exists()


def test_superuser_sees_every_unit():
    tree = unit_tree()
    admin = UserFactory(is_superuser=True)
    assert visible_units(admin).count() == len(tree)


def test_moving_a_district_moves_its_communes_paths():
    tree = unit_tree()
    other_province = UnitFactory(level=UnitLevel.PROVINCE, name="UBND tỉnh Khác")
    district = tree["district"]
    district.parent = other_province
    save_unit(unit=district)
    assert set(unit_subtree(other_province)) == {
        other_province,
        district,
        tree["commune"],
        tree["commune2"],
    }
    assert not unit_subtree(tree["province"]).filter(pk=tree["commune"].pk).exists()


@pytest.mark.parametrize(
    ("level", "parent_key", "message"),
    [
        (UnitLevel.DISTRICT, None, "must belong to a higher unit"),
        (UnitLevel.DISTRICT, "commune", "cannot belong"),
        (UnitLevel.PROVINCE, "province", "cannot belong"),
    ],
)
def test_a_unit_must_sit_under_a_higher_level(level, parent_key, message):
    tree = unit_tree()
    count = Unit.objects.count()
    unit = Unit(code="000.99.99.H99", name="Sai", level=level, parent=tree.get(parent_key))
    with override("en"):
        with pytest.raises(ValidationError) as error:
            save_unit(unit=unit)
        assert message in str(error.value)
    assert Unit.objects.count() == count


def test_a_unit_cannot_move_below_itself():
    tree = unit_tree()
    province = tree["province"]
    province.level = UnitLevel.COMMUNE
    province.parent = tree["district"]
    with pytest.raises(ValidationError):
        save_unit(unit=province)


def test_since_2025_a_commune_may_belong_directly_to_a_province():
    province = UnitFactory(level=UnitLevel.PROVINCE)
    commune = save_unit(
        unit=Unit(
            code="000.10.00.H10", name="UBND xã Mới", level=UnitLevel.COMMUNE, parent=province
        )
    )
    assert commune.path == f"{province.path}{commune.pk}/"


def test_office_hours_must_run_in_order():
    unit = UnitFactory.build(level=UnitLevel.PROVINCE)
    unit.morning_close = unit.afternoon_close
    with pytest.raises(ValidationError):
        save_unit(unit=unit)


def test_agency_code_format_is_checked():
    with pytest.raises(ValidationError) as error:
        save_unit(unit=Unit(code="not a code", name="X", level=UnitLevel.PROVINCE))
    assert "code" in error.value.message_dict
