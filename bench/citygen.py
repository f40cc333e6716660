"""City-scale generator: a whole city of drops written straight into the database in bulk.

Migrates the database (the app's `upgrade_database`), then writes, with multi-row inserts
(psycopg COPY on PostgreSQL; executemany in big transactions on SQLite with
`synchronous=OFF`, `journal_mode=OFF` for the load only):

    areas        city → districts → streets (10 per district) → communities (10 per street)
    accounts     a city admin, one manager per community, three stewards per community
                 (role grants and approved `steward` rows); one shared password hash
    households   building/unit/room as the demo plans them, 2 % moved out; no cards: nothing
                 the dashboards or ratings read needs them (drops carry household_id only)
    stations     2–3 per community (the demo's plan) with the default windows every weekday
    shifts       one per station window and day, a steward checked in and out on most of
                 them (each community its own coverage)
    drops        `--days` full days ending yesterday plus today up to now: per-household
                 habits (how often, morning or evening, how well it sorts), categories as the
                 demo mixes them, scan/manual/tally, graded correct/incorrect/ungraded, in and
                 out of window (computed against the station's windows and grace), weights at
                 each community's main station, upload delays
    tonnage      a monthly entry for the city and each district

then rolls up every full day with `ratings.rollups.build_day` (timed separately) and
prints the totals. Every community gets its own profile (accuracy, participation,
out-of-window share, tallies, steward coverage) so ratings and rankings spread out.

    .venv/bin/python bench/citygen.py --url /tmp/bench_city.db --fresh
    .venv/bin/python bench/citygen.py --url postgresql+psycopg://root@127.0.0.1:5432/bench_city \\
        --fresh
    .venv/bin/python bench/citygen.py --url ... --remove       # delete the file / drop the db

While drops load, the four secondary indexes of `drop_record` are dropped and rebuilt
afterwards with their exact definitions (and on PostgreSQL the foreign-key triggers are
skipped with `session_replication_role = replica`; the generator only writes ids it
created). The generated database is the app's schema, unchanged. The accounts' password is
PASSWORD below (a throwaway local database). Not part of `make test`: `make bench-city`.
"""
from __future__ import annotations

import argparse
import bisect
import math
import os
import random
import sqlite3
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from community.stations.models import (  # noqa: E402 - after the path
    CATEGORY_CODE,
    QUALITY_CODE,
    SOURCE_CODE,
)

PASSWORD = "bench-city-2026"  # noqa: S105 - a throwaway local benchmark database
CITY_ADMIN = "bench.city"
TZ = "Asia/Shanghai"
GRACE = 10  # minutes, every station
PER_STREET, PER_DISTRICT = 10, 10  # communities per street, streets per district
STEWARDS = 3  # per community
CHUNK = 50_000  # drop rows per executemany / COPY flush
# How likely a trip includes each category (the demo's mix; kitchen almost always).
CATEGORY_ODDS = (("kitchen", 0.93), ("other", 0.55), ("recyclable", 0.18),
                 ("hazardous", 0.015))
WEIGHT_KG = {"kitchen": (0.3, 2.5), "other": (0.2, 3.0), "recyclable": (0.2, 3.0),
             "hazardous": (0.2, 0.6)}
NOTES = ("厨余中混有塑料袋", "其他垃圾混入厨余", "可回收物未清洗", "电池投入其他垃圾桶")
MANUAL_SHARE, UNGRADED_SHARE, LATE_UPLOAD_SHARE = 0.04, 0.05, 0.03
# The bench's client ids ("b0000000001") are not UUIDs: stored in client_text, as the app
# stores such ids; category, quality and source are the models' SMALLINT codes.
DROP_COLUMNS = ("client_text", "station_id", "community_id", "category", "quality", "source",
                "household_id", "card_id", "recorded_by", "device_id", "happened_at",
                "received_at", "local_date", "in_window", "weight_kg", "note", "photo")
CATEGORY_NUMBER = dict(CATEGORY_CODE.codes)
QUALITY_NUMBER = dict(QUALITY_CODE.codes)
SOURCE_NUMBER = dict(SOURCE_CODE.codes)
DROP_INDEXES = ("ix_drop_record_community_day", "ix_drop_record_household_happened",
                "ix_drop_record_station_happened", "ix_drop_record_strikes")


def manager_login(n: int) -> str:
    """Login of the manager of the n-th community (1-based)."""
    return f"bench.m{n:04d}"


