"""The dossier lifecycle through its services: statuses, events, clock, timeliness."""

from datetime import datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import override

from dossiers import services
from dossiers.choices import Action, Channel, Status, Timeliness
from dossiers.models import Dossier, DossierEvent
from portal.choices import Role
from portal.tests.factories import MembershipFactory
from procedures.deadlines import VN_TZ

from .factories import APPLICANT, office, received, submitted

pytestmark = pytest.mark.django_db


def at(*args):
    return datetime(*args, tzinfo=VN_TZ)


def test_in_person_intake_numbers_receives_and_times_the_dossier(time_machine):
    time_machine.move_to(at(2026, 3, 9, 9, 0), tick=False)  # a Monday
    o = office(time_limit_value=3)
    dossier = received(o, documents=[o.procedure.documents.first().pk], note="Nộp tại quầy")
    assert dossier.code == f"{o.commune.code}-260309-0001"
    assert dossier.status == Status.RECEIVED
    assert dossier.received_at == at(2026, 3, 9, 9, 0)
    assert dossier.due_at == at(2026, 3, 12, 9, 0)
    assert dossier.timeliness == Timeliness.IN_TIME
    assert dossier.deadline_trace[0]["kind"] == "received"
    assert [d.received for d in dossier.documents.all()] == [True, False]
    event = dossier.events.get()
    assert (event.action, event.from_status, event.to_status, event.by) == (
        Action.RECEIVE,
        "",
        Status.RECEIVED,
        o.counter,
    )
    assert received(o).code.endswith("-260309-0002")


def test_the_whole_way_with_a_supplement_that_moves_the_due_date(time_machine):
    time_machine.move_to(at(2026, 3, 9, 9, 0), tick=False)
    o = office(time_limit_value=3)
    dossier = received(o)
    services.start_processing(dossier=dossier, by=o.officer)
    time_machine.move_to(at(2026, 3, 10, 9, 0), tick=False)
    services.request_supplement(
        dossier=dossier, by=o.officer, missing="Giấy chứng sinh", reason="Thiếu giấy tờ"
    )
    time_machine.move_to(at(2026, 3, 12, 9, 0), tick=False)  # two working days later
    dossier = services.record_supplement(dossier=dossier, by=o.counter, note="Đã nộp bổ sung")
    assert dossier.status == Status.IN_PROGRESS
    assert dossier.due_at == at(2026, 3, 16, 9, 0)  # moved by the two working days waited
    assert dossier.paused_at is None
    assert any(step["kind"] == "pause" for step in dossier.deadline_trace)
    time_machine.move_to(at(2026, 3, 13, 10, 0), tick=False)
    dossier = services.resolve_dossier(dossier=dossier, by=o.officer, result="QĐ số 12/QĐ-UBND")
    assert (dossier.status, dossier.timeliness) == (Status.RESOLVED, Timeliness.EARLY)
    dossier = services.return_result(dossier=dossier, by=o.counter)
    assert dossier.status == Status.RETURNED
    assert list(dossier.events.values_list("action", flat=True)) == [
        Action.RECEIVE,
        Action.START,
        Action.REQUEST_SUPPLEMENT,
        Action.SUPPLEMENT,
        Action.RESOLVE,
        Action.RETURN,
    ]


@pytest.mark.parametrize(
    ("resolved", "expected"),
    [
        (at(2026, 3, 11, 17, 0), Timeliness.EARLY),
        (at(2026, 3, 12, 8, 0), Timeliness.ON_TIME),
        (at(2026, 3, 12, 9, 0), Timeliness.ON_TIME),
        (at(2026, 3, 12, 9, 1), Timeliness.LATE),
    ],
)
def test_resolution_is_classified_against_the_due_moment(time_machine, resolved, expected):
    time_machine.move_to(at(2026, 3, 9, 9, 0), tick=False)
    o = office(time_limit_value=3)
    dossier = received(o)
    services.start_processing(dossier=dossier, by=o.officer)
    time_machine.move_to(resolved, tick=False)
    dossier = services.resolve_dossier(dossier=dossier, by=o.officer, result="Xong")
    assert dossier.timeliness == expected


