"""Audit entries are append-only; nothing updates or deletes them."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index
from sqlmodel import Field, SQLModel

from community import clock
from community.types import UTCDateTime


class AuditEntry(SQLModel, table=True):
    """One action; `area_path` copies the area's path so scope filters are a prefix test."""

    __tablename__ = "audit_entry"
    __table_args__ = (Index("ix_audit_entry_area_path_at", "area_path", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime())
    actor_id: int | None = Field(default=None, foreign_key="account.id", index=True)
    action: str = Field(max_length=40, index=True)
    area_id: int | None = Field(default=None, foreign_key="area.id")
    area_path: str = Field(default="/", max_length=255)
    target_type: str | None = Field(default=None, max_length=40)
    target_id: int | None = None
    ip: str | None = Field(default=None, max_length=45)
    detail: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
