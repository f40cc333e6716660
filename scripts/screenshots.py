"""Rebuild the README screenshots from a fresh demo city: every role, phone and desktop.

Builds the demo into a temporary SQLite database (or reuses one: --db), serves it on a free
local port and drives Debian's Chromium (/usr/bin/chromium, never `playwright install`).
Each role logs in with its demo login, and for it the script saves its landing page (the
first screen auth.views.LANDING sends it to) and its key pages, each at two sizes:

  docs/screenshots/<role>-<page>-phone.jpg     390 x 844 viewport, full page up to 2000 px
  docs/screenshots/<role>-<page>-desktop.jpg   1440 x 900 viewport, full page up to 1600 px

in Chinese, plus docs/screenshots/resident-home-phone-en.jpg (the same home in English).
The roles and pages are the SHOTS table below: resident (home, points history, rewards, the
inbox with a mis-drop message, report a problem), steward (scan, shifts, wallet), station
chief (stations, a station's stewards today, a steward's shift log, reports board), collector
(today's pickups, record a pickup with a station's code typed in), community manager
(dashboard, drops, reports board, casework), street/district admin and city admin (the area
command view, overdue reports; the city admin also the ranking and the jobs page). JPEG at
quality 70 keeps the folder small (about 4 MB); images the table no longer names are
deleted. At the end the script prints the README's "Screenshots" table.

Run: .venv/bin/python scripts/screenshots.py [--db /tmp/demo.db] [--only ROLE]
"""
from __future__ import annotations

import argparse
import logging
import secrets
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Browser, Page, ViewportSize, sync_playwright
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402
from sqlmodel import Session, col  # noqa: E402

from community import create_app, demo  # noqa: E402
from community.cli import upgrade_database  # noqa: E402
from community.collection import rules as collection_rules  # noqa: E402
from community.collection.models import StationTag  # noqa: E402
from community.collection.views import tag_hash  # noqa: E402
from community.db import make_engine  # noqa: E402
from community.demo.context import DEMO_PASSWORD  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update",
               "--disable-sync"]
# (viewport, the full-page height cap in CSS px: long lists are cut there, files stay small)
SIZES: dict[str, tuple[ViewportSize, int]] = {
    "phone": ({"width": 390, "height": 844}, 2000),
    "desktop": ({"width": 1440, "height": 900}, 1600),
}
QUALITY = 70  # JPEG quality: text stays sharp, a page is 40-150 kB


@dataclass(frozen=True)
class Shot:
    """One page of a role: `path` to open (None: the landing page right after login), or
    `follow`, a selector whose first link on `path` leads to the page to show."""

    page: str
    caption: str
    path: str | None = None
    follow: str | None = None
    fill_pickup: bool = False  # type a station's collection code and a line, as a collector


@dataclass(frozen=True)
class Role:
    """A role, its demo login and the pages shown for it."""

    key: str
    label: str
    login: str
    shots: tuple[Shot, ...]


SHOTS = (
    Role("resident", "Resident 居民", "13900010001", (
        Shot("home", "home (landing)"),
        Shot("points", "points history", "/me/points"),
        Shot("rewards", "rewards", "/me/rewards"),
        Shot("inbox", "inbox: a mis-drop message", "/me/inbox"),
        Shot("report", "report a problem", "/reports/new"),
    )),
    Role("steward", "Steward 督导员", "yulong.steward1", (
        Shot("scan", "scan (landing)"),
        Shot("shifts", "my shifts", "/steward/shifts"),
        Shot("wallet", "wallet", "/steward/wallet"),
    )),
    Role("chief", "Station chief 亭长", "yulong.chief", (
        Shot("stations", "stations (landing)"),
        Shot("station", "a station's stewards today", "/steward/stations",
             "[data-testid=chief-page]"),
        Shot("log", "a steward's shift log", None, "[data-testid=person-log]"),
        Shot("reports", "reports board", "/reports/board"),
    )),
    Role("collector", "Collector 收运员", "collector1", (
        Shot("day", "today's pickups (landing)"),
        Shot("collect", "record a pickup", "/collector/collect", fill_pickup=True),
    )),
    Role("manager", "Community manager 社区管理员", "yulong", (
        Shot("dashboard", "dashboard (landing)"),
        Shot("drops", "drops", "/manage/drops"),
        Shot("reports", "reports board", "/reports/board"),
        Shot("casework", "casework", "/casework"),
    )),
    Role("area", "Street/district admin 街道/区镇管理员", "kunshan", (
        Shot("command", "command view (landing)"),
        Shot("overdue", "overdue reports", "/reports/overdue"),
    )),
    Role("city", "City admin 城管局管理员", "city", (
        Shot("command", "command view (landing)"),
        Shot("ranking", "ranking", "/dashboard/ranking"),
        Shot("overdue", "overdue reports", "/reports/overdue"),
        Shot("jobs", "jobs", "/admin/jobs/"),
    )),
)
ENGLISH = ("resident", "home", "phone")  # the one page also shown in English


