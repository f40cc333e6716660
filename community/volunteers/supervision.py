"""Supervision logs (督导记录): what a steward saw and did during a shift, and the drops they
scanned then.

One log per assignment, written by its steward from check-in on and editable until the
manager approves the shift's hours. Counts are non-negative whole numbers; incidents are
counted per code (`models.INCIDENTS`); photos are checked and cleaned by `community.images`
and stored under the folder the caller passes (<UPLOAD_DIR or instance>/supervision), named
by community, assignment and content hash.

"Drops linked to a shift" are a query, not a column on the hot drop table: the drops the
steward's account recorded at the shift's station between check-in and check-out.
"""
from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TypedDict
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from community import clock
from community.areas.models import Area
from community.auth import policy
from community.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from community.households import services as households_services
from community.households.models import Household
from community.images import clean_photo, write_atomic
from community.rows import pk
from community.stations.models import Drop, Station
from community.volunteers.checkins import CHECK_OUT_LATE
from community.volunteers.models import INCIDENTS, Shift, ShiftAssignment, Steward, SupervisionLog

MAX_PHOTOS = 6
MAX_COUNT = 10_000
MAX_NOTE = 1000
LINKED_DROPS_SHOWN = 50


class LogLocked(Conflict):
    """The manager approved the hours: the log is part of the record now."""

    code, message = "log_locked", _l(
        "The hours of this shift are approved, so its log can no longer be changed.")


class LogNotOpen(DomainError):
    """No log before the steward is checked in (or after a no-show / cancellation)."""

    code, status, message = "log_not_open", 409, _l(
        "The log opens when you check in to the shift.")


class TooManyPhotos(InvalidInput):
    """A log keeps a handful of photos, not an album."""

    code, message = "too_many_photos", _l("A log holds at most 6 photos.")


@dataclass
class LogInput:
    """The log form's fields (counts may be None when left empty: read as 0)."""

    residents_guided: int | None = 0
    drops_corrected: int | None = 0
    incidents: Mapping[str, int | None] = field(default_factory=dict)
    note: str = ""
    remove_photos: Sequence[str] = ()


@dataclass
class LinkedDrop:
    """One drop the steward recorded during the shift."""

    id: int
    happened_at: datetime
    category: str
    quality: str
    source: str
    address: str | None


@dataclass
class LinkedDrops:
    """How many drops the steward recorded during the shift, and the latest of them."""

    count: int
    rows: list[LinkedDrop]


@dataclass
class LogContext:
    """An assignment with everything the log pages need to authorize and show it."""

    assignment: ShiftAssignment
    shift: Shift
    steward: Steward
    station: Station
    community: Area
    log: SupervisionLog | None

    def local(self, moment: datetime | None) -> datetime | None:
        """A stored UTC moment in the community's local time."""
        return moment.astimezone(ZoneInfo(self.community.timezone)) if moment else None


@dataclass
class LogPage:
    """The log page: the context, the linked drops and whether the actor may edit."""

    ctx: LogContext
    drops: LinkedDrops
    own: bool
    editable: bool


class _LogValues(TypedDict):
    """The columns a save writes."""

    residents_guided: int
    drops_corrected: int
    incidents: dict[str, int]
    note: str
    photos: list[str]
    updated_at: datetime


@dataclass
class SavedLog:
    """The saved log and the photo paths it no longer lists (the caller deletes the files)."""

    log: SupervisionLog
    removed: list[str]


def _context(session: Session, assignment_id: int) -> LogContext:
    row = session.execute(
        select(ShiftAssignment, Shift, Steward, Station, Area)
        .join(Shift, col(Shift.id) == ShiftAssignment.shift_id)
        .join(Steward, col(Steward.id) == ShiftAssignment.steward_id)
        .join(Station, col(Station.id) == Shift.station_id)
        .join(Area, col(Area.id) == Shift.community_id)
        .where(col(ShiftAssignment.id) == assignment_id)).first()
    if row is None:
        raise NotFound()
    log = session.execute(select(SupervisionLog).where(
        col(SupervisionLog.assignment_id) == assignment_id)
        .execution_options(populate_existing=True)).scalar_one_or_none()
    assignment, shift, steward, station, community = row
    return LogContext(assignment, shift, steward, station, community, log)


def _own(actor: policy.Actor, ctx: LogContext) -> bool:
    return actor.account_id is not None and ctx.steward.account_id == actor.account_id


def _may_read(actor: policy.Actor, ctx: LogContext) -> bool:
    """The steward, the community's chiefs and managers (steward:read)."""
    return _own(actor, ctx) or policy.allowed(actor, "steward:read", ctx.community)


def _editable(ctx: LogContext) -> bool:
    a = ctx.assignment
    return (a.checked_in_at is not None and a.status in ("signed_up", "done")
            and a.hours_status != "approved")


