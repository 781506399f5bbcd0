#!/usr/bin/env python3
"""Benchmark: the monthly report (Biểu số II.06a) and the manager's dashboard on millions of
dossiers, against one hand-written SQL query computing the same table, in the same run.

    python3 bench/generate.py --dossiers 5000000 --fresh   # load the data first (COPY)
    python3 bench/reports.py                               # then time, 5 repeats

It reads the database ``bench/generate.py`` loaded (default ``motcua_province``; override with
``--database-url`` or BENCH_REPORTS_DATABASE_URL), picks the district with most dossiers and
times, alternating, for the latest ended statutory month and the running one:

* baseline: one SQL statement computing by hand what the report returns — the form's cells
  (``COUNT(*) FILTER (WHERE …)`` per column over the dossiers of the subtree that touch the
  period, grouped by unit and field) and the satisfaction counts of the period's ratings, the
  two joined into one result;
* report: ``reports.selectors.monthly_statistics(unit=…, period=…, group_by="unit")`` as the page
  and the API call it (subtree, snapshot check, the grouped query, ratings, rows folded);
* dashboard: ``GET /dashboard/`` through Django's test client as the district's manager
  (every query and the template), status 200 checked.

Both the baseline and the report's totals are compared cell by cell before timing. Figures go to
stdout and to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

from common import in_virtualenv  # noqa: E402 - standard library only

in_virtualenv(__file__)

from common import machine, machine_line, setup_django, write_section  # noqa: E402

DEFAULT_URL = os.environ.get(
    "BENCH_REPORTS_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/motcua_province"
)
SECTION = "## Monthly report and dashboard"
REPORT_TARGET, REPORT_RATIO, DASHBOARD_TARGET = 0.5, 1.5, 1.0
MANAGER = "bench.lanhdao"

BASELINE_SQL = """
WITH cells AS (
SELECT d.unit_id, p.field_id,
  COUNT(*) FILTER (WHERE d.received_at >= %(s)s AND d.received_at < %(e)s
                   AND d.channel = 'online') AS received_online,
  COUNT(*) FILTER (WHERE d.received_at >= %(s)s AND d.received_at < %(e)s
                   AND d.channel = 'in_person') AS received_in_person,
  COUNT(*) FILTER (WHERE d.received_at >= %(s)s AND d.received_at < %(e)s
                   AND d.channel = 'postal') AS received_postal,
  COUNT(*) FILTER (WHERE d.received_at < %(s)s
                   AND (COALESCE(d.resolved_at, d.closed_at) IS NULL
                        OR COALESCE(d.resolved_at, d.closed_at) >= %(s)s)) AS carried_over,
  COUNT(*) FILTER (WHERE d.resolved_at >= %(s)s AND d.resolved_at < %(e)s
                   AND d.timeliness = 'early') AS resolved_early,
  COUNT(*) FILTER (WHERE d.resolved_at >= %(s)s AND d.resolved_at < %(e)s
                   AND d.timeliness = 'on_time') AS resolved_on_time,
  COUNT(*) FILTER (WHERE d.resolved_at >= %(s)s AND d.resolved_at < %(e)s
                   AND d.timeliness = 'late') AS resolved_late,
  COUNT(*) FILTER (WHERE d.received_at < %(a)s
                   AND (COALESCE(d.resolved_at, d.closed_at) IS NULL
                        OR COALESCE(d.resolved_at, d.closed_at) >= %(a)s)
                   AND NOT (d.due_at IS NOT NULL AND d.due_at < %(a)s
                            AND (d.paused_at IS NULL OR d.paused_at > d.due_at)))
    AS pending_in_time,
  COUNT(*) FILTER (WHERE d.received_at < %(a)s
                   AND (COALESCE(d.resolved_at, d.closed_at) IS NULL
                        OR COALESCE(d.resolved_at, d.closed_at) >= %(a)s)
                   AND d.due_at < %(a)s
                   AND (d.paused_at IS NULL OR d.paused_at > d.due_at)) AS pending_overdue,
  COUNT(*) FILTER (WHERE d.status IN ('withdrawn', 'stopped') AND d.received_at IS NOT NULL
                   AND d.closed_at >= %(s)s AND d.closed_at < %(e)s) AS withdrawn
FROM dossiers_dossier d JOIN procedures_procedure p ON p.id = d.procedure_id
WHERE d.unit_id = ANY(%(units)s) AND d.received_at < %(e)s
  AND (COALESCE(d.resolved_at, d.closed_at) IS NULL
       OR COALESCE(d.resolved_at, d.closed_at) >= %(s)s)
GROUP BY 1, 2
),
ratings AS (
SELECT d.unit_id, p.field_id, COUNT(*) AS ratings,
  COUNT(*) FILTER (WHERE r.score IN ('very_satisfied', 'satisfied')) AS satisfied
FROM dossiers_rating r JOIN dossiers_dossier d ON d.id = r.dossier_id
  JOIN procedures_procedure p ON p.id = d.procedure_id
WHERE r.created_at >= %(s)s AND r.created_at < %(e)s AND d.unit_id = ANY(%(units)s)
GROUP BY 1, 2
)
SELECT COALESCE(c.unit_id, r.unit_id), COALESCE(c.field_id, r.field_id),
  c.received_online, c.received_in_person, c.received_postal, c.carried_over,
  c.resolved_early, c.resolved_on_time, c.resolved_late, c.pending_in_time,
  c.pending_overdue, c.withdrawn, r.ratings, r.satisfied
