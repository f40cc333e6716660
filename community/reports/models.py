"""Report tables: versioned deadlines per city, reports, their +1s and escalations."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from community import clock
from community.types import UTCDateTime

# The states in which a report is still to be handled (it may escalate, others join it).
OPEN = ("new", "assigned", "in_progress", "reopened")
STATES = (*OPEN, "handled", "confirmed")
LEVELS = ("community", "street", "district")


class ReportDeadlineSet(SQLModel, table=True):
    """One published version of a city's deadlines: `hours` maps a report kind to hours."""

    __tablename__ = "report_deadline_set"
    __table_args__ = (
        UniqueConstraint("city_id", "version", name="uq_report_deadline_set_version"),
    )

    id: int | None = Field(default=None, primary_key=True)
    city_id: int = Field(foreign_key="area.id")
    version: int
    effective_from: date
    hours: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    created_by: int | None = Field(default=None, foreign_key="account.id")
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime())


class Report(SQLModel, table=True):
    """A reported problem and its handling.

    `due_at` is the deadline the on-time rate judges (set when the report is made, never
    moved); `level_due_at` is the deadline of the level that holds it now (escalation moves
    it: the next level gets the kind's hours again; a reopening restarts it). `handled_at` is
    the handling that stands: a reopening clears it. `route_area_id` is the area whose
    people answer for it now (the community, its street, its district).
    One fresh (new or assigned) report per station and kind (a partial unique index): two
    reports made at the same moment make one, the second joins it (the service joins any
    open one it finds; the index settles the race of two first reports).
    """

    __tablename__ = "report"
    __table_args__ = (
        Index("uq_report_open_station_kind", "station_id", "kind", unique=True,
              postgresql_where=text("status IN ('new', 'assigned')"),
              sqlite_where=text("status IN ('new', 'assigned')")),
        UniqueConstraint("community_id", "source_key", name="uq_report_source_key"),
        Index("ix_report_community_status", "community_id", "status", "created_at"),
        Index("ix_report_community_due", "community_id", "due_at"),
        Index("ix_report_open_level_due", "status", "level_due_at"),
        CheckConstraint(
            "status IN ('new', 'assigned', 'in_progress', 'reopened', 'handled', 'confirmed')",
            name="ck_report_status"),
        CheckConstraint("level IN ('community', 'street', 'district')", name="ck_report_level"),
        CheckConstraint("reopen_count >= 0 AND reopen_count <= 1 AND plus_count >= 0",
                        name="ck_report_counts"),
        CheckConstraint("status NOT IN ('handled', 'confirmed') OR handled_at IS NOT NULL",
                        name="ck_report_handled"),
    )

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="area.id")
    station_id: int | None = Field(default=None, foreign_key="station.id")
    place: str = Field(default="", max_length=120)  # "somewhere else": where
    latitude: float | None = None  # only when the reporter agreed to share it
    longitude: float | None = None
    kind: str = Field(max_length=24)
    note: str = Field(default="", max_length=500)
    photo: str | None = Field(default=None, max_length=200)
    reporter_id: int | None = Field(default=None, foreign_key="account.id")
    source: str = Field(default="resident", max_length=10)  # resident, steward, log
    source_key: str | None = Field(default=None, max_length=60)  # "log:<id>:<kind>"
    status: str = Field(default="new", max_length=12)
    level: str = Field(default="community", max_length=10)
    route_area_id: int = Field(foreign_key="area.id")
    assignee_id: int | None = Field(default=None, foreign_key="account.id")
    deadline_version: int = 0  # 0: the built-in defaults
    hours: int
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime())
    due_at: datetime = Field(sa_type=UTCDateTime())
    level_due_at: datetime = Field(sa_type=UTCDateTime())
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    handled_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    handled_by: int | None = Field(default=None, foreign_key="account.id")
    handle_note: str = Field(default="", max_length=500)
    after_photo: str | None = Field(default=None, max_length=200)
    confirmed_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    reopened_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    reopen_reason: str = Field(default="", max_length=300)
    reopen_count: int = 0
    plus_count: int = 0
    escalated_at: datetime | None = Field(default=None, sa_type=UTCDateTime())


class ReportPlus(SQLModel, table=True):
    """Someone else's report of the same problem, joined to the open report (+1), with the
    photo they took (cleaned and stored like the report's own; a +1 made from a supervision
    log has none) and its position when they agreed to share it."""

    __tablename__ = "report_plus"
    __table_args__ = (
        UniqueConstraint("report_id", "account_id", name="uq_report_plus_account"),
    )

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="report.id")
    account_id: int = Field(foreign_key="account.id")
    note: str = Field(default="", max_length=500)
    photo: str | None = Field(default=None, max_length=200)
    latitude: float | None = None  # only when this person agreed to share it
    longitude: float | None = None
    at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime())


class ReportEscalation(SQLModel, table=True):
    """One escalation: at most one per report and deadline (UNIQUE), whoever runs the job."""

    __tablename__ = "report_escalation"
    __table_args__ = (
        UniqueConstraint("report_id", "deadline", name="uq_report_escalation_deadline"),
    )

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="report.id")
    deadline: datetime = Field(sa_type=UTCDateTime())
    from_level: str = Field(max_length=10)
    to_level: str = Field(max_length=10)
    to_area_id: int = Field(foreign_key="area.id")
    at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime())
