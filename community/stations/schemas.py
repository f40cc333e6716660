"""The stations module's codes with their labels, and the I/O models of the drop API.

Category and quality are the shared vocabulary of `community.waste`, re-exported here.

Each stored code has one `StrEnum` and one label table (lazy, so a label is translated when
shown): pages, exports, the scan page and the API all read these. The drop API's models are
strict (no silent coercion of 0 to false) and refuse extra fields.
"""
from __future__ import annotations

from datetime import date, time
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from flask_babel import lazy_gettext as _l
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    model_validator,
)

from community.schemas import Bounded, Id, InputModel, SaneDatetime, Say, fail

# Re-exported: the stations module's pages read every label from here.
from community.waste import CATEGORY_LABELS as CATEGORY_LABELS
from community.waste import QUALITY_LABELS as QUALITY_LABELS
from community.waste import Category as Category
from community.waste import Quality as Quality


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
ReasonCode = Annotated[str, StringConstraints(min_length=1, max_length=32,
                                              pattern=r"^[a-z0-9_]+$")]
MAX_BATCH = 500
REASON_REQUIRED = _l("An incorrect drop needs a reason: the code of one of the community's "
                     "mis-drop reasons.")


class DropIn(Bounded):
    """One drop as a steward's phone or a device sends it."""

    model_config = ConfigDict(strict=True, extra="forbid")

    client_id: ClientId
    station_id: Id
    category: CategoryCode
    quality: QualityCode = "ungraded"
    happened_at: SaneDatetime
    card: CardText | None = Field(default=None, description=(
        "A scanned card token or a typed short code; absent for an anonymous tally."))
    tally: bool = False
    weight_kg: Decimal | None = Field(default=None, gt=0, le=50, max_digits=6, decimal_places=3)
    note: Annotated[str, StringConstraints(max_length=200)] | None = None
    reason_code: ReasonCode | None = Field(default=None, description=(
        "Why the drop is incorrect: a code of the community's mis-drop reasons (required "
        "with quality \"incorrect\", refused with any other; the reason \"other\" needs a "
        "note)."))

    @model_validator(mode="after")
    def _incorrect_has_reason(self) -> DropIn:
        # DOMAIN "The mis-drop loop": an incorrect verdict always carries its reason, whoever
        # sends it (the scan page asks for one; a device or a batch must name one too). Which
        # codes exist is the community's list, checked by the service (`reasons.check_reason`).
        if self.quality == "incorrect" and self.reason_code is None:
            raise fail("reason_code", REASON_REQUIRED)
        return self


class BatchIn(Bounded):
    """A batch of drops, stored in one request and one transaction."""

    model_config = ConfigDict(strict=True, extra="forbid")

    # Each item is parsed as a DropIn on its own afterwards, so one bad item cannot sink the
    # others; the no-op validator only tells the JSON schema what that second step expects.
    drops: list[Annotated[dict[str, Any], BeforeValidator(lambda v: v,
                                                          json_schema_input_type=DropIn)]] = (
        Field(min_length=1, max_length=MAX_BATCH))


# The codes of the answers, as Literals like CategoryCode (test_schemas.py keeps them equal to
# the enums); a drop's warnings are codes too.
SourceCode = Literal["scan", "manual", "device", "tally"]
StationStatusCode = Literal["open", "suspended"]
DropWarning = Literal["out_of_window", "recent_duplicate"]


# The scan path validates a DropOut once, in the service (stations.services._result, which
# also makes happened_at UTC): measured, that costs less than `model_construct`, which copies
# field by field in Python, and an AfterValidator for UTC would cost more than the service's
# astimezone(). (Docstrings of the API models are the OpenAPI document's descriptions.)
class DropOut(BaseModel):
    """What the client learns about a stored (or replayed) drop."""

    id: int
    client_id: str
    replay: bool = Field(description="True when the client id was stored before: this is "
                                     "that drop, stored and scored once.")
    station_id: int
    category: CategoryCode
    quality: QualityCode
    source: SourceCode
    in_window: bool
    happened_at: AwareDatetime = Field(description="In UTC.")
    household_id: int | None
    household_label: str | None
    warnings: list[DropWarning]
    points: int | None = None
    reason_code: str | None = None
    repeat: bool = Field(default=False, description=(
        "True when the same household dropped the same category within the duplicate window: "
        "stored and counted, but it scores nothing (no second award)."))
    voided: bool = False


