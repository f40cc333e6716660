"""Area tree table. `path` ("/1/4/9/") makes "is X inside scope Y" a prefix test."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, true
from sqlmodel import Field, SQLModel

from community import clock
from community.areas.schemas import AreaLevel
from community.types import UTCDateTime

# The codes of the enums in `schemas`.
LEVELS = tuple(x.value for x in AreaLevel)


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
    # Whether a resident without an invitation or a join slip may ask the manager to approve
    # them into a household (by its card's short code). Invitations and slips always work.
    join_requests: bool = Field(default=True, sa_column_kwargs={"server_default": true()})
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime())
