"""A steward's shifts as an iCalendar (RFC 5545) feed, written with the `icalendar` library.

One VEVENT per shift: a stable UID (so a calendar app updates the event when the shift
moves), DTSTART/DTEND in UTC, the station as SUMMARY and LOCATION, and STATUS:CANCELLED when
the shift or the steward's place on it was cancelled (so subscribed apps strike it out
instead of keeping a stale event). Escaping, folding and CRLF are the library's job.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import icalendar

PRODID = "-//community-waste-sorting//steward shifts//ZH"
# Fixed, not the request's host: a UID must not change when the feed is fetched another way.
UID_DOMAIN = "steward-shifts.community-waste-sorting"


def uid(shift_id: int | None, steward_id: int | None) -> str:
    """The stable UID of one steward's event for one shift."""
    return f"shift-{shift_id}-steward-{steward_id}@{UID_DOMAIN}"


@dataclass(frozen=True)
class Event:
    """One shift as the feed needs it (texts already in the reader's language)."""

    uid: str
    starts_at: datetime
    ends_at: datetime
    summary: str
    location: str
    cancelled: bool
    modified: datetime


def render(events: Iterable[Event], *, name: str, now: datetime) -> bytes:
    """The whole calendar as iCalendar bytes (UTF-8, CRLF, folded lines)."""
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", name)
    stamp = now.astimezone(UTC)
    for e in events:
        ev = icalendar.Event()
        ev.add("uid", e.uid)
        ev.add("dtstamp", stamp)
        ev.add("dtstart", e.starts_at.astimezone(UTC))
        ev.add("dtend", e.ends_at.astimezone(UTC))
        ev.add("summary", e.summary)
        if e.location:
            ev.add("location", e.location)
        ev.add("last-modified", e.modified.astimezone(UTC))
        ev.add("status", "CANCELLED" if e.cancelled else "CONFIRMED")
        cal.add_component(ev)
    return cal.to_ical()
