#!/usr/bin/env python3
"""Benchmark: the worklist and its search at province scale, page against raw SQL, same run.

    python3 bench/generate.py --dossiers 10000000 --events --fresh   # load first (COPY)
    python3 bench/worklist.py                                        # then time

It reads the database ``bench/generate.py`` loaded (``--database-url``, default
``motcua_province``), migrates it (a new index is built here the first time), and times each
scenario below ``--repeat`` times, alternating:

* page: ``GET /dossiers/?…`` through Django's test client as a processing officer of the
  busiest district (its subtree: a ninth of the province) or as a manager of the province —
  middleware, session, every query (rows, quick-link counts, page count, units and fields of
  the filter form, the calendars of the time left) and the template;
* raw SQL: the statements a hand-written page needs for the same screen, on the same
  connection: the session and its user, the user's units, the filter form's units and fields,
  the calendar of the time left, the 25 rows with their procedure, field, unit and officer,
  the counts of the quick links and of the list (capped as the page caps them; a search is not
  counted, the page reads one row more than it shows).

Every scenario first checks that the page lists the rows the raw SQL returns, in the same order.
Then p50/p95 of each; the targets (issue 8): page p95 ≤ 200 ms and ≤ 2× the raw SQL's p95.
``--explain`` prints the plans of the raw statements. Figures go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

from common import in_virtualenv  # noqa: E402 - standard library only

in_virtualenv(__file__)

from common import machine, machine_line, percentile, setup_django, write_section  # noqa: E402

DEFAULT_URL = os.environ.get(
    "BENCH_PROVINCE_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/motcua_province"
)
SECTION = "## Worklist and search at province scale"
PAGE_TARGET, RATIO_TARGET = 0.200, 2.0
PAGE_SIZE = 25
CAP = 10_000
TO_DO = ("submitted", "received", "in_progress", "supplement_requested")
OPEN = ("received", "in_progress", "supplement_requested")

ROWS_SQL = """
SELECT d.code
FROM dossiers_dossier d
JOIN procedures_procedure p ON p.id = d.procedure_id
JOIN procedures_field f ON f.id = p.field_id
JOIN portal_unit u ON u.id = d.unit_id
LEFT JOIN auth_user a ON a.id = d.assigned_to_id
WHERE {where}
ORDER BY {order}
LIMIT %(limit)s OFFSET %(offset)s
"""
# The columns a row shows, fetched as the page fetches them (everything of the four tables).
ROWS_COLUMNS = "d.*, p.*, f.*, u.*, a.id, a.username, a.first_name, a.last_name"
OVERDUE = (
    "d.status IN ('received', 'in_progress', 'supplement_requested') AND d.due_at IS NOT NULL "
    "AND ((d.paused_at IS NOT NULL AND d.paused_at > d.due_at) "
    "OR (d.paused_at IS NULL AND d.due_at < %(now)s))"
)
TABS_SQL = f"""
SELECT count(*),
  count(*) FILTER (WHERE {OVERDUE}),
  count(*) FILTER (WHERE d.status = 'submitted'),
  count(*) FILTER (WHERE d.status = 'received'),
  count(*) FILTER (WHERE d.status = 'in_progress'),
  count(*) FILTER (WHERE d.status = 'supplement_requested')
