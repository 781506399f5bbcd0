"""Reads whose SQL the ORM writes once (portal.prepared): what runs is what the ORM would have
sent for the same values, on SQLite and on PostgreSQL alike."""

from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.models import Count, Q
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dossiers.models import Dossier
from dossiers.tests.factories import office, received
from portal.choices import Role
from portal.models import Unit
from portal.prepared import PreparedRead, captured_sql
from portal.tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def _write(now, units):
    return lambda: (
        Dossier.objects.filter(unit_id__in=units)
        .order_by()
        .aggregate(
            every=Count("pk"),
            late=Count("pk", filter=Q(due_at__lt=now) | Q(received_at__gt=now)),
        )
    )


def _run(sql, params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def test_the_sql_and_parameters_are_the_orms_for_any_values_of_a_shape():
    read = PreparedRead(_write)
    now = timezone.now()
    for units, moment in [
        ([3], now),
        ([8], now - timedelta(days=400)),
        ([1, 2], now),
        ([20, 10, 30], now + timedelta(microseconds=7)),
        ([5, 6], now),
    ]:
        assert read.sql(connection.alias, now=moment, units=units) == captured_sql(
            _write(moment, units), connection.alias
        )
    assert len(read._kept) == 3  # one per number of units


def test_a_prepared_read_gives_the_orms_answer():
    o = office()
    now = timezone.now()
    first = received(o)
    counter = MembershipFactory(unit=o.other_commune, role=Role.COUNTER_OFFICER).user
    received(o, unit=o.other_commune, by=counter)
    read = PreparedRead(_write)
    for units in ([o.commune.pk], [o.other_commune.pk], [o.commune.pk, o.other_commune.pk]):
        for moment in (now - timedelta(days=1), first.due_at + timedelta(seconds=1)):
            orm = _write(moment, units)()
            assert _run(*read.sql(connection.alias, now=moment, units=units)) == (
                orm["every"],
                orm["late"],
            )


def test_fixed_values_are_shapes_of_their_own():
    read = PreparedRead(
        lambda cap, units: lambda: Dossier.objects.filter(unit_id__in=units)[:cap].count()
    )
    small, _ = read.sql(connection.alias, 2, units=[1])
    large, _ = read.sql(connection.alias, 50, units=[1])
    assert small != large and "2" in small and "50" in large


def test_a_value_the_orm_writes_into_the_sql_is_refused():
    # A value that chooses the condition: kept, the SQL would not follow it.
    read = PreparedRead(
        lambda cap: lambda: Unit.objects.filter(level="commune" if cap > 0 else "district").count()
    )
    with pytest.raises(ImproperlyConfigured):
        read.sql(connection.alias, cap=3)


def test_only_ids_and_moments_are_taken():
    read = PreparedRead(lambda code: lambda: Unit.objects.filter(code=code).count())
    with pytest.raises(TypeError):
        read.sql(connection.alias, code="000.00.00.H61")


def test_capturing_sends_nothing_and_leaves_the_transaction_usable():
    o = office()
    with CaptureQueriesContext(connection) as queries:
        sql, params = captured_sql(
            lambda: Unit.objects.filter(code=o.commune.code).count(), connection.alias
        )
    assert sql.upper().startswith("SELECT COUNT(") and params == [o.commune.code]
    assert len(queries) == 0  # not sent, and not logged as if it had been
    assert Unit.objects.filter(code=o.commune.code).count() == 1


def test_a_read_that_sends_nothing_is_refused():
    with pytest.raises(ImproperlyConfigured):
        captured_sql(lambda: Unit.objects.none().count(), connection.alias)
