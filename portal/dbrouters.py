"""The database router for a primary (``default``) and a read replica (``reports``).

Reads are not routed here: a model's reads go to ``default`` unless the code asks for the replica
with ``.using(reporting_alias())`` (:mod:`portal.db`), which only the report and dashboard
selectors do. Routing every read to the replica would break read-your-writes: an officer who
receives a dossier and opens the list a moment later must see it, and a lagging replica would
not have it yet. What the router does decide:

* every write goes to the primary, also the save of an object that was read from the replica;
* migrations run on the primary only (the replica is read-only and receives them by streaming);
* objects of the two aliases may be related to each other (they are the same database, one of
  them a little behind).
"""

from typing import Any

from django.db import DEFAULT_DB_ALIAS
from django.db.models import Model

from .db import REPORTS_DB_ALIAS

ALIASES = {DEFAULT_DB_ALIAS, REPORTS_DB_ALIAS}


class ReportsReplicaRouter:
    def db_for_read(self, model: type[Model], **hints: Any) -> str | None:
        return None  # the caller's .using(), else the instance's database, else default

    def db_for_write(self, model: type[Model], **hints: Any) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Model, obj2: Model, **hints: Any) -> bool | None:
        if {obj1._state.db, obj2._state.db} <= ALIASES:
            return True
        return None

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db == DEFAULT_DB_ALIAS
