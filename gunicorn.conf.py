"""gunicorn settings for `make serve` and the systemd unit.

Started as `gunicorn -c gunicorn.conf.py wsgi:app`.

gunicorn sits behind nginx (deploy/nginx.conf.template), which reads whole requests and
buffers responses, so sync workers never wait on a slow client. Environment:

  GUNICORN_BIND   where gunicorn listens (default: a Unix socket only nginx uses)
  WEB_CONCURRENCY number of workers (default: 2 per core + 1, at most 9)
  GUNICORN_TIMEOUT seconds a request may run before its worker is replaced (default 30)
"""
from __future__ import annotations

import multiprocessing
import os
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
RUN_DIR = Path(os.environ.get("RUN_DIR", ROOT / "instance" / "run"))

bind = os.environ.get("GUNICORN_BIND", f"unix:{RUN_DIR / 'gunicorn.sock'}")
workers = int(os.environ.get("WEB_CONCURRENCY", min(2 * multiprocessing.cpu_count() + 1, 9)))
worker_class = "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
keepalive = 2
# The app is imported once in the master and forked: a replaced worker (crash, timeout,
# max_requests) serves at once instead of importing everything again. Safe because the app
# does no database or network work at import or in create_app, and post_fork below drops
# any engine a hook might have made before the fork.
preload_app = True
# A worker is replaced after this many requests (with jitter, so not all at once): a slow
# leak never grows for long.
max_requests = 5000
max_requests_jitter = 500
# gunicorn's control socket beside its own, not in the home directory.
control_socket = str(RUN_DIR / "gunicorn.ctl")
# Heartbeat files in memory, not on a disk that may stall (gunicorn makes them with mkstemp).
SHM = "/dev/shm"  # noqa: S108 - the heartbeat's usual home, not a shared temp file name
worker_tmp_dir = SHM if os.path.isdir(SHM) else None
# Request-line and header limits (gunicorn's defaults, stated): nginx enforces its own first.
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190
# Access lines are nginx's; gunicorn logs errors and worker events to stderr.
accesslog = None
errorlog = "-"
loglevel = "info"
# Only nginx connects (Unix socket or loopback); it sets X-Forwarded-* and the app trusts
# one proxy (TRUSTED_PROXIES=1, set by scripts/serve.sh).
forwarded_allow_ips = "127.0.0.1"


def post_fork(server: Any, worker: Any) -> None:
    """Each worker opens its own database connections: never share a pool across fork."""
    app = getattr(server.app, "callable", None)  # the preloaded Flask app, if any
    for name in ("community.engine", "community.replica_engine"):
        engine = getattr(app, "extensions", {}).get(name)
        if engine is not None:
            engine.dispose(close=False)
