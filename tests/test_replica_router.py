"""Reports and dashboards read a PostgreSQL replica when ``REPORTS_DATABASE_URL`` is set
(issue 8, docs/scaling.md); everything else reads and writes the primary.

In this process: the ``reports`` alias is added as a mirror of the test database (what the
settings make of REPORTS_DATABASE_URL in tests), and the queries of the report, dashboard,
public page and report API are caught on each connection: the aggregates run on ``reports``,
never on ``default``; the period closing and every write run on ``default``, never on
``reports``. A mirror holds the same rows, so these tests see which connection ran a query, not
which data it read.

With real processes: two databases that really differ. A primary (A) and a copy of it (B) that
stands for a replica lagging behind: a dossier received after the copy is in A only. The
``monthly_report`` command run with DATABASE_URL=A and REPORTS_DATABASE_URL=B prints B's
numbers; a dossier received by the same configuration lands in A, and a period closed by it
freezes A's numbers into A. On PostgreSQL A and B are two fresh databases (B made with
``CREATE DATABASE … TEMPLATE A``), on SQLite two files.
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.utils import load_backend
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dossiers.models import Dossier
from portal.choices import Role
from portal.db import REPORTS_DB_ALIAS, reporting_alias
from portal.dbrouters import ReportsReplicaRouter
from portal.models import Unit
from portal.tests.factories import MembershipFactory
from reports.dashboard_selectors import manager_dashboard
from reports.periods import parse_period, trailing_periods
from reports.selectors import monthly_statistics
from reports.services import close_due_periods, close_period
from reports.tests.factories import at, district_world, lifecycle
from tests.test_celery_worker import ROOT, _base_env, _postgres_url

DOSSIER_TABLE = Dossier._meta.db_table


# --- In this process: which connection runs which query ----------------------------------------


@pytest.fixture
def replica(transactional_db: None) -> Iterator[str]:
    """The ``reports`` connection, a second connection to the test database, for this test only.

    It is made here rather than declared in DATABASES (which pytest-django reads once, when it
    creates the test databases); Django's test case allows such connections. The data must be
    committed for another connection to see it: hence ``transactional_db``."""
    mirror = copy.deepcopy(connections[DEFAULT_DB_ALIAS].settings_dict)
    mirror["TEST"] = {**mirror.get("TEST", {}), "MIRROR": DEFAULT_DB_ALIAS}
    connections[REPORTS_DB_ALIAS] = load_backend(mirror["ENGINE"]).DatabaseWrapper(
        mirror, REPORTS_DB_ALIAS
    )
    try:
        yield REPORTS_DB_ALIAS
    finally:
        connections[REPORTS_DB_ALIAS].close()
        del connections[REPORTS_DB_ALIAS]


@pytest.fixture
def october(replica: str):
    """A district with dossiers received in October 2026, one resolved late."""
    world = district_world(communes=2)
    a01, a02 = world.communes
    lifecycle(world, unit=a01, procedure=world.offline_procedure, at=at(2026, 9, 20, 9))
    lifecycle(
        world,
        unit=a02,
        procedure=world.offline_procedure,
        at=at(2026, 9, 21, 9),
        steps=[("start", at(2026, 9, 22, 9)), ("resolve", at(2026, 10, 12, 9))],
    )
    manager = MembershipFactory(unit=world.district, role=Role.MANAGER).user
    return world, manager, parse_period("2026-10")


@dataclass
class Caught:
    default: CaptureQueriesContext
    reports: CaptureQueriesContext

    def on(self, alias: str) -> list[str]:
        queries = self.default if alias == DEFAULT_DB_ALIAS else self.reports
        return [query["sql"] for query in queries.captured_queries]

    def dossier_reads(self, alias: str) -> list[str]:
        return [sql for sql in self.on(alias) if f'"{DOSSIER_TABLE}"' in sql]


class catch:
    """Catch the queries of both connections inside a ``with`` block."""

    def __enter__(self) -> Caught:
        self.caught = Caught(
            CaptureQueriesContext(connections[DEFAULT_DB_ALIAS]),
            CaptureQueriesContext(connections[REPORTS_DB_ALIAS]),
        )
        self.caught.default.__enter__()
        self.caught.reports.__enter__()
        return self.caught

    def __exit__(self, *exc: object) -> None:
        self.caught.reports.__exit__(*exc)
        self.caught.default.__exit__(*exc)


def test_without_a_replica_reports_read_the_primary():
    assert REPORTS_DB_ALIAS not in connections.settings  # the suite runs without one
    assert reporting_alias() == DEFAULT_DB_ALIAS


def test_with_a_replica_the_report_reads_only_the_replica(october):
    world, _manager, period = october
    assert reporting_alias() == REPORTS_DB_ALIAS
    with catch() as caught:
        report = monthly_statistics(unit=world.district, period=period, now=at(2026, 11, 3, 9))
    assert report.total.received == 2 and report.total.resolved_late == 1
    assert caught.on(DEFAULT_DB_ALIAS) == []
    assert caught.dossier_reads(REPORTS_DB_ALIAS)


def test_with_a_replica_the_dashboard_reads_only_the_replica(october):
    world, _manager, period = october
    with catch() as caught:
        board = manager_dashboard(
            unit=world.district,
            units=world.units,
            period=period,
            trend_periods=trailing_periods(period, 6),
            now=at(2026, 11, 3, 9),
        )
    assert board.report.total.received == 2 and board.trend[-1].resolved_late == 1
    assert caught.on(DEFAULT_DB_ALIAS) == []
    assert len(caught.dossier_reads(REPORTS_DB_ALIAS)) >= 3  # report, overdue now, trend, …


@pytest.mark.parametrize(
    "page", ["reports:monthly", "reports:export", "reports:dashboard", "api-report-monthly"]
)
def test_with_a_replica_the_managers_pages_count_dossiers_on_the_replica(october, client, page):
    """The pages authorise on the primary (session, memberships: a revoked manager loses
    access at once) and count every dossier on the replica."""
    world, manager, period = october
    client.force_login(manager)
    query = {"unit": world.district.code, "period": period.key}
    with catch() as caught:
        response = client.get(reverse(page), query)
    assert response.status_code == 200, response.content[:500]
    assert caught.dossier_reads(DEFAULT_DB_ALIAS) == []
    assert caught.dossier_reads(REPORTS_DB_ALIAS)


def test_with_a_replica_the_public_results_page_reads_only_the_replica(october, client):
    world, _manager, period = october
    with catch() as caught:
        response = client.get(
            reverse("reports:public-results"), {"unit": world.district.code, "period": period.key}
        )
    assert response.status_code == 200
    assert caught.on(DEFAULT_DB_ALIAS) == []
    assert caught.dossier_reads(REPORTS_DB_ALIAS)


def test_with_a_replica_closing_a_period_reads_and_writes_only_the_primary(october, time_machine):
    """A snapshot frozen from a lagging replica would miss the period's last dossiers for
    good; the closing reads the primary, where it also writes."""
    _world, _manager, period = october
    time_machine.move_to(at(2026, 10, 16, 8), tick=False)
    with catch() as caught:
        result = close_due_periods()
        again = close_period(period=period, now=at(2026, 10, 16, 9))  # already closed
    assert "2026-10" in result.closed and again is None
    assert caught.on(REPORTS_DB_ALIAS) == []
    assert caught.dossier_reads(DEFAULT_DB_ALIAS)
    assert any(sql.startswith("INSERT") for sql in caught.on(DEFAULT_DB_ALIAS))


def test_an_object_read_from_the_replica_is_saved_on_the_primary(october):
    world, _manager, _period = october
    unit = Unit.objects.using(REPORTS_DB_ALIAS).get(pk=world.district.pk)
    unit.name = "UBND huyện Văn Yên (mới)"
    with catch() as caught:
        unit.save(update_fields=["name"])
    assert caught.on(REPORTS_DB_ALIAS) == []
    assert [sql.split()[0] for sql in caught.on(DEFAULT_DB_ALIAS)] == ["UPDATE"]
    assert Unit.objects.get(pk=unit.pk).name == "UBND huyện Văn Yên (mới)"


def test_the_router_keeps_migrations_and_writes_on_the_primary():
    router = ReportsReplicaRouter()
    assert router.allow_migrate(DEFAULT_DB_ALIAS, "dossiers") is True
    assert router.allow_migrate(REPORTS_DB_ALIAS, "dossiers") is False
    assert router.db_for_write(Dossier) == DEFAULT_DB_ALIAS
    assert router.db_for_read(Dossier) is None  # only an explicit .using() reads the replica
    replica_unit, primary_unit = Unit(), Unit()
    replica_unit._state.db, primary_unit._state.db = REPORTS_DB_ALIAS, DEFAULT_DB_ALIAS
    assert router.allow_relation(replica_unit, primary_unit) is True


# --- Real processes: a primary and a lagging replica that really differ --------------------------

SEED = """
import json

