"""Stations (投放点), their weekly windows and date exceptions, devices, drops and regrades.

`drop` is the hot, huge table (billions of rows a year): narrow columns, a unique
client id for idempotent uploads, and `local_date` stored so day buckets never need
SQL date() on UTC.
"""
from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Time,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from community import clock
from community.stations.schemas import Category, Quality, Source, StationStatus
from community.types import UTCDateTime

# The codes as plain strings, in the enums' (canonical) order.
CATEGORIES: tuple[str, ...] = tuple(c.value for c in Category)
QUALITIES: tuple[str, ...] = tuple(q.value for q in Quality)
SOURCES: tuple[str, ...] = tuple(s.value for s in Source)
STATION_STATUSES: tuple[str, ...] = tuple(s.value for s in StationStatus)
# SQLite only autoincrements INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit identity.
BigId = BigInteger().with_variant(Integer, "sqlite")


class Station(SQLModel, table=True):
    """A drop station (投放点/投放亭) of one community."""

    __tablename__ = "station"
    __table_args__ = (
        UniqueConstraint("community_id", "name", name="uq_station_name"),
        CheckConstraint("grace_minutes >= 0 AND grace_minutes <= 120", name="ck_station_grace"),
        CheckConstraint("status IN ('open', 'suspended')", name="ck_station_status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="area.id", index=True)
    name: str = Field(sa_column=Column(String(80), nullable=False))
    location: str = Field(default="", sa_column=Column(String(200), nullable=False, default=""))
    latitude: float | None = None
    longitude: float | None = None
    # Comma-separated category codes of the bins at this station.
    categories: str = Field(default=",".join(CATEGORIES),
                            sa_column=Column(String(64), nullable=False))
    chief_id: int | None = Field(default=None, foreign_key="account.id")
    status: str = Field(default="open", sa_column=Column(String(10), nullable=False))
    grace_minutes: int = Field(default=10)
    created_at: datetime = Field(
        default_factory=clock.now, sa_column=Column(UTCDateTime(), nullable=False)
    )

    def category_list(self) -> list[str]:
        """The accepted categories as a list, in the canonical order."""
        accepted = set(self.categories.split(","))
        return [c for c in CATEGORIES if c in accepted]


class StationWindow(SQLModel, table=True):
    """One weekly time range (weekday 0 = Monday); an end not after the start runs past midnight."""

    __tablename__ = "station_window"
    __table_args__ = (CheckConstraint("weekday >= 0 AND weekday <= 6", name="ck_window_weekday"),)

    id: int | None = Field(default=None, primary_key=True)
    station_id: int = Field(sa_column=Column(Integer, ForeignKey("station.id", ondelete="CASCADE"),
                                             nullable=False, index=True))
    weekday: int
    start_time: time = Field(sa_column=Column(Time, nullable=False))
    end_time: time = Field(sa_column=Column(Time, nullable=False))


class StationException(SQLModel, table=True):
    """A date with special hours; a row without times closes the station that day."""

    __tablename__ = "station_exception"
    __table_args__ = (Index("ix_station_exception_station_day", "station_id", "day"),)

    id: int | None = Field(default=None, primary_key=True)
    station_id: int = Field(sa_column=Column(Integer, ForeignKey("station.id", ondelete="CASCADE"),
                                             nullable=False))
    day: date = Field(sa_column=Column(Date, nullable=False))
    start_time: time | None = Field(default=None, sa_column=Column(Time))
    end_time: time | None = Field(default=None, sa_column=Column(Time))
    note: str = Field(default="", sa_column=Column(String(100), nullable=False, default=""))


class Device(SQLModel, table=True):
    """A kiosk, smart bin or scale that posts drops with a bearer token (stored hashed)."""

    __tablename__ = "device"

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="area.id", index=True)
    station_id: int | None = Field(default=None, foreign_key="station.id")
    name: str = Field(sa_column=Column(String(80), nullable=False))
    token_hash: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    created_by: int | None = Field(default=None, foreign_key="account.id")
    created_at: datetime = Field(
        default_factory=clock.now, sa_column=Column(UTCDateTime(), nullable=False)
    )
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    last_seen_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class Drop(SQLModel, table=True):
    """One household (or an anonymous tally) putting one category into a station's bin."""

    __tablename__ = "drop_record"  # "drop" is an SQL keyword
    __table_args__ = (
        Index("ix_drop_record_community_day", "community_id", "local_date"),
        Index("ix_drop_record_station_happened", "station_id", "happened_at"),
        Index("ix_drop_record_household_happened", "household_id", "happened_at"),
        CheckConstraint("weight_kg IS NULL OR (weight_kg > 0 AND weight_kg <= 50)",
                        name="ck_drop_weight"),
        CheckConstraint("quality IN ('correct', 'incorrect', 'ungraded')", name="ck_drop_quality"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True,
                                                          autoincrement=True))
    # Made by the client; a retried or re-synced upload carries the same id and is stored once.
    client_id: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    station_id: int = Field(foreign_key="station.id")
    community_id: int = Field(foreign_key="area.id")
    category: str = Field(sa_column=Column(String(12), nullable=False))
    quality: str = Field(sa_column=Column(String(10), nullable=False))
    source: str = Field(sa_column=Column(String(8), nullable=False))
    household_id: int | None = Field(default=None, foreign_key="household.id")
    card_id: int | None = Field(default=None, foreign_key="card.id")
    recorded_by: int | None = Field(default=None, foreign_key="account.id")
    device_id: int | None = Field(default=None, foreign_key="device.id")
    happened_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    received_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    local_date: date = Field(sa_column=Column(Date, nullable=False))
    in_window: bool = Field(sa_column=Column(Boolean, nullable=False))
    weight_kg: Decimal | None = Field(default=None, sa_column=Column(Numeric(6, 3)))
    note: str | None = Field(default=None, sa_column=Column(String(200)))
    photo: str | None = Field(default=None, sa_column=Column(String(200)))


class DropRegrade(SQLModel, table=True):
    """History of a drop's quality: who changed it, when, from what to what, and why."""

    __tablename__ = "drop_regrade"

    id: int | None = Field(default=None, primary_key=True)
    drop_id: int = Field(
        sa_column=Column(BigId, ForeignKey("drop_record.id"), nullable=False, index=True)
    )
    from_quality: str = Field(sa_column=Column(String(10), nullable=False))
    to_quality: str = Field(sa_column=Column(String(10), nullable=False))
    actor_id: int | None = Field(default=None, foreign_key="account.id")
    at: datetime = Field(
        default_factory=clock.now, sa_column=Column(UTCDateTime(), nullable=False)
    )
    reason: str = Field(default="", sa_column=Column(String(200), nullable=False, default=""))
