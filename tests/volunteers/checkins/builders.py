"""Test data for the check-in tests: stewards, shifts and assignments made straight from the
models (so these tests do not wait for the stewards and rotas services), and a "post":
community A's station with a chief, one approved steward and one shift.

Times: the shift runs 18:00–20:00 Shanghai time on Tuesday 2026-03-10 (10:00–12:00 UTC).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from community.areas.models import Area
from community.auth.models import Account
from community.stations.models import Station
from community.volunteers.checkins import codes
from community.volunteers.models import Shift, ShiftAssignment, Steward
from tests import builders

SECRET = "test-only-secret-key-not-used-anywhere-else"  # conftest's SECRET_KEY
KEY = codes.derive_key(SECRET)
SHANGHAI = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)  # 18:00 in Shanghai
END = START + timedelta(hours=2)


def steward(session: Session, account: Account, community: Area,
            status: str = "approved") -> Steward:
    """A steward row for `account` in `community` (approved by default)."""
    row = Steward(community_id=community.id, account_id=account.id, status=status)
    session.add(row)
    session.flush()
    return row


def shift(session: Session, station: Station, starts_at: datetime = START,
          ends_at: datetime = END, *, needed: int = 1, status: str = "open") -> Shift:
    """A shift of `station` (local date from Shanghai time)."""
    row = Shift(community_id=station.community_id, station_id=station.id,
                local_date=starts_at.astimezone(SHANGHAI).date(), starts_at=starts_at,
                ends_at=ends_at, needed=needed, status=status)
    session.add(row)
    session.flush()
    return row


def assign(session: Session, on: Shift, who: Steward, **values) -> ShiftAssignment:
    """A steward signed up on a shift (extra column values allowed)."""
    row = ShiftAssignment(shift_id=on.id, steward_id=who.id, **values)
    session.add(row)
    session.flush()
    return row


def code_text(station: Station, at: datetime) -> str:
    """The QR text station `station` shows at `at`."""
    return codes.current(KEY, station.id, at).text  # type: ignore[arg-type]


def digits(station: Station, at: datetime) -> str:
    """The 8 digits station `station` shows at `at`, as typed."""
    return codes.format_digits(codes.current(KEY, station.id, at).digits)  # type: ignore


@dataclass
class Post:
    """Community A's station (chief: `chief`), a steward on its 18:00 shift, and ids."""

    world: builders.World
    station: Station
    other_station: Station
    chief: Account
    steward_account: Account
    steward: Steward
    shift: Shift
    assignment: ShiftAssignment

    @property
    def day(self) -> date:
        """The shift's local date."""
        return self.shift.local_date


def post(session: Session, world: builders.World) -> Post:
    """Build the standard post and commit it."""
    chief = builders.account(session, "station_chief", world.a, username="chiefa")
    st = builders.station(session, world.a, "玉龙一号亭")
    st.chief_id = chief.id
    other = builders.station(session, world.a, "玉龙二号亭")
    session.flush()
    who = steward(session, world.steward_a, world.a)
    on = shift(session, st)
    a = assign(session, on, who)
    session.commit()
    return Post(world, st, other, chief, world.steward_a, who, on, a)


def assignment(session: Session, assignment_id: int) -> ShiftAssignment:
    """A fresh copy of an assignment (ends the read transaction)."""
    row = session.exec(select(ShiftAssignment).where(ShiftAssignment.id == assignment_id)
                       .execution_options(populate_existing=True)).one()
    session.commit()
    return row


def assignments(session: Session) -> list[tuple]:
    """Every assignment's full row, for "nothing changed" checks (ends the transaction)."""
    table = ShiftAssignment.__table__
    rows = [tuple(r) for r in session.execute(select(table).order_by(table.c.id)).all()]
    session.commit()
    return rows