def _log_in(page: Page, base: str, login: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#login", login)
    page.fill("#password", DEMO_PASSWORD)
    with page.expect_navigation():
        page.click("form button[type=submit]")
    if "/login" in page.url:
        raise SystemExit(f"could not log in as {login}")


def _settle(page: Page) -> None:
    """Wait for the network, the images and any chart to be drawn."""
    page.wait_for_load_state("networkidle")
    # evaluate(), not wait_for_function(): the latter needs eval(), which the CSP forbids.
    for _ in range(100):
        if page.evaluate("Array.from(document.images).every(i => i.complete)"):
            break
        page.wait_for_timeout(100)
    if page.evaluate("document.querySelector('canvas, svg[data-zr-dom-id]') !== null"):
        page.wait_for_timeout(800)  # ECharts draws after the load event


def _save(page: Page, path: Path, cap: int) -> None:
    """The full page as a JPEG, cut at `cap` CSS px of height."""
    width = page.viewport_size["width"] if page.viewport_size else 390
    height = min(cap, page.evaluate("document.documentElement.scrollHeight"))
    page.screenshot(path=path, type="jpeg", quality=QUALITY, full_page=True,
                    clip={"x": 0, "y": 0, "width": width, "height": height})


def _switch_language(page: Page, lang: str) -> None:
    """Press the top bar's language button (inside the phone's ☰ menu where it folds)."""
    button = page.locator(f"[data-testid=lang-{lang}]")
    toggle = page.get_by_test_id("nav-toggle")
    if not button.is_visible() and toggle.count() and toggle.is_visible():
        toggle.click()
    with page.expect_navigation():
        button.click()


def _fill_pickup(page: Page, codes: dict[str, str]) -> None:
    """Type the code of the first of the collector's stations that has a tag, and one line
    (2 bins, 48.5 kg), without saving: the form as a collector sees it mid-pickup."""
    mine = page.evaluate("Object.keys(JSON.parse("
                         "document.getElementById('collect-config').textContent).stations)")
    code = next((codes[h] for h in mine if h in codes), None)
    if code is None:
        print("no tagged station for the collector: the pickup form is shown empty")
        return
    page.get_by_test_id("station-code").fill(code)
    page.get_by_test_id("station-code-ok").click()
    page.locator("[data-testid^=bins-]:visible").first.fill("2")
    page.locator("[data-testid^=kg-]:visible").first.fill("48.5")
    page.evaluate("window.scrollTo(0, 0)")


def _tag_codes(url: str) -> dict[str, str]:
    """What the collector's page knows of each station's tag (the hash of its short code)
    → the code as printed under the QR, which a collector types when the camera fails."""
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            codes = session.execute(select(col(StationTag.code))).scalars().all()
    finally:
        engine.dispose()
    return {tag_hash(c): collection_rules.format_code(c) for c in codes}


def _shoot_role(browser: Browser, base: str, role: Role, size: str,
                codes: dict[str, str]) -> list[Path]:
    """Log in as the role in a fresh browser context of that size and save its pages."""
    viewport, cap = SIZES[size]
    phone = size == "phone"
    context = browser.new_context(viewport=viewport, device_scale_factor=1,
                                  is_mobile=phone, has_touch=phone, locale="zh-CN")
    saved: list[Path] = []
    try:
        page = context.new_page()
        _log_in(page, base, role.login)
        for shot in role.shots:
            if shot.path is not None:
                page.goto(f"{base}{shot.path}")
            if shot.follow is not None:
                link = page.locator(shot.follow).first
                if not link.count():
                    print(f"skipped {role.key}-{shot.page}: no {shot.follow} on {shot.path}")
                    continue
                with page.expect_navigation():
                    link.click()
            _settle(page)
            if shot.fill_pickup:
                _fill_pickup(page, codes)
            if "/login" in page.url:
                raise SystemExit(f"{role.login} was sent to the login page at {shot.path}")
            path = OUT / f"{role.key}-{shot.page}-{size}.jpg"
            _save(page, path, cap)
            saved.append(path)
            if (role.key, shot.page, size) == ENGLISH:
                _switch_language(page, "en")
                _settle(page)
                path = OUT / f"{role.key}-{shot.page}-{size}-en.jpg"
                _save(page, path, cap)
                saved.append(path)
                _switch_language(page, "zh")  # the language is the account's: set it back
    finally:
        context.close()
    return saved


def shoot(base: str, codes: dict[str, str], only: str | None = None) -> list[Path]:
    """Drive the browser through every role's pages at both sizes and save the JPEGs."""
    OUT.mkdir(parents=True, exist_ok=True)
    saved: list[Path] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            for role in SHOTS:
                if only and role.key != only:
                    continue
                for size in SIZES:
                    saved += _shoot_role(browser, base, role, size, codes)
        finally:
            browser.close()
    return saved


def readme_table() -> str:
    """The README's per-role table: one row per role, its pages linked at each size."""
    lines = ["| Role (login) | Phone (390 × 844) | Desktop (1440 × 900) |", "|---|---|---|"]
    for role in SHOTS:
        cells = []
        for size in SIZES:
            links = [f"[{shot.caption}](docs/screenshots/{role.key}-{shot.page}-{size}.jpg)"
                     for shot in role.shots]
            if (role.key, size) == (ENGLISH[0], ENGLISH[2]):
                links.append(f"[{ENGLISH[1]} in English](docs/screenshots/"
                             f"{ENGLISH[0]}-{ENGLISH[1]}-{size}-en.jpg)")
            cells.append(" · ".join(links))
        lines.append(f"| {role.label}, `{role.login}` | {cells[0]} | {cells[1]} |")
    return "\n".join(lines)


def _remove_stale(saved: list[Path]) -> None:
    """Delete the images of pages the table no longer names."""
    keep = set(saved)
    for old in list(OUT.glob("*.png")) + list(OUT.glob("*.jpg")):
        if old not in keep:
            old.unlink()
            print(f"removed {old.relative_to(ROOT)}")


def _serve_and_shoot(url: str, only: str | None) -> None:
    """Serve the demo database at `url` on a free port and take the screenshots."""
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": secrets.token_hex(32),
                      "RATELIMIT_ENABLED": False})
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no request log lines
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        saved = shoot(f"http://127.0.0.1:{server.server_port}", _tag_codes(url), only)
    finally:
        server.shutdown()
        thread.join(timeout=10)
    for path in saved:
        print(f"saved {path.relative_to(ROOT)} ({path.stat().st_size // 1024} kB)")
    if not only:
        _remove_stale(saved)
    total = sum(f.stat().st_size for f in OUT.iterdir())
    print(f"docs/screenshots: {total / 1e6:.1f} MB\n\n{readme_table()}")


