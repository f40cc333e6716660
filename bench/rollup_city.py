"""A city's whole day dirty: the hourly refresh rebuilds every community's rollups, timed.

Issue 16 (part 4): rebuilding the dirty (community, day) pairs of a whole day of a city
(every community dirty: 2.24 M drops by default) should take ≤ 10 s on this machine. On a
scratch database (created and migrated like citygen's, dropped at the end unless `--keep`;
`--reuse` measures again on a kept one) it writes with citygen's bulk loader:

    city         `--communities` (10 per street, 10 streets per district: 10 districts for
                 1,000), their managers, stewards, stations with the default windows and
                 their schedule history (`stations.manage.services.start_history`)
    households   `--households`, each with its moving-in `household_event` (2 % moved out
                 before the day, with their moving-out event), all created days earlier
    shifts       one per station window, yesterday and today, most checked in
    drops        ≈ `--drops` on yesterday (citygen's `DropMaker`, several passes so that a
                 household can drop more than one trip a day), stored in arrival order
                 (PostgreSQL: CLUSTER on received_at) as a real day's are; nothing today

then, as the scheduler runs them (`scheduler.runner.run_period` with the registry's jobs):

    nightly      `ratings.rollups` for yesterday (`ratings.jobs.roll_up_day`, all communities)
    refresh      `--runs` times: every community's yesterday marked dirty
                 (`dirty.services.mark(…, "drops", …)`), then `ratings.refresh`
                 (`ratings.jobs.refresh_dirty`), which must rebuild every one of them

Prints the seconds, the statements of the last refresh by total time (wall time per
statement, summed over the connections of the run) and, on PostgreSQL, `EXPLAIN (ANALYZE,
BUFFERS)` of the slowest ones (run in a transaction rolled back). A fingerprint of the
day's rollup rows (md5 of every row, per table) is printed and compared between the
nightly build and every refresh: they must be equal.

    .venv/bin/python bench/rollup_city.py --json /tmp/rollup_city.json
    .venv/bin/python bench/rollup_city.py --keep ...; ... --reuse --runs 3   # measure again
    .venv/bin/python bench/rollup_city.py --url /tmp/bench_rollup.db --drops 224000

Not part of `make test`.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import sys
import threading
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import citygen  # noqa: E402  (bench/citygen.py: loader, city, drop maker, shifts)
from citygen import TZ, Loader  # noqa: E402
from dirty_day import load_drops, station_history  # noqa: E402

TARGET_S = 10.0
ROLLUP_TABLES = ("rollup_station_day", "rollup_hour_day", "rollup_building_day",
                 "rollup_community_day", "rollup_coverage_day")


def generate(url: str, args: argparse.Namespace, now: datetime) -> dict[str, Any]:
    """The city, its households with their events, shifts and yesterday's drops."""
    t0 = time.perf_counter()
    citygen.create(url)
    db = Loader(url)
    zone = ZoneInfo(TZ)
    today = now.astimezone(zone).date()
    yesterday = today - timedelta(days=1)
    created = now - timedelta(days=5)  # everything exists well before the day
    city = citygen.build_city(db, argparse.Namespace(
        communities=args.communities, households=args.households, seed=args.seed), created)
    rng = random.Random(f"{args.seed}:events")
    rows = db.conn.execute(
        "SELECT id, community_id, members, status FROM household ORDER BY id").fetchall()
    events: list[tuple[Any, ...]] = []
    for hid, cid, members, status in rows:
        events.append((len(events) + 1, hid, cid, db.ts(created), "active", members,
                       db.ts(created), None))
        if status == "moved_out":  # moved out before the day
            out = created + timedelta(hours=rng.uniform(1, 48))
            events.append((len(events) + 1, hid, cid, db.ts(out), "moved_out", members,
                           db.ts(out), None))
    db.insert("household_event", ("id", "household_id", "community_id", "effective_at",
                                  "status", "members", "recorded_at", "recorded_by"), events)
    db.commit()
    n_shifts, n_checkins = citygen.shifts(db, city, [yesterday, today], args.seed, now)
    db.commit()
    t = time.perf_counter()
    rebuild = db.drop_indexes()
    drops = load_drops(db, city, [yesterday], float(args.drops), args.seed)
    drops_s = time.perf_counter() - t
    for sql in rebuild:
        db.conn.execute(sql)
    db.commit()
    if not db.sqlite:
        # The generator writes community by community; a real day's drops arrive in time
        # order, each community's scattered over the whole day's pages: store them so.
        db.conn.execute("CREATE INDEX tmp_arrival ON drop_record (received_at)")
        db.commit()
        # CLUSTER of a partitioned table runs outside a transaction block only.
        db.conn.autocommit = True
        try:
            db.conn.execute("CLUSTER drop_record USING tmp_arrival")
        finally:
            db.conn.autocommit = False
        db.conn.execute("DROP INDEX tmp_arrival")
        db.commit()
    db.fix_sequences(("area", "account", "role_grant", "steward", "household",
                      "household_event", "station", "station_window", "shift",
                      "shift_assignment"))
    db.close(analyze=True)
    from community.db import make_engine

    engine = make_engine(url)
    station_history(engine)
    engine.dispose()
    got = {"communities": len(city.communities), "districts": len(city.districts),
           "households": city.households, "events": len(events), "shifts": n_shifts,
           "check_ins": n_checkins, "drops": drops, "drops_s": drops_s,
           "generate_s": time.perf_counter() - t0}
    print(f"  generated in {got['generate_s']:.0f} s: {got['communities']:,} communities in "
          f"{got['districts']} districts, {got['households']:,} households ({len(events):,} "
          f"events), {n_shifts:,} shifts ({n_checkins:,} check-ins), {drops:,} drops on "
          f"{yesterday} ({drops / drops_s:,.0f} rows/s)", flush=True)
    return got


