"""History for the bench households: `days` days of drops before today, with the points the
app would have written for them in device-time order (each drop's own earn on its row, the
ledger's bonuses and penalties) and each account's balance and streak state, written in
bulk (COPY on PostgreSQL).

Most households drop on most days and sort correctly most of the time, so streaks run
long and strikes fall inside 30-day windows: the steady state of a city after a year. The
entries come from the app's own pure rules (`points.rules.deserved`, the defaults of
DOMAIN.md), so `flask points verify` finds nothing to report on the result.

It writes what the schema it finds holds (`layout`): since migration a3c7e2d15b90 a drop's
own earn is its row's `points` and the ledger has no row per drop (no earn, no strike
entries, no `points_scored_drop`); before it (`bench/partition_size.py --revisions …`),
the scored facts and an earn or strike entry per drop, as the app then wrote them.

    from bench import history
    history.generate(backend, dsn, community_id, station_ids, cards, days=365)
"""
from __future__ import annotations

import random
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from community.points.rules import DropFacts, RuleSet, correct_days, deserved
from community.points.services import latest_run
from community.stations.models import (
    CATEGORY_CODE,
    QUALITY_CODE,
    SOURCE_CODE,
    split_client_id,
)

SH = ZoneInfo("Asia/Shanghai")
RULES = RuleSet(version=0)
CATEGORIES = ("kitchen", "other", "recyclable")
DROPS_A_DAY = 0.92      # a household drops on this share of days
CORRECT = 0.94          # and sorts correctly this often (else incorrect)
DROP_COLUMNS = ("id", "client_id", "station_id", "community_id", "category", "quality",
                "source", "household_id", "card_id", "device_id", "happened_at",
                "received_at", "local_date", "in_window")
SCORED_COLUMNS = ("community_id", "drop_id", "account_id", "local_date", "happened_at",
                  "category", "quality", "in_window", "rule_version")
# Since migration e6d85d974320 the client id is `client_uuid` or `client_text` and the
# codes are SMALLINT numbers; an older revision (`bench/partition_size.py --revisions …`)
# gets the text columns (`layout` tells which).
CODED_DROP_COLUMNS = ("id", "client_uuid", "client_text", *DROP_COLUMNS[2:])
# Per-drop ledger kinds before a3c7e2d15b90; since, the earn is the drop row's `points` and
# a strike is the drop's quality (`community.points.facts`).
PER_DROP_KINDS = ("earn", "strike")
ENTRY_COLUMNS = ("community_id", "account_id", "amount", "kind", "source", "rule_version",
                 "reason", "at", "local_date", "drop_id")


def _rules_on(_day: date) -> RuleSet:
    return RULES


