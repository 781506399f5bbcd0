#!/usr/bin/env python3
"""Benchmark: the portal under load on loopback — gunicorn, PostgreSQL and Redis as in
production, driven by wrk (Debian's package, installed with apt-get when missing).

    python3 bench/load.py                           # small database of its own, every mode, 60 s
    python3 bench/load.py --database motcua_10m     # an existing preloaded database instead
    python3 bench/load.py --mode intake --duration 20 --no-write

Without ``--database`` it (re)creates ``motcua_load`` with ``bench/generate.py`` (a province of
173 units, the demo catalogue, ``--dossiers`` dossiers over the last three months). With
``--database NAME`` it uses that database as it is (migrated and loaded, e.g. by the 10M
generator) and only adds three bench accounts, their API tokens and the dossiers it receives.

Modes (``--mode``, default ``all`` = the four in turn, on one gunicorn):

* ``mixed`` — issue 7 item 7: for ``--duration`` seconds, one wrk process per request type at
  the same time, so that each type has its own latency distribution: intake (POST
  /api/v1/dossiers/ with a counter officer's token, a new applicant and Idempotency-Key each
  time), public lookup
  (GET /lookup/ and GET /api/v1/public/lookup/ by code and phone), worklist (GET /dossiers/ with a
  processing officer's session cookie, obtained through the login form, and GET
  /api/v1/dossiers/ with the officer's token) and the monthly report (GET
  /api/v1/reports/monthly/ as the district's manager).
* ``intake`` — issue 8 item 3: intake alone at ``--intake-connections``; dossiers/s and p95,
  against the same inserts (counter, dossier, event) as one SQL statement per dossier through
  psycopg2 in a loop, as many dossiers as the API received, in the same run.
* ``lookup`` — issue 8 item 3: the public lookup (page and API) alone, against a minimal Django
  view on the same gunicorn (``/bench/minimal/``, wired only when BENCH_MINIMAL_VIEW=1).

After each mode: no response other than 2xx/3xx and no socket error; the dossiers created in the
database are exactly the ones answered 201 (codes compared one by one: none lost, none extra);
every code distinct; per unit and day the numbers continue the day counter without a gap.
A failed check makes the exit status 1.

The rate limits keep their production values: gunicorn runs as behind the reverse proxy
(NUM_PROXIES=1) and each lookup carries its own client address in X-Forwarded-For, as many
citizens would, so no limit is reached and the limiter does what it does in production. From one
address the limit would refuse all but 30 lookups per 10 minutes; lifting it instead
(``--lift-limits``) counts every lookup on one counter, which no production limiter sees
either (one client under one address).

``--mode costs`` (in ``all`` too) runs each request type alone for ``--cost-seconds`` and reports
its CPU time per request — gunicorn's processes, the database's backends, Redis — read from
/proc: the figure that other work on a shared machine changes least.

gunicorn runs as the Dockerfile has it — ``--workers 2 --threads 4`` by default (``--workers``,
``--threads``; ``--compare-workers 3x1,5x1,2x4`` runs the modes once per setting to compare).

Figures go to stdout, to ``--json FILE`` and (unless ``--no-write``) to the section "Load,
intake and lookup under gunicorn" of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import math
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

from common import in_virtualenv  # noqa: E402 - standard library only

in_virtualenv(__file__)

from common import machine, prepare_database, setup_django, write_section  # noqa: E402

LUA = ROOT / "bench" / "lua"
PG = "postgres://postgres@127.0.0.1:5432/"
SECTION = "## Load, intake and lookup under gunicorn"
PASSWORD = "bench-load-Pw-2026"  # the bench accounts' password (bench databases only)
COUNTER, OFFICER, MANAGER = "bench.load.motcua", "bench.load.cv", "bench.load.lanhdao"
INTAKE_TARGET, INTAKE_P95_MS = 150.0, 150.0
LOOKUP_TARGET, LOOKUP_RATIO = 500.0, 0.5
GRACE = 5  # seconds wrk runs past the deadline so that the last requests finish
# The rate limits keep their production values: every lookup comes from its own client address
# (X-Forwarded-For behind one proxy), as many citizens would, so no limit is reached and the
# limiter's state per address is what production has (one counter per address, one round trip
# per hit). ``--lift-limits`` lifts them instead (one address for all).
LIFTED_LIMITS = {"LOOKUP_RATE_LIMIT": "1000000000", "LOGIN_RATE_LIMIT": "1000000"}


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--database", help="an existing, loaded database to run against")
    p.add_argument("--dossiers", type=int, default=5000, help="size of the own small database")
    p.add_argument("--mode", choices=["all", "mixed", "intake", "lookup", "costs"], default="all")
    p.add_argument("--cost-seconds", type=int, default=10, help="seconds per request type in costs")
    p.add_argument("--duration", type=int, default=60, help="seconds per run (default 60)")
    p.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    p.add_argument("--threads", type=int, default=4, help="threads per worker (default 4; 1: sync)")
    p.add_argument(
        "--compare-workers",
        default="",
        help="instead of the modes: the mixed run once per gunicorn setting, e.g. "
        "'3x1,5x1,2x4,3x4' (workers x threads)",
    )
    p.add_argument(
        "--mix",
        default="intake=4,lookup=2,lookup_api=2,worklist=1,worklist_api=1,report=1",
        help="connections per request type in the mixed run",
    )
    p.add_argument("--intake-connections", type=int, default=8)
    p.add_argument("--lookup-connections", type=int, default=8)
    p.add_argument(
        "--lookup-rounds",
        type=int,
        default=6,
        help="the lookup mode's types run in turns, this many rounds sharing --duration each",
    )
    p.add_argument("--redis", default="redis://127.0.0.1:6379/13")
    p.add_argument(
        "--lift-limits",
        action="store_true",
        help="lift the lookup rate limits and send every request from one address",
    )
    p.add_argument("--json", help="write the figures to this file too")
    p.add_argument(
        "--require-targets",
        action="store_true",
        help="exit 1 also when a target of issue 8 is not met (not only when a check fails)",
    )
    p.add_argument("--no-write", action="store_true", help="do not update docs/benchmarks.md")
    p.add_argument("--keep", action="store_true", help="reuse motcua_load if already loaded")
    return p.parse_args()


# --- Tools --------------------------------------------------------------------------------------


def ensure_wrk() -> str:
    """wrk from Debian's package; installed when missing (a new CI machine)."""
    found = shutil.which("wrk")
    if found:
        return found
    print("wrk is missing: installing Debian's package …", flush=True)
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if subprocess.run([*sudo, "apt-get", "install", "-y", "wrk"], env=env).returncode != 0:
        subprocess.run([*sudo, "apt-get", "update"], env=env, check=True)
        subprocess.run([*sudo, "apt-get", "install", "-y", "wrk"], env=env, check=True)
    found = shutil.which("wrk")
    if not found:
        sys.exit("wrk could not be installed")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def cpu_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of all the machine's cores."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


TICK = os.sysconf("SC_CLK_TCK")


