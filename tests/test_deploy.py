"""The production-style start: nginx's config renders to something nginx accepts, and
gunicorn's settings are what the README says. No server is started here (see
bench/slow_clients.py for nginx under slow clients)."""
from __future__ import annotations

import re
import runpy
import shutil
import subprocess
from pathlib import Path

import pytest

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
