"""Write PgBouncer's config for `make serve` and print the URL the web workers use.

    scripts/pgbouncer.py RUN_DIR [--mode transaction|session] [--pool-size N] [--port P]

Reads DATABASE_URL (the environment, then `.env`, as the app does); must be PostgreSQL.
Writes RUN_DIR/pgbouncer/{pgbouncer.ini,userlist.txt} and prints the app's URL: the same
database through PgBouncer's Unix socket in that folder (no TCP port: only this machine's
processes that can reach the folder connect). Transaction mode multiplexes the workers'
pooled connections onto `--pool-size` server connections; it needs psycopg's server-side
prepared statements off (DATABASE_PREPARE_THRESHOLD=none, which scripts/serve.sh sets).
BENCHMARKS.md ("PgBouncer") has the figures behind the default mode.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from dotenv import load_dotenv
from sqlalchemy import URL, make_url

MODES = ("transaction", "session")


def render(url: str, run_dir: Path, *, mode: str = "transaction", pool_size: int = 20,
           port: int = 6432) -> tuple[str, str, str]:
    """(pgbouncer.ini, userlist.txt, the app's URL through PgBouncer) for `url`."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("postgresql"):
        raise ValueError("PgBouncer pools PostgreSQL only")
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}")
    folder = run_dir / "pgbouncer"
    user, db = parsed.username or os.environ.get("USER", "postgres"), parsed.database or ""
    host = parsed.host or parsed.query.get("host") or "/var/run/postgresql"
    server = f"host={host} port={parsed.port or 5432} dbname={db} user={user}"
    # A password in the URL: clients must give it (SCRAM) and PgBouncer logs in with it.
    # None (trust or peer on the server): the socket's folder is the only gate.
    auth = "scram-sha-256" if parsed.password else "trust"
    users = f'"{user}" "{parsed.password or ""}"\n'
    ini = f"""\
;; Rendered by scripts/pgbouncer.py for `make serve`; edits are lost on the next start.
[databases]
{db} = {server}

[pgbouncer]
listen_addr =
listen_port = {port}
unix_socket_dir = {folder}
unix_socket_mode = 0700
auth_type = {auth}
auth_file = {folder / "userlist.txt"}
pool_mode = {mode}
;; Server connections per (database, user): what PostgreSQL's max_connections must hold
;; (README, "Connection budget"); clients beyond it wait their turn, they are not refused.
default_pool_size = {pool_size}
min_pool_size = 0
reserve_pool_size = 2
reserve_pool_timeout = 3
max_client_conn = 1000
max_db_connections = {pool_size + 2}
server_lifetime = 3600
server_idle_timeout = 600
server_reset_query = DISCARD ALL
ignore_startup_parameters = extra_float_digits
logfile = {folder / "pgbouncer.log"}
pidfile = {folder / "pgbouncer.pid"}
"""
    app_url = URL.create(parsed.drivername, username=user, password=parsed.password,
                         database=db, query={"host": str(folder), "port": str(port)})
    return ini, users, app_url.render_as_string(hide_password=False)


def main(argv: list[str] | None = None) -> int:
    """Write the files; print the app's URL."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--mode", choices=MODES, default=os.environ.get(
        "PGBOUNCER_MODE", "transaction"))
    parser.add_argument("--pool-size", type=int, default=int(os.environ.get(
        "PGBOUNCER_POOL_SIZE", "20")))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PGBOUNCER_PORT", "6432")))
    args = parser.parse_args(argv)
    load_dotenv(override=False)
    url = os.environ.get("DATABASE_URL", "")
    try:
        ini, users, app_url = render(url, args.run_dir.resolve(), mode=args.mode,
                                     pool_size=args.pool_size, port=args.port)
    except ValueError as err:
        print(f"pgbouncer: {err}", file=sys.stderr)  # noqa: T201 - a command-line tool
        return 2
    folder = args.run_dir.resolve() / "pgbouncer"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pgbouncer.ini").write_text(ini)
    userlist = folder / "userlist.txt"
    userlist.touch(mode=0o600)
    userlist.chmod(0o600)  # it may hold the database password
    userlist.write_text(users)
    print(app_url)  # noqa: T201 - the output is the URL
    return 0


if __name__ == "__main__":
    sys.exit(main())
