"""The compact navigation (issue 17): every page of a steward, station chief or collector
folds its bar into one ☰ menu on a phone (body class `nav-compact`), and the ☰ carries the
sum of the badges it hides; residents', admins' and managers' bars fold on a phone too (QA:
their bars wrapped to rows of 24 px links), and only under 640 px (app.css)."""
from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlmodel import Session

from community.auth import services as auth_services
from community.web import nav
from tests import builders

# Pages of a steward or chief, and the landing page of each role.
STEWARD_PAGES = ("/steward/scan", "/steward/shifts", "/steward/check-in", "/steward/hours",
                 "/steward/pickup", "/casework/tasks", "/me/inbox")
CHIEF_PAGES = ("/steward/stations", "/manage/drops", "/casework", "/manage/appeals")


def _body_classes(html: str) -> set[str]:
    match = re.search(r'<body class="([^"]*)"', html)
    assert match, html[:300]
    return set(match.group(1).split())


@pytest.mark.parametrize(("role", "pages"), [("steward", STEWARD_PAGES),
                                              ("station_chief", STEWARD_PAGES + CHIEF_PAGES)])
def test_every_steward_and_chief_page_is_compact(client: FlaskClient, session: Session,
                                                 world: builders.World, role: str,
                                                 pages: tuple[str, ...]) -> None:
    builders.station(session, world.a, "东门投放点")
    acct = builders.account(session, role, world.a)
    session.commit()
    builders.login(client, acct)
    for path in pages:
        resp = client.get(path)
        assert resp.status_code == 200, path
        assert "nav-compact" in _body_classes(resp.get_data(as_text=True)), path


def test_every_collector_page_is_compact(client: FlaskClient, session: Session,
                                         world: builders.World) -> None:
    """Collectors record at the truck with one hand: their pages fold too (issue 18)."""
    acct = builders.account(session, "collector", world.street_a)
    session.commit()
    builders.login(client, acct)
    for path in ("/collector/", "/collector/collect", "/me/inbox"):
        resp = client.get(path)
        assert resp.status_code == 200, path
        assert "nav-compact" in _body_classes(resp.get_data(as_text=True)), path


@pytest.mark.parametrize("role", ["manager", "area_admin", "resident"])
def test_every_other_role_folds_too(client: FlaskClient, session: Session,
                                    world: builders.World, role: str) -> None:
    scope = world.street_a if role == "area_admin" else world.a
    acct = builders.account(session)
    auth_services.add_grant(session, account=acct, role=role, area=scope)
    session.commit()
    builders.login(client, acct)
    html = client.get("/me/inbox").get_data(as_text=True)
    assert "nav-compact" in _body_classes(html)


def _block(*texts: str | None) -> nav.Block:
    badges = [nav.ShownBadge("b", None, t) if t else None for t in texts]
    return nav.Block(None, None, None, [nav.ShownLink("x", "auth.index", None, {}, b)
                                        for b in badges])


def test_the_menu_button_sums_the_badges_it_folds() -> None:
    assert nav.folded_badge([_block(None, None)]) is None
    got = nav.folded_badge([_block("3", None), _block("4")])
    assert got is not None
    assert (got.testid, got.text) == ("nav-toggle-badge", "7")
    capped = nav.folded_badge([_block("99+", "2")])
    assert capped is not None
    assert capped.text == "99+"
    many = nav.folded_badge([_block("60", "50")])
    assert many is not None
    assert many.text == "99+"
