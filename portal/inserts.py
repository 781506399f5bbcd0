"""New rows in one plain ``INSERT … RETURNING``, for the writes every intake makes.

``Model.save()`` and ``bulk_create()`` compile their statement anew each time: for an intake's
dossier, checklist and event, about 1.3 ms of CPU of an intake's 5 (issue 8: intake under
gunicorn on 2 cores is CPU-bound). The statement here is written once per model, number of rows
and database vendor, and each row's values are made as the ORM makes them (each field's
``pre_save`` — ``auto_now`` sets the time on the object — then ``get_db_prep_save``), so the
row stored is the row ``save()`` would store. What ``save()`` does besides is not done: no
``pre_save``/``post_save`` signals are sent (as ``bulk_create`` sends none), so a model with a
receiver for them is refused rather than silently skipped; no ``save()`` override runs — for
the models whose ``save()`` only guards against an update (``DossierEvent``), an insert has
nothing to guard.
"""

from collections.abc import Callable, Sequence
from typing import TypeVar

from django.core.exceptions import ImproperlyConfigured
from django.db import connections, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field, Model
from django.db.models.signals import post_save, pre_save

M = TypeVar("M", bound=Model)


def _fields(model: type[Model]) -> list[Field]:
    """The columns an insert names: every concrete field but an auto-incremented key."""
    return [f for f in model._meta.concrete_fields if not (f.primary_key and f.auto_created)]


def _written(
    model: type[Model], rows: int, quote: Callable[[str], str], conflict: str | None
) -> str:
    fields = _fields(model)
    row = f"({', '.join(['%s'] * len(fields))})"
    on_conflict = f" ON CONFLICT ({quote(conflict)}) DO NOTHING" if conflict else ""
    return (
        f"INSERT INTO {quote(model._meta.db_table)} "
        f"({', '.join(quote(f.column) for f in fields)}) VALUES {', '.join([row] * rows)}"
        f"{on_conflict} RETURNING {quote(model._meta.pk.column)}"
    )


# The statements written so far, by model, number of rows, database vendor and conflict
# column: a handful in a process (an intake's dossier, checklist lengths, event, messages).
# Keyed by the vendor, not the connection: each thread's connection is its own object, and
# the development server makes a thread per request. Longer inserts are written each time.
_STATEMENTS: dict[tuple[type[Model], int, str, str | None], str] = {}
_KEPT_UP_TO_ROWS = 64


def _statement(
    model: type[Model], rows: int, connection: BaseDatabaseWrapper, conflict: str | None
) -> str:
    if rows > _KEPT_UP_TO_ROWS:
        return _written(model, rows, connection.ops.quote_name, conflict)
    key = (model, rows, connection.vendor, conflict)
    sql = _STATEMENTS.get(key)
    if sql is None:
        sql = _STATEMENTS[key] = _written(model, rows, connection.ops.quote_name, conflict)
    return sql


def insert_rows(objects: Sequence[M], *, unless_conflict_on: str | None = None) -> list[M]:
    """Insert ``objects`` (new, of one model) and give them their keys, as ``save()`` would.

    With ``unless_conflict_on`` (the column of a unique constraint), a row whose value is
    already stored is not inserted (``ON CONFLICT … DO NOTHING``) and its object stays unsaved;
    the objects inserted are returned. The database's rows come back in the order sent
    (PostgreSQL and SQLite, as ``bulk_create`` relies on); so with no conflict column,
    every object is returned.
    """
    if not objects:
        return []
    model = type(objects[0])
    if pre_save.has_listeners(model) or post_save.has_listeners(model):
        raise ImproperlyConfigured(
            f"{model.__name__} has receivers of pre_save or post_save, which insert_rows would "
            "not call: save it with save() or bulk_create()."
        )
    if unless_conflict_on is not None and len(objects) > 1:
        raise ValueError("a conflict column is for one row at a time")
    alias = router.db_for_write(model)
    connection = connections[alias]
    fields = _fields(model)
    batch = connection.ops.bulk_batch_size(fields, objects) or len(objects)
    inserted: list[M] = []
    for start in range(0, len(objects), batch):
        chunk = objects[start : start + batch]
        for obj in chunk:  # a related object given without its key, as save() checks
            obj._prepare_related_fields_for_save(operation_name="insert_rows")
        values = [
            field.get_db_prep_save(field.pre_save(obj, True), connection)
            for obj in chunk
            for field in fields
        ]
        sql = _statement(model, len(chunk), connection, unless_conflict_on)
        with connection.cursor() as cursor:
            cursor.execute(sql, values)
            keys = [row[0] for row in cursor.fetchall()]
        if unless_conflict_on is None and len(keys) != len(chunk):
            raise RuntimeError(f"{len(chunk)} rows sent, {len(keys)} keys returned")
        for obj, key in zip(chunk, keys, strict=False):
            obj.pk = key
            obj._state.adding = False
            obj._state.db = alias
            inserted.append(obj)
    return inserted
