"""Check-in and check-out at the station, the chief's hand confirmation, and the steward's
supervision log (督导记录) of a shift: the write use cases of the check-in pages.

A steward proves presence by scanning the station's rotating code (`codes`), or by typing
its 8 digits; the station chief or a manager may confirm presence by hand instead. The
service finds the steward's assignment on a shift of THAT station whose time contains now
(check-in opens 30 minutes before the start and closes at the end; check-out is accepted
until 15 minutes after the end: `rules`). Every refusal raises before anything is written,
and the writes are conditional UPDATEs, so a double tap or a race with the end-of-shift job
changes a row once.

One log per assignment, written by its steward from check-in on and editable until the
manager approves the shift's hours. Its fields and their rules are `schemas.LogIn`; photos
are checked and cleaned by `community.images`
and stored under the folder the caller passes (<UPLOAD_DIR or instance>/supervision), named
by community, assignment and content hash.

The code key and the photo folder are passed in by the caller (derived from the app's
configuration): services never read configuration.
"""
from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TypedDict

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from community import clock
from community.audit import services as audit
from community.auth import policy
from community.dirty import services as dirty
from community.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    NotFound,
    OwnDecision,
)
from community.images import clean_photo, write_atomic
from community.rows import pk
from community.volunteers.checkins import codes
from community.volunteers.checkins.queries import (
    ShiftRow,
    check_in_open,
    check_out_open,
    log_context,
    log_editable,
    owns_log,
    station_for,
)
from community.volunteers.checkins.rules import CHECK_IN_EARLY, minutes_between
from community.volunteers.checkins.schemas import LogIn
from community.volunteers.models import Shift, ShiftAssignment, Steward, SupervisionLog

MAX_PHOTOS = 6


class CodeMalformed(DomainError):
    """The text is neither a station QR code nor 8 digits."""

    code, status, message = "station_code_malformed", 422, _l(
        "This is not a station code. Scan the QR code on the station's screen, or type its "
        "8 digits.")


class CodeExpired(DomainError):
    """A real code of the station, but older than its step plus one step of tolerance."""

    code, status, message = "station_code_expired", 409, _l(
        "This station code has expired. Scan the code on the station's screen again.")


class CodeWrong(DomainError):
    """Digits that are not the station's code (a typo, or a forged code)."""

    code, status, message = "station_code_wrong", 422, _l(
        "This code does not match the station's code. Check the 8 digits and try again.")


class CodeForeign(DomainError):
    """A valid code of a station where the steward has no shift now (but has one elsewhere)."""

    code, status, message = "station_code_foreign", 409, _l(
        "This code belongs to another station. Check in with the code of your shift's station.")


class NoShiftNow(DomainError):
    """No assignment of the steward at that station is open for check-in now."""

    code, status, message = "no_shift_now", 409, _l(
        "You have no shift at this station now. Check-in opens 30 minutes before your shift "
        "starts and closes when it ends.")


class AlreadyCheckedIn(DomainError):
    """The assignment is already checked in."""

    code, status, message = "already_checked_in", 409, _l(
        "You are already checked in for this shift.")


class NotCheckedIn(DomainError):
    """Check-out without an open check-in at that station."""

    code, status, message = "not_checked_in", 409, _l(
        "You are not checked in for a shift at this station now, so there is nothing to check "
        "out of.")


class ShiftClosed(DomainError):
    """The end-of-shift job (or a check-out) already closed the assignment."""

    code, status, message = "shift_closed", 409, _l(
        "This shift is already closed: the check-out was recorded (automatically at the "
        "shift's end if nobody checked out).")


class ConfirmNotNow(DomainError):
    """A chief may confirm presence only while check-in is open for the shift."""

    code, status, message = "confirm_not_now", 409, _l(
        "Presence can only be confirmed from 30 minutes before the shift starts until it ends.")


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


_REFUSALS: dict[str, type[DomainError]] = {
    codes.MALFORMED: CodeMalformed,
    codes.EXPIRED: CodeExpired,
    codes.WRONG: CodeWrong,
    codes.OTHER_STATION: CodeForeign,
}
CODE_REFUSALS = (CodeMalformed, CodeExpired, CodeWrong, CodeForeign, NoShiftNow,
                 AlreadyCheckedIn, NotCheckedIn, ShiftClosed)


