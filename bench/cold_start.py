"""Cold start of the web tier: how long from starting gunicorn, and from losing every worker
(kill -9), until a page is served again. Not part of `make test`.

Compares the old start command (`gunicorn --workers 3 wsgi:app`: each worker imports the
app) with `gunicorn -c gunicorn.conf.py wsgi:app` (the app imported once in the master and
forked: `preload_app`). Runs against a scratch SQLite database migrated first; gunicorn
listens on loopback only. Bounded: --runs ≤ 10, 60 s per wait.

  .venv/bin/python bench/cold_start.py --runs 3
"""
from __future__ import annotations

import argparse
import os
import platform
import signal
import socket
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv" / "bin"
WAIT = 60.0


def answers(port: int) -> bool:
    """Whether GET /login on 127.0.0.1:port answers 200 right now."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
            sock.sendall(b"GET /login HTTP/1.0\r\nHost: localhost\r\n\r\n")
            head = sock.recv(16)
            return head.startswith(b"HTTP/1.") and head[9:12] == b"200"
    except OSError:
        return False


def wait_until_served(port: int, started: float) -> float:
    """Seconds from `started` until the first 200 (polled every 20 ms)."""
    while time.perf_counter() - started < WAIT:
        if answers(port):
            return time.perf_counter() - started
        time.sleep(0.02)
    raise TimeoutError(f"nothing served on port {port} within {WAIT} s")


def workers_of(master: int) -> list[int]:
    """The worker pids of a gunicorn master."""
    children = Path(f"/proc/{master}/task/{master}/children").read_text()
    return [int(p) for p in children.split()]


def free_port() -> int:
    """A free port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def measure(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(start → first page, all workers killed → first page) for one gunicorn command."""
    port = free_port()
    cmd = [c.replace("{PORT}", str(port)) for c in command]
    env = {**env, "GUNICORN_BIND": f"127.0.0.1:{port}"}
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env,  # noqa: S603 - our own fixed commands stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        first = wait_until_served(port, started)
        time.sleep(1.0)  # every worker up
        workers = workers_of(proc.pid)
        killed = time.perf_counter()
        for pid in workers:
            os.kill(pid, signal.SIGKILL)
        while answers(port) and time.perf_counter() - killed < 1:
            time.sleep(0.005)  # until the old workers are really gone
        recovered = wait_until_served(port, killed)
        return first, recovered
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=40)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main() -> None:
    """Migrate a scratch database, then measure both commands --runs times each."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=3)
    args = parser.parse_args()
    runs = max(1, min(args.runs, 10))
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp}/cold.db",
               "SECRET_KEY": "bench-cold-start-only", "RATELIMIT_STORAGE_URI": "memory://",
               "RUN_DIR": tmp, "WEB_CONCURRENCY": str(args.workers)}
        empty = Path(tmp) / "empty.conf.py"
        empty.write_text("")
        subprocess.run([str(VENV / "flask"), "--app", "wsgi", "db", "upgrade"],  # noqa: S603
                       cwd=ROOT,
                       env=env, check=True, capture_output=True)
        commands = {
            # An empty config file: gunicorn would otherwise read ./gunicorn.conf.py.
            "before: gunicorn --workers N wsgi:app": [
                str(VENV / "gunicorn"), "-c", str(empty), "--workers", str(args.workers),
                "--bind",
                "127.0.0.1:{PORT}", "--no-control-socket", "wsgi:app"],
            "after: gunicorn -c gunicorn.conf.py wsgi:app (preload)": [
                str(VENV / "gunicorn"), "-c", "gunicorn.conf.py", "wsgi:app"],
        }
        print(f"# {platform.node()}, {os.cpu_count()} cores, Python "
              f"{platform.python_version()}, {args.workers} workers, {runs} runs each, "
              f"load {os.getloadavg()}")
        print("| command | start → first page (median, min–max) | all workers killed → "
              "first page (median, min–max) |")
        print("|---|---|---|")
        for name, command in commands.items():
            results = [measure(command, env) for _ in range(runs)]
            firsts = [r[0] for r in results]
            recoveries = [r[1] for r in results]
            print(f"| {name} | {statistics.median(firsts):.2f} s ({min(firsts):.2f}–"
                  f"{max(firsts):.2f}) | {statistics.median(recoveries):.2f} s "
                  f"({min(recoveries):.2f}–{max(recoveries):.2f}) |", flush=True)
        print(f"# load after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
