"""The navigation bar: one table of links, each shown when the permission policy grants it.

Every link names the policy action that grants it (`community/auth/policy.py`); the bar shows
a link when the actor may do that action somewhere (`policy.offers`). A menu (a `<details>`
group) also names an action, and its links show only to actors who may do it too. A link
shows once, in its first place: a manager finds "Drops" in the Drops menu, a station chief
(who has no menus) in the bar itself. templates/_nav.html renders the result with a loop, once
per set of roles, badge texts and language (`markup`).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, current_app, request
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from community.auth import policy


@dataclass(frozen=True)
class Badge:
    """A red count next to a menu or a link, counted only for actors who may do `action`."""

    counter: str  # the template global that counts ("failing_jobs", "inbox_unread")
    testid: str
    action: str
    title: Any = None
    cap: int | None = None  # above it the badge reads "99+"


@dataclass(frozen=True)
class Menu:
    """A group of links under one summary."""

    label: Any
    action: str
    badge: Badge | None = None


@dataclass(frozen=True)
class Link:
    """One row of the table. `menu`: a key of MENUS, or None for the bar itself."""

    menu: str | None
    label: Any
    endpoint: str
    testid: str | None
    action: str
    badge: Badge | None = None
    # Query arguments added while the link's menu shows its badge (the jobs page opens on
    # the failed runs).
    badge_args: Mapping[str, Any] = field(default_factory=dict)


FAILING_JOBS = Badge("failing_jobs", "jobs-failing", "jobs:read",
                     title=_l("Jobs whose last run failed"))
INBOX_UNREAD = Badge("inbox_unread", "inbox-unread", "inbox:read", cap=99)
CASE_TASKS = Badge("case_tasks_open", "case-tasks-open", "steward:self",
                   title=_l("Open case tasks"), cap=99)

MENUS: dict[str, Menu] = {
    "households": Menu(_l("Households"), "household:read"),
    "drops": Menu(_l("Drops"), "station:manage"),
    "points": Menu(_l("Points"), "points:read"),
    "stewards": Menu(_l("Stewards"), "steward:manage"),
    "admin": Menu(_l("Administration"), "account:manage", badge=FAILING_JOBS),
}

NAV: tuple[Link, ...] = (
    # menu        label                    endpoint                 testid         action
    Link(None, _l("Dashboard"), "dashboard.index", "nav-dashboard", "ratings:read"),
    Link(None, _l("Ratings"), "ratings.index", "nav-ratings", "ratings:read"),
    Link("households", _l("Households"), "households.index", "nav-households",
         "household:read"),
    Link("households", _l("Link requests"), "residents_admin.index", "nav-link-requests",
         "member:approve"),
    Link("drops", _l("Drop stations"), "stations.index", "nav-stations", "station:manage"),
    Link("drops", _l("Drops"), "stations.drops", "nav-drops", "drop:read"),
    Link("drops", _l("Mis-drop casework"), "casework.board", "nav-casework", "case:read"),
    Link("drops", _l("Appeals"), "appeals.queue", "nav-appeals", "drop:regrade"),
    Link("drops", _l("Collection"), "collection.figures", "nav-collection", "collection:read"),
    Link("drops", _l("Reports"), "reports.board", "nav-reports", "report:read"),
    Link("drops", _l("Overdue reports"), "reports.overdue", "nav-reports-overdue", "report:area"),
    Link("points", _l("Points"), "points.index", "nav-points", "points:read"),
    Link("points", _l("Reward items"), "rewards.catalog", "nav-rewards", "rewards:manage"),
    Link("points", _l("Honour board"), "board.index", "nav-board", "points:read"),
    Link("stewards", _l("Stewards"), "stewards.index", "nav-stewards", "steward:manage"),
    Link("stewards", _l("Rota"), "rota.index", "nav-rota", "steward:manage"),
    Link("stewards", _l("No-shows"), "checkin_manage.no_shows", "nav-no-shows",
         "steward:manage"),
    Link("stewards", _l("Steward hours"), "hours.pending", "nav-hours", "steward:manage"),
    Link("admin", _l("Accounts"), "auth.accounts", "nav-accounts", "account:manage"),
    Link("admin", _l("Audit log"), "audit.index", "nav-audit", "audit:read"),
    Link("admin", _l("Areas"), "areas.tree", "nav-areas", "area:tree"),
    Link("admin", _l("Mis-drop reasons"), "stations.city_reasons", "nav-reasons",
         "reasons:city"),
    Link("admin", _l("Report deadlines"), "reports.deadlines", "nav-report-deadlines",
         "report:deadlines"),
    Link("admin", _l("Jobs"), "jobs.index", "nav-jobs", "jobs:read",
         badge_args={"failed": 1}),
    # A station chief without menus reads the drops of their station from the bar.
    Link(None, _l("Drops"), "stations.drops", "nav-drops", "drop:read"),
    Link(None, _l("Mis-drop casework"), "casework.board", "nav-casework", "case:read"),
    Link(None, _l("Appeals"), "appeals.queue", "nav-appeals", "drop:regrade"),
    Link(None, _l("Reports"), "reports.board", "nav-reports", "report:read"),
    Link(None, _l("Scan drops"), "steward.scan", "nav-scan", "drop:record"),
    # Collectors (收运员): their day's stations, and the pickup page.
    Link(None, _l("Today's pickups"), "collection.day", "nav-collector-day",
         "collection:record"),
    Link(None, _l("Record a pickup"), "collection.collect", "nav-collect", "collection:record"),
    Link(None, _l("Reward pickup"), "pickup.index", "nav-pickup", "station:work"),
    Link(None, _l("Station check-in"), "checkin.stations", "nav-station-code", "station:run"),
    Link(None, _l("My home"), "residents.home", None, "home:read"),
    Link(None, _l("Steward profile"), "steward_me.profile", "nav-steward-profile",
         "steward:self"),
    Link(None, _l("My shifts"), "shifts.mine", "nav-my-shifts", "steward:self"),
    Link(None, _l("Check in"), "checkin.page", "nav-check-in", "steward:self"),
    Link(None, _l("My hours"), "my_hours.index", "nav-my-hours", "steward:self"),
    Link(None, _l("My points bank"), "steward_wallet.index", "nav-wallet", "steward:self"),
    Link(None, _l("My case tasks"), "casework.tasks", "nav-case-tasks", "steward:self",
         badge=CASE_TASKS),
    # Reports (随手拍): residents and the people on duty report from the phone.
    Link(None, _l("Report a problem"), "reports.new", "nav-report", "report:file"),
    Link(None, _l("My reports"), "reports.mine", "nav-my-reports", "report:file"),
    Link(None, _l("Inbox"), "inbox.index", "nav-inbox", "inbox:read", badge=INBOX_UNREAD),
)


@dataclass
class ShownBadge:
    """A badge to render."""

    testid: str
    title: Any
    text: str


@dataclass
class ShownLink:
    """A link to render: `url_for(endpoint, **args)`."""

    label: Any
    endpoint: str
    testid: str | None
    args: dict[str, Any]
    badge: ShownBadge | None


@dataclass
class Block:
    """A menu (`menu` is its key in MENUS) or a run of links in the bar itself (None)."""

    menu: str | None
    label: Any
    badge: ShownBadge | None
    links: list[ShownLink] = field(default_factory=list)


Counters = Mapping[str, Callable[[], int]]


def _badge(actor: policy.Actor, badge: Badge | None, counters: Counters) -> ShownBadge | None:
    if badge is None or not policy.offers(actor, badge.action):
        return None
    count = counters[badge.counter]()  # counted only here: one query, only for who sees it
    if not count:
        return None
    text = f"{badge.cap}+" if badge.cap is not None and count > badge.cap else str(count)
    return ShownBadge(badge.testid, badge.title, text)


class Bar(list[Block]):
    """The blocks of an actor's bar, and `key`: what its HTML depends on besides the locale
    (the actor's roles and the badges' texts), for `markup`'s memo."""

    key: tuple = ()


