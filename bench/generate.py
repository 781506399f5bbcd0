#!/usr/bin/env python3
"""Load a province-scale history into PostgreSQL for benchmarks: N dossiers over ~5 years, by COPY.

    python3 bench/generate.py --dossiers 5000000 --fresh
    python3 bench/generate.py --dossiers 200000 --fresh --database-url postgres://postgres@127.0.0.1:5432/other

The database (default ``motcua_province``, or ``BENCH_DATABASE_URL``) is migrated by Django; with
``--fresh`` it is dropped and created first (a loaded database is never loaded twice). Then:

* a province (Yên Bái's 9 districts, 15–20 communes each) saved through ``portal.services``, a
  counter officer and a processing officer per district, the demo's procedure catalogue and the
  holidays of the years covered;
* the dossiers of ``dossiers.history.iter_history_rows`` (the demo's generator: the same
  proportions, codes, deadlines from the deadline engine, timeliness from the services'
  classifier), their ratings, supplement requests and day counters, streamed by ``COPY … FROM
  STDIN`` — in ``--workers`` processes, each loading a span of days on its own connection;
  events only with ``--events`` (about 4.4 rows per dossier);
* the id sequences set past the loaded ids, then ``VACUUM (ANALYZE)``.

For speed, the indexes that back no constraint are dropped before the load and built again
after it (from their own definitions, so the schema stays the migrations'), and each connection
runs with ``session_replication_role = replica`` (no foreign-key triggers: every id comes from
the database just read) when the role may set it. Receipts fall on a quarter-hour grid
(``--time-step``) so that dossiers share deadline computations. Timings go to stdout.
"""

from __future__ import annotations

import argparse
import io
import json
import multiprocessing
import os
import random
import sys
import time
from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

from common import in_virtualenv  # noqa: E402 - standard library only

in_virtualenv(__file__)

from common import prepare_database, setup_django  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/motcua_province"
PROVINCE = ("000.00.00.H61", "UBND tỉnh Yên Bái")
DISTRICTS = (
    "thành phố Yên Bái",
    "thị xã Nghĩa Lộ",
    "huyện Lục Yên",
    "huyện Văn Yên",
    "huyện Mù Cang Chải",
    "huyện Trấn Yên",
    "huyện Trạm Tấu",
    "huyện Văn Chấn",
    "huyện Yên Bình",
)
COMMUNE_WORDS = ("An", "Đông", "Tân", "Yên", "Phúc", "Minh", "Hưng", "Lâm", "Quang", "Xuân")


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dossiers", type=int, default=5_000_000)
    p.add_argument("--years", type=float, default=5.0, help="span of the history (default 5)")
    p.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    p.add_argument("--fresh", action="store_true", help="drop and re-create the database first")
    p.add_argument("--seed", type=int, default=2022)
    p.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    p.add_argument("--events", action="store_true", help="load the dossiers' events too")
    p.add_argument(
        "--time-step",
        type=int,
        default=900,
        help="receipts on a grid of this many seconds (default 900: quarter hours); a coarser "
        "grid shares more deadline computations between dossiers",
    )
    return p.parse_args()


# --- Database -----------------------------------------------------------------------------------


def migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


# --- The world ----------------------------------------------------------------------------------