FROM dossiers_dossier d
WHERE d.unit_id = ANY(%(units)s) AND d.status IN {TO_DO!r}
"""
RESOLVED_SQL = (
    "SELECT count(*) FROM (SELECT 1 FROM dossiers_dossier d "
    "WHERE d.unit_id = ANY(%(units)s) AND d.status = 'resolved' LIMIT %(cap)s) t"
)
ALL_SQL = (
    "SELECT count(*) FROM (SELECT 1 FROM dossiers_dossier d "
    "WHERE d.unit_id = ANY(%(units)s) LIMIT %(cap)s) t"
)
COUNT_SQL = (
    "SELECT count(*) FROM (SELECT 1 FROM dossiers_dossier d {joins} WHERE {where} LIMIT %(cap)s) t"
)
# What any page of the screen reads besides the dossiers: the session and its user, the user's
# units, the filter form's units and fields, and the calendar the time left is counted on.
PAGE_SQL = [
    "SELECT session_data FROM django_session WHERE session_key = %(session)s "
    "AND expire_date > now()",
    "SELECT * FROM auth_user WHERE id = %(user)s",
    "SELECT m.role, u.path FROM portal_membership m JOIN portal_unit u ON u.id = m.unit_id "
    "WHERE m.user_id = %(user)s",
]
FORM_SQL = [
    "SELECT id, code, name FROM portal_unit WHERE path LIKE %(path)s ORDER BY path",
    "SELECT code, name FROM procedures_field ORDER BY sort_order, name",
]
CALENDAR_SQL = (
    "SELECT * FROM procedures_calendarday WHERE date >= %(year_start)s AND date <= %(year_end)s"
)
DUE = "d.due_at ASC NULLS LAST, d.id ASC"
NEWEST = "d.received_at DESC, d.id DESC"


@dataclass
class Scenario:
    name: str
    who: str  # "district" officer, "province" manager
    query: dict[str, str]
    where: str  # the raw SQL's condition, beyond the unit subtree
    order: str
    params: dict = field(default_factory=dict)
    joins: str = ""
    page: int = 1
    path: str = "/dossiers/"
    worklist: bool = True  # False: the overdue page (every row, no counts, its own order)
    counted: bool = True  # False: a search, paged without a count (a row more than a page)


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--database-url", default=DEFAULT_URL)
    p.add_argument(
        "--repeat",
        type=int,
        default=50,
        help="rounds per scenario (default 50: a p95 of 20 moves with one slow sample)",
    )
    p.add_argument("--only", help="run the scenarios whose name contains this text")
    p.add_argument("--explain", action="store_true", help="print the raw statements' plans")
    p.add_argument("--no-write", action="store_true", help="do not update docs/benchmarks.md")
    p.add_argument(
        "--cache-url",
        default=os.environ.get("CACHE_URL", "redis://127.0.0.1:6379/13"),
        help="the shared cache, as in production (empty: each process its own, which turns "
        "off the catalogue each process keeps)",
    )
    return p.parse_args()


def pick_samples(district_ids: list[int]) -> dict[str, str]:
    """A dossier of the district received about two years ago: its code, phone and name."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            "SELECT code, applicant_phone, applicant_search, procedure_id, received_at "
            "FROM dossiers_dossier WHERE unit_id = ANY(%s) AND received_at < now() - "
            "interval '2 years' ORDER BY received_at DESC LIMIT 1",
            [district_ids],
        )
        code, phone, name, procedure_id, received_at = cur.fetchone()
        cur.execute("SELECT code FROM procedures_procedure WHERE id = %s", [procedure_id])
        procedure = cur.fetchone()[0]
    return {
        "code": code,
        "code_tail": code.split("-", 1)[1],  # "yymmdd-nnnn": the day and number, no agency
        "phone": phone,
        "name": name.strip(),
        "surname": name.split()[0],
        "procedure": procedure,
        "procedure_id": procedure_id,
        "month_from": received_at.date().replace(day=1).isoformat(),
        "month_to": received_at.date().replace(day=28).isoformat(),
    }


def words(key: str) -> str:
    """The full-text query the name search sends: every word, the last one as a prefix."""
    parts = key.split()
    return " & ".join([f"'{w}'" for w in parts[:-1]] + [f"'{parts[-1]}':*"])


