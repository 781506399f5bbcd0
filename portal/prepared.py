"""Reads whose SQL the ORM writes once per process, then run with new values.

Building a query — resolving its lookups and expressions, compiling them to SQL — costs the web
process more CPU than PostgreSQL spends running a statement that an index answers: the
worklist's quick-link counts took about 5 ms of the page's CPU to build and well under 1 ms to
run. A ``PreparedRead`` lets the ORM write the statement once per database and *shape* (how many
values each list holds), with marker values in place of the real ones, keeps the SQL, and at
each later call puts the real values where the markers were. What runs is exactly what the ORM
would have sent for the same values (``portal/tests/test_prepared.py`` checks both give the
same SQL and parameters, on SQLite and PostgreSQL).

The values a read takes are whole numbers (``int``, or a ``list`` of them: ids) and moments
(aware ``datetime``, adapted as a ``DateTimeField`` adapts them); the shape of the SQL must not
depend on anything else about them. Markers are numbers and instants no real row holds (below
−2⁴⁰, in 1901); if the ORM ever wrote a marker other than as a parameter of its own, preparing
fails loudly instead of running something else.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import connections

Value = int | list[int] | datetime
_MARKER_BASE = -(2**40)


class _Captured(Exception):
    def __init__(self, sql: str, params: Any) -> None:
        super().__init__(sql)
        self.sql, self.params = sql, params


def captured_sql(run: Callable[[], Any], alias: str) -> tuple[str, list]:
    """The first statement ``run()`` sends to database ``alias``, and its parameters, as the
    ORM wrote them; the statement is not executed. For reads: a write would be stopped inside
    its own atomic block, which then has to roll back."""

    def capture(_execute, sql, params, _many, _context):
        raise _Captured(sql, params)

    connection = connections[alias]
    logged = len(connection.queries_log)
    with connection.execute_wrapper(capture):
        try:
            run()
        except _Captured as captured:
            return captured.sql, list(captured.params or ())
        finally:
            # With DEBUG (or a test counting queries), the cursor logged it as if it had run.
            while len(connection.queries_log) > logged:
                connection.queries_log.pop()
    raise ImproperlyConfigured("The read sent no statement to the database.")


def _adapt(value: int | datetime, alias: str) -> Any:
    if isinstance(value, datetime):
        return connections[alias].ops.adapt_datetimefield_value(value)
    return value


def _markers(values: dict[str, Value]) -> dict[str, Value]:
    """A marker of the same shape for each value, none equal to another."""
    markers: dict[str, Value] = {}
    number = 0
    for name, value in values.items():
        if isinstance(value, datetime):
            number += 1
            markers[name] = datetime(1901, 1, 1, microsecond=number, tzinfo=UTC)
        elif isinstance(value, list):
            markers[name] = [_MARKER_BASE - number - i for i in range(1, len(value) + 1)]
            number += len(value)
        elif isinstance(value, int) and not isinstance(value, bool):
            number += 1
            markers[name] = _MARKER_BASE - number
        else:
            raise TypeError(f"{name}: a prepared read takes ids and moments, not {value!r}")
    return markers


def _shape(values: dict[str, Value]) -> tuple:
    return tuple(
        (name, len(value) if isinstance(value, list) else type(value).__name__)
        for name, value in values.items()
    )


def _flat(values: dict[str, Value]) -> list[tuple[str, int, int | datetime]]:
    """(name, index in its list — 0 for a single value —, value) for every value."""
    return [
        (name, index, item)
        for name, value in values.items()
        for index, item in enumerate(value if isinstance(value, list) else [value])
    ]


class PreparedRead:
    """One read, written by the ORM once per process, database and shape.

    ``write(*fixed, **values)`` makes the read through the ORM: it returns anything that sends
    the read's one statement when called, such as ``lambda: queryset.count()`` of a queryset
    built from the values. ``sql(alias, *fixed, **values)`` gives the statement and parameters
    for real values; the caller runs them. ``fixed`` are what the ORM writes into the SQL itself
    (a LIMIT, a choice of condition): each of their combinations is a shape of its own."""

    def __init__(self, write: Callable[..., Callable[[], Any]]) -> None:
        self._write = write
        self._kept: dict[tuple, tuple[str, list, list[tuple[int, str, int]]]] = {}
        self._lock = threading.Lock()

    def sql(self, alias: str, *fixed: Hashable, **values: Value) -> tuple[str, list]:
        key = (alias, fixed, *_shape(values))
        kept = self._kept.get(key)
        if kept is None:
            kept = self._prepare(alias, fixed, values)
            with self._lock:
                self._kept[key] = kept
        sql, constants, slots = kept
        params = list(constants)
        for position, name, index in slots:
            value = values[name]
            params[position] = _adapt(value[index] if isinstance(value, list) else value, alias)
        return sql, params

    def _prepare(
        self, alias: str, fixed: tuple, values: dict[str, Value]
    ) -> tuple[str, list, list]:
        markers = _markers(values)
        sql, params = captured_sql(self._write(*fixed, **markers), alias)
        where = {_adapt(marker, alias): (name, index) for name, index, marker in _flat(markers)}
        slots = [
            (position, *where[param])
            for position, param in enumerate(params)
            if _hashable(param) and param in where
        ]
        missing = set(where.values()) - {(name, index) for _position, name, index in slots}
        if missing:
            raise ImproperlyConfigured(
                f"The ORM did not write {sorted(missing)} as parameters: the read's SQL would "
                "not follow its values."
            )
        return sql, params, slots


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True
