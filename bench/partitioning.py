#!/usr/bin/env python3
"""Measure: would partitioning the dossier table by received date make its queries faster?

    python3 bench/generate.py --dossiers 10000000 --events --fresh   # load first
    python3 bench/worklist.py                                        # migrates (its indexes)
    python3 bench/partitioning.py                                    # then this

It copies the loaded ``dossiers_dossier`` into ``bench_part_dossier``, a table partitioned by
``received_at`` (one partition a year, plus a default one for dossiers not yet received), with
the same indexes, and times the statements the portal's hot paths run — the worklist's to-do
list and history, the name search, the monthly report's grouped count, the sweep's open-overdue
scan, a lookup by code — on both tables, alternating, ``--repeat`` times each. The copy is
dropped at the end unless ``--keep``. The decision and its reasons are in docs/scaling.md;
the figures go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

from common import in_virtualenv  # noqa: E402 - standard library only

in_virtualenv(__file__)

from common import machine, machine_line, percentile, setup_django, write_section  # noqa: E402

DEFAULT_URL = os.environ.get(
    "BENCH_PROVINCE_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/motcua_province"
)
SECTION = "## Partitioning by received date, measured"
TABLE = "dossiers_dossier"
COPY = "bench_part_dossier"
# The indexes the hot paths use, as the migrations define them on the real table.
INDEXES = {
    "unit_status_due": "(unit_id, status, due_at)",
    "unit_received": "(unit_id, received_at)",
    "received": "(received_at, id)",
    "status_due": "(status, due_at)",
    "unit_ended": "(unit_id, COALESCE(resolved_at, closed_at))",
    "code": "(code)",
    "name_prefix": "(applicant_search varchar_pattern_ops)",
}
TO_DO = "('submitted', 'received', 'in_progress', 'supplement_requested')"
OPEN = "('received', 'in_progress', 'supplement_requested')"

QUERIES = {
    "worklist: to do, 25 by due date": f"""
        SELECT id FROM {{t}} WHERE unit_id = ANY(%(units)s) AND status IN {TO_DO}
        ORDER BY due_at ASC NULLS LAST, id LIMIT 25""",
    "worklist: history newest first, page 40": """
        SELECT id FROM {t} WHERE unit_id = ANY(%(units)s)
        ORDER BY received_at DESC, id DESC LIMIT 25 OFFSET 975""",
    "worklist: history of one month": """
        SELECT id FROM {t} WHERE unit_id = ANY(%(units)s)
          AND received_at >= %(month)s AND received_at < %(month_end)s
        ORDER BY received_at DESC, id DESC LIMIT 25""",
    "search: full name": """
        SELECT id FROM {t} WHERE unit_id = ANY(%(units)s) AND applicant_search::text LIKE %(name)s
        ORDER BY received_at DESC, id DESC LIMIT 25""",
    "report: a month's cells by unit": """
        SELECT unit_id,
          count(*) FILTER (WHERE received_at >= %(month)s AND received_at < %(month_end)s),
          count(*) FILTER (WHERE received_at < %(month)s),
          count(*) FILTER (WHERE resolved_at >= %(month)s AND resolved_at < %(month_end)s),
          count(*) FILTER (WHERE received_at < %(month_end)s
                           AND COALESCE(resolved_at, closed_at) IS NULL)
        FROM {t}
        WHERE unit_id = ANY(%(units)s) AND received_at < %(month_end)s
          AND (COALESCE(resolved_at, closed_at) IS NULL
               OR COALESCE(resolved_at, closed_at) >= %(month)s)
        GROUP BY unit_id""",
    "sweep: open and past due (province)": f"""
        SELECT count(*) FROM {{t}} WHERE status IN {OPEN} AND due_at < %(now)s
          AND timeliness <> 'overdue'""",
    "lookup: one code": """SELECT id FROM {t} WHERE code = %(code)s""",
}


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--database-url", default=DEFAULT_URL)
    p.add_argument("--repeat", type=int, default=15)
    p.add_argument("--keep", action="store_true", help="keep the partitioned copy")
    p.add_argument("--no-write", action="store_true", help="do not update docs/benchmarks.md")
    return p.parse_args()


def build_copy(cur) -> dict[str, float]:
    """The partitioned copy with its indexes; returns how long each step took."""
    timings = {}
    cur.execute(f"DROP TABLE IF EXISTS {COPY}")
    cur.execute(f"SELECT min(received_at), max(received_at) FROM {TABLE}")
    first, last = cur.fetchone()
    cur.execute(
        f"CREATE TABLE {COPY} (LIKE {TABLE} INCLUDING DEFAULTS) PARTITION BY RANGE (received_at)"
    )
    for year in range(first.year, last.year + 1):
        start = datetime(year, 1, 1, tzinfo=UTC) - timedelta(hours=7)  # local new year
        end = datetime(year + 1, 1, 1, tzinfo=UTC) - timedelta(hours=7)
        cur.execute(
            f"CREATE TABLE {COPY}_{year} PARTITION OF {COPY} FOR VALUES FROM (%s) TO (%s)",
            [start, end],
        )
    cur.execute(f"CREATE TABLE {COPY}_default PARTITION OF {COPY} DEFAULT")
    started = time.perf_counter()
    cur.execute(f"INSERT INTO {COPY} SELECT * FROM {TABLE}")
    timings["copy"] = time.perf_counter() - started
    started = time.perf_counter()
    cur.execute("SET maintenance_work_mem = '512MB'")
    for name, definition in INDEXES.items():
        cur.execute(f"CREATE INDEX {COPY}_{name} ON {COPY} {definition}")
    timings["indexes"] = time.perf_counter() - started
    started = time.perf_counter()
    cur.execute(f"VACUUM ANALYZE {COPY}")
    timings["analyze"] = time.perf_counter() - started
    return timings


def samples(cur) -> dict:
    cur.execute(
        "SELECT u.parent_id, count(*) FROM dossiers_dossier d JOIN portal_unit u "
        "ON u.id = d.unit_id WHERE u.level = 'commune' GROUP BY 1 ORDER BY 2 DESC LIMIT 1"
    )
    district = cur.fetchone()[0]
    cur.execute("SELECT path FROM portal_unit WHERE id = %s", [district])
    path = cur.fetchone()[0]
    cur.execute("SELECT id FROM portal_unit WHERE path LIKE %s", [path + "%"])
    units = [r[0] for r in cur.fetchall()]
    cur.execute(
        "SELECT code, applicant_search FROM dossiers_dossier WHERE unit_id = ANY(%s) AND "
        "received_at < now() - interval '2 years' ORDER BY received_at DESC LIMIT 1",
        [units],
    )
    code, name = cur.fetchone()
    now = datetime.now(UTC)
    month = (now - timedelta(days=400)).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    month_end = (month + timedelta(days=32)).replace(day=1)
    return {
        "units": units,
        "code": code,
        "name": f"{name.strip()}%",  # a full name: the beginning of the search key
        "now": now,
        "month": month - timedelta(hours=7),
        "month_end": month_end - timedelta(hours=7),
    }


def timed(cur, sql: str, params: dict) -> float:
    started = time.perf_counter()
    cur.execute(sql, params)
    cur.fetchall()
    return time.perf_counter() - started


def main() -> None:
    args = parse_args()
    setup_django(args.database_url)
    from django.db import connection

    connection.ensure_connection()
    conn = connection.connection
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f"VACUUM ANALYZE {TABLE}")  # both tables as autovacuum would leave them
        print("building the partitioned copy …", flush=True)
        build = build_copy(cur)
        print({k: f"{v:.0f} s" for k, v in build.items()}, flush=True)
        params = samples(cur)
        results = []
        for name, template in QUERIES.items():
            plain, parted = template.format(t=TABLE), template.format(t=COPY)
            timed(cur, plain, params)  # warm both
            timed(cur, parted, params)
            cur.execute(plain, params)
            expected = sorted(cur.fetchall())
            cur.execute(parted, params)
            if sorted(cur.fetchall()) != expected:
                sys.exit(f"{name}: the two tables answer differently")
            runs: dict[str, list[float]] = {"plain": [], "parted": []}
            for _ in range(args.repeat):
                runs["plain"].append(timed(cur, plain, params))
                runs["parted"].append(timed(cur, parted, params))
            results.append((name, runs))
            print(
                f"{name:45} plain p50 {statistics.median(runs['plain']) * 1000:7.1f} ms   "
                f"partitioned p50 {statistics.median(runs['parted']) * 1000:7.1f} ms",
                flush=True,
            )
        cur.execute(f"SELECT count(*) FROM {TABLE}")
        total = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM pg_inherits WHERE inhparent = %s::regclass", [COPY])
        partitions = cur.fetchone()[0]
        if not args.keep:
            cur.execute(f"DROP TABLE {COPY}")
    if not args.no_write:
        write_doc(args, machine(), total, partitions, build, results)


def write_doc(args, m, total, partitions, build, results) -> None:
    def ms(seconds: float) -> str:
        return f"{seconds * 1000:.1f} ms"

    lines = [
        "",
        f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} with "
        f"`python3 bench/partitioning.py --repeat {args.repeat}`.",
        "",
        machine_line(m),
        "",
        f"**Method:** the {total:,} loaded dossiers copied into a table partitioned by "
        f"`received_at` ({partitions} partitions: one a year and a default one for dossiers "
        f"not yet received; copy {build['copy']:.0f} s, indexes {build['indexes']:.0f} s), with "
        "the indexes the hot paths use; each statement checked to give the same rows on both, "
        f"then timed {args.repeat} times alternating. The district is the busiest "
        "(a ninth of the province), the month thirteen months back.",
        "",
        "| statement | one table p50 | p95 | partitioned p50 | p95 | partitioned / one |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, runs in results:
        a, b = statistics.median(runs["plain"]), statistics.median(runs["parted"])
        lines.append(
            f"| {name} | {ms(a)} | {ms(percentile(runs['plain'], 0.95))} | {ms(b)} | "
            f"{ms(percentile(runs['parted'], 0.95))} | {b / a:.2f}× |"
        )
    lines.append("")
    write_section(SECTION, lines)


if __name__ == "__main__":
    main()
