"""Notifications: the one interface every message to a person goes through.

`notify(session, account_id=..., kind=..., params=..., link=..., dedupe_key=...)` hands a
message to each registered `Channel`. The in-app inbox is the first channel and the record of
every notification: its row carries the `dedupe_key` (UNIQUE; INSERT … ON CONFLICT DO
NOTHING), so a message already sent is sent by no channel again. SMS or WeChat plug in by
adding a class with a `deliver` method to `CHANNELS`; nothing else changes.

Messages are stored as a kind plus parameters, never as translated text: `render` turns them
into the reader's language when the inbox is shown (`MESSAGES` maps kind → lazy template).

`remind_upcoming_shifts` is the reminder job's body (the scheduler calls it; it is
idempotent: one "shift_reminder" per assignment, ever).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from community import clock
from community.areas.models import Area
from community.errors import InvalidInput, NotFound
from community.rows import table_of
from community.stations.models import Station
from community.volunteers.models import Notification, Shift, ShiftAssignment, Steward
from community.web.pagination import Page, paginate

# kind → template in the reader's language; parameters are filled in at display time.
MESSAGES: dict[str, Any] = {
    "shift_reminder": _l("Reminder: your shift at %(station)s starts at %(starts_at)s."),
    "steward_approved": _l("You are now a steward of %(community)s. Thank you for volunteering!"),
    "steward_rejected": _l("Your steward application for %(community)s was not accepted: "
                           "%(reason)s"),
    "steward_retired": _l("You are no longer an active steward of %(community)s. Thank you "
                          "for your service!"),
    "chief_appointed": _l("You are now the station chief of %(station)s."),
    "chief_removed": _l("You are no longer the station chief of %(station)s."),
    "hours_approved": _l("Your volunteer hours were approved: %(minutes)s minutes, "
                         "%(points)s points credited."),
}
UNKNOWN_KIND = _l("You have a new notification.")
# Parameters holding an ISO time, shown as local "MM-DD HH:MM" in the offset they were stored in.
TIME_PARAMS = frozenset({"starts_at"})
MAX_LINK, MAX_DEDUPE = 200, 80
# The steward's "my shifts" page (community/volunteers/shift_views.py, the rotas module).
REMINDER_LINK = "/volunteer/shifts"
UNREAD_CAP = 100  # the badge shows "99+" beyond this; counting further would cost for nothing


@dataclass(frozen=True)
class Message:
    """What a channel delivers: to whom, which kind, its parameters, where it points."""

    account_id: int
    kind: str
    params: Mapping[str, Any]
    link: str = ""
    dedupe_key: str | None = None


class Channel(Protocol):
    """A way to reach a person (in-app inbox, later SMS or WeChat)."""

    name: str

    def deliver(self, session: Session, message: Message) -> bool:
        """Deliver `message`; False when it was delivered before (same dedupe key)."""
        ...


class InboxChannel:
    """The in-app inbox: one `notification` row per message, idempotent by dedupe key."""

    name = "inbox"

    def deliver(self, session: Session, message: Message) -> bool:
        """Insert the inbox row unless one with the same dedupe key exists."""
        table = table_of(Notification)
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        stmt = dialect.insert(table).values(
            account_id=message.account_id, kind=message.kind, params=dict(message.params),
            link=message.link, dedupe_key=message.dedupe_key, created_at=clock.now(),
        ).on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(table.c.id)
        return session.execute(stmt).first() is not None


# The inbox comes first: its row is the record that stops every channel from sending twice.
CHANNELS: list[Channel] = [InboxChannel()]


def _check(kind: str, params: Mapping[str, Any], link: str, dedupe_key: str | None) -> None:
    if kind not in MESSAGES:
        raise InvalidInput(field="kind")
    if not all(isinstance(v, str | int | float | bool | None) for v in params.values()):
        raise InvalidInput(field="params")
    # A plain path on this site: the inbox redirects to it after marking the message read.
    if len(link) > MAX_LINK or (link and (not link.startswith("/") or link.startswith("//"))):
        raise InvalidInput(field="link")
    if dedupe_key is not None and not 0 < len(dedupe_key) <= MAX_DEDUPE:
        raise InvalidInput(field="dedupe_key")


def notify(session: Session, *, account_id: int, kind: str, params: Mapping[str, Any],
           link: str = "", dedupe_key: str | None = None) -> bool:
    """Send one message through every channel; False (nothing sent) for a seen dedupe key."""
    _check(kind, params, link, dedupe_key)
    message = Message(account_id=account_id, kind=kind, params=dict(params), link=link,
                      dedupe_key=dedupe_key)
    first, *others = CHANNELS
    if not first.deliver(session, message):
        return False
    for channel in others:
        channel.deliver(session, message)
    return True


class _Params(dict):
    """Template parameters where a missing one shows as "?" instead of breaking the inbox."""

    def __missing__(self, key: str) -> str:
        return "?"


def _show_time(value: Any) -> Any:
    try:
        return datetime.fromisoformat(str(value)).strftime("%m-%d %H:%M")
    except ValueError:
        return value


def render(kind: str, params: Mapping[str, Any]) -> str:
    """The message text in the current language (call inside a request or app context)."""
    template = MESSAGES.get(kind)
    if template is None:
        return str(UNKNOWN_KIND)
    values = _Params({k: _show_time(v) if k in TIME_PARAMS else v for k, v in params.items()})
    return str(template) % values


# --- The inbox ------------------------------------------------------------------------------

def inbox_page(session: Session, *, account_id: int, page: int = 1,
               per_page: int = 30) -> Page:
    """One page of the account's notifications, newest first (items: Notification)."""
    stmt = (select(Notification).where(col(Notification.account_id) == account_id)
            .order_by(col(Notification.id).desc()))
    return paginate(session, stmt, page=page, per_page=per_page)


def unread_count(session: Session, account_id: int) -> int:
    """Unread notifications of an account, counted up to UNREAD_CAP (one small query)."""
    capped = (select(Notification.id).where(col(Notification.account_id) == account_id,
                                           col(Notification.read_at).is_(None))
              .limit(UNREAD_CAP).subquery())
    return session.execute(select(func.count()).select_from(capped)).scalar_one()


def mark_read(session: Session, *, account_id: int, notification_id: int,
              now: datetime | None = None) -> Notification:
    """Mark one of the account's own notifications read; NotFound for anyone else's."""
    note = session.get(Notification, notification_id)
    if note is None or note.account_id != account_id:
        raise NotFound()
    if note.read_at is None:
        note.read_at = now or clock.now()
        session.add(note)
        session.flush()
    return note


def mark_all_read(session: Session, *, account_id: int, now: datetime | None = None) -> int:
    """Mark every unread notification of the account read; returns how many changed."""
    result = session.exec(
        update(Notification)
        .where(col(Notification.account_id) == account_id, col(Notification.read_at).is_(None))
        .values(read_at=now or clock.now())
        .execution_options(synchronize_session=False))
    return result.rowcount


# --- Shift reminders (run by the scheduler) -------------------------------------------------

def remind_upcoming_shifts(session: Session, *, now: datetime,
                           ahead: timedelta = timedelta(hours=2)) -> dict[str, int]:
    """One "shift_reminder" per signed-up assignment of an open shift starting within `ahead`.

    Shifts already started get none (a late reminder helps nobody); the dedupe key
    "shift_reminder:<assignment id>" makes re-runs and overlapping runs send nothing twice.
    Returns {"due": assignments found, "sent": reminders newly sent}.
    """
    rows = session.execute(
        select(  # type: ignore[call-overload]  # sqlmodel types select() for up to 4 columns
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
