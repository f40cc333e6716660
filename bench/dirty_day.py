"""Rebuilding one dirty day: late drops for a past day, then the refresh job, timed.

Issue 13's speed target: rebuilding one dirty (community, day) of a 3,000-household
community stays under 1 s. On a scratch database (created, migrated with the app's
`upgrade_database`, and dropped / deleted at the end unless `--keep`), it writes with
citygen's bulk loader (psycopg COPY on PostgreSQL, executemany on SQLite):

    areas        city → district → street → one community
    accounts     a manager and three stewards (approved `steward` rows)
    households   `--households` as the demo plans addresses, each with its moving-in
                 `household_event` and an active card
    stations     4 (a main one with every bin, three building ones) with the default windows,
                 and their schedule history through `stations.manage.services.start_history`
    shifts       one per station window and day with most check-ins (citygen's `shifts`)
    drops        `--days` full days ending yesterday, ≈ 2 per household per day, drawn by
                 citygen's `DropMaker` (categories, qualities, in/out of window, local_date)

then rolls up every day as the nightly job does (`ratings.jobs.roll_up_day`), rates every
month of those days that has ended (`ratings.jobs.rate_month`), and `--runs` times:

    1. inserts `--late` late drops (Core insert) into a past day of the rated month and marks
       that day dirty (`dirty.services.mark(session, "drops", {(community, day): n})`),
    2. times `ratings.jobs.refresh_dirty(session, now=…)` end to end (it commits itself;
       it must report `days_rebuilt == 1`),
    3. times `ratings.rollups.build_day(session, day, community_ids=[community])` alone
       (flush, then the commit timed apart), on a fresh session each.

Prints min / median / max seconds, then the statements of the last run's refresh and build_day
by time, with the plan of the slowest SELECT (EXPLAIN ANALYZE on PostgreSQL, rolled back;
EXPLAIN QUERY PLAN on SQLite).

    .venv/bin/python bench/dirty_day.py \\
        --url postgresql+psycopg://root@127.0.0.1:5432/bench_dirty
    .venv/bin/python bench/dirty_day.py --url /tmp/bench_dirty.db --json /tmp/dirty.json

Not part of `make test`.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import statistics
import sys
import time
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import citygen  # noqa: E402  (bench/citygen.py: loader, drop maker, shifts)
from citygen import TZ, City, Community, Loader  # noqa: E402

TARGET_S = 1.0
PER_HOUSEHOLD_DAY = 2.0  # drops per household per day


def build(db: Loader, args: argparse.Namespace, now: datetime) -> tuple[City, int]:
    """One community with its households, events, cards, stations and stewards."""
    from community.auth.services import hash_password
    from community.demo.city import (
        ALL_CATEGORIES,
        KITCHEN_OTHER,
        MAIN_STATIONS,
        plan_addresses,
        station_for_building,
    )
    from community.demo.context import MEMBER_WEIGHTS, MOVED_OUT_SHARE
    from community.stations.windows import DEFAULT_RANGES

    # Everything exists from well before the first day of drops.
    since = now - timedelta(days=args.days + 5)
    created = db.ts(since)
    areas = [(1, None, "city", "基准市", "/1/", TZ, True, created),
             (2, 1, "district", "第1区", "/1/2/", TZ, True, created),
             (3, 2, "street", "第1街道", "/1/2/3/", TZ, True, created),
             (4, 3, "community", "基准社区0001", "/1/2/3/4/", TZ, True, created)]
    db.insert("area", ("id", "parent_id", "level", "name", "path", "timezone", "join_requests",
                       "created_at"), areas)
    cid = 4
    hashed = hash_password(citygen.PASSWORD)
    accounts = [(1, citygen.manager_login(1), "基准社区0001管理员")]
    grants = [(1, "manager", cid)]
    for j in range(1, citygen.STEWARDS + 1):
        accounts.append((1 + j, f"bench.s0001.{j}", f"督导员0001-{j}"))
        grants.append((1 + j, "steward", cid))
    citygen.insert_people(db, accounts, grants,
                          [(j, cid, 1 + j) for j in range(1, citygen.STEWARDS + 1)],
                          hashed, created)
    plan = Community(n=1, id=cid, manager_id=1, accuracy=0.92, non_participants=0.10,
                     out_of_window=0.06, tallies=0.02, coverage=0.95,
                     recorders=[2, 3, 4], stewards=[1, 2, 3])

    crng = random.Random(f"{args.seed}:community")
    addresses = plan_addresses(crng, args.households)
    buildings = len({b for b, _u, _r in addresses})
    main_name, main_location = crng.choice(MAIN_STATIONS)
    stations: list[tuple[str, str, tuple[str, ...]]] = [
        (main_name, main_location, ALL_CATEGORIES)]
    for k in range(1, 4):
        b = k * buildings // 4 + 1
        stations.append((f"{b}号楼东侧投放点", f"{b}号楼东侧绿化带旁",
                         KITCHEN_OTHER if k % 2 else ALL_CATEGORIES))
    station_rows: list[tuple[Any, ...]] = []
    window_rows: list[tuple[Any, ...]] = []
    window_id = 0
    for sid, (name, location, cats) in enumerate(stations, start=1):
        station_rows.append((sid, cid, name, location, 31.3, 120.6, ",".join(cats), None,
                             "open", citygen.GRACE, created))
        plan.stations.append(sid)
        plan.categories.append(frozenset(cats))
        plan.windows[sid] = {}
        for weekday in range(7):
            for r, (start, end) in enumerate(DEFAULT_RANGES):
                window_id += 1
                window_rows.append((window_id, sid, weekday, db.tm(start), db.tm(end)))
                plan.windows[sid][(weekday, r)] = window_id
    routes = [{cat: (k if cat in plan.categories[k] else 0) for cat, _o in citygen.CATEGORY_ODDS}
              for k in range(len(stations))]
    b_acc = {b: plan.accuracy + crng.uniform(-0.08, 0.04) for b in range(1, buildings + 1)}
    hh_rows: list[tuple[Any, ...]] = []
    event_rows: list[tuple[Any, ...]] = []
    card_rows: list[tuple[Any, ...]] = []
    for hid, (building, unit, room) in enumerate(addresses, start=1):
        moved = crng.random() < MOVED_OUT_SHARE
        members = crng.choices(range(1, 7), weights=MEMBER_WEIGHTS)[0]
        status = "moved_out" if moved else "active"
        hh_rows.append((hid, cid, building, unit, room, members, status, False, created,
                        created))
        # Its history: the moving-in event (and, for the few moved out, the moving-out one,
        # before the first day of drops).
        event_rows.append((len(event_rows) + 1, hid, cid, created, "active", members, created,
                           1))
        if moved:
            out = db.ts(since + timedelta(days=1))
            event_rows.append((len(event_rows) + 1, hid, cid, out, "moved_out", members, out, 1))
        card_rows.append((hid, cid, hid, f"{hid:064x}", f"C{hid:07d}",
                          "revoked" if moved else "active", created,
                          db.ts(since + timedelta(days=1)) if moved else None, None))
        if moved or crng.random() < plan.non_participants:
            continue
        sorts = min(0.995, max(0.3, b_acc[int(building)] + crng.gauss(0, 0.03)))
        home = station_for_building(int(building), buildings, len(stations))
        plan.homes.append((hid, 0.3 + 1.4 * crng.random(), routes[home],
                           int(crng.random() < 0.55), sorts))
    db.insert("household", ("id", "community_id", "building", "unit", "room", "members",
                            "status", "honour_opt_out", "created_at", "updated_at"), hh_rows)
    db.insert("household_event", ("id", "household_id", "community_id", "effective_at",
                                  "status", "members", "recorded_at", "recorded_by"),
              event_rows)
    db.insert("card", ("id", "community_id", "household_id", "token", "short_code",
                       "status", "issued_at", "revoked_at", "revoked_by"),
              card_rows)
    db.insert("station", ("id", "community_id", "name", "location", "latitude", "longitude",
                          "categories", "chief_id", "status", "grace_minutes", "created_at"),
              station_rows)
    db.insert("station_window", ("id", "station_id", "weekday", "start_time", "end_time"),
              window_rows)
    db.commit()
    return City(1, [2], [plan], len(hh_rows), len(accounts)), len(event_rows)


def station_history(engine: Any) -> None:
    """Each station's first schedule version and opening, through the app's service."""
    from sqlmodel import Session, select

    from community.stations.manage.services import start_history
    from community.stations.models import Station

    with Session(engine) as s:
        for station in s.exec(select(Station)).all():
            start_history(s, station, TZ)
        s.commit()


def load_drops(db: Loader, city: City, days: list[date], per_day: float, seed: int) -> int:
    """≈ per_day drops on each full day (citygen's drop maker)."""
    maker = citygen.DropMaker(db, city, seed)
    trip_p = per_day / (maker.per_trip * maker.weight_sum)
    # The maker draws at most one trip per household and pass: two drops a household a day
    # need several passes (a household's trip odds are trip_p times up to 1.7).
    passes = max(1, math.ceil(trip_p * 1.7))
    written = 0
    for day in days:
        for _ in range(passes):
            written += db.insert("drop_record", citygen.DROP_COLUMNS,
                                 maker.day_rows(day, trip_p / passes))
    db.commit()
    return written


class StatementTimer:
    """Wall time per SQL statement, per phase while one is set (SQLAlchemy cursor events);
    keeps the text and parameters of each phase's slowest SELECT for EXPLAIN."""

    def __init__(self, engine: Any) -> None:
        from sqlalchemy import event

        self.phase: str | None = None
        self.times: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
        self.slowest: dict[str, tuple[float, str, Any]] = {}
        self._t0: list[float] = []

        @event.listens_for(engine, "before_cursor_execute")
        def _before(*_a: Any) -> None:
            self._t0.append(time.perf_counter())

        @event.listens_for(engine, "after_cursor_execute")
        def _after(_conn: Any, _cur: Any, statement: str, params: Any, *_a: Any) -> None:
            t = time.perf_counter() - self._t0.pop()
            if self.phase is None:
                return
            self.times[self.phase][" ".join(statement.split())[:110]].append(t)
            # Only a SELECT can be explained with ANALYZE without changing anything, and
            # not one of build_day's temporary tables (gone with its connection).
            if (statement.lstrip().upper().startswith("SELECT")
                    and "tmp_rollup" not in statement
                    and t > self.slowest.get(self.phase, (0.0, "", None))[0]):
                self.slowest[self.phase] = (t, statement, params)

    def top(self, phase: str, n: int = 8) -> list[tuple[float, int, str]]:
        """(seconds, calls, statement) of a phase, slowest first."""
        return sorted(((sum(v), len(v), k) for k, v in self.times[phase].items()),
                      reverse=True)[:n]


def explain(engine: Any, backend: str, statement: str, params: Any) -> list[str]:
    """The plan of one statement: EXPLAIN ANALYZE (PostgreSQL; rolled back) or EXPLAIN QUERY
    PLAN (SQLite)."""
    prefix = "EXPLAIN QUERY PLAN " if backend == "sqlite" else "EXPLAIN (ANALYZE, BUFFERS) "
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(prefix + statement, params).all()
        conn.rollback()
    if backend == "sqlite":
        return [f"{r[0]}|{r[1]}| {r[3]}" for r in rows]
    return [r[0] for r in rows]


def late_rows(cid: int, stations: list[int], households: int, day: date, n: int,
              serial: int, received: datetime) -> list[dict[str, Any]]:
    """n late drops of `day` (inside the morning window), received now."""
    rng = random.Random(f"late:{serial}")
    start = citygen.local_midnight_utc(day) + timedelta(hours=7, minutes=5)
    rows = []
    for k in range(n):
        cat = rng.choice(("kitchen", "kitchen", "other", "recyclable"))
        hid = 1 + (serial * 31 + k * 97) % households  # its card has the same id
        rows.append({
            "client_text": f"late{serial:04d}-{k:03d}", "station_id": stations[0],
            "community_id": cid, "category": cat,
            "quality": "correct" if rng.random() < 0.9 else "incorrect", "source": "scan",
            "household_id": hid, "card_id": hid, "recorded_by": 2,
            "device_id": None, "happened_at": start + timedelta(minutes=rng.uniform(0, 100)),
            "received_at": received, "local_date": day, "in_window": True,
            "weight_kg": round(rng.uniform(0.3, 2.5), 2), "note": None, "photo": None})
    return rows


def summary(values: list[float]) -> dict[str, float]:
    """min / median / max."""
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}


