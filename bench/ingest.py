"""Ingestion benchmark: the drop API under gunicorn against the raw database rate.

For each backend (SQLite, PostgreSQL) it makes a fresh database, migrates it with
`flask --app wsgi db upgrade`, seeds one community (stations, households with cards, a
device token) through the app's own services, starts gunicorn on loopback and drives
N concurrent clients for a fixed time in four phases:

    raw-single   the scan use case's transaction written directly against the database,
                 one transaction per drop: on PostgreSQL as a careful psycopg program
                 would (`CarefulRaw`: prepared constant texts, custom plans, pipeline
                 mode, the app's points rules, so it writes the app's ledger); on SQLite
                 the app's captured statements (`Raw`)
    http-single  POST /api/v1/drops, one drop per request (device bearer token)
    raw-batch    the same statements for 100 drops in one transaction
    http-batch   POST /api/v1/drops/batch with 100 drops per request

It reports throughput and p50/p99 latency per phase and the HTTP/raw ratios, then checks
the database: every acknowledged client id stored exactly once, nothing stored that was
not sent, and replays (sequential and 32 concurrent posts of one client id) store nothing.

    .venv/bin/python bench/ingest.py                     # both backends, 8 clients, 20 s
    .venv/bin/python bench/ingest.py --backend sqlite --duration 5 --clients 4

Bounded: loopback only, fixed durations, every process it starts is stopped at the end.
Not part of `make test`; `make bench` runs it.
"""
from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import random
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any, cast

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
sys.path.insert(0, str(ROOT))

from community.stations import rules as scan_rules  # noqa: E402 - after the path
from community.stations.models import (  # noqa: E402 - after the path
    CATEGORY_CODE,
    QUALITY_CODE,
    SOURCE_CODE,
    client_id_of,
    split_client_id,
)

DEVICE_SOURCE = SOURCE_CODE.number("device")
INCORRECT = QUALITY_CODE.number("incorrect")
CATEGORY_NAME = {n: c for c, n in CATEGORY_CODE.codes}  # what raw SQL reads back
QUALITY_NAME = {n: c for c, n in QUALITY_CODE.codes}

BATCH = 100
CATEGORIES = ("kitchen", "other", "recyclable")
QUALITIES = ("correct", "correct", "correct", "incorrect", "ungraded")
# A drop's client id is stored in `client_uuid` (a UUID in canonical text) or `client_text`
# (any other id: the bench's "<phase>-<worker>-<n>-<k>" ids), and category, quality and
# source as SMALLINT codes (`community.stations.models`): both clients write the numbers.
DROP_COLUMNS = ("client_uuid", "client_text", "station_id", "community_id", "category",
                "quality", "source", "household_id", "card_id", "recorded_by", "device_id",
                "happened_at", "received_at", "local_date", "in_window", "weight_kg", "note",
                "photo")
COLUMNS = ", ".join(DROP_COLUMNS)
DROP_TYPES = dict(zip(DROP_COLUMNS, (
    "uuid", "varchar", "integer", "integer", "smallint", "smallint", "smallint", "integer",
    "integer", "integer", "integer", "timestamptz", "timestamptz", "date", "boolean", "numeric",
    "varchar", "varchar"), strict=True))
# The INSERT names each row's reserved id and carries its points (the app since 09057da).
INSERT_TYPES = {"id": "integer", **DROP_TYPES, "repeat_of": "integer", "points": "smallint"}
TARGET_SINGLE, TARGET_BATCH = 0.40, 0.60  # issue 16
ALL_DAY = dtime(0, 0)
# The careful client's plans: custom ones, as the app's (measured cheaper here than generic
# or auto, see community.db.make_engine); BENCH_PLAN_CACHE_MODE=auto|force_generic_plan.
PLAN_CACHE_MODE = os.environ.get("BENCH_PLAN_CACHE_MODE", "force_custom_plan")


# --- seeding, through the app's services --------------------------------------------------

@dataclass
class Seed:
    """What the clients need: where to drop, with which cards, and the device's token."""

    community_id: int
    station_ids: list[int]
    device_id: int
    device_token: str
    cards: list[tuple[str, int, int]]  # (token, card id, household id)


