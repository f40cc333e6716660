"""Browser tests: Debian's Chromium through Playwright, against a live server over the test app.

The live server wraps the per-test `app` fixture, so each browser test gets a fresh
database and runs on SQLite and (with TEST_DATABASE_URL) PostgreSQL. CSRF is on, as
in production. Never `playwright install`: without /usr/bin/chromium these tests skip,
or fail when REQUIRE_BROWSER=1 (CI).
"""
from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update",
               "--disable-sync"]


def chromium_or_skip() -> None:
    """Skip (or, with REQUIRE_BROWSER=1, fail) when the system Chromium is missing."""
    if CHROMIUM.exists():
        return
    message = f"{CHROMIUM} is missing: install the Debian package chromium"
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict:
    """Launch Debian's Chromium instead of a Playwright-downloaded browser."""
    chromium_or_skip()
    return {"executable_path": str(CHROMIUM), "args": LAUNCH_ARGS}


@pytest.fixture
def app_config() -> dict:
    """Browser tests run with CSRF protection on, like production."""
    return {"WTF_CSRF_ENABLED": True}


@pytest.fixture(autouse=True)
def _browser_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every browser context reads the server's clock (the suite's fixed date, ticking), so
    the phone's timestamps and the server's windows agree on any machine date."""
    from playwright.sync_api import Browser, BrowserContext

    from community import clock

    original = Browser.new_context

    def new_context(self: Browser, *args: object, **kwargs: object) -> BrowserContext:
        context = original(self, *args, **kwargs)  # type: ignore[arg-type]
        context.clock.install(time=clock.now())
        return context

    monkeypatch.setattr(Browser, "new_context", new_context)


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """Serve the test app on a free local port for the duration of one test."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()

