"""The access log: who opened which dossier; cheap to write, read by administrators only,
deleted after the retention period."""

from datetime import datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dossiers import services
from dossiers.models import DossierAccess
from dossiers.services.access_log import purge_access_log, record_access, record_export
from dossiers.tasks import purge_access_log_task
from portal.choices import Role
from portal.tests.factories import MembershipFactory, UserFactory
from procedures.deadlines import VN_TZ

from .factories import office, received, submitted

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
NOW = datetime(2026, 3, 9, 9, 0, tzinfo=VN_TZ)


@pytest.fixture
def monday(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


def detail(code):
    return reverse("dossiers:detail", args=[code])


def log_of(dossier):
    return list(
        DossierAccess.objects.filter(dossier=dossier)
        .order_by("id")
        .values_list("user__username", "kind", "ip")
    )


# --- Writing ------------------------------------------------------------------------------------


def test_opening_a_dossier_page_is_logged(client, monday):
    o = office()
    dossier = received(o)
    for user in (o.officer, o.manager):
        client.force_login(user)
        assert client.get(detail(dossier.code), REMOTE_ADDR="10.0.0.7").status_code == 200
    assert log_of(dossier) == [
        (o.officer.username, "view", "10.0.0.7"),
        (o.manager.username, "view", "10.0.0.7"),
    ]
    assert DossierAccess.objects.first().at == NOW


def test_a_refused_or_foreign_page_is_not_logged(client, monday):
    o = office()
    dossier = received(o)
    client.force_login(o.outsider)
    assert client.get(detail(dossier.code)).status_code == 404
    assert not DossierAccess.objects.exists()


def test_the_applicant_reading_their_own_dossier_is_not_logged(client, monday):
    o = office()
    dossier = submitted(o)
    attachment = services.add_attachment(
        dossier=dossier, by=o.citizen, upload=SimpleUploadedFile("a.pdf", PDF)
    )
    client.force_login(o.citizen)
    assert client.get(detail(dossier.code)).status_code == 302  # to their own page
    link = reverse("dossiers:attachment", args=[dossier.code, attachment.pk])
    assert client.get(link).status_code == 200
    assert not DossierAccess.objects.exists()


def test_a_download_is_logged_with_its_file(client, monday):
    o = office()
    dossier = received(o)
    attachment = services.add_attachment(
        dossier=dossier, by=o.counter, upload=SimpleUploadedFile("a.pdf", PDF)
    )
    client.force_login(o.manager)
    link = reverse("dossiers:attachment", args=[dossier.code, attachment.pk])
    assert client.get(link, REMOTE_ADDR="203.0.113.9").status_code == 200
    rows = list(DossierAccess.objects.order_by("id"))
    assert [(r.user, r.kind, r.attachment, r.ip) for r in rows] == [
        (o.manager, "download", attachment, "203.0.113.9")
    ]


def test_reading_a_dossier_through_the_api_and_exporting_the_register_are_logged(client, monday):
    o = office()
    dossier, other = received(o), received(o)
    client.force_login(o.manager)
    assert (
        client.get(f"/api/v1/dossiers/{dossier.code}/", REMOTE_ADDR="10.0.0.8").status_code == 200
    )
    assert log_of(dossier) == [(o.manager.username, "view", "10.0.0.8")]
    query = f"unit={o.district.code}&start=01/03/2026&end=31/03/2026&format=xlsx"
    response = client.get(f"{reverse('dossiers:register')}?{query}", REMOTE_ADDR="10.0.0.8")
    assert response.status_code == 200
    for each in (dossier, other):
        assert (o.manager.username, "export", "10.0.0.8") in log_of(each)


def test_an_address_that_is_not_one_is_not_stored(monday):
    o = office()
    dossier = received(o)
    for forged in ("<script>", "unknown", "", None):
        access = record_access(dossier=dossier, user=o.manager, kind="view", ip=forged)
        assert access is not None and access.ip is None
    access = record_access(dossier=dossier, user=o.manager, kind="view", ip=" 2001:db8::1 ")
    assert access is not None and access.ip == "2001:db8::1"


def test_a_write_is_one_insert_and_no_read(client, monday, django_assert_num_queries):
    o = office()
    dossier = received(o)
    with django_assert_num_queries(1):
        record_access(dossier=dossier, user=o.manager, kind="view", ip="10.0.0.1")
    client.force_login(o.manager)
    with CaptureQueriesContext(connection) as queries:
        client.get(detail(dossier.code))
    touching = [q["sql"] for q in queries if "dossiers_dossieraccess" in q["sql"]]
    assert len(touching) == 1 and touching[0].startswith("INSERT")


def test_an_export_is_logged_for_every_dossier_in_one_insert(monday, django_assert_num_queries):
    o = office()
    dossiers = [received(o) for _ in range(3)]
    with django_assert_num_queries(1):
        assert record_export(dossiers=dossiers, user=o.manager, ip="10.0.0.2") == 3
    assert set(DossierAccess.objects.values_list("kind", flat=True)) == {"export"}


# --- Reading ------------------------------------------------------------------------------------


def test_administrators_see_who_opened_a_dossier_on_its_page(client, monday):
    o = office()
    dossier = received(o)
    client.force_login(o.officer)
    client.get(detail(dossier.code))
    admin = MembershipFactory(unit=o.district, role=Role.ADMIN).user
    for reader in (admin, UserFactory(is_superuser=True)):
        client.force_login(reader)
        response = client.get(detail(dossier.code))
        page = response.content.decode()
        assert 'data-testid="access-log"' in page
        assert o.officer.username in page
        assert [a.user for a in response.context["accesses"]][-1] == o.officer
    for reader in (o.officer, o.manager, o.counter):
        client.force_login(reader)
        response = client.get(detail(dossier.code))
        assert response.context["accesses"] is None
        assert 'data-testid="access-log"' not in response.content.decode()


def admin_url(name, *args):
    return reverse(f"admin:dossiers_dossieraccess_{name}", args=args)


def test_the_admin_list_is_read_only_and_for_administrators(client, monday):
    o = office()
    first, second = received(o), received(o)
    record_access(dossier=first, user=o.officer, kind="view")
    record_access(dossier=second, user=o.manager, kind="view")
    admin = MembershipFactory(unit=o.district, role=Role.ADMIN).user
    admin.is_staff = True
    admin.save()
    client.force_login(admin)
    listed = client.get(admin_url("changelist"), {"q": first.code})
    assert listed.status_code == 200
    assert [a.dossier for a in listed.context["cl"].result_list] == [first]
    by_user = client.get(admin_url("changelist"), {"q": o.manager.username})
    assert [a.user for a in by_user.context["cl"].result_list] == [o.manager]
    dated = client.get(
        admin_url("changelist"),
        {"at__year": "2026", "at__month": "3", "at__day": "9", "kind__exact": "view"},
    )
    assert dated.status_code == 200 and len(dated.context["cl"].result_list) == 2
    row = DossierAccess.objects.first()
    assert client.get(admin_url("add")).status_code == 403
    assert client.get(admin_url("change", row.pk)).status_code == 200  # shown, not editable
    assert client.post(admin_url("change", row.pk), {"kind": "export"}).status_code == 403
    assert client.post(admin_url("delete", row.pk), {"post": "yes"}).status_code == 403
    assert DossierAccess.objects.count() == 2
    # Staff of the Django admin without the administrator role see nothing of it.
    clerk = o.counter
    clerk.is_staff = True
    clerk.save()
    client.force_login(clerk)
    assert client.get(admin_url("changelist")).status_code == 403


# --- Retention ----------------------------------------------------------------------------------


def test_rows_older_than_the_retention_period_are_deleted(monday, settings):
    settings.ACCESS_LOG_RETENTION_DAYS = 30
    o = office()
    dossier = received(o)
    old = record_access(
        dossier=dossier, user=o.officer, kind="view", at=NOW - timedelta(days=30, seconds=1)
    )
    kept = record_access(dossier=dossier, user=o.officer, kind="view", at=NOW - timedelta(days=29))
    assert purge_access_log(now=NOW) == 1
    assert list(DossierAccess.objects.all()) == [kept]
    assert old is not None and purge_access_log(now=NOW) == 0  # safe to run twice


def test_the_retention_task_uses_the_setting(monday, settings):
    settings.ACCESS_LOG_RETENTION_DAYS = 730
    o = office()
    dossier = received(o)
    record_access(dossier=dossier, user=o.officer, kind="view", at=NOW - timedelta(days=731))
    record_access(dossier=dossier, user=o.officer, kind="view", at=NOW - timedelta(days=729))
    assert purge_access_log_task.apply().get() == 1
    assert DossierAccess.objects.count() == 1
