"""The catalogue kept in each process: procedures and units by code, a procedure's documents,
the working calendar's exceptions.

Every intake reads them — the procedure and the unit its codes name, the checklist's documents,
the calendar between receipt and due date — and they change a few times a year. Read from
PostgreSQL they were four of an intake's thirteen statements and about a third of its CPU in the
web process (docs/benchmarks.md). Here each process keeps what it has read, checked against a
version token in the shared cache (Redis):

* a change to a procedure, field, document, unit or calendar day — saved, deleted, or written
  in bulk by a service that says so (``catalogue_changed``) — replaces the token once its
  transaction commits, and every process drops what it kept when it next sees the new token;
* a request reads the token once, at its first catalogue read; work outside a request (a task,
  a command) reads it at every catalogue read;
* the thread that changed the catalogue reads PostgreSQL, not the cache, until its transaction
  ends (it must see its own uncommitted rows, and never keep rows a rollback may undo);
* whatever is kept is dropped after ``CATALOGUE_CACHE_SECONDS`` (60) anyway: a change made
  outside the portal (psql) shows within that time;
* with no shared cache (local memory: one process cannot tell another) or Redis unreachable,
  or ``CATALOGUE_CACHE_SECONDS = 0``, every read goes to PostgreSQL, as before.

Callers get copies of the kept model objects (``_copy``), never the kept ones: a caller may
set attributes on what it was given.
"""

from __future__ import annotations

import copy
import functools
import threading
import time
import uuid
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from datetime import date
from typing import Any, NamedTuple, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import connection, models, transaction
from django.db.models.signals import post_delete, post_save

from portal.cache import default_cache_is_shared
from portal.models import Unit

from .models import CalendarDay, DocumentComponent, Field, Procedure

M = TypeVar("M", bound=models.Model)
VERSION_KEY = "catalogue:version"
# A calendar table this large is not kept whole (a province has a few hundred rows).
MAX_CALENDAR_ROWS = 50_000
# Nor a unit tree this large (the country has about 11,000 communes and 700 districts).
MAX_UNIT_ROWS = 50_000


class UnitRow(NamedTuple):
    """What lists and choices show of a unit; read only."""

    pk: int
    code: str
    name: str
    path: str


class _Kept:
    """What one process keeps, for one version token."""

    def __init__(self, version: Any) -> None:
        self.version = version
        self.born = time.monotonic()
        self.procedures: dict[str, Procedure] = {}
        self.units: dict[str, Unit] = {}
        self.procedures_by_pk: dict[int, Procedure] = {}
        self.units_by_pk: dict[int, Unit] = {}
        self.documents: dict[int, tuple[DocumentComponent, ...]] = {}
        # The calendar's exceptions by date, and their dates (for bisect); None until read.
        self.calendar: tuple[list[date], list[CalendarDay]] | None = None
        # Every unit's row by path, and their paths (for bisect); None until read.
        self.tree: tuple[list[str], list[UnitRow]] | None = None
        self.fields: list[tuple[str, str]] | None = None


_kept: _Kept | None = None
# in_request; checked (this request saw the token); unreachable (this request found no Redis);
# dirty (this thread changed the catalogue); pending (its publishing callback)
_thread = threading.local()


def _max_age() -> float:
    return float(getattr(settings, "CATALOGUE_CACHE_SECONDS", 60))


def _enabled() -> bool:
    return _max_age() > 0 and default_cache_is_shared()


def _current() -> _Kept | None:
    """What this process keeps, if it may be used now; None to read PostgreSQL."""
    global _kept
    if getattr(_thread, "dirty", False) or getattr(_thread, "unreachable", False):
        return None
    if not _enabled():
        return None
    kept = _kept
    fresh = kept is not None and time.monotonic() - kept.born < _max_age()
    if fresh and getattr(_thread, "checked", False):
        return kept
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, uuid.uuid4().hex, timeout=None)
        version = cache.get(VERSION_KEY)
        if version is None:  # Redis unreachable: nothing says whether a change was made
            # Asked once per request: each try may wait CACHE_TIMEOUT_SECONDS.
            _thread.unreachable = getattr(_thread, "in_request", False)
            return None
    if not fresh or kept.version != version:
        kept = _kept = _Kept(version)
    if getattr(_thread, "in_request", False):
        _thread.checked = True
    return kept


def _copy(instance: M) -> M:
    """What ``copy.copy`` makes of a model instance — its attributes, and its state with the
    related objects it holds copied as a dict (``Model.__getstate__``) — without the pickling
    protocol's round trip, which cost ten times as much (a list page copies dozens)."""
    new = instance.__class__.__new__(instance.__class__)
    new.__dict__.update(instance.__dict__)
    state = copy.copy(instance._state)
    state.fields_cache = dict(instance._state.fields_cache)
    new._state = state
    return new


# --- Reads -------------------------------------------------------------------------------------


def procedure_by_code(code: str) -> Procedure:
    """The procedure with this code (in force or not), with its field; raises
    ``Procedure.DoesNotExist``."""
    kept = _current()
    if kept is None:
        return Procedure.objects.select_related("field").get(code=code)
    procedure = kept.procedures.get(code)
    if procedure is None:
        procedure = Procedure.objects.select_related("field").get(code=code)
        kept.procedures[code] = procedure
    return _copy(procedure)


def unit_by_code(code: str) -> Unit:
    """The unit with this agency code; raises ``Unit.DoesNotExist``."""
    kept = _current()
    if kept is None:
        return Unit.objects.get(code=code)
    unit = kept.units.get(code)
    if unit is None:
        unit = Unit.objects.get(code=code)
        kept.units[code] = unit
    return _copy(unit)


