"""Which database a read goes to (docs/scaling.md).

Every write, and every read an officer acts on, goes to ``default`` (the PostgreSQL primary).
The reports and dashboards read ``reports`` when ``REPORTS_DATABASE_URL`` names a streaming
replica, and ``default`` otherwise: they aggregate many rows, tolerate a few seconds of
replication lag, and should not compete with the counters for the primary. The code that reads
for reporting asks :func:`reporting_alias` and passes it to ``.using()``; nothing else is routed
implicitly (:mod:`portal.dbrouters`), so an officer always reads what they just wrote.
"""

from django.db import DEFAULT_DB_ALIAS, connections
from django.utils.connection import ConnectionDoesNotExist

REPORTS_DB_ALIAS = "reports"


def reporting_alias() -> str:
    """The alias the report and dashboard reads use: the replica when one is configured."""
    try:
        connections[REPORTS_DB_ALIAS]  # a connection object; no database connection is opened
    except ConnectionDoesNotExist:
        return DEFAULT_DB_ALIAS
    return REPORTS_DB_ALIAS
