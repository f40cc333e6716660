"""No page scrolls sideways and no table is wider than its box, at 390 and 1280 px (and so
at 1920 px: `test_wider_screens_lay_out_as_1280`): every HTML page of the route table,
generated from `app.url_map` (GET routes, the test world's ids filled in), visited by the
role that uses it.

One browser page per role is reused for its URLs: each page is loaded at the width the
previous one ended at, measured, then resized to the other width (no reload: the layout
follows the viewport), so one resize a page. A page that looks too wide right after a resize
is loaded again at that width before it counts (a chart's debounced redraw may not have run
yet). A 500 fails the test.

1920 px is not measured in the browser: what lays out wider than 1280 px is what only a
viewport above 1280 px can change, and `test_wider_screens_lay_out_as_1280` checks that
nothing does (no media query above 1280 px, no length in viewport units without a fixed cap,
no script reading the window's size), so a 1920 px page is its 1280 px page with wider
margins (the content is at most 1200 px: `.container`).

Every GET HTML route is measured by a role that may open it: by default the role whose URL
prefix it starts with (`ROLES`), else the roles `OWNERS` names (a chief's station pages, a
street admin's dashboards and overdue reports, the city admin's rating policy). A page its
role is refused (403/404) or sent away from fails the test, and so does a route with no
role or an id the test world does not make (`test_every_page_has_a_role`): a new page is
never silently left unmeasured.

Skipped routes (`SKIP_ENDPOINTS`, `NOT_HTML`, `SKIP_WORDS`), because they cannot be measured:
- not HTML: static files, images (png/svg), PDFs, CSV/XLSX exports, JSON, ICS, the service
  workers, photos and pictures (their `photo`/`picture`/`qr`/`code_json` endpoints), the
  APIs (JSON: any path with `/api/`) and the API docs (a third-party viewer);
- redirects only: `/`, `/dashboard/` (to the reader's own dashboard), a report's
  `/handle` (a refused handling's URL, reloaded), the old paths (`moved.*`);
- token pages (an invitation, a steward join link, an hours certificate check), the phone
  sign-in's code step (needs a code sent first) and the SMS development page (demo mode
  only);
- pages a form's success redirects to that show what it made once (a device token, an
  invitation link, a household invitation's QR, an import's result: without the form
  first they send the reader back or are unknown).
"""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from playwright.sync_api import Browser
from sqlalchemy import select
from sqlmodel import Session, col
from werkzeug.routing import Rule

