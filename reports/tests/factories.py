"""Dossiers at given moments, for reports.

Two ways, for two needs:

- :func:`lifecycle` drives the real services (intake, processing, closing, rating) and moves the
  clock to each step's moment with ``time_machine``, so every timestamp, due date and timeliness
  is the one the services stamp. Use it for hand-counted scenarios.
- :func:`dossier_row` / :func:`bulk_dossiers` build rows directly (``bulk_create``) with fields
  kept consistent by hand: status from the fate, ``resolved_at``/``closed_at``/``paused_at`` from
  the fate, timeliness from :mod:`dossiers.workflow`, a postal tracking number for postal
  dossiers. Use them for property tests that need hundreds of dossiers; they bypass the
  services' checks (due dates are given, not computed on the calendar).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import time_machine
from django.contrib.auth.models import User
from django.utils import timezone

from dossiers import services
from dossiers.choices import Channel, RatingScore, Status
from dossiers.models import Dossier, Pause, Rating
from dossiers.services import Applicant
from dossiers.workflow import open_timeliness, resolution_timeliness
from portal.choices import Role, UnitLevel
from portal.models import Unit
from portal.tests.factories import MembershipFactory, UnitFactory, UserFactory
from procedures.choices import OnlineLevel, ProcedureLevel
from procedures.deadlines import VN_TZ
from procedures.models import Procedure
from procedures.tests.factories import FieldFactory, ProcedureFactory

APPLICANT = Applicant(
    full_name="Trần Thị Bình",
    id_number="015190004321",
    phone="0987654321",
    email="binh@example.com",
    address="Thôn Làng Chạp, xã An Thịnh",
)


def at(*args: int) -> datetime:
    """A moment in Vietnam (Asia/Ho_Chi_Minh)."""
    return datetime(*args, tzinfo=VN_TZ)


@dataclass
class District:
    """A district with its communes, a district and a commune outside it, three procedures in
    three fields, and staff at the district (who may act on every commune below it)."""

    province: Unit
    district: Unit
    communes: list[Unit]
    other_district: Unit
    other_commune: Unit
    # Commune level, fully online, 10 working days (field "Hộ tịch").
    online_procedure: Procedure
    # Commune level, not online, 5 working days (field "Chứng thực").
    offline_procedure: Procedure
    # District level, partly online, 15 working days (field "Đất đai").
    district_procedure: Procedure
    counter: User
    officer: User
    citizen: User

    @property
    def units(self) -> list[Unit]:
        return [self.district, *self.communes]


def district_world(*, communes: int = 2) -> District:
    province = UnitFactory(level=UnitLevel.PROVINCE, name="UBND tỉnh Yên Bái")
    district = UnitFactory(level=UnitLevel.DISTRICT, parent=province, name="UBND huyện Văn Yên")
    below = [
        UnitFactory(level=UnitLevel.COMMUNE, parent=district, name=f"UBND xã A{n:02d}")
        for n in range(1, communes + 1)
    ]
    other_district = UnitFactory(
        level=UnitLevel.DISTRICT, parent=province, name="UBND huyện Trấn Yên"
    )
    other_commune = UnitFactory(
        level=UnitLevel.COMMUNE, parent=other_district, name="UBND xã Bảo Hưng"
    )
    counter = MembershipFactory(unit=district, role=Role.COUNTER_OFFICER).user
    officer = MembershipFactory(unit=district, role=Role.PROCESSING_OFFICER).user
    MembershipFactory(user=counter, unit=other_district, role=Role.COUNTER_OFFICER)
    MembershipFactory(user=officer, unit=other_district, role=Role.PROCESSING_OFFICER)
    return District(
        province=province,
        district=district,
        communes=below,
        other_district=other_district,
        other_commune=other_commune,
        online_procedure=ProcedureFactory(
            name="Đăng ký khai sinh",
            field=FieldFactory(code="ho-tich", name="Hộ tịch"),
            level=ProcedureLevel.COMMUNE,
            time_limit_value=Decimal("10"),
            online_level=OnlineLevel.FULL,
        ),
        offline_procedure=ProcedureFactory(
            name="Chứng thực chữ ký",
            field=FieldFactory(code="chung-thuc", name="Chứng thực"),
            level=ProcedureLevel.COMMUNE,
            time_limit_value=Decimal("5"),
            online_level=OnlineLevel.NONE,
        ),
        district_procedure=ProcedureFactory(
            name="Cấp giấy chứng nhận quyền sử dụng đất",
            field=FieldFactory(code="dat-dai", name="Đất đai"),
            level=ProcedureLevel.DISTRICT,
            time_limit_value=Decimal("15"),
            online_level=OnlineLevel.PARTIAL,
        ),
        counter=counter,
        officer=officer,
        citizen=UserFactory(),
    )


# --- Through the services -----------------------------------------------------------------------

Step = tuple  # (action, moment) or (action, moment, {keyword arguments})


def _step(world: District, dossier: Dossier, action: str, kwargs: dict) -> Dossier:
    counter, officer = world.counter, world.officer
    if action == "accept":
        return services.accept_dossier(dossier=dossier, by=counter, **kwargs)
    if action == "refuse":
        return services.refuse_dossier(dossier=dossier, by=counter, reason="Sai thủ tục")
    if action == "start":
        return services.start_processing(dossier=dossier, by=officer)
    if action == "request_supplement":
        return services.request_supplement(
            dossier=dossier, by=officer, missing="Bản sao giấy khai sinh", reason="Thiếu giấy tờ"
        )
    if action == "supplement":
        return services.record_supplement(dossier=dossier, by=counter)
    if action == "resolve":
        return services.resolve_dossier(dossier=dossier, by=officer, result="QĐ số 1", **kwargs)
    if action == "reject":
        return services.reject_dossier(dossier=dossier, by=officer, reason="Không đủ điều kiện")
    if action == "return":
        return services.return_result(dossier=dossier, by=counter)
    if action == "withdraw":
        return services.withdraw_dossier(dossier=dossier, by=counter, reason="Công dân rút")
    if action == "stop":
        return services.stop_dossier(dossier=dossier, by=officer, reason="Theo quyết định")
    if action == "rate":
        services.rate_dossier(dossier=dossier, by=world.citizen, **kwargs)
        return dossier
    raise ValueError(f"Unknown step {action!r}")


def lifecycle(
    world: District,
    *,
    unit: Unit,
    procedure: Procedure,
    channel: str = Channel.IN_PERSON,
    at: datetime,
    steps: Sequence[Step] = (),
    digitized_intake: bool = False,
) -> Dossier:
    """One dossier through the real services, each step at its own moment.

    In person or by post, ``at`` is the moment of receipt; online, it is the moment the citizen
    submits (add an ``("accept", moment)`` step to receive it). The clock is moved with
    ``time_machine`` for each call and put back afterwards.
    """
    with time_machine.travel(at, tick=False):
        if channel == Channel.ONLINE:
            dossier = services.submit_dossier(
                procedure=procedure,
                unit=unit,
                applicant=APPLICANT,
                user=world.citizen,
                documents=[d.pk for d in procedure.documents.all()],
            )
        else:
            dossier = services.receive_dossier(
                procedure=procedure,
                unit=unit,
                channel=channel,
                applicant=APPLICANT,
                by=world.counter,
                postal_tracking_no="EMS123456789VN" if channel == Channel.POSTAL else "",
                digitized_intake=digitized_intake,
            )
    for step in steps:
        action, moment, kwargs = (*step, {}) if len(step) == 2 else step
        with time_machine.travel(moment, tick=False):
            dossier = _step(world, dossier, action, dict(kwargs))
    dossier.refresh_from_db()
    return dossier


def act(world: District, dossier: Dossier, action: str, moment: datetime, **kwargs) -> Dossier:
    """One more step of :func:`lifecycle` on an existing dossier, at ``moment``."""
    with time_machine.travel(moment, tick=False):
        dossier = _step(world, dossier, action, kwargs)
    dossier.refresh_from_db()
    return dossier


def rating_at(dossier: Dossier, *, score: str, moment: datetime) -> Rating:
    """A rating created at ``moment`` (``created_at`` is stamped by the database layer)."""
    with time_machine.travel(moment, tick=False):
        return Rating.objects.create(dossier=dossier, score=score)


# --- Rows built directly ------------------------------------------------------------------------

OPEN, PAUSED, RESOLVED, REJECTED, WITHDRAWN, STOPPED = (
    "open",
    "paused",
    "resolved",
    "rejected",
    "withdrawn",
    "stopped",
)
FATES = (OPEN, PAUSED, RESOLVED, REJECTED, WITHDRAWN, STOPPED)
_codes = itertools.count(1)


def dossier_row(
    *,
    unit: Unit,
    procedure: Procedure,
    channel: str,
    received_at: datetime,
    due_at: datetime,
    fate: str = OPEN,
    paused_at: datetime | None = None,
    ended_at: datetime | None = None,
    returned: bool = False,
    digitized_intake: bool = False,
    digitized_result: bool = False,
    now: datetime | None = None,
) -> Dossier:
    """An unsaved dossier with fields consistent with its fate, as the services would leave it.

    ``fate`` OPEN or PAUSED (``paused_at`` required): still open; RESOLVED or REJECTED: decided
    at ``ended_at`` and classified early/on time/late against ``due_at`` (``returned`` moves a
    resolved one on to returned); WITHDRAWN or STOPPED: closed at ``ended_at``, no timeliness.
    """
    number = next(_codes)
    dossier = Dossier(
        code=f"{unit.code}-{timezone.localdate(received_at):%y%m%d}-R{number:07d}",
        procedure=procedure,
        unit=unit,
        channel=channel,
        postal_tracking_no=f"EMS{number:09d}VN" if channel == Channel.POSTAL else "",
        applicant_name=APPLICANT.full_name,
        applicant_search="tran thi binh",
        applicant_id_number=APPLICANT.id_number,
        applicant_phone=APPLICANT.phone,
        received_at=received_at,
        submitted_at=received_at if channel == Channel.ONLINE else None,
        due_at=due_at,
        digitized_intake=digitized_intake,
    )
    if fate in (OPEN, PAUSED):
        dossier.status = Status.SUPPLEMENT_REQUESTED if fate == PAUSED else Status.IN_PROGRESS
        dossier.paused_at = paused_at if fate == PAUSED else None
        if fate == PAUSED and paused_at is None:
            raise ValueError("A paused dossier needs paused_at.")
        dossier.timeliness = open_timeliness(now or received_at, due_at, dossier.paused_at)
    elif fate in (RESOLVED, REJECTED):
        assert ended_at is not None and ended_at >= received_at
        dossier.status = {RESOLVED: Status.RESOLVED, REJECTED: Status.REJECTED}[fate]
        if returned:
            dossier.status = Status.RETURNED
            dossier.returned_at = ended_at
        dossier.resolved_at = ended_at
        dossier.digitized_result = digitized_result
        dossier.timeliness = resolution_timeliness(ended_at, due_at, VN_TZ)
    elif fate in (WITHDRAWN, STOPPED):
        assert ended_at is not None and ended_at >= received_at
        dossier.status = {WITHDRAWN: Status.WITHDRAWN, STOPPED: Status.STOPPED}[fate]
        dossier.closed_at = ended_at
        dossier.timeliness = ""
    else:
        raise ValueError(f"Unknown fate {fate!r}")
    return dossier


def bulk_dossiers(rows: Iterable[Dossier]) -> list[Dossier]:
    """Store rows built by :func:`dossier_row` in one statement per thousand, with the open
    supplement request (:class:`Pause`) of each paused one, as the services keep both."""
    stored = Dossier.objects.bulk_create(list(rows), batch_size=1000)
    Pause.objects.bulk_create(
        [
            Pause(
                dossier=dossier,
                started_at=dossier.paused_at,
                missing_documents="Bản sao giấy khai sinh",
                reason="Thiếu giấy tờ",
            )
            for dossier in stored
            if dossier.paused_at is not None
        ],
        batch_size=1000,
    )
    return stored


def bulk_ratings(scores: Iterable[tuple[Dossier, str, datetime]]) -> None:
    """Ratings at given moments (``created_at`` is set after the insert: auto_now_add)."""
    for dossier, score, moment in scores:
        rating = Rating.objects.create(dossier=dossier, score=score)
        Rating.objects.filter(pk=rating.pk).update(created_at=moment)


SATISFIED_SCORES = (RatingScore.VERY_SATISFIED, RatingScore.SATISFIED)
