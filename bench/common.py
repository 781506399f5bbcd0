"""What the benchmarks share: the database they create, Django set up on it, the machine they
ran on, and their section of docs/benchmarks.md."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
DOC_HEADER = (
    "# Benchmarks\n\n"
    "`python3 dev.py bench` runs them all (bench/run_all.py), each against hand-written SQL on "
    "the same data in the same run. They need the local PostgreSQL (`postgres@127.0.0.1:5432`, "
    "trust) and Redis.\n\n"
)


def in_virtualenv(script: str) -> None:
    """Re-run ``script`` with the project's virtualenv when this Python lacks Django (a bench
    script started as ``python3 bench/….py``); standard library only, so it can run first."""
    try:
        import django  # noqa: F401
    except ImportError:
        venv_python = ROOT / ".venv" / "bin" / "python"
        here = Path(sys.prefix).resolve()
        if venv_python.exists() and here != venv_python.parent.parent.resolve():
            os.execv(str(venv_python), [str(venv_python), script, *sys.argv[1:]])
        raise


def prepare_database(url: str, *, fresh: bool) -> None:
    """Create the database if missing; with ``fresh``, drop it first."""
    from urllib.parse import urlparse

    import psycopg2

    parts = urlparse(url)
    name = parts.path.lstrip("/")
    conn = psycopg2.connect(parts._replace(path="/postgres").geturl())
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            if fresh:
                cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cur.fetchone() is None:
                cur.execute(f'CREATE DATABASE "{name}"')
    finally:
        conn.close()


def create_database(url: str) -> None:
    """Drop and create the database afresh."""
    prepare_database(url, fresh=True)


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("SECRET_KEY", "bench-only-not-a-secret")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    os.environ.setdefault("CELERY_BROKER_URL", "memory://")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def machine() -> dict:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SHOW server_version")
        pg = cur.fetchone()[0]
        cur.execute("SHOW shared_buffers")
        sb = cur.fetchone()[0]
        cur.execute("SHOW work_mem")
        wm = cur.fetchone()[0]
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    mem_kb = int(next(line.split()[1] for line in meminfo if line.startswith("MemTotal")))
    cpu = next(
        (line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), "?"
    )
    return {
        "nproc": os.cpu_count(),
        "ram_gb": round(mem_kb / 1024 / 1024, 1),
        "cpu": cpu,
        "pg": pg,
        "shared_buffers": sb,
        "work_mem": wm,
        "python": sys.version.split()[0],
    }


def machine_line(m: dict) -> str:
    """The **Machine:** line of a section, from :func:`machine`."""
    return (
        f"**Machine:** {m['nproc']} cores ({m['cpu']}), {m['ram_gb']} GB RAM, PostgreSQL "
        f"{m['pg']} (shared_buffers {m['shared_buffers']}, work_mem {m['work_mem']}), Python "
        f"{m['python']}, client and server on the same machine."
    )


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0–1) of ``values``, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def write_section(section: str, lines: list[str]) -> None:
    """Replace (or append) the ``section`` of docs/benchmarks.md with ``lines``; the hand-written
    analysis sections around it stay."""
    text = DOC.read_text() if DOC.exists() else ""
    if not text.strip():
        text = DOC_HEADER
    body = "\n".join([section, *lines])
    if section in text:
        start = text.index(section)
        nxt = text.find("\n## ", start + len(section))
        text = text[:start] + body + ("\n" + text[nxt + 1 :] if nxt != -1 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + body
    DOC.write_text(text)
    print(f"wrote {DOC.relative_to(ROOT)}")
