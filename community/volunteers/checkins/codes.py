"""Rotating station codes for check-in (pure: no Flask, no database).

A station shows a QR code that changes every 30 seconds: an HMAC-SHA256 of the station id
and the time step (unix seconds // 30), cut to 8 digits. Scanning it (or typing the digits)
proves the steward stood at the station within the last minute: a code is accepted during
its own step and ONE step after (so a code read just before it turned still works), never
older, never from the future, never for another station.

The QR text is "CHK:<station_id>:<8 digits>"; a typed code is the 8 digits alone and is
checked against the station the caller expects. The key is derived from the app's secret
by the caller (`derive_key`), so this module never reads configuration.
"""
from __future__ import annotations

import hashlib
import hmac
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime

STEP_SECONDS = 30
DIGITS = 8
PREFIX = "CHK"
# Steps before the current one that are still accepted: one, so a code scanned as it turns
# still counts, but a photo of the screen is useless a minute later.
TOLERANCE_STEPS = 1
# How far back a code is recognised as "expired" rather than "wrong" (for a clearer message).
RECOGNISE_STEPS = 240  # two hours
_KEY_LABEL = b"community.volunteers.station-code.v1"
_QR_RE = re.compile(rf"^{PREFIX}:(\d{{1,12}}):(\d{{{DIGITS}}})$")
_DIGITS_RE = re.compile(rf"^\d{{{DIGITS}}}$")

# Reasons a code is refused (the service maps them to translated messages).
MALFORMED = "malformed"
EXPIRED = "expired"
OTHER_STATION = "other_station"
WRONG = "wrong"


@dataclass(frozen=True)
class StationCode:
    """The code a station shows now: the QR text, the digits and when they change."""

    station_id: int
    step: int
    digits: str
    text: str
    expires_at: datetime

    def seconds_left(self, now: datetime) -> int:
        """Whole seconds (at least 1) until the next code, for the countdown."""
        return max(1, math.ceil((self.expires_at - now).total_seconds()))


@dataclass(frozen=True)
class Parsed:
    """A scanned or typed code: the station it names (None when typed) and its digits."""

    station_id: int | None
    digits: str


@dataclass(frozen=True)
class Verdict:
    """The outcome of `verify`: the station when valid, else the reason it was refused."""

    ok: bool
    station_id: int | None = None
    reason: str | None = None


def derive_key(secret: str | bytes) -> bytes:
    """A key used only for station codes, derived from the app's secret key."""
    raw = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(raw, _KEY_LABEL, hashlib.sha256).digest()


def step_of(moment: datetime) -> int:
    """The 30-second time step `moment` (aware) falls in."""
    if moment.tzinfo is None:
        raise ValueError("step_of() needs an aware datetime")
    return math.floor(moment.timestamp()) // STEP_SECONDS


def digits_for(key: bytes, station_id: int, step: int) -> str:
    """The 8-digit code of a station for one time step."""
    mac = hmac.new(key, f"{station_id}:{step}".encode(), hashlib.sha256).digest()
    # 64 bits mod 10^8: the bias is below one in 10^11, unlike RFC 4226's 31-bit truncation.
    return str(int.from_bytes(mac[:8], "big") % 10**DIGITS).zfill(DIGITS)


def current(key: bytes, station_id: int, now: datetime) -> StationCode:
    """The code station `station_id` shows at `now`."""
    step = step_of(now)
    digits = digits_for(key, station_id, step)
    expires = datetime.fromtimestamp((step + 1) * STEP_SECONDS, UTC)
    return StationCode(station_id, step, digits, f"{PREFIX}:{station_id}:{digits}", expires)


def format_digits(digits: str) -> str:
    """Digits grouped for reading aloud and typing: "1234 5678"."""
    half = DIGITS // 2
    return f"{digits[:half]} {digits[half:]}"


def parse(text: str) -> Parsed | None:
    """Read a QR text ("CHK:12:01234567") or typed digits ("0123 4567"); None if neither."""
    value = (text or "").strip()
    if len(value) > 40:
        return None
    found = _QR_RE.match(value.upper())
    if found:
        return Parsed(int(found.group(1)), found.group(2))
    typed = re.sub(r"[\s-]", "", value)
    if _DIGITS_RE.match(typed):
        return Parsed(None, typed)
    return None


def _matches(key: bytes, station_id: int, step: int, digits: str) -> bool:
    return hmac.compare_digest(digits_for(key, station_id, step), digits)


def verify(key: bytes, text: str, now: datetime, *, station_id: int | None = None) -> Verdict:
    """Check a scanned or typed code at `now`.

    Valid: the code of its station for the current step or the one before. A QR text names
    its station; typed digits are checked against `station_id`. Refused, with a reason: text
    that is no code (or typed digits with no station to check), a station other than the
    expected one, a code of an older step (expired), anything else (wrong).
    """
    parsed = parse(text)
    if parsed is None:
        return Verdict(False, reason=MALFORMED)
    if parsed.station_id is not None and station_id is not None \
            and parsed.station_id != station_id:
        return Verdict(False, parsed.station_id, OTHER_STATION)
    target = parsed.station_id if parsed.station_id is not None else station_id
    if target is None:
        return Verdict(False, reason=MALFORMED)
    step = step_of(now)
    # Every accepted step is compared (no early exit), so timing says nothing about which.
    hits = [_matches(key, target, s, parsed.digits)
            for s in range(step - TOLERANCE_STEPS, step + 1)]
    if any(hits):
        return Verdict(True, target)
    for older in range(step - TOLERANCE_STEPS - 1, step - RECOGNISE_STEPS - 1, -1):
        if _matches(key, target, older, parsed.digits):
            return Verdict(False, target, EXPIRED)
    return Verdict(False, target, WRONG)
