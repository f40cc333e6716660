"""The demo city: its shape, one active card per household, idempotence, and working logins."""
from __future__ import annotations

import random

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlmodel import Session, SQLModel

from community import demo
from community.areas.models import Area
from community.auth.models import ROLES, Account, RoleGrant
from community.db import get_engine
from community.households.models import Card, Household, HouseholdMember

SEED = 7


def _build(app: Flask) -> list[str]:
    lines: list[str] = []
    demo.build(get_engine(app), seed=SEED, echo=lines.append)
    return lines


def _counts(session: Session) -> dict[str, int]:
    session.expire_all()
    counts = {t.name: session.execute(select(func.count()).select_from(t)).scalar_one()
              for t in SQLModel.metadata.sorted_tables}
    session.rollback()  # end the read transaction: on SQLite it holds the write lock
    return counts


def _printed_logins(lines: list[str]) -> list[tuple[str, str, str]]:
    """(role, login, password) rows of the printed table."""
    table = "\n".join(lines).splitlines()
    start = next(i for i, line in enumerate(table) if line.split()[:2] == ["role", "login"])
    rows = []
    for line in table[start + 2:]:
        parts = line.split()
        if len(parts) >= 4 and parts[0] in ROLES:
            rows.append((parts[0], parts[1], parts[2]))
    return rows


def test_demo_city_shape(app: Flask, session: Session) -> None:
    """1/2/4/8 areas, ~3,000 households, one active card each, unique codes, every role."""
    _build(app)
    levels = dict(session.execute(
        select(Area.level, func.count()).group_by(Area.level)).all())
    assert levels == {"city": 1, "district": 2, "street": 4, "community": 8}
    households = session.execute(select(func.count()).select_from(Household)).scalar_one()
    assert 2_700 <= households <= 3_300
    per_household = session.execute(
        select(Card.household_id, func.count()).where(Card.status == "active")
        .group_by(Card.household_id)).all()
    assert len(per_household) == households
    assert {n for _hid, n in per_household} == {1}
    cards = session.execute(select(Card.short_code, Card.token, Card.link_code)).all()
    assert len({c.short_code for c in cards}) == len(cards)
    assert len({c.token for c in cards}) == len(cards)
    assert all(len(c.token) >= 22 and len(c.link_code) == 6 for c in cards)
    roles = set(session.execute(select(RoleGrant.role)).scalars())
    assert roles == set(ROLES)
    moved_out = session.execute(select(func.count()).select_from(Household)
                                .where(Household.status == "moved_out")).scalar_one()
    assert 0.01 * households <= moved_out <= 0.06 * households
    members = set(session.execute(select(Household.members)).scalars())
    assert members == {1, 2, 3, 4, 5, 6}
    # Every demo resident is linked, approved, to an active household of their own community.
    links = session.execute(
        select(HouseholdMember.status, Household.status, Household.community_id, RoleGrant.area_id)
        .join(Household, Household.id == HouseholdMember.household_id)
        .join(RoleGrant, (RoleGrant.account_id == HouseholdMember.account_id)
              & (RoleGrant.role == "resident"))).all()
    assert len(links) == 16
    assert all(m == "approved" and h == "active" and c == a for m, h, c, a in links)
    # Each community's first building has unit 1 room 101 (a realistic address layout).
    rooms = set(session.execute(select(Household.room)).scalars())
    assert "101" in rooms
    assert all(r[-2:] in ("01", "02") for r in rooms)


def test_demo_is_idempotent_and_logins_work(app: Flask, session: Session,
                                            client: FlaskClient) -> None:
    """A second run adds nothing, says so, and reprints the same logins; each role can log in."""
    first = _build(app)
    before = _counts(session)
    second = _build(app)
    assert _counts(session) == before
    assert any("already exists" in line for line in second)
    logins = _printed_logins(first)
    assert logins == _printed_logins(second)
    assert {role for role, _login, _pw in logins} == set(ROLES)
    landing = {"city_admin": "/admin/areas", "area_admin": "/manage/households",
               "manager": "/manage/households", "resident": "/me/",
               "steward": "/me/", "station_chief": "/me/"}
    seen: set[str] = set()
    for role, login, password in logins:
        if role in seen:
            continue
        seen.add(role)
        resp = client.post("/login", data={"login": login, "password": password})
        assert resp.status_code == 302, (role, login)
        location = client.get("/").headers["Location"]
        assert location.endswith(landing[role]), role
        # The landing page renders with demo-sized data (e.g. a household list of many pages).
        page = client.get(location)
        assert page.status_code == 200, (role, page.get_data(as_text=True)[:300])
        client.post("/logout")
    assert session.execute(select(func.count()).select_from(Account)).scalar_one() == len(logins)


def test_layout_is_deterministic_and_realistic() -> None:
    """Pure: the address plan depends only on the seed; units 1–3 and floors up to 18."""
    a = demo.plan_addresses(random.Random(1), 400)
    assert a == demo.plan_addresses(random.Random(1), 400)
    assert a != demo.plan_addresses(random.Random(2), 400)
    assert len(set(a)) == 400
    assert {u for _b, u, _r in a} <= {"1", "2", "3"}
    assert max(int(r) // 100 for _b, _u, r in a) <= 18
    assert a[0] == ("1", "1", "101")


def test_short_codes_skip_ones_already_taken(session: Session, world, monkeypatch) -> None:
    """A generated code that is already on a card (or drawn twice) is replaced, not inserted."""
    taken = session.execute(select(Card.short_code)).scalars().first()
    draws = iter([taken, "AAAA2222", "AAAA2222", "BBBB3333", "CCCC4444"])
    monkeypatch.setattr(demo.codes, "new_code", lambda length=8: next(draws))
    assert demo._unused_short_codes(session, 2) == ["AAAA2222", "BBBB3333"]
