"""The appeal table: one appeal per drop at most (UNIQUE drop_id), open until decided."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Index, Integer
from sqlmodel import Field, SQLModel

from community import clock
from community.types import UTCDateTime

BigId = BigInteger().with_variant(Integer, "sqlite")
STATUSES = ("open", "upheld", "regraded")


class DropAppeal(SQLModel, table=True):
    """A household's appeal of an incorrect verdict and, once decided, the decision.

    `status`: open → upheld (the verdict stands) or regraded (the drop now counts as correct,
    through `regrade_id`). `decision_reason` is shown to the household either way.
    """

    __tablename__ = "drop_appeal"
    __table_args__ = (
        Index("ix_drop_appeal_community_status", "community_id", "status", "filed_at"),
        CheckConstraint("status IN ('open', 'upheld', 'regraded')", name="ck_drop_appeal_status"),
        CheckConstraint("status = 'open' OR (decided_at IS NOT NULL AND decision_reason <> '')",
                        name="ck_drop_appeal_decided"),
    )

    id: int | None = Field(default=None, primary_key=True)
    drop_id: int = Field(foreign_key="drop_record.id", unique=True, sa_type=BigId)
    community_id: int = Field(foreign_key="area.id")
    household_id: int = Field(foreign_key="household.id")
    filed_by: int = Field(foreign_key="account.id")
    note: str = Field(max_length=500)
    status: str = Field(default="open", max_length=10)
    filed_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime())
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    decided_by: int | None = Field(default=None, foreign_key="account.id")
    decision_reason: str = Field(default="", max_length=200)
    regrade_id: int | None = Field(default=None, foreign_key="drop_regrade.id")
