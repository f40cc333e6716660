"""The navigation bar: each role sees exactly the links it saw before the bar was built from
the permission table (same data-testids, same menus, same order)."""
from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from flask.testing import FlaskClient
from sqlmodel import Session

from community.auth import services as auth_services
from tests import builders

HOME = "(My home)"  # the one nav link without a data-testid (identified by its href)

ADMIN_TOP = [
    ("", "nav-dashboard"), ("", "nav-ratings"),
    ("Households", "nav-households"), ("Households", "nav-link-requests"),
    ("Drops", "nav-stations"), ("Drops", "nav-drops"), ("Drops", "nav-casework"),
    ("Drops", "nav-appeals"), ("Drops", "nav-collection"),
]
ADMIN_REST = [
    ("Points", "nav-points"), ("Points", "nav-rewards"), ("Points", "nav-board"),
    ("Stewards", "nav-stewards"), ("Stewards", "nav-rota"), ("Stewards", "nav-no-shows"),
    ("Stewards", "nav-hours"),
    ("Administration", "nav-accounts"), ("Administration", "nav-audit"),
]
# Reports (issue 18): the board for chiefs and managers (and admins above them), the overdue
# list for street, district and city admins; the city's deadlines; reporting from the phone
# for residents and the people on duty.
ADMIN_MENUS = ADMIN_TOP + [("Drops", "nav-reports")] + ADMIN_REST
AREA_MENUS = ADMIN_TOP + [("Drops", "nav-reports"), ("Drops", "nav-reports-overdue")] + \
    ADMIN_REST
DEADLINES = [("Administration", "nav-report-deadlines")]
REPORTING = [("", "nav-report"), ("", "nav-my-reports")]
AREAS = [("Administration", "nav-areas")]
REASONS = [("Administration", "nav-reasons")]
JOBS = [("Administration", "nav-jobs")]
STATION = [("", "nav-scan"), ("", "nav-pickup")]
STATION_CODE = [("", "nav-station-code")]
# The wallet and "My case tasks" (issue 17): for stewards and chiefs (their own points bank,
# the ones casework assigns tasks to).
STEWARD_SELF = [("", "nav-steward-profile"), ("", "nav-my-shifts"), ("", "nav-check-in"),
                ("", "nav-my-hours"), ("", "nav-wallet"), ("", "nav-case-tasks")]
HOME_LINK = [("", HOME)]
INBOX = [("", "nav-inbox")]

# The bar each combination of roles saw in templates/base.html before the table replaced it.
EXPECTED: dict[tuple[str, ...], list[tuple[str, str]]] = {
    (): HOME_LINK + REPORTING + INBOX,
    ("resident",): HOME_LINK + REPORTING + INBOX,
    ("steward",): STATION + HOME_LINK + STEWARD_SELF + REPORTING + INBOX,
    ("station_chief",): [("", "nav-drops"), ("", "nav-casework"), ("", "nav-appeals"),
                         ("", "nav-reports")]
    + STATION + STATION_CODE
    + HOME_LINK + STEWARD_SELF + REPORTING + INBOX,
    ("manager",): ADMIN_MENUS + STATION + STATION_CODE + REPORTING + INBOX,
    ("area_admin",): AREA_MENUS + AREAS + INBOX,
    ("city_admin",): AREA_MENUS + AREAS + REASONS + DEADLINES + JOBS + INBOX,
    # Several roles: each link once, in its first place (a chief who manages uses the menu).
    ("manager", "station_chief"): ADMIN_MENUS + STATION + STATION_CODE + HOME_LINK
    + STEWARD_SELF + REPORTING + INBOX,
    ("area_admin", "steward"): AREA_MENUS + AREAS + STATION + HOME_LINK + STEWARD_SELF
    + REPORTING + INBOX,
    ("manager", "resident"): ADMIN_MENUS + STATION + STATION_CODE + HOME_LINK + REPORTING
    + INBOX,
}


class _NavParser(HTMLParser):
    """Collects (menu label, testid) for every link inside <nav class="nav">."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self._depth = 0  # open tags inside the nav (0: outside)
        self._menu: str | None = None  # inside <details>: "" until the summary is read
        self._in_summary = False
        self._in_badge = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if self._depth == 0:
            if tag == "nav" and a.get("class") == "nav":
                self._depth = 1
            return
        self._depth += 1
        if tag == "details":
            self._menu = ""
        elif tag == "summary":
            self._in_summary = True
        elif tag == "span":
            self._in_badge = True
        elif tag == "a":
            testid = a.get("data-testid")
            if testid is None:
                assert a.get("href") == "/me/", a
            self.links.append((self._menu or "", testid or HOME))

    def handle_endtag(self, tag: str) -> None:
        if self._depth == 0:
            return
        self._depth -= 1
        if tag == "details":
            self._menu = None
        elif tag == "summary":
            self._in_summary = False
        elif tag == "span":
            self._in_badge = False

    def handle_data(self, data: str) -> None:
        if self._in_summary and not self._in_badge:
            self._menu = (self._menu or "") + data.strip()


def nav_links(html: str) -> list[tuple[str, str]]:
    """The (menu, testid) pairs of the page's navigation bar, in order."""
    parser = _NavParser()
    parser.feed(html)
    return parser.links


