"""The dirty-day marks: one row per (community, local day) with why it became dirty."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import PrimaryKeyConstraint
from sqlmodel import Field, SQLModel

from community import clock
from community.types import UTCDateTime


class DirtyDay(SQLModel, table=True):
    """A community's local day whose rollups are stale; the counts say what changed.

    `drops`: drops stored for the day; `regrades`: their quality changed; `households`:
    a household moved in or out (or changed size) that day; `presence`: a steward checked
    in or out; `schedule`: a station's schedule, grace or opening changed from that day;
    `collections`: a collector's pickup of that day arrived after the day was over (its kg
    and contamination feed the month's figures, community/collection).
    """

    __tablename__ = "dirty_day"
    __table_args__ = (PrimaryKeyConstraint("community_id", "local_date"),)

    community_id: int = Field(foreign_key="area.id")
    local_date: date
    marked_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime())
    drops: int = 0
    regrades: int = 0
    households: int = 0
    presence: int = 0
    schedule: int = 0
    collections: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
