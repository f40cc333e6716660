"""Good news reaches the household's members: a streak bonus (once per day, even when a
later recomputation moves it), a reward ready for pickup and a reward handed over."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Flask
from flask_babel import force_locale
from sqlmodel import Session, select

from community.auth import services as auth_services
from community.inbox import texts
from community.inbox.models import Notification
from community.points import services
from community.points.rewards import services as rewards
from community.points.rewards.schemas import CancelIn, RedeemIn, RewardIn
from community.points.rules import DropFacts
from community.points.schemas import AdjustIn
from tests import builders
from tests.residents.helpers import link

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 21, 10, 0, tzinfo=SH)
START = date(2026, 11, 1)


def _facts(hh: int, drop_id: int, day: date) -> DropFacts:
    return DropFacts(drop_id, hh, "kitchen", "correct", True, day,
                     datetime(day.year, day.month, day.day, 7, tzinfo=SH))


def _told(session: Session, account_id: int) -> list[tuple[str, dict]]:
    session.expire_all()
    rows = session.exec(select(Notification).where(Notification.account_id == account_id)
                        .order_by(Notification.id)).all()
    session.commit()
    return [(n.kind, n.params) for n in rows]


def test_streak_bonus_reward_ready_and_handed_over(app: Flask, session: Session,
                                                   world: builders.World) -> None:
    hh = world.households_a[0]
    link(session, world.resident_a.id, builders.active_card(session, hh))
    # Seven correct days in a row complete a streak block (the default rules: +5).
    builders.award(session, [_facts(hh.id, 1000 + n, START + timedelta(days=n))
                                       for n in range(7)], community_id=world.a.id, now=NOW)
    session.commit()
    bonuses = [p for k, p in _told(session, world.resident_a.id) if k == "streak_bonus"]
    assert bonuses == [{"days": "7", "points": 5}]
    assert _told(session, world.resident_b.id) == []  # not a member

    manager = auth_services.load_actor(session, world.manager_a.id)
    with app.test_request_context():
        services.adjust(session, actor=manager, household_id=hh.id,
                        data=AdjustIn.parse(amount=50, reason="opening balance"), now=NOW)
        eggs = rewards.save_item(session, actor=manager, community_id=world.a.id, now=NOW,
                                 data=RewardIn.parse(name="鸡蛋 10个", cost=20, stock=2))
        red = rewards.redeem_reward(
            session, actor=auth_services.load_actor(session, world.resident_a.id), now=NOW,
            data=RedeemIn.parse(household_id=hh.id, reward_id=eggs.id))
        rewards.hand_over(session, actor=auth_services.load_actor(session, world.steward_a.id),
                          code=red.pickup_code, now=NOW)
    session.commit()
    told = _told(session, world.resident_a.id)
    assert [k for k, _p in told] == ["streak_bonus", "reward_ready", "reward_handed_over"]
    assert told[1][1] == {"item": "鸡蛋 10个", "code": red.pickup_code}
    assert services.verify(session) == []


def test_a_ready_message_of_a_cancelled_redemption_says_it_was_cancelled(
        app: Flask, client, session: Session, world: builders.World) -> None:
    hh = world.households_a[0]
    link(session, world.resident_a.id, builders.active_card(session, hh))
    manager = auth_services.load_actor(session, world.manager_a.id)
    with app.test_request_context():
        services.adjust(session, actor=manager, household_id=hh.id,
                        data=AdjustIn.parse(amount=50, reason="opening balance"), now=NOW)
        eggs = rewards.save_item(session, actor=manager, community_id=world.a.id, now=NOW,
                                 data=RewardIn.parse(name="鸡蛋 10个", cost=20, stock=2))
        resident = auth_services.load_actor(session, world.resident_a.id)
        kept, cancelled = (rewards.redeem_reward(
            session, actor=resident, now=NOW,
            data=RedeemIn.parse(household_id=hh.id, reward_id=eggs.id)) for _ in range(2))
        rewards.cancel_redemption(session, actor=manager, redemption_id=cancelled.id, now=NOW,
                                  data=CancelIn.parse(reason="缺货"))
    session.commit()
    builders.login(client, world.resident_a)
    page = client.get("/me/inbox").get_data(as_text=True)
    # The code grouped as the redemption page, the steward's desk and the QR page show it
    # ("ABCDE-FGHJK"), never the bare ten characters (QA: the inbox said 7ZG2G7WU5C).
    grouped = f"{kept.pickup_code[:5]}-{kept.pickup_code[5:]}"
    assert grouped in page
    assert kept.pickup_code not in page
    assert cancelled.pickup_code not in page  # no pickup code of a cancelled redemption
    assert cancelled.pickup_code[:5] not in page
    # The text message (inbox.jobs.send_sms words it the same way, in English too).
    ready = session.exec(select(Notification).where(
        Notification.account_id == world.resident_a.id, Notification.kind == "reward_ready",
        Notification.link == f"/me/rewards/redemptions/{kept.id}")).one()
    session.commit()
    with app.test_request_context(), force_locale("en"):
        text = texts.render(ready.kind, ready.params, texts.resolve(session, [ready])[ready.id])
    assert text == (f"Your reward 鸡蛋 10个 is ready for pickup. Show the pickup code "
                    f"{grouped} at the station.")
    assert "兑换已取消" in page