def sqlalchemy_url(url: str) -> str:
    """A plain path becomes a SQLite URL; `postgresql://` gets the psycopg driver."""
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url[len("postgresql://"):]
    if "://" not in url:
        return f"sqlite:///{Path(url).resolve()}"
    return url


def is_sqlite(url: str) -> bool:
    """Whether the URL names a SQLite file."""
    return url.startswith("sqlite")


def sqlite_path(url: str) -> Path:
    """The file of a sqlite:/// URL."""
    return Path(url.split("sqlite:///", 1)[1])


def pg_dsn(url: str) -> str:
    """A libpq DSN for psycopg from a SQLAlchemy URL."""
    return url.replace("postgresql+psycopg://", "postgresql://")


def pg_server_and_name(url: str) -> tuple[str, str]:
    """(DSN of the server's `postgres` database, database name)."""
    dsn = pg_dsn(url)
    base, name = dsn.rsplit("/", 1)
    return f"{base}/postgres", name.split("?")[0]


def remove(url: str) -> None:
    """Delete the SQLite file (and its -wal/-shm) or drop the PostgreSQL database."""
    if is_sqlite(url):
        path = sqlite_path(url)
        for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")):
            p.unlink(missing_ok=True)
        return
    import psycopg

    server, name = pg_server_and_name(url)
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def create(url: str) -> None:
    """An empty database (after `remove`), migrated to head, with the monthly partitions of
    the last 400 days (PostgreSQL)."""
    from community.cli import upgrade_database

    if not is_sqlite(url):
        import psycopg

        server, name = pg_server_and_name(url)
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    upgrade_database(url)
    today = date.today()  # noqa: DTZ011 - a month either side is covered anyway
    ensure_partitions(url, today - timedelta(days=400), today)


def ensure_partitions(url: str, first: date, last: date) -> int:
    """Make the monthly partitions of drops and ledger entries from `first`'s month to
    `last`'s (PostgreSQL; what the scheduler's job would have made over time), so bulk
    loads of past days land in their months rather than the DEFAULT partition; how many
    were made (0 on SQLite)."""
    if is_sqlite(url):
        return 0
    from sqlalchemy import create_engine
    from sqlmodel import Session

    from community import partitions

    engine = create_engine(sqlalchemy_url(url))
    try:
        with Session(engine) as session:
            made = partitions.ensure_months(session, first, last)
            session.commit()
    finally:
        engine.dispose()
    return made.created


# --- the database, through DB-API ------------------------------------------------------------