from community import clock
from community.points.models import PointsAccount, Redemption, RewardItem
from community.stations.models import Drop
from community.volunteers.models import Steward
from tests import builders
from tests.casework.scope_cases import _a_data as casework_data
from tests.dashboard.helpers import scene
from tests.e2e.helpers import log_in
from tests.points.rewards.scope_cases import _a_data as rewards_data
from tests.reports.scope_cases import _a_report
from tests.residents.helpers import link
from tests.volunteers.hours.builders import worked

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
SIZES = ((1280, 900), (390, 844))  # 1920 px lays out as 1280: test_wider_screens_lay_out_as_1280
NOT_HTML = (".png", ".svg", ".pdf", ".csv", ".xlsx", ".json", ".ics", ".js")
SKIP_ENDPOINTS = {
    "static", "api.docs", "api.csrf_token", "api.openapi_document", "api.list_stations",
    "api.get_station",                                        # the API: JSON, a viewer
    "auth.index", "dashboard.index", "reports.handle_page",   # redirects only
    "residents.invitation", "steward_me.join", "hours_public.verify",  # tokens
    "phone.verify", "phone.dev_sms",                          # a code sent first; demo only
    "stations.device_token", "stewards.invite_link", "residents.invitation_shown",
    "households.import_result",                               # shown once after a form
}
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
ROLES = {  # role → (login or None for a visitor, the URL prefixes it measures by default)
    "visitor": (None, ("/login",)),
    "resident": ("138 0000 0001", ("/me",)),
    "steward": ("stewarda", ("/steward",)),
    "chief": ("chiefa", ()),
    "collector": ("collectora", ("/collector",)),
    "manager": ("managera", ("/manage", "/dashboard", "/casework", "/reports", "/collection",
                             "/account")),
    "street_admin": ("streeta", ()),
    "city_admin": ("cityadmin", ("/admin",)),
}
# Pages measured by other roles than their prefix's: the role that may open them (and, for a
# few, a second role whose data makes the page look different, e.g. a chief's drop list).
STREET = ("street_admin", "city_admin")
OWNERS = {
    "checkin.stations": ("steward", "chief"), "checkin.chief": ("chief",),
    "checkin.station_code": ("chief",), "steward_wallet.index": ("steward",),
    "stations.drops": ("manager", "chief"), "stations.drop": ("manager", "chief"),
    "dashboard.community": ("manager", "city_admin"), "dashboard.area": STREET,
    "dashboard.ranking": STREET, "dashboard.tonnage": STREET,
    "ratings.index": ("manager", "city_admin"), "ratings.community": ("manager", "city_admin"),
    "ratings.policy": ("city_admin",), "stations.city_reasons": ("city_admin",),
    "reports.deadlines": ("city_admin",), "reports.overdue": ("street_admin",),
}
# The ids each route needs; a role may see another row of the same kind (a steward's own
# redemption is paid from their steward points, a resident's from their household's).
ID_NAMES = {"station_id", "household_id", "drop_id", "community_id", "steward_id", "item_id",
            "reward_id", "account_id", "case_id", "audit_id", "report_id", "shift_id",
            "assignment_id", "redemption_id"}
ROLE_IDS = {"steward": {"redemption_id": "steward_redemption_id"}}


def skipped(rule: Rule) -> bool:
    """Whether `rule` is not a page that can be measured (see the module docstring)."""
    return (rule.endpoint in SKIP_ENDPOINTS or rule.rule.endswith(NOT_HTML) or "/api/" in rule.rule
            or any(w in rule.endpoint for w in SKIP_WORDS))


def roles_of(rule: Rule) -> tuple[str, ...]:
    """The roles that measure `rule`: `OWNERS`', else those whose prefix it starts with."""
    if rule.endpoint in OWNERS:
        return OWNERS[rule.endpoint]
    return tuple(r for r, (_, prefixes) in ROLES.items() if rule.rule.startswith(prefixes))


def page_rules(app: Flask) -> list[Rule]:
    """The GET HTML routes to measure, in path order."""
    rules = sorted(app.url_map.iter_rules(), key=lambda r: r.rule)
    return [r for r in rules if "GET" in (r.methods or set()) and not skipped(r)]


def urls_of(app: Flask, role: str, ids: dict[str, int]) -> list[str]:
    """The URLs `role` measures, its ids filled in."""
    mine = {**ids, **{k: ids[v] for k, v in ROLE_IDS.get(role, {}).items()}}
    return [rule.build({a: mine[a] for a in rule.arguments}, append_unknown=False)[1]
            for rule in page_rules(app) if role in roles_of(rule)]


def _steward_redemption(session: Session, steward_id: int, item_id: int, community_id: int
                        ) -> int:
    """A reserved redemption paid from the steward's own points (积分银行)."""
    account = PointsAccount(community_id=community_id, owner_type="steward",
                            steward_id=steward_id, balance=0)
    session.add(account)
    session.flush()
    red = Redemption(community_id=community_id, reward_id=item_id, steward_id=steward_id,
                     account_id=int(account.id or 0), cost=10, pickup_code="STWRDFITAB")
    session.add(red)
    session.flush()
    return int(red.id or 0)


