"""SMS verification codes: making, hashing and checking them, and the limits. Pure, no DB.

A code is 6 random digits. Only an HMAC-SHA256 of (phone, code) keyed with the app's secret
is stored, so a leaked table does not give working codes, and the same code for two phones
hashes differently.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

CODE_LENGTH = 6


@dataclass(frozen=True)
class Limits:
    """How long a code lives, how often it may be tried, sent and resent."""

    valid: timedelta = timedelta(minutes=5)
    max_tries: int = 5
    cooldown: timedelta = timedelta(seconds=60)
    per_phone_per_day: int = 10
    per_address_per_day: int = 50

    @property
    def minutes(self) -> int:
        """The validity in whole minutes (for the message text)."""
        return int(self.valid.total_seconds() // 60)


DEFAULT_LIMITS = Limits()


def new_code() -> str:
    """Six random digits (leading zeros kept)."""
    return f"{secrets.randbelow(10 ** CODE_LENGTH):0{CODE_LENGTH}d}"


def hash_code(secret: str, phone: str, code: str) -> str:
    """The stored form of a code: hex HMAC-SHA256 of 'phone:code' keyed with the app secret."""
    return hmac.new(secret.encode(), f"{phone}:{code}".encode(), hashlib.sha256).hexdigest()


def matches(secret: str, phone: str, code: str, stored: str) -> bool:
    """Whether a typed code is the one stored (constant-time comparison)."""
    return hmac.compare_digest(hash_code(secret, phone, code), stored)


def is_expired(expires_at: datetime, now: datetime) -> bool:
    """A code is valid strictly before its expiry: at exactly 5 minutes it is expired."""
    return now >= expires_at


def wait_seconds(last_sent: datetime | None, now: datetime, cooldown: timedelta) -> int:
    """Seconds until another code may be sent (0: now), rounded up."""
    if last_sent is None:
        return 0
    left = (last_sent + cooldown - now).total_seconds()
    return max(0, int(-(-left // 1)))
