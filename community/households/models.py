"""Household registry, household members (linked resident accounts) and cards."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, Column, String, UniqueConstraint, false
from sqlmodel import Field, SQLModel

from community import clock
from community.types import UTCDateTime

STATUSES = ("active", "moved_out")


class Household(SQLModel, table=True):
    """A household at building/unit/room of one community."""

    __tablename__ = "household"
    __table_args__ = (
        UniqueConstraint("community_id", "building", "unit", "room", name="uq_household_address"),
        CheckConstraint("members >= 1 AND members <= 30", name="ck_household_members"),
        CheckConstraint("status IN ('active', 'moved_out')", name="ck_household_status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="area.id", index=True)
    building: str = Field(sa_column=Column(String(20), nullable=False))
    unit: str = Field(sa_column=Column(String(20), nullable=False))
    room: str = Field(sa_column=Column(String(20), nullable=False))
    members: int = Field(default=1)
    status: str = Field(default="active", sa_column=Column(String(12), nullable=False))
    # The household asked to stay off the honour boards (红榜); rankings skip it.
    honour_opt_out: bool = Field(default=False, sa_column=Column(
        Boolean, nullable=False, default=False, server_default=false()))
    created_at: datetime = Field(
        default_factory=clock.now, sa_column=Column(UTCDateTime(), nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=clock.now, sa_column=Column(UTCDateTime(), nullable=False)
    )


class Card(SQLModel, table=True):
    """A household's QR card. A revoked card never works again; reissue makes a new row."""

    __tablename__ = "card"

    id: int | None = Field(default=None, primary_key=True)
    household_id: int = Field(foreign_key="household.id", index=True)
    token: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    short_code: str = Field(sa_column=Column(String(8), nullable=False, unique=True))
    # One-time code printed on the card, proving possession when a resident links an account.
    link_code: str = Field(sa_column=Column(String(8), nullable=False))
    link_code_used_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime())
    )
    status: str = Field(default="active", sa_column=Column(String(10), nullable=False))
    issued_at: datetime = Field(
        default_factory=clock.now, sa_column=Column(UTCDateTime(), nullable=False)
    )
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    revoked_by: int | None = Field(default=None, foreign_key="account.id")


class HouseholdMember(SQLModel, table=True):
    """A resident account linked to a household; `pending` until approved (approval mode)."""

    __tablename__ = "household_member"
    __table_args__ = (UniqueConstraint("household_id", "account_id", name="uq_household_member"),)

    id: int | None = Field(default=None, primary_key=True)
    household_id: int = Field(foreign_key="household.id", index=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    status: str = Field(default="pending", sa_column=Column(String(10), nullable=False))
    created_at: datetime = Field(
        default_factory=clock.now, sa_column=Column(UTCDateTime(), nullable=False)
    )
    decided_by: int | None = Field(default=None, foreign_key="account.id")
    decided_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