# Which links an actor's bar shows depends only on the roles it holds (policy.offers): worked
# out once per set of roles and process, as (menu key, the menu's links) runs in table order.
_Plan = tuple[tuple[str | None, tuple[Link, ...]], ...]
_PLANS: dict[tuple[frozenset[str], bool], _Plan] = {}


def _plan(actor: policy.Actor, nav: tuple[Link, ...]) -> tuple[tuple, _Plan]:
    key = (frozenset(actor.roles()), actor.account_id is not None)
    plan = _PLANS.get(key) if nav is NAV else None
    if plan is not None:
        return key, plan
    runs: list[tuple[str | None, list[Link]]] = []
    shown: set[tuple[str, str | None]] = set()
    for link in nav:
        menu = MENUS[link.menu] if link.menu else None
        at = (link.endpoint, link.testid)
        if (at in shown or not policy.offers(actor, link.action)
                or (menu and not policy.offers(actor, menu.action))):
            continue
        shown.add(at)
        if not runs or runs[-1][0] != link.menu:
            runs.append((link.menu, []))
        runs[-1][1].append(link)
    plan = tuple((menu, tuple(links)) for menu, links in runs)
    if nav is NAV:
        _PLANS[key] = plan
    return key, plan


def build(actor: policy.Actor, counters: Counters, nav: tuple[Link, ...] = NAV) -> Bar:
    """The actor's bar: blocks of visible links in table order; counters feed the badges."""
    key, plan = _plan(actor, nav)
    blocks = Bar()
    texts: list[str | None] = []
    for menu_key, links in plan:
        menu = MENUS[menu_key] if menu_key else None
        block = Block(menu_key, menu.label if menu else None,
                      _badge(actor, menu.badge if menu else None, counters))
        texts.append(block.badge.text if block.badge else None)
        for link in links:
            badge = _badge(actor, link.badge, counters)
            texts.append(badge.text if badge else None)
            block.links.append(ShownLink(link.label, link.endpoint, link.testid,
                                         dict(link.badge_args) if block.badge else {}, badge))
        blocks.append(block)
    blocks.key = (key, tuple(texts)) if nav is NAV else ()
    return blocks