# --- Check-in, check-out and the chief's confirmation -------------------------------------

def _now(now: datetime | None) -> datetime:
    return now or clock.now()


def _resolve(key: bytes, text: str, now: datetime, candidates: list[ShiftRow],
             none: type[DomainError] = NoShiftNow) -> ShiftRow:
    """The candidate whose station the code proves; raise the clearest refusal otherwise
    (`none` when the steward has no candidate at that station or at all)."""
    parsed = codes.parse(text)
    if parsed is None:
        raise CodeMalformed(field="code")
    if parsed.station_id is None:
        # Typed digits: try the stations of the steward's open shifts (usually one).
        reasons = []
        for station_id in dict.fromkeys(r.shift.station_id for r in candidates):
            verdict = codes.verify(key, text, now, station_id=station_id)
            if verdict.ok:
                return next(r for r in candidates if r.shift.station_id == station_id)
            reasons.append(verdict.reason)
        if not candidates:
            raise NoShiftNow(field="code")
        raise (CodeExpired if codes.EXPIRED in reasons else CodeWrong)(field="code")
    verdict = codes.verify(key, text, now)
    if not verdict.ok:
        raise _REFUSALS[verdict.reason or codes.WRONG](field="code")
    here = [r for r in candidates if r.shift.station_id == verdict.station_id]
    if here:
        return here[0]
    raise (CodeForeign if candidates else none)(field="code")


def check_in(session: Session, *, actor: policy.Actor, key: bytes, text: str,
             now: datetime | None = None) -> ShiftRow:
    """Check the acting steward in on their shift at the station the code proves (flushes)."""
    now = _now(now)
    candidates = check_in_open(session, actor.account_id, now)
    pending = [r for r in candidates if r.assignment.checked_in_at is None]
    try:
        row = _resolve(key, text, now, pending)
    except (NoShiftNow, CodeForeign):
        # Already checked in at the station the code names? Say so rather than "no shift".
        parsed = codes.parse(text)
        done = [r for r in candidates if r.assignment.checked_in_at is not None
                and (parsed is None or parsed.station_id in (None, r.shift.station_id))]
        if done and codes.verify(key, text, now, station_id=done[0].shift.station_id).ok:
            raise AlreadyCheckedIn(field="code") from None
        raise
    changed = session.exec(
        update(ShiftAssignment)
        .where(col(ShiftAssignment.id) == row.assignment.id,
               col(ShiftAssignment.status) == "signed_up",
               col(ShiftAssignment.checked_in_at).is_(None))
        .values(checked_in_at=now, check_in_method="code")
        .execution_options(synchronize_session=False))
    if not changed.rowcount:
        raise AlreadyCheckedIn(field="code")
    _presence_changed(session, row.shift, now)
    return _reload(session, row)


def check_out(session: Session, *, actor: policy.Actor, key: bytes, text: str,
              now: datetime | None = None) -> ShiftRow:
    """Check the acting steward out of their checked-in shift at the code's station (flushes).

    Records the minutes and marks the assignment done with hours pending approval.
    """
    now = _now(now)
    row = _resolve(key, text, now, check_out_open(session, actor.account_id, now),
                   NotCheckedIn)
    checked_in = row.assignment.checked_in_at or now  # never None: check_out_open wants it
    changed = session.exec(
        update(ShiftAssignment)
        .where(col(ShiftAssignment.id) == row.assignment.id,
               col(ShiftAssignment.status) == "signed_up",
               col(ShiftAssignment.checked_out_at).is_(None))
        .values(checked_out_at=now, check_out_method="code", status="done",
                minutes=minutes_between(checked_in, now),
                hours_status="pending")
        .execution_options(synchronize_session=False))
    if not changed.rowcount:
        raise ShiftClosed(field="code")
    _presence_changed(session, row.shift, now)
    return _reload(session, row)


