"""Factories for dossiers and the world around them: a unit with its staff and a procedure."""

from dataclasses import dataclass

from django.contrib.auth.models import User

from dossiers.choices import Channel
from dossiers.models import Dossier
from dossiers.services import Applicant, receive_dossier, submit_dossier
from portal.choices import Role, UnitLevel
from portal.models import Unit
from portal.tests.factories import MembershipFactory, UnitFactory, UserFactory
from procedures.choices import OnlineLevel
from procedures.models import Procedure
from procedures.tests.factories import DocumentFactory, ProcedureFactory

APPLICANT = Applicant(
    full_name="Nguyễn Văn An",
    id_number="015090001234",
    phone="0912345678",
    email="an@example.com",
    address="Thôn Trung Tâm, xã An Thịnh",
)


@dataclass
class Office:
    """A commune with its counter officer, processing officer and manager, a procedure it
    handles, and the same roles at another commune (outside its subtree)."""

    district: Unit
    commune: Unit
    other_commune: Unit
    procedure: Procedure
    counter: User
    officer: User
    manager: User
    outsider: User
    citizen: User


def office(**procedure_fields) -> Office:
    province = UnitFactory(level=UnitLevel.PROVINCE, name="UBND tỉnh Yên Bái")
    district = UnitFactory(level=UnitLevel.DISTRICT, parent=province, name="UBND huyện Văn Yên")
    commune = UnitFactory(level=UnitLevel.COMMUNE, parent=district, name="UBND xã An Thịnh")
    other = UnitFactory(level=UnitLevel.COMMUNE, parent=district, name="UBND xã Đông Cuông")
    procedure = ProcedureFactory(
        level="commune",
        online_level=procedure_fields.pop("online_level", OnlineLevel.FULL),
        **procedure_fields,
    )
    DocumentFactory(procedure=procedure, name="Tờ khai theo mẫu")
    DocumentFactory(procedure=procedure, name="Giấy tờ tùy thân", required=False)
    return Office(
        district=district,
        commune=commune,
        other_commune=other,
        procedure=procedure,
        counter=MembershipFactory(unit=commune, role=Role.COUNTER_OFFICER).user,
        officer=MembershipFactory(unit=commune, role=Role.PROCESSING_OFFICER).user,
        manager=MembershipFactory(unit=district, role=Role.MANAGER).user,
        outsider=MembershipFactory(unit=other, role=Role.PROCESSING_OFFICER).user,
        citizen=UserFactory(),
    )


def received(o: Office, **kwargs) -> Dossier:
    """An in-person dossier received at the office's commune, with its required documents."""
    procedure = kwargs.pop("procedure", o.procedure)
    kwargs.setdefault("documents", [d.pk for d in procedure.documents.filter(required=True)])
    return receive_dossier(
        procedure=procedure,
        unit=kwargs.pop("unit", o.commune),
        channel=kwargs.pop("channel", Channel.IN_PERSON),
        applicant=kwargs.pop("applicant", APPLICANT),
        by=kwargs.pop("by", o.counter),
        **kwargs,
    )


def submitted(o: Office, **kwargs) -> Dossier:
    """An online submission by the office's citizen, awaiting intake."""
    return submit_dossier(
        procedure=o.procedure, unit=o.commune, applicant=APPLICANT, user=o.citizen, **kwargs
    )


def intake_payload(o: Office, **changes) -> dict:
    """The body of ``POST /api/v1/dossiers/``: an in-person dossier of the office's procedure at
    its commune, with the required documents."""
    return {
        "procedure": o.procedure.code,
        "unit": o.commune.code,
        "channel": "in_person",
        "applicant": {
            "full_name": APPLICANT.full_name,
            "id_number": APPLICANT.id_number,
            "phone": APPLICANT.phone,
            "email": APPLICANT.email,
            "address": APPLICANT.address,
        },
        "documents": [d.pk for d in o.procedure.documents.filter(required=True)],
        **changes,
    }
