"""Builders for the steward and notification tests: stewards, shifts and assignments.

Rows are made directly (not through the services) so each test states exactly the data it
needs; every builder flushes, the caller commits.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask.testing import FlaskClient
from sqlmodel import Session

from community.areas.models import Area
from community.auth import services as auth_services
from community.auth.models import Account
from community.stations.models import Station
from community.volunteers.models import Shift, ShiftAssignment, Steward
from tests import builders


def steward(session: Session, community: Area, account: Account | None = None, *,
            status: str = "approved", phone: str | None = None,
            availability: list | None = None) -> Steward:
    """A steward of `community` (a new account unless given); approved ones get the role."""
    account = account or builders.account(session, phone=phone)
    row = Steward(community_id=community.id, account_id=account.id, status=status,
                  availability=availability or [])
    session.add(row)
    session.flush()
    if status == "approved":
        auth_services.add_grant(session, account=account, role="steward", area=community)
    return row


def shift(session: Session, station: Station, starts_at: datetime, *, hours: int = 2,
          status: str = "open", needed: int = 1) -> Shift:
    """A shift at `station` starting at `starts_at` (aware) for `hours` hours."""
    row = Shift(community_id=station.community_id, station_id=station.id,
                local_date=starts_at.astimezone(ZoneInfo("Asia/Shanghai")).date(),
                starts_at=starts_at, ends_at=starts_at + timedelta(hours=hours),
                needed=needed, status=status)
    session.add(row)
    session.flush()
    return row


def assignment(session: Session, shift_row: Shift, steward_row: Steward, *,
               status: str = "signed_up") -> ShiftAssignment:
    """A steward on a shift."""
    row = ShiftAssignment(shift_id=shift_row.id, steward_id=steward_row.id, status=status)
    session.add(row)
    session.flush()
    return row


def fresh(session: Session) -> None:
    """End the test session's read transaction and forget loaded rows, to see the app's writes."""
    session.commit()
    session.expire_all()


def english(client: FlaskClient, next_url: str = "/") -> None:
    """Switch the client's interface language to English."""
    client.post("/lang", data={"lang": "en", "next": next_url})
