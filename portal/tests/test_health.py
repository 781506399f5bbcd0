import pytest
from django.utils import timezone

from portal.services import record_heartbeat
from portal.tasks import heartbeat_task

pytestmark = pytest.mark.django_db


def test_health_reports_the_database_and_the_last_heartbeats(client):
    record_heartbeat(name="worker", at=timezone.now(), detail="host-a")
    body = client.get("/health/").json()
    assert body["database"] == "ok"
    assert body["heartbeats"]["worker"]["age_seconds"] < 60


def test_heartbeat_task_records_one_row_per_name():
    heartbeat_task("worker")
    heartbeat_task("worker")
    from portal.models import Heartbeat

    assert Heartbeat.objects.filter(name="worker").count() == 1
