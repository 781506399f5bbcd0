#!/usr/bin/env python3
"""Benchmark: the deadline sweep (dossiers.services.sweep.sweep_deadlines) against hand-written
SQL doing the same classification on the same data, in the same run, on PostgreSQL.

    python3 bench/sweep.py                      # 1,000,000 open dossiers, 3 repeats
    python3 bench/sweep.py --dossiers 100000    # quick
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/other python3 bench/sweep.py

The script creates (drops and re-creates) its own database (default ``motcua_bench``), migrates
it, loads a world with one set-based INSERT … SELECT FROM generate_series, then times, each
``--repeat`` times and alternating:

* baseline: two SQL statements, each ``WITH f AS (UPDATE dossiers_dossier … RETURNING …)
  INSERT INTO dossiers_dossierevent … SELECT … FROM f`` — the overdue flip (+ one event per
  flipped row) and the due-soon mark (+ one event per marked row), same WHERE clauses and same
  due-soon horizon as the sweep; no warnings;
* sweep: ``sweep_deadlines(now=…)`` as the worker calls it (flip, events, warnings via
  ``enqueue_message``, due-soon, heartbeat), with the time spent in each part.

Each run is inside a transaction that is rolled back (so every run sees the same data), followed
by VACUUM ANALYZE of the touched tables.  Figures go to stdout and to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

from common import in_virtualenv  # noqa: E402 - standard library only

in_virtualenv(__file__)

from common import create_database, machine, machine_line, setup_django, write_section  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/motcua_bench"

SECTION = "## Deadline sweep"


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dossiers", type=int, default=1_000_000)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--no-write", action="store_true", help="do not update docs/benchmarks.md")
    p.add_argument(
        "--sweep-cap",
        type=float,
        default=120.0,
        help="abort (and roll back) the full sweep after this many seconds",
    )
    p.add_argument("--keep", action="store_true", help="reuse the loaded database if it matches")
    p.add_argument(
        "--existing",
        metavar="DATABASE_URL",
        help="sweep a database bench/generate.py loaded (e.g. the 10M province) as it stands, "
        "--ahead-hours after now, instead of loading open dossiers",
    )
    p.add_argument("--ahead-hours", type=float, default=24.0)
    return p.parse_args()


def load_world(n: int, now) -> dict:
    """Units, staff, procedures by the ORM; n dossiers by one INSERT … SELECT."""
    from datetime import date

    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from portal.choices import Role, UnitLevel
    from portal.models import Membership, Unit
    from procedures.models import Field, Procedure

    User = get_user_model()
    with transaction.atomic():

        def unit(code, name, level, parent):
            u = Unit.objects.create(code=code, name=name, level=level, parent=parent)
            u.path = f"{parent.path if parent else '/'}{u.pk}/"
            Unit.objects.filter(pk=u.pk).update(path=u.path)
            return u

        province = unit("000.00.00.H99", "Tỉnh Bench", UnitLevel.PROVINCE, None)
        district = unit("000.00.01.H99", "Huyện Bench", UnitLevel.DISTRICT, province)
        communes = [
            unit(f"000.01.{i:02d}.H99", f"Xã Bench {i}", UnitLevel.COMMUNE, district)
            for i in range(1, 21)
        ]

        def user(username, at, role):
            u = User.objects.create(username=username, email=f"{username}@bench.example.vn")
            Membership.objects.create(user=u, unit=at, role=role)
            return u

        user("manager-province", province, Role.MANAGER)
        user("manager-district", district, Role.MANAGER)
        officers = []
        for i, c in enumerate(communes, 1):
            user(f"manager-c{i}", c, Role.MANAGER)
            officers += [user(f"officer-c{i}-{k}", c, Role.PROCESSING_OFFICER) for k in (1, 2)]

        field = Field.objects.create(code="bench", name="Bench")
        procedures = [
            Procedure.objects.create(
                code=f"BENCH.{k}",
                name=f"Thủ tục {k}",
                field=field,
                level="commune",
                time_limit_value=days,
                time_limit_unit="working_days",
            )
            for k, days in enumerate((1, 3, 5, 10, 15), 1)
        ]

    commune_ids = [c.pk for c in communes]
    officer_ids = [o.pk for o in officers]  # officer_ids[2*(c-1)+k]: officers of commune c
    proc_ids = [p.pk for p in procedures]
    # One statement. r1..r5: independent uniform randoms per row.
    #  status: 45% received, 50% in_progress, 5% supplement_requested (paused).
    #  channel: 60% in person, 35% online, 5% postal (with tracking no).
    #  received_at: uniform over the last 60 days; due_at = received_at + 3..15 days.
    #  Past due rows: ~76% already marked overdue by earlier sweeps, the rest (the backlog of,
    #  e.g., a worker that was down) not yet — about 20% of all dossiers.
    sql = """
    INSERT INTO dossiers_dossier (
        code, procedure_id, unit_id, channel, postal_tracking_no, applicant_name,
        applicant_id_number, applicant_phone, applicant_email, applicant_address,
        applicant_search, applicant_user_id, note, status, timeliness, submitted_at, received_at,
        received_by_id, assigned_to_id, due_at, deadline_trace, paused_at, promised_at,
        apology_reason, apologized_at, resolved_at, result_summary, returned_at, closed_at,
        close_reason, submission_key, due_soon_warned_at, digitized_intake, digitized_result,
        created_at, updated_at)
    SELECT
        'BENCH-' || lpad(g::text, 8, '0'),
        (%(procs)s::int[])[1 + (g %% cardinality(%(procs)s::int[]))],
        (%(units)s::int[])[1 + cu],
        ch, CASE WHEN ch = 'postal' THEN 'EB' || lpad(g::text, 9, '0') || 'VN' ELSE '' END,
        'Nguyễn Văn ' || g, lpad((g::bigint * 7919 %% 1000000000000)::text, 12, '0'),
        '09' || lpad((g %% 100000000)::text, 8, '0'), '', 'Thôn ' || (g %% 50), 'nguyen van ' || g,
        NULL, '', st,
        CASE WHEN due < %(now)s AND r5 < 0.765 THEN 'overdue' ELSE 'in_time' END,
        CASE WHEN ch = 'online' THEN rec - interval '1 hour' END, rec,
        NULL,
        CASE WHEN st = 'received' THEN NULL
             ELSE (%(officers)s::int[])[1 + 2 * cu + (g %% 2)] END,
        due, '[]'::jsonb,
        CASE WHEN st = 'supplement_requested' THEN rec + interval '1 day' END, NULL,
        '', NULL, NULL, '', NULL, NULL, '', '', NULL, ch <> 'online', false, rec, rec
    FROM (
        SELECT g, cu, rec, rec + (3 + 12 * r3) * interval '1 day' AS due, r5,
               CASE WHEN r1 < 0.05 THEN 'supplement_requested'
                    WHEN r1 < 0.50 THEN 'received' ELSE 'in_progress' END AS st,
               CASE WHEN r2 < 0.60 THEN 'in_person' WHEN r2 < 0.95 THEN 'online'
                    ELSE 'postal' END AS ch
        FROM (
            SELECT g, (g %% 20) AS cu, random() AS r1, random() AS r2, random() AS r3,
                   random() AS r5, %(now)s - random() * interval '60 days' AS rec
            FROM generate_series(1, %(n)s) AS g
        ) raw
    ) s
    """
    t = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute("SELECT setseed(0.42)")
        cur.execute(
            sql,
            {"procs": proc_ids, "units": commune_ids, "officers": officer_ids, "now": now, "n": n},
        )
    insert_s = time.perf_counter() - t
    t = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE dossiers_dossier")
    vacuum_s = time.perf_counter() - t
    return {"insert_s": insert_s, "vacuum_s": vacuum_s, "date": date.today()}


def shape(now, horizon) -> dict:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            """
            SELECT count(*),
                   count(*) FILTER (WHERE paused_at IS NOT NULL),
                   count(*) FILTER (WHERE due_at < %(now)s),
                   count(*) FILTER (WHERE due_at < %(now)s AND timeliness <> 'overdue'
                                      AND paused_at IS NULL AND status IN {OPEN}),
                   count(*) FILTER (WHERE due_at >= %(now)s AND due_at <= %(h)s
                                      AND paused_at IS NULL AND due_soon_warned_at IS NULL
                                      AND status IN {OPEN}),
                   count(*) FILTER (WHERE channel = 'online'),
                   count(*) FILTER (WHERE channel = 'postal'),
                   count(*) FILTER (WHERE assigned_to_id IS NOT NULL),
                   pg_size_pretty(pg_total_relation_size('dossiers_dossier'))
            FROM dossiers_dossier
            """.replace("{OPEN}", "('received', 'in_progress', 'supplement_requested')"),
            {"now": now, "h": horizon},
        )
        keys = (
            "total",
            "paused",
            "past_due",
            "to_flip",
            "to_warn_due_soon",
            "online",
            "postal",
            "assigned",
            "table_size",
        )
        return dict(zip(keys, cur.fetchone(), strict=True))


BASELINE_SQL = """
WITH f AS (
    UPDATE dossiers_dossier SET {set_sql}
    WHERE status IN ('received', 'in_progress', 'supplement_requested')
      AND paused_at IS NULL AND due_at IS NOT NULL AND {where_sql}
    RETURNING id, status, due_at
)
INSERT INTO dossiers_dossierevent (dossier_id, at, by_id, action, from_status, to_status, note,
                                   data)