def _scope(world: builders.World, role: str):
    return {"area_admin": world.street_a, "city_admin": world.city}.get(role, world.a)


@pytest.mark.parametrize("roles", list(EXPECTED), ids=lambda r: "+".join(r) or "no-role")
def test_each_role_sees_todays_links(client: FlaskClient, session: Session,
                                     world: builders.World, roles: tuple[str, ...]) -> None:
    acct = builders.account(session)
    for role in roles:
        auth_services.add_grant(session, account=acct, role=role, area=_scope(world, role))
    session.commit()
    builders.login(client, acct)
    client.post("/lang", data={"lang": "en", "next": "/me/inbox"})
    html = client.get("/me/inbox").get_data(as_text=True)
    assert nav_links(html) == EXPECTED[roles]


def test_logged_out_sees_no_links(client: FlaskClient) -> None:
    html = client.get("/login").get_data(as_text=True)
    assert 'class="nav"' in html
    assert nav_links(html) == []


def test_badges_count_only_for_those_who_see_them() -> None:
    """The failing-jobs badge (city admin) also opens the jobs page on the failed runs; the
    inbox badge caps at 99+; a counter is never called for an actor who may not see it."""
    from community.auth.policy import Actor, Grant
    from community.web import nav

    def boom() -> int:
        raise AssertionError("counted for an actor who cannot see the badge")

    city = Actor(1, [Grant("city_admin", 1, "/1/")])
    blocks = nav.build(city, {"failing_jobs": lambda: 2, "inbox_unread": lambda: 120})
    admin = next(b for b in blocks if b.menu == "admin")
    assert admin.badge is not None
    assert (admin.badge.testid, admin.badge.text) == ("jobs-failing", "2")
    jobs = next(link for link in admin.links if link.testid == "nav-jobs")
    assert jobs.args == {"failed": 1}
    inbox = blocks[-1].links[-1]
    assert inbox.badge is not None
    assert inbox.badge.text == "99+"

    quiet = nav.build(city, {"failing_jobs": lambda: 0, "inbox_unread": lambda: 3})
    admin = next(b for b in quiet if b.menu == "admin")
    assert admin.badge is None
    assert next(link for link in admin.links if link.testid == "nav-jobs").args == {}
    assert quiet[-1].links[-1].badge.text == "3"  # type: ignore[union-attr]

    manager = Actor(2, [Grant("manager", 5, "/1/2/5/9/")])
    assert nav.build(manager, {"failing_jobs": boom, "inbox_unread": lambda: 0,
                               "case_tasks_open": boom})


def test_a_steward_sees_their_open_case_tasks_on_the_bar(client: FlaskClient, session: Session,
                                                         world: builders.World) -> None:
    """The "My case tasks" link carries the count of open cases assigned to the steward."""
    from datetime import UTC, date, datetime

    from community.casework.models import MisdropCase

    at = datetime(2026, 11, 3, tzinfo=UTC)
    for hh, status in zip(world.households_a, ("open", "open", "closed"), strict=True):
        session.add(MisdropCase(community_id=world.a.id, household_id=hh.id, status=status,
                                trigger_drop_id=hh.id, trigger_at=at, window_start=at.date(),
                                strikes=3, rule_version=1, close_after=5, refund=False,
                                opened_at=at, opened_on=at.date(), task="bin_side",
                                assignee_id=world.steward_a.id, due_on=date(2026, 11, 10)))
    session.commit()
    builders.login(client, world.steward_a)
    html = client.get("/me/inbox").get_data(as_text=True)
    assert 'href="/casework/tasks" data-testid="nav-case-tasks"' in html
    assert re.search(r'data-testid="case-tasks-open"[^>]*>2<', html), html


def test_every_nav_action_is_in_the_policy_table() -> None:
    from community.auth import policy
    from community.web import nav

    actions = {link.action for link in nav.NAV} | {m.action for m in nav.MENUS.values()}
    assert actions <= set(policy.ACTIONS)
    assert {link.menu for link in nav.NAV} - {None} == set(nav.MENUS)