def generate(backend: str, dsn: str, community_id: int, station_ids: Sequence[int],
             cards: Sequence[tuple[str, int, int]], *, days: int, device_id: int,
             seed: int = 1, today: date | None = None,
             client_id: Callable[[int], str] | None = None,
             time_order: bool = False, as_app: int = 0,
             update_after: bool = False) -> dict[str, int]:
    """Write `days` days of history for every household of `cards` (token, card, household);
    returns the row counts written.

    `client_id(drop id)` names the drops (default "hist-<id>"; `bench/partition_size.py`
    gives them UUIDs, as phones do); `time_order` writes the rows in the order a city
    stores them (by day, then drop id) instead of household by household, so the indexes
    grow as they would in production. `as_app` (PostgreSQL, the drop row's points): write
    the drop rows as the app does, `as_app` drops per transaction, each one multi-row
    INSERT carrying its rows' points (the app scores new drops before storing them, since
    09057da: one version of each row), instead of COPY with their points (one writer: the
    app's concurrent ones are not modelled). `update_after` writes them as the app did
    before 09057da, for comparison: the INSERT with points 0, then an UPDATE of the points
    of those that earned; the heap then holds what the updates leave behind.
    """
    rng = random.Random(seed)
    today = today or datetime.now(SH).date()
    first_day = today - timedelta(days=days)
    if backend == "postgresql":  # the past months' partitions, as the scheduler made them
        from bench.citygen import ensure_partitions

        ensure_partitions(dsn, first_day, today)
    conn: Any
    if backend == "sqlite":
        conn = sqlite3.connect(dsn, isolation_level=None, timeout=60)
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("BEGIN IMMEDIATE")
    else:
        import psycopg

        conn = psycopg.connect(dsn)
    try:
        cur = conn.cursor()
        coded, on_row = layout(backend, cur)
        cur.execute("SELECT coalesce(max(id), 0) FROM drop_record")
        next_id = cur.fetchone()[0] + 1
        accounts = _accounts(backend, cur, community_id, [h for _t, _c, h in cards])
        drops: list[tuple] = []
        scored: list[tuple] = []
        entries: list[tuple] = []
        own: dict[int, int] = {}  # drop id → its own earn (the row's points)
        states: list[tuple] = []
        for _token, card_id, hh in cards:
            facts: list[DropFacts] = []
            for n in range(days):
                day = first_day + timedelta(days=n)
                if rng.random() >= DROPS_A_DAY:
                    continue
                at = datetime(day.year, day.month, day.day, 7, tzinfo=SH) + timedelta(
                    minutes=rng.randrange(0, 13 * 60))
                quality = "correct" if rng.random() < CORRECT else "incorrect"
                category = rng.choice(CATEGORIES)
                drop_id, next_id = next_id, next_id + 1
                utc = at.astimezone(UTC)
                drops.append((drop_id, client_id(drop_id) if client_id else f"hist-{drop_id}",
                               rng.choice(station_ids), community_id, category, quality,
                               "device", hh, card_id, device_id, utc, utc, day, True))
                facts.append(DropFacts(drop_id, hh, category, quality, True, day, at))
            account = accounts[hh]
            by_id = {f.drop_id: f for f in facts}
            balance = 0
            for (kind, _what), d in sorted(deserved(_rules_on, facts).items(),
                                           key=lambda kv: (kv[1].local_date, str(kv[0]))):
                balance += d.amount
                if on_row and kind in PER_DROP_KINDS:  # the drop row's points; no entry
                    if kind == "earn":
                        own[cast(int, d.drop_id)] = d.amount
                    continue
                at = by_id[d.drop_id].happened_at if d.drop_id in by_id else None
                entries.append((community_id, account, d.amount, kind, f"drop:{d.drop_id}", 0,
                                d.reason,
                                (at or datetime.combine(d.local_date, datetime.min.time(),
                                                        tzinfo=SH)).astimezone(UTC),
                                d.local_date, d.drop_id))
            if not on_row:
                scored += [(community_id, f.drop_id, account, f.local_date,
                            f.happened_at.astimezone(UTC) if f.happened_at else None,
                            f.category, f.quality, True, 0)
                           for f in facts]
            run = latest_run(correct_days(_rules_on, facts))
            states.append((balance, run[0] if run else None, run[1] if run else None, account))
        if not drops:  # 0 days: the accounts alone
            if backend == "postgresql":
                conn.commit()
            else:
                conn.execute("COMMIT")
            return {"drops": 0, "entries": 0, "accounts": len(states)}
        if time_order:
            # Drops are numbered household by household: in a city the ids follow time.
            order = sorted((d[12], d[10], d[0]) for d in drops)
            first = next_id - len(drops)
            renum = {old: new for new, (_d, _t, old) in enumerate(order, start=first)}
            own = {renum[i]: p for i, p in own.items()}
            drops = sorted(((renum[d[0]], client_id(renum[d[0]]) if client_id else d[1], *d[2:])
                            for d in drops), key=lambda d: d[0])
            scored = sorted(((s[0], renum[s[1]], *s[2:]) for s in scored), key=lambda s: s[1])
            entries = sorted(((*e[:4], f"drop:{renum[e[9]]}", *e[5:9], renum[e[9]])
                              for e in entries), key=lambda e: (e[8], e[9]))
        points = ("points",) if on_row else ()
        if as_app and on_row and backend == "postgresql":
            conn.commit()  # the accounts; then the drops, transaction by transaction
            _write_as_app(conn, [(d[0], *_client(backend, d[1]), d[2], d[3],
                                  CATEGORY_CODE.number(d[4]), QUALITY_CODE.number(d[5]),
                                  SOURCE_CODE.number(d[6]), *d[7:]) for d in drops],
                          own, as_app, update=update_after)
            cur = conn.cursor()
        elif coded:
            _copy(backend, cur, "drop_record", (*CODED_DROP_COLUMNS, *points), [
                (d[0], *_client(backend, d[1]), d[2], d[3], CATEGORY_CODE.number(d[4]),
                 QUALITY_CODE.number(d[5]), SOURCE_CODE.number(d[6]), *d[7:],
                 *((own.get(d[0], 0),) if on_row else ())) for d in drops])
        else:
            _copy(backend, cur, "drop_record", DROP_COLUMNS, drops)
        if not on_row:
            _copy(backend, cur, "points_scored_drop", SCORED_COLUMNS, scored)
        _copy(backend, cur, "ledger_entry", ENTRY_COLUMNS, entries)
        mark = "?" if backend == "sqlite" else "%s"
        cur.executemany(f"UPDATE points_account SET balance = {mark}, run_first = {mark}, "  # noqa: S608
                        f"run_last = {mark} WHERE id = {mark}",
                        [_sqlite_row(s) for s in states] if backend == "sqlite" else states)
        if backend == "postgresql":
            cur.execute("SELECT setval(pg_get_serial_sequence('drop_record', 'id'), "
                        "(SELECT max(id) FROM drop_record))")
            conn.commit()
            conn.autocommit = True
            for table in ("drop_record", "ledger_entry", "points_account",
                          *(() if on_row else ("points_scored_drop",))):
                conn.execute(f"VACUUM ANALYZE {table}")
        else:
            conn.execute("COMMIT")
            conn.execute("ANALYZE")
    finally:
        conn.close()
    return {"drops": len(drops), "entries": len(entries), "accounts": len(states),
            "drops_with_points": sum(1 for p in own.values() if p)}


