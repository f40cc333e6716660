"""A resident's data download marks a drop its steward undid (both backends): listed, since it
happened, with `undone`, when, and a note in words; its points are reversed alongside."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from tests import builders
from tests.residents.test_my_account import member


def test_an_undone_drop_is_marked_in_the_download(client, session: Session,
                                                   world: builders.World) -> None:
    hh = world.households_a[0]
    member(session, hh, world.resident_a, role="head")
    st = builders.station(session, world.a, "北门")
    at = datetime(2026, 11, 20, 0, 30, tzinfo=UTC)
    builders.drop(session, st, hh, category="kitchen", quality="correct", happened_at=at)
    undone = builders.drop(session, st, hh, category="other", quality="incorrect",
                           happened_at=at + timedelta(minutes=1))
    undone.voided_at, undone.voided_by = at + timedelta(minutes=3), world.steward_a.id
    session.add(undone)
    session.commit()
    builders.login(client, world.resident_a)
    client.post("/lang", data={"lang": "zh", "next": "/me/"})
    [home] = json.loads(client.get("/me/data.json").get_data(as_text=True))["households"]
    assert [(d["category"], d["undone"], d["note"]) for d in home["drops"]] == [
        ("kitchen", False, ""), ("other", True, "已撤销")]
    assert home["drops"][1]["undone_at"].startswith("2026-11-20T00:33")
    assert home["drops"][0]["undone_at"] is None


def test_the_download_lists_every_points_entry_with_its_reason(
        app, client, session: Session, world: builders.World) -> None:
    """A drop's own earn and strike live on its row, not in the ledger: the download lists
    them with the ledger's entries (the penalty, a manager's adjustment), as written."""
    from datetime import date

    from community.auth import services as auth_services
    from community.points import services as points_services
    from community.points.rules import DropFacts
    from community.points.schemas import AdjustIn

    hh = world.households_a[0]
    member(session, hh, world.resident_a, role="head")
    day, now = date(2026, 11, 19), datetime(2026, 11, 19, 2, 0, tzinfo=UTC)
    with app.test_request_context():
        builders.award(session, [DropFacts(8_001, hh.id, "kitchen", "correct", True, day)],
                       community_id=world.a.id, now=now)
        builders.award(session, [DropFacts(8_002, hh.id, "other", "incorrect", True, day)],
                       community_id=world.a.id, now=now + timedelta(minutes=1))
        points_services.adjust(session, actor=auth_services.load_actor(
            session, world.manager_a.id), household_id=hh.id,
            data=AdjustIn.parse(amount=5, reason="活动奖励"), now=now + timedelta(hours=1))
    session.commit()
    builders.login(client, world.resident_a)
    client.post("/lang", data={"lang": "zh", "next": "/me/"})
    [home] = json.loads(client.get("/me/data.json").get_data(as_text=True))["households"]
    assert [(p["kind"], p["amount"]) for p in home["points"]] == [
        (r.kind, r.amount) for r in builders.ledger(session, household=hh)]
    assert [(p["kind"], p["amount"], p["reason"]) for p in home["points"]] == [
        ("earn", 2, "厨余垃圾分类正确 +2"), ("strike", 0, "分类错误（记一次） 0"),
        ("adjust", 5, "社区调整：活动奖励 +5")]
    assert home["points_balance"] == 7
