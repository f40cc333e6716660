"""Volunteer stewards (督导员): sign-up and approval, invitations, shifts generated from
station windows, assignments with check-in/out and hours, supervision logs. Messages to
stewards go through the inbox (`community.inbox`)."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from community import clock
from community.types import UTCDateTime
from community.volunteers.schemas import AssignmentStatus, HoursStatus, Incident

STEWARD_STATUSES = ("pending", "approved", "rejected", "retired")
TRAINING = ("none", "in_training", "trained")
# The codes of the enums in `schemas` (the CHECK constraints below spell them out; the tests
# keep the two equal).
ASSIGNMENT_STATUSES = tuple(x.value for x in AssignmentStatus)
HOURS_STATUSES = tuple(x.value for x in HoursStatus)
INCIDENTS = tuple(x.value for x in Incident)


class Steward(SQLModel, table=True):
    """An account volunteering as a steward in one community (approved by its manager).

    `availability` is a list of {"weekday": 0-6, "start": "HH:MM", "end": "HH:MM"}.
    """

    __tablename__ = "steward"
    __table_args__ = (
        UniqueConstraint("community_id", "account_id", name="uq_steward_account"),
        CheckConstraint("status IN ('pending', 'approved', 'rejected', 'retired')",
                        name="ck_steward_status"),
        CheckConstraint("training IN ('none', 'in_training', 'trained')",
                        name="ck_steward_training"),
    )

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="area.id", index=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    status: str = Field(default="pending", max_length=10)
    availability: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    training: str = Field(default="none", max_length=12)
    trained_on: date | None = None
    invite_id: int | None = Field(default=None, foreign_key="steward_invite.id")
    note: str = Field(default="", max_length=200)
    # The secret in the steward's private calendar-feed URL (iCal); a new one revokes the old.
    calendar_key: str | None = Field(default=None, max_length=32, unique=True)
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime())
    decided_by: int | None = Field(default=None, foreign_key="account.id")
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime())


class StewardInvite(SQLModel, table=True):
    """An invitation link to sign up as a steward of a community (the token is stored hashed)."""

    __tablename__ = "steward_invite"

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="area.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    created_by: int | None = Field(default=None, foreign_key="account.id")
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime())
    expires_at: datetime = Field(sa_type=UTCDateTime())
    max_uses: int = Field(default=20)
    uses: int = Field(default=0)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime())


class Shift(SQLModel, table=True):
    """One staffed period at a station, generated from one of its windows on one local date.

    UNIQUE (station_id, starts_at) makes generation idempotent; `window_id` remembers the
    window it came from so a schedule change can update future, unfilled shifts.
    """

    __tablename__ = "shift"
    __table_args__ = (
        UniqueConstraint("station_id", "starts_at", name="uq_shift_station_start"),
        CheckConstraint("needed >= 1 AND needed <= 20", name="ck_shift_needed"),
        CheckConstraint("status IN ('open', 'cancelled')", name="ck_shift_status"),
        Index("ix_shift_community_day", "community_id", "local_date"),
        Index("ix_shift_starts", "starts_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="area.id")
    station_id: int = Field(foreign_key="station.id")
    window_id: int | None = Field(default=None, foreign_key="station_window.id",
                                  ondelete="SET NULL")
    local_date: date
    starts_at: datetime = Field(sa_type=UTCDateTime())
    ends_at: datetime = Field(sa_type=UTCDateTime())
    needed: int = Field(default=1)
    status: str = Field(default="open", max_length=10)
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime())
    updated_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime())


class ShiftAssignment(SQLModel, table=True):
    """A steward on a shift: signed up (or assigned), checked in/out, hours approved.

    `minutes` come from check-in/out; `approved_minutes` are what the manager approved
    (possibly corrected, with `correction_reason`), credited once to the steward's points.
    """

    __tablename__ = "shift_assignment"
    __table_args__ = (
        UniqueConstraint("shift_id", "steward_id", name="uq_assignment_shift_steward"),
        CheckConstraint("status IN ('signed_up', 'cancelled', 'no_show', 'done')",
                        name="ck_assignment_status"),
        CheckConstraint("hours_status IS NULL OR hours_status IN ('pending', 'approved')",
                        name="ck_assignment_hours_status"),
        CheckConstraint("minutes IS NULL OR minutes >= 0", name="ck_assignment_minutes"),
        CheckConstraint("approved_minutes IS NULL OR (approved_minutes >= 0 AND "
                        "approved_minutes <= 1440)", name="ck_assignment_approved"),
        Index("ix_assignment_steward", "steward_id", "shift_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    shift_id: int = Field(foreign_key="shift.id", index=True)
    steward_id: int = Field(foreign_key="steward.id")
    status: str = Field(default="signed_up", max_length=10)
    assigned_by: int | None = Field(default=None, foreign_key="account.id")
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime())
    cancelled_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    checked_in_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    check_in_method: str | None = Field(default=None, max_length=8)  # code|chief
    checked_out_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    check_out_method: str | None = Field(default=None, max_length=8)  # +auto
    confirmed_by: int | None = Field(default=None, foreign_key="account.id")
    minutes: int | None = None
    hours_status: str | None = Field(default=None, max_length=10)
    approved_minutes: int | None = None
    approved_by: int | None = Field(default=None, foreign_key="account.id")
    approved_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    correction_reason: str = Field(default="", max_length=200)


class SupervisionLog(SQLModel, table=True):
    """What a steward saw and did during a shift (one log per assignment).

    `incidents` maps an incident code (INCIDENTS) to a count; `photos` lists stored paths.
    """

    __tablename__ = "supervision_log"
    __table_args__ = (
        CheckConstraint("residents_guided >= 0 AND drops_corrected >= 0",
                        name="ck_supervision_counts"),
    )

    id: int | None = Field(default=None, primary_key=True)
    assignment_id: int = Field(foreign_key="shift_assignment.id", unique=True)
    residents_guided: int = Field(default=0)
    drops_corrected: int = Field(default=0)
    incidents: dict[str, int] = Field(default_factory=dict, sa_type=JSON)
    note: str = Field(default="", max_length=1000)
    photos: list[str] = Field(default_factory=list, sa_type=JSON)
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime())
    updated_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime())
