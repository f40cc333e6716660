"""The demo's rewards: a catalog per community and redemptions in every state, made through
the services so ledgers, balances and stock agree (tests/test_demo.py checks idempotency)."""
from __future__ import annotations

from collections import Counter

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlmodel import Session

from community import demo
from community.db import open_session
from community.demo import rewards as demo_rewards
from community.demo.context import DEMO_PASSWORD
from community.points import services
from community.points.models import LedgerEntry, Redemption, RewardItem

DAYS = 2  # few drops: most demo residents need the community bonus, which is tested too
# Rolled back like most tests (tests/conftest.py): the build's commits release savepoints on
# the test's connection instead of reaching the disk, and nothing is left to empty after it
# (PostgreSQL: 29 s committed, 12 s rolled back).


def test_demo_catalog_and_redemptions_keep_the_ledgers_exact(app: Flask, session: Session,
                                                              client: FlaskClient) -> None:
    with app.app_context(), open_session(app) as demo_session:  # as `flask demo` runs it
        demo.build(demo_session, seed=7, echo=lambda _line: None, days=DAYS)
    items = list(session.execute(select(RewardItem)).scalars())
    per_community = Counter(i.community_id for i in items)
    assert len(per_community) == 8
    assert set(per_community.values()) == {4}
    names = {i.name for i in items}
    assert {"鸡蛋（10个）", "洗衣皂（2块）", "垃圾袋（1卷）", "物业费抵用券（50元）"} == names
    voucher = {i.cost for i in items if i.name.startswith("物业费")}
    assert len(voucher) == 1
    assert min(voucher) > max(
        i.cost for i in items if not i.name.startswith("物业费"))
    # Pictures drawn at build time (no download, no binary in the repository), and the
    # voucher's "每户每季度限兑一张" is a real limit.
    assert all(i.picture and i.picture.endswith(".png") for i in items)
    assert {(i.household_limit, i.limit_period) for i in items
            if i.name.startswith("物业费")} == {(1, "quarter")}
    reds = list(session.execute(select(Redemption)).scalars())
    by_community = Counter((r.community_id, r.status) for r in reds)
    for community_id in per_community:
        assert {s: by_community[(community_id, s)] for s in
                ("reserved", "handed_over", "cancelled")} == {
            "reserved": 1, "handed_over": 1, "cancelled": 1}
    # Stock left = the catalog's stock minus what is reserved or handed over.
    initial = {name: stock for name, _text, _cost, stock in demo_rewards.REWARD_CATALOG}
    taken = Counter(r.reward_id for r in reds if r.status != "cancelled")
    assert all(i.stock == initial[i.name] - taken[i.id] for i in items)
    # Charged once, refunded once for the cancelled ones, and no drift anywhere.
    kinds = Counter(session.execute(select(LedgerEntry.kind).where(
        LedgerEntry.kind.in_(("redeem", "refund")))).scalars())
    assert kinds == {"redeem": len(reds), "refund": len(reds) // 3}
    bonuses = session.execute(select(LedgerEntry.amount).where(
        LedgerEntry.kind == "adjust", LedgerEntry.reason == demo_rewards.REWARD_BONUS_REASON)).all()
    assert bonuses
    assert all(amount > 0 for (amount,) in bonuses)
    assert services.verify(session) == []
    session.rollback()
    # A demo resident sees the catalog and their reserved reward.
    resp = client.post("/login", data={"login": "13900010001", "password": DEMO_PASSWORD})
    assert resp.status_code == 302
    page = client.get("/me/rewards").get_data(as_text=True)
    assert "鸡蛋（10个）" in page
    assert "1 件待领取" in page
    picture = page.split('class="rw-picture" src="')[1].split('"')[0]
    shown = client.get(picture)
    assert shown.status_code == 200
    assert shown.mimetype == "image/png"
    assert "每户每季度限兑 1 次" in page
    page = client.get("/me/rewards/redemptions").get_data(as_text=True)
    assert page.count('data-testid="redemption-row"') == 2