def scenarios(s: dict[str, str]) -> list[Scenario]:
    code_like = "UPPER(d.code::text) LIKE UPPER(%(like)s)"
    phone_like = "d.applicant_phone::text LIKE %(like)s"
    name_like = "to_tsvector('simple', d.applicant_search) @@ to_tsquery('simple', %(words)s)"
    name_prefix = "d.applicant_search::text LIKE %(prefix)s"
    to_do = f"d.status IN {TO_DO!r}"
    return [
        Scenario("to do (the page as it opens)", "district", {}, to_do, DUE),
        Scenario("to do, page 4", "district", {"page": "4"}, to_do, DUE, page=4),
        Scenario("overdue", "district", {"timeliness": "overdue"}, OVERDUE, DUE),
        Scenario(
            "in progress", "district", {"status": "in_progress"}, "d.status = 'in_progress'", DUE
        ),
        Scenario("all, newest first", "district", {"scope": "all"}, "TRUE", NEWEST),
        Scenario(
            "all, page 40", "district", {"scope": "all", "page": "40"}, "TRUE", NEWEST, page=40
        ),
        Scenario(
            "search: whole code",
            "district",
            {"search": s["code"]},
            "d.code = %(code)s",
            NEWEST,
            {"code": s["code"]},
            counted=False,
        ),
        Scenario(
            "search: day and number (yymmdd-nnnn)",
            "district",
            {"search": s["code_tail"]},
            # The end of a code, by the index on the reversed code (migration 0014).
            "reverse(d.code::text) LIKE %(reversed)s",
            NEWEST,
            {"reversed": ("-" + s["code_tail"])[::-1] + "%"},
            counted=False,
        ),
        Scenario(
            "search: phone",
            "district",
            {"search": s["phone"]},
            f"({code_like} OR {phone_like})",
            NEWEST,
            {"like": f"%{s['phone']}%"},
            counted=False,
        ),
        Scenario(
            "search: full name without diacritics",
            "district",
            {"search": s["name"]},
            name_prefix,
            NEWEST,
            {"prefix": s["name"] + "%"},
            counted=False,
        ),
        Scenario(
            "search: surname only",
            "district",
            {"search": s["surname"]},
            name_like,
            NEWEST,
            {"words": words(s["surname"])},
            counted=False,
        ),
        Scenario(
            "filter: procedure and a month",
            "district",
            {
                "scope": "all",
                "procedure": s["procedure"],
                "received_from": s["month_from"],
                "received_to": s["month_to"],
            },
            # The code looked up first, as the page does (its catalogue): with the id, the
            # planner reads the procedure's share from its statistics.
            "d.procedure_id = %(procedure_id)s AND d.received_at >= %(from)s "
            "AND d.received_at < %(to)s",
            NEWEST,
            {"procedure_id": s["procedure_id"], "from": s["month_from"], "to": s["month_to"]},
        ),
        Scenario(
            "overdue page (district manager)",
            "manager",
            {},
            OVERDUE,
            DUE,
            path="/dossiers/overdue/",
            worklist=False,
        ),
        Scenario("province: to do", "province", {}, to_do, DUE),
        Scenario(
            "province: search full name",
            "province",
            {"search": s["name"]},
            name_prefix,
            NEWEST,
            {"prefix": s["name"] + "%"},
            counted=False,
        ),
    ]


def raw(
    cur, scenario: Scenario, units: list[int], now, who: dict, *, explain: bool = False
) -> list[str]:
    """The statements a hand-written page runs for ``scenario``; returns the rows' codes."""
    from django.utils import timezone

    now = timezone.now()  # as the page reads it: dossiers fall due while the benchmark runs
    params = {
        **who,
        "year_start": now.date().replace(month=1, day=1),
        "year_end": now.date().replace(month=12, day=31),
        "units": units,
        "now": now,
        "cap": CAP + 1,
        "limit": (PAGE_SIZE if scenario.counted else PAGE_SIZE + 1) if scenario.worklist else None,
        "offset": (scenario.page - 1) * PAGE_SIZE,
        **scenario.params,
    }
    if "from" in params:  # local days, as the page reads them
        from datetime import date, datetime, timedelta
        from zoneinfo import ZoneInfo

        tz = ZoneInfo("Asia/Ho_Chi_Minh")
        first, last = date.fromisoformat(params["from"]), date.fromisoformat(params["to"])
        params["from"] = datetime.combine(first, datetime.min.time(), tz)
        params["to"] = datetime.combine(last + timedelta(days=1), datetime.min.time(), tz)
    where = f"d.unit_id = ANY(%(units)s) AND ({scenario.where})"
    rows_sql = ROWS_SQL.format(where=where, order=scenario.order).replace(
        "SELECT d.code", f"SELECT d.code, {ROWS_COLUMNS}"
    )
    if scenario.joins:
        rows_sql = rows_sql.replace("WHERE", f"{scenario.joins}\nWHERE", 1)
    statements = [rows_sql, *PAGE_SQL, CALENDAR_SQL]
    if scenario.worklist:
        statements += FORM_SQL
    if scenario.worklist and scenario.counted:
        statements.append(COUNT_SQL.format(joins=scenario.joins, where=where))
    if scenario.worklist:
        statements += [TABS_SQL, RESOLVED_SQL, ALL_SQL]
    codes: list[str] = []
    for n, sql in enumerate(statements):
        if explain:
            cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            print(f"--- {scenario.name} [{n}]")
            print("\n".join(r[0] for r in cur.fetchall()))
        cur.execute(sql, params)
        result = cur.fetchall()
        if n == 0:
            codes = [r[0] for r in result]
            if scenario.worklist:
                codes = codes[:PAGE_SIZE]  # the row more than a page, for a search
    return codes