FROM cells c FULL JOIN ratings r ON r.unit_id = c.unit_id AND r.field_id = c.field_id
"""
TABLE_CELLS = (
    "received_online",
    "received_in_person",
    "received_postal",
    "carried_over",
    "resolved_early",
    "resolved_on_time",
    "resolved_late",
    "pending_in_time",
    "pending_overdue",
    "withdrawn",
    "ratings",
    "satisfied",
)


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--database-url", default=DEFAULT_URL)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--no-write", action="store_true", help="do not update docs/benchmarks.md")
    p.add_argument(
        "--no-close",
        action="store_true",
        help="do not close the past statutory months first (the worker does it in production)",
    )
    return p.parse_args()


def baseline(unit_ids: list[int], period, as_of) -> dict[str, int]:
    """The table's totals from the hand-written query."""
    from django.db import connection
    from django.utils import timezone

    start, end = period.bounds(timezone.get_default_timezone())
    totals = dict.fromkeys(TABLE_CELLS, 0)
    with connection.cursor() as cur:
        cur.execute(BASELINE_SQL, {"s": start, "e": end, "a": min(end, as_of), "units": unit_ids})
        for row in cur.fetchall():
            for name, value in zip(TABLE_CELLS, row[2:], strict=True):
                totals[name] += value or 0
    return totals


def timed(fn, repeat: int) -> tuple[list[float], object]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return times, result


def data_summary(district) -> dict:
    from django.db import connection

    from dossiers.models import Dossier
    from portal.models import Unit

    subtree = Unit.objects.filter(path__startswith=district.path)
    with connection.cursor() as cur:
        cur.execute("SELECT pg_size_pretty(pg_total_relation_size('dossiers_dossier'))")
        size = cur.fetchone()[0]
    first, last = (
        Dossier.objects.order_by("received_at").values_list("received_at", flat=True).first(),
        Dossier.objects.filter(received_at__isnull=False)
        .order_by("-received_at")
        .values_list("received_at", flat=True)
        .first(),
    )
    return {
        "total": Dossier.objects.count(),
        "units": Unit.objects.count(),
        "subtree_units": subtree.count(),
        "district_dossiers": Dossier.objects.filter(unit__in=subtree).count(),
        "size": size,
        "first": first,
        "last": last,
    }


def manager_client(district):
    from django.test import Client

    from portal.choices import Role
    from portal.services import add_staff

    # Always: the account may exist from another run or benchmark, without this district.
    user, _created = add_staff(username=MANAGER, unit=district, role=Role.MANAGER)
    client = Client()  # host "testserver", which setup_test_environment() allows
    client.force_login(user)
    return client