def build_world(*, start: date, end: date, seed: int) -> list:
    """The province, its districts and communes, staff, catalogue and holidays (once)."""
    from django.db import transaction

    from portal.choices import Role, UnitLevel
    from portal.management.commands.seed_demo import CATALOGUE_FILE
    from portal.models import Unit
    from portal.services import add_staff, save_unit
    from procedures.importers import parse_catalogue
    from procedures.services import import_procedures, seed_holidays

    if Unit.objects.filter(code=PROVINCE[0]).exists():
        return list(Unit.objects.all())
    rng = random.Random(seed)
    with transaction.atomic():
        catalogue = parse_catalogue(CATALOGUE_FILE.read_text(encoding="utf-8"), filename="x.json")
        import_procedures(catalogue=catalogue)
        seed_holidays(years=range(start.year, end.year + 3))
        province = save_unit(
            unit=Unit(code=PROVINCE[0], name=PROVINCE[1], level=UnitLevel.PROVINCE)
        )
        units = [province]
        for d, district_name in enumerate(DISTRICTS, start=1):
            district = save_unit(
                unit=Unit(
                    code=f"000.00.{10 + d:02d}.H61",
                    name=f"UBND {district_name}",
                    level=UnitLevel.DISTRICT,
                    parent=province,
                )
            )
            units.append(district)
            for role, name in ((Role.COUNTER_OFFICER, "motcua"), (Role.PROCESSING_OFFICER, "cv")):
                add_staff(username=f"{name}.{d}", unit=district, role=role)
            for c in range(1, rng.randint(15, 20) + 1):
                word = COMMUNE_WORDS[(c * 7 + d) % len(COMMUNE_WORDS)]
                units.append(
                    save_unit(
                        unit=Unit(
                            code=f"000.{c:02d}.{10 + d:02d}.H61",
                            name=f"UBND xã {word} {c} ({district_name})",
                            level=UnitLevel.COMMUNE,
                            parent=district,
                        )
                    )
                )
    return units


# --- COPY ---------------------------------------------------------------------------------------


def _escaped(text: str) -> str:
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        text = text.replace("\\", "\\\\").replace("\t", "\\t")
        text = text.replace("\n", "\\n").replace("\r", "\\r")
    return text


_FORMATS: dict[type, Any] = {
    str: _escaped,
    int: str,
    bool: lambda value: "t" if value else "f",
    datetime: datetime.isoformat,
    type(None): lambda value: "\\N",
}


def copy_text(value: Any) -> str:
    """One value in COPY's text format."""
    format_ = _FORMATS.get(type(value))
    if format_ is not None:
        return format_(value)
    if isinstance(value, str):  # a TextChoices member
        return _escaped(str(value))
    if isinstance(value, dict | list):
        return _escaped(json.dumps(value, ensure_ascii=False))
    return str(value)


def copy_line(values: Iterable[Any]) -> str:
    return "\t".join(map(copy_text, values)) + "\n"


class LineStream(io.RawIOBase):
    """A file for ``copy_expert`` that reads lines from an iterator, a batch at a time: the
    server parses one batch while Python makes the next."""

    def __init__(self, lines: Iterator[str], batch: int = 2000):
        self.lines = lines
        self.batch = batch

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:  # type: ignore[override]
        chunk = []
        for line in self.lines:
            chunk.append(line)
            if len(chunk) >= self.batch:
                break
        return "".join(chunk).encode()

    def readline(self, size: int = -1) -> bytes:  # type: ignore[override]
        return self.read()


def copy_in(cursor, table: str, columns: Iterable[str], lines: Iterator[str]) -> None:
    cols = ", ".join(f'"{c}"' for c in columns)
    cursor.copy_expert(f'COPY "{table}" ({cols}) FROM STDIN', LineStream(lines))


# --- Loading ------------------------------------------------------------------------------------

_STATE: dict[str, Any] = {}  # what the forked workers inherit: the world and the options


