"""I/O models of the drop API: strict (no silent coercion of 0 to false), extra fields refused."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

Category = Literal["kitchen", "recyclable", "hazardous", "other"]
Quality = Literal["correct", "incorrect", "ungraded"]
CardText = Annotated[str, StringConstraints(min_length=1, max_length=64, strip_whitespace=True)]
ClientId = Annotated[str, StringConstraints(min_length=8, max_length=64,
                                            pattern=r"^[A-Za-z0-9_.:-]+$")]
MAX_BATCH = 500


class DropIn(BaseModel):
    """One drop as a steward's phone or a device sends it."""

    model_config = ConfigDict(strict=True, extra="forbid")

    client_id: ClientId
    station_id: int = Field(gt=0)
    category: Category
    quality: Quality = "ungraded"
    happened_at: AwareDatetime
    # A scanned card token or a typed short code; absent for an anonymous tally.
    card: CardText | None = None
    tally: bool = False
    weight_kg: Decimal | None = Field(default=None, gt=0, le=50, max_digits=6, decimal_places=3)
    note: Annotated[str, StringConstraints(max_length=200)] | None = None


class BatchIn(BaseModel):
    """Up to MAX_BATCH drops in one request and one transaction."""

    model_config = ConfigDict(strict=True, extra="forbid")

    drops: list[dict] = Field(min_length=1, max_length=MAX_BATCH)


class DropOut(BaseModel):
    """What the client learns about a stored (or replayed) drop."""

    id: int
    client_id: str
    replay: bool
    station_id: int
    category: str
    quality: str
    source: str
    in_window: bool
    happened_at: datetime
    household_id: int | None
    household_label: str | None
    warnings: list[str]
    points: int | None = None
