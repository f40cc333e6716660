"""CPU per single drop, in-process: the app's (Python) and PostgreSQL's, and what each
statement of one drop costs the database to plan and to run.

Single drops go through the real app (`POST /api/v1/drops` with a device token, Flask's
test client, one pooled connection), so the app's CPU per drop is this process's CPU time
and PostgreSQL's is that one backend's (from /proc), with no gunicorn, clients or other
backends in the figures (`bench/ingest.py` measures the served rates). Used to find the
0-day regression of single drops on the partitioned schema and to size the prebuilt
statements (BENCHMARKS.md, "The repeat check and prebuilt statements").

    .venv/bin/python bench/scan_cpu.py --fresh --drops 400 --explain
    .venv/bin/python bench/scan_cpu.py --root /tmp/old-tree      # another checkout's app

A fresh database (`--fresh`: scratch database `--db` on 127.0.0.1:5432, migrated, seeded
as `bench/ingest.py` seeds it, with `--history-days` of history) is kept for later runs;
`--drop` removes it. Each run draws new households (a repeat within ten minutes scores
nothing, and would measure a different path).
"""
from __future__ import annotations

import argparse
import cProfile
import json
import os
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

BASE = "postgresql+psycopg://root@127.0.0.1:5432"


def _backend_cpu(pid: int) -> float:
    """CPU seconds (user + system) of PostgreSQL backend `pid` (same host)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _explain(dsn: str, captured: list[tuple[str, Any, bool]]) -> None:
    """Median planning and execution time of each statement (5 runs, each rolled back)."""
    import psycopg

    with psycopg.connect(dsn) as conn:
        conn.execute("SET plan_cache_mode = force_custom_plan")  # as the app's connections
        for statement, params, many in captured:
            plans, runs = [], []
            for _ in range(5):
                conn.execute("SAVEPOINT probe")
                plan = conn.execute("EXPLAIN (ANALYZE, SUMMARY, FORMAT JSON) " + statement,
                                    params[0] if many else params).fetchone()[0][0]
                conn.execute("ROLLBACK TO SAVEPOINT probe")
                plans.append(plan["Planning Time"])
                runs.append(plan["Execution Time"])
            print(f"  plan {sorted(plans)[2]:6.3f} ms  run {sorted(runs)[2]:6.3f} ms  "
                  f"{' '.join(statement.split())[:110]}")
        conn.rollback()


def main(argv: list[str] | None = None) -> int:
    """Parse options, (create and) measure, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default="bench_scan")
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent,
                        help="the checkout whose app is measured")
    parser.add_argument("--fresh", action="store_true", help="create and seed the database")
    parser.add_argument("--drop", action="store_true", help="drop the database and exit")
    parser.add_argument("--households", type=int, default=20_000)
    parser.add_argument("--history-days", type=int, default=0)
    parser.add_argument("--drops", type=int, default=400)
    parser.add_argument("--batch", type=int, default=1,
                        help="drops per request: 1 posts /api/v1/drops, more /drops/batch")
    parser.add_argument("--analyze", action="store_true",
                        help="ANALYZE the drop and ledger tables before measuring")
    parser.add_argument("--explain", action="store_true",
                        help="planning and execution time of each statement of one drop")
    parser.add_argument("--profile", type=Path, help="write a CPU-time cProfile here")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(args.root))
    os.chdir(args.root)
    from bench import ingest

    url = f"{BASE}/{args.db}"
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    seed_file = Path(tempfile.gettempdir()) / f"{args.db}.seed.json"
    if args.drop:
        ingest.pg_database(BASE, args.db, create=False)
        seed_file.unlink(missing_ok=True)
        return 0
    if args.fresh:
        from bench import history

        ingest.pg_database(BASE, args.db, create=True)
        ingest.migrate(url, dict(os.environ))
        made = ingest.seed(url, args.households, 4)
        history.generate("postgresql", dsn, made.community_id, made.station_ids, made.cards,
                         days=args.history_days, device_id=made.device_id, seed=1)
        seed_file.write_text(json.dumps(made.__dict__))
    seed_ = ingest.Seed(**json.loads(seed_file.read_text()))
    if args.analyze:
        import psycopg

        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("ANALYZE drop_record, ledger_entry")

    from sqlalchemy import event

    from community import create_app
    from community.db import get_engine

    # No schema check: an older checkout (--root) may measure a database migrated further.
    app = create_app({"DATABASE_URL": url, "DATABASE_POOL_SIZE": 1,
                      "DATABASE_MAX_OVERFLOW": 0, "SCHEMA_CHECK": False})
    client = app.test_client()
    headers = {"Authorization": f"Bearer {seed_.device_token}"}
    rng = random.Random()  # noqa: S311 - new households each run, not security
    captured: list[tuple[str, Any, bool]] = []

    def post() -> Any:
        if args.batch > 1:
            drops = [ingest._drop_body(rng, seed_, uuid.uuid4().hex)[0]
                     for _ in range(args.batch)]
            resp = client.post("/api/v1/drops/batch", json={"drops": drops}, headers=headers)
        else:
            body, _ = ingest._drop_body(rng, seed_, uuid.uuid4().hex)
            resp = client.post("/api/v1/drops", json=body, headers=headers)
        if resp.status_code not in (200, 201):
            raise SystemExit(f"{resp.status_code}: {resp.get_data(as_text=True)}")
        return resp.get_json()

    requests = max(1, args.drops // args.batch)
    for _ in range(30 if args.batch == 1 else 3):  # imports, caches, prepared statements
        post()
    engine = get_engine(app)
    with engine.connect() as conn:
        pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()

    def count(_c: Any, _cur: Any, statement: str, params: Any, _ctx: Any, many: bool) -> None:
        captured.append((statement, params, many))

    profiler = cProfile.Profile(time.process_time) if args.profile else None
    event.listen(engine, "before_cursor_execute", count)
    t0, c0, p0 = time.perf_counter(), time.process_time(), _backend_cpu(pid)
    if profiler:
        profiler.enable()
    for _ in range(requests):
        post()
    if profiler:
        profiler.disable()
        profiler.dump_stats(args.profile)
    t1, c1, p1 = time.perf_counter(), time.process_time(), _backend_cpu(pid)
    event.remove(engine, "before_cursor_execute", count)
    statements, n = len(captured), requests * args.batch
    print(f"{args.db} ({args.root}): {n} drops in requests of {args.batch}; per drop: wall "
          f"{1000 * (t1 - t0) / n:.2f} ms, app CPU {1000 * (c1 - c0) / n:.2f}"
          f" ms, PostgreSQL CPU {1000 * (p1 - p0) / n:.2f} ms, "
          f"{statements / n:.1f} statements; load {os.getloadavg()[0]:.2f}")
    if args.explain and args.batch == 1:
        event.listen(engine, "before_cursor_execute", count)
        # One drop that goes the whole way: scored, not a repeat, earning (its own points
        # are carried by its row's INSERT: `points.services.score_new`, since 09057da).
        for _ in range(50):
            captured.clear()
            if post().get("points"):
                break
        event.remove(engine, "before_cursor_execute", count)
        _explain(dsn, captured)
    return 0


if __name__ == "__main__":
    sys.exit(main())
