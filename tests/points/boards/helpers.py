"""Shared data of the honour-board tests: a fixed November, households and what they earn."""
from __future__ import annotations

import itertools
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from community.areas.models import Area
from community.households.models import Household, HouseholdMember
from community.points import services
from community.points.boards.queries import Month
from community.points.rules import DropFacts
from tests import builders

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 20, 10, 0, tzinfo=SH)
NOV, OCT = Month(2026, 11), Month(2026, 10)
regrade_ids = itertools.count(1)  # the regrades' ids: a source only needs them unique


def station(session: Session, community: Area):
    """The community's station for these tests (built on first use)."""
    from community.stations.models import Station

    found = session.exec(select(Station).where(Station.community_id == community.id)).first()
    return found or builders.station(session, community)


def earn(session: Session, hh: Household, day: date, *categories: str,
         now: datetime = NOW) -> list[int]:
    """Store one correct in-window drop per category for `hh` at 08:00 on `day` (Shanghai,
    a minute apart) and score them at `now`, as a scan does: a drop's own earn lands on
    its row. Returns the drop ids."""
    community = session.get(Area, hh.community_id)
    assert community is not None
    st = station(session, community)
    at = datetime.combine(day, time(8, 0), SH)
    drops = [builders.drop(session, st, hh, happened_at=at + timedelta(minutes=i), category=c,
                           quality="correct") for i, c in enumerate(categories)]
    facts = [DropFacts(d.id, hh.id, c, "correct", True, day)
             for d, c in zip(drops, categories, strict=True)]
    services.award_for_drops(session, facts, community_id=hh.community_id, now=now)
    session.commit()
    return [f.drop_id for f in facts]


def household(session: Session, community: Area, building: str, room: str, *,
              status: str = "active", opt_out: bool = False) -> Household:
    """A household of `community` in unit 1 of `building` (no card), committed."""
    hh = builders.household(session, community, building=building, unit="1", room=room,
                            with_card=False)
    hh.status, hh.honour_opt_out = status, opt_out
    session.add(hh)
    session.commit()
    return hh


def member(session: Session, hh: Household, account_id: int, status: str = "approved") -> None:
    """Link an account to a household (approved unless told), committed."""
    session.add(HouseholdMember(community_id=hh.community_id, household_id=hh.id,
                                account_id=account_id, status=status))
    session.commit()
