from decimal import Decimal

import factory

from procedures.choices import (
    CalendarDayKind,
    DocumentKind,
    OnlineLevel,
    ProcedureLevel,
    TimeLimitUnit,
)
from procedures.models import CalendarDay, DocumentComponent, Field, Procedure


class FieldFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Field
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"linh-vuc-{n}")
    name = factory.Sequence(lambda n: f"Lĩnh vực {n}")


class ProcedureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Procedure

    code = factory.Sequence(lambda n: f"9.{n:06d}")
    name = factory.Sequence(lambda n: f"Thủ tục thử nghiệm số {n}")
    field = factory.SubFactory(FieldFactory)
    level = ProcedureLevel.COMMUNE
    time_limit_value = Decimal("3")
    time_limit_unit = TimeLimitUnit.WORKING_DAYS
    online_level = OnlineLevel.NONE
    postal_allowed = True


class DocumentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DocumentComponent

    procedure = factory.SubFactory(ProcedureFactory)
    name = factory.Sequence(lambda n: f"Giấy tờ {n}")
    kind = DocumentKind.ORIGINAL


class CalendarDayFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CalendarDay

    kind = CalendarDayKind.HOLIDAY
    name = "Ngày lễ"