def _world_ids(session: Session, world: builders.World) -> dict[str, int]:
    """One row of each kind a page's URL names (stored and committed), by id name."""
    s = scene(session, world)
    link(session, world.resident_a.id, builders.active_card(session, s.h1))
    # A station chief runs st1 (their drop list is a known offender on a phone).
    s.st1.chief_id = builders.account(session, "station_chief", world.a, username="chiefa").id
    session.add(s.st1)
    builders.account(session, "collector", world.street_a, username="collectora")
    for minutes, hh in ((0, s.h1), (5, s.h2), (9, s.h4)):  # today's drops at st1
        builders.drop(session, s.st1, hh, happened_at=NOW - timedelta(hours=3, minutes=minutes),
                      quality="incorrect" if minutes else "correct",
                      note="投放时未破袋，已现场指导" if minutes == 5 else None)
    item = RewardItem(community_id=world.a.id, name="鸡蛋（10个）", cost=10, stock=5)
    session.add(item)
    # Steward A's own steward row: their wallet, their shift (hours pending) and its log.
    steward = Steward(community_id=world.a.id, account_id=world.steward_a.id,
                      status="approved")
    session.add(steward)
    session.flush()
    assignment = worked(session, s.st1, steward, date(2026, 11, 18))
    steward_red = _steward_redemption(session, int(steward.id or 0), int(item.id or 0),
                                      int(world.a.id or 0))
    session.commit()
    # These builders store with sessions of their own, after ours has committed.
    cases, rewards = casework_data(world), rewards_data(world)
    drop = session.execute(select(col(Drop.id)).where(
        col(Drop.household_id) == s.h1.id).limit(1)).scalar_one_or_none()
    ids = {"station_id": s.st1.id, "household_id": s.h1.id, "drop_id": drop,
           "community_id": world.a.id, "steward_id": steward.id, "item_id": item.id,
           "reward_id": item.id, "account_id": world.resident_a.id, "case_id": cases.case,
           "audit_id": cases.graded, "report_id": _a_report(world), "shift_id": assignment.shift_id,
           "assignment_id": assignment.id, "redemption_id": rewards.redemption,
           "steward_redemption_id": steward_red}
    return {k: int(v) for k, v in ids.items() if v is not None}


def test_every_page_has_a_role(app: Flask) -> None:
    """Each GET HTML route is measured by some role, with ids the test world makes."""
    lost = [r.endpoint for r in page_rules(app)
            if not roles_of(r) or not set(r.arguments) <= ID_NAMES]
    assert lost == [], "add a role (ROLES/OWNERS), the ids, or a documented skip"
    assert "jobs.index" in {r.endpoint for r in page_rules(app)}


@pytest.mark.browser
@pytest.mark.real_db
@pytest.mark.parametrize("role", list(ROLES))
def test_no_page_scrolls_sideways(role: str, app: Flask, browser: Browser, live_server: str,
                                  session: Session, world: builders.World) -> None:
    login = ROLES[role][0]
    # This test's own app (real_db): the browser keeps the CSS and scripts instead of asking
    # again on each of the ~50 pages (a third of the requests).
    app.config["SEND_FILE_MAX_AGE_DEFAULT"] = 3600
    with clock.freeze(NOW):
        ids = _world_ids(session, world)
        assert set(ids) >= ID_NAMES
        urls = urls_of(app, role, ids)
        sizes = list(SIZES)
        width, height = sizes[0]
        context = browser.new_context(viewport={"width": width, "height": height})
        page = context.new_page()
        problems: list[str] = []
        try:
            if login:
                log_in(page, live_server, login, builders.PASSWORD)
            for url in urls:
                # Loaded at the width the previous page ended at (sizes[0]).
                resp = page.goto(live_server + url, wait_until="load")
                status = resp.status if resp else 0
                if status != 200 or page.url.split("?")[0] != live_server + url.split("?")[0]:
                    # This role is the one that should see it: refused or sent away is a gap.
                    problems.append(f"{url}: not measured ({status}, at {page.url})")
                    continue
                for i, (width, height) in enumerate(sizes):
                    if i:  # the first width is the one the page was loaded at
                        page.set_viewport_size({"width": width, "height": height})
                        page.evaluate(FRAMES)
                    found = page.evaluate(CHECK)
                    if found:
                        page.reload(wait_until="load")
                        found = page.evaluate(CHECK)
                    problems += [f"{url} @{width}: {p}" for p in found]
                sizes.reverse()  # the next page starts at the width this one ended at
        finally:
            context.close()
    print(f"{role}: {len(urls)} pages visited")  # noqa: T201
    assert urls
    assert problems == []


