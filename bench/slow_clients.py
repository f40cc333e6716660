"""Slow clients against `make serve`: does a normal client still get answers?

N connections (default 20) each send a request head one byte every few seconds (the
"slowloris" pattern); when the server drops one, it reconnects at once, so N stay open for
the whole run. Meanwhile one normal client asks for a page every half second and its
latency is recorded. The same is run against gunicorn directly (its Unix socket or port,
without nginx) to show what nginx changes. Bounded: at most --slow connections (≤ 64),
at most --duration seconds (≤ 120) per target. Not part of `make test`.

  make serve BIND=127.0.0.1:8000 &            # nginx → gunicorn (instance/run/gunicorn.sock)
  .venv/bin/python bench/slow_clients.py --target tcp:127.0.0.1:8000 \\
      --target unix:instance/run/gunicorn.sock

Prints one line per target and a Markdown table for BENCHMARKS.md.
"""
from __future__ import annotations

import argparse
import os
import platform
import socket
import statistics
import threading
import time
from dataclasses import dataclass, field

MAX_SLOW = 64
MAX_DURATION = 120.0


def connect(target: str, timeout: float) -> socket.socket:
    """A connection to 'tcp:HOST:PORT' or 'unix:PATH' (loopback or local only)."""
    kind, _, where = target.partition(":")
    if kind == "unix":
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        sock.connect(where)
        return sock
    if kind != "tcp":
        raise SystemExit(f"target must be tcp:HOST:PORT or unix:PATH, not {target!r}")
    host, _, port = where.rpartition(":")
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit("this benchmark only talks to servers on this machine")
    return socket.create_connection((host, int(port)), timeout=timeout)


@dataclass
class Probe:
    """The normal client's results."""

    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def probe_once(target: str, path: str, timeout: float) -> float:
    """One GET; the seconds until the whole response was read. Raises on failure."""
    started = time.perf_counter()
    with connect(target, timeout) as sock:
        sock.sendall(f"GET {path} HTTP/1.0\r\nHost: localhost\r\n"
                     "User-Agent: bench-probe\r\n\r\n".encode())
        chunks = []
        while data := sock.recv(65536):
            chunks.append(data)
    head = b"".join(chunks)[:16]
    if not head.startswith(b"HTTP/1.") or head[9:10] not in (b"2", b"3"):
        raise RuntimeError(f"answer {head!r}")
    return time.perf_counter() - started


def slow_client(target: str, interval: float, stop: threading.Event,
                counts: dict[str, int], lock: threading.Lock) -> None:
    """Keep one connection dribbling a request head; reconnect whenever it is dropped."""
    head = b"GET /login HTTP/1.1\r\nHost: localhost\r\nX-Slow: " + b"a" * 4096
    while not stop.is_set():
        try:
            sock = connect(target, 5)
        except OSError:
            stop.wait(0.2)
            continue
        with lock:
            counts["connections"] += 1
        try:
            for i in range(len(head)):
                sock.sendall(head[i:i + 1])
                with lock:
                    counts["bytes"] += 1
                if stop.wait(interval):
                    break
        except OSError:
            with lock:
                counts["dropped"] += 1  # the server closed it: reconnect at once
        finally:
            sock.close()


def run(target: str, *, slow: int, interval: float, duration: float, path: str,
        probe_every: float, probe_timeout: float) -> dict:
    """Slow clients and one probing client against one target for `duration` seconds."""
    stop = threading.Event()
    lock = threading.Lock()
    counts = {"connections": 0, "dropped": 0, "bytes": 0}
    threads = [threading.Thread(target=slow_client, daemon=True,
                                args=(target, interval, stop, counts, lock))
               for _ in range(slow)]
    for t in threads:
        t.start()
    time.sleep(min(2.0, duration / 4))  # let them take their places
    probe = Probe()
    load_before = os.getloadavg()
    ends = time.monotonic() + duration
    while time.monotonic() < ends:
        started = time.monotonic()
        try:
            probe.latencies.append(probe_once(target, path, probe_timeout))
        except Exception as exc:  # noqa: BLE001 - every failure is a result
            probe.failures.append(type(exc).__name__)
        time.sleep(max(0.0, probe_every - (time.monotonic() - started)))
    stop.set()
    for t in threads:
        t.join(timeout=interval + 6)
    lat = sorted(probe.latencies)
    asked = len(lat) + len(probe.failures)
    return {
        "target": target, "asked": asked, "answered": len(lat),
        "failed": len(probe.failures), "failures": sorted(set(probe.failures)),
        "p50": statistics.median(lat) if lat else None,
        "p95": lat[int(0.95 * (len(lat) - 1))] if lat else None,
        "max": lat[-1] if lat else None,
        "slow_connections": counts["connections"], "dropped": counts["dropped"],
        "load": load_before,
    }


def ms(value: float | None) -> str:
    """Seconds as milliseconds for the table."""
    return "—" if value is None else f"{value * 1000:.0f} ms"


def main() -> None:
    """Parse the options, run each target with and without slow clients, print a table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", action="append", required=True,
                        help="tcp:127.0.0.1:PORT or unix:PATH (repeatable)")
    parser.add_argument("--slow", type=int, default=20)
    parser.add_argument("--interval", type=float, default=2.0,
                        help="seconds between the bytes of a slow client")
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--path", default="/login")
    parser.add_argument("--probe-every", type=float, default=0.5)
    parser.add_argument("--probe-timeout", type=float, default=5.0)
    args = parser.parse_args()
    slow = min(args.slow, MAX_SLOW)
    duration = min(args.duration, MAX_DURATION)
    print(f"# {platform.node()} {platform.machine()} {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, load {os.getloadavg()}")
    print(f"# {slow} slow clients, one byte every {args.interval} s, {duration:.0f} s per run; "
          f"probe GET {args.path} every {args.probe_every} s, timeout {args.probe_timeout} s")
    rows = []
    for target in args.target:
        for n in (0, slow):
            result = run(target, slow=n, interval=args.interval, duration=duration,
                         path=args.path, probe_every=args.probe_every,
                         probe_timeout=args.probe_timeout)
            result["slow"] = n
            rows.append(result)
            print(result, flush=True)
    print("\n| target | slow clients | answered / asked | p50 | p95 | max | failures | "
          "slow connections opened (dropped by the server) | load at start |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| `{r['target']}` | {r['slow']} | {r['answered']} / {r['asked']} | "
              f"{ms(r['p50'])} | {ms(r['p95'])} | {ms(r['max'])} | "
              f"{', '.join(r['failures']) or '—'} | {r['slow_connections']} ({r['dropped']}) | "
              f"{r['load'][0]:.2f} |")


if __name__ == "__main__":
    main()