CODE_LINK = re.compile(r'<a class="code" href="/dossiers/([^/"]+)/"')


def page_codes(response, scenario: Scenario) -> list[str]:
    """The codes the page lists, read from its HTML (no test instrumentation of templates, so
    that rendering costs what it costs in production)."""
    if response.status_code != 200:
        sys.exit(f"{scenario.path} answered {response.status_code}")
    codes = CODE_LINK.findall(response.content.decode())
    return codes if scenario.worklist else sorted(codes)  # the overdue page: most late first


def staff_client(username: str, unit, role):
    from django.test import Client

    from portal.services import add_staff

    # Always: the account may exist from an earlier run, without this unit (add_staff adds it).
    user, _created = add_staff(username=username, unit=unit, role=role)
    client = Client()
    client.force_login(user)
    return client


def main() -> None:
    args = parse_args()
    os.environ.setdefault("SECURE_SSL_REDIRECT", "0")  # the test client speaks plain http
    os.environ["CACHE_URL"] = args.cache_url
    setup_django(args.database_url)
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count
    from django.utils import timezone

    from dossiers.models import Dossier
    from portal.choices import Role
    from portal.models import Unit

    started = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=1)
    migrate_seconds = time.perf_counter() - started
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]  # the test client's host
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    busiest = (
        Dossier.objects.filter(unit__level="commune")
        .values("unit__parent_id")
        .annotate(n=Count("id"))
        .order_by("-n")
        .values_list("unit__parent_id", flat=True)
        .first()
    )
    district = Unit.objects.get(pk=busiest)
    province = district.parent
    district_ids = list(
        Unit.objects.filter(path__startswith=district.path).values_list("pk", flat=True)
    )
    province_ids = list(Unit.objects.values_list("pk", flat=True))
    clients = {
        "district": staff_client("bench.worklist.chuyenvien", district, Role.PROCESSING_OFFICER),
        "manager": staff_client("bench.worklist.lanhdao", district, Role.MANAGER),
        "province": staff_client("bench.worklist.tinh", province, Role.MANAGER),
    }
    units = {"district": district_ids, "manager": district_ids, "province": province_ids}
    paths = {"district": district.path, "manager": district.path, "province": province.path}
    whos = {
        who: {
            "session": client.session.session_key,
            "user": int(client.session["_auth_user_id"]),
            "path": paths[who] + "%",
        }
        for who, client in clients.items()
    }
    samples = pick_samples(district_ids)
    chosen = [s for s in scenarios(samples) if not args.only or args.only in s.name]
    now = timezone.now()
    results = []
    with connection.cursor() as cur:
        for scenario in chosen:
            client = clients[scenario.who]
            expected = raw(
                cur, scenario, units[scenario.who], now, whos[scenario.who], explain=args.explain
            )
            if not scenario.worklist:
                expected.sort()
            got = page_codes(client.get(scenario.path, scenario.query), scenario)
            if got != expected:
                sys.exit(f"{scenario.name}: the page lists {got[:3]}…, the SQL {expected[:3]}…")
            runs: dict[str, list[float]] = {"raw": [], "page": []}
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                raw(cur, scenario, units[scenario.who], now, whos[scenario.who])
                t1 = time.perf_counter()
                page_codes(client.get(scenario.path, scenario.query), scenario)
                t2 = time.perf_counter()
                runs["raw"].append(t1 - t0)
                runs["page"].append(t2 - t1)
            results.append((scenario, len(expected), runs))
            print(
                f"{scenario.name:40} raw p95 {percentile(runs['raw'], 0.95) * 1000:6.1f} ms   "
                f"page p95 {percentile(runs['page'], 0.95) * 1000:6.1f} ms",
                flush=True,
            )
        cur.execute("SELECT count(*) FROM dossiers_dossier")
        total = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM dossiers_dossierevent")
        events = cur.fetchone()[0]
        cur.execute("SELECT pg_size_pretty(pg_total_relation_size('dossiers_dossier'))")
        size = cur.fetchone()[0]
    failed = [
        s.name
        for s, _n, runs in results
        if percentile(runs["page"], 0.95) > PAGE_TARGET
        or percentile(runs["page"], 0.95) > RATIO_TARGET * percentile(runs["raw"], 0.95)
    ]
    if not args.no_write:
        data = {
            "total": total,
            "events": events,
            "size": size,
            "district": district,
            "district_dossiers": Dossier.objects.filter(unit_id__in=district_ids).count(),
            "migrate": migrate_seconds,
        }
        write_doc(args, machine(), data, samples, results)
    if failed:
        print("targets not met:", ", ".join(failed))
        sys.exit(1)