def _proc_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used; 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def _group_pids(pgid: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid:
                pids.append(int(entry.name))
    return pids


class CpuMeter:
    """CPU seconds spent during a run by gunicorn (its process group), the PostgreSQL backends
    of the bench database, Redis and wrk: the cost of a request whatever else runs.

    A thread reads the processes' counters every 0.2 s and keeps the last value of each, so
    that a database backend that ends during a run (Django closes a connection after
    DB_CONN_MAX_AGE) still counts with what it had used."""

    POLL = 0.2

    def __init__(self, *, gunicorn_pgid: int, url: str, redis_url: str):
        import threading

        import psycopg2
        import redis

        self.pgid = gunicorn_pgid
        self.conn = psycopg2.connect(url)
        self.conn.autocommit = True
        self.redis_pid = int(redis.Redis.from_url(redis_url).info("server")["process_id"])
        self.seen: dict[str, dict[int, float]] = {"app": {}, "db": {}}
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self._poll()
        threading.Thread(target=self._run, daemon=True).start()

    def _pg_pids(self) -> list[int]:
        with self.conn.cursor() as cur:
            cur.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid()"
            )
            return [r[0] for r in cur.fetchall()]

    def _poll(self) -> None:
        with self.lock:
            for kind, pids in (("app", _group_pids(self.pgid)), ("db", self._pg_pids())):
                for pid in pids:
                    used = _proc_cpu(pid)
                    if used:
                        self.seen[kind][pid] = max(used, self.seen[kind].get(pid, 0.0))

    def _run(self) -> None:
        while not self.stopped.wait(self.POLL):
            try:
                self._poll()
            except Exception:  # the database went away: the run's checks will say so
                return

    def close(self) -> None:
        self.stopped.set()

    def sample(self) -> dict:
        import resource

        self._poll()
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        with self.lock:
            return {
                "app": dict(self.seen["app"]),
                "db": dict(self.seen["db"]),
                "redis": _proc_cpu(self.redis_pid),
                "wrk": children.ru_utime + children.ru_stime,
            }

    @staticmethod
    def spent(before: dict, after: dict) -> dict:
        def procs(kind: str) -> float:
            return sum(v - before[kind].get(p, 0.0) for p, v in after[kind].items())

        return {
            "app": procs("app"),
            "db": procs("db"),
            "redis": after["redis"] - before["redis"],
            "wrk": after["wrk"] - before["wrk"],
        }


def lua_value(value) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"[{lua_value(k)}] = {lua_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "{" + ", ".join(lua_value(v) for v in value) + "}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


# --- Database and world -------------------------------------------------------------------------


def database_url(options: argparse.Namespace) -> str:
    if options.database:
        import psycopg2

        conn = psycopg2.connect(PG + "postgres")
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [options.database])
            exists = cur.fetchone() is not None
        conn.close()
        if not exists:
            sys.exit(f"No database {options.database} (load it first, e.g. bench/generate.py)")
        return PG + options.database
    url = PG + "motcua_load"
    if options.keep:
        prepare_database(url, fresh=False)
        if _loaded(url):
            return url
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "generate.py"),
            "--fresh",
            "--database-url",
            url,
            "--dossiers",
            str(options.dossiers),
            "--years",
            "0.25",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    print(
        f"Loaded motcua_load ({options.dossiers:,} dossiers) in "
        f"{time.perf_counter() - started:.1f} s"
    )
    return url


def _loaded(url: str) -> bool:
    import psycopg2

    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT to_regclass('dossiers_dossier') IS NOT NULL")
            if not cur.fetchone()[0]:
                return False
            cur.execute("SELECT EXISTS (SELECT 1 FROM dossiers_dossier)")
            return bool(cur.fetchone()[0])
    finally:
        conn.close()


def remove_bench_intakes(url: str) -> int:
    """Delete the dossiers earlier runs received through the bench's counter account (and the
    raw-SQL baseline's, received in its name), with their rows in other tables, then VACUUM.

    Each intake run adds its thousands of dossiers to the one district, all "to do" and due
    within days — 52,000 after a day of runs, thirty times the district's real to-do list —
    and every later worklist, report and mixed run on the same database measured that instead
    of the province. The day counters stay: numbering goes on from them, as after any run."""
    import psycopg2

    conn = psycopg2.connect(url)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(
                "CREATE TEMP TABLE bench_gone AS SELECT d.id, d.code FROM dossiers_dossier d "
                "JOIN auth_user u ON u.id = d.received_by_id WHERE u.username = %s",
                [COUNTER],
            )
            cur.execute("SELECT count(*) FROM bench_gone")
            (gone,) = cur.fetchone()
            if gone:
                for table in (
                    "dossiers_dossierevent",
                    "dossiers_dossierdocument",
                    "dossiers_attachment",
                    "dossiers_pause",
                    "dossiers_rating",
                    "dossiers_dossieraccess",
                ):
                    cur.execute(
                        f"DELETE FROM {table} WHERE dossier_id IN (SELECT id FROM bench_gone)"
                    )
                cur.execute(
                    "DELETE FROM portal_outboxmessage WHERE reference IN "
                    "(SELECT code FROM bench_gone)"
                )
                cur.execute("DELETE FROM dossiers_dossier WHERE id IN (SELECT id FROM bench_gone)")
                for table in ("dossiers_dossier", "dossiers_dossierevent", "portal_outboxmessage"):
                    cur.execute(f"VACUUM (ANALYZE) {table}")
            cur.execute("DROP TABLE bench_gone")
    finally:
        conn.close()
    return gone


def build_world(*, lookups: int = 2000, seed: int = 7) -> dict:
    """The district with most dossiers, three bench accounts there (counter officer, processing
    officer, manager) with API tokens, the intake targets (the district and its communes, each
    with procedures of its level) and a sample of dossiers to look up."""
    from django.db import connection
    from rest_framework.authtoken.models import Token

    from portal.choices import Role, UnitLevel
    from portal.models import Unit
    from portal.services import add_staff
    from procedures.models import Procedure

    with connection.cursor() as cur:
        cur.execute(
            """SELECT u.id FROM portal_unit u JOIN dossiers_dossier d ON d.unit_id = u.id
               WHERE u.level = %s GROUP BY u.id ORDER BY count(*) DESC, u.id LIMIT 1""",
            [UnitLevel.DISTRICT],
        )
        row = cur.fetchone()
    district = Unit.objects.get(pk=row[0]) if row else Unit.objects.filter(level="district")[0]
    tokens = {}
    for username, role in (
        (COUNTER, Role.COUNTER_OFFICER),
        (OFFICER, Role.PROCESSING_OFFICER),
        (MANAGER, Role.MANAGER),
    ):
        user, _created = add_staff(username=username, unit=district, role=role, password=PASSWORD)
        tokens[username] = Token.objects.get_or_create(user=user)[0].key
    communes = list(Unit.objects.filter(parent=district).order_by("code")[:12])
    targets = []
    for unit in [district, *communes]:
        procedures = Procedure.objects.filter(level=unit.level, is_active=True).order_by("code")
        for procedure in procedures[:3]:
            documents = sorted(procedure.documents.values_list("pk", flat=True))
            targets.append(
                {
                    "unit": unit.code,
                    "unit_id": unit.pk,
                    "procedure": procedure.code,
                    "documents": json.dumps(documents),
                }
            )
    with connection.cursor() as cur:
        cur.execute("SELECT min(id), max(id) FROM dossiers_dossier")
        low, high = cur.fetchone()
        rng = random.Random(seed)
        ids = [rng.randint(low, high) for _ in range(lookups * 2)]
        cur.execute(
            "SELECT code, applicant_phone FROM dossiers_dossier WHERE id = ANY(%s) "
            "AND length(regexp_replace(applicant_phone, '[^0-9]', '', 'g')) >= 9 LIMIT %s",
            [ids, lookups],
        )
        sample = cur.fetchall()
        cur.execute("SELECT count(*) FROM dossiers_dossier")
        total = cur.fetchone()[0]
        cur.execute(
            "SELECT count(*) FROM dossiers_dossier WHERE unit_id IN "
            "(SELECT id FROM portal_unit WHERE path LIKE %s)",
            [district.path + "%"],
        )
        in_district = cur.fetchone()[0]
    return {
        "district": {"code": district.code, "name": district.name, "dossiers": in_district},
        "communes": len(communes),
        "tokens": tokens,
        "targets": targets,
        "lookups": sample,
        "dossiers": total,
    }