# The bar's HTML (templates/_nav.html) for one set of roles, badge texts, language and
# mount point is the same on every page: rendered once per process and reused (the bar's
# 10-40 links and their url_for were a millisecond of every page). Bounded: a few hundred
# combinations exist; past MARKUP_MAX the memo starts again.
MARKUP_MAX = 512


def markup(blocks: list[Block]) -> Markup:
    """The rendered links of `blocks` (from `build`), memoized per app."""
    # Not memoized: a bar built from another table, or templates reloaded as they change.
    key = None if current_app.jinja_env.auto_reload else getattr(blocks, "key", None)
    memo: dict[tuple, Markup] = current_app.extensions.setdefault("community.nav_markup", {})
    if key:
        key = (key, str(get_locale()), request.script_root)
        html = memo.get(key)
        if html is not None:
            return html
    template = current_app.jinja_env.get_template("_nav.html")
    html = Markup(template.render(blocks=blocks))  # noqa: S704 - autoescaped template output
    if key:
        if len(memo) >= MARKUP_MAX:
            memo.clear()
        memo[key] = html
    return html


# Who gets the compact navigation on a phone: everyone signed in. Stewards and station chiefs
# work one-handed at a station and collectors at the truck; a resident's four links and three
# tools, and an area admin's menus, wrapped to two or three rows of 24 px links (QA: tap
# targets under 44 px), so their bars fold into the same ☰ menu of 44 px rows. On a desktop
# nobody's bar changes (the fold is a phone-width rule in app.css).


def compact(actor: policy.Actor) -> bool:
    """Whether the actor's bar folds into the ☰ menu on a phone (base.html: `nav-compact`):
    every role's does (kept as a hook: base.html asks per actor)."""
    del actor
    return True


def folded_badge(blocks: list[Block]) -> ShownBadge | None:
    """The badge of the ☰ button while the menu is closed: the sum of the links' counts."""
    counts = [b for block in blocks for b in [block.badge, *(link.badge for link in block.links)]
              if b is not None]
    if not counts:
        return None
    total = sum(int(b.text.rstrip("+")) for b in counts)
    capped = any(b.text.endswith("+") for b in counts) or total > 99
    return ShownBadge("nav-toggle-badge", None, f"{min(total, 99)}+" if capped else str(total))


def register(app: Flask) -> None:
    """`nav_bar(actor, counters)`, `nav_markup(blocks)`, `nav_compact(actor)` and
    `nav_folded_badge(blocks)` for base.html."""
    app.add_template_global(build, "nav_bar")
    app.add_template_global(markup, "nav_markup")
    app.add_template_global(compact, "nav_compact")
    app.add_template_global(folded_badge, "nav_folded_badge")
