"""What PgBouncer and turning psycopg's prepared statements off cost the drop API.

Seeds one PostgreSQL database as bench/ingest.py does, then runs ingest's two HTTP phases
(single drops, batches of 100) under gunicorn four times, changing only how the workers
reach PostgreSQL:

    direct       prepare   straight to PostgreSQL, psycopg prepares after 5 runs (default)
    direct       none      straight to PostgreSQL, no server-side prepared statements
    session      prepare   through PgBouncer in session mode (prepares work there)
    transaction  none      through PgBouncer in transaction mode (prepares must be off)

and reports drops/s, p50/p99, the CPU milliseconds per drop spent by gunicorn, by
PostgreSQL's backends for the database and by PgBouncer (from /proc: on a shared,
loaded machine the CPU per drop stays comparable where throughput does not), and the
server connections the workers held. PgBouncer is
Debian's (`make serve` installs it), configured by scripts/pgbouncer.py, on a Unix socket
in a temporary folder; everything it starts is stopped at the end.

    .venv/bin/python bench/pooling.py --duration 15 --clients 8 --workers 3
"""
from __future__ import annotations

import argparse
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import ingest  # noqa: E402
from scripts import pgbouncer as pgb_config  # noqa: E402

CONFIGS = (("direct", "5"), ("direct", "none"), ("session", "5"), ("transaction", "none"))


TICK = os.sysconf("SC_CLK_TCK")


def _backends(dsn: str, db: str) -> list[int]:
    """The pids of the client backends connected to `db` (not this query's own)."""
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s "
                            "AND backend_type = 'client backend' AND pid <> pg_backend_pid()",
                            (db,)).fetchall()
        return [int(r[0]) for r in rows]


def _cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used; 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def _group(pgid: int) -> list[int]:
    """The pids of process group `pgid` (gunicorn's master and workers)."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[2]) == pgid:
                pids.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return pids


class CpuMeter:
    """CPU used by the app, the database's backends and PgBouncer between start and stop."""

    def __init__(self, dsn: str, db: str, app_pgid: int, bouncer: int | None) -> None:
        self.dsn, self.db, self.app_pgid, self.bouncer = dsn, db, app_pgid, bouncer

    def sample(self) -> dict[str, dict[int, float]]:
        return {"app": {p: _cpu(p) for p in _group(self.app_pgid)},
                "db": {p: _cpu(p) for p in _backends(self.dsn, self.db)},
                "bouncer": {self.bouncer: _cpu(self.bouncer)} if self.bouncer else {}}

    @staticmethod
    def used(before: dict[str, dict[int, float]],
             after: dict[str, dict[int, float]]) -> dict[str, float]:
        # A process that appeared meanwhile counts from zero (it started in the phase).
        return {k: sum(v - before[k].get(p, 0.0) for p, v in after[k].items()) for k in after}


