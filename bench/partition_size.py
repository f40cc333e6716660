"""Bytes per drop on PostgreSQL: drop_record and ledger_entry with their indexes (issue 16,
part 3), before and after a schema change, and the yearly size for Suzhou.

For each revision asked (default: the one before the drop row's points, e6d85d974320, then
head) it makes a scratch database (`bench_size` on `--pg`, dropped afterwards unless
`--keep`), migrates it, seeds one community (`bench/ingest.py`'s seed), lets
`community.partitions` make the months the history needs (the scheduler's job would have
made them ahead), then writes `--households` × `--days` of history (`bench/history.py`:
drops with UUID client ids as phones send them and the points the app writes for them, in
the order a city stores them), VACUUM ANALYZE, and sums every partition's heap (with TOAST
and maps) and indexes. The default, 600 households over 365 days, is ~200,000 drops.

    .venv/bin/python bench/partition_size.py                       # before and after
    .venv/bin/python bench/partition_size.py --revisions head --households 100
    .venv/bin/python bench/partition_size.py --revisions e8b2c4a61f07,head  # the partitions
    .venv/bin/python bench/partition_size.py --revisions head --as-app 1   # as the app writes
    .venv/bin/python bench/partition_size.py --revisions head --as-app 100 --update-after

`bench/history.py` writes what the revision it finds holds: text client ids and codes
before migration e6d85d974320, `client_uuid`/`client_text` and SMALLINT codes after;
before a3c7e2d15b90 the scored facts (`points_scored_drop`, measured beside the figure
when present) and an earn or strike entry per drop, after it each drop's own earn on its
row (`drop_record.points`) and only bonuses and penalties in the ledger. `--as-app N`
writes the drop rows as the app does, N per transaction, each INSERT carrying the rows'
points (commit 09057da); `--update-after` as it did before: INSERT, then UPDATE of the
points (a second version of each row that earned; kept for comparison).

(Until a3c7e2d15b90, `--proposed` built `bench/compact_layout.sql`'s layout beside the real
tables to size it before any migration; the real tables now have its points layout, so both
are gone: BENCHMARKS.md, "Bytes per drop and monthly partitions".)
"""
from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SH = ZoneInfo("Asia/Shanghai")
# points_scored_drop: one row per drop until a3c7e2d15b90 (measured when it exists).
TABLES = ("drop_record", "ledger_entry", "points_scored_drop")
COUNTED = ("drop_record", "ledger_entry")  # the figure: drops + ledger, with indexes
BEFORE = "e6d85d974320"  # the revision before the drop row's points (a3c7e2d15b90)
SUZHOU_DROPS_A_YEAR = 3.6e9


def sizes(dsn: str, tables: tuple[str, ...] = TABLES) -> dict[str, Any]:
    """Per table (all its partitions): heap, indexes (per index), rows."""
    import psycopg

    out: dict[str, Any] = {}
    # pg_partition_tree lists a partitioned table's (or index's) leaves; a plain one: itself.
    leaves = ("(SELECT coalesce((SELECT array_agg(relid) FROM pg_partition_tree(%s) "
              "WHERE isleaf), ARRAY[%s::regclass]))")
    with psycopg.connect(dsn) as conn:
        for table in tables:
            if conn.execute("SELECT to_regclass(%s)", (table,)).fetchone()[0] is None:
                continue  # not in this revision's schema
            heap, idx = conn.execute(
                "SELECT sum(pg_table_size(r)), sum(pg_indexes_size(r)) FROM unnest("
                + leaves + ") r", (table, table)).fetchone()
            rows = conn.execute("SELECT count(*) FROM " + table).fetchone()[0]  # noqa: S608
            per_index = dict(conn.execute(
                "SELECT c.relname, (SELECT sum(pg_relation_size(r)) FROM unnest("
                "(SELECT coalesce((SELECT array_agg(relid) FROM pg_partition_tree(x.indexrelid) "
                "WHERE isleaf), ARRAY[x.indexrelid::regclass]))) r) FROM pg_index x "
                "JOIN pg_class c ON c.oid = x.indexrelid "
                "WHERE x.indrelid = %s::regclass ORDER BY 1", (table,)).fetchall())
            parts = conn.execute("SELECT cardinality(" + leaves + ")",
                                 (table, table)).fetchone()[0]
            out[table] = {"heap": int(heap), "indexes": int(idx), "rows": int(rows),
                          "partitions": int(parts),
                          "per_index": {k: int(v or 0) for k, v in per_index.items()}}
    return out