def seed(url: str, households: int, stations: int) -> Seed:
    """One community with `stations` stations (default windows), households with cards, a device."""
    from sqlalchemy import insert, select
    from sqlmodel import Session

    from community import create_app
    from community.areas import services as area_services
    from community.areas.schemas import AreaIn
    from community.auth import services as auth_services
    from community.auth.schemas import AccountIn
    from community.db import get_engine
    from community.households import codes
    from community.households.models import Card, Household
    from community.stations import services as stations_services
    from community.stations.manage import services as stations_manage
    from community.stations.models import Station, StationWindow
    from community.stations.schemas import DeviceIn

    app = create_app({"DATABASE_URL": url})
    engine = get_engine(app)
    with app.app_context(), Session(engine, expire_on_commit=False) as s:
        city = area_services.add_area(s, parent=None, level="city",
                                      data=AreaIn.parse(name="苏州市"))
        district = area_services.add_area(s, parent=city, level="district",
                                          data=AreaIn.parse(name="昆山市"))
        street = area_services.add_area(s, parent=district, level="street",
                                        data=AreaIn.parse(name="玉山镇"))
        community = area_services.add_area(s, parent=street, level="community",
                                           data=AreaIn.parse(name="基准社区"))
        manager = auth_services.create_account(s, data=AccountIn.parse(
            display_name="bench", username="bench.manager", password=secrets.token_urlsafe(16)))
        auth_services.add_grant(s, account=manager, role="manager", area=community)
        station_ids = []
        now = datetime.now(UTC)
        for n in range(1, stations + 1):
            # Open around the clock (an end not after the start runs past midnight), for a
            # year: every drop is in its window whatever the hour of the run, so each one
            # goes the whole way through the ledger (earn, daily cap, streaks, strikes).
            station = Station(community_id=community.id, name=f"{n}号楼投放点", grace_minutes=10,
                              created_at=now - timedelta(days=365))
            s.add(station)
            s.flush()
            s.add_all(StationWindow(station_id=station.id, weekday=d, start_time=ALL_DAY,
                                    end_time=ALL_DAY) for d in range(7))
            s.flush()
            stations_manage.start_history(s, station, community.timezone)
            station_ids.append(station.id)
        s.execute(insert(Household.__table__), [
            {"community_id": community.id, "building": str(1 + n // 100), "unit": "1",
             "room": str(101 + n % 100), "members": 3, "status": "active",
             "created_at": now, "updated_at": now} for n in range(households)])
        hh_ids = s.execute(select(Household.__table__.c.id)
                           .where(Household.__table__.c.community_id == community.id)).scalars()
        s.execute(insert(Card.__table__), [
            {"community_id": community.id, "household_id": h, "token": codes.new_token(),
             "short_code": f"B{n:07d}",
             "status": "active",
             "issued_at": now} for n, h in enumerate(hh_ids)])
        actor = auth_services.load_actor(s, manager.id)
        device, token = stations_services.issue_device(s, actor=actor, community_id=community.id,
                                                       data=DeviceIn.parse(name="bench kiosk"))
        s.commit()
        cards = [tuple(r) for r in s.execute(
            select(Card.__table__.c.token, Card.__table__.c.id, Card.__table__.c.household_id))]
        out = Seed(community.id, station_ids, device.id, token, cards)  # type: ignore[arg-type]
    engine.dispose()
    return out


# --- the phases ---------------------------------------------------------------------------

@dataclass
class Phase:
    """One timed phase: operations (requests or transactions), drops, latencies, client ids."""

    name: str
    drops_per_op: int
    ops: int = 0
    errors: int = 0
    elapsed: float = 0.0
    latencies: list[float] = field(default_factory=list)
    sent: set[str] = field(default_factory=set)
    acked: set[str] = field(default_factory=set)
    samples: list[str] = field(default_factory=list)  # first few error messages
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds: app, db, client

    def cpu_ms(self, who: str) -> float:
        """CPU milliseconds per acknowledged drop spent by `who` (app, db or client)."""
        return 1000 * self.cpu.get(who, 0.0) / self.drops if self.drops else float("nan")

    @property
    def drops(self) -> int:
        """Acknowledged drops."""
        return len(self.acked)

    @property
    def rate(self) -> float:
        """Acknowledged drops per second."""
        return self.drops / self.elapsed if self.elapsed else 0.0

    def pct(self, p: float) -> float:
        """Latency percentile in milliseconds."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, int(p * len(ordered)))]


# A worker gets (sequence number) and returns (client ids sent, client ids acknowledged).
Worker = Callable[[int], tuple[list[str], list[str]]]


# --- CPU accounting: who spent how much CPU on a phase (Linux /proc) ----------------------

TICK = os.sysconf("SC_CLK_TCK")


def _proc_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far; 0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime (fields 14 and 15)


def _group_pids(pgid: int) -> list[int]:
    """The processes of a process group (gunicorn's master and workers)."""
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


class Meter:
    """CPU seconds so far of the app (gunicorn's process group, or nothing on the raw
    phases: the raw client is this process), of PostgreSQL's client backends serving the
    bench database (not the other databases of a shared server, nor autovacuum, whose work
    lands in whichever phase runs when it wakes) and of this process (the clients).
    Read before and after a phase; the difference is what the phase cost."""

    def __init__(self, app_pgid: int | None, dsn: str | None, dbname: str | None) -> None:
        self.app_pgid, self.dsn, self.dbname = app_pgid, dsn, dbname
        self.db_seen: dict[int, float] = {}

    def _db_pids(self) -> list[int]:
        if not self.dsn:
            return []
        import psycopg

        with psycopg.connect(self.dsn, autocommit=True) as conn:
            return [r[0] for r in conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> "
                "pg_backend_pid() AND backend_type = 'client backend'", (self.dbname,))]

    def read(self) -> dict[str, float]:
        """Cumulative CPU seconds per party; a backend that left keeps its last reading."""
        for pid in self._db_pids():
            self.db_seen[pid] = max(self.db_seen.get(pid, 0.0), _proc_cpu(pid))
        app = sum(_proc_cpu(p) for p in _group_pids(self.app_pgid)) if self.app_pgid else 0.0
        return {"app": app, "db": sum(self.db_seen.values()), "client": time.process_time()}


def run_phase(name: str, drops_per_op: int, clients: int, duration: float,
              make_worker: Callable[[int], tuple[Worker, Callable[[], None]]],
              meter: Meter | None = None) -> Phase:
    """Run `clients` threads, each calling its worker in a loop until the deadline."""
    phase = Phase(name, drops_per_op)
    lock = threading.Lock()
    # Gates (every client and this thread): connected, go, stopped (the CPU is read while
    # the connections and their database backends still exist), closed.
    ready, start_gate, stopped, release = (threading.Barrier(clients + 1, timeout=300)
                                           for _ in range(4))
    deadline = [0.0]

    def loop(index: int) -> None:
        work, close = make_worker(index)
        lat: list[float] = []
        sent: list[str] = []
        acked: list[str] = []
        errors, ops = 0, 0
        ready.wait()
        start_gate.wait()
        try:
            seq = 0
            while time.perf_counter() < deadline[0]:
                seq += 1
                t0 = time.perf_counter()
                try:
                    s, a = work(seq)
                except Exception as exc:  # noqa: BLE001 - counted and reported, never hidden
                    errors += 1
                    with lock:
                        if len(phase.samples) < 5:
                            phase.samples.append(f"{type(exc).__name__}: {exc}"[:300])
                    continue
                lat.append(time.perf_counter() - t0)
                ops += 1
                sent += s
                acked += a
                if len(a) != len(s):
                    errors += 1
        finally:
            stopped.wait()
            release.wait()
            close()
            with lock:
                phase.latencies += lat
                phase.sent.update(sent)
                phase.acked.update(acked)
                phase.errors += errors
                phase.ops += ops

    threads = [threading.Thread(target=loop, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    ready.wait()
    before = meter.read() if meter else {}
    deadline[0] = time.perf_counter() + duration
    t0 = time.perf_counter()
    start_gate.wait()
    stopped.wait()
    phase.elapsed = time.perf_counter() - t0
    if meter:
        after = meter.read()
        phase.cpu = {k: after[k] - before.get(k, 0.0) for k in after}
    release.wait()
    for t in threads:
        t.join(120)
    return phase


# A household's drops get their category and device time from its own count of drops in
# the run: the categories in turn, and every four drops 12 minutes further back. No drop
# then repeats another of its household and category within the 10-minute duplicate window
# (a repeat is stored but never scored), whatever phase made it: the phases measure
# scoring, not the repeat check. (With the categories drawn at random and every device time
# "now", 48-100 % of a phase's drops were repeats: later phases found the earlier ones'.)
# A household drops about 25 times in a run, so device times go back about 1.5 hours;
# they stay in the bench stations' all-day windows.
SLOT = timedelta(minutes=12)
_slots: dict[int, int] = {}
_slots_lock = threading.Lock()


def reset_slots() -> None:
    """Forget the households' counts (a new database)."""
    with _slots_lock:
        _slots.clear()


def _slot(rng: random.Random, household_id: int) -> tuple[str, datetime]:
    """The next (category, device time) of a household's drop (see SLOT)."""
    with _slots_lock:
        n = _slots.get(household_id, 0)
        _slots[household_id] = n + 1
    return CATEGORIES[n % len(CATEGORIES)], (
        datetime.now(UTC) - (n // len(CATEGORIES)) * SLOT - timedelta(seconds=rng.uniform(0, 5)))


def _repeats(rows: list[tuple], ids: list[int],
             earlier: dict[tuple[int, int], list[tuple[int, datetime]]]) -> dict[int, int | None]:
    """Reserved id → the drop it repeats (None: scored), as the app marks repeats
    (`stations.services._mark_repeats`, `_place_repeats`): in device-time order, of a stored
    drop (`earlier`: (household, category number) → [(id, device time)]) or of an earlier
    row of the batch (a placeholder -(position + 1), then that row's reserved id). Rows:
    (client id, station, card, household, category, quality, device time)."""
    repeat_of: dict[int, int | None] = {}
    for k in sorted(range(len(rows)), key=lambda k: (rows[k][6], k)):
        seen = earlier.setdefault((rows[k][3], CATEGORY_CODE.number(rows[k][4])), [])
        ref = scan_rules.repeat_of(seen, rows[k][6])
        repeat_of[ids[k]] = ids[-ref - 1] if ref is not None and ref < 0 else ref
        seen.append((-(k + 1), rows[k][6]))
    return repeat_of


def _drop_body(rng: random.Random, seed_: Seed, client_id: str) -> tuple[dict[str, Any], tuple]:
    token, card_id, hh_id = rng.choice(seed_.cards)
    category, happened = _slot(rng, hh_id)
    body = {"client_id": client_id, "station_id": rng.choice(seed_.station_ids),
            "category": category, "quality": rng.choice(QUALITIES),
            "happened_at": happened.isoformat(), "card": token}
    if body["quality"] == "incorrect":  # an incorrect verdict always names its reason
        body["reason_code"] = "kitchen_plastic_bag"
    return body, (card_id, hh_id, happened)


class Http:
    """A keep-alive HTTP/1.1 connection to the app (reconnects after an error)."""

    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def post(self, path: str, body: Any) -> tuple[int, Any]:
        """POST JSON, return (status, decoded JSON)."""
        try:
            self.conn.request("POST", path, body=json.dumps(body), headers=self.headers)
            resp = self.conn.getresponse()
            data = resp.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            raise
        return resp.status, json.loads(data or b"null")

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()


def http_single(port: int, seed_: Seed, prefix: str, rng_seed: int):
    """Worker factory: one drop per POST /api/v1/drops; acknowledged = 201 and not a replay."""
    def make(index: int) -> tuple[Worker, Callable[[], None]]:
        client = Http(port, seed_.device_token)
        rng = random.Random(f"{rng_seed}:{prefix}:{index}")

        def work(seq: int) -> tuple[list[str], list[str]]:
            cid = f"{prefix}-{index}-{seq}"
            body, _ = _drop_body(rng, seed_, cid)
            status, data = client.post("/api/v1/drops", body)
            if status != 201 or data.get("replay") or data.get("client_id") != cid:
                raise RuntimeError(f"HTTP {status}: {str(data)[:200]}")
            return [cid], [cid]
        return work, client.close
    return make


def http_batch(port: int, seed_: Seed, prefix: str, rng_seed: int):
    """Worker factory: BATCH drops per POST /api/v1/drops/batch."""
    def make(index: int) -> tuple[Worker, Callable[[], None]]:
        client = Http(port, seed_.device_token)
        rng = random.Random(f"{rng_seed}:{prefix}:{index}")

        def work(seq: int) -> tuple[list[str], list[str]]:
            ids = [f"{prefix}-{index}-{seq}-{k}" for k in range(BATCH)]
            status, data = client.post("/api/v1/drops/batch",
                                       {"drops": [_drop_body(rng, seed_, c)[0] for c in ids]})
            if status != 200:
                raise RuntimeError(f"HTTP {status}: {str(data)[:200]}")
            acked = [r["drop"]["client_id"] for r in data["results"]
                     if r["ok"] and not r["drop"]["replay"]]
            if data["failed"]:
                bad = next(r for r in data["results"] if not r["ok"])
                raise RuntimeError(f"batch item failed: {bad}")
            return ids, acked
        return work, client.close
    return make


# --- the raw path: the service's statements, written directly in SQL ------------------------

class Raw:
    """The statements `record_drops` runs for a device request, on a DB-API connection.

    The SQL text is assembled from constant column names and placeholders only (S608).
    """

    def __init__(self, backend: str, dsn: str, seed_: Seed) -> None:
        self.backend, self.seed = backend, seed_
        self.token_hash = hashlib.sha256(seed_.device_token.encode()).hexdigest()
        if backend == "sqlite":
            self.conn = sqlite3.connect(dsn, isolation_level=None, timeout=30,
                                        check_same_thread=False)
            for pragma in ("journal_mode=WAL", "foreign_keys=ON", "busy_timeout=30000",
                           "synchronous=NORMAL"):
                self.conn.execute(f"PRAGMA {pragma}")
            self.mark = "?"
        else:
            import psycopg

            self.conn = psycopg.connect(dsn)
            self.mark = "%s"

    def _q(self, sql: str, n: int = 1) -> str:
        return sql.replace("{in}", ", ".join([self.mark] * n)).replace("?", self.mark)

    def _in(self, expr: str, values: list[Any]) -> tuple[str, list[Any]]:
        """`expr` matching any of `values`, as the app writes it (`community.rows.any_of`):
        one array parameter on PostgreSQL, IN (?, …) on SQLite."""
        if self.backend == "sqlite":
            return f"{expr} IN ({', '.join('?' * len(values))})", list(values)
        return f"{expr} = ANY(%s)", [list(values)]

    def _insert(self, cur: Any, table: str, columns: dict[str, str], rows: list[list[Any]],
                tail: str) -> list[tuple]:
        """INSERT of many rows as the app writes it (`community.rows.insert_rows`): one
        array per column through unnest() on PostgreSQL, a multi-row VALUES on SQLite.
        `columns`: name → PostgreSQL type; `tail`: ON CONFLICT … [RETURNING …]."""
        names = ", ".join(columns)
        if self.backend == "sqlite":
            one = "(" + ", ".join("?" * len(columns)) + ")"
            cur.execute(f"INSERT INTO {table} ({names}) VALUES "  # noqa: S608
                        + ", ".join([one] * len(rows)) + " " + tail,
                        [v for r in rows for v in r])
        else:
            arrays = ", ".join(f"unnest(%s::{t}[])" for t in columns.values())
            cur.execute(f"INSERT INTO {table} ({names}) SELECT {arrays} {tail}",  # noqa: S608
                        [list(c) for c in zip(*rows, strict=True)])
        return cur.fetchall() if "RETURNING" in tail else []

    def _uuid(self, value: Any) -> Any:
        # How sqlalchemy.Uuid binds: 32 hex digits on SQLite, a UUID on PostgreSQL.
        return value.hex if self.backend == "sqlite" and value is not None else value

    def _client_id(self, u: Any, t: str | None) -> str:
        if u is None:
            return cast(str, t)
        return str(uuid.UUID(hex=u) if isinstance(u, str) else u)

    def _ts(self, moment: datetime) -> Any:
        # How UTCDateTime binds: naive UTC text on SQLite, aware on PostgreSQL.
        if self.backend == "sqlite":
            return moment.astimezone(UTC).replace(tzinfo=None).isoformat(" ")
        return moment

    def record(self, rows: list[tuple[str, int, int, int, str, str, datetime]]) -> list[str]:
        """One transaction for `rows` (client id, station, card, household, category, quality,
        happened); returns the client ids inserted.

        The statements `stations.services.record_drops` runs for a device request (captured
        from the app with a statement hook, in its order): the device, date exceptions,
        replays, cards, the duplicate-window read, the new rows' ids reserved, the points'
        scoring of the drops not yet stored (`_score`), the drops' INSERT carrying each
        row's points (each row written once, as the app since 09057da), then the ledger's
        entries and the balances. Station schedules are cached per process by the app
        (30 s), so neither side reads them per request. Drops of today are not late: no
        dirty-day mark, as in the app.
        """
        cur = self.conn.cursor()
        if self.backend == "sqlite":
            cur.execute("BEGIN IMMEDIATE")
        households = sorted({r[3] for r in rows})
        happened = [r[6] for r in rows]
        today = datetime.now(UTC).date()
        community = self.seed.community_id  # every hot-table statement names it, as the app
        try:
            cur.execute(self._q("SELECT device.id, device.community_id, device.station_id, "
                                "device.name, device.token_hash, device.created_by, "
                                "device.created_at, device.revoked_at, device.last_seen_at, "
                                "area.path FROM device JOIN area ON area.id = device.community_id "
                                "WHERE device.token_hash = ?"), (self.token_hash,))
            cur.fetchone()
            stations, p1 = self._in("station_id", sorted({r[1] for r in rows}))
            days, p2 = self._in("day", [self._day(today + timedelta(days=o))
                                        for o in (-2, -1, 0, 1, 2)])
            cur.execute("SELECT id, station_id, day, start_time, end_time, note FROM "  # noqa: S608
                        f"station_exception WHERE {stations} AND {days}", p1 + p2)
            cur.fetchall()
            split = [split_client_id(r[0]) for r in rows]
            uuids = [self._uuid(u) for u, _t in split if u is not None]
            texts = [t for u, t in split if u is None]
            wheres, params = [], []
            for column, values in (("client_uuid", uuids), ("client_text", texts)):
                if values:
                    w, p = self._in(column, values)
                    wheres.append(w)
                    params += p
            cur.execute(self._q("SELECT id, " + COLUMNS + " FROM drop_record "  # noqa: S608
                                "WHERE community_id = ? AND (" + " OR ".join(wheres) + ")"),
                        [community, *params])
            cur.fetchall()
            where, params = self._in("card.token", [self.seed_token(r[2]) for r in rows])
            cur.execute(
                "SELECT card.id, card.household_id, card.token, card.short_code, "
                "card.status, card.issued_at, card.revoked_at, "
                "card.revoked_by, household.id, household.community_id, household.building, "
                "household.unit, household.room, household.members, household.status, "
                "household.honour_opt_out, household.created_at, household.updated_at "
                "FROM card JOIN household ON household.community_id = card.community_id "
                "AND household.id = card.household_id WHERE "
                + self._q("card.community_id = ? AND ") + where, [community, *params])
            cur.fetchall()
            homes, p1 = self._in("household_id", households)
            cats, p2 = self._in("category", sorted({CATEGORY_CODE.number(r[4]) for r in rows}))
            lo, hi = min(happened) - timedelta(minutes=10), max(happened) + timedelta(minutes=10)
            near, p3 = self._in("local_date", [
                self._day(lo.astimezone(UTC).date() + timedelta(days=n)) for n in range(
                    -1, (hi.astimezone(UTC).date() - lo.astimezone(UTC).date()).days + 2)])
            cur.execute(self._q("SELECT household_id, category, happened_at, id FROM "  # noqa: S608
                                f"drop_record WHERE community_id = ? AND {homes} AND {cats} "
                                f"AND happened_at >= ? AND happened_at <= ? AND {near} "
                                "AND voided_at IS NULL"),
                        [community, *p1, *p2, self._ts(lo), self._ts(hi), *p3])
            earlier: dict[tuple[int, int], list[tuple[int, datetime]]] = {}
            for hh, cat, at, drop_id in cur.fetchall():
                if isinstance(at, str):  # SQLite: naive UTC text
                    at = datetime.fromisoformat(at).replace(tzinfo=UTC)
                earlier.setdefault((hh, cat), []).append((drop_id, at))
            now = datetime.now(UTC)
            ids = self._reserve(cur, len(rows))
            repeat_of = _repeats(rows, ids, earlier)
            points, moved = self._score(cur, [(i, *r) for i, r in zip(ids, rows, strict=True)
                                              if repeat_of[i] is None])
            got = self._insert(cur, "drop_record", INSERT_TYPES, [
                [drop_id, self._uuid(u), t, station, self.seed.community_id,
                 CATEGORY_CODE.number(category), QUALITY_CODE.number(quality), DEVICE_SOURCE,
                 hh, card, None, self.seed.device_id, self._ts(moment), self._ts(now),
                 self._local_date(moment), True, None, None, None, repeat_of[drop_id],
                 points.get(drop_id, 0)]
                for drop_id, (cid, station, card, hh, category, quality, moment), (u, t)
                in zip(ids, rows, split, strict=True)],
                # No target: the uuid and the text ids have a unique key each (as the app).
                "ON CONFLICT DO NOTHING RETURNING id, client_uuid, client_text")
            inserted = {self._client_id(u, t): i for i, u, t in got}
            if len(inserted) != len(rows):  # the bench's client ids are new: no replay race
                raise RuntimeError(f"{len(rows) - len(inserted)} rows not inserted")
            if moved:  # the entries (none: the recomputation is simplified), the balances
                cur.executemany(self._q("UPDATE points_account SET balance = balance + ?, "
                                        "run_first = ?, run_last = ? WHERE community_id = ? "
                                        "AND id = ?"), moved)
            if self.backend == "sqlite":
                cur.execute("COMMIT")
            else:
                self.conn.commit()
        except BaseException:
            if self.backend == "sqlite":
                cur.execute("ROLLBACK")
            else:
                self.conn.rollback()
            raise
        return list(inserted)

    def _reserve(self, cur: Any, n: int) -> list[int]:
        """Ids for the new rows, as `stations.services._reserve_ids`: from the sequence on
        PostgreSQL (one statement), after the highest id on SQLite (under the write lock
        BEGIN IMMEDIATE took)."""
        if self.backend == "sqlite":
            cur.execute("SELECT max(id) FROM drop_record")
            top = cur.fetchone()[0] or 0
            return list(range(top + 1, top + n + 1))
        cur.execute("SELECT nextval('drop_record_id_seq') FROM generate_series(1, %s)", (n,))
        return [r[0] for r in cur.fetchall()]

    def _score(self, cur: Any, rows: list[tuple]) -> tuple[dict[int, int], list[tuple]]:
        """The points statements `points.services.score_new` runs for drops about to be
        stored (ids reserved), in its order: lock the accounts with their stored streak
        state (inserting only missing ones, then locking those), read the facts from the
        drop rows by household (the drops' days, voided ones and their points too, and the
        strikes of the 30-day window from the partial index; the new drops are added in
        memory: not stored yet), read the ledger entries from the first day (with
        `reverses_id`: no probe per row). Returns each new drop's own earn, for its INSERT
        (`drop_record.points`: no ledger row per drop), and the balance and streak-state
        moves (`finish`: one executemany after the INSERT and the entries, none here). The
        rule sets are cached per process by the app, so neither side reads them per
        request. The recomputation is simplified (category points for correct drops, no
        cap or bonus; the run of correct days is extended): the statements and the rows
        they touch are the app's."""
        if not rows:
            return {}, []
        households = sorted({r[4] for r in rows})
        lock = "" if self.backend == "sqlite" else " FOR UPDATE"
        community = self.seed.community_id

        def locked(ids: list[int]) -> dict[int, tuple[int, Any, Any]]:
            where, params = self._in("household_id", ids)
            cur.execute(self._q("SELECT household_id, id, balance, run_first, run_last FROM "  # noqa: S608
                                "points_account WHERE community_id = ? AND ") + where
                        + " ORDER BY id" + lock, [community, *params])
            return {hh: (acc, first, last) for hh, acc, _bal, first, last in cur.fetchall()}

        accounts = locked(households)
        missing = [hh for hh in households if hh not in accounts]
        if missing:
            self._insert(cur, "points_account", {
                "community_id": "integer", "owner_type": "varchar", "household_id": "integer",
                "steward_id": "integer", "balance": "integer"},
                [[self.seed.community_id, "household", hh, None, 0] for hh in missing],
                "ON CONFLICT (community_id, household_id) DO NOTHING")
            accounts |= locked(missing)
        days = sorted({(moment + timedelta(hours=8)).date() for *_r, moment in rows})
        lo = days[0]
        homes, params = self._in("household_id", households)
        cur.execute(self._q("SELECT household_id, id, category, quality, in_window, "  # noqa: S608
                            "local_date, happened_at, points, voided_at FROM drop_record WHERE "
                            f"community_id = ? AND {homes} AND happened_at >= ? AND "
                            "local_date >= ? AND repeat_of IS NULL UNION ALL "
                            "SELECT household_id, id, NULL, quality, ?, local_date, "
                            "happened_at, ?, NULL FROM drop_record WHERE community_id = ? AND "
                            f"{homes} AND quality = ? AND repeat_of IS NULL AND voided_at "
                            "IS NULL AND local_date >= ? AND local_date < ?"),
                    [community, *params,
                     self._ts(datetime(lo.year, lo.month, lo.day, tzinfo=UTC)
                              - timedelta(days=1)),
                     self._day(lo), False, 0, community, *params, INCORRECT,
                     self._day(lo - timedelta(days=29)), self._day(lo)])
        cur.fetchall()
        accts, params = self._in("account_id", sorted(a for a, _f, _l in accounts.values()))
        cur.execute(self._q("SELECT id, account_id, kind, amount, local_date, drop_id, "  # noqa: S608
                            "rule_version, reason, at, reverses_id FROM ledger_entry WHERE "
                            f"community_id = ? AND {accts} AND local_date >= ? ORDER BY id"),
                    [community, *params, self._day(lo)])
        cur.fetchall()
        points = {"kitchen": 2, "recyclable": 2, "hazardous": 3, "other": 1}
        earning = [r for r in rows if r[6] != "incorrect"]
        own = {r[0]: points.get(r[5], 1) for r in earning}  # each new drop's own earn
        delta: dict[int, int] = {}
        changed = set()
        for *_r, hh, category, _quality, moment in earning:
            acc, first, last = accounts[hh]
            delta[acc] = delta.get(acc, 0) + points.get(category, 1)
            day = (moment + timedelta(hours=8)).date()
            first, last = (_as_date(first), _as_date(last))
            if last is None or day > last:
                first = first if last is not None and day == last + timedelta(days=1) else day
                accounts[hh] = (acc, first, day)
                changed.add(acc)
        state = {acc: (first, last) for acc, first, last in accounts.values()}
        moved = [(delta.get(acc, 0), self._day(_as_date(state[acc][0])),
                  self._day(_as_date(state[acc][1])), community, acc)
                 for acc in sorted(changed | set(delta))]
        return own, moved

    def _day(self, day: Any) -> Any:
        return day.isoformat() if self.backend == "sqlite" and day is not None else day

    def _local_date(self, moment: datetime) -> Any:
        local = (moment + timedelta(hours=8)).date()  # Asia/Shanghai has no DST
        return local.isoformat() if self.backend == "sqlite" else local

    def seed_token(self, card_id: int) -> str:
        """The token of a seeded card."""
        return self._tokens[card_id]

    @property
    def _tokens(self) -> dict[int, str]:
        cache = getattr(self, "_token_cache", None)
        if cache is None:
            cache = {c: t for t, c, _h in self.seed.cards}
            self._token_cache = cache
        return cache

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()


# --- the careful raw client (PostgreSQL): what a hand-written psycopg program would do -----

def _json_rows(rows: list[dict[str, Any]]) -> str:
    """Rows as one JSON parameter (times as ISO 8601, UUIDs as text), read with
    json_populate_recordset."""
    return json.dumps(rows, default=lambda v: str(v) if isinstance(v, uuid.UUID)
                      else v.isoformat(), ensure_ascii=False)


class CarefulRaw:
    """The app's transaction for a device request, written as a careful psycopg program:
    constant statement texts prepared on first use (`prepare=True`) with custom plans, the
    independent statements of each step sent together in pipeline mode (five round trips
    for a batch: the request's lookups; the duplicate-window read and the new rows' ids
    from the sequence; the account locks and the facts, read from the drop rows by
    household; the ledger; the drops, the entries, balances and commit), rows as one JSON
    parameter, the app's repeats (a drop of the same household and category within ten
    minutes of a stored one or of an earlier one of the batch is stored with `repeat_of`
    and not scored: a request of repeats only locks and reads no account), and
    the app's own points rules (`community.points.rules`: the daily cap in device-time
    order, strikes and floored penalties over the 30-day window, streak blocks from the
    stored run), so it writes what the app writes: each new drop's own earn on its row,
    scored before the row is stored (the new drops' facts added in memory to those read)
    and carried by its INSERT (one version per row, as the app since 09057da), no ledger
    row per drop and no strike entries, bonuses and penalties in the ledger (migration
    a3c7e2d15b90).

    What it leaves out, and the app does not: the late path (drops of earlier days, whose
    runs may need reading back). A key whose amount changes (a drop with an earlier device
    time than one already scored moves the day's cap) gets a reversal and a new entry as
    in the app, with simpler sources and reasons; it is counted in `drift`."""

    DEVICE = ("SELECT device.id, device.community_id, device.station_id, device.revoked_at, "
              "area.path FROM device JOIN area ON area.id = device.community_id "
              "WHERE device.token_hash = %s")
    # Every hot-table statement names the community, as the app's (README "Sharding"), and
    # the reads of drops bound their local days as the app's do, so PostgreSQL reads only
    # the monthly partitions of those days (without, a year of history made this client's
    # replay and repeat reads visit every month: 1.8 → 3.5–4.0 ms of database CPU per
    # single drop at 365 days, which flattered the app's ratio).
    # One statement per kind of client id in the request, as the app's (`_replays_stmt`).
    REPLAYS = {(True, False): "client_uuid = ANY(%s)", (False, True): "client_text = ANY(%s)",
               (True, True): "(client_uuid = ANY(%s) OR client_text = ANY(%s))"}
    REPLAYS_SQL = ("SELECT id, client_uuid, client_text FROM drop_record WHERE "
                   "community_id = %s AND {ids} AND local_date >= %s")
    EXCEPTIONS = ("SELECT id, station_id, day, start_time, end_time FROM station_exception "
                  "WHERE station_id = ANY(%s) AND day = ANY(%s)")
    CARDS = ("SELECT card.id, card.household_id, card.token, card.status, card.revoked_at, "
             "household.community_id, household.status FROM card JOIN household ON "
             "household.community_id = card.community_id AND household.id = card.household_id "
             "WHERE card.community_id = %s AND card.token = ANY(%s)")
    # The duplicate-window read: stored, not voided drops within ten minutes of each row
    # (one window per row, `stations.services._recent_stmt`); a new drop of the same
    # household and category within ten minutes is a repeat (`repeat_of`), stored but
    # never scored (`stations.services._mark_repeats`, `_score_new`).
    RECENT = ("SELECT d.household_id, d.category, d.happened_at, d.id FROM drop_record d "
              "JOIN unnest(%s::integer[], %s::smallint[], %s::timestamptz[], "
              "%s::timestamptz[]) AS w(h, k, lo, hi) ON d.household_id = w.h AND "
              "d.category = w.k AND d.happened_at >= w.lo AND d.happened_at <= w.hi "
              "WHERE d.community_id = %s AND d.local_date = ANY(%s) AND d.voided_at IS NULL")
    RESERVE = "SELECT nextval('drop_record_id_seq') FROM generate_series(1, %s)"
    LOCK = ("SELECT household_id, id, balance, run_first, run_last FROM points_account "
            "WHERE community_id = %s AND household_id = ANY(%s) ORDER BY id FOR UPDATE")
    ACCOUNTS = ("INSERT INTO points_account ({cols}) SELECT {cols} FROM "
                "json_populate_recordset(NULL::points_account, %s) "
                "ON CONFLICT DO NOTHING")
    # The facts are the drop rows (`points.services._facts_stmt`): by household, from the
    # first day on every drop not a repeat (voided ones too: their own points are entries);
    # then (`_strikes_stmt`) the strikes of the window before it, from the partial index
    # `ix_drop_record_strikes`, for the households with an incorrect fact from that day on.
    FACTS = ("SELECT household_id, id, category, quality, in_window, local_date, happened_at, "
             "points, voided_at FROM drop_record WHERE community_id = %s AND "
             "household_id = ANY(%s) AND happened_at >= %s AND local_date >= %s AND "
             "repeat_of IS NULL")
    STRIKES = ("SELECT household_id, id, local_date, happened_at FROM drop_record WHERE "
               f"community_id = %s AND household_id = ANY(%s) AND quality = {INCORRECT} AND "
               "repeat_of IS NULL AND voided_at IS NULL AND local_date >= %s AND "
               "local_date < %s")
    ENTRIES = ("SELECT id, account_id, kind, amount, local_date, drop_id, reverses_id "
               "FROM ledger_entry WHERE community_id = %s AND account_id = ANY(%s) AND "
               "local_date >= %s")
    INSERT = ("INSERT INTO {table} ({cols}) SELECT {cols} FROM "
              "json_populate_recordset(NULL::{table}, %s) ON CONFLICT DO NOTHING{returning}")
    BALANCE = ("UPDATE points_account SET balance = balance + %s, run_first = %s, "
               "run_last = %s WHERE community_id = %s AND id = %s")

    def __init__(self, dsn: str, seed_: Seed) -> None:
        import psycopg

        from community.points import rules

        self.rules = rules
        self.rule_set = rules.RuleSet(version=0)  # the defaults: the bench publishes none
        self.seed = seed_
        self.token_hash = hashlib.sha256(seed_.device_token.encode()).hexdigest()
        self.tokens = {c: t for t, c, _h in seed_.cards}
        self.conn = psycopg.connect(dsn)
        self.conn.execute(f"SET plan_cache_mode = {PLAN_CACHE_MODE}")
        self.conn.commit()
        self.columns = {t: {r[0] for r in self.conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s",
            (t,))} for t in ("drop_record", "ledger_entry")}
        self.conn.commit()
        self.drift = 0

    def _insert(self, table: str, rows: list[dict[str, Any]], returning: str = "") -> Any:
        cols = [c for c in rows[0] if c in self.columns[table]]  # community_id where it is
        sql = self.INSERT.format(table=table, cols=", ".join(cols),
                                 returning=f" RETURNING {returning}" if returning else "")
        cur = self.conn.cursor()
        cur.execute(sql, (_json_rows([{c: r[c] for c in cols} for r in rows]),), prepare=True)
        return cur

    def _q(self, sql: str, params: Any) -> Any:
        cur = self.conn.cursor()
        cur.execute(sql, params, prepare=True)
        return cur

    def record(self, rows: list[tuple[str, int, int, int, str, str, datetime]]) -> list[str]:
        """One transaction for `rows` (client id, station, card, household, category, quality,
        happened); returns the client ids inserted."""
        now = datetime.now(UTC)
        today = (now + timedelta(hours=8)).date()
        with self.conn.transaction(), self.conn.pipeline():
            # 1: the request's lookups, together.
            device = self._q(self.DEVICE, (self.token_hash,))
            community = self.seed.community_id
            happened = [r[6] for r in rows]
            first = min(happened).astimezone(UTC).date()  # the app's bounds (stations.services)
            split = [split_client_id(r[0]) for r in rows]
            uuids = [u for u, _t in split if u is not None]
            texts = [t for u, t in split if u is None]
            kinds = (bool(uuids), bool(texts))
            self._q(self.EXCEPTIONS, (sorted({r[1] for r in rows}),
                                      [today + timedelta(days=o) for o in (-2, -1, 0, 1, 2)]))
            self._q(self.REPLAYS_SQL.format(ids=self.REPLAYS[kinds]),
                    (community, *([uuids] if uuids else []), *([texts] if texts else []),
                     first - timedelta(days=1)))
            cards = self._q(self.CARDS, (community, [self.tokens[r[2]] for r in rows]))
            device.fetchone()
            household_of = {card: hh for card, hh, *_x in cards.fetchall()}
            # 2: the duplicate-window read and the new rows' ids.
            lo, hi = min(happened) - timedelta(minutes=10), max(happened) + timedelta(minutes=10)
            days = [lo.astimezone(UTC).date() + timedelta(days=n)
                    for n in range(-1, (hi.astimezone(UTC).date()
                                        - lo.astimezone(UTC).date()).days + 2)]
            ten = timedelta(minutes=10)
            recent = self._q(self.RECENT, ([household_of[r[2]] for r in rows],
                                           [CATEGORY_CODE.number(r[4]) for r in rows],
                                           [r[6] - ten for r in rows], [r[6] + ten for r in rows],
                                           community, days))
            reserved = self._q(self.RESERVE, (len(rows),))
            earlier: dict[tuple[int, int], list[tuple[int, datetime]]] = {}
            for hh, cat, at, drop_id in recent.fetchall():
                earlier.setdefault((hh, cat), []).append((drop_id, at))
            ids = [i for (i,) in reserved.fetchall()]
            repeat_of = _repeats(rows, ids, earlier)
            new = [(i, *r) for i, r in zip(ids, rows, strict=True)]
            scored = [n for n in new if repeat_of[n[0]] is None]
            # 3–4: the points of the drops that are not repeats (`_points`: the account
            # locks and the facts, then the ledger; the recomputation before the INSERT).
            # A request of repeats only scores nothing: no lock, no read (`points._score`).
            own, entries, moved = self._points(scored, now) if scored else ({}, [], [])
            # 5: the drops, each carrying its points, the entries and the balances (the
            # commit follows in the same pipeline).
            got = self._insert("drop_record", [
                {"id": drop_id, "client_uuid": u, "client_text": t, "station_id": station,
                 "community_id": self.seed.community_id,
                 "category": CATEGORY_CODE.number(category),
                 "quality": QUALITY_CODE.number(quality), "source": DEVICE_SOURCE,
                 "household_id": hh, "card_id": card, "device_id": self.seed.device_id,
                 "happened_at": moment, "received_at": now,
                 "local_date": (moment + timedelta(hours=8)).date(), "in_window": True,
                 "repeat_of": repeat_of[drop_id], "points": own.get(drop_id, 0)}
                for (drop_id, _cid, station, card, hh, category, quality, moment), (u, t)
                in zip(new, split, strict=True)],
                "id, client_uuid, client_text")
            if entries:
                self._insert("ledger_entry", entries)
            if moved:
                self.conn.cursor().executemany(self.BALANCE, moved)
        # Read after the commit: in the pipeline it costs no round trip of its own.
        inserted = {client_id_of(u, t): i for i, u, t in got.fetchall()}
        if len(inserted) != len(rows):  # the bench's client ids are new: no replay race
            raise RuntimeError(f"{len(rows) - len(inserted)} rows not inserted")
        return list(inserted)

    def _points(self, new: list[tuple], now: datetime
                ) -> tuple[dict[int, int], list[dict[str, Any]], list[tuple]]:
        """Score the new drops that are not repeats (ids reserved, rows not stored yet) with
        the app's rules, as `points.services.score_new`: lock their households' accounts
        (creating the missing ones), their facts added in memory to the stored ones. Returns
        what they deserve: each new drop's own earn (drop id → points, for its INSERT), the
        rest (bonuses, penalties, corrections) as ledger entries, and the balance moves;
        strikes are no entries (a strike is its drop's quality), as in
        `points.services._recompute`, `finish` and `_apply`."""
        from community.points import facts as drop_rows

        rules, rs = self.rules, self.rule_set

        def rules_on(_day: Any) -> Any:
            return rs

        facts_of = {}
        for drop_id, _cid, _station, _card, hh, category, quality, moment in new:
            facts_of[drop_id] = rules.DropFacts(drop_id, hh, category, quality, True,
                                                (moment + timedelta(hours=8)).date(), moment)
        # 3: the account locks and the facts (the stored drop rows; the new ones are added
        # below), in the app's order; 4: what the accounts hold from the first day on.
        lo = min(f.local_date for f in facts_of.values())
        households = sorted({f.household_id for f in facts_of.values()})
        c = self.seed.community_id
        lo_at = datetime(lo.year, lo.month, lo.day, tzinfo=UTC) - timedelta(days=1)
        locks = self._q(self.LOCK, (c, households))
        facts = self._q(self.FACTS, (c, households, lo_at, lo))
        accounts = {hh: (a, bal, first, last) for hh, a, bal, first, last in locks.fetchall()}
        missing = [hh for hh in households if hh not in accounts]
        if missing:
            self._q(self.ACCOUNTS.format(cols="community_id, owner_type, household_id, "
                                         "balance"), (_json_rows([
                {"community_id": c, "owner_type": "household", "household_id": hh,
                 "balance": 0} for hh in missing]),))
            accounts |= {hh: (a, bal, first, last) for hh, a, bal, first, last
                         in self._q(self.LOCK, (c, missing)).fetchall()}
        ids = sorted(a for a, *_x in accounts.values())
        entries = self._q(self.ENTRIES, (c, ids, lo))
        account_of = {hh: a for hh, (a, *_x) in accounts.items()}
        read: dict[int, list[Any]] = {a: [] for a in ids}
        own: list[tuple[int, int, int, int, Any, int]] = []  # the drops' own earns
        striking = {f.household_id for f in facts_of.values() if f.quality == "incorrect"}
        for hh, i, cat, q, w, d, at, pts, void in facts.fetchall():
            a = account_of[hh]
            if pts:
                own.append((drop_rows.earn_id(i), a, pts, d, i))
            if void is None:
                read[a].append(rules.DropFacts(i, hh, CATEGORY_NAME.get(cat, ""),
                                               QUALITY_NAME[q], w, d, at))
                if q == INCORRECT:
                    striking.add(hh)
        for f in facts_of.values():  # the new drops: not stored yet (`score_new`)
            read[account_of[f.household_id]].append(f)
        if striking:
            for hh, i, d, at in self._q(self.STRIKES, (c, sorted(striking),
                                                       lo - timedelta(days=29), lo)).fetchall():
                read[account_of[hh]].append(rules.DropFacts(i, hh, "", "incorrect", False,
                                                            d, at))
        have: dict[int, dict[tuple, tuple[int, int, Any, Any]]] = {a: {} for a in ids}
        undone, live = set(), []
        for i, a, kind, amount, d, drop, rev in entries.fetchall():
            if rev is not None:
                undone.add(rev)
            elif kind == "reversal" and drop is not None:  # a drop's own earn taken back
                undone.add(drop_rows.earn_id(drop))
            live.append((i, a, kind, amount, d, drop))
        live += [(i, a, "earn", amount, d, drop) for i, a, amount, d, drop in own]
        earned = {drop for _i, _a, kind, _m, _d, drop in live if kind == "earn"}
        sums = dict.fromkeys(ids, 0)
        for i, a, kind, amount, d, drop in live:
            sums[a] += amount
            if i not in undone and kind in ("earn", "bonus", "penalty"):
                have[a][(kind, d if kind == "bonus" else drop)] = (i, amount, d, drop)
        # The app's rules for each account's days from `lo`; what differs from the live
        # entries is reversed and appended anew, as the app does (a drop with an earlier
        # device time than one already scored moves the cap and the penalties' floors).
        rows: list[dict[str, Any]] = []
        moved: list[tuple] = []
        firsts: dict[int, int] = {}
        one = timedelta(days=1)
        mine = {a: [f for f in facts_of.values() if accounts[f.household_id][0] == a]
                for a in ids}
        for a, balance, first, last in sorted(accounts.values()):
            if not mine[a]:
                continue
            trigger = f"drop:{min(f.drop_id for f in mine[a])}"
            day_facts = [f for f in read[a] if f.local_date >= lo]
            want = rules.day_earns(rules_on, day_facts) | {
                k: v for k, v in rules.strike_entries(rules_on, read[a]).items()
                if v.local_date >= lo}
            correct = rules.completing_drops(rules_on, day_facts)
            run = (first, last)
            for day in sorted(correct):  # streak blocks from the stored run's first day
                if run[1] is None or day > run[1]:
                    run = (run[0] if run[1] == day - one else day, day)
                start = run[0] if run[0] <= day <= run[1] else day
                if ((day - start).days + 1) % rs.streak_days == 0:
                    want[("bonus", day)] = rules.Deserved(
                        "bonus", rs.streak_bonus, day, f"streak:{(day - start).days + 1}",
                        rs.version, correct[day].drop_id)
            want = rules.floor_penalties(day_facts, want, base=balance - sums[a], since=lo)
            want = {k: v for k, v in want.items() if k[0] != "strike"}  # no strike entries
            delta = 0
            for key in sorted(set(want) | set(have[a]), key=str):
                w, h = want.get(key), have[a].get(key)
                if h is not None and w is not None and h[1] == w.amount:
                    continue
                tag = f"{key[0][0]}{key[1]}"
                if h is not None:
                    self.drift += 1
                    on_row = h[0] < 0  # a drop's own earn: reversed by drop, once
                    rows.append({"community_id": self.seed.community_id, "account_id": a,
                                 "amount": -h[1], "kind": "reversal",
                                 "source": drop_rows.drop_reversal_source(h[3])
                                 if on_row else f"reversal:{h[0]}", "reason": "recomputed",
                                 "at": now, "local_date": h[2],
                                 "reverses_id": None if on_row else h[0],
                                 "rule_version": None, "drop_id": h[3]})
                    delta -= h[1]
                if w is not None:
                    if (w.kind == "earn" and h is None and key[1] in facts_of
                            and key[1] not in earned):
                        # A new drop's own earn is its row's points, not a ledger row.
                        firsts[key[1]] = w.amount
                    else:
                        rows.append({"community_id": self.seed.community_id, "account_id": a,
                                     "amount": w.amount, "kind": w.kind,
                                     "source": f"drop:{w.drop_id}" if h is None
                                     and w.drop_id in facts_of else f"{trigger}/{tag}",
                                     "rule_version": w.rule_version,
                                     "reason": w.reason, "at": now,
                                     "local_date": w.local_date, "reverses_id": None,
                                     "drop_id": w.drop_id})
                    delta += w.amount
            if delta or run != (first, last):
                moved.append((delta, run[0], run[1], self.seed.community_id, a))
        return firsts, rows, moved

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()


def raw_phase(backend: str, dsn: str, seed_: Seed, prefix: str, per_tx: int, rng_seed: int):
    """Worker factory: `per_tx` drops per raw SQL transaction."""
    def make(index: int) -> tuple[Worker, Callable[[], None]]:
        raw: Raw | CarefulRaw = (CarefulRaw(dsn, seed_) if backend == "postgresql"
                                 else Raw(backend, dsn, seed_))
        rng = random.Random(f"{rng_seed}:{prefix}:{index}")

        def work(seq: int) -> tuple[list[str], list[str]]:
            rows = []
            for k in range(per_tx):
                cid = f"{prefix}-{index}-{seq}-{k}"
                _token, card_id, hh_id = rng.choice(seed_.cards)
                category, happened = _slot(rng, hh_id)
                rows.append((cid, rng.choice(seed_.station_ids), card_id, hh_id,
                             category, rng.choice(QUALITIES), happened))
            return [r[0] for r in rows], raw.record(rows)
        return work, raw.close
    return make


def _as_date(value: Any) -> Any:
    """A date read back from either driver (SQLite returns ISO text)."""
    from datetime import date as date_

    return date_.fromisoformat(value) if isinstance(value, str) else value


# --- checks -------------------------------------------------------------------------------

def stored_ids(backend: str, dsn: str, prefix: str) -> tuple[int, set[str], int]:
    """(row count, distinct client ids, repeats) stored under a phase's prefix."""
    if backend == "sqlite":
        conn: Any = sqlite3.connect(dsn)
        mark = "?"
    else:
        import psycopg

        conn = psycopg.connect(dsn)
        mark = "%s"
    try:
        cur = conn.cursor()
        # The bench's ids are text ("<phase>-…"): stored in client_text.
        cur.execute("SELECT client_text, repeat_of FROM drop_record "  # noqa: S608
                    f"WHERE client_text LIKE {mark}", (prefix + "-%",))
        got = cur.fetchall()
    finally:
        conn.close()
    ids = [r[0] for r in got]
    return len(ids), set(ids), sum(r[1] is not None for r in got)


def verify(backend: str, dsn: str, phase: Phase) -> dict[str, int]:
    """Lost (acknowledged, not stored), duplicates, and strays (stored, never sent); and the
    repeats (stored with `repeat_of`, not scored: a later phase finds more recent drops of
    its households, so it scores fewer of its drops)."""
    prefix = phase.name
    rows, ids, repeats = stored_ids(backend, dsn, prefix)
    return {"stored": rows, "lost": len(phase.acked - ids), "duplicates": rows - len(ids),
            "strays": len(ids - phase.sent), "unacknowledged_stored": len(ids - phase.acked),
            "repeats": repeats}


def replay_checks(port: int, seed_: Seed, backend: str, dsn: str, acked: list[str]) -> dict:
    """Re-post acknowledged ids (answered 200 replay), then 32 concurrent posts of one new id."""
    rng = random.Random(1)
    client = Http(port, seed_.device_token)
    replayed = 0
    sample = acked[:50]
    for cid in sample:
        status, data = client.post("/api/v1/drops", _drop_body(rng, seed_, cid)[0])
        replayed += status == 200 and data.get("replay") is True
    client.close()
    cid = f"burst-{secrets.token_hex(6)}"
    body = _drop_body(rng, seed_, cid)[0]
    statuses: list[int] = []
    gate = threading.Barrier(32)

    def post() -> None:
        c = Http(port, seed_.device_token)
        gate.wait()
        try:
            statuses.append(c.post("/api/v1/drops", body)[0])
        finally:
            c.close()

    threads = [threading.Thread(target=post) for _ in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    rows, _ids, _repeats = stored_ids(backend, dsn, "burst")
    return {"replays_sent": len(sample), "replays_answered": replayed,
            "burst_201": statuses.count(201), "burst_200": statuses.count(200),
            "burst_other": len(statuses) - statuses.count(201) - statuses.count(200),
            "burst_rows": rows}


# --- servers and databases ----------------------------------------------------------------

def free_port() -> int:
    """A free loopback TCP port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def migrate(url: str, env: dict[str, str]) -> None:
    """`flask --app wsgi db upgrade` against `url` (fixed argv of our own binaries: S603)."""
    subprocess.run([str(BIN / "flask"), "--app", "wsgi", "db", "upgrade"], cwd=ROOT,  # noqa: S603
                   env={**env, "DATABASE_URL": url}, check=True, capture_output=True)


def start_gunicorn(url: str, env: dict[str, str], port: int, workers: int, threads: int,
                   log: Path, wsgi: str = "wsgi:app") -> subprocess.Popen:
    """gunicorn on 127.0.0.1:`port`, ready when the OpenAPI document answers."""
    cmd = [str(BIN / "gunicorn"), "-w", str(workers), "--threads", str(threads),
           "-b", f"127.0.0.1:{port}", "--log-level", "warning", wsgi]
    with log.open("ab") as out:
        proc = subprocess.Popen(  # noqa: S603
            cmd, cwd=ROOT, env={**env, "DATABASE_URL": url}, stdout=out,
            stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited: see {log}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/api/v1/openapi.json")
            if conn.getresponse().status == 200:
                conn.close()
                # One request per worker runs the once-per-process schema check first.
                return proc
        except OSError:
            time.sleep(0.2)
    stop(proc)
    raise RuntimeError("gunicorn did not answer within 30 s")


def stop(proc: subprocess.Popen) -> None:
    """Stop gunicorn (its own process group) and wait for it."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _admin(base: str) -> Any:
    """An autocommit connection to the maintenance database of `base`'s server."""
    import psycopg

    return psycopg.connect(base.replace("postgresql+psycopg://", "postgresql://") + "/postgres",
                           autocommit=True)


def pg_database(base: str, name: str, *, create: bool) -> str:
    """Drop (and create) database `name` on the server of `base`; return its SQLAlchemy URL."""
    with _admin(base) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if create:
            conn.execute(f'CREATE DATABASE "{name}"')
    return f"{base}/{name}"


# --- one backend --------------------------------------------------------------------------

# Each measured phase drops for households of its own (and the warm-up for others): every
# phase then starts from the same state, the history alone. With one pool, each phase found
# the earlier phases' drops of the day: the HTTP batch phase, run after the raw one,
# recomputed about twice as many drops of the day per household (10-14 against 3-10 at
# 2,000 households), which costs both the app and PostgreSQL more per drop.
POOLS = ("warm", "raw1", "http1", "rawb", "httpb")


def pools(seed_: Seed, names: Sequence[str]) -> dict[str, Seed]:
    """The seed split into disjoint sets of households (cards), one per name."""
    return {name: replace(seed_, cards=seed_.cards[k::len(names)])
            for k, name in enumerate(names)}


@dataclass(frozen=True)
class Kept:
    """A seeded database with its history, kept as a template for later runs."""

    name: str
    seed_file: Path


def _kept_history(args: argparse.Namespace, history_days: int) -> Kept | None:
    """Where `--keep-history` keeps this run's seeded database: named by everything that
    shapes it (households, stations, days, seed and the schema's alembic head)."""
    if not args.keep_history:
        return None
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(Config(str(ROOT / "alembic.ini"))).get_current_head()
    name = (f"{args.pg_db}_kept_{args.households}h_{args.stations}s_{history_days}d_"
            f"{args.seed}_{head}")
    return Kept(name, Path(tempfile.gettempdir()) / f"{name}.json")


def _copy_database(base: str, name: str, template: str) -> None:
    """Create database `name` as a copy of `template` (names from our own options)."""
    with _admin(base) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')


def _database_exists(base: str, name: str) -> bool:
    with _admin(base) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                            (name,)).fetchone() is not None


def _history(backend: str, dsn: str, args: argparse.Namespace, seed_: Seed,
             history_days: int) -> dict[str, Any]:
    """`history_days` days of history per household (`bench/history.py`); its figures."""
    if not history_days and args.history_days == "0":
        return {}
    # With histories compared, the 0-day run's accounts exist too (no drops): the two
    # runs then differ by the history alone, not by the first award's account insert.
    from bench import history

    t0 = time.perf_counter()
    generated = history.generate(backend, dsn, seed_.community_id, seed_.station_ids,
                                 seed_.cards, days=history_days,
                                 device_id=seed_.device_id, seed=args.seed)
    generated["seconds"] = round(time.perf_counter() - t0, 1)
    print(f"   history: {history_days} days, {generated}", flush=True)
    return generated


def run_backend(backend: str, args: argparse.Namespace, workdir: Path,
                history_days: int = 0) -> dict[str, Any]:
    """Prepare, seed (with `history_days` days of history per household: `bench/history.py`),
    serve and measure one backend; return its figures."""
    reset_slots()
    # A pool as large as a worker's threads: with fewer, the threads beyond it take overflow
    # connections that are closed after each request (a new server process per request).
    env = {**os.environ, "SECRET_KEY": secrets.token_hex(32), "SCHEMA_CHECK": "1",
           "DATABASE_POOL_SIZE": str(args.threads)}
    env.pop("TEST_DATABASE_URL", None)
    if backend == "sqlite":
        path = workdir / f"bench-{history_days}.db"
        url, dsn = f"sqlite:///{path}", str(path)
    else:
        url = pg_database(args.pg, args.pg_db, create=True)
        dsn = url.replace("postgresql+psycopg://", "postgresql://")
    kept = _kept_history(args, history_days) if backend == "postgresql" else None
    generated: dict[str, Any] = {}
    if kept is not None and kept.seed_file.exists() and _database_exists(args.pg, kept.name):
        print(f"\n== {backend}: {kept.name}, kept from an earlier run", flush=True)
        pg_database(args.pg, args.pg_db, create=False)
        _copy_database(args.pg, args.pg_db, kept.name)
        saved = json.loads(kept.seed_file.read_text())
        seed_ = Seed(**saved["seed"])
        generated = {**saved["history"], "kept": kept.name}
    else:
        print(f"\n== {backend}: migrate, seed {args.households} households", flush=True)
        migrate(url, env)
        seed_ = seed(url, args.households, args.stations)
        generated = _history(backend, dsn, args, seed_, history_days)
        if kept is not None:  # a copy for later runs (`--keep-history`)
            pg_database(args.pg, kept.name, create=False)
            _copy_database(args.pg, kept.name, args.pg_db)
            kept.seed_file.write_text(json.dumps({"seed": seed_.__dict__,
                                                  "history": generated}))
    port = free_port()
    proc = start_gunicorn(url, env, port, args.workers, args.threads,
                          workdir / f"gunicorn-{backend}.log", args.wsgi)
    phases: list[Phase] = []
    checks: dict[str, Any] = {}
    pool = pools(seed_, POOLS)
    try:
        plan = [
            ("raw1", 1, raw_phase(backend, dsn, pool["raw1"], "raw1", 1, args.seed)),
            ("http1", 1, http_single(port, pool["http1"], "http1", args.seed)),
            ("rawb", BATCH, raw_phase(backend, dsn, pool["rawb"], "rawb", BATCH, args.seed)),
            ("httpb", BATCH, http_batch(port, pool["httpb"], "httpb", args.seed)),
        ]
        # Warm every worker first (imports, compiled statements, caches): a worker's first
        # requests cost seconds of CPU, which would be charged to the measured phases.
        for name, per_op, factory in (
                ("warm1", 1, http_single(port, pool["warm"], "warm1", args.seed)),
                ("warmb", BATCH, http_batch(port, pool["warm"], "warmb", args.seed))):
            run_phase(name, per_op, args.clients, min(3.0, args.duration), factory)
        for name, per_op, factory in plan:
            print(f"   {name}: {args.clients} clients for {args.duration:g} s ...", flush=True)
            meter = Meter(proc.pid if name.startswith("http") else None,
                          dsn if backend == "postgresql" else None, args.pg_db)
            phase = run_phase(name, per_op, args.clients, args.duration, factory, meter)
            phases.append(phase)
            checks[name] = verify(backend, dsn, phase)
            for sample in phase.samples:
                print(f"      error: {sample}")
        checks["replay"] = replay_checks(port, pool["http1"], backend, dsn,
                                         sorted(phases[1].acked)[:50])
    finally:
        stop(proc)
        if backend == "postgresql" and not args.keep:
            pg_database(args.pg, args.pg_db, create=False)
    by = {p.name: p for p in phases}
    return {
        "backend": backend,
        "history_days": history_days,
        "history": generated,
        "load_after": os.getloadavg()[0],
        "phases": {p.name: {"ops": p.ops, "drops": p.drops, "errors": p.errors,
                            "seconds": round(p.elapsed, 2), "drops_per_s": round(p.rate, 1),
                            "ops_per_s": round(p.ops / p.elapsed, 1) if p.elapsed else 0,
                            "p50_ms": round(p.pct(0.50), 1), "p99_ms": round(p.pct(0.99), 1),
                            **_cpu_figures(p)}
                   for p in phases},
        "ratio_single": by["http1"].rate / by["raw1"].rate if by["raw1"].rate else 0.0,
        "ratio_batch": by["httpb"].rate / by["rawb"].rate if by["rawb"].rate else 0.0,
        "checks": checks,
    }


def _cpu_figures(p: Phase) -> dict[str, float]:
    """CPU ms per drop of the writer (the app for HTTP, this process's client for raw),
    of PostgreSQL's backends (0 on SQLite: it runs inside the writer), and the cores that
    3,000 drops/s would need at that cost (writer + database)."""
    writer = p.cpu_ms("app" if p.name.startswith("http") else "client")
    db = p.cpu_ms("db")
    return {"cpu_writer_ms": round(writer, 3), "cpu_db_ms": round(db, 3),
            "cores_3000": round(3 * (writer + db), 2)}


def report(result: dict[str, Any]) -> bool:
    """Print one backend's table; True when every target and check passes."""
    print(f"\n{result['backend']}, {result['history_days']} days of history "
          f"(load {result['load_after']:.2f} after)")
    print(f"  {'phase':<7} {'ops':>7} {'drops':>8} {'err':>4} {'drops/s':>9} {'ops/s':>8} "
          f"{'p50 ms':>8} {'p99 ms':>8} {'cpu app':>8} {'cpu db':>7} {'cores@3k':>8}")
    for name, p in result["phases"].items():
        print(f"  {name:<7} {p['ops']:>7} {p['drops']:>8} {p['errors']:>4} "
              f"{p['drops_per_s']:>9.1f} {p['ops_per_s']:>8.1f} {p['p50_ms']:>8.1f} "
              f"{p['p99_ms']:>8.1f} {p['cpu_writer_ms']:>8.3f} {p['cpu_db_ms']:>7.3f} "
              f"{p['cores_3000']:>8.2f}")
    print("  (cpu: ms per drop of the writer — the app for http, the raw client for raw — "
          "and of PostgreSQL's backends; cores@3k: cores 3,000 drops/s would need)")
    ok = True
    for label, key, target in (("single", "ratio_single", TARGET_SINGLE),
                               ("batch", "ratio_batch", TARGET_BATCH)):
        passed = result[key] >= target
        ok &= passed
        print(f"  {label} HTTP / raw = {result[key]:.0%} (target ≥ {target:.0%}): "
              f"{'PASS' if passed else 'MISS'}")
    for name, c in result["checks"].items():
        print(f"  check {name}: {c}")
    integrity = all(c["lost"] == 0 and c["duplicates"] == 0 and c["strays"] == 0
                    for n, c in result["checks"].items() if n != "replay")
    replay = result["checks"]["replay"]
    integrity &= (replay["replays_answered"] == replay["replays_sent"]
                  and replay["burst_201"] == 1 and replay["burst_rows"] == 1
                  and replay["burst_other"] == 0)
    errors = sum(p["errors"] for p in result["phases"].values())
    print(f"  errors {errors}, integrity {'OK' if integrity else 'FAILED'}")
    return ok and integrity and errors == 0


def compare_histories(results: list[dict[str, Any]]) -> bool:
    """Per backend, each history's rates against the 0-day run's (target: within 10 %)."""
    ok = True
    for backend in {r["backend"] for r in results}:
        runs = {r["history_days"]: r for r in results if r["backend"] == backend}
        if 0 not in runs or len(runs) < 2:
            continue
        base = runs[0]["phases"]
        for days, r in sorted(runs.items()):
            if not days:
                continue
            print(f"\n{backend}: {days} days of history against none (target ≥ 90 %)")
            for name, p in r["phases"].items():
                rel = p["drops_per_s"] / base[name]["drops_per_s"] if base[name][
                    "drops_per_s"] else 0.0
                passed = rel >= 0.9
                ok &= passed if name.startswith("http") else True
                print(f"  {name:<7} {base[name]['drops_per_s']:>9.1f} → "
                      f"{p['drops_per_s']:>9.1f} drops/s = {rel:.0%}"
                      f"{'' if not name.startswith('http') else ' PASS' if passed else ' MISS'}")
            print(f"  ratio single {runs[0]['ratio_single']:.0%} → {r['ratio_single']:.0%}, "
                  f"batch {runs[0]['ratio_batch']:.0%} → {r['ratio_batch']:.0%}")
    return ok


def main(argv: list[str] | None = None) -> int:
    """Parse options, run the chosen backends, print the figures (and write JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per phase")
    parser.add_argument("--households", type=int, default=20_000)
    parser.add_argument("--stations", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker")
    parser.add_argument("--pg", default="postgresql+psycopg://root@127.0.0.1:5432",
                        help="PostgreSQL server URL without a database name")
    parser.add_argument("--pg-db", default="bench_ingest")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    parser.add_argument("--keep-history", action="store_true",
                        help="keep each seeded database with its history as a template and "
                             "start from it on later runs with the same options (PostgreSQL)")
    parser.add_argument("--wsgi", default="wsgi:app",
                        help="gunicorn app (a variant on PYTHONPATH, to measure a change)")
    parser.add_argument("--seed", type=int, default=20261121)
    parser.add_argument("--history-days", default="0",
                        help="days of history per household before the run, comma-separated "
                             "for several runs (e.g. 0,365: a fresh database per run)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    print(f"bench/ingest.py seed {args.seed}; {os.cpu_count()} CPUs; Python "
          f"{sys.version.split()[0]}; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    histories = [int(x) for x in str(args.history_days).split(",")]
    results = []
    print(f"load at the start {os.getloadavg()[0]:.2f}", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        for backend in backends:
            for days in histories:
                results.append(run_backend(backend, args, Path(tmp), days))
    ok = all([report(r) for r in results])  # noqa: C419 - report every backend
    ok &= compare_histories(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