def procedures_by_pk(pks: Iterable[int]) -> dict[int, Procedure]:
    """The procedures with these ids, with their fields, by id (those that exist)."""
    return _by_pk(Procedure.objects.select_related("field"), "procedures_by_pk", pks)


def units_by_pk(pks: Iterable[int]) -> dict[int, Unit]:
    """The units with these ids, by id (those that exist)."""
    return _by_pk(Unit.objects.all(), "units_by_pk", pks)


def _by_pk(queryset, name: str, pks: Iterable[int]) -> dict:
    wanted = set(pks)
    kept = _current()
    if kept is None:
        return queryset.in_bulk(wanted)
    known: dict = getattr(kept, name)
    missing = wanted - known.keys()
    if missing:
        known.update(queryset.in_bulk(missing))
    return {pk: _copy(known[pk]) for pk in wanted if pk in known}


def documents_of(procedure: Procedure) -> list[DocumentComponent]:
    """The procedure's document components, in their order."""
    kept = _current()
    if kept is None:
        return list(procedure.documents.all())
    components = kept.documents.get(procedure.pk)
    if components is None:
        components = tuple(procedure.documents.all())
        kept.documents[procedure.pk] = components
    return [_copy(component) for component in components]


def calendar_days(unit_ids: set[int], start: date, end: date) -> list[CalendarDay] | None:
    """The calendar's exceptions between two dates, nationwide and of ``unit_ids``, without
    their unit objects — read only: what the working calendar is built from. None when
    they are to be read from PostgreSQL."""
    kept = _current()
    if kept is None:
        return None
    if kept.calendar is None:
        rows = list(CalendarDay.objects.order_by("date", "id")[: MAX_CALENDAR_ROWS + 1])
        if len(rows) > MAX_CALENDAR_ROWS:
            return None
        kept.calendar = ([row.date for row in rows], rows)
    dates, rows = kept.calendar
    return [
        row
        for row in rows[bisect_left(dates, start) : bisect_right(dates, end)]
        if row.unit_id is None or row.unit_id in unit_ids
    ]


def units_under(paths: Iterable[str]) -> list[UnitRow] | None:
    """The units whose path starts with one of ``paths`` (their subtrees), each once, in the
    order of their paths; None when they are to be read from PostgreSQL."""
    kept = _current()
    if kept is None:
        return None
    if kept.tree is None:
        rows = list(Unit.objects.values_list("pk", "code", "name", "path")[: MAX_UNIT_ROWS + 1])
        if len(rows) > MAX_UNIT_ROWS:
            return None
        units = sorted((UnitRow(*row) for row in rows), key=lambda unit: unit.path)
        kept.tree = ([unit.path for unit in units], units)
    keys, units = kept.tree
    found: dict[int, UnitRow] = {}
    for path in paths:
        # A subtree is a run of neighbours in path order: "/1/2/" up to "/1/2/" + the last
        # character there is.
        for unit in units[bisect_left(keys, path) : bisect_left(keys, path + "\U0010ffff")]:
            found[unit.pk] = unit
    return sorted(found.values(), key=lambda unit: unit.path)


def field_choices() -> list[tuple[str, str]]:
    """Every field as (code, name), in their order."""
    kept = _current()
    if kept is None:
        return list(Field.objects.order_by("sort_order", "name").values_list("code", "name"))
    if kept.fields is None:
        kept.fields = list(Field.objects.order_by("sort_order", "name").values_list("code", "name"))
    return list(kept.fields)


# --- Changes -----------------------------------------------------------------------------------


def _publish() -> None:
    """After a change committed: a new token for every process, and none kept here."""
    global _kept
    _kept = None
    _thread.dirty = False
    _thread.checked = False
    _thread.pending = None
    cache.set(VERSION_KEY, uuid.uuid4().hex, timeout=None)


def catalogue_changed(**_signal: Any) -> None:
    """The catalogue was (or is being) changed in the current transaction: this thread reads
    PostgreSQL until it ends; when it commits, every process drops what it kept. Called by the
    model signals and by services that write in bulk (no signals)."""
    global _kept
    _kept = None
    _thread.dirty = True
    # Once per transaction (an import saves thousands of rows): this thread's callback, while
    # it waits in the connection's list. A rolled-back transaction or savepoint takes its
    # callbacks out of the list, so the next change asks again.
    pending = getattr(_thread, "pending", None)
    if pending is None or not any(
        func is pending for _ids, func, _robust in connection.run_on_commit
    ):
        _thread.pending = pending = functools.partial(_publish)
        transaction.on_commit(pending)


def _request_started(**_signal: Any) -> None:
    _thread.in_request = True
    _thread.checked = False
    _thread.unreachable = False
    if not connection.in_atomic_block:
        # A change rolled back in an earlier request never published: nothing it read was kept.
        _thread.dirty = False


def _request_finished(**_signal: Any) -> None:
    _thread.in_request = False
    _thread.checked = False
    _thread.unreachable = False


def forget() -> None:
    """Drop what this process keeps, and this thread's state (tests start clean)."""
    global _kept
    _kept = None
    for name in ("in_request", "checked", "dirty", "pending", "unreachable"):
        if hasattr(_thread, name):
            delattr(_thread, name)


WATCHED: Iterable[type] = (Procedure, Field, DocumentComponent, CalendarDay, Unit)


def connect_signals() -> None:
    for model in WATCHED:
        post_save.connect(catalogue_changed, sender=model, dispatch_uid=f"catalogue-{model}")
        post_delete.connect(catalogue_changed, sender=model, dispatch_uid=f"catalogue-d-{model}")
    request_started.connect(_request_started, dispatch_uid="catalogue-request-started")
    request_finished.connect(_request_finished, dispatch_uid="catalogue-request-finished")
