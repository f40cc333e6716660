"""Drops and regrades of past days mark those days dirty; today's mark nothing."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlmodel import Session

from community import clock
from community.auth import services as auth_services
from community.dirty.models import DirtyDay
from community.stations import services
from community.stations.models import Drop
from community.stations.schemas import DropIn, RegradeIn
from tests import builders

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 21, 10, 0, tzinfo=SH)


def _item(station_id: int, card: str, n: int, happened_at: datetime) -> DropIn:
    return DropIn.model_validate({"client_id": f"late-{n:06d}", "station_id": station_id,
                                  "category": "kitchen", "quality": "correct",
                                  "happened_at": happened_at, "card": card}, strict=False)


def _marks(session: Session) -> dict:
    return {(m.community_id, m.local_date): (m.drops, m.regrades)
            for m in session.execute(select(DirtyDay)).scalars()}


def test_late_drops_and_regrades_mark_their_days(session: Session,
                                                 world: builders.World) -> None:
    st = builders.station(session, world.a)
    card = builders.active_card(session, world.households_a[0])
    steward = builders.recorder(session, world.a)
    manager = auth_services.load_actor(session, world.manager_a.id)
    session.commit()
    today_8 = NOW.replace(hour=8)
    ten_days_ago = today_8 - timedelta(days=10)
    services.record_drops(session, actor=steward, now=NOW, items=[
        _item(st.id, card.token, 1, today_8),
        _item(st.id, card.token, 2, ten_days_ago),
        _item(st.id, card.token, 3, ten_days_ago + timedelta(minutes=30)),
        _item(st.id, card.token, 4, today_8 - timedelta(days=1))])
    day = ten_days_ago.date()
    yesterday = NOW.date() - timedelta(days=1)
    assert _marks(session) == {(world.a.id, day): (2, 0), (world.a.id, yesterday): (1, 0)}
    # A replay stores nothing and marks nothing more.
    services.record_drops(session, actor=steward, now=NOW,
                          items=[_item(st.id, card.token, 2, ten_days_ago)])
    assert _marks(session)[(world.a.id, day)] == (2, 0)
    old = next(d for d in _drops(session) if d.happened_at == ten_days_ago)
    with clock.freeze(NOW):
        services.regrade_drop(session, actor=manager, drop_id=old.id,
                              data=RegradeIn.parse(quality="incorrect",
                                                   reason_code=builders.MISDROP,
                                                   reason="混入塑料袋"))
        services.regrade_drop(session, actor=manager,
                              drop_id=next(d for d in _drops(session)
                                           if d.happened_at == today_8).id,
                              data=RegradeIn.parse(quality="incorrect",
                                                   reason_code=builders.MISDROP,
                                                   reason="混入塑料袋"))
    assert _marks(session)[(world.a.id, day)] == (2, 1)
    assert (world.a.id, NOW.date()) not in _marks(session)


def _drops(session: Session) -> list[Drop]:
    return list(session.execute(select(Drop)).scalars())