class VoidOut(BaseModel):
    """A voided (undone) drop: kept, marked void, its points reversed."""

    id: int
    client_id: str
    voided_at: AwareDatetime = Field(description="In UTC.")
    voided_by: int
    points: int = Field(description="The change of the household's balance by this void "
                                    "(0 when voided before, or it scored nothing).")
    already: bool = Field(description="True when the drop was voided before: nothing "
                                      "changed now.")


def _empty(value: Any) -> bool:
    return not value


FieldMessages = Annotated[dict[str, str], Field(
    default_factory=dict, exclude_if=_empty,
    description="Field name → message, for each field at fault (left out when none).")]


class BatchItemOut(BaseModel):
    """An item of a batch that is stored (or was stored before: `drop.replay`)."""

    index: int = Field(ge=0)
    ok: Literal[True]
    drop: DropOut


class BatchItemError(BaseModel):
    """An item of a batch that was refused; nothing of it was stored."""

    index: int = Field(ge=0)
    ok: Literal[False]
    client_id: str | None
    error: str = Field(examples=["invalid", "card_unknown"])
    message: str
    fields: FieldMessages


class BatchOut(BaseModel):
    """One result per item, in the order sent, and the counts."""

    results: list[BatchItemOut | BatchItemError]
    stored: int = Field(ge=0)
    replays: int = Field(ge=0)
    failed: int = Field(ge=0)


# A local time of day, answered as "07:00".
HourMinute = Annotated[time, PlainSerializer(
    lambda t: t.strftime("%H:%M"),
    return_type=Annotated[str, Field(pattern=r"^\d{2}:\d{2}$", examples=["07:00"])])]


class StationOut(BaseModel):
    """A station as a steward or device needs it to pick one."""

    model_config = ConfigDict(title="Station")  # its name in the OpenAPI document

    id: int
    community_id: int
    name: str
    location: str
    latitude: float | None
    longitude: float | None
    categories: list[CategoryCode]
    status: StationStatusCode
    grace_minutes: int = Field(ge=0, le=120)
    timezone: str = Field(examples=["Asia/Shanghai"])


class StationListOut(BaseModel):
    """The stations the caller may record at."""

    model_config = ConfigDict(title="StationList")

    stations: list[StationOut]


class WindowOut(BaseModel):
    """A weekly range of a station."""

    weekday: int = Field(ge=0, le=6)
    start: HourMinute
    end: HourMinute


class TimeRangeOut(BaseModel):
    """Special hours on one date, local time."""

    start: HourMinute
    end: HourMinute


class ExceptionDayOut(BaseModel):
    """A date with special hours, or closed (no ranges)."""

    day: date
    closed: bool
    ranges: list[TimeRangeOut]
    note: str


class StationDetailOut(StationOut):
    """A station with its windows, its near exceptions and where it stands right now."""

    model_config = ConfigDict(title="StationDetail")

    windows: list[WindowOut] = Field(description="Weekly ranges (weekday 0 = Monday, local "
                                                 "time); an end not after the start runs "
                                                 "past midnight.")
    exceptions: list[ExceptionDayOut] = Field(description="Dates of the next 14 days with "
                                                          "special hours, or closed.")
    open_now: bool
    current_window_end: AwareDatetime | None
    next_window_start: AwareDatetime | None


class CsrfOut(BaseModel):
    """A CSRF token for the X-CSRFToken header of a session caller's POSTs."""

    csrf_token: str


# Documents the upload only: werkzeug reads the form and community.images checks the image.
class PhotoIn(BaseModel):
    """A photo upload (a multipart form)."""

    photo: bytes = Field(description="A JPEG, PNG or WebP image.")


class PhotoOut(BaseModel):
    """A photo was stored for the drop."""

    photo: Literal[True]


class ErrorOut(BaseModel):
    """Any error: a stable code, a message in the caller's language, the fields at fault."""

    model_config = ConfigDict(title="Error")  # community.web.errors writes these answers

    error: str = Field(description="A stable code.", examples=["invalid", "card_revoked"])
    message: str = Field(description="In the caller's language (Chinese by default).")
    fields: FieldMessages
    details: Annotated[dict[str, Any], Field(default_factory=dict, exclude_if=_empty)]


# --- The managers' input models (the one place their field rules live) ---------------------

def _canonical(codes: Any) -> Any:
    """Bins in the canonical category order, each once (unknown codes are left to fail)."""
    if not isinstance(codes, list | tuple | set):
        return codes
    known = [c for c in Category if c in set(codes)]
    return known + [c for c in codes if c not in set(Category)]


