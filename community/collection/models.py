"""Collection tables: a station's printed collection QR, its versioned pickup windows, and the
collections collectors record there (one row per visit, one line per category).

A collection carries a client-made id (unique per community) so a re-synced offline queue
stores it once, and its `local_date` (device time in the community's zone) so day buckets
never need SQL date() on UTC.
"""
from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal

from sqlalchemy import CheckConstraint, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from community import clock
from community.types import UTCDateTime


class StationTag(SQLModel, table=True):
    """The collection QR printed for a station (distinct from the rotating check-in code).

    The QR carries `token` (≥ 128 random bits); `code` is the short code printed under it
    (rules.new_tag_code: 8 characters, no look-alikes) for typing when the camera fails. The
    QR keeps the long token so stickers printed before the short code existed keep working;
    either one names the station. Reprinting replaces both, so a lost sticker stops working.
    """

    __tablename__ = "collection_station_tag"

    station_id: int = Field(foreign_key="station.id", primary_key=True, ondelete="CASCADE")
    token: str = Field(max_length=64, unique=True)
    code: str = Field(max_length=8, unique=True)  # made by rules.new_tag_code
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime())
    created_by: int | None = Field(default=None, foreign_key="account.id")


class PickupVersion(SQLModel, table=True):
    """A station's weekly pickup windows in force from a local date on (like drop schedules:
    the version in force on a day is the one with the latest `effective_from` not after it;
    two edits effective the same day replace that day's version)."""

    __tablename__ = "pickup_version"
    __table_args__ = (
        UniqueConstraint("station_id", "effective_from", name="uq_pickup_version_day"),
    )

    id: int | None = Field(default=None, primary_key=True)
    station_id: int = Field(foreign_key="station.id", ondelete="CASCADE")
    effective_from: date
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime())
    created_by: int | None = Field(default=None, foreign_key="account.id")


class PickupRange(SQLModel, table=True):
    """One weekly pickup window of a version (weekday 0 = Monday)."""

    __tablename__ = "pickup_range"
    __table_args__ = (CheckConstraint("weekday >= 0 AND weekday <= 6",
                                      name="ck_pickup_range_weekday"),)

    id: int | None = Field(default=None, primary_key=True)
    version_id: int = Field(foreign_key="pickup_version.id", ondelete="CASCADE", index=True)
    weekday: int
    start_time: time
    end_time: time


class Collection(SQLModel, table=True):
    """One pickup at a station by a collector: when, and whether it fell in a pickup window."""

    __tablename__ = "collection"
    __table_args__ = (
        UniqueConstraint("community_id", "client_id", name="uq_collection_client"),
        Index("ix_collection_community_day", "community_id", "local_date"),
        Index("ix_collection_station_day", "station_id", "local_date"),
    )

    id: int | None = Field(default=None, primary_key=True)
    client_id: str = Field(max_length=64)
    station_id: int = Field(foreign_key="station.id")
    community_id: int = Field(foreign_key="area.id")
    collector_id: int = Field(foreign_key="account.id", index=True)
    happened_at: datetime = Field(sa_type=UTCDateTime())
    received_at: datetime = Field(sa_type=UTCDateTime())
    local_date: date
    # Inside a pickup window of its day (None: the station had no pickup window that day).
    on_time: bool | None = None
    note: str = Field(default="", max_length=200)


class CollectionLine(SQLModel, table=True):
    """One category of a collection: bins taken, their weight, and how many were
    contaminated (混装/不纯), with the photo of the contamination."""

    __tablename__ = "collection_line"
    __table_args__ = (
        UniqueConstraint("collection_id", "category", name="uq_collection_line_category"),
        CheckConstraint("bins >= 1 AND bins <= 100", name="ck_collection_line_bins"),
        CheckConstraint("kg >= 0 AND kg <= 10000", name="ck_collection_line_kg"),
        CheckConstraint("contaminated_bins >= 0 AND contaminated_bins <= bins",
                        name="ck_collection_line_contaminated"),
        Index("ix_collection_line_community_day", "community_id", "local_date"),
    )

    id: int | None = Field(default=None, primary_key=True)
    collection_id: int = Field(foreign_key="collection.id", ondelete="CASCADE", index=True)
    # Copied from the collection so the day's figures group without a join.
    community_id: int = Field(foreign_key="area.id")
    station_id: int = Field(foreign_key="station.id")
    local_date: date
    category: str = Field(max_length=12)
    bins: int
    kg: Decimal = Field(max_digits=9, decimal_places=2)
    contaminated_bins: int = 0
    photo: str | None = Field(default=None, max_length=200)
