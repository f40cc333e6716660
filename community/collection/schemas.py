"""The collection module's input and output models: the one place a field rule lives.

A collector's phone sends `CollectionIn` (alone or in a `CollectionBatchIn` from its offline
queue): the station's scanned QR token, the device time, a client-made id, and one line per
category with bins, kg and contaminated bins, and (when contaminated) the photo as a data URL
so the collection and its evidence land together or not at all.
"""
from __future__ import annotations

import base64
import binascii
from datetime import date, time
from decimal import Decimal
from typing import Annotated, Any, Literal

from flask_babel import lazy_gettext as _l
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)
from pydantic_core import PydanticCustomError

from community.schemas import RULE, Bounded, Id, InputModel, SaneDatetime, Say, fail
from community.stations.schemas import CategoryCode, ClientId

MAX_BATCH = 100
MAX_PHOTO_TEXT = 7 * 1024 * 1024  # a 5 MB photo as base64 in a data URL
# The scanned QR text ("CST:<token>", community/collection/rules.py), the token alone, or
# the short code typed from under the QR ("ABCD-2345", any case, spaces or dashes).
TagToken = Annotated[str, StringConstraints(min_length=8, max_length=68, strip_whitespace=True,
                                            pattern=r"^(CST:)?[A-Za-z0-9_ -]+$")]

KG_NEGATIVE = _l("The weight cannot be negative.")
KG_RULE = _l("Enter the weight in kg, more than 0 and up to 10,000.")
# Bins without their weight: a 0 kg pickup would lower the tonnage and the kitchen share.
KG_NEEDED = _l("Enter the weight of the bins collected, in kg.")
BINS_RULE = _l("Enter from 1 to 100 bins.")
CONTAMINATED_RULE = _l("Contaminated bins cannot exceed the bins collected.")
PHOTO_NEEDED = _l("Take a photo of the contamination.")
LINES_RULE = _l("Record at least one category, each once.")
RANGES_RULE = _l("Enter pickup windows as HH:MM-HH:MM, separated by commas, e.g. "
                 "06:00-07:00, 19:00-20:00.")


class LineIn(Bounded):
    """One category of a pickup."""

    model_config = ConfigDict(strict=True, extra="forbid")

    category: CategoryCode
    bins: Annotated[int, Field(ge=1, le=100), Say(BINS_RULE)]
    # A float from a phone's number box is accepted (strict JSON has no decimals).
    kg: Annotated[Decimal, Field(le=Decimal(10000), decimal_places=2, strict=False),
                  Say(KG_RULE)]
    contaminated_bins: Annotated[int, Field(ge=0, le=100)] = 0
    photo: Annotated[str | None, StringConstraints(max_length=MAX_PHOTO_TEXT)] = Field(
        default=None, description="The contamination photo as a data: URL (base64).")

    @model_validator(mode="before")
    @classmethod
    def _weighed(cls, data: Any) -> Any:
        # Bins need their weight: named here, as the field's own words, not "required".
        if isinstance(data, dict) and data.get("kg") in (None, ""):
            raise fail("kg", KG_NEEDED)
        return data

    @model_validator(mode="after")
    def _consistent(self) -> LineIn:
        if self.kg < 0:
            raise fail("kg", KG_NEGATIVE, str(self.kg))
        if self.kg == 0:
            raise fail("kg", KG_NEEDED, str(self.kg))
        if self.contaminated_bins > self.bins:
            raise fail("contaminated_bins", CONTAMINATED_RULE, self.contaminated_bins)
        if self.contaminated_bins and not self.photo:
            raise fail("photo", PHOTO_NEEDED)
        return self

    def photo_bytes(self) -> bytes | None:
        """The photo's bytes (None without one); b"" when it is not base64 (refused later as
        not an image)."""
        if not self.photo:
            return None
        _head, _sep, data = self.photo.partition("base64,")
        try:
            return base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            return b""


class CollectionIn(Bounded):
    """One pickup at a station, as a collector's phone sends it."""

    model_config = ConfigDict(strict=True, extra="forbid")

    client_id: ClientId
    station_tag: TagToken = Field(description="The token of the station's collection QR.")
    happened_at: SaneDatetime
    lines: Annotated[list[LineIn], Field(min_length=1, max_length=4)]
    note: Annotated[str, StringConstraints(max_length=200, strip_whitespace=True)] = ""

    @model_validator(mode="after")
    def _one_line_per_category(self) -> CollectionIn:
        if len({line.category for line in self.lines}) != len(self.lines):
            raise fail("lines", LINES_RULE)
        return self


class CollectionBatchIn(BaseModel):
    """A phone's queued pickups; each item is validated on its own."""

    model_config = ConfigDict(extra="forbid")

    collections: Annotated[list[dict[str, Any]], Field(
        min_length=1, max_length=MAX_BATCH,
        description="Each item is a CollectionIn, validated on its own: a refused item gets "
                    "its error in the results and the others are stored.")]


class CollectionOut(BaseModel):
    """A stored (or replayed) pickup."""

    index: int = 0
    ok: Literal[True] = True
    client_id: str
    id: int
    station_id: int
    replay: bool
    on_time: bool | None


class CollectionError(BaseModel):
    """Why one item was refused (`error` is a stable code)."""

    index: int = 0
    ok: Literal[False] = False
    client_id: str | None
    error: str
    message: str
    fields: dict[str, str] = Field(default_factory=dict)


class CollectionBatchOut(BaseModel):
    """One result per item, in order."""

    results: list[CollectionOut | CollectionError]


class StationFoundOut(BaseModel):
    """The station a collection code names (inside the collector's area)."""

    id: int
    name: str


def _ranges_from_text(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return parse_ranges(value)
        except ValueError:
            raise PydanticCustomError(RULE, "{text}", {"text": RANGES_RULE}) from None
    return value


class PickupWindowsIn(InputModel):
    """A station's pickup windows from a local day on: the same ranges on the chosen weekdays
    (0 = Monday), typed as "06:00-07:00, 19:00-20:00"."""

    ranges: Annotated[list[tuple[time, time]], BeforeValidator(_ranges_from_text),
                      Field(min_length=1, max_length=6), Say(RANGES_RULE)]
    weekdays: Annotated[list[Annotated[int, Field(ge=0, le=6)]],
                        Field(min_length=1, max_length=7)] = list(range(7))
    effective_from: date

    @model_validator(mode="after")
    def _not_empty(self) -> PickupWindowsIn:
        if any(start == end for start, end in self.ranges):
            raise fail("ranges", RANGES_RULE)
        return self


def parse_ranges(text: str) -> list[tuple[time, time]]:
    """"06:00-07:00, 19:00-20:00" as ranges; ValueError when a part is not HH:MM-HH:MM."""
    out = []
    for part in (p.strip() for p in text.replace("，", ",").split(",")):
        if not part:
            continue
        start, sep, end = part.replace("–", "-").partition("-")
        if not sep:
            raise ValueError(part)
        out.append((time.fromisoformat(start.strip()), time.fromisoformat(end.strip())))
    return out


# Ids re-exported for the views' path arguments.
StationId = Id
