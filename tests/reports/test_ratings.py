"""The rating policy may hold a threshold on the reports' 按期处置率: off by default (ratings
store no such metric and nothing changes), on in a new policy version the city publishes
(the rating stores the month's rate and its check, and a late report fails it)."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from community import clock
from community.auth import services as auth_services
from community.ratings import services as ratings_services
from community.ratings.models import Rating
from community.ratings.policy import DEFAULT_POLICY
from community.ratings.schemas import PolicyVersionIn
from community.reports.models import Report
from tests import builders

SH = ZoneInfo("Asia/Shanghai")
NOV = date(2026, 11, 1)
NOW = datetime(2026, 12, 2, 10, 0, tzinfo=SH)


def _report(session: Session, world: builders.World, st, day: int, late: bool) -> None:
    made = datetime(2026, 11, day, 8, 0, tzinfo=SH)
    due = made + timedelta(hours=4)
    session.add(Report(community_id=world.a.id, station_id=st.id, kind="overflow",
                       reporter_id=world.resident_a.id, status="confirmed", level="community",
                       route_area_id=world.a.id, hours=4, created_at=made, due_at=due,
                       level_due_at=due, handled_at=due + timedelta(seconds=1 if late else -1),
                       handled_by=world.manager_a.id))
    session.flush()


def _rating(session: Session, world: builders.World) -> Rating:
    return session.execute(select(Rating).where(col(Rating.community_id) == world.a.id,
                                                col(Rating.month) == NOV)).scalar_one()


def test_off_by_default_and_on_in_a_new_policy_version(session: Session,
                                                       world: builders.World) -> None:
    st = builders.station(session, world.a)
    for day, late in ((3, False), (10, False), (17, False), (24, True)):
        _report(session, world, st, day, late)
    ratings_services.rate_month(session, month=NOV, now=NOW, community_ids=[world.a.id])
    rating = _rating(session, world)
    assert "on_time_rate" not in rating.metrics
    assert all(c["metric"] != "on_time_rate" for c in rating.checks)

    params = DEFAULT_POLICY.to_params()
    params["compliant"].append({"metric": "on_time_rate", "op": ">=", "value": 0.99})
    with clock.freeze(datetime(2026, 11, 5, 9, 0, tzinfo=SH)):
        ratings_services.publish_policy(
            session, actor=auth_services.load_actor(session, world.city_admin.id),
            area_id=world.city.id, data=PolicyVersionIn.parse(params, effective_month=NOV))
    ratings_services.rate_month(session, month=NOV, now=NOW, community_ids=[world.a.id])
    session.expire_all()
    rating = _rating(session, world)
    assert rating.metrics["on_time_rate"] == 0.75
    (check,) = [c for c in rating.checks if c["metric"] == "on_time_rate"]
    assert (check["threshold"], check["value"], check["passed"]) == (0.99, 0.75, False)
    assert rating.level in ("insufficient", "not_compliant")
