"""Stewards' rules (pure: no Flask, no database): the limits of invitations, availability
and reasons, invitation tokens and states, and weekly availability as times.

Rows are read through small protocols (anything with the columns these read), so the rules
never import the tables.
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from datetime import datetime, time
from typing import Any, Protocol

INVITE_DAYS = (1, 90)       # allowed validity of an invitation, in days
INVITE_USES = (1, 500)      # allowed number of sign-ups per invitation
MAX_SLOTS = 28              # availability ranges per steward (four a day is plenty)
MAX_REASON = 200
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class _Invite(Protocol):
    """What `invite_state` reads of an invitation (a `StewardInvite`)."""

    revoked_at: datetime | None
    expires_at: datetime
    uses: int
    max_uses: int


class _Available(Protocol):
    """What `slots_of` reads of a steward (a `Steward`)."""

    availability: list[dict[str, Any]]


def hash_token(token: str) -> str:
    """SHA-256 of an invitation token (256 random bits: a fast hash is enough)."""
    return hashlib.sha256(token.encode()).hexdigest()


def invite_state(invite: _Invite, now: datetime) -> str:
    """"active", "revoked", "expired" or "used_up" (in that order of precedence)."""
    if invite.revoked_at is not None:
        return "revoked"
    if invite.expires_at <= now:
        return "expired"
    if invite.uses >= invite.max_uses:
        return "used_up"
    return "active"


def parse_hhmm(text: str) -> time:
    """'07:30' → time(7, 30); anything but two-digit HH:MM (00:00–23:59) is refused."""
    match = _HHMM.match((text or "").strip())
    if not match:
        raise ValueError(text)
    return time(int(match.group(1)), int(match.group(2)))


def slots_of(steward: _Available) -> list[tuple[int, time, time]]:
    """The steward's availability as (weekday, start, end), sorted; bad stored items skipped."""
    out = []
    for item in steward.availability or []:
        try:
            out.append((int(item["weekday"]), parse_hhmm(item["start"]), parse_hhmm(item["end"])))
        except (KeyError, TypeError, ValueError):
            continue
    return sorted(out)


def store_slots(slots: Sequence[tuple[int, time, time]]) -> list[dict[str, Any]]:
    """Availability as stored: [{"weekday": 0-6, "start": "HH:MM", "end": "HH:MM"}], sorted."""
    return [{"weekday": d, "start": f"{a:%H:%M}", "end": f"{b:%H:%M}"} for d, a, b in sorted(slots)]
