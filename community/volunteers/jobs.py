"""Volunteer jobs: close the shifts that ended (auto check-out, no-shows), and remind
stewards of their shifts.

Plain functions the scheduler calls (and anyone can run by hand). A second run finds nothing
left to close and no reminder left to send, so running twice changes nothing. Every closing
write is conditional on the assignment still being open (`signed_up`), so a steward checking
out at the same moment is never overwritten.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlmodel import Session, col

from community.areas.models import Area
from community.dirty import services as dirty
from community.inbox.services import notify
from community.rows import table_of
from community.stations.models import Station
from community.volunteers.checkins.rules import minutes_between
from community.volunteers.models import Shift, ShiftAssignment, Steward

# The steward's "my shifts" page (community/volunteers/shifts/views.py).
REMINDER_LINK = "/steward/shifts"


def _ended_shifts(now: datetime):
    return select(col(Shift.id)).where(col(Shift.ends_at) <= now, col(Shift.status) == "open")


def close_finished_shifts(session: Session, *, now: datetime) -> dict[str, int]:
    """Close every open assignment of the shifts that ended at or before `now` (flushes).

    Checked in without a check-out: checked out automatically at the shift's end ("auto"),
    done, minutes computed, hours pending approval. Signed up but never checked in: no-show.
    """
    table = table_of(ShiftAssignment)
    open_rows = session.execute(
        select(col(ShiftAssignment.id), col(ShiftAssignment.checked_in_at),
               col(ShiftAssignment.checked_out_at), col(Shift.ends_at),
               col(Shift.community_id), col(Shift.local_date))
        .join(Shift, col(Shift.id) == ShiftAssignment.shift_id)
        .where(col(ShiftAssignment.status) == "signed_up",
               col(ShiftAssignment.checked_in_at).is_not(None),
               col(ShiftAssignment.shift_id).in_(_ended_shifts(now)))
        .order_by(col(ShiftAssignment.id))).all()
    closed = auto = 0
    days: dict[tuple[int, date], int] = {}
    for row in open_rows:
        # A steward checked in after the end (impossible by the rules, but data is data)
        # gets zero minutes, never negative ones.
        out = row.checked_out_at or max(row.ends_at, row.checked_in_at)
        values = {"status": "done", "checked_out_at": out, "hours_status": "pending",
                  "minutes": minutes_between(row.checked_in_at, out)}
        if row.checked_out_at is None:
            values["check_out_method"] = "auto"
        done = session.exec(
            update(table).where(table.c.id == row.id, table.c.status == "signed_up")
            .values(**values).execution_options(synchronize_session=False)).rowcount
        if done:
            closed += 1
            auto += row.checked_out_at is None
            key = (row.community_id, row.local_date)
            days[key] = days.get(key, 0) + 1
    # An automatic check-out ends a presence: the coverage of its day may change.
    dirty.mark(session, "presence", days, now=now)
    no_shows = session.exec(
        update(table)
        .where(table.c.status == "signed_up", table.c.checked_in_at.is_(None),
               table.c.shift_id.in_(_ended_shifts(now)))
        .values(status="no_show")
        .execution_options(synchronize_session=False)).rowcount
    session.flush()
    return {"closed": closed, "auto_checked_out": auto, "no_shows": int(no_shows or 0)}


def remind_upcoming_shifts(session: Session, *, now: datetime,
                           ahead: timedelta = timedelta(hours=2)) -> dict[str, int]:
    """One "shift_reminder" per signed-up assignment of an open shift starting within `ahead`.

    Shifts already started get none (a late reminder helps nobody); the dedupe key
    "shift_reminder:<assignment id>" makes re-runs and overlapping runs send nothing twice.
    Returns {"due": assignments found, "sent": reminders newly sent}.
    """
    rows = session.execute(
        select(
            col(ShiftAssignment.id), col(Steward.account_id), col(Shift.id), col(Shift.starts_at),
            col(Station.name), col(Area.timezone))
        .join(Shift, col(Shift.id) == ShiftAssignment.shift_id)
        .join(Steward, col(Steward.id) == ShiftAssignment.steward_id)
        .join(Station, col(Station.id) == Shift.station_id)
        .join(Area, col(Area.id) == Shift.community_id)
        .where(col(ShiftAssignment.status) == "signed_up", col(Shift.status) == "open",
               col(Steward.status) == "approved",
               col(Shift.starts_at) > now, col(Shift.starts_at) <= now + ahead)
        .order_by(col(Shift.starts_at), col(ShiftAssignment.id))
    ).all()
    sent = 0
    for assignment_id, account_id, shift_id, starts_at, station, tz in rows:
        local_start = starts_at.astimezone(ZoneInfo(tz)).isoformat(timespec="minutes")
        sent += notify(session, account_id=account_id, kind="shift_reminder",
                       params={"station": station, "starts_at": local_start,
                               "shift_id": shift_id},
                       link=REMINDER_LINK, dedupe_key=f"shift_reminder:{assignment_id}")
    return {"due": len(rows), "sent": sent}
