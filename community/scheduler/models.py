"""The record of each job's periods: one `job_run` row per (job, period), ever."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from community import clock
from community.types import UTCDateTime

STATUSES = ("succeeded", "failed")


class JobRun(SQLModel, table=True):
    """One period of one job: done (succeeded) or last tried and failed (retried next time).

    A succeeded row is written in the same transaction as the job's work, so the work and
    its record land together or not at all; UNIQUE (job, period) lets only one runner
    claim a period.
    """

    __tablename__ = "job_run"
    __table_args__ = (
        UniqueConstraint("job", "period", name="uq_job_run_job_period"),
        CheckConstraint("status IN ('succeeded', 'failed')", name="ck_job_run_status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    job: str = Field(max_length=60)
    period: str = Field(max_length=32)
    status: str = Field(max_length=10)
    started_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime())
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    attempts: int = Field(default=1)
    counts: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    error: str = Field(default="", sa_type=Text)
    trigger: str = Field(default="schedule", max_length=10)
