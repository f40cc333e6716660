"""The stations module's codes with their labels, and the I/O models of the drop API.

Category and quality are the shared vocabulary of `community.waste`, re-exported here.

Each stored code has one `StrEnum` and one label table (lazy, so a label is translated when
shown): pages, exports, the scan page and the API all read these. The drop API's models are
strict (no silent coercion of 0 to false) and refuse extra fields.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from flask_babel import lazy_gettext as _l
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from community.waste import CATEGORY_LABELS, QUALITY_LABELS, Category, Quality

__all__ = ["CATEGORY_LABELS", "QUALITY_LABELS", "Category", "Quality"]  # re-exported


class Source(StrEnum):
    """How a drop was recorded: a scanned card, a typed code, a device, an anonymous tally."""

    SCAN = "scan"
    MANUAL = "manual"
    DEVICE = "device"
    TALLY = "tally"


class StationStatus(StrEnum):
    """Whether a station accepts scans."""

    OPEN = "open"
    SUSPENDED = "suspended"


# Keyed by the enum members, which equal their plain-string codes (a stored "kitchen" finds
# Category.KITCHEN's label). Values are lazy strings: str() them where text is needed.
SOURCE_LABELS: dict[str, Any] = {
    Source.SCAN: _l("Scan"),
    Source.MANUAL: _l("Typed code"),
    Source.DEVICE: _l("Device"),
    Source.TALLY: _l("Anonymous tally"),
}
STATION_STATUS_LABELS: dict[str, Any] = {
    StationStatus.OPEN: _l("Open"),
    StationStatus.SUSPENDED: _l("Suspended"),
}

# The codes of Category and Quality as Literals: DropIn is strict, and a strict enum field
# would refuse the plain strings Python callers pass (tests/stations/test_schemas.py keeps
# these equal to the enums).
CategoryCode = Literal["kitchen", "recyclable", "hazardous", "other"]
QualityCode = Literal["correct", "incorrect", "ungraded"]
CardText = Annotated[str, StringConstraints(min_length=1, max_length=64, strip_whitespace=True)]
ClientId = Annotated[str, StringConstraints(min_length=8, max_length=64,
                                            pattern=r"^[A-Za-z0-9_.:-]+$")]
MAX_BATCH = 500


class DropIn(BaseModel):
    """One drop as a steward's phone or a device sends it."""

    model_config = ConfigDict(strict=True, extra="forbid")

    client_id: ClientId
    station_id: int = Field(gt=0)
    category: CategoryCode
    quality: QualityCode = "ungraded"
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