ROOT = Path(__file__).resolve().parents[2]
WIDEST = max(width for width, _height in SIZES)


def _own_styles() -> dict[str, str]:
    """The project's own CSS: the stylesheets (not the vendored ones) and the templates'
    `<style>` blocks and inline styles (each as a block of its own)."""
    styles = {str(p.relative_to(ROOT)): p.read_text()
              for p in sorted((ROOT / "static").rglob("*.css")) if "vendor" not in p.parts}
    for p in sorted((ROOT / "templates").rglob("*.html")):
        text = p.read_text()
        styles[str(p.relative_to(ROOT))] = "\n".join(
            re.findall(r"<style[^>]*>(.*?)</style>", text, re.S)
            + [f"[style] {{{inline}}}" for inline in re.findall(r'style="([^"]*)"', text)])
    return styles


def _declarations(block: str) -> dict[str, str]:
    """`a: b; c: d` as {a: b, c: d}."""
    pairs = (d.split(":", 1) for d in block.split(";") if ":" in d)
    return {k.strip(): v.strip() for k, v in pairs}


def test_wider_screens_lay_out_as_1280() -> None:
    """Nothing lays out wider above 1280 px, so a page that fits at 1280 fits at 1920: every
    media query's width is below 1280 px (none switches on or off between the two); a length
    in viewport units is a width inside a `min()` with a fixed length (capped before 1280 px
    can reach it) or a height of an element whose width its box bounds (`width` or
    `max-width: 100%`); no script of ours reads the window's or screen's size."""
    styles = _own_styles()
    assert re.search(r"\.container\s*\{[^}]*max-width:\s*1200px", styles["static/css/app.css"])
    wide, uncapped = [], []
    for name, css in styles.items():
        css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
        for query in re.findall(r"@media([^{]*)\{", css):
            wide += [f"{name}: @media{query}" for px in re.findall(r"(\d+)px", query)
                     if int(px) >= WIDEST]
        # (selector, declarations) of each innermost block.
        rules = [(sel.strip(), _declarations(block))
                 for sel, block in re.findall(r"([^{};]*)\{([^{}]*)\}", css)]
        # Elements (by the selector's last part) whose width their box bounds.
        bounded = {sel.split()[-1] for sel, decl in rules if sel
                   and "100%" in (decl.get("width"), decl.get("max-width"))}
        for sel, decl in rules:
            for prop, value in decl.items():
                if not re.search(r"\d(vw|vh|vmin|vmax)\b", value):
                    continue
                capped = re.fullmatch(r"min\(.*\b\d+(px|rem|em)\b.*\)", value)
                vertical = (prop in ("height", "max-height", "min-height")
                            and sel.split()[-1:] and sel.split()[-1] in bounded)
                if not (capped or vertical):
                    uncapped.append(f"{name}: {sel} {{{prop}: {value}}}")
    assert wide == []
    assert uncapped == []
    scripts = [p for p in (ROOT / "static" / "js").rglob("*.js")
               if re.search(r"innerWidth|outerWidth|screen\.width|matchMedia|[0-9]vw\b",
                            p.read_text())]
    scripts += [p for p in (ROOT / "templates").rglob("*.html")
                if re.search(r"innerWidth|outerWidth|screen\.width|matchMedia", p.read_text())]
    assert scripts == []
