"""Dashboard and ratings benchmark on a city made by `bench/citygen.py`.

Against the generated database (SQLite file or PostgreSQL URL), with the real app
(`create_app` on that DATABASE_URL, Flask test client, logged in through POST /login), it
measures in this order:

    rollup     one day (yesterday) rebuilt with `ratings.rollups.build_day`, as the nightly
               job calls it (no community ids) and with every community id passed; then the
               same at several sizes of drops per day: yesterday's drops copied 1×, 4× and
               10× into an empty scratch day (July, before the generated period), rolled up
               and deleted again
    rating     `ratings.jobs.rate_month` for every month of the period that has ended
               (oldest first, so "star" can see the month before), then the current month
    community  GET /dashboard/community for random communities: each request logged in as
               that community's manager (the month so far, today merged from raw drops);
               and the same pages opened by the city admin (?community_id=)
    ranking    GET /dashboard/ranking as the city admin: random sort and page
    area       GET /dashboard/area as the city admin (the city's month)

Latencies are wall-clock, in-process (no network, no gunicorn), after a few warm-up
requests; p50/p95 over N requests. The targets of the issue are printed beside them.

    .venv/bin/python bench/dashboard.py --url /tmp/bench_city.db
    .venv/bin/python bench/dashboard.py --url postgresql+psycopg://root@127.0.0.1:5432/bench_city

Not part of `make test`: `make bench-city` runs it after the generator.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from citygen import (  # noqa: E402 - after the path is set
    CITY_ADMIN,
    PASSWORD,
    TZ,
    is_sqlite,
    manager_login,
    sqlalchemy_url,
)

TARGETS = {"community": 0.200, "ranking": 0.500, "rollup": 10.0, "rating": 60.0}
GROWTH = (1, 4, 10)
ROLLUP_TABLES = ("rollup_station_day", "rollup_hour_day", "rollup_building_day",
                 "rollup_coverage_day", "rollup_community_day", "rollup_day")
COPY_COLUMNS = ("station_id", "community_id", "category", "quality", "source", "household_id",
                "card_id", "recorded_by", "device_id", "in_window", "weight_kg", "note",
                "photo")


def pct(values: list[float], p: float) -> float:
    """Percentile (nearest rank) of a list of seconds."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p * len(ordered)) - 1))]


def make_app(url: str) -> Any:
    """The app on the generated database, CSRF and rate limits off (a local benchmark)."""
    from community import create_app

    return create_app({"DATABASE_URL": url, "WTF_CSRF_ENABLED": False,
                       "RATELIMIT_ENABLED": False, "SECRET_KEY": os.urandom(24).hex()})


def login(app: Any, username: str) -> Any:
    """A test client logged in as `username`."""
    client = app.test_client()
    resp = client.post("/login", data={"login": username, "password": PASSWORD})
    if resp.status_code != 302:
        raise RuntimeError(f"login {username}: HTTP {resp.status_code}")
    return client


# --- rollups ------------------------------------------------------------------------------