class Loader:
    """Bulk writes on one DB-API connection: executemany on SQLite, COPY on PostgreSQL.

    Values are given as Python objects and converted here to what the app itself stores
    (SQLite: naive UTC text with microseconds, dates as text, times as HH:MM:SS.ffffff).
    """

    def __init__(self, url: str) -> None:
        self.sqlite = is_sqlite(url)
        if self.sqlite:
            self.conn: Any = sqlite3.connect(sqlite_path(url), isolation_level=None)
            for pragma in ("synchronous=OFF", "journal_mode=OFF", "cache_size=-1000000",
                           "temp_store=MEMORY", "foreign_keys=OFF"):
                self.conn.execute(f"PRAGMA {pragma}")
            self.conn.execute("BEGIN")
        else:
            import psycopg

            self.conn = psycopg.connect(pg_dsn(url))
            self.conn.execute("SET synchronous_commit = off")
            self.conn.execute("SET maintenance_work_mem = '1GB'")
            superuser = self.conn.execute("SELECT rolsuper FROM pg_roles "
                                          "WHERE rolname = current_user").fetchone()[0]
            if superuser:  # skip the per-row foreign-key triggers: ids are ours
                self.conn.execute("SET session_replication_role = replica")
            else:
                print("  (not a superuser: foreign keys are checked row by row)")

    # Value conversions -----------------------------------------------------------------
    def ts(self, moment: datetime | None) -> Any:
        """An aware datetime as the UTCDateTime column stores it."""
        if moment is None or not self.sqlite:
            return moment
        return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")

    def day(self, value: date) -> Any:
        """A date as the Date column stores it."""
        return value.isoformat() if self.sqlite else value

    def tm(self, value: dtime) -> Any:
        """A time as the Time column stores it."""
        return value.strftime("%H:%M:%S.%f") if self.sqlite else value

    def sec_suffixes(self) -> list[str]:
        """':SS' endings of a timestamp text for seconds 0–59 (drops are whole seconds)."""
        return [f"{s:02d}.000000" if self.sqlite else f"{s:02d}+00" for s in range(60)]

    # Writes ---------------------------------------------------------------------------
    def insert(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        """Bulk-insert rows (in the current transaction); returns how many."""
        n = 0
        if self.sqlite:
            marks = ", ".join("?" * len(columns))
            sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608
            batch: list[Sequence[Any]] = []
            for row in rows:
                batch.append(row)
                if len(batch) >= CHUNK:
                    self.conn.executemany(sql, batch)
                    n += len(batch)
                    batch = []
            if batch:
                self.conn.executemany(sql, batch)
                n += len(batch)
            return n
        with self.conn.cursor().copy(
                f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                n += 1
        return n

    def commit(self) -> None:
        """Commit (and on SQLite open the next transaction)."""
        if self.sqlite:
            self.conn.execute("COMMIT")
            self.conn.execute("BEGIN")
        else:
            self.conn.commit()

    def scalar(self, sql: str) -> Any:
        """First column of the first row."""
        return self.conn.execute(sql).fetchone()[0]

    def drop_indexes(self) -> list[str]:
        """Drop drop_record's secondary indexes; returns the statements that rebuild them."""
        if self.sqlite:
            marks = ", ".join("?" * len(DROP_INDEXES))
            found = self.conn.execute(
                f"SELECT sql FROM sqlite_master WHERE type = 'index' AND name IN ({marks})",  # noqa: S608
                DROP_INDEXES).fetchall()
        else:
            found = self.conn.execute(
                "SELECT indexdef FROM pg_indexes WHERE tablename = 'drop_record' "
                "AND indexname = ANY(%s)", (list(DROP_INDEXES),)).fetchall()
        for name in DROP_INDEXES:
            self.conn.execute(f"DROP INDEX IF EXISTS {name}")
        self.commit()
        # A partitioned table's definitions read "ON ONLY": run as such they would index the
        # parent alone (invalid, and no partition indexed); without it they recurse.
        return [r[0].replace(" ON ONLY ", " ON ", 1) for r in found]

    def close(self, *, analyze: bool) -> None:
        """Back to the app's settings (SQLite: WAL); ANALYZE on PostgreSQL; close."""
        if self.sqlite:
            self.conn.execute("COMMIT")
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.close()
            return
        self.conn.commit()
        if analyze:
            self.conn.autocommit = True
            # What autovacuum would do soon after such a load; the planner needs the stats.
            self.conn.execute("VACUUM (ANALYZE)")
        self.conn.close()

    def fix_sequences(self, tables: Iterable[str]) -> None:
        """PostgreSQL: move each serial sequence past the ids written explicitly."""
        if self.sqlite:
            return
        for table in tables:
            self.conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)")
        self.conn.commit()


# --- the plan -------------------------------------------------------------------------------

@dataclass
class Community:
    """One generated community: ids, its profile and its households' habits."""

    n: int
    id: int
    manager_id: int
    accuracy: float
    non_participants: float
    out_of_window: float
    tallies: float
    coverage: float
    stations: list[int] = field(default_factory=list)
    categories: list[frozenset[str]] = field(default_factory=list)
    windows: dict[int, dict[tuple[int, int], int]] = field(default_factory=dict)
    recorders: list[int] = field(default_factory=list)
    stewards: list[int] = field(default_factory=list)  # steward row ids
    # (household id, propensity multiplier, station index by category, habit, sorts)
    homes: list[tuple[int, float, dict[str, int], int, float]] = field(default_factory=list)


@dataclass
class City:
    """Everything the drop and shift generators need."""

    city_id: int
    districts: list[int]
    communities: list[Community]
    households: int = 0
    accounts: int = 0


def _split(total: int, weights: Sequence[float]) -> list[int]:
    """Integers proportional to weights summing exactly to total (largest remainders)."""
    s = sum(weights)
    raw = [total * w / s for w in weights]
    out = [int(x) for x in raw]
    for i in sorted(range(len(raw)), key=lambda i: raw[i] - out[i], reverse=True)[
            :total - sum(out)]:
        out[i] += 1
    return out


def insert_people(db: Loader, accounts: Sequence[tuple[int, str, str]],
                  grants: Sequence[tuple[int, str, int]],
                  stewards: Sequence[tuple[int, int, int]], hashed: str,
                  created: datetime) -> None:
    """Accounts (id, username, name), their role grants (account, role, area) and approved
    stewards (id, community, account), all with one password hash."""
    db.insert("account", ("id", "username", "display_name", "password_hash", "active",
                          "created_at"),
              ((i, u, name, hashed, True, created) for i, u, name in accounts))
    db.insert("role_grant", ("id", "account_id", "role", "area_id", "granted_by", "created_at"),
              ((n, a, role, area, None, created) for n, (a, role, area) in
               enumerate(grants, start=1)))
    db.insert("steward", ("id", "community_id", "account_id", "status", "availability",
                          "training", "note", "created_at", "decided_by", "decided_at"),
              ((i, cid, a, "approved", "[]", "trained", "", created, None, created)
               for i, cid, a in stewards))


def build_city(db: Loader, args: argparse.Namespace, now: datetime) -> City:
    """Areas, accounts, households, stations, windows and stewards, in bulk."""
    from community.auth.services import hash_password
    from community.demo.city import plan_addresses, plan_stations, station_for_building
    from community.demo.context import MEMBER_WEIGHTS, MOVED_OUT_SHARE
    from community.stations.windows import DEFAULT_RANGES

    rng = random.Random(args.seed)
    n_comm = args.communities
    n_streets = math.ceil(n_comm / PER_STREET)
    n_districts = math.ceil(n_streets / PER_DISTRICT)
    created = db.ts(now)
    # Areas: ids in tree order, paths written directly.
    areas: list[tuple[Any, ...]] = []
    next_id = 1
    city_id = next_id
    areas.append((city_id, None, "city", "基准市", f"/{city_id}/", TZ, True, created))
    districts, streets, communities = [], [], []
    for d in range(n_districts):
        next_id += 1
        districts.append((next_id, f"/{city_id}/{next_id}/"))
        areas.append((next_id, city_id, "district", f"第{d + 1}区", districts[-1][1], TZ,
                      True, created))
    for s in range(n_streets):
        next_id += 1
        parent, path = districts[s // PER_DISTRICT]
        streets.append((next_id, f"{path}{next_id}/"))
        areas.append((next_id, parent, "street", f"第{s + 1}街道", streets[-1][1], TZ,
                      True, created))
    for c in range(n_comm):
        next_id += 1
        parent, path = streets[c // PER_STREET]
        communities.append(next_id)
        areas.append((next_id, parent, "community", f"基准社区{c + 1:04d}", f"{path}{next_id}/",
                      TZ, True, created))
    db.insert("area", ("id", "parent_id", "level", "name", "path", "timezone", "join_requests",
                       "created_at"), areas)

    # Accounts: city admin, a manager per community, stewards; one scrypt hash for all.
    hashed = hash_password(PASSWORD)
    accounts: list[tuple[Any, ...]] = [(1, CITY_ADMIN, "基准市管理员")]
    grants: list[tuple[Any, ...]] = [(1, "city_admin", city_id)]
    stewards: list[tuple[Any, ...]] = []
    tiny: list[int] = []
    account_id = 1
    plans: list[Community] = []
    for k, cid in enumerate(communities, start=1):
        account_id += 1
        accounts.append((account_id, manager_login(k), f"基准社区{k:04d}管理员"))
        grants.append((account_id, "manager", cid))
        small = rng.random() < 0.01  # a few communities too small to rate (< 30 households)
        plan = Community(
            n=k, id=cid, manager_id=account_id,
            accuracy=rng.triangular(0.78, 1.0, 0.94),
            non_participants=rng.uniform(0.02, 0.30),
            out_of_window=rng.uniform(0.02, 0.14),
            tallies=rng.uniform(0.005, 0.06),
            coverage=rng.triangular(0.7, 1.0, 0.97))
        tiny.append(rng.randint(10, 29) if small else 0)
        for j in range(1, STEWARDS + 1):
            account_id += 1
            accounts.append((account_id, f"bench.s{k:04d}.{j}", f"督导员{k:04d}-{j}"))
            grants.append((account_id, "steward", cid))
            stewards.append((len(stewards) + 1, cid, account_id))
            plan.recorders.append(account_id)
            plan.stewards.append(len(stewards))
        plans.append(plan)
    insert_people(db, accounts, grants, stewards, hashed, created)

    # Households per community: ~1 % tiny, the rest spread 0.5–1.5× around the mean.
    rest = _split(args.households - sum(tiny),
                  [0.0 if t else rng.uniform(0.5, 1.5) for t in tiny])
    sizes = [t or r for t, r in zip(tiny, rest, strict=True)]
    hh_rows: list[tuple[Any, ...]] = []
    hid = 0
    window_id = 0
    station_id = 0
    station_rows: list[tuple[Any, ...]] = []
    window_rows: list[tuple[Any, ...]] = []
    for plan, size in zip(plans, sizes, strict=True):
        crng = random.Random(f"{args.seed}:community:{plan.n}")
        addresses = plan_addresses(crng, size)
        buildings = len({b for b, _u, _r in addresses})
        lat0, lon0 = 31.3 + crng.uniform(-0.1, 0.1), 120.6 + crng.uniform(-0.3, 0.3)
        for name, location, cats in plan_stations(crng, buildings):
            station_id += 1
            station_rows.append((station_id, plan.id, name, location,
                                 round(lat0 + crng.uniform(-0.01, 0.01), 6),
                                 round(lon0 + crng.uniform(-0.01, 0.01), 6), ",".join(cats),
                                 None, "open", GRACE, created))
            plan.stations.append(station_id)
            plan.categories.append(frozenset(cats))
            plan.windows[station_id] = {}
            for weekday in range(7):
                for r, (start, end) in enumerate(DEFAULT_RANGES):
                    window_id += 1
                    window_rows.append((window_id, station_id, weekday, db.tm(start),
                                        db.tm(end)))
                    plan.windows[station_id][(weekday, r)] = window_id
        n_st = len(plan.stations)
        # Category → station index, for a household whose own station is k.
        routes = [{cat: (k if cat in plan.categories[k] else 0) for cat, _o in CATEGORY_ODDS}
                  for k in range(n_st)]
        b_acc = {b: plan.accuracy + crng.uniform(-0.08, 0.04) for b in range(1, buildings + 1)}
        homes = []
        for building, unit, room in addresses:
            hid += 1
            moved = crng.random() < MOVED_OUT_SHARE
            members = crng.choices(range(1, 7), weights=MEMBER_WEIGHTS)[0]
            hh_rows.append((hid, plan.id, building, unit, room, members,
                            "moved_out" if moved else "active", False, created, created))
            if moved or crng.random() < plan.non_participants:
                continue
            b = int(building)
            sorts = min(0.995, max(0.3, b_acc[b] + crng.gauss(0, 0.03)))
            home = station_for_building(b, buildings, n_st)
            homes.append((hid, 0.3 + 1.4 * crng.random(), routes[home],
                          int(crng.random() < 0.55), sorts))
        plan.homes = homes
    db.insert("household", ("id", "community_id", "building", "unit", "room", "members",
                            "status", "honour_opt_out", "created_at", "updated_at"), hh_rows)
    db.insert("station", ("id", "community_id", "name", "location", "latitude", "longitude",
                          "categories", "chief_id", "status", "grace_minutes", "created_at"),
              station_rows)
    db.insert("station_window", ("id", "station_id", "weekday", "start_time", "end_time"),
              window_rows)
    db.commit()
    return City(city_id, [d for d, _p in districts], plans, len(hh_rows), len(accounts))


# --- shifts and check-ins -----------------------------------------------------------------

def local_midnight_utc(day: date) -> datetime:
    """UTC instant of local midnight starting `day`."""
    return datetime.combine(day, dtime(0), tzinfo=ZoneInfo(TZ)).astimezone(UTC)


def shifts(db: Loader, city: City, days: list[date], seed: int, now: datetime) -> tuple[int, int]:
    """A shift per station window and day; a steward checks in on most (per community)."""
    from community.stations.windows import DEFAULT_RANGES

    rng = random.Random(f"{seed}:shifts")
    created = db.ts(now)
    shift_rows: list[tuple[Any, ...]] = []
    assignment_rows: list[tuple[Any, ...]] = []
    sid = 0
    for day in days:
        zone = ZoneInfo(TZ)
        spans = [(datetime.combine(day, a, tzinfo=zone).astimezone(UTC),
                  datetime.combine(day, b, tzinfo=zone).astimezone(UTC))
                 for a, b in DEFAULT_RANGES]
        for plan in city.communities:
            for station in plan.stations:
                for r, (start, end) in enumerate(spans):
                    if end > now:
                        continue  # not over yet: no check-in/out to record
                    sid += 1
                    shift_rows.append((sid, plan.id, station,
                                       plan.windows[station][(day.weekday(), r)], db.day(day),
                                       db.ts(start), db.ts(end), 1, "open", created, created))
                    if rng.random() >= plan.coverage:
                        continue
                    came = start + timedelta(minutes=rng.uniform(-10, 20))
                    left = end + timedelta(minutes=rng.uniform(-15, 10))
                    assignment_rows.append((
                        len(assignment_rows) + 1, sid, rng.choice(plan.stewards), "done",
                        created, db.ts(came), "code", db.ts(left), "code",
                        int((left - came).total_seconds() // 60), "pending", ""))
    db.insert("shift", ("id", "community_id", "station_id", "window_id", "local_date",
                        "starts_at", "ends_at", "needed", "status", "created_at", "updated_at"),
              shift_rows)
    db.insert("shift_assignment", ("id", "shift_id", "steward_id", "status", "created_at",
                                   "checked_in_at", "check_in_method", "checked_out_at",
                                   "check_out_method", "minutes", "hours_status",
                                   "correction_reason"), assignment_rows)
    db.commit()
    return len(shift_rows), len(assignment_rows)


# --- drops --------------------------------------------------------------------------------

def _trip_table() -> tuple[list[float], list[tuple[str, ...]], float]:
    """Every subset of categories a trip can hold, with cumulative odds; and drops per trip."""
    combos: list[tuple[float, tuple[str, ...]]] = []
    for mask in range(1 << len(CATEGORY_ODDS)):
        p, cats = 1.0, []
        for bit, (cat, odds) in enumerate(CATEGORY_ODDS):
            if mask >> bit & 1:
                p *= odds
                cats.append(cat)
            else:
                p *= 1 - odds
        combos.append((p, tuple(cats) or ("kitchen",)))  # nothing else: just the kitchen bin
    cumulative, acc = [], 0.0
    for p, _c in combos:
        acc += p
        cumulative.append(acc)
    per_trip = sum(p * len(c) for p, c in combos)
    return cumulative, [c for _p, c in combos], per_trip


# Local seconds of the default windows widened by the grace, for the in-window check.
_W = [(7 * 3600 - GRACE * 60, 9 * 3600 + GRACE * 60), (18 * 3600 - GRACE * 60,
                                                       20 * 3600 + GRACE * 60)]


class DropMaker:
    """Draws drop rows, day by day and community by community, from the seed."""

    def __init__(self, db: Loader, city: City, seed: int) -> None:
        self.db, self.city = db, city
        self.rng = random.Random(f"{seed}:drops")
        self.cumulative, self.combos, self.per_trip = _trip_table()
        self.suffix = db.sec_suffixes()
        self.serial = 0
        self.weight_sum = sum(h[1] for c in city.communities for h in c.homes)

    def day_rows(self, day: date, trip_p: float, *, until: int = 86_400 * 2
                 ) -> Iterator[tuple[Any, ...]]:
        """All drop rows of one local day; `until`: local seconds cutoff (today: now)."""
        rnd = self.rng.random
        bis = bisect.bisect
        cumulative, combos, suffix = self.cumulative, self.combos, self.suffix
        start = local_midnight_utc(day)
        # 'YYYY-MM-DD HH:MM:' of each local minute of the day (plus an hour for late uploads).
        minutes = [(start + timedelta(minutes=m)).strftime("%Y-%m-%d %H:%M:")
                   for m in range(26 * 60 + 2)]
        local_date = self.db.day(day)
        (m0, m1), (e0, e1) = _W
        for plan in self.city.communities:
            if not plan.homes:
                continue
            cid, stations, recorders = plan.id, plan.stations, plan.recorders
            n_rec = len(recorders)
            oow, tallies = plan.out_of_window, plan.tallies
            for hid, mult, route, habit, sorts in plan.homes:
                if rnd() >= mult * trip_p:
                    continue
                cats = combos[bis(cumulative, rnd())]
                # When: mostly inside the household's usual window (grace included).
                if rnd() >= oow:
                    lo, hi = _W[habit]
                    t = int(lo + rnd() * (hi - lo))
                else:
                    kind = rnd()
                    w = (25_200, 32_400) if habit == 0 else (64_800, 72_000)
                    if kind < 0.55:  # just outside the window, past the grace
                        gap = int((GRACE + 1 + rnd() * 44) * 60)
                        t = w[0] - gap if rnd() < 0.45 else w[1] + gap
                    else:  # around noon or late evening
                        t = (39_600 if kind < 0.75 else 73_800) + int(rnd() * 9000)
                if t >= until:
                    continue
                tally = rnd() < tallies
                for cat in cats:
                    k = route[cat]
                    if rnd() < UNGRADED_SHARE:
                        quality = "ungraded"
                    else:
                        slip = 0.04 if cat == "kitchen" else 0.10 if cat == "hazardous" else 0.0
                        quality = "correct" if rnd() < sorts - slip else "incorrect"
                    weight = None
                    if k == 0:  # the main station stands on a scale
                        lo_kg, hi_kg = WEIGHT_KG[cat]
                        weight = round(lo_kg + rnd() * (hi_kg - lo_kg), 2)
                    delay = (60 + int(rnd() * 3540) if rnd() < LATE_UPLOAD_SHARE
                             else 1 + int(rnd() * 20))
                    self.serial += 1
                    r = min(t + delay, until)  # today: nothing received after now
                    yield (f"b{self.serial:010d}", stations[k], cid, CATEGORY_NUMBER[cat],
                           QUALITY_NUMBER[quality], SOURCE_NUMBER[
                               "tally" if tally else "manual" if rnd() < MANUAL_SHARE
                               else "scan"],
                           None if tally else hid, None, recorders[int(rnd() * n_rec)], None,
                           minutes[t // 60] + suffix[t % 60], minutes[r // 60] + suffix[r % 60],
                           local_date, m0 <= t <= m1 or e0 <= t <= e1, weight,
                           NOTES[int(rnd() * 4)] if quality == "incorrect" and rnd() < 0.2
                           else None, None)
                    t += 5 + int(rnd() * 35)  # the next bin of the same trip


def load_drops(db: Loader, city: City, days: list[date], target: int, seed: int,
               now: datetime) -> int:
    """`target` drops (a little more) over the full days, then today up to now."""
    maker = DropMaker(db, city, seed)
    written = 0
    t0 = time.perf_counter()
    full = days[:-1]
    for n, day in enumerate(full):
        left_days = len(full) - n
        # Steer each day toward the remaining target; aim 1 % high on the last day so the
        # total is at least the target.
        goal = (target - written) / left_days * (1.01 if left_days == 1 else 1.0)
        trip_p = max(0.0, goal / (maker.per_trip * maker.weight_sum))
        written += db.insert("drop_record", DROP_COLUMNS, maker.day_rows(day, trip_p))
        db.commit()
        if n % 10 == 9 or left_days == 1:
            el = time.perf_counter() - t0
            print(f"  drops: day {n + 1}/{len(full)} ({day}), {written:,} rows, "
                  f"{el:.0f} s, {written / el:,.0f} rows/s", flush=True)
    today = days[-1]
    seconds = int((now - local_midnight_utc(today)).total_seconds())
    trip_p = target / len(full) / (maker.per_trip * maker.weight_sum)
    extra = db.insert("drop_record", DROP_COLUMNS, maker.day_rows(today, trip_p, until=seconds))
    db.commit()
    print(f"  drops: today ({today}) until now: {extra:,} rows")
    return written + extra


def tonnage(db: Loader, city: City, days: list[date], now: datetime) -> int:
    """Monthly tonnage for the city and each district (a plausible split, tonnes)."""
    rng = random.Random("tonnage")
    months = sorted({d.replace(day=1) for d in days})
    rows = []
    n = 0
    for area, scale in [(city.city_id, 40.0), *((d, 4.0) for d in city.districts)]:
        for month in months:
            n += 1
            vals = [round(scale * rng.uniform(a, b), 2) for a, b in
                    ((90, 110), (250, 300), (40, 60), (120, 150), (20, 40))]
            rows.append((n, area, db.day(month), *vals, None, db.ts(now)))
    return db.insert("tonnage_entry", ("id", "area_id", "month", "recyclables",
                                       "incineration_grate", "incineration_fluid", "kitchen",
                                       "landfill", "entered_by", "entered_at"), rows)


# --- rollups ------------------------------------------------------------------------------

def roll_up(url: str, days: list[date], *, by_ids: bool) -> list[float]:
    """Build every day's rollups as the nightly job does; seconds per day."""
    from sqlmodel import Session

    from community.areas.models import Area
    from community.db import make_engine
    from community.ratings import rollups

    engine = make_engine(url)
    out = []
    try:
        with Session(engine) as s:
            ids = list(s.execute(Area.__table__.select().with_only_columns(Area.__table__.c.id)
                                 .where(Area.__table__.c.level == "community")).scalars())
        for n, day in enumerate(days):
            t0 = time.perf_counter()
            with Session(engine) as s:
                got = rollups.build_day(s, day, community_ids=ids if by_ids else None)
                s.commit()
            out.append(time.perf_counter() - t0)
            if n % 10 == 9 or n == len(days) - 1 or n == 0:
                print(f"  rollup {day}: {got.drops:,} drops, {got.station_rows:,} station rows,"
                      f" {out[-1]:.2f} s (total {sum(out):.0f} s)", flush=True)
    finally:
        engine.dispose()
    return out


# --- main ---------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    """Parse options, generate, print the times."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True,
                        help="a SQLite file path/URL or a PostgreSQL URL (database bench_city)")
    parser.add_argument("--communities", type=int, default=1000)
    parser.add_argument("--households", type=int, default=500_000)
    parser.add_argument("--days", type=int, default=90, help="full days, ending yesterday")
    parser.add_argument("--drops", type=int, default=20_000_000, help="over the full days")
    parser.add_argument("--seed", type=int, default=20261121)
    parser.add_argument("--fresh", action="store_true",
                        help="delete the file / drop and create the database first")
    parser.add_argument("--remove", action="store_true",
                        help="only delete the file / drop the database, then exit")
    parser.add_argument("--no-rollup", action="store_true")
    parser.add_argument("--rollup-as-job", action="store_true",
                        help="call build_day(day) as the nightly job does (no community ids: "
                             "a scan of the whole drop table per day); by default every "
                             "community id is passed, which builds the same rows")
    args = parser.parse_args(argv)
    url = sqlalchemy_url(args.url)
    if args.remove:
        remove(url)
        print(f"removed {url}")
        return 0
    started = time.perf_counter()
    print(f"bench/citygen.py {url}: {args.communities:,} communities, {args.households:,} "
          f"households, {args.drops:,} drops over {args.days} days (seed {args.seed}); "
          f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}; "
          f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC", flush=True)
    if args.fresh:
        remove(url)
    t = time.perf_counter()
    if args.fresh or (is_sqlite(url) and not sqlite_path(url).exists()):
        create(url)
    else:
        from community.cli import upgrade_database

        upgrade_database(url)
    timings = {"migrate": time.perf_counter() - t}
    db = Loader(url)
    if db.scalar("SELECT count(*) FROM area"):
        print("the database is not empty: use --fresh (or another --url)")
        return 2
    now = datetime.now(UTC).replace(microsecond=0)
    today = now.astimezone(ZoneInfo(TZ)).date()
    days = [today - timedelta(days=k) for k in range(args.days, -1, -1)]  # ..., today

    t = time.perf_counter()
    city = build_city(db, args, now)
    timings["city"] = time.perf_counter() - t
    print(f"  city: {len(city.communities):,} communities, {city.households:,} households, "
          f"{sum(len(c.stations) for c in city.communities):,} stations, "
          f"{city.accounts:,} accounts ({timings['city']:.1f} s)", flush=True)

    t = time.perf_counter()
    n_shifts, n_checkins = shifts(db, city, days, args.seed, now)
    tonnage(db, city, days, now)
    db.commit()
    timings["shifts"] = time.perf_counter() - t
    print(f"  shifts: {n_shifts:,} with {n_checkins:,} check-ins ({timings['shifts']:.1f} s)",
          flush=True)

    t = time.perf_counter()
    rebuild = db.drop_indexes()
    drops = load_drops(db, city, days, args.drops, args.seed, now)
    timings["drops"] = time.perf_counter() - t
    t = time.perf_counter()
    for sql in rebuild:
        db.conn.execute(sql)
    db.commit()
    db.fix_sequences(("area", "account", "role_grant", "steward", "household", "station",
                      "station_window", "shift", "shift_assignment", "tonnage_entry"))
    timings["indexes"] = time.perf_counter() - t
    print(f"  indexes rebuilt ({timings['indexes']:.1f} s)", flush=True)
    t = time.perf_counter()
    db.close(analyze=True)
    timings["analyze"] = time.perf_counter() - t
    generated = time.perf_counter() - started
    print(f"generated {drops:,} drops in {timings['drops']:.0f} s "
          f"({drops / timings['drops']:,.0f} rows/s); whole generation {generated:.0f} s "
          f"(migrate {timings['migrate']:.1f}, city {timings['city']:.1f}, shifts "
          f"{timings['shifts']:.1f}, indexes {timings['indexes']:.1f}, "
          f"analyze {timings['analyze']:.1f})", flush=True)
    if not args.no_rollup:
        per_day = roll_up(url, days[:-1], by_ids=not args.rollup_as_job)
        ordered = sorted(per_day)
        print(f"rolled up {len(per_day)} days in {sum(per_day):.0f} s (per day: median "
              f"{ordered[len(ordered) // 2]:.2f} s, max {ordered[-1]:.2f} s)")
    if is_sqlite(url):
        size = sum(p.stat().st_size for p in sqlite_path(url).parent.glob(
            sqlite_path(url).name + "*"))
        print(f"SQLite file: {size / 2**30:.2f} GiB")
    print(f"total {time.perf_counter() - started:.0f} s; logins: {CITY_ADMIN} (city admin), "
          f"{manager_login(1)}… (managers), password {PASSWORD}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