def load_part(part: tuple[int, date, date, int, int]) -> dict[str, Any]:
    """One worker: the dossiers of days [start, end] by COPY, then their ratings, supplement
    requests (and events); returns the day counters and the counts."""
    import psycopg2

    from dossiers.history import (
        DOSSIER_COLUMNS,
        EVENT_COLUMNS,
        PAUSE_COLUMNS,
        RATING_COLUMNS,
        iter_history_rows,
    )

    index, start, end, count, first_id = part
    options = _STATE["options"]
    rows = iter_history_rows(
        _STATE["world"],
        start=start,
        end=end,
        count=count,
        seed=options.seed * 1000 + index,
        now=_STATE["now"],
        events=options.events,
        json_text=True,
        time_step=options.time_step,
    )
    counters: dict[tuple[int, date], int] = {}
    ratings: list[str] = []
    pauses: list[str] = []
    events = io.StringIO() if options.events else None
    counts = {"dossiers": 0, "ratings": 0, "pauses": 0, "events": 0}

    def dossier_lines() -> Iterator[str]:
        for pk, row in enumerate(rows, start=first_id):
            counters[(row.unit_id, row.day)] = row.number
            if row.rating is not None:
                ratings.append(copy_line((pk, *row.rating)))
            if row.pause is not None:
                pauses.append(copy_line((pk, *row.pause)))
            if events is not None:
                for event in row.events:
                    events.write(copy_line((pk, *event)))
                counts["events"] += len(row.events)
            counts["dossiers"] += 1
            yield copy_line((pk, *row.dossier))

    conn = psycopg2.connect(options.database_url)
    started = time.perf_counter()
    try:
        with conn, conn.cursor() as cur:
            _replica(cur)
            copy_in(cur, "dossiers_dossier", ("id", *DOSSIER_COLUMNS), dossier_lines())
            copy_in(cur, "dossiers_rating", ("dossier_id", *RATING_COLUMNS), iter(ratings))
            copy_in(cur, "dossiers_pause", ("dossier_id", *PAUSE_COLUMNS), iter(pauses))
            if events is not None:
                events.seek(0)
                copy_in(cur, "dossiers_dossierevent", ("dossier_id", *EVENT_COLUMNS), events)
    finally:
        conn.close()
    counts["ratings"], counts["pauses"] = len(ratings), len(pauses)
    return {"counters": counters, "counts": counts, "seconds": time.perf_counter() - started}


def _replica(cursor) -> None:
    import psycopg2

    cursor.execute("SAVEPOINT replica")
    try:
        cursor.execute("SET LOCAL session_replication_role = replica")
    except psycopg2.Error:  # not a superuser: the foreign keys are checked, slower
        cursor.execute("ROLLBACK TO SAVEPOINT replica")


