"""Area tree table. `path` ("/1/4/9/") makes "is X inside scope Y" a prefix test."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, String
from sqlmodel import Field, SQLModel

from community import clock
from community.types import UTCDateTime

LEVELS = ("city", "district", "street", "community")
LINK_MODES = ("code", "approval")


class Area(SQLModel, table=True):
    """A node of the area tree; communities (小区/社区) are the leaves."""

    __tablename__ = "area"
    __table_args__ = (Index("ix_area_path", "path"),)

    id: int | None = Field(default=None, primary_key=True)
    parent_id: int | None = Field(default=None, foreign_key="area.id", index=True)
    level: str = Field(sa_column=Column(String(16), nullable=False))
    name: str = Field(sa_column=Column(String(80), nullable=False))
    path: str = Field(default="", sa_column=Column(String(255), nullable=False, default=""))
    timezone: str = Field(default="Asia/Shanghai", sa_column=Column(String(64), nullable=False))
    # How a resident proves a card is theirs: the one-time code on the card, or manager approval.
    link_mode: str = Field(default="code", sa_column=Column(String(16), nullable=False))
    created_at: datetime = Field(
        default_factory=clock.now, sa_column=Column(UTCDateTime(), nullable=False)
    )