# --- gunicorn -----------------------------------------------------------------------------------


class Server:
    """gunicorn as in production (Dockerfile), on a free loopback port, in its own process
    group; its access log goes to a file of the run."""

    def __init__(
        self, *, url: str, workers: int, threads: int, redis: str, work: Path, lift: bool = False
    ):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.workers, self.threads = workers, threads
        self.env = {
            **os.environ,
            "ENV_FILE": str(work / "no.env"),  # the checkout's .env is not read
            "DJANGO_SETTINGS_MODULE": "portal.settings",
            "DATABASE_URL": url,
            "DEBUG": "0",
            "SECRET_KEY": "bench-load-only-not-a-secret-" + "x" * 24,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "0",  # plain http on loopback: no TLS proxy in front
            "SESSION_COOKIE_SECURE": "0",
            "CSRF_COOKIE_SECURE": "0",
            "SECURE_HSTS_SECONDS": "0",
            "NUM_PROXIES": "1",  # as behind nginx: wrk sends each lookup from its own address
            "CELERY_BROKER_URL": redis,
            "CACHE_URL": redis,
            "STATIC_ROOT": str(ROOT / "var" / "bench-static"),
            "VAR_DIR": str(work / "var"),
            "MEDIA_ROOT": str(work / "var" / "media"),
            "LOG_LEVEL": "WARNING",
            "BENCH_MINIMAL_VIEW": "1",
            **(LIFTED_LIMITS if lift else {}),
        }
        self.command = [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "portal.wsgi",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(workers),
            *(["--threads", str(threads)] if threads > 1 else []),
            "--timeout",
            "60",
            "--no-control-socket",  # other gunicorns on this machine (tests) keep theirs
            "--access-logfile",
            str(work / "access.log"),
            "--access-logformat",
            '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(L)s',
        ]
        self.log = open(work / "gunicorn.log", "a")  # noqa: SIM115
        self.process: subprocess.Popen | None = None

    def describe(self) -> str:
        kind = f"gthread, {self.threads} threads each" if self.threads > 1 else "sync"
        return f"{self.workers} workers ({kind})"

    def start(self) -> None:
        self.process = subprocess.Popen(
            self.command,
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=self.log,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                sys.exit(f"gunicorn stopped at start; see {self.log.name}")
            try:
                with urllib.request.urlopen(self.base + "/bench/minimal/", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.3)
        else:
            self.stop()
            sys.exit("gunicorn did not answer within 60 s")
        for path in ("/lookup/", "/bench/minimal/", "/api/v1/units/"):  # warm every worker
            for _ in range(self.workers * 2):
                urllib.request.urlopen(self.base + path, timeout=30).read()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.process = None


def collectstatic(url: str, work: Path) -> None:
    """The manifest the pages' {% static %} needs with DEBUG=0 (as the image builds it)."""
    env = Server(url=url, workers=1, threads=1, redis="memory://", work=work).env
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )


