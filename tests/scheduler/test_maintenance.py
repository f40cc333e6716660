"""The clean-up job's two parts on both backends: revoked device tokens are forgotten after
30 days, redemption request ids after 7; younger ones are kept; running twice changes
nothing more."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Flask
from sqlmodel import Session

from community.auth import services as auth_services
from community.points import jobs as points_jobs
from community.points import services as points_services
from community.points.models import Redemption
from community.points.rewards import services as rewards
from community.points.rewards.schemas import RedeemIn, RewardIn
from community.points.schemas import AdjustIn
from community.stations import jobs as stations_jobs
from community.stations import services as stations_services
from community.stations.models import Device
from community.stations.schemas import DeviceIn
from tests import builders
from tests.residents.helpers import link

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 20, 4, 0, tzinfo=SH)


def test_revoked_device_tokens_are_forgotten_after_30_days(session: Session,
                                                           world: builders.World) -> None:
    manager = auth_services.load_actor(session, world.manager_a.id)
    old, _t1 = stations_services.issue_device(session, actor=manager, community_id=world.a.id,
                                              data=DeviceIn.parse(name="厨余秤 1"))
    recent, _t2 = stations_services.issue_device(session, actor=manager,
                                                 community_id=world.a.id,
                                                 data=DeviceIn.parse(name="厨余秤 2"))
    live, _t3 = stations_services.issue_device(session, actor=manager, community_id=world.a.id,
                                               data=DeviceIn.parse(name="厨余秤 3"))
    old.revoked_at = NOW - timedelta(days=31)
    recent.revoked_at = NOW - timedelta(days=29)
    session.commit()
    hashes = {d.id: d.token_hash for d in (old, recent, live)}
    assert stations_jobs.forget_revoked_device_tokens(session, now=NOW) == {"devices": 1}
    session.commit()
    assert stations_jobs.forget_revoked_device_tokens(session, now=NOW) == {"devices": 0}
    session.commit()
    after = {d.id: session.get(Device, d.id, populate_existing=True).token_hash
             for d in (old, recent, live)}
    assert after[old.id] == f"forgotten:{old.id}"
    assert after[recent.id] == hashes[recent.id]
    assert after[live.id] == hashes[live.id]


def test_redemption_request_ids_are_forgotten_after_a_week(app: Flask, session: Session,
                                                          world: builders.World) -> None:
    hh = world.households_a[0]
    link(session, world.resident_a.id, builders.active_card(session, hh))
    manager = auth_services.load_actor(session, world.manager_a.id)
    resident = auth_services.load_actor(session, world.resident_a.id)
    with app.test_request_context():
        points_services.adjust(session, actor=manager, household_id=hh.id,
                               data=AdjustIn.parse(amount=50, reason="开户"),
                               now=NOW - timedelta(days=10))
        item = rewards.save_item(session, actor=manager, community_id=world.a.id,
                                 data=RewardIn.parse(name="垃圾袋", cost=5, stock=10),
                                 now=NOW - timedelta(days=10))
        old = rewards.redeem_reward(session, actor=resident, now=NOW - timedelta(days=8),
                                    data=RedeemIn.parse(household_id=hh.id, reward_id=item.id,
                                                        client_id="tap-old"))
        new = rewards.redeem_reward(session, actor=resident, now=NOW - timedelta(days=6),
                                    data=RedeemIn.parse(household_id=hh.id, reward_id=item.id,
                                                        client_id="tap-new"))
    session.commit()
    assert points_jobs.forget_request_ids(session, now=NOW) == {"request_ids": 1}
    session.commit()
    assert points_jobs.forget_request_ids(session, now=NOW) == {"request_ids": 0}
    session.commit()
    assert session.get(Redemption, old.id, populate_existing=True).client_id is None
    assert session.get(Redemption, new.id, populate_existing=True).client_id == "tap-new"