def main(argv: list[str] | None = None) -> int:
    """Generate, roll up, rate, then time the refresh of one dirty day `--runs` times."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True,
                        help="a scratch PostgreSQL URL (created and dropped) or SQLite path")
    parser.add_argument("--households", type=int, default=3000)
    parser.add_argument("--days", type=int, default=30, help="full days, ending yesterday")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--late", type=int, default=20, help="late drops per run")
    parser.add_argument("--seed", type=int, default=20261206)
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args(argv)
    url = citygen.sqlalchemy_url(args.url)
    backend = "sqlite" if citygen.is_sqlite(url) else "postgresql"
    print(f"bench/dirty_day.py {backend}: {args.households:,} households, {args.days} days, "
          f"{args.runs} runs; {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}; "
          f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC", flush=True)
    citygen.remove(url)
    try:
        return run(url, backend, args)
    finally:
        if not args.keep:
            citygen.remove(url)
            print(f"removed {url}")


def run(url: str, backend: str, args: argparse.Namespace) -> int:
    """The whole benchmark on a fresh database at `url`."""
    from sqlalchemy import func, select
    from sqlmodel import Session

    from community.db import make_engine
    from community.dirty import services as dirty
    from community.ratings import jobs, rollups
    from community.rows import table_of
    from community.stations.models import Drop

    t = time.perf_counter()
    citygen.create(url)
    timings = {"migrate": time.perf_counter() - t}
    now = datetime.now(UTC).replace(microsecond=0)
    today = now.astimezone(ZoneInfo(TZ)).date()
    days = [today - timedelta(days=k) for k in range(args.days, 0, -1)]
    db = Loader(url)
    t = time.perf_counter()
    city, n_events = build(db, args, now)
    n_shifts, n_checkins = citygen.shifts(db, city, days, args.seed, now)
    drops = load_drops(db, city, days, PER_HOUSEHOLD_DAY * args.households, args.seed)
    db.fix_sequences(("area", "account", "role_grant", "steward", "household",
                      "household_event", "card", "station", "station_window", "shift",
                      "shift_assignment"))
    db.close(analyze=True)
    engine = make_engine(url)
    station_history(engine)
    timings["generate"] = time.perf_counter() - t
    plan = city.communities[0]
    cid = plan.id
    print(f"  generated: {city.households:,} households ({n_events:,} events, as many cards), "
          f"{len(plan.stations)} stations, {n_shifts:,} shifts with {n_checkins:,} check-ins, "
          f"{drops:,} drops over {len(days)} days ({drops / len(days):,.0f}/day) in "
          f"{timings['generate']:.1f} s", flush=True)

    # The nightly job for every day, then the monthly rating of each ended month.
    t = time.perf_counter()
    for day in days:
        with Session(engine) as s:
            jobs.roll_up_day(s, day=day, now=now)
            s.commit()
    timings["roll_up_all"] = time.perf_counter() - t
    months = sorted({d.replace(day=1) for d in days if d.replace(day=1) < today.replace(day=1)})
    t = time.perf_counter()
    rated = {}
    for month in months:
        with Session(engine) as s:
            rated[month.isoformat()] = jobs.rate_month(s, month=month, now=now)
            s.commit()
    timings["rate"] = time.perf_counter() - t
    print(f"  rolled up {len(days)} days in {timings['roll_up_all']:.1f} s; rated "
          f"{', '.join(months_str(rated))} in {timings['rate']:.2f} s", flush=True)
    if not months:
        print("  (no ended month among the days: the refresh will not re-rate)")

    # Dirty days: past days of the rated month (the latest one), a different one each run.
    pool = [d for d in days if months and d.replace(day=1) == months[-1]] or days[:-1]
    targets = [pool[len(pool) // 2 - k % max(1, len(pool) // 2)] for k in range(args.runs)]
    d_table = table_of(Drop)
    timer = StatementTimer(engine)
    runs: list[dict[str, Any]] = []
    for k, day in enumerate(targets):
        with Session(engine) as s:
            s.execute(d_table.insert(), late_rows(cid, plan.stations, args.households, day,
                                                  args.late, k, now))
            dirty.mark(s, "drops", {(cid, day): args.late}, now=now)
            s.commit()
        last = k == len(targets) - 1
        with Session(engine) as s:
            timer.phase = "refresh_dirty" if last else None
            t = time.perf_counter()
            got = jobs.refresh_dirty(s, now=now)
            refresh = time.perf_counter() - t
        with Session(engine) as s:
            timer.phase = "build_day" if last else None
            t = time.perf_counter()
            built = rollups.build_day(s, day, community_ids=[cid], now=now)
            build_s = time.perf_counter() - t
            t = time.perf_counter()
            s.commit()
            commit_s = time.perf_counter() - t
            timer.phase = None
            day_drops = s.execute(select(func.count()).select_from(d_table).where(
                d_table.c.community_id == cid, d_table.c.local_date == day)).scalar_one()
        ok = got["days_rebuilt"] == 1 and built.drops == day_drops
        runs.append({"day": day.isoformat(), "day_drops": int(day_drops),
                     "refresh_dirty_s": refresh, "build_day_s": build_s, "commit_s": commit_s,
                     **got, "ok": ok})
        print(f"  run {k + 1}: {day} ({day_drops:,} drops): refresh_dirty {refresh:.3f} s "
              f"{got}; build_day {build_s:.3f} s + commit {commit_s:.3f} s"
              f"{'' if ok else '  FAILED CHECK'}", flush=True)

    refresh_sum = summary([r["refresh_dirty_s"] for r in runs])
    build_sum = summary([r["build_day_s"] for r in runs])
    print(f"refresh_dirty (one dirty day, end to end): min {refresh_sum['min']:.3f} / median "
          f"{refresh_sum['median']:.3f} / max {refresh_sum['max']:.3f} s; build_day alone: min "
          f"{build_sum['min']:.3f} / median {build_sum['median']:.3f} / max "
          f"{build_sum['max']:.3f} s; target {TARGET_S:.0f} s: "
          f"{'met' if refresh_sum['max'] < TARGET_S else 'MISSED'}")
    profile: dict[str, Any] = {}
    for phase in ("refresh_dirty", "build_day"):
        top = timer.top(phase)
        print(f"statements of the last run's {phase} (seconds, calls), "
              f"{len(timer.times[phase])} distinct:")
        for total, calls, text in top:
            print(f"  {total:.4f} {calls:>3}  {text}")
        t_slow, statement, params = timer.slowest[phase]
        plan_lines = explain(engine, backend, statement, params)
        print(f"  slowest single SELECT ({t_slow:.3f} s), plan:")
        for line in plan_lines:
            print(f"    {line}")
        profile[phase] = {"top": [{"s": a, "calls": b, "sql": c} for a, b, c in top],
                          "slowest_s": t_slow, "slowest_sql": statement,
                          "plan": plan_lines}
    engine.dispose()
    if args.json:
        Path(args.json).write_text(json.dumps({
            "backend": backend, "households": args.households, "days": len(days),
            "drops": drops, "shifts": n_shifts, "check_ins": n_checkins,
            "timings": timings, "rated": rated, "runs": runs,
            "refresh_dirty_s": refresh_sum, "build_day_s": build_sum, "target_s": TARGET_S,
            "profile": profile,
        }, indent=2, default=str))
    return 0 if all(r["ok"] for r in runs) and refresh_sum["max"] < TARGET_S else 1


def months_str(rated: dict[str, dict[str, int]]) -> list[str]:
    """'2026-11 (…)' per rated month."""
    return [f"{m[:7]} ({v})" for m, v in rated.items()]


if __name__ == "__main__":
    sys.exit(main())
