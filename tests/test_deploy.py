"""The production-style start: nginx's config renders to something nginx accepts,
gunicorn's settings are what the README says, and PgBouncer's rendered config pools the
database (started here once, on a socket of its own; bench/slow_clients.py puts nginx under
slow clients, bench/pooling.py measures PgBouncer)."""
from __future__ import annotations

import os
import re
import runpy
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import make_url, text
from sqlalchemy.exc import DBAPIError

from community.db import make_engine

ROOT = Path(__file__).resolve().parent.parent
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)


def _placeholders_in_serve_sh() -> set[str]:
    script = (ROOT / "scripts" / "serve.sh").read_text()
    return set(re.findall(r"s\|@([A-Z_]+)@\|", script))


def render(run_dir: Path, **values: str) -> str:
    """The template with every placeholder filled, as scripts/serve.sh fills it."""
    text = (ROOT / "deploy" / "nginx.conf.template").read_text()
    for name, value in values.items():
        text = text.replace(f"@{name}@", value)
    return text


def test_serve_sh_fills_every_placeholder_of_the_template() -> None:
    template = re.sub(r"#.*", "", (ROOT / "deploy" / "nginx.conf.template").read_text())
    assert set(re.findall(r"@([A-Z_]+)@", template)) == _placeholders_in_serve_sh()


@pytest.mark.skipif(NGINX is None, reason="nginx is not installed (make serve installs it)")
def test_rendered_config_is_accepted_by_nginx(tmp_path: Path) -> None:
    text = render(tmp_path, ROOT=str(ROOT), RUN_DIR=str(tmp_path), LISTEN="127.0.0.1:18099",
                  UPSTREAM=f"unix:{tmp_path}/gunicorn.sock", MAX_BODY="16m", USER_LINE="")
    assert not re.findall(r"@[A-Z_]+@", re.sub(r"#.*", "", text))
    conf = tmp_path / "nginx.conf"
    conf.write_text(text)
    result = subprocess.run([str(NGINX), "-t", "-p", str(tmp_path), "-c", str(conf)],  # noqa: S603
                            capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 0, result.stderr
    # The limits the issue asks for are there.
    for directive in ("client_header_timeout 10s", "client_body_timeout 15s",
                      "send_timeout 30s", "client_max_body_size 16m", "proxy_buffering on",
                      "proxy_request_buffering on", "gzip on", "listen 127.0.0.1:18099"):
        assert directive in text, directive


def test_gunicorn_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    monkeypatch.delenv("GUNICORN_BIND", raising=False)
    monkeypatch.setenv("RUN_DIR", str(tmp_path))
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert settings["bind"] == f"unix:{tmp_path}/gunicorn.sock"  # only nginx reaches it
    assert settings["preload_app"] is True
    assert 3 <= settings["workers"] <= 9
    assert settings["timeout"] == 30
    monkeypatch.setenv("WEB_CONCURRENCY", "2")
    assert runpy.run_path(str(ROOT / "gunicorn.conf.py"))["workers"] == 2


def test_post_fork_disposes_an_inherited_engine() -> None:
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    disposed: list[bool] = []

    class Engine:
        def dispose(self, close: bool = True) -> None:
            disposed.append(close)

    class App:
        extensions = {"community.engine": Engine()}

    server = type("Server", (), {"app": type("Loaded", (), {"callable": App()})()})()
    settings["post_fork"](server, None)
    assert disposed == [False]  # the parent's connections are left to the parent
    settings["post_fork"](type("Server", (), {"app": object()})(), None)  # nothing preloaded


# --- PgBouncer (scripts/pgbouncer.py renders its config for scripts/serve.sh) --------------

PGBOUNCER = shutil.which("pgbouncer") or (
    "/usr/sbin/pgbouncer" if Path("/usr/sbin/pgbouncer").exists() else None)


def _pgbouncer_config() -> Any:
    return runpy.run_path(str(ROOT / "scripts" / "pgbouncer.py"))


def test_pgbouncer_config_pools_the_database_on_a_private_socket(tmp_path: Path) -> None:
    render = _pgbouncer_config()["render"]
    ini, users, url = render("postgresql+psycopg://app:s3cret@db.example:5433/city", tmp_path)
    assert "city = host=db.example port=5433 dbname=city user=app" in ini
    for line in ("pool_mode = transaction", "listen_addr =\n", "unix_socket_mode = 0700",
                 "auth_type = scram-sha-256", f"unix_socket_dir = {tmp_path}/pgbouncer",
                 "default_pool_size = 20"):
        assert line in ini, line
    assert users == '"app" "s3cret"\n'
    assert make_url(url).query == {"host": f"{tmp_path}/pgbouncer", "port": "6432"}
    assert (make_url(url).host, make_url(url).password) == (None, "s3cret")
    ini, _users, _url = render("postgresql+psycopg://root@127.0.0.1/test", tmp_path,
                               mode="session", pool_size=7)
    assert "auth_type = trust" in ini  # no password: the socket's folder is the gate
    assert "pool_mode = session" in ini
    assert "default_pool_size = 7" in ini
    with pytest.raises(ValueError, match="PostgreSQL"):
        render("sqlite:///x.db", tmp_path)


def test_serve_sh_turns_prepared_statements_off_behind_pgbouncer() -> None:
    script = (ROOT / "scripts" / "serve.sh").read_text()
    assert "scripts/pgbouncer.py" in script
    assert "DATABASE_PREPARE_THRESHOLD=$threshold" in script
    assert "threshold=none" in script
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^serve:.*\bpgbouncer\b", makefile, re.M)
    assert re.search(r"^test:.*\bpgbouncer\b", makefile, re.M)


@pytest.mark.skipif(PGBOUNCER is None, reason="pgbouncer is not installed (make test installs it)")
@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
                    reason="PgBouncer pools PostgreSQL: needs TEST_DATABASE_URL")
