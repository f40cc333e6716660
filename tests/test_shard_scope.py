"""Every statement the scan path, the ledger and the community dashboard send names the
community of each hot table it touches (README "Sharding"), on both backends.

The statements are recorded with SQLAlchemy's `before_cursor_execute` hook while a single
scan, a batch sync (a replay, a card of another community, two communities), a regrade, a
redemption and the manager's community dashboard run over HTTP; `tests.shard_scope` reads
the construct each was compiled from.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import and_, event, select
from sqlmodel import Session, col

from community import clock
from community.auth import services as auth_services
from community.db import get_engine
from community.households.models import Card, Household, HouseholdMember
from community.points import services as points_services
from community.points.models import LedgerEntry, RewardItem
from community.points.schemas import AdjustIn
from community.stations.models import Drop
from tests import builders
from tests.shard_scope import text_unscoped, unscoped_tables
from tests.statements import statements_sent

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 20, 8, 30, tzinfo=SH)  # a Friday, inside 07:00–09:00


@contextmanager
def recorded(app: Flask) -> Iterator[list[tuple[str, list[str]]]]:
    """(SQL, hot tables without their community) of every statement sent meanwhile."""
    def unscoped(statement: str, _params: Any, context: Any) -> tuple[str, list[str]]:
        compiled = getattr(context, "compiled", None)
        construct = getattr(compiled, "statement", None)
        bad = unscoped_tables(construct, statement) if construct is not None \
            else text_unscoped(statement)
        return statement, bad

    with statements_sent(get_engine(app), unscoped) as seen:
        yield seen


def _check(seen: list[tuple[str, list[str]]], *, at_least: int) -> None:
    bad = [f"{tables}: {sql}" for sql, tables in seen if tables]
    assert not bad, "\n\n".join(bad)
    assert len(seen) >= at_least  # the flow ran (a hook that saw nothing proves nothing)


def _drop(station_id: int, card: str | None, client_id: str, **kw: Any) -> dict[str, Any]:
    body = {"client_id": client_id, "station_id": station_id, "category": "kitchen",
            "quality": "correct", "happened_at": NOW.isoformat()}
    return body | ({"card": card} if card else {}) | kw


@pytest.fixture
def scene(session: Session, world: builders.World):
    """A station in each community; the steward of A on duty; cards issued."""
    st_a = builders.station(session, world.a, "东门投放点")
    st_b = builders.station(session, world.b, "金浦一号")
    builders.on_duty(session, world.steward_a, st_a, NOW - timedelta(hours=10),
                     NOW + timedelta(hours=14))
    cards_a = [builders.active_card(session, hh) for hh in world.households_a]
    card_b = builders.active_card(session, world.households_b[0])
    session.commit()
    return world, st_a, st_b, cards_a, card_b


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with clock.freeze(NOW):
        yield


def test_scan_and_batch_name_the_community(app: Flask, client: FlaskClient, session: Session,
                                           scene) -> None:
    world, st_a, st_b, cards_a, card_b = scene
    builders.login(client, world.steward_a)
    with recorded(app) as seen:
        resp = client.post("/api/v1/drops", json=_drop(st_a.id, cards_a[0].token, "scan-0001"))
    assert resp.status_code == 201, resp.get_json()
    _check(seen, at_least=8)

    with recorded(app) as seen:
        resp = client.post("/api/v1/drops/batch", json={"drops": [
            _drop(st_a.id, cards_a[0].token, "scan-0001"),                        # a replay
            _drop(st_a.id, cards_a[1].short_code, "batch-0001", category="other"),  # a typed code
            _drop(st_a.id, card_b.token, "batch-0002"),             # another community's card
            _drop(st_a.id, None, "batch-0003", tally=True),
            # An incorrect drop: its household is told (the members' lookup).
            _drop(st_a.id, cards_a[2].token, "batch-0004", quality="incorrect",
                  reason_code="kitchen_plastic_bag"),
        ]})
    body = resp.get_json()
    assert resp.status_code == 200, body
    assert [r["ok"] for r in body["results"]] == [True, True, False, True, True]
    assert body["results"][0]["drop"]["replay"] is True
    assert body["results"][2]["error"] == "card_unknown"
    _check(seen, at_least=8)


def test_a_batch_of_two_communities_is_two_transactions(app: Flask, client: FlaskClient,
                                                        session: Session, scene) -> None:
    world, st_a, st_b, cards_a, card_b = scene
    both = builders.account(session, "manager", world.a)
    auth_services.add_grant(session, account=both, role="manager", area=world.b)
    session.commit()
    builders.login(client, both)
    drops = [_drop(st_b.id, card_b.token, "multi-0001"),
             _drop(st_a.id, cards_a[0].token, "multi-0002"),
             _drop(st_b.id, cards_a[1].token, "multi-0003"),  # A's card at B's station
             _drop(999_999, None, "multi-0004", tally=True)]
    commits: list[int] = []
    engine = get_engine(app)

    def count(*_args: Any) -> None:
        commits.append(1)

    # In the tests a commit releases a SAVEPOINT (the test's transaction is rolled back).
    event.listen(engine, "release_savepoint", count)
    try:
        with recorded(app) as seen:
            resp = client.post("/api/v1/drops/batch", json={"drops": drops})
    finally:
        event.remove(engine, "release_savepoint", count)
    body = resp.get_json()
    assert resp.status_code == 200, body
    assert [r["ok"] for r in body["results"]] == [True, True, False, False]
    assert [r.get("error") for r in body["results"][2:]] == ["card_unknown", "station_unknown"]
    assert (body["stored"], body["failed"]) == (2, 2)
    assert len(commits) >= 2  # one transaction per community
    stored = dict(session.execute(select(col(Drop.client_text), col(Drop.community_id)).where(
        col(Drop.client_text).like("multi-%"))).all())
    assert stored == {"multi-0001": world.b.id, "multi-0002": world.a.id}
    _check(seen, at_least=10)

    # Sent again (the queue retries a whole batch): replays, nothing stored twice.
    resp = client.post("/api/v1/drops/batch", json={"drops": drops[:2]})
    assert [r["drop"]["replay"] for r in resp.get_json()["results"]] == [True, True]


def test_regrade_and_redemption_name_the_community(app: Flask, client: FlaskClient,
                                                   session: Session, scene) -> None:
    world, st_a, _st_b, cards_a, _card_b = scene
    home = world.households_a[0]
    builders.login(client, world.steward_a)
    drop_id = client.post("/api/v1/drops", json=_drop(st_a.id, cards_a[0].token, "regrade-0001")
                          ).get_json()["id"]
    client = app.test_client()
    builders.login(client, world.manager_a)
    with recorded(app) as seen:
        resp = client.post(f"/manage/drops/{drop_id}/regrade",
                           data={"quality": "incorrect", "reason": "混有塑料袋",
                                 "reason_code": "kitchen_plastic_bag"})
    assert resp.status_code == 302
    assert session.get(Drop, drop_id).quality == "incorrect"  # type: ignore[union-attr]
    _check(seen, at_least=8)

    session.add(HouseholdMember(community_id=home.community_id, household_id=home.id,
                                account_id=world.resident_a.id, status="approved"))
    item = RewardItem(community_id=world.a.id, name="环保袋", cost=5, stock=3)
    session.add(item)
    session.flush()
    manager = auth_services.load_actor(session, world.manager_a.id)
    with app.test_request_context():
        points_services.adjust(session, actor=manager, household_id=home.id,
                               data=AdjustIn.parse(amount=20, reason="测试"))
    session.commit()
    client = app.test_client()
    builders.login(client, world.resident_a)
    with recorded(app) as seen:
        resp = client.post("/me/rewards/redeem", data={"household_id": home.id,
                                                       "reward_id": item.id})
    assert resp.status_code == 302
    assert "redemptions/" in resp.headers["Location"]
    _check(seen, at_least=6)
    session.commit()
    assert points_services.balance(session, home.id) == 15


def test_the_community_dashboard_names_the_community(app: Flask, client: FlaskClient,
                                                     session: Session, scene) -> None:
    world, st_a, _st_b, cards_a, _card_b = scene
    builders.login(client, world.steward_a)
    client.post("/api/v1/drops", json=_drop(st_a.id, cards_a[0].token, "dash-0001"))
    client = app.test_client()
    builders.login(client, world.manager_a)
    with recorded(app) as seen:
        resp = client.get(f"/dashboard/community?community_id={world.a.id}")
    assert resp.status_code == 200
    _check(seen, at_least=5)


# --- The check itself can fail ----------------------------------------------------------

def _bad(build: Callable[[], Any]) -> list[str]:
    stmt = build()
    return unscoped_tables(stmt, str(stmt))


def test_the_check_finds_a_missing_community() -> None:
    by_id = _bad(lambda: select(Drop).where(col(Drop.id) == 1))
    assert by_id == ["drop_record"]
    assert _bad(lambda: select(Drop).where(col(Drop.community_id) == 1,
                                           col(Drop.id) == 1)) == []
    # An OR does not scope; a join on the community carries it to the joined table.
    from sqlalchemy import or_
    assert _bad(lambda: select(Drop).where(or_(col(Drop.community_id) == 1,
                                               col(Drop.id) == 1))) == ["drop_record"]
    joined = select(Card, Household).join(Household, and_(
        col(Household.community_id) == Card.community_id, col(Household.id) == Card.household_id))
    assert _bad(lambda: joined.where(col(Card.community_id) == 1)) == []
    assert _bad(lambda: joined.where(col(Card.id) == 1)) == ["card", "household"]
    plain = select(Card, Household).join(Household, col(Household.id) == Card.household_id)
    assert _bad(lambda: plain.where(col(Card.community_id) == 1)) == ["household"]
    # A subquery is a statement of its own.
    sub = select(col(LedgerEntry.account_id)).where(col(LedgerEntry.amount) > 0)
    assert _bad(lambda: select(Drop).where(col(Drop.community_id) == 1,
                                           col(Drop.household_id).in_(sub))) == ["ledger_entry"]
    # Raw text: a hot table and never a community.
    assert text_unscoped("SELECT id FROM ledger_entry WHERE drop_id = 3") == ["ledger_entry"]
    assert text_unscoped("SELECT id FROM ledger_entry WHERE community_id = 1") == []
