"""Stations (投放点), their weekly windows and date exceptions, devices, drops and regrades.

`drop` is the hot, huge table (billions of rows a year): narrow columns, a unique
client id for idempotent uploads, and `local_date` stored so day buckets never need
SQL date() on UTC.

A drop's client id is stored in one of two columns (exactly one is set): `client_uuid`
(PostgreSQL `uuid`, 16 bytes) when the id is a UUID in its canonical text (lowercase hex
with hyphens, what the phones' `crypto.randomUUID()` sends), `client_text` for any other
id the API accepts (8–64 characters), including a UUID written in capitals or without
hyphens: its exact text is what the client sent and what every answer and page shows, so
it is kept as text (`split_client_id`). Lookups by client id go through
`client_id_matches`, which names the right column; `Drop.client_id` gives the text back.
Category, quality and source are stored as SMALLINT codes (`community.types.Coded`,
numbers fixed in `CATEGORY_CODE`, `QUALITY_CODE`, `SOURCE_CODE`); Python sees the strings.

On PostgreSQL `drop_record` is partitioned by month of `local_date` (`community.partitions`,
migration b7d3f19a0c62): its primary key is (id, local_date), and the foreign keys that
other tables declare on `drop_record.id` here (`drop_regrade`, `drop_appeal`) exist on
SQLite only, since PostgreSQL cannot reference a partitioned table by id alone. They hold
anyway: drops are never deleted (an undo keeps the row), and a regrade or an appeal is
written by the service that has just read the drop, in the same transaction.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ColumnElement,
    Index,
    Integer,
    SmallInteger,
    UniqueConstraint,
    Uuid,
    false,
    or_,
    text,
)
from sqlmodel import Field, SQLModel

from community import clock
from community.stations.schemas import Category, Quality, Source, StationStatus
from community.types import Coded, UTCDateTime
from community.waste import CATEGORY_CODE, QUALITY_CODE

# The codes as plain strings, in the enums' (canonical) order.
CATEGORIES: tuple[str, ...] = tuple(c.value for c in Category)
QUALITIES: tuple[str, ...] = tuple(q.value for q in Quality)
SOURCES: tuple[str, ...] = tuple(s.value for s in Source)
STATION_STATUSES: tuple[str, ...] = tuple(s.value for s in StationStatus)
# The stored numbers of a drop's source: fixed forever, as the category's and quality's
# (`waste.CATEGORY_CODE`, `waste.QUALITY_CODE`); tests/stations/test_client_ids.py keeps them
# equal to the enums. Raw SQL on drop_record compares these numbers, never the strings.
SOURCE_CODE = Coded({"scan": 1, "manual": 2, "device": 3, "tally": 4})
# The scored incorrect drops (quality 2), the rows of the strikes index.
STRIKES = "quality = 2 AND repeat_of IS NULL AND voided_at IS NULL"
# SQLite only autoincrements INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit identity.
BigId = BigInteger().with_variant(Integer, "sqlite")


class Station(SQLModel, table=True):
    """A drop station (投放点/投放亭) of one community."""

    __tablename__ = "station"
    __table_args__ = (
        UniqueConstraint("community_id", "name", name="uq_station_name"),
        CheckConstraint("grace_minutes >= 0 AND grace_minutes <= 120", name="ck_station_grace"),
        CheckConstraint("status IN ('open', 'suspended')", name="ck_station_status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="area.id", index=True)
    name: str = Field(max_length=80)
    location: str = Field(default="", max_length=200)
    latitude: float | None = None
    longitude: float | None = None
    # Comma-separated category codes of the bins at this station.
    categories: str = Field(default=",".join(CATEGORIES), max_length=64)
    chief_id: int | None = Field(default=None, foreign_key="account.id")
    status: str = Field(default="open", max_length=10)
    grace_minutes: int = Field(default=10)
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime())

    def category_list(self) -> list[str]:
        """The accepted categories as a list, in the canonical order."""
        accepted = set(self.categories.split(","))
        return [c for c in CATEGORIES if c in accepted]


class StationWindow(SQLModel, table=True):
    """One weekly time range (weekday 0 = Monday); an end not after the start runs past midnight.

    A copy of the newest `ScheduleVersion`'s ranges, for the pages; the scan path and the
    rollups read the version in force on each day.
    """

    __tablename__ = "station_window"
    __table_args__ = (CheckConstraint("weekday >= 0 AND weekday <= 6", name="ck_window_weekday"),)

    id: int | None = Field(default=None, primary_key=True)
    station_id: int = Field(foreign_key="station.id", ondelete="CASCADE", index=True)
    weekday: int
    start_time: time
    end_time: time


class ScheduleVersion(SQLModel, table=True):
    """A station's weekly schedule and grace minutes in force from a local date on.

    The version in force on a day is the one with the latest `effective_from` not after it;
    its ranges are `ScheduleRange` rows. A station's first version is effective from its
    creation day. Versions are never effective from a past day (the manager's editor refuses
    it), so the days already lived keep the schedule that was in force then; two edits
    effective the same day replace that day's version (unique per station and day).
    `StationWindow` and `Station.grace_minutes` keep a copy of the newest version for the
    pages that show "the schedule".
    """

    __tablename__ = "schedule_version"
    __table_args__ = (
        UniqueConstraint("station_id", "effective_from", name="uq_schedule_version_day"),
        CheckConstraint("grace_minutes >= 0 AND grace_minutes <= 120",
                        name="ck_schedule_version_grace"),
    )

    id: int | None = Field(default=None, primary_key=True)
    station_id: int = Field(foreign_key="station.id", ondelete="CASCADE")
    effective_from: date
    grace_minutes: int
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime())
    created_by: int | None = Field(default=None, foreign_key="account.id")


class ScheduleRange(SQLModel, table=True):
    """One weekly time range of a schedule version (weekday 0 = Monday); an end not after
    the start runs past midnight."""

    __tablename__ = "schedule_range"
    __table_args__ = (CheckConstraint("weekday >= 0 AND weekday <= 6",
                                      name="ck_schedule_range_weekday"),)

    id: int | None = Field(default=None, primary_key=True)
    version_id: int = Field(foreign_key="schedule_version.id", ondelete="CASCADE", index=True)
    weekday: int
    start_time: time
    end_time: time


class StationStatusEvent(SQLModel, table=True):
    """A station opened (its creation, a reopening) or suspended, from a moment on.

    The status in force at a moment is the latest event not after it; before its first event
    a station did not exist. The creation event takes effect at the local start of the
    station's creation day (a station exists from its creation day); a suspension or a
    reopening takes effect when it is made. `Station.status` keeps the current value.
    """

    __tablename__ = "station_status_event"
    __table_args__ = (
        Index("ix_station_status_event_station_at", "station_id", "effective_at"),
        CheckConstraint("status IN ('open', 'suspended')", name="ck_station_status_event"),
    )

    id: int | None = Field(default=None, primary_key=True)
    station_id: int = Field(foreign_key="station.id", ondelete="CASCADE")
    effective_at: datetime = Field(sa_type=UTCDateTime())
    status: str = Field(max_length=10)
    created_by: int | None = Field(default=None, foreign_key="account.id")


class StationException(SQLModel, table=True):
    """A date with special hours; a row without times closes the station that day."""

    __tablename__ = "station_exception"
    __table_args__ = (Index("ix_station_exception_station_day", "station_id", "day"),)

    id: int | None = Field(default=None, primary_key=True)
    station_id: int = Field(foreign_key="station.id", ondelete="CASCADE")
    day: date
    start_time: time | None = None
    end_time: time | None = None
    note: str = Field(default="", max_length=100)


class Device(SQLModel, table=True):
    """A kiosk, smart bin or scale that posts drops with a bearer token (stored hashed)."""

    __tablename__ = "device"

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="area.id", index=True)
    station_id: int | None = Field(default=None, foreign_key="station.id")
    name: str = Field(max_length=80)
    token_hash: str = Field(max_length=64, unique=True)
    created_by: int | None = Field(default=None, foreign_key="account.id")
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime())
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    last_seen_at: datetime | None = Field(default=None, sa_type=UTCDateTime())


class _instance_only(property):  # noqa: N801 - used as a decorator, like property
    """A property of instances only: on the class it raises instead of handing back the
    property object, so `Drop.client_id == x` in a query fails loudly rather than comparing
    a Python object (always false, the query silently finding nothing)."""

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            raise AttributeError(f"{getattr(self.fget, '__name__', '?')} is not a column: "
                                 "match client ids with client_id_matches()")
        return super().__get__(obj, owner)


class Drop(SQLModel, table=True):
    """One household (or an anonymous tally) putting one category into a station's bin."""

    __tablename__ = "drop_record"  # "drop" is an SQL keyword
    __table_args__ = (
        Index("ix_drop_record_community_day", "community_id", "local_date"),
        Index("ix_drop_record_station_happened", "station_id", "happened_at"),
        Index("ix_drop_record_household_happened", "household_id", "happened_at"),
        # The strikes of the window before a changed day (points `_read_facts`): incorrect
        # drops that are scored (not repeats, not voided): index-only on PostgreSQL.
        Index("ix_drop_record_strikes", "household_id", "local_date", "happened_at", "id",
              postgresql_where=text(STRIKES), sqlite_where=text(STRIKES)),
        CheckConstraint("weight_kg IS NULL OR (weight_kg > 0 AND weight_kg <= 50)",
                        name="ck_drop_weight"),
        CheckConstraint(QUALITY_CODE.check("quality"), name="ck_drop_quality"),
        CheckConstraint(CATEGORY_CODE.check("category"), name="ck_drop_category"),
        CheckConstraint(SOURCE_CODE.check("source"), name="ck_drop_source"),
        CheckConstraint("(client_uuid IS NULL) <> (client_text IS NULL)",
                        name="ck_drop_client_id"),
        # A replay is recognised within the station's community (the distribution column)
        # and its local day: a replay carries the same device time, so the same day, and a
        # unique key of a table partitioned by month must hold the partition column
        # (`community.partitions`). Client ids are thereby unique per day; uploads older
        # than 30 days are refused (`services.MAX_AGE`), so a replay lookup needs only
        # the partitions of the last two months. One key per column (NULLs never
        # collide); the text ids are few, so theirs indexes only the rows that have one.
        UniqueConstraint("community_id", "client_uuid", "local_date",
                         name="uq_drop_record_client_uuid"),
        Index("uq_drop_record_client_text", "community_id", "client_text", "local_date",
              unique=True, postgresql_where=text("client_text IS NOT NULL"),
              sqlite_where=text("client_text IS NOT NULL")),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId,
                           sa_column_kwargs={"autoincrement": True})
    # Made by the client; a retried or re-synced upload carries the same id and is stored
    # once. Exactly one of the two is set (`split_client_id`; `client_id` reads it back).
    client_text: str | None = Field(default=None, max_length=64)
    station_id: int = Field(foreign_key="station.id")
    community_id: int = Field(foreign_key="area.id")
    category: str = Field(sa_type=CATEGORY_CODE)
    quality: str = Field(sa_type=QUALITY_CODE)
    source: str = Field(sa_type=SOURCE_CODE)
    household_id: int | None = Field(default=None, foreign_key="household.id")
    card_id: int | None = Field(default=None, foreign_key="card.id")
    recorded_by: int | None = Field(default=None, foreign_key="account.id")
    device_id: int | None = Field(default=None, foreign_key="device.id")
    happened_at: datetime = Field(sa_type=UTCDateTime())
    received_at: datetime = Field(sa_type=UTCDateTime())
    local_date: date
    in_window: bool
    weight_kg: Decimal | None = Field(default=None, max_digits=6, decimal_places=3)
    note: str | None = Field(default=None, max_length=200)
    photo: str | None = Field(default=None, max_length=200)
    # Why an incorrect verdict (a `MisdropReason.code`; codes are stable, labels editable).
    reason_code: str | None = Field(default=None, max_length=32)
    # A second drop of the same household and category within the duplicate window that the
    # steward confirmed ("record again?"): stored and counted, but never scored (DOMAIN.md).
    repeat_of: int | None = Field(default=None, sa_type=BigId)
    # A steward's undo of their own scan (within 5 minutes): the row is kept, its points are
    # reversed, and metrics and rollups leave it out.
    voided_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    voided_by: int | None = Field(default=None, foreign_key="account.id")
    client_uuid: UUID | None = Field(default=None, sa_type=Uuid)
    # The points its first scoring credited (its earn under the day's cap; 0 when it earned
    # nothing), set by points in the transaction that stores the drop and never changed
    # after: a later correction of it is a ledger entry naming the drop (`points.facts`).
    points: int = Field(default=0, sa_type=SmallInteger,
                        sa_column_kwargs={"server_default": "0"})

    @_instance_only
    def client_id(self) -> str:
        """The client id exactly as the client sent it (of a loaded drop; in SQL, match
        with `client_id_matches`)."""
        return client_id_of(self.client_uuid, self.client_text)


