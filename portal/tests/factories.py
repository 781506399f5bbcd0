import factory
from django.contrib.auth import get_user_model

from portal.choices import Role, UnitLevel
from portal.models import Membership, Unit
from portal.services import save_unit

PASSWORD = "Mat-khau-2026"


class UnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Unit

    code = factory.Sequence(lambda n: f"000.{n % 100:02d}.{n // 100 % 100:02d}.T{n % 90 + 10}")
    name = factory.Sequence(lambda n: f"UBND xã Thử Nghiệm {n}")
    level = UnitLevel.PROVINCE
    parent = None

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return save_unit(unit=model_class(*args, **kwargs))


def unit_tree() -> dict[str, Unit]:
    """A province with a district that has two communes, and a second district with one."""
    province = UnitFactory(level=UnitLevel.PROVINCE, name="UBND tỉnh Thử")
    district = UnitFactory(level=UnitLevel.DISTRICT, parent=province, name="UBND huyện A")
    other_district = UnitFactory(level=UnitLevel.DISTRICT, parent=province, name="UBND huyện B")
    return {
        "province": province,
        "district": district,
        "commune": UnitFactory(level=UnitLevel.COMMUNE, parent=district, name="UBND xã A1"),
        "commune2": UnitFactory(level=UnitLevel.COMMUNE, parent=district, name="UBND xã A2"),
        "other_district": other_district,
        "other_commune": UnitFactory(
            level=UnitLevel.COMMUNE, parent=other_district, name="UBND xã B1"
        ),
    }


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"nguoidung{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password(PASSWORD)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    unit = factory.SubFactory(UnitFactory)
    role = Role.COUNTER_OFFICER