def test_a_rejection_is_a_result_and_is_classified_too(time_machine):
    time_machine.move_to(at(2026, 3, 9, 9, 0), tick=False)
    o = office(time_limit_value=3)
    dossier = received(o)
    services.start_processing(dossier=dossier, by=o.officer)
    dossier = services.reject_dossier(dossier=dossier, by=o.officer, reason="Không đủ điều kiện")
    assert (dossier.status, dossier.timeliness) == (Status.REJECTED, Timeliness.EARLY)
    assert services.return_result(dossier=dossier, by=o.counter).status == Status.RETURNED


def test_online_submission_waits_then_is_accepted_and_timed(time_machine):
    time_machine.move_to(at(2026, 3, 7, 10, 0), tick=False)  # a Saturday
    o = office(time_limit_value=1)
    dossier = submitted(o)
    assert (dossier.status, dossier.received_at, dossier.due_at) == (Status.SUBMITTED, None, None)
    assert dossier.code.endswith("-260307-0001")
    time_machine.move_to(at(2026, 3, 9, 8, 0), tick=False)
    dossier = services.accept_dossier(dossier=dossier, by=o.counter)
    assert dossier.status == Status.RECEIVED
    assert (dossier.received_at, dossier.due_at) == (at(2026, 3, 9, 8, 0), at(2026, 3, 10, 8, 0))


def test_a_refused_submission_is_closed_with_its_reason():
    o = office()
    dossier = services.refuse_dossier(dossier=submitted(o), by=o.counter, reason="Sai thủ tục")
    assert (dossier.status, dossier.close_reason, dossier.received_at) == (
        Status.REFUSED,
        "Sai thủ tục",
        None,
    )


def test_the_apology_keeps_the_due_date_and_is_issued_once(time_machine):
    time_machine.move_to(at(2026, 3, 9, 9, 0), tick=False)
    o = office(time_limit_value=1)
    dossier = received(o)
    services.start_processing(dossier=dossier, by=o.officer)
    due = dossier.due_at
    dossier = services.issue_apology(
        dossier=dossier, by=o.officer, promised_at=at(2026, 3, 13, 16, 0), reason="Chờ xác minh"
    )
    assert (dossier.due_at, dossier.promised_at) == (due, at(2026, 3, 13, 16, 0))
    assert dossier.deadline_trace[-1]["kind"] == "apology"
    with pytest.raises(services.DossierActionError):
        services.issue_apology(
            dossier=dossier, by=o.officer, promised_at=at(2026, 3, 20, 16, 0), reason="Lần hai"
        )
    time_machine.move_to(at(2026, 3, 12, 9, 0), tick=False)
    dossier = services.resolve_dossier(dossier=dossier, by=o.officer, result="Xong")
    assert dossier.timeliness == Timeliness.LATE  # still late, whatever was promised


def test_withdraw_and_stop_close_an_open_dossier_and_end_its_pause():
    o = office()
    dossier = received(o)
    services.request_supplement(dossier=dossier, by=o.officer, missing="X", reason="Y")
    dossier = services.withdraw_dossier(dossier=dossier, by=o.counter, reason="Công dân rút")
    assert dossier.status == Status.WITHDRAWN
    assert dossier.paused_at is None and not dossier.pauses.filter(ended_at__isnull=True).exists()
    other = services.stop_dossier(dossier=received(o), by=o.officer, reason="Theo quyết định")
    assert other.status == Status.STOPPED


def test_an_invalid_transition_is_refused_and_changes_nothing():
    o = office()
    dossier = received(o)
    with override("en"), pytest.raises(services.DossierActionError, match="cannot be given"):
        services.resolve_dossier(dossier=dossier, by=o.officer, result="Xong")
    dossier.refresh_from_db()
    assert dossier.status == Status.RECEIVED
    assert dossier.events.count() == 1


def test_a_role_that_may_not_act_is_refused():
    o = office()
    dossier = received(o)
    with pytest.raises(services.DossierPermissionError):
        services.start_processing(dossier=dossier, by=o.counter)
    with pytest.raises(services.DossierPermissionError):
        services.start_processing(dossier=dossier, by=o.outsider)  # another commune
    assert Dossier.objects.get().status == Status.RECEIVED


