"""Shared data of the honour-board tests: a fixed November, households and what they earn."""
from __future__ import annotations

import itertools
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session

from community.areas.models import Area
from community.households.models import Household, HouseholdMember
from community.points import services
from community.points.boards.queries import Month
from community.points.rules import DropFacts
from tests import builders

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 20, 10, 0, tzinfo=SH)
NOV, OCT = Month(2026, 11), Month(2026, 10)
drop_ids = itertools.count(1)  # fake drop ids: the ledger only needs them unique


def earn(session: Session, hh: Household, day: date, *categories: str) -> list[int]:
    """Score one correct in-window drop per category for `hh` on `day` (fake drop ids)."""
    facts = [DropFacts(next(drop_ids), hh.id, c, "correct", True, day) for c in categories]
    services.award_for_drops(session, facts, community_id=hh.community_id, now=NOW)
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
