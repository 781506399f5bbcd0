#!/usr/bin/env python3
"""Every benchmark of docs/benchmarks.md, in one command: ``python3 dev.py bench``.

    python3 dev.py bench                     # 10,000,000 dossiers (loaded once, then reused)
    python3 dev.py bench --dossiers 200000   # the same steps on a small province, for a try
    python3 dev.py bench --only worklist,load

Steps, each a script of bench/ run with the project's virtualenv, each comparing the portal's
code with a hand-written baseline in the same run and writing its section of
docs/benchmarks.md:

1. ``generate`` — the province (``--database``, default ``motcua_province``) with its events,
   by COPY; skipped when the database already holds ``--dossiers`` dossiers;
2. ``worklist`` — the worklist and search pages against raw SQL (migrates first);
3. ``reports`` — the monthly report and dashboard against one SQL statement;
4. ``sweep`` — the deadline sweep on the loaded province, and on a million open dossiers;
5. ``partitioning`` — the hot statements on one table and on yearly partitions;
6. ``load`` — gunicorn under wrk: intake, public lookup, the mixed load with its checks.

Needs the local PostgreSQL (``postgres@127.0.0.1:5432``, trust) and Redis; installs Debian's
wrk when missing. Exits 1 when a step fails or misses its target; the others still run.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
PY = ROOT / ".venv" / "bin" / "python"
STEPS = ("generate", "worklist", "reports", "sweep", "partitioning", "load")


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dossiers", type=int, default=10_000_000)
    p.add_argument("--database", default="motcua_province")
    p.add_argument("--host", default="postgres@127.0.0.1:5432")
    p.add_argument("--only", help=f"comma-separated steps among {', '.join(STEPS)}")
    p.add_argument("--no-write", action="store_true", help="do not update docs/benchmarks.md")
    return p.parse_args()


def loaded(url: str) -> int:
    """How many dossiers the database holds (0 when it or its table does not exist)."""
    import psycopg2

    try:
        conn = psycopg2.connect(url)
    except psycopg2.OperationalError:
        return 0
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT to_regclass('dossiers_dossier') IS NOT NULL")
            if not cur.fetchone()[0]:
                return 0
            cur.execute("SELECT count(*) FROM dossiers_dossier")
            return cur.fetchone()[0]
    finally:
        conn.close()


def main() -> int:
    args = parse_args()
    url = f"postgres://{args.host}/{args.database}"
    steps = args.only.split(",") if args.only else list(STEPS)
    unknown = set(steps) - set(STEPS)
    if unknown:
        sys.exit(f"unknown steps: {', '.join(sorted(unknown))}")
    write = ["--no-write"] if args.no_write else []
    commands: dict[str, list[list[str]]] = {
        "generate": [
            [
                "generate.py",
                "--dossiers",
                str(args.dossiers),
                "--events",
                "--fresh",
                "--database-url",
                url,
            ]
        ],
        "worklist": [["worklist.py", "--database-url", url, *write]],
        "reports": [["reports.py", "--database-url", url, *write]],
        "sweep": [
            ["sweep.py", "--existing", url, *write],
            ["sweep.py", "--repeat", "3", *write],
        ],
        "partitioning": [["partitioning.py", "--database-url", url, *write]],
        "load": [["load.py", "--database", urlparse(url).path.lstrip("/"), *write]],
    }
    results = []
    for step in steps:
        if step == "generate":
            have = loaded(url)
            if have >= args.dossiers:
                print(f"== generate: {args.database} holds {have:,} dossiers already", flush=True)
                continue
        for command in commands[step]:
            print(f"\n== {step}: bench/{' '.join(command)}", flush=True)
            started = time.monotonic()
            code = subprocess.call([str(PY), str(ROOT / "bench" / command[0]), *command[1:]])
            results.append((" ".join(command[:1]), code, time.monotonic() - started))
    print()
    for name, code, seconds in results:
        print(f"{name:20} {'ok' if code == 0 else f'FAILED ({code})':12} {seconds:8.0f} s")
    return 1 if any(code for _name, code, _seconds in results) else 0


if __name__ == "__main__":
    sys.exit(main())