class StatementTimer:
    """Wall time per SQL statement text while `on`; thread-safe (one stack per thread)."""

    def __init__(self, engine: Any) -> None:
        from sqlalchemy import event

        self.on = False
        self.times: dict[str, list[float]] = defaultdict(list)
        self.full: dict[str, tuple[float, str, Any]] = {}
        self._local = threading.local()
        self._lock = threading.Lock()

        @event.listens_for(engine, "before_cursor_execute")
        def _before(*_a: Any) -> None:
            self._local.__dict__.setdefault("t0", []).append(time.perf_counter())

        @event.listens_for(engine, "after_cursor_execute")
        def _after(_conn: Any, _cur: Any, statement: str, params: Any, *_a: Any) -> None:
            t = time.perf_counter() - self._local.t0.pop()
            if not self.on:
                return
            key = " ".join(statement.split())[:120]
            with self._lock:
                self.times[key].append(t)
                if t > self.full.get(key, (0.0, "", None))[0]:
                    self.full[key] = (t, statement, params)

    def reset(self) -> None:
        """Forget what was recorded."""
        self.times.clear()
        self.full.clear()

    def top(self, n: int = 12) -> list[tuple[float, int, str]]:
        """(seconds, calls, statement), slowest first."""
        return sorted(((sum(v), len(v), k) for k, v in self.times.items()), reverse=True)[:n]


def backend_cpu(url: str, backend: str) -> dict[int, float]:
    """CPU seconds (user + system) so far of every PostgreSQL backend of the database, from
    /proc (the server runs on this host); {} on SQLite or when /proc cannot tell."""
    if backend != "postgresql":
        return {}
    import psycopg

    _server, name = citygen.pg_server_and_name(url)
    with psycopg.connect(citygen.pg_dsn(url), autocommit=True) as conn:
        pids = [r[0] for r in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,)).fetchall()]
    tick = os.sysconf("SC_CLK_TCK")
    out = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[pid] = (int(fields[11]) + int(fields[12])) / tick
    return out


def explain(engine: Any, statement: str, params: Any) -> list[str]:
    """EXPLAIN (ANALYZE, BUFFERS) of one statement, in a transaction rolled back (the SELECT
    of an INSERT … SELECT: the rows it would insert are there already)."""
    if statement.lstrip().upper().startswith("INSERT") and "SELECT" in statement:
        statement = statement[statement.index("SELECT"):]
    with engine.connect() as conn:
        rows = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, params).all()
        conn.rollback()
    return [r[0] for r in rows]


def fingerprint(engine: Any, day: Any) -> dict[str, str]:
    """md5 of the day's rows of every rollup table (ordered), and their count."""
    from sqlalchemy import text

    out = {}
    with engine.connect() as conn:
        for table in ROLLUP_TABLES:
            rows = conn.execute(text(f"SELECT * FROM {table} WHERE local_date = :d"),  # noqa: S608
                                {"d": day}).all()
            body = "\n".join(sorted(repr(tuple(str(v) for v in r)) for r in rows))
            import hashlib

            out[table] = f"{len(rows)}:{hashlib.md5(body.encode()).hexdigest()[:12]}"  # noqa: S324
    return out