def split_client_id(client_id: str) -> tuple[UUID | None, str | None]:
    """(uuid, None) for a UUID in canonical text (lowercase, hyphenated: it reads back
    the same), else (None, the text as sent): "3F2504E0-4F89-…" in capitals stays text, so
    the client gets back exactly what it sent."""
    if len(client_id) == 36:
        try:
            got = UUID(client_id)
        except ValueError:
            return None, client_id
        if str(got) == client_id:
            return got, None
    return None, client_id


def client_columns(client_id: str) -> dict[str, Any]:
    """The drop's client id columns, for a row to insert: `Drop(**client_columns(x), …)`."""
    u, t = split_client_id(client_id)
    return {"client_uuid": u, "client_text": t}


def client_id_of(client_uuid: UUID | None, client_text: str | None) -> str:
    """A stored drop's client id text (from its two columns; one is set)."""
    if client_uuid is not None:
        return str(client_uuid)
    if client_text is None:
        raise ValueError("a drop without a client id")
    return client_text


def client_id_matches(client_ids: Iterable[str], table: Any = None) -> ColumnElement[bool]:
    """Drops (of `table`, default the model's) whose client id is one of `client_ids`,
    each on its own column (and index)."""
    c = table.c if table is not None else Drop.__table__.c  # type: ignore[attr-defined]
    uuids: list[UUID] = []
    texts: list[str] = []
    for cid in client_ids:
        u, t = split_client_id(cid)
        if u is not None:
            uuids.append(u)
        else:
            texts.append(t)  # type: ignore[arg-type]
    conds = ([c.client_uuid == uuids[0] if len(uuids) == 1 else c.client_uuid.in_(uuids)]
             if uuids else []) + (
        [c.client_text == texts[0] if len(texts) == 1 else c.client_text.in_(texts)]
        if texts else [])
    return or_(*conds) if conds else false()


