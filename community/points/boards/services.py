"""Honour-board use cases: a household's members hide it from the boards or show it again.

Only the household's own flag changes; the boards (`boards.queries`) read it when they rank.
"""
from __future__ import annotations

from sqlmodel import Session

from community import clock
from community.areas.models import Area
from community.audit import services as audit
from community.errors import NotFound
from community.households import services as households_services
from community.households.models import Household
from community.points.boards.schemas import OptOutIn


def _my_household(session: Session, account_id: int, household_id: int) -> Household:
    """One of the account's approved households; NotFound for any other id."""
    hh = households_services.member_household(session, account_id, household_id)
    if hh is None:
        raise NotFound()
    return hh


def set_honour_opt_out(session: Session, *, account_id: int, data: OptOutIn,
                       ip: str | None = None) -> Household:
    """A member hides their household from the honour boards (or shows it again).

    Only an approved member of the household may; any other household is NotFound. Setting
    the value it already has changes nothing (a double submit is harmless).
    """
    hide = data.hide
    hh = _my_household(session, account_id, data.household_id)
    if hh.honour_opt_out == hide:
        return hh
    hh.honour_opt_out = hide
    hh.updated_at = clock.now()
    session.add(hh)
    session.flush()
    area = session.get(Area, hh.community_id)
    audit.record(session, actor_id=account_id, action="household.honour_opt_out", area=area,
                 target_type="household", target_id=hh.id, ip=ip, hide=hide)
    return hh