def main(argv: list[str] | None = None) -> int:
    """Generate (or reuse) the city, then time the nightly build and the refresh."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="postgresql+psycopg://root@127.0.0.1:5432/bench_rollup",
                        help="a scratch PostgreSQL URL (created and dropped) or SQLite path")
    parser.add_argument("--communities", type=int, default=1000)
    parser.add_argument("--households", type=int, default=1_000_000)
    parser.add_argument("--drops", type=int, default=2_240_000, help="on yesterday")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=20261206)
    parser.add_argument("--workers", type=int, default=None,
                        help="ratings.jobs.WORKERS for the refresh (default: the app's)")
    parser.add_argument("--explain", type=int, default=4,
                        help="EXPLAIN ANALYZE the N slowest statements (PostgreSQL)")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse", action="store_true",
                        help="measure on the database a --keep run left (no generation)")
    args = parser.parse_args(argv)
    url = citygen.sqlalchemy_url(args.url)
    backend = "sqlite" if citygen.is_sqlite(url) else "postgresql"
    print(f"bench/rollup_city.py {backend}: {args.communities:,} communities, "
          f"{args.households:,} households, {args.drops:,} drops; {os.cpu_count()} CPUs, load "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}; {datetime.now(UTC):%Y-%m-%d %H:%M} "
          f"UTC", flush=True)
    if not args.reuse:
        citygen.remove(url)
    try:
        return run(url, backend, args)
    finally:
        if not args.keep:
            citygen.remove(url)
            print(f"removed {url}")


def run(url: str, backend: str, args: argparse.Namespace) -> int:
    """Generate unless --reuse; time the jobs."""
    from sqlalchemy import func, select
    from sqlmodel import Session

    from community.areas.models import Area
    from community.db import make_engine
    from community.dirty import services as dirty
    from community.ratings import jobs
    from community.ratings.models import RollupDay
    from community.rows import table_of
    from community.scheduler import runner
    from community.scheduler.registry import JOBS
    from community.stations.models import Drop

    if args.workers is not None:
        jobs.WORKERS = args.workers
    zone = ZoneInfo(TZ)
    engine = make_engine(url)
    figures: dict[str, Any] = {"backend": backend, "load_before": os.getloadavg(),
                               "workers": jobs.WORKERS, "batch": jobs.BATCH}
    print(f"  refresh: {jobs.WORKERS} worker(s), batches of {jobs.BATCH}", flush=True)
    if args.reuse:
        with Session(engine) as s:
            yesterday = s.execute(select(func.max(table_of(Drop).c.local_date))).scalar_one()
        now = datetime.combine(yesterday + timedelta(days=1), datetime.min.time(),
                               tzinfo=zone) + timedelta(hours=18)
    else:
        now = datetime.now(UTC).replace(microsecond=0)
        figures["generated"] = generate(url, args, now)
        yesterday = now.astimezone(zone).date() - timedelta(days=1)
    d = table_of(Drop).c
    with Session(engine) as s:
        drops = s.execute(select(func.count()).where(d.local_date == yesterday)).scalar_one()
        by_community = dict(s.execute(select(d.community_id, func.count())
                                      .where(d.local_date == yesterday)
                                      .group_by(d.community_id)).all())
        communities = list(s.execute(select(Area.id).where(Area.level == "community")).scalars())
    figures.update(day=yesterday.isoformat(), drops=drops, communities=len(communities))
    print(f"  {yesterday}: {drops:,} drops in {len(by_community):,} of {len(communities):,} "
          f"communities", flush=True)

    timer = StatementTimer(engine)
    nightly = JOBS["ratings.rollups"]
    period = runner.make_period(nightly, datetime.combine(yesterday, datetime.min.time()), zone)
    with Session(engine) as s:  # a --reuse run measures again: the period is not done yet
        s.execute(table_of(runner.JobRun).delete())
        s.commit()
    cpu0 = backend_cpu(url, backend)
    own0 = resource.getrusage(resource.RUSAGE_SELF)
    t = time.perf_counter()
    status = runner.run_period(engine, nightly, period, now=period.due_at)
    figures["nightly_s"] = time.perf_counter() - t
    own1 = resource.getrusage(resource.RUSAGE_SELF)
    figures["nightly_db_cpu_s"] = sum(v - cpu0.get(pid, 0.0)
                                      for pid, v in backend_cpu(url, backend).items())
    figures["nightly_app_cpu_s"] = (own1.ru_utime - own0.ru_utime) + (own1.ru_stime
                                                                      - own0.ru_stime)
    base = fingerprint(engine, yesterday)
    print(f"  nightly ratings.rollups {status}: {figures['nightly_s']:.2f} s (CPU: PostgreSQL "
          f"{figures['nightly_db_cpu_s']:.2f} s, Python {figures['nightly_app_cpu_s']:.2f} s); "
          f"rows {base}", flush=True)

    refresh = JOBS["ratings.refresh"]
    runs = []
    ok = status == "succeeded"
    for k in range(args.runs):
        with Session(engine) as s:
            dirty.mark(s, "drops", {(c, yesterday): by_community.get(c, 0) or 1
                                    for c in communities}, now=now)
            s.commit()
        slot = datetime.combine(yesterday + timedelta(days=1), datetime.min.time()) \
            + timedelta(hours=k)
        period = runner.make_period(refresh, slot, zone)
        timer.reset()
        timer.on = True
        load = os.getloadavg()[0]
        cpu0 = backend_cpu(url, backend)
        own0 = resource.getrusage(resource.RUSAGE_SELF)
        t = time.perf_counter()
        status = runner.run_period(engine, refresh, period, now=period.due_at)
        took = time.perf_counter() - t
        own1 = resource.getrusage(resource.RUSAGE_SELF)
        cpu1 = backend_cpu(url, backend)
        timer.on = False
        db_cpu = sum(v - cpu0.get(pid, 0.0) for pid, v in cpu1.items())
        app_cpu = (own1.ru_utime - own0.ru_utime) + (own1.ru_stime - own0.ru_stime)
        with Session(engine) as s:
            counts = s.execute(select(runner.JobRun.counts).where(
                runner.JobRun.job == refresh.name, runner.JobRun.period == period.key)
            ).scalar_one_or_none() or {}
            left = s.execute(select(func.count()).select_from(table_of(dirty.DirtyDay))
                             ).scalar_one()
            built = s.execute(select(func.count()).where(
                RollupDay.local_date == yesterday)).scalar_one()
        rows = fingerprint(engine, yesterday)
        same = rows == base
        good = (status == "succeeded" and counts.get("days_rebuilt") == len(communities)
                and left == 0 and built == len(communities) and same)
        ok = ok and good
        runs.append({"seconds": took, "load_1min": load, "counts": counts, "same_rows": same,
                     "db_cpu_s": db_cpu, "app_cpu_s": app_cpu, "ok": good})
        print(f"  refresh run {k + 1}: {took:.2f} s (load {load:.2f}; CPU: PostgreSQL "
              f"{db_cpu:.2f} s, Python {app_cpu:.2f} s) {status} {counts}; "
              f"rows {'identical to the nightly build' if same else rows}"
              f"{'' if good else '  FAILED CHECK'}", flush=True)
    top = timer.top()
    print(f"statements of the last refresh (seconds summed over connections, calls), "
          f"{len(timer.times)} distinct:")
    for total, calls, text in top:
        print(f"  {total:7.3f} {calls:>5}  {text}")
    plans = {}
    if backend == "postgresql":
        for _total, _calls, key in top[:args.explain + 3]:
            if len(plans) >= args.explain:
                break
            _t, statement, params = timer.full[key]
            if isinstance(params, list | tuple) and params and isinstance(
                    params[0], dict | list | tuple):
                continue  # executemany: nothing to explain
            if "tmp_rollup" in statement and not statement.lstrip().upper().startswith(
                    "INSERT INTO TMP"):
                continue  # reads the build's temporary table, gone with its connection
            try:
                plans[key] = explain(engine, statement, params)
            except Exception as exc:  # noqa: BLE001 - a plan is a bonus, never a failure
                plans[key] = [f"(no plan: {type(exc).__name__})"]
            print(f"  EXPLAIN (ANALYZE, BUFFERS) {key[:90]}…")
            for line in plans[key]:
                print(f"    {line}")
    seconds = [r["seconds"] for r in runs]
    if seconds:
        print(f"refresh of {len(communities):,} dirty communities, {drops:,} drops: min "
              f"{min(seconds):.2f} / median {statistics.median(seconds):.2f} / max "
              f"{max(seconds):.2f} s; target {TARGET_S:.0f} s: "
              f"{'met' if max(seconds) <= TARGET_S else 'MISSED'}; load after "
              f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    figures.update(runs=runs, load_after=os.getloadavg(), fingerprint=base,
                   statements=[{"s": a, "calls": b, "sql": c} for a, b, c in top],
                   plans=plans)
    engine.dispose()
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2, default=str))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