def test_a_manager_of_the_district_acts_on_a_communes_dossier():
    o = office()
    dossier = services.start_processing(dossier=received(o), by=o.manager)
    assert dossier.status == Status.IN_PROGRESS


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"applicant": APPLICANT.__class__("An", "12345", "0912345678")}, "applicant_id_number"),
        ({"applicant": APPLICANT.__class__("An", "015090001234", "12345")}, "applicant_phone"),
        ({"channel": Channel.POSTAL}, "postal_tracking_no"),
    ],
)
def test_bad_intake_input_stores_nothing_and_numbers_nothing(change, field):
    o = office()
    with pytest.raises(ValidationError) as error:
        received(o, **change)
    assert field in error.value.message_dict
    assert not Dossier.objects.exists()
    assert received(o).code.endswith("-0001")  # no number was used up


def test_a_unit_must_handle_the_procedure_and_its_channel():
    o = office(postal_allowed=False)
    district_counter = MembershipFactory(unit=o.district, role=Role.COUNTER_OFFICER).user
    with override("en"), pytest.raises(ValidationError, match="does not handle"):
        received(o, unit=o.district, by=district_counter)
    with override("en"), pytest.raises(ValidationError, match="cannot be submitted by post"):
        received(o, channel=Channel.POSTAL, postal_tracking_no="EMS123")
    offline = office(online_level="none")
    with pytest.raises(ValidationError):
        submitted(offline)
    assert not Dossier.objects.exists()


def test_only_counter_officers_receive():
    o = office()
    with pytest.raises(services.DossierPermissionError):
        received(o, by=o.officer)
    with pytest.raises(services.DossierPermissionError):
        received(o, unit=o.other_commune, by=o.counter)


def test_events_are_append_only():
    o = office()
    event = received(o).events.get()
    event.note = "sửa"
    with pytest.raises(ValidationError):
        event.save()
    with pytest.raises(ValidationError):
        event.delete()
    assert DossierEvent.objects.get().note == ""


def test_a_paused_dossier_stays_in_time_while_its_clock_stands(time_machine):
    from dossiers.selectors import worklist

    time_machine.move_to(at(2026, 3, 9, 9, 0), tick=False)
    o = office(time_limit_value=1)
    dossier = received(o)
    services.request_supplement(dossier=dossier, by=o.officer, missing="X", reason="Y")
    time_machine.move_to(at(2026, 3, 30, 9, 0), tick=False)
    row = worklist(user=o.officer).get(pk=dossier.pk)
    assert row.current_timeliness == Timeliness.IN_TIME
    other = received(o)
    time_machine.move_to(at(2026, 4, 30, 9, 0) - timedelta(days=1), tick=False)
    assert worklist(user=o.officer).get(pk=other.pk).current_timeliness == Timeliness.OVERDUE
    assert timezone.now() > other.due_at


def test_a_withdrawn_overdue_dossier_no_longer_counts_as_overdue(time_machine):
    time_machine.move_to(at(2026, 3, 9, 9, 0), tick=False)
    o = office(time_limit_value=1)
    dossier = received(o)
    time_machine.move_to(at(2026, 3, 20, 9, 0), tick=False)
    dossier = services.withdraw_dossier(dossier=dossier, by=o.counter, reason="Rút")
    assert dossier.timeliness == ""
    from dossiers.selectors import worklist

    assert worklist(user=o.officer).get(pk=dossier.pk).current_timeliness == ""


def test_input_is_checked_after_the_role_so_an_outsider_learns_nothing():
    o = office()
    dossier = received(o)
    services.start_processing(dossier=dossier, by=o.officer)
    with pytest.raises(services.DossierPermissionError):
        services.stop_dossier(dossier=dossier, by=o.counter, reason="")
    with pytest.raises(services.DossierPermissionError):
        services.assign_dossier(dossier=dossier, by=o.officer, officer=o.counter)


def test_a_unit_no_longer_in_force_receives_nothing():
    from datetime import date

    o = office()
    o.commune.valid_to = date(2025, 6, 30)
    o.commune.save()
    with pytest.raises(ValidationError) as error:
        received(o)
    assert "unit" in error.value.message_dict


def test_the_counter_receives_only_a_complete_dossier():
    o = office()
    with override("en"), pytest.raises(ValidationError, match="lacks required documents"):
        received(o, documents=[])
    assert not Dossier.objects.exists()
    # Optional documents may be missing.
    assert received(o).documents.filter(required=False, received=False).exists()