def _start_pgbouncer(url: str, folder: Path, mode: str, pool: int) -> tuple[subprocess.Popen,
                                                                           str]:
    ini, users, app_url = pgb_config.render(url, folder, mode=mode, pool_size=pool,
                                            port=ingest.free_port())
    home = folder / "pgbouncer"
    home.mkdir(parents=True, exist_ok=True)
    (home / "pgbouncer.ini").write_text(ini)
    (home / "userlist.txt").write_text(users)
    cmd = [shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"]
    if os.geteuid() == 0:  # PgBouncer refuses to run as root
        subprocess.run(["chown", "-R", "postgres", str(folder)], check=True)  # noqa: S603,S607
        cmd += ["-u", "postgres"]
    proc = subprocess.Popen([*cmd, str(home / "pgbouncer.ini")],  # noqa: S603
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                            start_new_session=True)
    port = app_url.rsplit("port=", 1)[1]
    for _ in range(100):
        if (home / f".s.PGSQL.{port}").exists():
            return proc, app_url
        time.sleep(0.05)
    ingest.stop(proc)
    raise RuntimeError("pgbouncer did not start")


def main(argv: list[str] | None = None) -> int:
    """Run the four configurations; print a table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--duration", type=float, default=15.0, help="seconds per phase")
    parser.add_argument("--households", type=int, default=5_000)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker")
    parser.add_argument("--pool", type=int, default=8, help="PgBouncer server connections")
    parser.add_argument("--pg", default="postgresql+psycopg://root@127.0.0.1:5432")
    parser.add_argument("--pg-db", default="bench_pooling")
    parser.add_argument("--seed", type=int, default=20261206)
    parser.add_argument("--rounds", type=int, default=2,
                        help="passes over the four (every other one in reverse order, so a "
                             "load that drifts weighs on all alike); the table shows means")
    args = parser.parse_args(argv)
    print(f"bench/pooling.py; {os.cpu_count()} CPUs; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; "
          f"load {os.getloadavg()[0]:.2f}; {args.workers} workers x {args.threads} threads, "
          f"{args.clients} clients, {args.duration:g} s a phase", flush=True)
    # SCHEMA_CHECK off: another checkout adding a migration mid-run must not stop gunicorn.
    env = {**os.environ, "SECRET_KEY": secrets.token_hex(32), "SCHEMA_CHECK": "0"}
    env.pop("TEST_DATABASE_URL", None)
    url = ingest.pg_database(args.pg, args.pg_db, create=True)
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    rows: list[dict[str, Any]] = []
    try:
        ingest.migrate(url, env)
        seed_ = ingest.seed(url, args.households, 4)
        order = [c for r in range(args.rounds) for c in (CONFIGS if r % 2 == 0
                                                          else CONFIGS[::-1])]
        for n, (mode, threshold) in enumerate(order):
            with tempfile.TemporaryDirectory(prefix="bench-pooling-") as tmp:
                folder = Path(tmp)
                folder.chmod(0o755)
                bouncer = None
                proc = None
                app_url = url
                try:
                    if mode != "direct":
                        bouncer, app_url = _start_pgbouncer(url, folder, mode, args.pool)
                    port = ingest.free_port()
                    proc = ingest.start_gunicorn(
                        app_url, {**env, "DATABASE_PREPARE_THRESHOLD": threshold}, port,
                        args.workers, args.threads, folder / "gunicorn.log")
                    meter = CpuMeter(dsn, args.pg_db, proc.pid,
                                     bouncer.pid if bouncer else None)
                    row: dict[str, Any] = {"mode": mode, "prepare": threshold}
                    for name, factory in (("single", ingest.http_single),
                                          ("batch", ingest.http_batch)):
                        prefix = f"pool{n}{name[0]}"
                        before = meter.sample()
                        phase = ingest.run_phase(prefix, 1, args.clients, args.duration,
                                                 factory(port, seed_, prefix, args.seed))
                        cpu = meter.used(before, meter.sample())
                        per = {k: round(1000 * v / max(phase.drops, 1), 2)
                               for k, v in cpu.items()}
                        row[name] = (round(phase.rate, 1), round(phase.pct(0.5), 1),
                                     round(phase.pct(0.99), 1), phase.errors)
                        row[f"{name}_cpu_ms"] = per
                        for sample in phase.samples:
                            print(f"      error: {sample}")
                    row["server_connections"] = len(_backends(dsn, args.pg_db))
                    row["load"] = round(os.getloadavg()[0], 2)
                    rows.append(row)
                    print(f"   {row}", flush=True)
                finally:
                    if proc is not None:
                        ingest.stop(proc)
                    if bouncer is not None:
                        ingest.stop(bouncer)
    finally:
        ingest.pg_database(args.pg, args.pg_db, create=False)
    print("\n| PgBouncer | prepared | drops/s single / batch | p50 ms single / batch "
          "| CPU ms per single drop: app + PostgreSQL + PgBouncer | per batched drop "
          "| server conns | errors | load |")
    print("|---|---|---|---|---|---|---|---|---|")
    for mode, threshold in CONFIGS:
        runs = [r for r in rows if (r["mode"], r["prepare"]) == (mode, threshold)]
        if not runs:
            continue

        def mean(key: str, i: int | str, runs: list[dict[str, Any]] = runs) -> float:
            return sum(r[key][i] for r in runs) / len(runs)

        def cpu(key: str) -> str:
            parts = [mean(key, k) for k in ("app", "db", "bouncer")]
            return f"{parts[0]:.2f} + {parts[1]:.2f} + {parts[2]:.2f} = {sum(parts):.2f}"

        print(f"| {mode} | {threshold} | {mean('single', 0):,.0f} / {mean('batch', 0):,.0f} | "
              f"{mean('single', 1):.0f} / {mean('batch', 1):.0f} | {cpu('single_cpu_ms')} | "
              f"{cpu('batch_cpu_ms')} | {max(r['server_connections'] for r in runs)} | "
              f"{sum(r['single'][3] + r['batch'][3] for r in runs)} | "
              f"{sum(r['load'] for r in runs) / len(runs):.1f} |")
    return 0 if all(r["single"][3] + r["batch"][3] == 0 for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