def _timed(fn: Callable[[], Any]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def rollup_day(engine: Any, day: date, ids: list[int] | None) -> tuple[float, int]:
    """Seconds to rebuild one day (and commit), and the drops it counted."""
    from sqlmodel import Session

    from community.ratings import rollups

    t0 = time.perf_counter()
    with Session(engine) as s:
        got = rollups.build_day(s, day, community_ids=ids)
        s.commit()
    return time.perf_counter() - t0, got.drops


def _copy_day(engine: Any, source: date, target: date, copies: int) -> int:
    """Copy `source`'s drops `copies` times into `target` (client ids prefixed, times shifted)."""
    from sqlalchemy import text

    shift = (target - source).days
    cols = ", ".join(COPY_COLUMNS)
    sqlite = engine.dialect.name == "sqlite"
    if sqlite:
        moved = (f"datetime(happened_at, '{shift:+d} days') || '.000000', "
                 f"datetime(received_at, '{shift:+d} days') || '.000000', "
                 f"date(local_date, '{shift:+d} days')")
    else:
        moved = (f"happened_at + interval '{shift} days', received_at + interval '{shift} days',"
                 f" local_date + {shift}")
    n = 0
    with engine.begin() as conn:
        for k in range(copies):
            n += conn.execute(text(
                f"INSERT INTO drop_record (client_text, happened_at, received_at, "  # noqa: S608
                f"local_date, {cols}) SELECT 'x{k}-' || coalesce(client_text, "
                f"CAST(client_uuid AS varchar(36))), {moved}, {cols} FROM drop_record "
                "WHERE local_date = :day"), {"day": source}).rowcount
    return n


def _clear_day(engine: Any, day: date) -> None:
    """Delete the scratch day's drops and rollup rows (its month held nothing else)."""
    from sqlalchemy import text

    with engine.begin() as conn:
        conn.execute(text("DELETE FROM drop_record WHERE local_date = :d"), {"d": day})
        for table in ROLLUP_TABLES:
            conn.execute(text(f"DELETE FROM {table} WHERE local_date = :d"), {"d": day})  # noqa: S608
        conn.execute(text("DELETE FROM rollup_household_month WHERE month = :m"),
                     {"m": day.replace(day=1)})


def bench_rollups(engine: Any, ids: list[int], yesterday: date, first: date,
                  growth: tuple[int, ...]) -> dict[str, Any]:
    """One day as the job builds it and by ids; then growth with drops per day."""
    out: dict[str, Any] = {"day": str(yesterday)}
    for label, scope in (("job", None), ("ids", ids)):
        runs = [rollup_day(engine, yesterday, scope) for _ in range(2)]
        out[label] = [round(t, 3) for t, _n in runs]
        out["drops"] = runs[0][1]
        print(f"  rollup {yesterday} ({runs[0][1]:,} drops), {label}: "
              + ", ".join(f"{t:.2f} s" for t, _n in runs), flush=True)
    scratch = (first.replace(day=1) - timedelta(days=1)).replace(day=1)
    out["growth"] = []
    _clear_day(engine, scratch)
    try:
        for copies in growth:
            _clear_day(engine, scratch)
            t0 = time.perf_counter()
            n = _copy_day(engine, yesterday, scratch, copies)
            copied = time.perf_counter() - t0
            job, _d = rollup_day(engine, scratch, None)
            by_ids, drops = rollup_day(engine, scratch, ids)
            out["growth"].append({"copies": copies, "drops": drops, "job": round(job, 3),
                                  "ids": round(by_ids, 3)})
            print(f"  rollup of {drops:,} drops/day (×{copies}, copied in {copied:.0f} s): "
                  f"job {job:.2f} s, ids {by_ids:.2f} s", flush=True)
            if n != drops:
                print(f"  (copied {n:,} rows but the rollup counted {drops:,})")
    finally:
        _clear_day(engine, scratch)
    return out


# --- ratings ------------------------------------------------------------------------------

def bench_ratings(engine: Any, first: date, today: date) -> list[dict[str, Any]]:
    """Rate each ended month of the period (oldest first), then the current month."""
    from sqlmodel import Session

    from community.ratings import jobs

    months = []
    month = first.replace(day=1)
    if month < first:  # a partial first month would rate everyone on a few days
        month = (month + timedelta(days=32)).replace(day=1)
    while month <= today.replace(day=1):
        months.append(month)
        month = (month + timedelta(days=32)).replace(day=1)
    out = []
    now = datetime.now(UTC)
    for m in months:
        t0 = time.perf_counter()
        with Session(engine) as s:
            counts = jobs.rate_month(s, month=m, now=now)
            s.commit()
        took = time.perf_counter() - t0
        out.append({"month": m.strftime("%Y-%m"), "seconds": round(took, 3), **counts})
        print(f"  rate {m:%Y-%m}: {took:.2f} s {counts}", flush=True)
    return out


# --- pages --------------------------------------------------------------------------------

def _get(client: Any, path: str, lat: list[float], errors: list[str]) -> None:
    t0 = time.perf_counter()
    resp = client.get(path)
    took = time.perf_counter() - t0
    resp.close()
    if resp.status_code != 200:
        if len(errors) < 3:
            errors.append(f"{path}: HTTP {resp.status_code}")
        return
    lat.append(took)


def bench_pages(app: Any, communities: list[tuple[int, int]], requests: int,
                rng: random.Random) -> dict[str, dict[str, Any]]:
    """p50/p95 of the community dashboard (managers, city admin), ranking and area pages."""
    from community.dashboard.queries import SORTS

    results: dict[str, dict[str, Any]] = {}

    def record(name: str, lat: list[float], errors: list[str]) -> None:
        results[name] = {"n": len(lat), "errors": errors,
                         "p50": round(statistics.median(lat), 4) if lat else None,
                         "p95": round(pct(lat, 0.95), 4) if lat else None,
                         "max": round(max(lat), 4) if lat else None}
        r = results[name]
        print(f"  {name}: n={r['n']} p50 {1000 * (r['p50'] or 0):.0f} ms, "
              f"p95 {1000 * (r['p95'] or 0):.0f} ms, max {1000 * (r['max'] or 0):.0f} ms"
              + (f"; errors {errors}" if errors else ""), flush=True)

    lat: list[float] = []
    errors: list[str] = []
    sample = [rng.choice(communities) for _ in range(requests + 3)]
    for k, (n, _cid) in enumerate(sample):
        client = login(app, manager_login(n))
        _get(client, "/dashboard/community", lat if k >= 3 else [], errors)  # 3 warm-ups
    record("community (manager)", lat, errors)

    admin = login(app, CITY_ADMIN)
    lat, errors = [], []
    for k, (_n, cid) in enumerate(rng.choice(communities) for _ in range(requests + 3)):
        _get(admin, f"/dashboard/community?community_id={cid}", lat if k >= 3 else [], errors)
    record("community (city admin)", lat, errors)

    pages = max(1, -(-len(communities) // app.config["PAGE_SIZE"]))
    lat, errors = [], []
    for k in range(requests + 3):
        sort = rng.choice(SORTS)
        _get(admin, f"/dashboard/ranking?sort={sort}&page={rng.randint(1, pages)}",
             lat if k >= 3 else [], errors)
    record("ranking (city)", lat, errors)

    lat, errors = [], []
    for k in range(max(10, requests // 4) + 2):
        _get(admin, "/dashboard/area", lat if k >= 2 else [], errors)
    record("area (city)", lat, errors)
    return results


# --- main ---------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    """Parse options, measure, print (and write JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--requests", type=int, default=200, help="per page kind")
    parser.add_argument("--growth", default=",".join(map(str, GROWTH)),
                        help="copies of a day for the rollup growth (empty: skip)")
    parser.add_argument("--skip", default="",
                        help="comma list of parts to skip: rollup,rating,pages")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    url = sqlalchemy_url(args.url)
    skip = set(filter(None, args.skip.split(",")))
    from sqlalchemy import func, select
    from sqlmodel import Session

    from community.areas.models import Area
    from community.db import get_engine
    from community.stations.models import Drop

    app = make_app(url)
    engine = get_engine(app)
    with Session(engine) as s:
        ids = list(s.execute(select(Area.id).where(Area.level == "community")
                             .order_by(Area.id)).scalars())
        drops = s.execute(select(func.count()).select_from(Drop)).scalar_one()
        first = s.execute(select(func.min(Drop.local_date))).scalar_one()
    today = datetime.now(UTC).astimezone(ZoneInfo(TZ)).date()
    print(f"bench/dashboard.py {url}: {len(ids):,} communities, {drops:,} drops from {first}; "
          f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}; "
          f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC", flush=True)
    report: dict[str, Any] = {"url": url.split("@")[-1], "backend": "sqlite" if is_sqlite(url)
                              else "postgresql", "communities": len(ids), "drops": drops}
    if "rollup" not in skip:
        growth = tuple(int(x) for x in args.growth.split(",") if x)
        report["rollup"] = bench_rollups(engine, ids, today - timedelta(days=1), first, growth)
    if "rating" not in skip:
        report["rating"] = bench_ratings(engine, first, today)
    if "pages" not in skip:
        communities = list(enumerate(ids, start=1))  # manager n manages the n-th community
        report["pages"] = bench_pages(app, communities, args.requests, random.Random(args.seed))
    engine.dispose()
    summary(report)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    return 0


def summary(report: dict[str, Any]) -> None:
    """The figures against the issue's targets."""
    print(f"\nsummary ({report['backend']}, {report['drops']:,} drops)")
    pages = report.get("pages", {})
    for name, key in (("community (manager)", "community"), ("ranking (city)", "ranking")):
        if name in pages and pages[name]["p95"] is not None:
            p95 = pages[name]["p95"]
            print(f"  {name} p95 {1000 * p95:.0f} ms (target ≤ {1000 * TARGETS[key]:.0f} ms): "
                  + ("met" if p95 <= TARGETS[key] else "MISSED"))
    if "rollup" in report:
        r = report["rollup"]
        job, ids = min(r["job"]), min(r["ids"])
        print(f"  rollup of one day ({r['drops']:,} drops): job {job:.2f} s, by ids {ids:.2f} s "
              f"(target ≤ {TARGETS['rollup']:.0f} s): "
              + ("met" if job <= TARGETS["rollup"] else "MISSED as the job calls it"))
    ended = [r for r in report.get("rating", []) if r is not report.get("rating", [])[-1]]
    if ended:
        worst = max(r["seconds"] for r in ended)
        print(f"  monthly rating, all communities: {worst:.2f} s "
              f"(target ≤ {TARGETS['rating']:.0f} s): "
              + ("met" if worst <= TARGETS["rating"] else "MISSED"))


if __name__ == "__main__":
    sys.exit(main())