def test_the_app_works_through_pgbouncer_in_transaction_mode() -> None:
    """The rendered config starts Debian's PgBouncer; two app connections sharing its one
    server connection run the same statement past psycopg's prepare threshold: with
    prepared statements on they collide on the server (why serve.sh turns them off), off
    they work."""
    folder = Path(tempfile.mkdtemp(prefix="pgbouncer-test-"))
    folder.chmod(0o755)
    port = _free_port()
    ini, users, url = _pgbouncer_config()["render"](os.environ["TEST_DATABASE_URL"], folder,
                                                    pool_size=1, port=port)
    home = folder / "pgbouncer"
    home.mkdir()
    (home / "pgbouncer.ini").write_text(ini.replace("reserve_pool_size = 2",
                                                    "reserve_pool_size = 0"))
    (home / "userlist.txt").write_text(users)
    cmd = [str(PGBOUNCER)]
    if os.geteuid() == 0:  # PgBouncer refuses to run as root
        for path in [folder, home, *home.iterdir()]:
            shutil.chown(path, "postgres")
        cmd += ["-u", "postgres"]
    proc = subprocess.Popen([*cmd, str(home / "pgbouncer.ini")],  # noqa: S603
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def alternate(prepare_threshold: int | None) -> None:
        engine = make_engine(url, prepare_threshold=prepare_threshold, pool_size=2,
                             max_overflow=0)
        try:
            with engine.connect() as a, engine.connect() as b:
                for i in range(7):  # past psycopg's threshold of 5, on both connections
                    for conn in (a, b):
                        assert conn.execute(text("SELECT :i + 1"), {"i": i}).scalar() == i + 1
                        conn.commit()
        finally:
            engine.dispose()

    try:
        for _ in range(100):
            if (home / f".s.PGSQL.{port}").exists():
                break
            time.sleep(0.05)
        alternate(None)
        with pytest.raises(DBAPIError, match="prepared statement"):
            alternate(5)
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(folder, ignore_errors=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