def linked_drops(session: Session, *, assignment: ShiftAssignment, shift: Shift,
                 account_id: int, now: datetime | None = None,
                 limit: int = LINKED_DROPS_SHOWN) -> LinkedDrops:
    """Drops `account_id` recorded at the shift's station between check-in and check-out.

    Before check-out the period runs to now (at most 15 minutes past the shift's end).
    Uses the (station_id, happened_at) index of the drop table.
    """
    if assignment.checked_in_at is None:
        return LinkedDrops(0, [])
    until = assignment.checked_out_at or min(now or clock.now(), shift.ends_at + CHECK_OUT_LATE)
    conds = (col(Drop.station_id) == shift.station_id,
             col(Drop.happened_at) >= assignment.checked_in_at,
             col(Drop.happened_at) <= until,
             col(Drop.recorded_by) == account_id)
    count = session.execute(select(func.count()).select_from(Drop).where(*conds)).scalar_one()
    rows = session.execute(
        select(col(Drop.id), col(Drop.happened_at), col(Drop.category), col(Drop.quality),
               col(Drop.source), col(Household.building), col(Household.unit),
               col(Household.room))
        .outerjoin(Household, col(Household.id) == Drop.household_id)
        .where(*conds).order_by(col(Drop.happened_at).desc(), col(Drop.id).desc())
        .limit(limit)).all()
    return LinkedDrops(int(count), [
        LinkedDrop(r.id, r.happened_at, r.category, r.quality, r.source,
                   households_services.format_address(r.building, r.unit, r.room)
                   if r.building is not None else None)
        for r in rows])


def log_page(session: Session, *, actor: policy.Actor, assignment_id: int,
             now: datetime | None = None) -> LogPage:
    """A shift's log as its steward (editable) or the community's chiefs/managers see it."""
    ctx = _context(session, assignment_id)
    if not _may_read(actor, ctx):
        raise Forbidden(action="steward:read")
    own = _own(actor, ctx)
    drops = linked_drops(session, assignment=ctx.assignment, shift=ctx.shift,
                         account_id=ctx.steward.account_id, now=now)
    return LogPage(ctx, drops, own, own and _editable(ctx))


def _count(value: int | None, name: str, top: int = MAX_COUNT) -> int:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= top:
        raise InvalidInput(field=name)
    return value


def clean_input(data: LogInput) -> tuple[int, int, dict[str, int], str]:
    """Validated (residents guided, drops corrected, incidents with a count, note)."""
    guided = _count(data.residents_guided, "residents_guided")
    corrected = _count(data.drops_corrected, "drops_corrected")
    unknown = set(data.incidents) - set(INCIDENTS)
    if unknown:
        raise InvalidInput(field="incidents")
    incidents = {code: n for code in INCIDENTS
                 if (n := _count(data.incidents.get(code), f"incident_{code}", 1000))}
    note = (data.note or "").strip()
    if len(note) > MAX_NOTE:
        raise InvalidInput(field="note")
    return guided, corrected, incidents, note


def save_log(session: Session, *, actor: policy.Actor, assignment_id: int, data: LogInput,
             photos: Sequence[bytes] = (), photo_dir: Path,
             now: datetime | None = None) -> SavedLog:
    """Create or update the steward's log of a shift, adding photos (flushes).

    Everything is checked (counts, note, every photo, the photo limit) before any file or row
    is written; a refusal leaves the log and the folder as they were.
    """
    ctx = _context(session, assignment_id)
    if not _own(actor, ctx):
        raise Forbidden(action="shift:log")
    if ctx.assignment.hours_status == "approved":
        raise LogLocked()
    if not _editable(ctx):
        raise LogNotOpen()
    guided, corrected, incidents, note = clean_input(data)
    kept = list(ctx.log.photos) if ctx.log else []
    removed = [p for p in kept if p.rsplit("/", 1)[-1] in set(data.remove_photos)]
    kept = [p for p in kept if p not in removed]
    cleaned = [clean_photo(raw) for raw in photos if raw]
    prefix = f"{ctx.community.id}/{ctx.assignment.id}-"
    new_files: dict[str, bytes] = {}
    for content, ext in cleaned:
        relative = f"{prefix}{hashlib.sha256(content).hexdigest()[:16]}.{ext}"
        if relative not in kept:
            new_files.setdefault(relative, content)
    if len(kept) + len(new_files) > MAX_PHOTOS:
        raise TooManyPhotos(field="photos")
    for relative, content in new_files.items():
        write_atomic(photo_dir / relative, content)
    now = now or clock.now()
    values: _LogValues = {"residents_guided": guided, "drops_corrected": corrected,
                          "incidents": incidents, "note": note,
                          "photos": kept + list(new_files), "updated_at": now}
    log = ctx.log
    if log is None:
        try:
            with session.begin_nested():
                log = SupervisionLog(assignment_id=pk(ctx.assignment), created_at=now, **values)
                session.add(log)
        except IntegrityError:
            # A second tab saved the first version at the same moment: update that one.
            log = _context(session, assignment_id).log
            if log is None:
                raise
    if log.id is not None:
        for name, value in values.items():
            setattr(log, name, value)
    session.flush()
    return SavedLog(log, removed)


def log_photo(session: Session, *, actor: policy.Actor, assignment_id: int, name: str) -> str:
    """The stored path of one photo of a log, for those who may read the log."""
    ctx = _context(session, assignment_id)
    if not _may_read(actor, ctx):
        raise Forbidden(action="steward:read")
    for path in ctx.log.photos if ctx.log else []:
        if path.rsplit("/", 1)[-1] == name:
            return path
    raise NotFound()
