"""Household registry, household members (linked resident accounts) and cards."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, UniqueConstraint, false, text
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
    building: str = Field(max_length=20)
    unit: str = Field(max_length=20)
    room: str = Field(max_length=20)
    members: int = Field(default=1)
    status: str = Field(default="active", max_length=12)
    # The household asked to stay off the honour boards (红榜); rankings skip it.
    honour_opt_out: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime())
    updated_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime())


class HouseholdEvent(SQLModel, table=True):
    """One change of a household's status or member count, from the moment it took effect.

    A household's history: its first event is its moving in (effective at its creation, or
    the moved-in moment given), every later status or member change appends one. The
    household row keeps the current values (equal to its latest event). The state at a
    moment T is that of the latest event with `effective_at` <= T (ties: the later id, i.e.
    the later recorded). Events are never edited or deleted.
    """

    __tablename__ = "household_event"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'moved_out')", name="ck_household_event_status"),
        CheckConstraint("members >= 1 AND members <= 30", name="ck_household_event_members"),
        # "The latest event per household at or before a moment, per community".
        Index("ix_household_event_latest", "community_id", "household_id", "effective_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    household_id: int = Field(foreign_key="household.id")
    community_id: int = Field(foreign_key="area.id")
    effective_at: datetime = Field(sa_type=UTCDateTime())
    status: str = Field(max_length=12)
    members: int
    recorded_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime())
    recorded_by: int | None = Field(default=None, foreign_key="account.id")


class Card(SQLModel, table=True):
    """A household's QR card. A revoked card never works again; reissue makes a new row.

    The card identifies the household at the station (token, short code); it grants no
    membership: residents join by an invitation, a join slip or a manager's approval.
    """

    __tablename__ = "card"
    # A card is resolved within the community of the station that reads it (a card of
    # another community is unknown there): token and short code are unique per community.
    __table_args__ = (
        UniqueConstraint("community_id", "token", name="uq_card_token"),
        UniqueConstraint("community_id", "short_code", name="uq_card_short_code"),
    )

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="area.id")  # the household's
    household_id: int = Field(foreign_key="household.id", index=True)
    token: str = Field(max_length=64)
    short_code: str = Field(max_length=8)
    status: str = Field(default="active", max_length=10)
    issued_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime())
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    revoked_by: int | None = Field(default=None, foreign_key="account.id")


MEMBER_STATUSES = ("pending", "approved", "rejected", "removed")
MEMBER_ROLES = ("head", "member")


class HouseholdMember(SQLModel, table=True):
    """A resident account's membership of a household.

    `pending` until a manager decides a request; `approved` members see and spend the
    household's points; `removed` ends access at once (the row stays for the record and is
    reused if the person joins again). One approved member is the household's `head`, who
    may invite and remove members.
    """

    __tablename__ = "household_member"
    __table_args__ = (
        UniqueConstraint("community_id", "household_id", "account_id",
                         name="uq_household_member"),
        CheckConstraint("status IN ('pending', 'approved', 'rejected', 'removed')",
                        name="ck_household_member_status"),
        CheckConstraint("role IN ('head', 'member')", name="ck_household_member_role"),
        # At most one head among a household's approved members.
        Index("uq_household_member_head", "community_id", "household_id", unique=True,
              sqlite_where=text("role = 'head' AND status = 'approved'"),
              postgresql_where=text("role = 'head' AND status = 'approved'")),
    )

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="area.id")  # the household's
    household_id: int = Field(foreign_key="household.id", index=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    status: str = Field(default="pending", max_length=10)
    role: str = Field(default="member", max_length=10,
                      sa_column_kwargs={"server_default": "member"})
    # How the member got in: invitation | join_code | approval (a manager) | legacy.
    joined_via: str | None = Field(default=None, max_length=12)
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime())
    decided_by: int | None = Field(default=None, foreign_key="account.id")
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    removed_by: int | None = Field(default=None, foreign_key="account.id")
    removed_at: datetime | None = Field(default=None, sa_type=UTCDateTime())


class HouseholdInvitation(SQLModel, table=True):
    """A one-time, expiring invitation a member makes on their phone (a QR and a link).

    Only the SHA-256 of its random token is stored. It stops working when used, revoked,
    expired, or when its inviter is no longer an approved member.
    """

    __tablename__ = "household_invitation"

    id: int | None = Field(default=None, primary_key=True)
    household_id: int = Field(foreign_key="household.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    created_by: int = Field(foreign_key="account.id")
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime())
    expires_at: datetime = Field(sa_type=UTCDateTime())
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    used_by: int | None = Field(default=None, foreign_key="account.id")
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    revoked_by: int | None = Field(default=None, foreign_key="account.id")


class HouseholdJoinCode(SQLModel, table=True):
    """A one-time join code printed on a slip the manager hands to the household (not the card).

    Only the SHA-256 of the code is stored. Expiring and single use; issuing a new slip for
    the household voids the older ones.
    """

    __tablename__ = "household_join_code"

    id: int | None = Field(default=None, primary_key=True)
    household_id: int = Field(foreign_key="household.id", index=True)
    code_hash: str = Field(max_length=64, unique=True)
    created_by: int | None = Field(default=None, foreign_key="account.id")
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime())
    expires_at: datetime = Field(sa_type=UTCDateTime())
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    used_by: int | None = Field(default=None, foreign_key="account.id")
    voided_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