class StationIn(InputModel):
    """The editable fields of a station."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=80), Say(
        _l("Please enter the station's name."),
        {"string_too_long": _l("At most 80 characters.")})]
    location: Annotated[str, StringConstraints(max_length=200)] = ""
    latitude: Annotated[float | None, Field(ge=-90, le=90), Say(
        _l("Latitude must be from -90 to 90."))] = None
    longitude: Annotated[float | None, Field(ge=-180, le=180), Say(
        _l("Longitude must be from -180 to 180."))] = None
    categories: Annotated[list[Category], BeforeValidator(_canonical), Field(min_length=1),
                          Say(_l("Choose at least one category."))] = list(Category)
    chief_id: int | None = None
    status: StationStatus = StationStatus.OPEN
    grace_minutes: Annotated[int, Field(ge=0, le=120), Say(
        _l("Grace minutes must be from 0 to 120."),
        {"missing": _l("Please enter the grace minutes."),
         "int_type": _l("Please enter the grace minutes.")})] = 10

    @model_validator(mode="after")
    def _both_coordinates(self) -> StationIn:
        if (self.latitude is None) != (self.longitude is None):
            raise fail("longitude" if self.longitude is None else "latitude",
                       _l("Enter both latitude and longitude, or neither."))
        return self


Range = tuple[time, time]


def _distinct(ranges: list[Range]) -> list[Range]:
    if any(start == end for start, end in ranges):
        raise ValueError("same start and end")
    return ranges


SAME_ENDS = _l("A time range needs different start and end times.")
DayRanges = Annotated[list[Range], AfterValidator(_distinct), Say(SAME_ENDS)]


class WeekIn(InputModel):
    """A station's weekly schedule: the ranges of each weekday (Monday 0); none: closed."""

    weekday_0: DayRanges = []
    weekday_1: DayRanges = []
    weekday_2: DayRanges = []
    weekday_3: DayRanges = []
    weekday_4: DayRanges = []
    weekday_5: DayRanges = []
    weekday_6: DayRanges = []
    # The local date the schedule takes effect (None: today). Past days are refused by the
    # service (they keep the schedule that was in force then).
    effective_from: date | None = None

    def by_day(self) -> dict[int, list[Range]]:
        """{weekday: ranges} for every weekday."""
        return {d: list(getattr(self, f"weekday_{d}")) for d in range(7)}


class ExceptionIn(InputModel):
    """One date exception: closed all day (no times) or special hours (both times).

    `kind` may be left out: times given mean special hours.
    """

    day: date
    kind: Literal["closed", "special"] | None = None
    start: time | None = None
    end: time | None = None
    note: Annotated[str, StringConstraints(max_length=100)] = ""

    @model_validator(mode="after")
    def _times_match_kind(self) -> ExceptionIn:
        special = self.kind == "special" or self.start is not None or self.end is not None
        if special and (self.start is None or self.end is None):
            raise fail("end" if self.end is None else "start",
                       _l("Special hours need a start and an end time."))
        if special and self.start == self.end:
            raise fail("end", SAME_ENDS)
        return self


class DeviceIn(InputModel):
    """A new device: its name and, optionally, the one station it records at."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=80), Say(
        _l("Please enter the device's name."),
        {"string_too_long": _l("At most 80 characters.")})]
    station_id: int | None = None


class RegradeIn(InputModel):
    """A drop's new quality and the reason for the change (required: the household sees it).

    A regrade to incorrect names the mis-drop reason too (`reason_code`, one of the
    community's: the household is shown how to sort it right), unless the drop still carries
    the steward's (`stations.services.regrade_drop` decides, knowing the drop)."""

    quality: QualityCode
    reason: Annotated[str, StringConstraints(min_length=1, max_length=200), Say(
        _l("Please give the reason for the change: the household is told it."),
        {"string_too_long": _l("At most 200 characters.")})]
    reason_code: ReasonCode | None = None


class ReasonTextsIn(InputModel):
    """A mis-drop reason's words in both languages (its code never changes)."""

    label_zh: Annotated[str, StringConstraints(min_length=1, max_length=40), Say(
        _l("Please enter the Chinese label (at most 40 characters)."))]
    label_en: Annotated[str, StringConstraints(max_length=60), Say(
        _l("At most 60 characters."))] = ""
    howto_zh: Annotated[str, StringConstraints(max_length=500), Say(
        _l("At most 500 characters."))] = ""
    howto_en: Annotated[str, StringConstraints(max_length=800), Say(
        _l("At most 800 characters."))] = ""
