"""Area tree table. `path` ("/1/4/9/") makes "is X inside scope Y" a prefix test."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from community import clock
from community.areas.schemas import AreaLevel, LinkMode
from community.types import UTCDateTime

# The codes of the enums in `schemas`.
LEVELS = tuple(x.value for x in AreaLevel)
LINK_MODES = tuple(x.value for x in LinkMode)


class Area(SQLModel, table=True):
    """A node of the area tree; communities (小区/社区) are the leaves."""

    __tablename__ = "area"
    __table_args__ = (Index("ix_area_path", "path"),)

    id: int | None = Field(default=None, primary_key=True)
    parent_id: int | None = Field(default=None, foreign_key="area.id", index=True)
    level: str = Field(max_length=16)
    name: str = Field(max_length=80)
    path: str = Field(default="", max_length=255)
    timezone: str = Field(default="Asia/Shanghai", max_length=64)
    # How a resident proves a card is theirs: the one-time code on the card, or manager approval.
    link_mode: str = Field(default="code", max_length=16)
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime())
