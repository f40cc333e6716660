"""Who may record drops as a steward: only on a shift they are checked in to, at its station.

DOMAIN (三定一督): a steward supervises a station during a shift. A drop recorded by an
account whose only right to record in the community is the steward role must be made at a
station where that steward holds a shift they have checked in to, with a device time inside
the shift widened by `MARGIN` on both sides (a queue uploaded later still carries the device
time). Station chiefs and managers record anywhere in their community; devices at their
station (checked in `services`).

Shifts belong to the volunteers module, which sits above stations (imports flow one way), so
it registers the lookup here when the app starts (`register`); until then nobody is on duty
and stewards are refused (closed by default).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlmodel import Session

from community.errors import Forbidden

# Check-in opens 30 minutes before a shift; a steward finishing the last resident's drop
# a little after the end, or a device clock a few minutes off, still counts.
MARGIN = timedelta(minutes=30)


@dataclass(frozen=True)
class Post:
    """A checked-in shift of one steward: the station and the shift's start and end."""

    station_id: int
    starts_at: datetime
    ends_at: datetime

    def covers(self, station_id: int, moment: datetime) -> bool:
        """Whether a drop at `station_id` at `moment` falls in this post."""
        return station_id == self.station_id and \
            self.starts_at - MARGIN <= moment <= self.ends_at + MARGIN


# (session, account id, earliest, latest) → the account's checked-in posts overlapping.
PostsLookup = Callable[[Session, int, datetime, datetime], Sequence[Post]]
_lookup: list[PostsLookup] = []


class NotOnDuty(Forbidden):
    """A steward recording outside a checked-in shift at that station."""

    code, message = "not_on_duty", _l(
        "You can record drops only at a station where you are checked in to a shift, during "
        "that shift.")


# (session, account id, now) → the station of the account's current shift, else of its next
# one soon (None: no shift); the scan page preselects it.
ShiftStationLookup = Callable[[Session, int, datetime], int | None]
_shift_station: list[ShiftStationLookup] = []


def register(lookup: PostsLookup, shift_station: ShiftStationLookup | None = None) -> None:
    """Install the lookups of stewards' shifts (the volunteers module's): the checked-in
    posts, and the station of the current or next shift."""
    _lookup[:] = [lookup]
    _shift_station[:] = [shift_station] if shift_station else []


def shift_station(session: Session, account_id: int, now: datetime) -> int | None:
    """The station of the account's current shift, else of its next one soon, or None."""
    if not _shift_station:
        return None
    return _shift_station[0](session, account_id, now)


def posts(session: Session, account_id: int, earliest: datetime,
          latest: datetime) -> Sequence[Post]:
    """The account's checked-in posts overlapping [earliest − MARGIN, latest + MARGIN]."""
    if not _lookup:
        return ()
    return _lookup[0](session, account_id, earliest - MARGIN, latest + MARGIN)