def split(start: date, end: date, count: int, parts: int) -> list[tuple[date, date, int]]:
    """``parts`` consecutive spans of days with counts in proportion to their length."""
    days = (end - start).days + 1
    parts = max(1, min(parts, days // 30 or 1))
    bounds = [start + timedelta(days=days * k // parts) for k in range(parts + 1)]
    spans = []
    given = 0
    for k in range(parts):
        last = bounds[k + 1] - timedelta(days=1) if k < parts - 1 else end
        share = count * (bounds[k + 1] - bounds[0]).days // days if k < parts - 1 else count
        spans.append((bounds[k], last, share - given))
        given = share
    return spans


def plain_indexes(cursor, tables: Iterable[str]) -> list[tuple[str, str]]:
    """(name, definition) of the indexes of ``tables`` that back no constraint: dropped for
    the load and built again after it, sorted once instead of updated row by row."""
    cursor.execute(
        """
        SELECT indexname, indexdef FROM pg_indexes i
        WHERE schemaname = current_schema() AND tablename = ANY(%s)
          AND NOT EXISTS (
              SELECT 1 FROM pg_constraint c
              WHERE c.conindid = format('%%I.%%I', i.schemaname, i.indexname)::regclass)
        ORDER BY tablename, indexname
        """,
        [list(tables)],
    )
    return cursor.fetchall()


def finish(counters: dict[tuple[int, date], int]) -> None:
    """Day counters, sequences past the loaded ids, statistics."""
    from django.db import connection

    lines = (copy_line((u, d, n)) for (u, d), n in sorted(counters.items()))
    with connection.cursor() as cur:
        copy_in(cur.cursor, "dossiers_daycounter", ("unit_id", "day", "last"), lines)
        for table in ("dossiers_dossier", "dossiers_rating", "dossiers_pause",
                      "dossiers_dossierevent", "dossiers_daycounter"):  # fmt: skip
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"COALESCE((SELECT max(id) FROM {table}), 0) + 1, false)"
            )


def main() -> int:
    options = parse_args()
    prepare_database(options.database_url, fresh=options.fresh)
    setup_django(options.database_url)

    from django.db import connection, connections, transaction
    from django.utils import timezone

    from dossiers.history import history_world
    from dossiers.models import Dossier

    t0 = time.perf_counter()
    migrate()
    if Dossier.objects.exists():
        print(
            "The database has dossiers already: load it with --fresh (drops it first).",
            file=sys.stderr,
        )
        return 1
    now = timezone.now()
    end = timezone.localdate(now) - timedelta(days=1)
    start = end - timedelta(days=round(365.25 * options.years) - 1)
    units = build_world(start=start, end=end, seed=options.seed)
    world = history_world(units=units, start=start, end=end, seed=options.seed)
    t_world = time.perf_counter() - t0
    print(
        f"World: {len(world.units)} units, {len(world.procedures)} procedures "
        f"({t_world:.1f} s with migrations). Loading {options.dossiers:,} dossiers "
        f"{start:%d/%m/%Y}–{end:%d/%m/%Y} with {options.workers} worker(s) …",
        flush=True,
    )

    spans = split(start, end, options.dossiers, options.workers)
    parts, first_id = [], 1
    for index, (first, last, count) in enumerate(spans):
        parts.append((index, first, last, count, first_id))
        first_id += count
    _STATE.update(world=world, options=options, now=now)
    tables = ["dossiers_dossier", "dossiers_rating", "dossiers_pause"]
    if options.events:
        tables.append("dossiers_dossierevent")
    with connection.cursor() as cur:
        indexes = plain_indexes(cur, tables)
        for name, _definition in indexes:
            cur.execute(f'DROP INDEX "{name}"')
    connections.close_all()  # the workers are forked: no shared connection
    t1 = time.perf_counter()
    try:
        if len(parts) == 1:
            results = [load_part(parts[0])]
        else:
            with multiprocessing.get_context("fork").Pool(len(parts)) as pool:
                results = pool.map(load_part, parts)
    finally:
        t_copy = time.perf_counter() - t1
        t2 = time.perf_counter()
        with connection.cursor() as cur:
            cur.execute("SET maintenance_work_mem = '512MB'")
            for _name, definition in indexes:
                cur.execute(definition)
        t_index = time.perf_counter() - t2

    counters: dict[tuple[int, date], int] = {}
    totals = {"dossiers": 0, "ratings": 0, "pauses": 0, "events": 0}
    for result in results:
        counters.update(result["counters"])
        for key, value in result["counts"].items():
            totals[key] += value
    t3 = time.perf_counter()
    with transaction.atomic():
        finish(counters)
    with connection.cursor() as cur:
        # VACUUM too, as autovacuum leaves a table in production: the visibility map set, so
        # that index-only scans (the counts) need not visit the heap.
        cur.execute("VACUUM (ANALYZE)")
        cur.execute("SELECT pg_size_pretty(pg_total_relation_size('dossiers_dossier'))")
        size = cur.fetchone()[0]
    t_after = time.perf_counter() - t3
    total = time.perf_counter() - t0
    print(
        f"Loaded {totals['dossiers']:,} dossiers, {totals['ratings']:,} ratings, "
        f"{totals['pauses']:,} supplement requests, {totals['events']:,} events, "
        f"{len(counters):,} day counters.\n"
        f"COPY {t_copy:.1f} s ({totals['dossiers'] / t_copy:,.0f} dossiers/s), "
        f"{len(indexes)} indexes built again {t_index:.1f} s, "
        f"counters, sequences and VACUUM ANALYZE {t_after:.1f} s, total {total:.1f} s "
        f"({totals['dossiers'] / total:,.0f} dossiers/s); "
        f"dossier table with indexes: {size}."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