class MisdropReason(SQLModel, table=True):
    """One reason an incorrect verdict may carry (错误原因), with its how-to-sort-it-right text.

    `community_id` NULL: a city-wide default every community sees; otherwise a community's
    own reason, added by its manager. `code` is stable (drops store it); the labels and texts
    may be edited. An inactive reason is no longer offered but still names old drops.
    """

    __tablename__ = "misdrop_reason"
    __table_args__ = (
        UniqueConstraint("community_id", "code", name="uq_misdrop_reason_code"),
        # NULLs are distinct in a UNIQUE constraint: the city-wide codes get their own index.
        Index("uq_misdrop_reason_default_code", "code", unique=True,
              postgresql_where=text("community_id IS NULL"),
              sqlite_where=text("community_id IS NULL")),
    )

    id: int | None = Field(default=None, primary_key=True)
    community_id: int | None = Field(default=None, foreign_key="area.id", index=True)
    code: str = Field(max_length=32)
    label_zh: str = Field(max_length=40)
    label_en: str = Field(max_length=60)
    howto_zh: str = Field(default="", max_length=500)
    howto_en: str = Field(default="", max_length=800)
    # The "other" reason: the steward must say what in the note.
    needs_note: bool = Field(default=False)
    active: bool = Field(default=True)
    position: int = Field(default=0)
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime())
    created_by: int | None = Field(default=None, foreign_key="account.id")


class ScanSetting(SQLModel, table=True):
    """A community's scan-page settings, set by its manager (no row: the defaults)."""

    __tablename__ = "scan_setting"
    __table_args__ = (
        CheckConstraint("default_quality IN ('correct', 'ungraded')",
                        name="ck_scan_setting_quality"),
    )

    community_id: int = Field(foreign_key="area.id", primary_key=True)
    # The quality the scan page returns to after every scan.
    default_quality: str = Field(default="correct", max_length=10)
    updated_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime())
    updated_by: int | None = Field(default=None, foreign_key="account.id")


class DropRegrade(SQLModel, table=True):
    """History of a drop's quality: who changed it, when, from what to what, and why."""

    __tablename__ = "drop_regrade"

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="area.id")  # the drop's
    drop_id: int = Field(foreign_key="drop_record.id", index=True, sa_type=BigId)
    from_quality: str = Field(max_length=10)
    to_quality: str = Field(max_length=10)
    actor_id: int | None = Field(default=None, foreign_key="account.id")
    at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime())
    reason: str = Field(default="", max_length=200)
