"""Builders for the rota tests: stewards, shifts and assignments made directly as rows.

Each builder flushes; the caller commits. Shanghai is the zone unless a test says otherwise.
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

SH = ZoneInfo("Asia/Shanghai")


def steward(session: Session, community: Area, account: Account | None = None, *,
            status: str = "approved", name: str | None = None) -> Steward:
    """A steward of `community` (a new account unless given); approved ones get the role."""
    account = account or builders.account(session, username=name)
    row = Steward(community_id=community.id, account_id=account.id, status=status)
    session.add(row)
    session.flush()
    if status == "approved":
        auth_services.add_grant(session, account=account, role="steward", area=community)
    return row


def shift(session: Session, station: Station, starts_at: datetime, *,
          minutes: int = 120, needed: int = 1, status: str = "open") -> Shift:
    """A shift at `station` from `starts_at` (aware) for `minutes`."""
    row = Shift(community_id=station.community_id, station_id=station.id,
                local_date=starts_at.astimezone(SH).date(), starts_at=starts_at,
                ends_at=starts_at + timedelta(minutes=minutes), needed=needed, status=status)
    session.add(row)
    session.flush()
    return row


def assignment(session: Session, shift_row: Shift, steward_row: Steward, *,
               status: str = "signed_up", checked_in_at: datetime | None = None,
               checked_out_at: datetime | None = None) -> ShiftAssignment:
    """A steward on a shift, optionally checked in and out."""
    row = ShiftAssignment(shift_id=shift_row.id, steward_id=steward_row.id, status=status,
                          checked_in_at=checked_in_at, checked_out_at=checked_out_at)
    session.add(row)
    session.flush()
    return row


def english(client: FlaskClient) -> None:
    """Switch the client's interface language to English."""
    client.post("/lang", data={"lang": "en", "next": "/"})
