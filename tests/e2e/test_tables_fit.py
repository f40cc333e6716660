"""No page scrolls sideways and no table is wider than its box, at 390, 1280 and 1920 px:
every HTML page of the route table, generated from `app.url_map` (GET routes, the test
world's ids filled in), visited by the role that uses it.

One browser page per role is reused for its URLs: loaded at 1280 px, then resized to 1920
and 390 px (no reload: the layout follows the viewport). A page that looks too wide right
after a resize is loaded again at that width before it counts (a chart's debounced redraw
may not have run yet). A page the role may not open (403/404, or a
redirect elsewhere) is not measured; a 500 fails the test.

Skipped routes (documented here, checked below so a new one is seen):
- not HTML: static files, images (png/svg), PDFs, CSV/XLSX exports, JSON, ICS, the service
  worker, photos and pictures (their `photo`/`picture`/`qr`/`code_json` endpoints);
- the API and its docs (JSON and a third-party viewer), the old paths that only redirect
  (`moved.*`), the SMS development page;
- token pages (an invitation, a steward join link, an hours certificate check) and the
  sign-in pages a signed-in user is sent away from;
- ids the test world has no row for (a case, an audit, a report, a collection line, a shift,
  an assignment, a redemption): their pages are covered by their modules' browser tests.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from playwright.sync_api import Browser
from sqlalchemy import select
from sqlmodel import Session, col

from community import clock
from community.points.models import RewardItem
from community.stations.models import Drop
from community.volunteers.models import Steward
from tests import builders
from tests.dashboard.helpers import scene
from tests.e2e.helpers import log_in
from tests.residents.helpers import link

pytestmark = [pytest.mark.browser, pytest.mark.real_db]

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
SIZES = ((1280, 900), (1920, 1080), (390, 844))
NOT_HTML = (".png", ".svg", ".pdf", ".csv", ".xlsx", ".json", ".ics", ".js")
SKIP_ENDPOINTS = {"static", "api.docs", "api.csrf_token", "api.openapi_document",
                  "api.list_stations", "api.get_station", "phone.dev_sms", "phone.start",
                  "phone.verify", "auth.login", "residents.invitation", "steward_me.join",
                  "hours_public.verify", "auth.index"}
SKIP_WORDS = ("photo", "picture", "qr", "code_json", "moved.")
CHECK = """() => {
  const out = [];
  const de = document.documentElement;
  if (de.scrollWidth > window.innerWidth) out.push(`page ${de.scrollWidth}px`);
  document.querySelectorAll('table').forEach((t) => {
    if (t.offsetParent === null) return;  // hidden
    const box = t.parentElement.clientWidth;
    const w = Math.round(t.getBoundingClientRect().width);
    if (w > box + 1) out.push(`table ${t.dataset.testid || t.className || '?'} ${w}>${box}px`);
  });
  return out;
}"""
FRAMES = "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"
ROLES = {  # role → (login, the URL prefixes it visits)
    "resident": ("138 0000 0001", ("/me",)),
    "steward": ("stewarda", ("/steward",)),
    "chief": ("chiefa", ("/steward/stations", "/manage/drops")),
    "manager": ("managera", ("/manage", "/dashboard", "/casework", "/reports", "/collection",
                             "/account")),
    "city_admin": ("cityadmin", ("/admin", "/dashboard", "/manage/ratings", "/manage/reasons")),
}


def page_urls(app: Flask, ids: dict[str, int]) -> tuple[list[str], list[str]]:
    """(URLs to visit, endpoints skipped) from the route table, ids filled in."""
    urls, skipped = [], []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if "GET" not in (rule.methods or set()):
            continue
        if (rule.endpoint in SKIP_ENDPOINTS or rule.rule.endswith(NOT_HTML)
                or any(w in rule.endpoint for w in SKIP_WORDS)):
            skipped.append(rule.endpoint)
            continue
        if not set(rule.arguments) <= set(ids):
            skipped.append(rule.endpoint)
            continue
        urls.append(rule.build({a: ids[a] for a in rule.arguments}, append_unknown=False)[1])
    return urls, skipped


def _world_ids(session: Session, world: builders.World) -> dict[str, int]:
    s = scene(session, world)
    link(session, world.resident_a.id, builders.active_card(session, s.h1))
    # A station chief runs st1 (their drop list is a known offender on a phone).
    s.st1.chief_id = builders.account(session, "station_chief", world.a, username="chiefa").id
    session.add(s.st1)
    for minutes, hh in ((0, s.h1), (5, s.h2), (9, s.h4)):  # today's drops at st1
        builders.drop(session, s.st1, hh, happened_at=NOW - timedelta(hours=3, minutes=minutes),
                      quality="incorrect" if minutes else "correct",
                      note="投放时未破袋，已现场指导" if minutes == 5 else None)
    item = RewardItem(community_id=world.a.id, name="鸡蛋（10个）", cost=10, stock=5)
    session.add(item)
    session.commit()
    drop = session.execute(select(col(Drop.id)).where(
        col(Drop.household_id) == s.h1.id).limit(1)).scalar_one_or_none()
    steward = session.execute(select(col(Steward.id)).where(
        col(Steward.community_id) == world.a.id).limit(1)).scalar_one_or_none()
    ids = {"station_id": s.st1.id, "household_id": s.h1.id, "drop_id": drop,
           "community_id": world.a.id, "steward_id": steward, "item_id": item.id,
           "reward_id": item.id, "account_id": world.resident_a.id}
    return {k: int(v) for k, v in ids.items() if v is not None}


@pytest.mark.parametrize("role", list(ROLES))
def test_no_page_scrolls_sideways(role: str, app: Flask, browser: Browser, live_server: str,
                                  session: Session, world: builders.World) -> None:
    login, prefixes = ROLES[role]
    with clock.freeze(NOW):
        ids = _world_ids(session, world)
        urls, skipped = page_urls(app, ids)
        assert len(urls) > 60
        assert "jobs.index" not in skipped
        mine = [u for u in urls if u.startswith(prefixes)]
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        problems: list[str] = []
        measured = 0
        try:
            log_in(page, live_server, login, builders.PASSWORD)
            for url in mine:
                page.set_viewport_size({"width": 1280, "height": 900})
                resp = page.goto(live_server + url, wait_until="load")
                status = resp.status if resp else 0
                assert status < 500, (url, status)
                if status != 200 or page.url.split("?")[0] != live_server + url.split("?")[0]:
                    continue  # not this role's page (refused, or sent elsewhere)
                measured += 1
                for width, height in SIZES:
                    page.set_viewport_size({"width": width, "height": height})
                    page.evaluate(FRAMES)
                    found = page.evaluate(CHECK)
                    if found:
                        page.reload(wait_until="load")
                        found = page.evaluate(CHECK)
                    problems += [f"{url} @{width}: {p}" for p in found]
        finally:
            context.close()
    print(f"{role}: {measured} pages measured of {len(mine)}")  # noqa: T201
    assert measured >= 3
    assert problems == []