def _presence_changed(session: Session, shift: Shift, now: datetime) -> None:
    """Steward coverage of the shift's day changed: mark it dirty for the rollups."""
    dirty.mark(session, "presence", {(shift.community_id, shift.local_date): 1}, now=now)


def _reload(session: Session, row: ShiftRow) -> ShiftRow:
    session.flush()
    fresh = session.execute(select(ShiftAssignment).where(
        col(ShiftAssignment.id) == row.assignment.id)
        .execution_options(populate_existing=True)).scalar_one()
    return ShiftRow(fresh, row.shift, row.station_name, row.tz)


def confirm_presence(session: Session, *, actor: policy.Actor, assignment_id: int,
                     now: datetime | None = None, ip: str | None = None) -> ShiftRow:
    """The chief (or a manager) confirms by hand that a steward is at the station (flushes).

    Never their own presence (separation of duties): they scan the station's code like
    anyone else, or another chief or the manager confirms them."""
    now = _now(now)
    assignment = session.get(ShiftAssignment, assignment_id)
    if assignment is None:
        raise NotFound()
    shift = session.get(Shift, assignment.shift_id)
    if shift is None:
        raise NotFound()
    station, area = station_for(session, actor=actor, station_id=shift.station_id)
    steward_account = session.execute(select(col(Steward.account_id)).where(
        col(Steward.id) == assignment.steward_id)).scalar_one()
    if steward_account == actor.account_id:
        raise OwnDecision()  # a chief on a shift of their own station checks in by the code
    if assignment.status != "signed_up" or shift.status != "open":
        raise ShiftClosed()
    if assignment.checked_in_at is not None:
        raise AlreadyCheckedIn(message=_l("This steward is already checked in."))
    if not shift.starts_at - CHECK_IN_EARLY <= now <= shift.ends_at:
        raise ConfirmNotNow()
    changed = session.exec(
        update(ShiftAssignment)
        .where(col(ShiftAssignment.id) == assignment.id,
               col(ShiftAssignment.status) == "signed_up",
               col(ShiftAssignment.checked_in_at).is_(None))
        .values(checked_in_at=now, check_in_method="chief", confirmed_by=actor.account_id)
        .execution_options(synchronize_session=False))
    if not changed.rowcount:
        raise AlreadyCheckedIn(message=_l("This steward is already checked in."))
    _presence_changed(session, shift, now)
    audit.record(session, actor_id=actor.account_id, action="shift.confirm_presence", area=area,
                 target_type="shift_assignment", target_id=assignment.id, ip=ip,
                 shift_id=shift.id, station_id=station.id)
    return _reload(session, ShiftRow(assignment, shift, station.name, area.timezone))


# --- Supervision logs --------------------------------------------------------------------

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


def save_log(session: Session, *, actor: policy.Actor, assignment_id: int, data: LogIn,
             photos: Sequence[bytes] = (), photo_dir: Path,
             now: datetime | None = None) -> SavedLog:
    """Create or update the steward's log of a shift, adding photos (flushes).

    Everything is checked (every photo, the photo limit; `LogIn` has checked the fields)
    before any file or row is written; a refusal leaves the log and the folder as they were.
    """
    ctx = log_context(session, assignment_id)
    if not owns_log(actor, ctx):
        raise Forbidden(action="shift:log")
    if ctx.assignment.hours_status == "approved":
        raise LogLocked()
    if not log_editable(ctx):
        raise LogNotOpen()
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
    values: _LogValues = {"residents_guided": data.residents_guided,
                          "drops_corrected": data.drops_corrected,
                          "incidents": data.incidents, "note": data.note,
                          "photos": kept + list(new_files), "updated_at": now}
    log = ctx.log
    if log is None:
        try:
            with session.begin_nested():
                log = SupervisionLog(assignment_id=pk(ctx.assignment), created_at=now, **values)
                session.add(log)
        except IntegrityError:
            # A second tab saved the first version at the same moment: update that one.
            log = log_context(session, assignment_id).log
            if log is None:
                raise
    if log.id is not None:
        for name, value in values.items():
            setattr(log, name, value)
    session.flush()
    return SavedLog(log, removed)