def write_doc(args, m, data, samples, results) -> None:
    def ms(seconds: float) -> str:
        return f"{seconds * 1000:.0f} ms"

    district = data["district"]
    lines = [
        "",
        f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} with "
        f"`python3 bench/worklist.py --repeat {args.repeat}`.",
        "",
        machine_line(m),
        "",
        f"**Data:** {data['total']:,} dossiers and {data['events']:,} events "
        f"(dossier table {data['size']} with indexes), loaded by `bench/generate.py --events`; "
        f"the officer works at {district.name} ({district.code}, "
        f"{data['district_dossiers']:,} dossiers in its subtree), the manager at the province "
        "(all of them). The searched dossier was received two years ago: code "
        f"`{samples['code']}`, phone `{samples['phone']}`, name `{samples['name']}`.",
        "",
        "**Method:** each scenario first checks that the page lists the rows the raw SQL "
        f"returns, in order; then {args.repeat} rounds alternating raw SQL and page. The page "
        "is `GET /dossiers/?…` through Django's test client (session, every query, the "
        "template), with the shared cache in Redis as in production "
        f"({'`' + args.cache_url + '`' if args.cache_url else 'here: none'}); the raw SQL "
        "is what a hand-written page needs for the same screen: the "
        "session and its user, the user's units, the filter form's units and fields, the "
        "calendar of the time left, the 25 rows with procedure, field, unit and officer, "
        "the list's count (not for searches: the page reads one row more than it shows "
        "instead) and the quick links' counts "
        f"(counts stop at {CAP:,}, as the page's do).",
        "",
        "| scenario | rows | raw SQL p50 | raw SQL p95 | page p50 | page p95 | ≤ 200 ms | "
        "≤ 2× raw |",
        "|---|---:|---:|---:|---:|---:|:-:|:-:|",
    ]
    for scenario, n, runs in results:
        raw95, page95 = percentile(runs["raw"], 0.95), percentile(runs["page"], 0.95)
        lines.append(
            f"| {scenario.name} | {n} | {ms(statistics.median(runs['raw']))} | {ms(raw95)} | "
            f"{ms(statistics.median(runs['page']))} | {ms(page95)} | "
            f"{'met' if page95 <= PAGE_TARGET else '**not met**'} | "
            f"{'met' if page95 <= RATIO_TARGET * raw95 else '**not met**'} "
            f"({page95 / raw95:.1f}×) |"
        )
    lines.append("")
    write_section(SECTION, lines)


if __name__ == "__main__":
    main()