def run(args: argparse.Namespace, revision: str) -> dict[str, Any]:
    """Migrate a scratch database to `revision`, load the history, measure."""
    from sqlmodel import Session

    from bench import history
    from bench.ingest import pg_database, seed
    from community import create_app, partitions
    from community.cli import upgrade_database
    from community.db import get_engine

    url = pg_database(args.pg, args.db, create=True)
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    try:
        upgrade_database(url, revision)
        s = seed(url, args.households, 4)
        today = datetime.now(SH).date()
        app = create_app({"DATABASE_URL": url})
        with app.app_context(), Session(get_engine(app)) as session:
            made = partitions.ensure_months(session, today - timedelta(days=args.days + 1),
                                            today)
            session.commit()
        get_engine(app).dispose()
        t0 = time.perf_counter()
        counts = history.generate("postgresql", dsn, s.community_id, s.station_ids, s.cards,
                                  days=args.days, device_id=s.device_id, seed=args.seed,
                                  today=today, client_id=lambda _i: str(uuid.uuid4()),
                                  time_order=True, as_app=args.as_app,
                                  update_after=args.update_after)
        loaded = time.perf_counter() - t0
        got = sizes(dsn)
    finally:
        if not args.keep:
            pg_database(args.pg, args.db, create=False)
    drops = got["drop_record"]["rows"]
    counted = sum(got[t]["heap"] + got[t]["indexes"] for t in COUNTED)
    per_drop = counted / drops
    # Everything one drop costs: the figure, plus the scored facts where they still exist.
    everything = counted + sum(got[t]["heap"] + got[t]["indexes"] for t in got
                               if t not in COUNTED)
    return {"revision": revision, "partitions_made": made.created, "counts": counts,
            "load_seconds": round(loaded, 1), "tables": got,
            "entries_per_drop": round(got["ledger_entry"]["rows"] / drops, 3),
            "bytes_per_drop": round(per_drop, 1),
            "bytes_per_drop_with_scored": round(everything / drops, 1),
            "suzhou_tib_a_year": round(per_drop * SUZHOU_DROPS_A_YEAR / 2**40, 2)}


def show(result: dict[str, Any]) -> None:
    """Print one revision's figures."""
    drops = result["tables"]["drop_record"]["rows"]
    print(f"\n== {result['revision']}: {drops:,} drops, {result['entries_per_drop']} ledger "
          f"entries per drop, loaded in {result['load_seconds']} s")
    for table, t in result["tables"].items():
        print(f"  {table:20} {t['partitions']:3} part.  heap {t['heap'] / drops:6.1f} B/drop  "
              f"indexes {t['indexes'] / drops:6.1f} B/drop")
        for name, size in t["per_index"].items():
            print(f"      {name:40} {size / drops:6.1f} B/drop")
    scored = ("; with points_scored_drop: " + str(result["bytes_per_drop_with_scored"])
              if "points_scored_drop" in result["tables"] else "")
    print(f"  drop_record + ledger_entry: {result['bytes_per_drop']} B/drop{scored}; "
          f"Suzhou, 3.6 billion drops a year: {result['suzhou_tib_a_year']} TiB")


def main(argv: list[str] | None = None) -> int:
    """Measure each revision and print (and optionally write) the figures."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pg", default="postgresql+psycopg://root@127.0.0.1:5432")
    p.add_argument("--db", default="bench_size")
    p.add_argument("--revisions", default=f"{BEFORE},head",
                   help="comma-separated alembic revisions to measure, in order")
    p.add_argument("--households", type=int, default=600)
    p.add_argument("--days", type=int, default=365)
    p.add_argument("--seed", type=int, default=20261206)
    p.add_argument("--keep", action="store_true", help="keep the last database")
    p.add_argument("--as-app", type=int, default=0, metavar="N",
                   help="write the drop rows as the app does, N per transaction (one INSERT "
                        "carrying their points), instead of COPY with their points "
                        "(revisions with drop_record.points)")
    p.add_argument("--update-after", action="store_true",
                   help="with --as-app: as the app wrote before 09057da, for comparison "
                        "(INSERT with points 0, then UPDATE of the points)")
    p.add_argument("--json", type=Path, help="also write the figures here")
    args = p.parse_args(argv)
    results = []
    for revision in args.revisions.split(","):
        results.append(run(args, revision))
        show(results[-1])
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