import django

django.setup()
from django.utils import timezone

from dossiers.tests.factories import office, received
from reports.periods import month_period

o = office()
received(o)
received(o)
print(json.dumps({
    "district": o.district.code,
    "commune": o.commune.code,
    "period": month_period(timezone.localdate()).key,
}))
"""

# A dossier received, a period closed, with the replica configured: all of it on the primary.
ON_PRIMARY = """
import json
import sys

import django

django.setup()
from django.utils import timezone

from dossiers.models import Dossier
from dossiers.tests.factories import APPLICANT
from dossiers.services import receive_dossier
from portal.choices import Role
from portal.db import reporting_alias
from portal.models import Membership, Unit
from reports.models import ReportSnapshot
from reports.periods import month_period
from reports.services import close_period

assert reporting_alias() == "reports", reporting_alias()
commune = Unit.objects.get(code=sys.argv[1])
counter = Membership.objects.get(unit=commune, role=Role.COUNTER_OFFICER).user
procedure = Dossier.objects.first().procedure
dossier = receive_dossier(
    procedure=procedure,
    unit=commune,
    channel="in_person",
    applicant=APPLICANT,
    by=counter,
    documents=[d.pk for d in procedure.documents.filter(required=True)],
)
now = timezone.now()
snapshot = close_period(period=month_period(timezone.localdate(now)), now=now)
print(json.dumps({
    "code": dossier.code,
    "primary_dossiers": Dossier.objects.count(),
    "replica_dossiers": Dossier.objects.using("reports").count(),
    "frozen_in_person": sum(snapshot.cells.values_list("received_in_person", flat=True)),
    "primary_snapshots": ReportSnapshot.objects.count(),
    "replica_snapshots": ReportSnapshot.objects.using("reports").count(),
}))
"""


@dataclass
class TwoDatabases:
    primary: str  # DATABASE_URL of A
    replica: str  # REPORTS_DATABASE_URL: B, a copy of A made by copy_primary()
    copy_primary: object


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    result = subprocess.run(
        args,
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"{args} failed:\n{result.stdout}\n{result.stderr}"
    return result


def _migrate(env: dict[str, str]) -> None:
    _run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], env)


@pytest.fixture
def two_databases(tmp_path: Path) -> Iterator[TwoDatabases]:
    if connection.vendor == "sqlite":
        primary, replica = tmp_path / "primary.sqlite3", tmp_path / "replica.sqlite3"
        _migrate(_base_env(tmp_path, database_url=f"sqlite:///{primary}"))
        yield TwoDatabases(
            f"sqlite:///{primary}", f"sqlite:///{replica}", lambda: shutil.copy(primary, replica)
        )
        return
    if connection.vendor != "postgresql":
        pytest.skip(f"no recipe for two {connection.vendor} databases")
    import psycopg2

    server = {**connection.settings_dict, "NAME": "postgres"}
    names = [f"motcua_replica_{uuid.uuid4().hex[:10]}_{side}" for side in ("a", "b")]
    url_a, url_b = (_postgres_url({**server, "NAME": name}) for name in names)

    def admin(sql: str) -> None:
        db = psycopg2.connect(_postgres_url(server))
        try:
            db.autocommit = True  # CREATE/DROP DATABASE run outside a transaction
            with db.cursor() as cursor:
                cursor.execute(sql)
        finally:
            db.close()

    admin(f'CREATE DATABASE "{names[0]}"')
    try:
        _migrate(_base_env(tmp_path, database_url=url_a))
        # Copied once the seeding process has ended: nobody is connected to A then.
        yield TwoDatabases(
            url_a, url_b, lambda: admin(f'CREATE DATABASE "{names[1]}" TEMPLATE "{names[0]}"')
        )
    finally:
        for name in names:
            admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_the_report_shows_the_replicas_numbers_and_writes_land_on_the_primary(
    two_databases: TwoDatabases, tmp_path: Path
) -> None:
    primary = _base_env(tmp_path, database_url=two_databases.primary)
    primary.pop("REPORTS_DATABASE_URL", None)
    # 1. Two dossiers on the primary; the replica catches up (a copy).
    seeded = json.loads(_run([sys.executable, "-c", SEED], primary).stdout.splitlines()[-1])
    two_databases.copy_primary()
    both = {**primary, "REPORTS_DATABASE_URL": two_databases.replica}

    # 2. With the replica configured, a third dossier is received and the period closed: both
    #    land on the primary (the replica, a copy, does not get them: it "lags").
    written = json.loads(
        _run([sys.executable, "-c", ON_PRIMARY, seeded["commune"]], both).stdout.splitlines()[-1]
    )
    assert written["primary_dossiers"] == 3 and written["replica_dossiers"] == 2
    assert written["primary_snapshots"] == 1 and written["replica_snapshots"] == 0
    # The closing froze the primary's figures, not the replica's.
    assert written["frozen_in_person"] == 3

    # 3. The report reads the replica: the period's snapshot is not there yet, so it counts the
    #    replica's two dossiers live. Without the replica it reads the primary's snapshot: three.
    command = [
        sys.executable,
        "manage.py",
        "monthly_report",
        "--unit",
        seeded["district"],
        "--period",
        seeded["period"],
    ]
    from_replica = json.loads(_run(command, both).stdout)
    from_primary = json.loads(_run(command, primary).stdout)
    assert from_replica["total"]["received"]["in_person"] == 2
    assert from_replica["closed"] is None
    assert from_primary["total"]["received"]["in_person"] == 3
    assert from_primary["closed"] is not None