SELECT id, %(now)s, NULL, '{action}', status, status, '',
       jsonb_build_object('due_at', to_char(due_at AT TIME ZONE 'UTC',
                                            'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'))
FROM f
"""


def run_baseline(now, horizon) -> dict:
    from django.db import connection

    out = {}
    with connection.cursor() as cur:
        t = time.perf_counter()
        cur.execute(
            BASELINE_SQL.format(
                set_sql="timeliness = 'overdue', updated_at = %(now)s",
                where_sql="due_at < %(now)s AND timeliness <> 'overdue'",
                action="overdue",
            ),
            {"now": now},
        )
        out["overdue"] = cur.rowcount
        out["t_overdue"] = time.perf_counter() - t
        t = time.perf_counter()
        cur.execute(
            BASELINE_SQL.format(
                set_sql="due_soon_warned_at = %(now)s",
                where_sql="due_soon_warned_at IS NULL AND due_at >= %(now)s AND due_at <= %(h)s",
                action="due_soon",
            ),
            {"now": now, "h": horizon},
        )
        out["due_soon"] = cur.rowcount
        out["t_due_soon"] = time.perf_counter() - t
    return out


class Capped(Exception):
    pass


def _warn_bulk(rows, *, kind, now):
    """PROTOTYPE (bench only, not app code): the sweep's _warn with the same recipients, subjects
    and bodies, but all messages inserted by bulk_create(ignore_conflicts=True) in batches."""
    from django.db import transaction
    from django.utils import formats, timezone, translation
    from django.utils.translation import gettext as _

    from dossiers.choices import Action
    from dossiers.services import sweep as mod
    from portal import services as portal_services
    from portal.models import OutboxMessage

    recipients = mod._recipients(rows)
    messages = []
    with translation.override("vi"):
        if kind == Action.OVERDUE:
            subject_t = _("Overdue: dossier %(code)s")
            body_t = _("Dossier %(code)s passed its due time %(due)s and is now overdue.")
        else:
            subject_t = _("Due soon: dossier %(code)s")
            body_t = _("Dossier %(code)s is due at %(due)s: less than a working day is left.")
        for row in rows:
            due = formats.date_format(timezone.localtime(row.due_at), "H:i d/m/Y")
            subject = (subject_t % {"code": row.code})[:200]
            body = body_t % {"code": row.code, "due": due}
            for user_id, email in sorted(recipients[row.id]):
                messages.append(
                    OutboxMessage(
                        channel="email",
                        recipient=email,
                        subject=subject,
                        body=body,
                        key=f"{kind}:{row.id}:{user_id}"[:120],
                        reference=row.code[:64],
                    )
                )
    OutboxMessage.objects.bulk_create(messages, batch_size=5000, ignore_conflicts=True)
    if messages:
        transaction.on_commit(portal_services._ask_for_delivery)
    return len(messages)


def run_sweep(now, variant="as-is", cap=None) -> dict:
    """sweep_deadlines(now=…), with its helpers wrapped to see where the time goes.
    variant: 'as-is'; 'no-warnings' (_warn replaced by a no-op: flip + events only);
    'bulk-warnings' (_warn replaced by the _warn_bulk prototype)."""
    import signal

    from dossiers.services import sweep as mod

    parts: dict[str, float] = {}
    originals = {}

    def wrap(name, label):
        fn = getattr(mod, name)
        originals.setdefault(name, fn)  # keep the true original when a variant replaced it

        def timed(*args, **kwargs):
            t = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                parts[label] = parts.get(label, 0.0) + time.perf_counter() - t

        setattr(mod, name, timed)

    if variant == "no-warnings":
        originals["_warn"] = mod._warn
        mod._warn = lambda rows, *, kind, now: 0
    elif variant == "bulk-warnings":
        originals["_warn"] = mod._warn
        mod._warn = _warn_bulk
    for name, label in (
        ("_update_returning", "update…returning (both)"),
        ("_record", "events bulk_create (both)"),
        ("_warn", "warnings _warn (both)"),
        ("_due_soon_horizon", "due-soon horizon"),
        ("record_heartbeat", "heartbeat"),
    ):
        wrap(name, label)

    def on_alarm(signum, frame):
        raise Capped()

    if cap:
        signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, cap)
    t = time.perf_counter()
    try:
        result = mod.sweep_deadlines(now=now)
    except Capped:
        return {
            "total": time.perf_counter() - t,
            "parts": parts,
            "capped": True,
            "overdue": None,
            "due_soon": None,
            "warnings": None,
        }
    finally:
        if cap:
            signal.setitimer(signal.ITIMER_REAL, 0)
        for name, fn in originals.items():
            setattr(mod, name, fn)
    total = time.perf_counter() - t
    return {
        "capped": False,
        "total": total,
        "parts": parts,
        "overdue": result.overdue,
        "due_soon": result.due_soon,
        "warnings": result.warnings,
    }


def rolled_back(fn, *args, **kwargs):
    """Run fn in a transaction, count what it wrote, roll back, VACUUM ANALYZE."""
    from django.db import connection, transaction

    with transaction.atomic():
        t = time.perf_counter()
        out = fn(*args, **kwargs)
        out["wall"] = time.perf_counter() - t
        if out.get("capped"):
            out["events"] = out["messages"] = None
        else:
            with connection.cursor() as cur:
                cur.execute(
                    "SELECT (SELECT count(*) FROM dossiers_dossierevent),"
                    " (SELECT count(*) FROM portal_outboxmessage)"
                )
                out["events"], out["messages"] = cur.fetchone()
        transaction.set_rollback(True)
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE dossiers_dossier, dossiers_dossierevent, portal_outboxmessage")
    return out


def fmt(s: float) -> str:
    return f"{s:.2f} s"


PROVINCE_SECTION = "## Deadline sweep at province scale"


def main_existing(args) -> None:
    """The sweep on a loaded province (most dossiers finished years ago), run as if the worker
    woke ``--ahead-hours`` from now: what it flips and warns is what a day brings."""
    from datetime import timedelta

    setup_django(args.existing)
    from django.utils import timezone

    from dossiers.services.sweep import _due_soon_horizon

    now = timezone.now().replace(microsecond=0) + timedelta(hours=args.ahead_hours)
    horizon = _due_soon_horizon(now)
    data = shape(now, horizon)
    print("data:", data, flush=True)
    runs: dict[str, list[dict]] = {"baseline": [], "as-is": []}
    for i in range(args.repeat):
        runs["baseline"].append(rolled_back(run_baseline, now, horizon))
        runs["as-is"].append(rolled_back(run_sweep, now, variant="as-is"))
        b, a = runs["baseline"][-1], runs["as-is"][-1]
        assert (a["overdue"], a["due_soon"], a["events"]) == (
            b["overdue"],
            b["due_soon"],
            b["events"],
        ), (a, b)
        print(f"[{i + 1}/{args.repeat}] baseline {fmt(b['wall'])}, sweep {fmt(a['wall'])} "
              f"(overdue {a['overdue']}, due-soon {a['due_soon']}, warnings {a['warnings']})",
              flush=True)  # fmt: skip
    if args.no_write:
        return
    m = machine()
    base = statistics.median(r["wall"] for r in runs["baseline"])
    sweep = statistics.median(r["wall"] for r in runs["as-is"])
    a = runs["as-is"][0]
    write_section(
        PROVINCE_SECTION,
        [
            "",
            f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} with "
            f"`python3 bench/sweep.py --existing <province database> --ahead-hours "
            f"{args.ahead_hours:g} --repeat {args.repeat}`.",
            "",
            machine_line(m),
            "",
            f"**Data:** the province loaded by `bench/generate.py` ({data['total']:,} dossiers, "
            f"table {data['table_size']}); swept as if the worker woke {args.ahead_hours:g} h "
            f"from now: {data['to_flip']:,} dossiers to flip overdue, "
            f"{data['to_warn_due_soon']:,} to warn as due soon. Each run in a transaction rolled "
            "back, then VACUUM ANALYZE; the counts of flips, warnings and events checked equal.",
            "",
            "| | median | runs |",
            "|---|---:|---:|",
            f"| baseline SQL (flip + events, due-soon + events) | {fmt(base)} | "
            f"{len(runs['baseline'])} |",
            f"| `sweep_deadlines` (flip, events, warnings to the outbox, due-soon, heartbeat) | "
            f"{fmt(sweep)} ({sweep / base:.2f}×) | {len(runs['as-is'])} |",
            "",
            f"The sweep flipped {a['overdue']:,}, warned {a['due_soon']:,} as due soon and "
            f"queued {a['warnings']:,} grouped warnings. Its cost follows the open dossiers, "
            "not the table: the (status, due_at) index finds them among the finished ones.",
            "",
        ],
    )


def main() -> None:
    args = parse_args()
    if args.existing:
        main_existing(args)
        return
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    if not args.keep:
        create_database(url)
    setup_django(url)
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from dossiers.services.sweep import _due_soon_horizon

    now = timezone.now().replace(microsecond=0)
    t = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute("SELECT to_regclass('dossiers_dossier') IS NOT NULL")
        exists = cur.fetchone()[0]
    loaded = None
    if args.keep and exists:
        with connection.cursor() as cur:
            cur.execute("SELECT count(*), max(created_at) FROM dossiers_dossier")
            count, last = cur.fetchone()
        if count == args.dossiers:
            # Reuse: 'now' must be the one the data was generated against, roughly.
            now = last.replace(microsecond=0)
            loaded = {"insert_s": float("nan"), "vacuum_s": float("nan")}
            print(f"reusing {count} dossiers")
        else:
            create_database(url)
            connection.close()
    if loaded is None:
        call_command("migrate", verbosity=0)
        migrate_s = time.perf_counter() - t
        print(f"migrated in {fmt(migrate_s)}; loading {args.dossiers:,} dossiers…", flush=True)
        loaded = load_world(args.dossiers, now)
        print(
            f"loaded: INSERT…SELECT {fmt(loaded['insert_s'])}, "
            f"VACUUM ANALYZE {fmt(loaded['vacuum_s'])}",
            flush=True,
        )

    horizon = _due_soon_horizon(now)
    data = shape(now, horizon)
    print("data:", data, flush=True)

    def show(label, r):
        if r.get("capped"):
            print(
                f"    {label:14} ABORTED after {fmt(r['wall'])} (cap), rolled back; "
                + ", ".join(f"{k} {v:.2f}s" for k, v in r["parts"].items()),
                flush=True,
            )
            return
        parts = ", ".join(f"{k} {v:.2f}s" for k, v in r.get("parts", {}).items())
        print(
            f"    {label:14} {fmt(r['wall'])}  (overdue {r['overdue']}, due-soon "
            f"{r['due_soon']}, events {r['events']}, messages {r['messages']}"
            + (f"; {parts}" if parts else "")
            + ")",
            flush=True,
        )

    runs = {"baseline": [], "no-warnings": [], "bulk-warnings": [], "as-is": []}
    for i in range(args.repeat):
        print(f"[{i + 1}/{args.repeat}]", flush=True)
        runs["baseline"].append(rolled_back(run_baseline, now, horizon))
        show("baseline", runs["baseline"][-1])
        runs["no-warnings"].append(rolled_back(run_sweep, now, variant="no-warnings"))
        show("no-warnings", runs["no-warnings"][-1])
        runs["bulk-warnings"].append(rolled_back(run_sweep, now, variant="bulk-warnings"))
        show("bulk-warnings", runs["bulk-warnings"][-1])
    # The sweep as it is: once, aborted after --sweep-cap seconds if it has not finished.
    asis_n = args.repeat if args.sweep_cap <= 0 else 1
    for _i in range(asis_n):
        runs["as-is"].append(
            rolled_back(
                run_sweep, now, variant="as-is", cap=args.sweep_cap if args.sweep_cap > 0 else None
            )
        )
        show("as-is", runs["as-is"][-1])

    b0 = runs["baseline"][0]
    for name in ("no-warnings", "bulk-warnings", "as-is"):
        for r in runs[name]:
            if not r.get("capped"):
                assert (r["overdue"], r["due_soon"], r["events"]) == (
                    b0["overdue"],
                    b0["due_soon"],
                    b0["events"],
                ), (name, r, b0)

    med_b = statistics.median(r["wall"] for r in runs["baseline"])
    table = []
    for name, label in (
        ("baseline", "baseline SQL (flip + events)"),
        ("as-is", "sweep_deadlines as is"),
        ("no-warnings", "sweep, warnings stubbed out"),
        ("bulk-warnings", "sweep, bulk-insert warnings (prototype)"),
    ):
        rs = runs[name]
        walls = [r["wall"] for r in rs]
        capped = any(r.get("capped") for r in rs)
        md = statistics.median(walls)
        warn = (
            statistics.median(r["parts"].get("warnings _warn (both)", 0) for r in rs)
            if name != "baseline"
            else None
        )
        table.append(
            {
                "name": label,
                "n": len(rs),
                "min": min(walls),
                "median": md,
                "capped": capped,
                "ratio": md / med_b,
                "warn": warn,
                "messages": rs[-1].get("messages"),
                "ok30": (not capped) and md <= 30,
                "ok2x": (not capped) and md / med_b <= 2,
            }
        )
    print()
    print(f"{'':42} {'runs':>4} {'min':>9} {'median':>9} {'ratio':>7} {'≤30s':>5} {'≤2x':>5}")
    for t in table:
        mark = ">" if t["capped"] else ""
        print(
            f"{t['name']:42} {t['n']:>4} {mark + fmt(t['min']):>9} {mark + fmt(t['median']):>9}"
            f" {mark + format(t['ratio'], '.2f') + 'x':>7}"
            f" {'' if t['name'].startswith('baseline') else ('yes' if t['ok30'] else 'NO'):>5}"
            f" {'' if t['name'].startswith('baseline') else ('yes' if t['ok2x'] else 'NO'):>5}"
        )
    if not args.no_write:
        write_doc(args, machine(), data, loaded, runs, table, now)


def write_doc(args, m, data, loaded, runs, table, now) -> None:
    b0 = runs["baseline"][0]
    asis = runs["as-is"][0]
    lines = [
        SECTION,
        "",
        f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} with "
        f"`python3 bench/sweep.py --dossiers {args.dossiers} --repeat {args.repeat} "
        f"--sweep-cap {args.sweep_cap:g}`.",
        "",
        f"**Machine:** {m['nproc']} cores ({m['cpu']}), {m['ram_gb']} GB RAM, PostgreSQL "
        f"{m['pg']} (shared_buffers {m['shared_buffers']}, work_mem {m['work_mem']}, default "
        f"configuration), Python {m['python']}, client and server on the same machine.",
        "",
        "**Data:** "
        f"{data['total']:,} open dossiers ({data['table_size']} with indexes) in 20 communes "
        f"under one district and one province; 5 procedures; 45% received / 50% in progress / "
        f"5% awaiting supplement (paused: {data['paused']:,}); channels in person 60%, online "
        f"{data['online']:,}, postal {data['postal']:,}; received_at uniform over the last 60 "
        f"days, due_at = received_at + 3–15 days; past due {data['past_due']:,}, of which "
        f"**{data['to_flip']:,} running and not yet marked overdue** (the rest already marked); "
        f"{data['to_warn_due_soon']:,} due within the next working day and not yet warned; "
        f"{data['assigned']:,} assigned to one of 40 officers. Each commune, the district and "
        f"the province has a manager with an e-mail address, so an overdue dossier warns 3 "
        f"managers + its officer. Loaded with one `INSERT … SELECT … FROM generate_series` in "
        f"{loaded['insert_s']:.1f} s (+ VACUUM ANALYZE {loaded['vacuum_s']:.1f} s).",
        "",
        "**Method:** each run is its own transaction on the same data and is rolled back, "
        "then `VACUUM ANALYZE`; wall time in the client. Per repetition: baseline, sweep with "
        "warnings stubbed out, sweep with the bulk-warnings prototype; then the sweep as it is, "
        f"once, aborted (and rolled back) after {args.sweep_cap:g} s if not finished.",
        "",
        "* *Baseline SQL* — two statements `WITH f AS (UPDATE dossiers_dossier SET timeliness = "
        "'overdue', updated_at = now WHERE status IN (open) AND paused_at IS NULL AND due_at IS "
        "NOT NULL AND due_at < now AND timeliness <> 'overdue' RETURNING id, status, due_at) "
        "INSERT INTO dossiers_dossierevent … SELECT … FROM f`, and the same for due-soon "
        "(`SET due_soon_warned_at = now WHERE … due_soon_warned_at IS NULL AND due_at BETWEEN "
        "now AND horizon`, horizon from the sweep's own `_due_soon_horizon`). Flip + one event "
        "per changed row, nothing else; no warnings.",
        "* *sweep_deadlines as is* — `dossiers.services.sweep.sweep_deadlines(now=…)`: advisory "
        "lock, the same two `UPDATE … RETURNING` (rows fetched into Python), `bulk_create` of "
        "the events, warnings via `portal.services.enqueue_message` (one `INSERT … ON "
        "CONFLICT DO NOTHING RETURNING` per recipient), heartbeat. Helpers wrapped with timers "
        "to split the time.",
        "* *warnings stubbed out* — the same call with `_warn` replaced by a no-op: exactly the "
        "baseline's work (flip + events) done the application's way.",
        "* *bulk-insert warnings (prototype)* — `_warn` replaced by a bench-only function "
        "building the same messages (same recipients, keys, subjects, bodies) and inserting "
        "them with `OutboxMessage.objects.bulk_create(batch_size=5000, ignore_conflicts=True)` "
        "— an experiment to see whether the per-message round trips are the cost "
        "(they are not: see the analysis); not app code.",
        "",
        "| | runs | min | median | vs baseline | warnings part (median) | ≤ 30 s | ≤ 2× |",
        "|---|---:|---:|---:|---:|---:|:-:|:-:|",
    ]
    for t in table:
        gt = "> " if t["capped"] else ""
        base = t["name"].startswith("baseline")
        lines.append(
            f"| {t['name']} | {t['n']} | {gt}{t['min']:.2f} s | {gt}{t['median']:.2f} s | "
            f"{gt}{t['ratio']:.2f}× | "
            f"{'' if t['warn'] is None else format(t['warn'], '.2f') + ' s'} | "
            f"{'' if base else ('met' if t['ok30'] else '**not met**')} | "
            f"{'' if base else ('met' if t['ok2x'] else '**not met**')} |"
        )
    lines += [
        "",
        f"Work per run: {b0['overdue']:,} dossiers flipped overdue, {b0['due_soon']:,} marked "
        f"due-soon, {b0['events']:,} events; the sweep also queues one e-mail per recipient "
        f"({runs['bulk-warnings'][0]['messages']:,} messages).",
        "",
    ]
    if asis.get("capped"):
        parts = ", ".join(f"{k} {v:.1f} s" for k, v in asis["parts"].items())
        lines += [
            f"The sweep as it is did not finish within the {args.sweep_cap:g} s cap ({parts} "
            "when aborted): it queues the warnings one message at a time.",
            "",
        ]
    write_section(SECTION, lines[1:])


if __name__ == "__main__":
    main()