def _build(path: Path) -> None:
    """Build the demo city into a new SQLite database at `path`."""
    url = f"sqlite:///{path}"
    upgrade_database(url)
    engine = make_engine(url)
    # Inside the app that will serve it: the demo writes the reward pictures into the app's
    # upload folder (outside an app it has nowhere to put them, and the catalog shows none).
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": secrets.token_hex(32)})
    with app.app_context(), Session(engine, expire_on_commit=False) as session:
        demo.build(session, seed=20261121, echo=lambda _line: None)
    engine.dispose()


def main() -> None:
    """Build the demo (in a temp database unless --db names one), serve it, take the
    screenshots."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, help="SQLite file of a demo to reuse (built "
                        "there first if missing); the default is a fresh temporary one")
    parser.add_argument("--only", choices=[r.key for r in SHOTS],
                        help="shoot only this role (keeps the other images)")
    args = parser.parse_args()
    if args.db is not None:
        if not args.db.exists():
            _build(args.db)
        _serve_and_shoot(f"sqlite:///{args.db.resolve()}", args.only)
        return
    with tempfile.TemporaryDirectory(prefix="screenshots-") as tmp:
        _build(Path(tmp) / "demo.db")
        _serve_and_shoot(f"sqlite:///{Path(tmp) / 'demo.db'}", args.only)


if __name__ == "__main__":
    main()