def _write_as_app(conn: Any, drops: list[tuple], own: dict[int, int], per_tx: int, *,
                  update: bool = False) -> None:
    """The drop rows as the app writes them (`generate`'s `as_app`), in id order: per
    transaction one multi-row INSERT carrying the points (`update=True`: as the app did
    before 09057da, points 0, then one UPDATE per drop that earned). Without waiting for
    each commit's flush (the layout on disk is the same)."""
    columns = (*CODED_DROP_COLUMNS, *(() if update else ("points",)))
    if not update:
        drops = [(*d, own.get(d[0], 0)) for d in drops]
    names = ", ".join(columns)
    one = "(" + ", ".join(["%s"] * len(columns)) + ")"
    set_points = ("UPDATE drop_record SET points = %s WHERE community_id = %s AND id = %s "
                  "AND local_date = %s")
    conn.execute("SET synchronous_commit = off")
    with conn.pipeline():
        for n in range(0, len(drops), per_tx):
            chunk = drops[n:n + per_tx]
            conn.execute(f"INSERT INTO drop_record ({names}) VALUES "  # noqa: S608
                         + ", ".join([one] * len(chunk)), [v for d in chunk for v in d])
            earned = [(own[d[0]], d[4], d[0], d[13]) for d in chunk
                      if update and own.get(d[0])]
            if earned:
                conn.cursor().executemany(set_points, earned)
            conn.commit()
    conn.execute("SET synchronous_commit = on")
    conn.commit()


def layout(backend: str, cur: Any) -> tuple[bool, bool]:
    """Which drop row the schema has: (the split client id and SMALLINT codes, migration
    e6d85d974320, rather than the text columns of earlier revisions; the drop's own points
    on its row, migration a3c7e2d15b90, rather than scored facts and per-drop entries)."""
    if backend == "sqlite":
        cur.execute("SELECT name FROM pragma_table_info('drop_record')")
    else:
        cur.execute("SELECT column_name FROM information_schema.columns "
                    "WHERE table_name = 'drop_record'")
    columns = {r[0] for r in cur.fetchall()}
    return "client_uuid" in columns, "points" in columns


def _client(backend: str, client_id: str) -> tuple[Any, str | None]:
    """(client_uuid, client_text) as the app stores them (a UUID as 32 hex on SQLite)."""
    u, t = split_client_id(client_id)
    return (u.hex if backend == "sqlite" and u is not None else u), t


def _accounts(backend: str, cur: Any, community_id: int, households: list[int]) -> dict[int, int]:
    """Create the households' points accounts; household → account id."""
    mark = "?" if backend == "sqlite" else "%s"
    cur.executemany(f"INSERT INTO points_account (community_id, owner_type, household_id, "  # noqa: S608
                    f"balance) VALUES ({mark}, 'household', {mark}, 0)",
                    [(community_id, h) for h in households])
    cur.execute("SELECT household_id, id FROM points_account WHERE household_id IS NOT NULL")
    return dict(cur.fetchall())


def _sqlite_row(row: tuple) -> tuple:
    return tuple(v.astimezone(UTC).replace(tzinfo=None).isoformat(" ")
                 if isinstance(v, datetime) else v.isoformat() if isinstance(v, date) else v
                 for v in row)


def _copy(backend: str, cur: Any, table: str, columns: Sequence[str],
          rows: Iterable[tuple]) -> None:
    names = ", ".join(columns)
    if backend == "sqlite":
        marks = ", ".join("?" * len(columns))
        cur.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})",  # noqa: S608
                        [_sqlite_row(r) for r in rows])
        return
    with cur.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
        for r in rows:
            copy.write_row(r)
