"""Audit entries are append-only; nothing updates or deletes them."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, String
from sqlmodel import Field, SQLModel

from community import clock
from community.types import UTCDateTime


class AuditEntry(SQLModel, table=True):
    """One action; `area_path` copies the area's path so scope filters are a prefix test."""

    __tablename__ = "audit_entry"
    __table_args__ = (Index("ix_audit_entry_area_path_at", "area_path", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(
        default_factory=clock.now, sa_column=Column(UTCDateTime(), nullable=False)
    )
    actor_id: int | None = Field(default=None, foreign_key="account.id", index=True)
    action: str = Field(sa_column=Column(String(40), nullable=False, index=True))
    area_id: int | None = Field(default=None, foreign_key="area.id")
    area_path: str = Field(default="/", sa_column=Column(String(255), nullable=False))
    target_type: str | None = Field(default=None, sa_column=Column(String(40)))
    target_id: int | None = None
    ip: str | None = Field(default=None, sa_column=Column(String(45)))
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
