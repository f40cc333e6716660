"""Rebuild the README screenshots from a fresh demo city.

Builds the demo into a temporary SQLite database, serves it on a free local port and
drives Debian's Chromium (/usr/bin/chromium, never `playwright install`) to save:
  docs/screenshots/resident-home-phone.png      resident home, 390 px wide, Chinese
  docs/screenshots/resident-home-phone-en.png   the same in English
  docs/screenshots/manager-households-desktop.png  a manager's household list, 1366 px
  docs/screenshots/steward-scan-phone.png       the steward's scan page, 390 px
  docs/screenshots/manager-drops-desktop.png    a manager's drop list, 1366 px
  docs/screenshots/resident-rewards-phone.png   the rewards catalog, 390 px
  docs/screenshots/steward-shifts-phone.png     a steward's shifts, 390 px
  docs/screenshots/manager-dashboard-desktop.png  the community dashboard, 1366 px
  docs/screenshots/city-ranking-desktop.png     the city admin's ranking, 1366 px
Run: .venv/bin/python scripts/screenshots.py
"""
from __future__ import annotations

import logging
import secrets
import sys
import tempfile
import threading
from pathlib import Path

from playwright.sync_api import Page, sync_playwright
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlmodel import Session  # noqa: E402

from community import create_app, demo  # noqa: E402
from community.cli import upgrade_database  # noqa: E402
from community.db import make_engine  # noqa: E402
from community.demo.context import DEMO_PASSWORD  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update",
               "--disable-sync"]
RESIDENT = "13900010001"
MANAGER = "yulong"
STEWARD = "yulong.steward1"
CITY = "city"


def _log_in(page: Page, base: str, login: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#login", login)
    page.fill("#password", DEMO_PASSWORD)
    with page.expect_navigation():
        page.click("form button[type=submit]")
    if "/login" in page.url:
        raise SystemExit(f"could not log in as {login}")


def _wait_for_images(page: Page) -> None:
    page.wait_for_load_state("networkidle")
    # evaluate(), not wait_for_function(): the latter needs eval(), which the CSP forbids.
    for _ in range(100):
        if page.evaluate("Array.from(document.images).every(i => i.complete)"):
            return
        page.wait_for_timeout(100)


def shoot(base: str) -> list[Path]:
    """Drive the browser through the pages and save the PNGs."""
    OUT.mkdir(parents=True, exist_ok=True)
    saved = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            phone = browser.new_context(viewport={"width": 390, "height": 844},
                                        device_scale_factor=1, is_mobile=True, has_touch=True)
            page = phone.new_page()
            _log_in(page, base, RESIDENT)
            _wait_for_images(page)
            saved.append(OUT / "resident-home-phone.png")
            page.screenshot(path=saved[-1], full_page=True)
            with page.expect_navigation():
                page.click("[data-testid=lang-en]")
            _wait_for_images(page)
            saved.append(OUT / "resident-home-phone-en.png")
            page.screenshot(path=saved[-1], full_page=True)
            with page.expect_navigation():
                page.click("[data-testid=lang-zh]")
            page.goto(f"{base}/me/rewards")
            _wait_for_images(page)
            saved.append(OUT / "resident-rewards-phone.png")
            page.screenshot(path=saved[-1], full_page=True)
            phone.close()

            steward = browser.new_context(viewport={"width": 390, "height": 844},
                                          device_scale_factor=1, is_mobile=True, has_touch=True)
            page = steward.new_page()
            _log_in(page, base, STEWARD)  # stewards land on the scan page
            page.wait_for_load_state("networkidle")
            saved.append(OUT / "steward-scan-phone.png")
            page.screenshot(path=saved[-1], full_page=True)
            page.goto(f"{base}/steward/shifts")
            page.wait_for_load_state("networkidle")
            saved.append(OUT / "steward-shifts-phone.png")
            page.screenshot(path=saved[-1], full_page=True)
            steward.close()

            desk = browser.new_context(viewport={"width": 1366, "height": 900})
            page = desk.new_page()
            _log_in(page, base, MANAGER)
            page.goto(f"{base}/manage/households")
            _wait_for_images(page)
            saved.append(OUT / "manager-households-desktop.png")
            page.screenshot(path=saved[-1])
            page.goto(f"{base}/manage/drops")
            page.wait_for_load_state("networkidle")
            saved.append(OUT / "manager-drops-desktop.png")
            page.screenshot(path=saved[-1])
            page.goto(f"{base}/dashboard/community")
            page.wait_for_load_state("networkidle")
            page.wait_for_timeout(1500)  # the charts animate in
            saved.append(OUT / "manager-dashboard-desktop.png")
            page.screenshot(path=saved[-1], full_page=True)
            desk.close()

            city = browser.new_context(viewport={"width": 1366, "height": 900})
            page = city.new_page()
            _log_in(page, base, CITY)
            page.goto(f"{base}/dashboard/ranking")
            page.wait_for_load_state("networkidle")
            saved.append(OUT / "city-ranking-desktop.png")
            page.screenshot(path=saved[-1])
            city.close()
        finally:
            browser.close()
    return saved


def main() -> None:
    """Build the demo in a temp database, serve it, take the screenshots."""
    with tempfile.TemporaryDirectory(prefix="screenshots-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'demo.db'}"
        upgrade_database(url)
        engine = make_engine(url)
        with Session(engine, expire_on_commit=False) as session:
            demo.build(session, seed=20261121, echo=lambda _line: None)
        engine.dispose()
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": secrets.token_hex(32),
                          "RATELIMIT_ENABLED": False})
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no request log lines
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            for path in shoot(f"http://127.0.0.1:{server.server_port}"):
                print(f"saved {path.relative_to(ROOT)}")
        finally:
            server.shutdown()
            thread.join(timeout=10)


if __name__ == "__main__":
    main()