def main() -> None:
    args = parse_args()
    os.environ.setdefault("SECURE_SSL_REDIRECT", "0")  # the test client speaks plain http
    setup_django(args.database_url)
    from django.db.models import Count
    from django.test.utils import setup_test_environment
    from django.utils import timezone

    from dossiers.models import Dossier
    from portal.models import Unit
    from reports.periods import month_period
    from reports.selectors import monthly_statistics

    setup_test_environment()  # the test client's host and template hooks
    from django.conf import settings

    # Pages render {% static %} without running collectstatic first (as the tests do).
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    now = timezone.now()
    closing = None
    if not args.no_close:  # as the worker's beat does: every past month frozen into a snapshot
        from reports.services import close_due_periods

        started = time.perf_counter()
        closed = close_due_periods(now=now)
        closing = (len(closed.closed), closed.already_closed, time.perf_counter() - started)
        print(f"closed {closing[0]} periods ({closing[1]} already) in {closing[2]:.1f} s")
    busiest = (
        Dossier.objects.values("unit__parent_id")
        .annotate(n=Count("id"))
        .order_by("-n")
        .values_list("unit__parent_id", flat=True)
        .first()
    )
    district = Unit.objects.get(pk=busiest)
    if district.level != "district":
        district = Unit.objects.filter(level="district").first()
    unit_ids = list(
        Unit.objects.filter(path__startswith=district.path).values_list("pk", flat=True)
    )
    data = data_summary(district)
    client = manager_client(district)
    current = month_period(timezone.localdate(now))
    results = []
    for period in (current.previous(), current):
        report = monthly_statistics(unit=district, period=period, group_by="unit", now=now)
        expected = baseline(unit_ids, period, now)
        got = {name: getattr(report.total, name) for name in TABLE_CELLS}
        if got != expected:
            sys.exit(f"the report and the baseline disagree for {period.key}: {got} != {expected}")
        runs: dict[str, list[float]] = {"baseline": [], "report": [], "dashboard": []}
        for _ in range(args.repeat):  # alternate, so that drift hits all three alike
            runs["baseline"] += timed(lambda p=period: baseline(unit_ids, p, now), 1)[0]
            runs["report"] += timed(
                lambda p=period: monthly_statistics(
                    unit=district, period=p, group_by="unit", now=now
                ),
                1,
            )[0]
            url = f"/dashboard/?unit={district.code}&period={period.key}"
            times, response = timed(lambda u=url: client.get(u), 1)
            if response.status_code != 200:
                sys.exit(f"{url} answered {response.status_code}")
            runs["dashboard"] += times
        results.append((period, report, runs))
        print(
            period.key,
            {k: f"median {statistics.median(v) * 1000:.0f} ms" for k, v in runs.items()},
        )
    if not args.no_write:
        write_doc(args, machine(), data, district, results, closing)


def write_doc(args, m, data, district, results, closing) -> None:
    def ms(seconds: float) -> str:
        return f"{seconds * 1000:.0f} ms"

    lines = [
        "",
        f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} with "
        f"`python3 bench/reports.py --repeat {args.repeat}`.",
        "",
        machine_line(m),
        "",
        f"**Data:** {data['total']:,} dossiers ({data['size']} with indexes) in {data['units']} "
        f"units, received {data['first']:%d/%m/%Y} – {data['last']:%d/%m/%Y} (loaded by "
        f"`bench/generate.py`); the district timed is {district.name} ({district.code}) with "
        f"{data['subtree_units'] - 1} communes and {data['district_dossiers']:,} dossiers.",
        "",
        (
            f"**Closing:** first, as the worker's beat would have done, every past statutory "
            f"month was closed into a snapshot: {closing[0]} periods in {closing[2]:.1f} s "
            f"({closing[1]} already closed). A closed month's report reads its snapshot and "
            "still computes the live figures to list corrections; the running month is live."
            if closing
            else "**Closing:** skipped (`--no-close`): every figure is computed live."
        ),
        "",
        "**Method:** per period, the report's totals are first checked equal to the baseline's; "
        f"then {args.repeat} rounds alternating baseline, report and dashboard; wall time in "
        "the client (the dashboard through Django's test client: middleware, every query, "
        "template).",
        "",
        "| period | baseline SQL (median) | monthly_statistics (median) | ratio | ≤ 500 ms | "
        "≤ 1.5× | dashboard page (median) | ≤ 1 s |",
        "|---|---:|---:|---:|:-:|:-:|---:|:-:|",
    ]
    for period, _report, runs in results:
        base = statistics.median(runs["baseline"])
        rep = statistics.median(runs["report"])
        dash = statistics.median(runs["dashboard"])
        ratio = rep / base if base else float("inf")
        lines.append(
            f"| {period.key} ({period.start:%d/%m} – {period.end:%d/%m/%Y}) | {ms(base)} | "
            f"{ms(rep)} | {ratio:.2f}× | {'met' if rep <= REPORT_TARGET else '**not met**'} | "
            f"{'met' if ratio <= REPORT_RATIO else '**not met**'} | {ms(dash)} | "
            f"{'met' if dash <= DASHBOARD_TARGET else '**not met**'} |"
        )
    lines.append("")
    for period, report, _runs in results:
        t = report.total
        lines.append(
            f"Report {period.key}: received {t.received:,} (online {t.received_online:,}, in "
            f"person {t.received_in_person:,}, postal {t.received_postal:,}, carried over "
            f"{t.carried_over:,}); resolved {t.resolved:,} (early {t.resolved_early:,}, on time "
            f"{t.resolved_on_time:,}, late {t.resolved_late:,}); pending {t.pending:,} (overdue "
            f"{t.pending_overdue:,}); withdrawn/stopped {t.withdrawn:,}."
        )
    lines.append("")
    write_section(SECTION, lines)


if __name__ == "__main__":
    main()
