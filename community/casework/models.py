"""Casework tables: versioned case rules, cases, verdict audits and the evaluation cursor."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, Index, Integer, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from community import clock
from community.types import UTCDateTime

BigId = BigInteger().with_variant(Integer, "sqlite")


class CaseRuleSet(SQLModel, table=True):
    """One published version of a community's case rules (params: the CaseRules fields)."""

    __tablename__ = "case_rule_set"
    __table_args__ = (
        UniqueConstraint("community_id", "version", name="uq_case_rule_set_version"),
    )

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="area.id")
    version: int
    effective_from: date
    params: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    created_by: int | None = Field(default=None, foreign_key="account.id")
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime())


class MisdropCase(SQLModel, table=True):
    """A household's case (纠正案例): opened at a trigger drop, closed by a run of correct ones.

    One open case per household (a partial unique index) and one case per trigger drop make
    opening idempotent, whichever of the job's runs gets there first. The rules that decide
    its closing and refund are copied in at opening (`close_after`, `refund`).
    """

    __tablename__ = "misdrop_case"
    __table_args__ = (
        UniqueConstraint("community_id", "trigger_drop_id", name="uq_misdrop_case_trigger"),
        Index("uq_misdrop_case_open", "community_id", "household_id", unique=True,
              postgresql_where=text("status = 'open'"), sqlite_where=text("status = 'open'")),
        Index("ix_misdrop_case_household", "household_id", "opened_on"),
        Index("ix_misdrop_case_community_status", "community_id", "status", "due_on"),
        CheckConstraint("status IN ('open', 'closed', 'withdrawn')", name="ck_misdrop_case_status"),
        CheckConstraint("task IN ('bin_side', 'home_visit', 'building_talk')",
                        name="ck_misdrop_case_task"),
    )

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="area.id")
    household_id: int = Field(foreign_key="household.id")
    status: str = Field(default="open", max_length=10)
    # The incorrect drop that reached the threshold (device time) and the case period's start.
    trigger_drop_id: int = Field(sa_type=BigId)
    trigger_at: datetime = Field(sa_type=UTCDateTime())
    window_start: date
    strikes: int  # the incorrect drops in the window at opening
    rule_version: int
    close_after: int
    refund: bool
    opened_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime())
    opened_on: date  # local day the case was opened (the due date counts from it)
    task: str = Field(max_length=16)
    assignee_id: int | None = Field(default=None, foreign_key="account.id")
    due_on: date
    # What the steward did (one record; each change is also in the audit log).
    done_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    done_by: int | None = Field(default=None, foreign_key="account.id")
    done_note: str = Field(default="", max_length=300)
    escalated_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    # The drop completing the run of correct drops (device time), and when the job saw it.
    close_drop_id: int | None = Field(default=None, sa_type=BigId)
    close_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    refunded: int = 0
    close_note: str = Field(default="", max_length=200)


AUDIT_QUALITIES = ("correct", "incorrect", "unclear")


class VerdictAudit(SQLModel, table=True):
    """One sampled verdict to re-grade blind; graded once (auditor and verdict set together).

    `original` is the recorder's own verdict (before any regrade); `steward_id` the account
    that recorded it. Evidence only: grading never changes the drop.
    """

    __tablename__ = "verdict_audit"
    __table_args__ = (
        UniqueConstraint("community_id", "drop_id", name="uq_verdict_audit_drop"),
        Index("ix_verdict_audit_community_week", "community_id", "week"),
        CheckConstraint("original IN ('correct', 'incorrect')", name="ck_verdict_audit_original"),
        CheckConstraint("verdict IS NULL OR verdict IN ('correct', 'incorrect', 'unclear')",
                        name="ck_verdict_audit_verdict"),
    )

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="area.id")
    drop_id: int = Field(sa_type=BigId)
    steward_id: int = Field(foreign_key="account.id")
    week: date  # the Monday of the verdict's local week
    original: str = Field(max_length=10)
    drawn_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime())
    auditor_id: int | None = Field(default=None, foreign_key="account.id")
    verdict: str | None = Field(default=None, max_length=10)
    graded_at: datetime | None = Field(default=None, sa_type=UTCDateTime())


class CaseworkCursor(SQLModel, table=True):
    """How far the case evaluation has read a growing table (drops, regrades) by id."""

    __tablename__ = "casework_cursor"

    name: str = Field(primary_key=True, max_length=20)
    last_id: int = Field(default=0, sa_type=BigId)
    updated_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime())
