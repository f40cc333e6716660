"""Builders for the hours tests: stewards and worked shifts made directly as rows.

The "checkin" helper's check-out and end-of-shift job leave an assignment with `minutes` and
hours_status "pending"; these builders write such rows directly. Each builder flushes; the
caller commits. Shifts are in Shanghai time.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from community.areas.models import Area
from community.auth import services as auth_services
from community.auth.models import Account
from community.stations.models import Station
from community.volunteers.models import Shift, ShiftAssignment, Steward
from tests import builders

SH = ZoneInfo("Asia/Shanghai")


def steward(session: Session, community: Area, *, name: str | None = None,
            phone: str | None = None, status: str = "approved",
            account: Account | None = None) -> Steward:
    """A steward of `community` with a new account named `name` (approved ones get the role)."""
    if account is None:
        account = builders.account(session, phone=phone)
        if name:
            account.display_name = name
            session.add(account)
    row = Steward(community_id=community.id, account_id=account.id, status=status)
    session.add(row)
    session.flush()
    if status == "approved":
        auth_services.add_grant(session, account=account, role="steward", area=community)
    return row


def worked(session: Session, st: Station, stw: Steward, day: date, *, start: int = 7,
           length: int = 120, minutes: int | None = None, status: str = "done",
           hours_status: str | None = "pending") -> ShiftAssignment:
    """A shift at `st` on local `day` from `start` o'clock for `length` minutes, with `stw` on
    it: checked in and out (`minutes` served, default the whole shift) and hours pending.

    A second call for the same station and start reuses the shift (several stewards on it).
    """
    from sqlmodel import select

    starts = datetime.combine(day, time(start), tzinfo=SH)
    shift = session.exec(select(Shift).where(Shift.station_id == st.id,
                                             Shift.starts_at == starts)).first()
    if shift is None:
        shift = Shift(community_id=st.community_id, station_id=st.id, local_date=day,
                      starts_at=starts, ends_at=starts + timedelta(minutes=length), needed=2)
        session.add(shift)
        session.flush()
    served = length if minutes is None else minutes
    done = status == "done"
    row = ShiftAssignment(
        shift_id=shift.id, steward_id=stw.id, status=status,
        checked_in_at=starts if done else None,
        checked_out_at=starts + timedelta(minutes=served) if done else None,
        check_in_method="code" if done else None, check_out_method="code" if done else None,
        minutes=served if done else None, hours_status=hours_status if done else None)
    session.add(row)
    session.flush()
    return row