def login(base: str, username: str) -> str:
    """A session cookie through the login form (GET for the CSRF token, POST), as a browser."""
    jar = http.cookiejar.CookieJar()

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)
    page = opener.open(base + "/login/", timeout=30).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    body = urllib.parse.urlencode(
        {"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token}
    ).encode()
    request = urllib.request.Request(
        base + "/login/", data=body, headers={"Referer": base + "/login/"}
    )
    try:
        opener.open(request, timeout=30)
        raise SystemExit(f"login of {username} did not redirect: wrong password?")
    except urllib.error.HTTPError as answer:
        if answer.code != 302:
            raise SystemExit(f"login of {username} answered {answer.code}") from None
    cookies = {c.name: c.value for c in jar}
    if "sessionid" not in cookies:
        raise SystemExit(f"login of {username} set no session cookie")
    return f"sessionid={cookies['sessionid']}"


# --- wrk ----------------------------------------------------------------------------------------


class Load:
    """One wrk process for one request type: ``connections`` connections, one thread each."""

    def __init__(
        self,
        *,
        name: str,
        script: str,
        data: dict,
        connections: int,
        base: str,
        work: Path,
        deadline: int,
        duration: int,
        wrk: str,
    ):
        self.name, self.connections = name, connections
        data_file = work / f"{name}.lua"
        data_file.write_text("return " + lua_value(data) + "\n")
        self.codes_file = work / f"{name}.codes"
        self.codes_file.unlink(missing_ok=True)
        env = {
            **os.environ,
            "LOAD_DATA": str(data_file),
            "LOAD_DEADLINE": str(deadline),
            "LOAD_CODES": str(self.codes_file),
        }
        self.process = subprocess.Popen(
            [
                wrk,
                "-t",
                str(connections),
                "-c",
                str(connections),
                "-d",
                f"{duration + GRACE}s",
                "--timeout",
                f"{GRACE}s",
                "-s",
                str(LUA / script),
                base,
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def result(self, window: float) -> dict:
        out, _ = self.process.communicate()
        line = next((x for x in out.splitlines() if x.startswith("WRK_JSON ")), None)
        if line is None:
            raise SystemExit(f"wrk ({self.name}) gave no summary:\n{out}")
        data = json.loads(line[len("WRK_JSON ") :])
        statuses = {int(k): v for k, v in data["statuses"].items()}
        lat = data["latency_us"]
        return {
            "type": self.name,
            "connections": self.connections,
            "requests": data["requests"],
            "rps": data["requests"] / window,
            "p50_ms": lat["p50"] / 1000,
            "p95_ms": lat["p95"] / 1000,
            "p99_ms": lat["p99"] / 1000,
            "max_ms": lat["max"] / 1000,
            "statuses": statuses,
            "bad_statuses": sum(n for s, n in statuses.items() if not 200 <= s < 400),
            "socket_errors": sum(
                data["errors"][k] for k in ("connect", "read", "write", "timeout")
            ),
            "codes": (self.codes_file.read_text().split() if self.codes_file.exists() else None),
        }


def run_loads(
    specs: list[dict], *, base: str, work: Path, duration: int, wrk: str, meter: CpuMeter
) -> dict:
    """Start every wrk process at once; they stop after ``duration`` seconds."""
    cpu0 = meter.sample()
    busy0, total0 = cpu_ticks()
    measured_from = time.monotonic()
    started = time.time()
    deadline = math.ceil(started) + duration
    window = deadline - started
    loads = [
        Load(**spec, base=base, work=work, deadline=deadline, duration=duration, wrk=wrk)
        for spec in specs
    ]
    results = [load.result(window) for load in loads]
    busy1, total1 = cpu_ticks()
    measured = time.monotonic() - measured_from
    cpu = CpuMeter.spent(cpu0, meter.sample())
    requests = sum(r["requests"] for r in results) or 1
    busy_s = (busy1 - busy0) / TICK
    return {
        "window_s": round(window, 2),
        "cpu_busy": round((busy1 - busy0) / max(1, total1 - total0), 3),
        "cpu_ms_per_request": {k: round(v * 1000 / requests, 3) for k, v in cpu.items()},
        # the cores the rest of the machine (other users' work) kept busy during the run
        "others_cores": round(max(0.0, busy_s - sum(cpu.values())) / measured, 2),
        "types": results,
    }


# --- Request types ------------------------------------------------------------------------------


def specs_for(world: dict, session: str, mix: dict[str, int], lift: bool = False) -> list[dict]:
    """The wrk processes of the request types named in ``mix`` (name → connections)."""
    tokens = world["tokens"]
    district = world["district"]["code"]
    lookups = world["lookups"]
    q = urllib.parse.quote
    month = datetime.now().strftime("%Y-%m")
    paths = {
        "lookup": [f"/lookup/?code={q(c)}&phone={q(p)}" for c, p in lookups],
        "lookup_api": [f"/api/v1/public/lookup/?code={q(c)}&phone={q(p)}" for c, p in lookups],
        "worklist": ["/dossiers/", "/dossiers/?page=2", "/dossiers/?status=received"],
        "worklist_api": [
            "/api/v1/dossiers/",
            "/api/v1/dossiers/?page=2",
            "/api/v1/dossiers/?status=in_progress",
        ],
        "report": [
            f"/api/v1/reports/monthly/?unit={district}&period={month}",
            f"/api/v1/reports/monthly/?unit={district}&period={month}&group_by=field",
        ],
        "minimal": ["/bench/minimal/"],
    }
    headers = {
        "worklist": {"Cookie": session},
        "worklist_api": {"Authorization": f"Token {tokens[OFFICER]}"},
        "report": {"Authorization": f"Token {tokens[MANAGER]}"},
    }
    specs = []
    for name, connections in mix.items():
        if connections <= 0:
            continue
        if name == "intake":
            data = {
                "path": "/api/v1/dossiers/",
                "headers": {
                    "Authorization": f"Token {tokens[COUNTER]}",
                    "Content-Type": "application/json",
                },
                "targets": [
                    {k: t[k] for k in ("unit", "procedure", "documents")} for t in world["targets"]
                ],
                "run": random.randrange(1000, 10**6),
            }
            specs.append(
                {"name": name, "script": "intake.lua", "data": data, "connections": connections}
            )
        else:
            specs.append(
                {
                    "name": name,
                    "script": "get.lua",
                    "connections": connections,
                    "data": {
                        "paths": paths[name],
                        "headers": headers.get(name, {}),
                        "vary_client": name.startswith("lookup") and not lift,
                    },
                }
            )
    return specs


# --- Checks -------------------------------------------------------------------------------------


def snapshot(url: str, world: dict) -> dict:
    """Where the dossiers and the day counters of the intake units stand before a run."""
    import psycopg2

    unit_ids = sorted({t["unit_id"] for t in world["targets"]})
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT COALESCE(max(id), 0) FROM dossiers_dossier")
            max_id = cur.fetchone()[0]
            cur.execute(
                "SELECT unit_id, day, last FROM dossiers_daycounter WHERE unit_id = ANY(%s)",
                [unit_ids],
            )
            counters = {(u, d): n for u, d, n in cur.fetchall()}
    finally:
        conn.close()
    return {"max_id": max_id, "counters": counters, "unit_ids": unit_ids}


def verify(url: str, before: dict, answered: list[str], *, baseline: int = 0) -> dict:
    """The dossiers created since ``before``: the API's ones are exactly the ``answered`` codes
    (the 201 responses), every code distinct, per unit and day consecutive from the counter."""
    import psycopg2

    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(
                """SELECT d.id, d.code, d.unit_id, d.note LIKE 'bench-sql%%',
                          (SELECT count(*) FROM dossiers_dossierevent e WHERE e.dossier_id = d.id)
                   FROM dossiers_dossier d WHERE d.id > %s ORDER BY d.id""",
                [before["max_id"]],
            )
            rows = cur.fetchall()
            cur.execute(
                "SELECT unit_id, day, last FROM dossiers_daycounter WHERE unit_id = ANY(%s)",
                [list({r[2] for r in rows})],
            )
            counters = {(u, d): n for u, d, n in cur.fetchall()}
    finally:
        conn.close()
    api_codes = [r[1] for r in rows if not r[3]]
    sql_codes = [r[1] for r in rows if r[3]]
    all_codes = [r[1] for r in rows]
    answered_set = set(answered)
    lost = sorted(answered_set - set(api_codes))
    extra = sorted(set(api_codes) - answered_set)
    duplicates = len(all_codes) - len(set(all_codes)) + (len(answered) - len(answered_set))
    gaps = []
    by_day: dict[tuple, list[int]] = {}
    for _id, code, unit_id, _sql, _events in rows:
        head, number = code.rsplit("-", 1)
        by_day.setdefault((unit_id, head.rsplit("-", 1)[1]), []).append(int(number))
    for (unit_id, yymmdd), numbers in by_day.items():
        day = datetime.strptime(yymmdd, "%y%m%d").date()
        start = before["counters"].get((unit_id, day), 0)
        end = counters.get((unit_id, day))
        if sorted(numbers) != list(range(start + 1, (end or 0) + 1)):
            gaps.append(
                {
                    "unit_id": unit_id,
                    "day": yymmdd,
                    "counter_before": start,
                    "counter_after": end,
                    "numbers": len(numbers),
                }
            )
    no_event = sum(1 for r in rows if r[4] != 1)
    return {
        "created": len(rows),
        "created_api": len(api_codes),
        "created_sql": len(sql_codes),
        "answered_201": len(answered),
        "lost": len(lost),
        "extra": len(extra),
        "duplicates": duplicates,
        "unit_days": len(by_day),
        "gaps": gaps,
        "without_one_event": no_event,
        "baseline_expected": baseline,
        "ok": not lost
        and not extra
        and not duplicates
        and not gaps
        and not no_event
        and len(sql_codes) == baseline,
    }


def http_checks(run: dict) -> list[str]:
    failures = []
    for t in run["types"]:
        if t["bad_statuses"]:
            bad = {s: n for s, n in t["statuses"].items() if not 200 <= s < 400}
            failures.append(f"{t['type']}: responses other than 2xx/3xx {bad}")
        if t["socket_errors"]:
            failures.append(f"{t['type']}: {t['socket_errors']} socket errors")
        if t["requests"] == 0:
            failures.append(f"{t['type']}: no request completed")
    return failures


# --- Raw SQL baseline of intake -----------------------------------------------------------------

BASELINE_SQL = """
WITH n AS (
    INSERT INTO dossiers_daycounter (unit_id, day, last) VALUES (%(unit)s, %(day)s, 1)
    ON CONFLICT (unit_id, day) DO UPDATE SET last = dossiers_daycounter.last + 1
    RETURNING last
), d AS (
    INSERT INTO dossiers_dossier (
        code, channel, postal_tracking_no, applicant_name, applicant_id_number, applicant_phone,
        applicant_email, applicant_address, applicant_search, note, status, timeliness,
        received_at, due_at, deadline_trace, apology_reason, result_summary, close_reason,
        digitized_intake, digitized_result, created_at, updated_at, procedure_id,
        received_by_id, unit_id, submission_key)
    SELECT %(prefix)s || CASE WHEN n.last < 10000 THEN lpad(n.last::text, 4, '0')
                              ELSE n.last::text END,
           'in_person', '', %(name)s, %(id_number)s, %(phone)s, '', %(address)s, %(search)s,
           'bench-sql baseline', 'received', 'in_time', now(), %(due_at)s, %(trace)s, '', '', '',
           false, false, now(), now(), %(procedure)s, %(by)s, %(unit)s, ''
    FROM n
    RETURNING id
)
INSERT INTO dossiers_dossierevent (at, action, from_status, to_status, note, data, by_id,
                                   dossier_id)
SELECT now(), 'receive', '', 'received', '', '{"channel": "in_person"}', %(by)s, d.id FROM d
"""


def sql_baseline(url: str, world: dict, count: int, seconds: float, meter: CpuMeter) -> dict:
    """The intake's inserts — counter, dossier, event — as one statement and a commit per
    dossier, in a loop on one connection, for as many dossiers as the API received (at most
    ``seconds``): the database grows alike. The deadline of each target is computed once."""
    import psycopg2
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from portal.models import Unit
    from portal.text import search_key
    from procedures.models import Procedure
    from procedures.selectors import procedure_deadline

    now = timezone.now()
    day = timezone.localdate(now)
    by = get_user_model().objects.get(username=COUNTER).pk
    prepared = []
    for t in world["targets"]:
        unit = Unit.objects.get(code=t["unit"])
        procedure = Procedure.objects.get(code=t["procedure"])
        deadline = procedure_deadline(procedure=procedure, unit=unit, received_at=now)
        prepared.append(
            {
                "unit": unit.pk,
                "procedure": procedure.pk,
                "by": by,
                "day": day,
                "prefix": f"{unit.code}-{day:%y%m%d}-",
                "due_at": deadline.due_at,
                "trace": json.dumps(deadline.trace_as_json()),
            }
        )
    conn = psycopg2.connect(url)
    latencies = []
    wanted, count = count, 0
    run = random.randrange(10**6)
    cpu0, process0 = meter.sample(), time.process_time()
    started = time.perf_counter()
    try:
        with conn.cursor() as cur:
            while count < wanted and time.perf_counter() - started < seconds:
                count += 1
                name = f"Nguyễn Thị Tải {run}-{count}"
                params = {
                    **prepared[count % len(prepared)],
                    "name": name,
                    "search": search_key(name),
                    "id_number": f"{run % 1000:03d}{count:09d}",
                    "phone": f"09{count:08d}",
                    "address": f"Tổ {count % 50}, phường Đồng Tâm",
                }
                t0 = time.perf_counter()
                cur.execute(BASELINE_SQL, params)
                conn.commit()
                latencies.append(time.perf_counter() - t0)
        elapsed = time.perf_counter() - started
        process = time.process_time() - process0
        spent = CpuMeter.spent(cpu0, meter.sample())  # while the connection's backend lives
    finally:
        conn.close()
    latencies.sort()

    def pct(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000

    return {
        "cpu_ms": {
            "app": process * 1000 / count,
            "db": spent["db"] * 1000 / count,
            "redis": 0.0,
            "wrk": 0.0,
        },
        "type": "intake (raw SQL)",
        "connections": 1,
        "requests": count,
        "rps": count / elapsed,
        "p50_ms": pct(0.5),
        "p95_ms": pct(0.95),
        "p99_ms": pct(0.99),
        "max_ms": latencies[-1] * 1000,
    }


# --- Modes --------------------------------------------------------------------------------------


def mode_mixed(ctx: dict, mix: dict[str, int]) -> dict:
    before = snapshot(ctx["url"], ctx["world"])
    run = run_loads(
        specs_for(ctx["world"], ctx["session"], lift=ctx["lift"], mix=mix), **ctx["load"]
    )
    answered = next((t["codes"] for t in run["types"] if t["type"] == "intake"), []) or []
    run["verify"] = verify(ctx["url"], before, answered)
    run["failures"] = http_checks(run)
    if not run["verify"]["ok"]:
        run["failures"].append(f"dossier check failed: {summary_of(run['verify'])}")
    return run


def mode_intake(ctx: dict, connections: int, duration: int) -> dict:
    before = snapshot(ctx["url"], ctx["world"])
    run = run_loads(
        specs_for(ctx["world"], ctx["session"], lift=ctx["lift"], mix={"intake": connections}),
        **ctx["load"],
    )
    intake = run["types"][0]
    intake["cpu_ms"] = run["cpu_ms_per_request"]
    time.sleep(1)
    baseline = sql_baseline(
        ctx["url"],
        ctx["world"],
        max(1, intake["statuses"].get(201, 0)),
        duration,
        ctx["load"]["meter"],
    )
    run["baseline"] = baseline
    run["verify"] = verify(ctx["url"], before, intake["codes"] or [], baseline=baseline["requests"])
    run["failures"] = http_checks(run)
    if not run["verify"]["ok"]:
        run["failures"].append(f"dossier check failed: {summary_of(run['verify'])}")
    created = intake["statuses"].get(201, 0)
    run["dossiers_per_s"] = created / run["window_s"]
    run["targets"] = {
        f"≥ {INTAKE_TARGET:.0f} dossiers/s": run["dossiers_per_s"] >= INTAKE_TARGET,
        f"p95 ≤ {INTAKE_P95_MS:.0f} ms": intake["p95_ms"] <= INTAKE_P95_MS,
    }
    return run


# Before the lookup mode's rounds, each type runs this long unmeasured: the first lookup of each
# sampled dossier reads it from PostgreSQL and keeps its answer (``LOOKUP_CACHE_SECONDS``, 300 s,
# longer than a run), as a citizen's first lookup does; what is measured is the steady state of
# citizens asking again. Without it the first round measured the PostgreSQL reads of the
# sample too (the page at 35–46% of the minimal view in the first round, 45–53% in the others).
LOOKUP_WARM_SECONDS = 5


def mode_lookup(ctx: dict, connections: int, rounds: int) -> dict:
    """The minimal view, the page and the API in turns, ``rounds`` times, each turn a
    ``rounds``-th of ``--duration``: the machine's speed drifts over minutes (a virtual
    machine's neighbours), and turns give each type the same share of it."""
    names = ("minimal", "lookup", "lookup_api")
    warm = {**ctx["load"], "duration": LOOKUP_WARM_SECONDS}
    for name in names:  # not measured: see LOOKUP_WARM_SECONDS
        run_loads(specs_for(ctx["world"], ctx["session"], lift=ctx["lift"], mix={name: 2}), **warm)
    load = {**ctx["load"], "duration": max(1, ctx["load"]["duration"] // rounds)}
    turns: dict[str, list[dict]] = {name: [] for name in names}
    for _round in range(rounds):
        for name in names:
            specs = specs_for(
                ctx["world"], ctx["session"], lift=ctx["lift"], mix={name: connections}
            )
            turns[name].append(run_loads(specs, **load))
    result = {
        "rounds": rounds,
        "types": [_over_turns(turns[name]) for name in names],
        "cpu_busy": [_mean(run["cpu_busy"] for run in turns[name]) for name in names],
        "others_cores": [_mean(run["others_cores"] for run in turns[name]) for name in names],
        "window_s": round(sum(run["window_s"] for run in turns[names[0]]), 2),
    }
    result["failures"] = http_checks(result)
    minimal = result["types"][0]["rps"]
    result["targets"] = {}
    for t in result["types"][1:]:
        t["vs_minimal"] = t["rps"] / minimal if minimal else 0.0
        t["vs_minimal_by_round"] = [
            mine["types"][0]["rps"] / base["types"][0]["rps"]
            for mine, base in zip(turns[t["type"]], turns["minimal"], strict=True)
        ]
        result["targets"][f"{t['type']} ≥ {LOOKUP_TARGET:.0f} req/s"] = t["rps"] >= LOOKUP_TARGET
        result["targets"][f"{t['type']} ≥ {LOOKUP_RATIO:.0%} of minimal"] = (
            t["vs_minimal"] >= LOOKUP_RATIO
        )
    return result


def _mean(values) -> float:
    values = list(values)
    return round(sum(values) / len(values), 3)


def _over_turns(runs: list[dict]) -> dict:
    """One request type's turns as one row: requests, statuses and CPU summed over the turns,
    throughput over their windows, and each latency figure the worst turn's."""
    rows = [run["types"][0] for run in runs]
    requests = sum(row["requests"] for row in rows)
    statuses: dict[int, int] = {}
    for row in rows:
        for status, count in row["statuses"].items():
            statuses[status] = statuses.get(status, 0) + count
    cpu = {
        kind: round(
            sum(run["cpu_ms_per_request"][kind] * run["types"][0]["requests"] for run in runs)
            / max(1, requests),
            3,
        )
        for kind in runs[0]["cpu_ms_per_request"]
    }
    return {
        **rows[0],
        "requests": requests,
        "rps": requests / sum(run["window_s"] for run in runs),
        **{key: max(row[key] for row in rows) for key in ("p50_ms", "p95_ms", "p99_ms", "max_ms")},
        "statuses": statuses,
        "bad_statuses": sum(row["bad_statuses"] for row in rows),
        "socket_errors": sum(row["socket_errors"] for row in rows),
        "codes": None,
        "cpu_ms": cpu,
    }


COST_TYPES = ("minimal", "lookup", "lookup_api", "worklist", "worklist_api", "report", "intake")


def mode_costs(ctx: dict, seconds: int, connections: int) -> dict:
    """Each request type alone for ``seconds``: its CPU time per request (gunicorn, PostgreSQL,
    Redis), which other work on the machine does not change much, and the throughput two idle
    cores would give at that cost."""
    load = {**ctx["load"], "duration": seconds}
    before = snapshot(ctx["url"], ctx["world"])
    rows, answered = [], []
    for name in COST_TYPES:
        mix = {name: connections}
        run = run_loads(specs_for(ctx["world"], ctx["session"], lift=ctx["lift"], mix=mix), **load)
        row = run["types"][0]
        row["cpu_ms"] = cpu = run["cpu_ms_per_request"]
        row["others_cores"] = run["others_cores"]
        served = cpu["app"] + cpu["db"] + cpu["redis"]
        row["capacity_rps"] = (os.cpu_count() or 1) * 1000 / served if served else 0.0
        if name == "intake":
            answered = row["codes"] or []
        rows.append(row)
    result = {
        "types": rows,
        "others_cores": [r["others_cores"] for r in rows],
        "cpu_busy": 0.0,
        "window_s": seconds,
    }
    result["verify"] = verify(ctx["url"], before, answered)
    result["failures"] = http_checks(result)
    if not result["verify"]["ok"]:
        result["failures"].append(f"dossier check failed: {summary_of(result['verify'])}")
    return result


def summary_of(v: dict) -> str:
    return (
        f"created {v['created']} (API {v['created_api']}, SQL {v['created_sql']}), "
        f"answered 201: {v['answered_201']}, lost {v['lost']}, extra {v['extra']}, "
        f"duplicates {v['duplicates']}, gaps {len(v['gaps'])} of {v['unit_days']} unit-days, "
        f"without exactly one event {v['without_one_event']}"
    )


# --- Output -------------------------------------------------------------------------------------


def table(rows: list[dict], extra: str = "") -> list[str]:
    head = (
        "| type | connections | requests | req/s | p50 | p95 | p99 | max | non-2xx/3xx | "
        "socket errors |" + (f" {extra} |" if extra else "")
    )
    with_cpu = any("cpu_ms" in t for t in rows)
    if with_cpu:
        head += " CPU ms/request: app + db + redis (+ wrk) |"
    with_capacity = any("capacity_rps" in t for t in rows)
    if with_capacity:
        head += f" req/s on {os.cpu_count()} idle cores (est.) |"
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for t in rows:
        cells = [
            t["type"],
            str(t["connections"]),
            f"{t['requests']:,}",
            f"{t['rps']:,.1f}",
            f"{t['p50_ms']:.1f} ms",
            f"{t['p95_ms']:.1f} ms",
            f"{t['p99_ms']:.1f} ms",
            f"{t['max_ms']:.0f} ms",
            str(t.get("bad_statuses", "–")),
            str(t.get("socket_errors", "–")),
        ]
        if extra:
            cells.append(f"{t['vs_minimal']:.2f}×" if "vs_minimal" in t else "")
        if with_cpu:
            c = t.get("cpu_ms")
            cells.append(
                f"{c['app']:.2f} + {c['db']:.2f} + {c['redis']:.2f} (+ {c['wrk']:.2f})" if c else ""
            )
        if with_capacity:
            cells.append(f"{t['capacity_rps']:,.0f}" if "capacity_rps" in t else "")
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def mark(ok: bool) -> str:
    return "met" if ok else "**not met**"


def report_lines(result: dict) -> list[str]:
    m, w, s = result["machine"], result["world"], result["server"]
    lines = [
        "",
        f"Run {result['started']} UTC with `{result['command']}`; load average "
        f"{result['load_before']} before, {result['load_after']} after "
        f"({result['busy_note']}).",
        "",
        f"**Machine:** {m['nproc']} cores ({m['cpu']}), {m['ram_gb']} GB RAM, PostgreSQL "
        f"{m['pg']} (shared_buffers {m['shared_buffers']}), Redis {m['redis']}, Python "
        f"{m['python']}, {m['wrk']}; wrk, gunicorn, PostgreSQL and Redis on the same machine.",
        "",
        f"**Data:** {w['dossiers']:,} dossiers in `{result['database']}` "
        f"({result['database_note']}); the district {w['district']['name']} "
        f"({w['district']['code']}, {w['district']['dossiers']:,} dossiers) and "
        f"{w['communes']} of its communes receive the intake ({len(w['targets'])} unit–procedure "
        f"pairs); lookups by code and phone over {len(w['lookups']):,} dossiers drawn at random.",
        "",
        f"**Server:** `gunicorn portal.wsgi` with {s}, DEBUG=0, access log to a file, "
        "PostgreSQL through DATABASE_URL (persistent connections, DB_CONN_MAX_AGE 60), Redis as "
        "Celery broker and cache (rate-limit counters, the lookup's kept answers: "
        f"LOOKUP_CACHE_SECONDS={os.environ.get('LOOKUP_CACHE_SECONDS', '300')}), "
        f"KEPT_PAGES={os.environ.get('KEPT_PAGES', '1')}, "
        "SECURE_SSL_REDIRECT=0 and the cookies' "
        "Secure flag off (plain http on loopback). "
        + (
            "LOOKUP_RATE_LIMIT and LOGIN_RATE_LIMIT lifted (`--lift-limits`): every request "
            "comes from one address."
            if result.get("lift")
            else "The rate limits keep their production values (30 lookups per address per 10 "
            "minutes): as behind the reverse proxy (NUM_PROXIES=1), each lookup carries its own "
            "client address in X-Forwarded-For, as many citizens would, so no limit is reached "
            "and the limiter does per request what it does in production (one counter per "
            "address, one Redis round trip per hit, page and API alike)."
        )
        + " No Celery worker runs: the delivery tasks each intake queues wait in Redis.",
    ]
    if "mixed" in result["modes"]:
        r = result["modes"]["mixed"]
        cpu = r["cpu_ms_per_request"]
        lines += [
            "",
            f"### Mixed load, {result['duration']} s (issue 7 item 7)",
            "",
            "One wrk process per request type, all at once, each connection its own wrk thread; "
            f"every thread stops at its first answer after {result['duration']} s, so no "
            f"request is cut off. CPU time per request, averaged over the mix: "
            f"{cpu['app']:.1f} ms gunicorn, {cpu['db']:.1f} ms PostgreSQL, {cpu['redis']:.2f} ms "
            f"Redis; other work on the machine kept {r['others_cores']:.1f} cores busy.",
            "",
            *table(r["types"]),
            "",
            f"Dossiers: {summary_of(r['verify'])}.",
            f"Checks: {'all passed' if not r['failures'] else '; '.join(r['failures'])}.",
        ]
    if "intake" in result["modes"]:
        r = result["modes"]["intake"]
        b, i = r["baseline"], r["types"][0]
        lines += [
            "",
            "### Intake alone (issue 8 item 3)",
            "",
            f"POST /api/v1/dossiers/ at {i['connections']} connections for "
            f"{result['duration']} s, then the raw SQL baseline: the same inserts (day counter "
            "upsert, dossier, event) as one statement and a commit per dossier, psycopg2 in a "
            "loop on one connection, for as many dossiers as the API received (the app also "
            "writes the checklist lines and the outbox messages, computes the deadline, answers "
            "with the dossier's detail and queues a delivery task in Redis).",
            "",
            *table([i, b]),
            "",
            f"**{r['dossiers_per_s']:.1f} dossiers/s** sustained, p95 {i['p95_ms']:.0f} ms; "
            f"the SQL baseline {b['rps']:.0f} dossiers/s "
            f"({r['dossiers_per_s'] / b['rps']:.0%} of it). Targets: "
            + ", ".join(f"{k}: {mark(v)}" for k, v in r["targets"].items())
            + ".",
            f"Dossiers: {summary_of(r['verify'])}.",
            f"Checks: {'all passed' if not r['failures'] else '; '.join(r['failures'])}.",
        ]
    if "lookup" in result["modes"]:
        r = result["modes"]["lookup"]
        lines += [
            "",
            "### Public lookup against a minimal view (issue 8 item 3)",
            "",
            f"{r['types'][0]['connections']} connections, {result['duration']} s each, in turns "
            f"({r['rounds']} rounds of {result['duration'] // r['rounds']} s: the machine's "
            "speed drifts over minutes, and turns give each type the same share of it; "
            "requests and CPU summed over the turns, each latency the worst turn's; before the "
            f"rounds each type ran {LOOKUP_WARM_SECONDS} s unmeasured, so that each sampled "
            "dossier's first lookup, which reads PostgreSQL, is not in the figures): "
            '`/bench/minimal/` (a Django view returning "ok": every middleware, no '
            "database, no template), the lookup page `/lookup/?code=&phone=` and its API twin "
            "`/api/v1/public/lookup/` (each: one Redis round trip that counts the client's hit "
            "and reads the answer kept for that code and phone — PostgreSQL only when none is "
            "kept —, then the page or JSON; the page is filled into its markup kept rendered "
            "per shape, `portal.kept_pages`). Each of the sampled dossiers is looked up many "
            "times in a run, as citizens ask again about theirs; `LOOKUP_CACHE_SECONDS=0` in "
            "the environment measures every lookup reading PostgreSQL, `KEPT_PAGES=0` every "
            "page rendered in full by the template engine.",
            "",
            *table(r["types"], extra="vs minimal"),
            "",
            *(
                f"{t['type']} against the minimal view, round by round: "
                + ", ".join(f"{ratio:.0%}" for ratio in t["vs_minimal_by_round"])
                + "."
                for t in r["types"][1:]
            ),
            "Targets: " + ", ".join(f"{k}: {mark(v)}" for k, v in r["targets"].items()) + ".",
            f"Checks: {'all passed' if not r['failures'] else '; '.join(r['failures'])}.",
        ]
    if "costs" in result["modes"]:
        r = result["modes"]["costs"]
        lines += [
            "",
            "### What each request costs",
            "",
            f"Each type alone at {r['types'][0]['connections']} connections for "
            f"{r['window_s']} s: the CPU time per request of gunicorn (its processes), the "
            "PostgreSQL backends of the bench database and Redis, measured from /proc — the "
            "figure other work on the machine changes least — and the throughput "
            f"{os.cpu_count()} idle cores would give at that cost (wrk's own CPU left out).",
            "",
            *table(r["types"]),
            "",
            f"Dossiers: {summary_of(r['verify'])}.",
            f"Checks: {'all passed' if not r['failures'] else '; '.join(r['failures'])}.",
        ]
    return [*lines, ""]  # a blank line before the next section


def busy_note(result: dict) -> str:
    """Whether other work shared the machine: the cores it took during the timed runs."""
    shares: list[float] = []
    for run in result["modes"].values():
        others = run["others_cores"]
        shares += others if isinstance(others, list) else [others]
    worst = max(shares, default=0.0)
    if worst < 0.1:
        return "the machine was otherwise idle during the timed runs"
    return (
        f"**the machine was otherwise busy**: other work kept up to {worst:.1f} of the "
        f"{os.cpu_count()} cores busy during the timed runs, so the throughputs are lower "
        "bounds and the CPU time per request is the steadier figure"
    )


def print_run(name: str, run: dict) -> None:
    print(
        f"\n== {name} (window {run['window_s']} s, CPU busy {run['cpu_busy']}, "
        f"CPU ms per request {run.get('cpu_ms_per_request')}, "
        f"others' CPU {run.get('others_cores')} cores) =="
    )
    rows = list(run["types"]) + ([run["baseline"]] if "baseline" in run else [])
    for line in table(rows, extra="vs minimal" if name == "lookup" else ""):
        print(line)
    if "verify" in run:
        print("dossiers:", summary_of(run["verify"]))
    for row in run["types"]:
        if "vs_minimal_by_round" in row:
            ratios = ", ".join(f"{ratio:.0%}" for ratio in row["vs_minimal_by_round"])
            print(f"{row['type']} vs minimal, round by round: {ratios}")
    for key, ok in run.get("targets", {}).items():
        print(f"target {key}: {'met' if ok else 'NOT MET'}")
    for failure in run["failures"]:
        print("CHECK FAILED:", failure)


def main() -> int:
    options = parse_args()
    wrk = ensure_wrk()
    load_before = loadavg()
    started = datetime.utcnow().strftime("%Y-%m-%d %H:%M")
    url = database_url(options)
    setup_django(url)
    removed = remove_bench_intakes(url)
    if removed:
        print(f"Removed {removed:,} dossiers that earlier runs received (and their rows).")
    world = build_world()
    print(
        f"World: {world['dossiers']:,} dossiers; district {world['district']['code']} "
        f"({world['district']['dossiers']:,}); {len(world['targets'])} intake targets; "
        f"{len(world['lookups'])} lookup targets"
    )
    info = machine()
    import redis

    info["redis"] = redis.Redis.from_url(options.redis).info("server")["redis_version"]
    info["wrk"] = subprocess.run([wrk, "-v"], capture_output=True, text=True).stdout.split(" [")[0]
    redis.Redis.from_url(options.redis).flushdb()  # the bench's own Redis database
    work = Path(tempfile.mkdtemp(prefix="motcua-load-"))
    collectstatic(url, work)
    mix = {k: int(v) for k, v in (x.split("=") for x in options.mix.split(","))}

    settings = [(options.workers, options.threads)]
    if options.compare_workers:
        settings = [tuple(map(int, s.split("x"))) for s in options.compare_workers.split(",")]
    result: dict = {
        "started": started,
        "duration": options.duration,
        "modes": {},
        "database": url.rsplit("/", 1)[1],
        "world": world,
        "machine": info,
        "load_before": load_before,
        "command": "python3 bench/load.py " + " ".join(sys.argv[1:]),
        "lift": options.lift_limits,
        "compare": [],
    }
    failures: list[str] = []
    for workers, threads in settings:
        server = Server(
            url=url,
            workers=workers,
            threads=threads,
            redis=options.redis,
            work=work,
            lift=options.lift_limits,
        )
        server.start()
        meter = None
        try:
            session = login(server.base, OFFICER)
            meter = CpuMeter(gunicorn_pgid=server.process.pid, url=url, redis_url=options.redis)
            ctx = {
                "url": url,
                "world": world,
                "session": session,
                "lift": options.lift_limits,
                "load": {
                    "base": server.base,
                    "work": work,
                    "duration": options.duration,
                    "wrk": wrk,
                    "meter": meter,
                },
            }
            modes: dict = {}
            if options.mode in ("all", "mixed"):
                modes["mixed"] = run = mode_mixed(ctx, mix)
                print_run(f"mixed, {server.describe()}", run)
            if options.mode in ("all", "intake"):
                modes["intake"] = run = mode_intake(
                    ctx, options.intake_connections, options.duration
                )
                print_run(f"intake, {server.describe()}", run)
            if options.mode in ("all", "lookup"):
                modes["lookup"] = run = mode_lookup(
                    ctx, options.lookup_connections, options.lookup_rounds
                )
                print_run(f"lookup, {server.describe()}", run)
            if options.mode in ("all", "costs"):
                modes["costs"] = run = mode_costs(ctx, options.cost_seconds, 4)
                print_run(f"costs, {server.describe()}", run)
        finally:
            if meter is not None:
                meter.close()
            server.stop()
        failures += [f for run in modes.values() for f in run["failures"]]
        if options.require_targets:
            failures += [
                f"target not met: {name} {target}"
                for name, run in modes.items()
                for target, ok in run.get("targets", {}).items()
                if not ok
            ]
        if options.compare_workers:
            result["compare"].append({"server": server.describe(), "modes": modes})
        else:
            result["server"], result["modes"] = server.describe(), modes
    result["load_after"] = loadavg()
    if options.database:  # a preloaded province: leave it as it was loaded
        removed = remove_bench_intakes(url)
        print(f"Removed the {removed:,} dossiers this run received (and their rows).")
    print(f"\nload average before {load_before}, after {result['load_after']}; work dir {work}")
    for modes in [result["modes"], *(c["modes"] for c in result["compare"])]:
        for run in modes.values():
            for row in run["types"]:
                row.pop("codes", None)
    if options.compare_workers:
        print("\nCompared (req/s, p95 ms, CPU ms per request app+db+redis):")
        for c in result["compare"]:
            for name, run in c["modes"].items():
                for row in run["types"]:
                    cpu = row.get("cpu_ms") or run.get("cpu_ms_per_request") or {}
                    print(
                        f"  {c['server']:34s} {name:6s} {row['type']:16s} {row['rps']:8.1f} "
                        f"{row['p95_ms']:8.1f} "
                        f"{sum(cpu.get(k, 0) for k in ('app', 'db', 'redis')):7.2f}"
                    )
    if options.json:
        Path(options.json).write_text(json.dumps(result, indent=2, default=str))
    if not options.no_write and result["modes"] and not options.compare_workers:
        result["database_note"] = (
            "preloaded" if options.database else "the script's own small database"
        )
        result["busy_note"] = busy_note(result)
        write_section(SECTION, report_lines(result))
    shutil.rmtree(work, ignore_errors=True) if not failures else None
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
