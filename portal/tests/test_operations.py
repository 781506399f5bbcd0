from datetime import timedelta

import pytest
from django.utils import timezone

from portal.choices import MessageChannel, MessageStatus, Role
from portal.models import OutboxMessage
from portal.services import record_heartbeat

from .factories import MembershipFactory, UserFactory, unit_tree

pytestmark = pytest.mark.django_db


def test_administrators_see_worker_sweep_queue_and_outbox(client):
    admin = UserFactory(is_superuser=True, is_staff=True)
    record_heartbeat(name="worker", at=timezone.now())
    record_heartbeat(name="sweep", at=timezone.now(), detail="overdue=3 due_soon=1 warnings=8")
    OutboxMessage.objects.create(
        channel=MessageChannel.SMS, recipient="0912345678", body="x", key="a"
    )
    OutboxMessage.objects.create(
        channel=MessageChannel.EMAIL,
        recipient="a@b.vn",
        body="x",
        key="b",
        status=MessageStatus.FAILED,
        last_error="SMTP down",
    )
    client.force_login(admin)
    page = client.get("/ops/").content.decode()
    assert "overdue=3" in page
    assert "Đang chạy" in page
    assert "SMTP down" in page


def test_a_silent_worker_is_flagged(client):
    record_heartbeat(name="worker", at=timezone.now() - timedelta(minutes=30))
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    assert client.get("/ops/").context["worker_alive"] is False


def test_others_may_not_see_it(client):
    """Not even a unit's administrator: the page lists every unit's failed messages."""
    tree = unit_tree()
    for role in (Role.MANAGER, Role.ADMIN):
        client.force_login(MembershipFactory(unit=tree["district"], role=role).user)
        assert client.get("/ops/").status_code == 403


def test_the_page_says_which_report_period_closed_last_and_which_closes_next(client, time_machine):
    from reports.periods import parse_period
    from reports.services import close_period

    time_machine.move_to(timezone.make_aware(timezone.datetime(2026, 11, 27, 9, 0)), tick=False)
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    page = client.get("/ops/").content.decode()
    # Nothing closed yet: the period that ended on 14/11 (a Saturday) is the next one; it
    # closed on 17/11, two working days later.
    assert "Chưa khóa sổ kỳ nào" in page and "17/11/2026" in page

    close_period(period=parse_period("2026-11"), now=timezone.now())
    page = client.get("/ops/").content.decode()
    # 2026-11 is closed; the running period (15/11 – 14/12) closes two working days later.
    assert "2026-11" in page and "16/12/2026" in page
