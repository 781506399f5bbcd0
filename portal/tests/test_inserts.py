"""portal.inserts.insert_rows stores the row ``save()`` stores, on SQLite and PostgreSQL."""

from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, connections
from django.db.models.signals import post_save
from django.forms.models import model_to_dict
from django.utils import timezone

from dossiers.choices import Action, Channel, Status
from dossiers.models import Dossier, DossierDocument, DossierEvent
from dossiers.tests.factories import office, received
from portal.choices import MessageChannel
from portal.inserts import insert_rows
from portal.models import OutboxMessage

pytestmark = pytest.mark.django_db


def stored(model, pk) -> dict:
    """The row as read back, without its key."""
    row = model.objects.filter(pk=pk).values().get()
    row.pop("id")
    return row


AT = timezone.now() - timedelta(hours=3)


def a_dossier(o, code: str, at=AT) -> Dossier:
    return Dossier(
        code=code,
        procedure=o.procedure,
        unit=o.commune,
        channel=Channel.POSTAL,
        postal_tracking_no="EB123456789VN",
        applicant_name="Trần Thị Bình",
        applicant_search="tran thi binh",
        applicant_id_number="015090001234",
        applicant_phone="0912345678",
        received_by=o.counter,
        status=Status.RECEIVED,
        received_at=at,
        due_at=at + timedelta(days=5),
        deadline_trace=[{"kind": "received", "at": at.isoformat(), "params": {"x": [1, "ư"]}}],
        timeliness="in_time",
        digitized_intake=True,
    )


def test_a_dossier_is_stored_as_save_stores_it():
    o = office()
    saved, inserted = a_dossier(o, "A-1"), a_dossier(o, "A-2")
    saved.save()

    (returned,) = insert_rows([inserted])

    assert returned is inserted
    assert inserted.pk is not None and inserted.pk != saved.pk
    assert inserted._state.adding is False and inserted._state.db == "default"
    # auto_now and auto_now_add were set on the object, as save() sets them
    assert inserted.created_at is not None and inserted.updated_at is not None
    expected = stored(Dossier, saved.pk) | {"code": "A-2"}
    actual = stored(Dossier, inserted.pk)
    for moment in ("created_at", "updated_at"):
        assert abs(actual.pop(moment) - expected.pop(moment)) < timedelta(seconds=5)
    assert actual == expected
    assert Dossier.objects.get(pk=inserted.pk).deadline_trace == saved.deadline_trace


def test_rows_get_their_keys_in_the_order_sent():
    o = office()
    dossier = received(o)
    lines = [
        DossierDocument(dossier=dossier, name=f"Giấy tờ {n}", count=n, sort_order=n)
        for n in range(1, 8)
    ]

    insert_rows(lines)

    assert [DossierDocument.objects.get(pk=line.pk).name for line in lines] == [
        f"Giấy tờ {n}" for n in range(1, 8)
    ]
    assert [model_to_dict(line) for line in lines] == [
        model_to_dict(d) for d in DossierDocument.objects.filter(pk__in=[x.pk for x in lines])
    ]


def test_more_rows_than_one_statement_holds_go_in_batches():
    o = office()
    dossier = received(o)
    fields = [f for f in DossierDocument._meta.concrete_fields if not f.primary_key]
    lines = [DossierDocument(dossier=dossier, name=str(n), sort_order=n) for n in range(1200)]
    batch = connection.ops.bulk_batch_size(fields, lines)
    before = DossierDocument.objects.filter(dossier=dossier).count()

    insert_rows(lines)

    assert len({line.pk for line in lines}) == 1200
    assert DossierDocument.objects.filter(dossier=dossier).count() == before + 1200
    assert batch < 1200 or connection.vendor == "postgresql"


def test_an_event_is_inserted_although_save_refuses_a_second_save():
    o = office()
    dossier = received(o)
    event = DossierEvent(
        dossier=dossier,
        at=timezone.now(),
        by=o.officer,
        action=Action.START,
        from_status=Status.RECEIVED,
        to_status=Status.IN_PROGRESS,
        data={"note": "bắt đầu"},
    )

    insert_rows([event])

    assert DossierEvent.objects.get(pk=event.pk).data == {"note": "bắt đầu"}


def test_a_related_object_without_a_key_is_refused_as_save_refuses_it():
    o = office()
    dossier = a_dossier(o, "A-3")  # never saved

    with pytest.raises(ValueError, match="unsaved related object"):
        insert_rows([DossierDocument(dossier=dossier, name="x", sort_order=1)])

    assert not DossierDocument.objects.filter(name="x").exists()


def test_a_row_whose_unique_value_is_stored_is_left_out():
    def message(body: str) -> OutboxMessage:
        return OutboxMessage(
            channel=MessageChannel.SMS, recipient="0912345678", body=body, key="k-1"
        )

    first, second = message("một"), message("hai")

    assert insert_rows([first], unless_conflict_on="key") == [first]
    assert insert_rows([second], unless_conflict_on="key") == []

    assert second.pk is None and second._state.adding is True
    assert list(OutboxMessage.objects.values_list("body", flat=True)) == ["một"]


def test_a_conflict_column_is_for_one_row_at_a_time():
    rows = [OutboxMessage(channel=MessageChannel.SMS, recipient="1", body="", key=k) for k in "ab"]

    with pytest.raises(ValueError):
        insert_rows(rows, unless_conflict_on="key")

    assert not OutboxMessage.objects.exists()


def test_a_model_with_save_receivers_is_refused():
    def receiver(**kwargs):
        pass

    message = OutboxMessage(channel=MessageChannel.SMS, recipient="1", body="", key="k")
    post_save.connect(receiver, sender=OutboxMessage, dispatch_uid="test-inserts")
    try:
        with pytest.raises(ImproperlyConfigured, match="post_save"):
            insert_rows([message])
    finally:
        post_save.disconnect(sender=OutboxMessage, dispatch_uid="test-inserts")

    assert not OutboxMessage.objects.exists()


def test_statements_are_kept_per_database_not_per_connection_and_long_ones_not_at_all():
    from portal import inserts

    o = office()
    dossier = received(o)
    inserts._STATEMENTS.clear()
    other = connections.create_connection("default")  # as another thread's would be

    insert_rows([DossierDocument(dossier=dossier, name="x", sort_order=n) for n in range(3)])
    kept = inserts._statement(DossierDocument, 3, other, None)
    insert_rows([DossierDocument(dossier=dossier, name="y", sort_order=n) for n in range(100)])

    assert list(inserts._STATEMENTS) == [(DossierDocument, 3, connection.vendor, None)]
    assert kept is inserts._STATEMENTS[(DossierDocument, 3, connection.vendor, None)]
    assert DossierDocument.objects.filter(dossier=dossier, name="y").count() == 100
