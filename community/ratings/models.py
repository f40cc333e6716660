"""Rollup tables (built per local day from the raw drops, idempotently), rating policies,
monthly ratings and monthly tonnage entries.

Dashboards read these tables, never a month of the raw `drop_record` table. A day's rollup
rows are replaced as a whole (delete + insert in one transaction), so re-running a day
changes nothing.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Index,
    PrimaryKeyConstraint,
    SmallInteger,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from community import clock
from community.types import UTCDateTime

LEVELS = ("insufficient", "not_compliant", "compliant", "star")
# A rating is provisional while drops of its month can still arrive or change, then final.
RATING_STATUSES = ("provisional", "final")


class StationDay(SQLModel, table=True):
    """One station's drops of one category on one local day."""

    __tablename__ = "rollup_station_day"
    __table_args__ = (
        PrimaryKeyConstraint("station_id", "local_date", "category"),
        Index("ix_rollup_station_day_community", "community_id", "local_date"),
    )

    station_id: int = Field(foreign_key="station.id")
    local_date: date
    category: str = Field(max_length=12)
    community_id: int = Field(foreign_key="area.id")
    drops: int = 0
    identified: int = 0        # with a household (scan, manual or device)
    tallies: int = 0           # anonymous
    graded: int = 0            # correct + incorrect
    correct: int = 0
    incorrect: int = 0
    out_of_window: int = 0
    weighed: int = 0           # drops with a weight
    kg: Decimal = Field(default=Decimal(0), max_digits=14, decimal_places=3)


class CoverageDay(SQLModel, table=True):
    """One station's scheduled windows (shifts) on one local day and how many were staffed."""

    __tablename__ = "rollup_coverage_day"
    __table_args__ = (
        PrimaryKeyConstraint("station_id", "local_date"),
        Index("ix_rollup_coverage_day_community", "community_id", "local_date"),
    )

    station_id: int = Field(foreign_key="station.id")
    local_date: date
    community_id: int = Field(foreign_key="area.id")
    scheduled: int = 0
    staffed: int = 0


class CommunityDay(SQLModel, table=True):
    """A community's day: distinct households that dropped and active households then."""

    __tablename__ = "rollup_community_day"
    __table_args__ = (PrimaryKeyConstraint("community_id", "local_date"),)

    community_id: int = Field(foreign_key="area.id")
    local_date: date
    households_dropped: int = 0
    active_households: int = 0


class HouseholdMonth(SQLModel, table=True):
    """A household with at least one identified drop in a local month (for participation).

    Participation over a month counts distinct households, which daily sums cannot give; one
    row per household and month (added by each day's rollup) can.
    """

    __tablename__ = "rollup_household_month"
    __table_args__ = (PrimaryKeyConstraint("community_id", "month", "household_id"),)

    community_id: int = Field(foreign_key="area.id")
    month: date  # the month's first day
    household_id: int = Field(foreign_key="household.id")


class HourDay(SQLModel, table=True):
    """A community's drops by local hour of one day (for by-hour and by-weekday charts)."""

    __tablename__ = "rollup_hour_day"
    __table_args__ = (PrimaryKeyConstraint("community_id", "local_date", "hour"),)

    community_id: int = Field(foreign_key="area.id")
    local_date: date
    hour: int = Field(sa_type=SmallInteger)
    drops: int = 0
    out_of_window: int = 0
    graded: int = 0
    correct: int = 0


class BuildingDay(SQLModel, table=True):
    """A community's identified drops by building on one day (for the worst buildings)."""

    __tablename__ = "rollup_building_day"
    __table_args__ = (PrimaryKeyConstraint("community_id", "local_date", "building"),)

    community_id: int = Field(foreign_key="area.id")
    local_date: date
    building: str = Field(max_length=20)
    drops: int = 0
    graded: int = 0
    correct: int = 0
    out_of_window: int = 0


class RollupDay(SQLModel, table=True):
    """When a community's day was last rolled up (so a refresh knows what is current)."""

    __tablename__ = "rollup_day"
    __table_args__ = (PrimaryKeyConstraint("community_id", "local_date"),)

    community_id: int = Field(foreign_key="area.id")
    local_date: date
    built_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime())


class RatingPolicy(SQLModel, table=True):
    """One version of an area's rating policy, in force from a month (params: the thresholds).

    A community uses the newest version in force of its nearest area that has one.
    """

    __tablename__ = "rating_policy"
    __table_args__ = (UniqueConstraint("area_id", "version", name="uq_rating_policy_version"),)

    id: int | None = Field(default=None, primary_key=True)
    area_id: int = Field(foreign_key="area.id", index=True)
    version: int
    effective_month: date
    params: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    note: str = Field(default="", max_length=200)
    created_by: int | None = Field(default=None, foreign_key="account.id")
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime())


class Rating(SQLModel, table=True):
    """A community's rating for one local month, with everything needed to explain it.

    `metrics`: metric code → value (a fraction, or null when not available);
    `checks`: [{"level", "metric", "op", "threshold", "value", "passed"}, ...].
    """

    __tablename__ = "rating"
    __table_args__ = (
        UniqueConstraint("community_id", "month", name="uq_rating_community_month"),
        CheckConstraint("level IN ('insufficient', 'not_compliant', 'compliant', 'star')",
                        name="ck_rating_level"),
        CheckConstraint("status IN ('provisional', 'final')", name="ck_rating_status"),
        Index("ix_rating_month_level", "month", "level"),
    )

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="area.id")
    month: date
    level: str = Field(max_length=14)
    policy_area_id: int | None = Field(default=None, foreign_key="area.id")
    policy_version: int = 0  # 0: the default policy of DOMAIN.md
    metrics: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    checks: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    status: str = Field(default="provisional", max_length=11,
                        sa_column_kwargs={"server_default": "provisional"})
    final_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    computed_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime())


class RatingChange(SQLModel, table=True):
    """A published rating's level changed: from what, to what, when, and why.

    `causes`: what made the month's days change, cause → {local day ISO: count} (the
    dirty-day counts: drops uploaded late, regrades, household moves, steward presence,
    schedule changes), plus "last_month" → [old, new] when it was last month's level.
    """

    __tablename__ = "rating_change"
    __table_args__ = (Index("ix_rating_change_community_month", "community_id", "month"),)

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="area.id")
    month: date
    old_level: str = Field(max_length=14)
    new_level: str = Field(max_length=14)
    changed_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime())
    causes: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)


class TonnageEntry(SQLModel, table=True):
    """An area's household-waste tonnages for one month (tonnes), for the city rates."""

    __tablename__ = "tonnage_entry"
    __table_args__ = (
        UniqueConstraint("area_id", "month", name="uq_tonnage_area_month"),
        CheckConstraint("recyclables >= 0 AND incineration_grate >= 0 AND "
                        "incineration_fluid >= 0 AND kitchen >= 0 AND landfill >= 0",
                        name="ck_tonnage_non_negative"),
    )

    id: int | None = Field(default=None, primary_key=True)
    area_id: int = Field(foreign_key="area.id", index=True)
    month: date
    recyclables: Decimal = Field(max_digits=12, decimal_places=2)  # R
    incineration_grate: Decimal = Field(max_digits=12, decimal_places=2)
    incineration_fluid: Decimal = Field(max_digits=12, decimal_places=2)
    kitchen: Decimal = Field(max_digits=12, decimal_places=2)  # K, treated
    landfill: Decimal = Field(max_digits=12, decimal_places=2)  # L
    entered_by: int | None = Field(default=None, foreign_key="account.id")
    entered_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime())
