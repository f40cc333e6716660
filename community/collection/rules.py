"""Collection rules, pure (no DB, no Flask): pickup windows, punctuality, the kitchen
separation rate with collector weights, and accuracy with the collectors' contamination.

Readings (DOMAIN.md "Collection"):
- **Pickup punctuality** = a station's scheduled pickups (pickup windows that start in the
  period while the station existed and was open, under the pickup schedule in force then)
  with a collection recorded within the window (both ends inclusive, no grace) / scheduled
  pickups. One collection answers for at most one window. "Not available" without windows.
- **Kitchen separation rate with collector weights** = kitchen kg / all kg over station-days,
  where each station-day takes its weights from ONE source: the drops' own weights when the
  station weighed any drop that day (it has scales), otherwise the collectors' weights of
  that day. A station-day with neither counts nowhere. So scale weights are never counted
  twice with the truck's.
- **收运端检出 (contamination found at pickup)**: a contaminated kitchen bin counts against the
  station's kitchen accuracy that day as one more graded, incorrect unit:
  accuracy with pickup checks = correct / (graded + contaminated kitchen bins). The steward's
  accuracy (correct / graded) is kept as it is and both are shown, so the two sources stay
  visible; the drop counts themselves are never altered.
"""
from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from community.stations import windows

TAG_PREFIX = "CST:"  # the QR text is "CST:<token>": never mistaken for a card or check-in code


def new_tag_token() -> str:
    """A station tag token: 192 random bits, URL-safe (32 characters)."""
    return secrets.token_urlsafe(24)


def tag_text(token: str) -> str:
    """The text printed in a station's collection QR."""
    return TAG_PREFIX + token


def token_from_text(text: str) -> str:
    """The token of a scanned collection QR (its text with or without the prefix)."""
    text = (text or "").strip()
    return text[len(TAG_PREFIX):] if text.startswith(TAG_PREFIX) else text


# The short code printed under a station's collection QR, for typing when the camera fails:
# 8 characters from an alphabet without look-alikes (no 0/O, 1/I/L), shown as "ABCD-2345".
# Typed codes are case-insensitive and spaces or dashes are ignored. 31^8 ≈ 8.5e11 codes:
# guessing one of a city's few thousand stations is hopeless, and a guessed code names a
# station only inside the collector's own area anyway.
# A second pickup of a station and category this soon after the last is asked about first.
REPEAT_MINUTES = 30
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8


def new_tag_code() -> str:
    """A station's short collection code: 8 random characters of `CODE_ALPHABET`."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def format_code(code: str) -> str:
    """The short code as printed: two groups of four ("ABCD-2345")."""
    return code[:4] + "-" + code[4:]


def code_from_text(text: str) -> str | None:
    """The short code a collector typed ("abcd 2345", "ABCD-2345"…), or None when the text
    is not one (a scanned QR's long token, or a typo)."""
    code = "".join(ch for ch in (text or "").upper() if ch not in " -\t")
    if len(code) == CODE_LENGTH and all(ch in CODE_ALPHABET for ch in code):
        return code
    return None


def rate(numerator: Decimal | int, denominator: Decimal | int) -> float | None:
    """numerator / denominator, or None ("not available") when the denominator is zero."""
    return float(numerator) / float(denominator) if denominator else None


# --- Pickup windows and punctuality ----------------------------------------------------------

def pickup_windows(schedule: windows.Schedule, day: date) -> list[windows.Window]:
    """The pickup windows that start on local date `day` (no exceptions, no grace)."""
    return windows.windows_on(schedule, {}, day)


def on_time(schedule: windows.Schedule, moment: datetime) -> bool | None:
    """Whether `moment` falls in a pickup window of its day or the day before (a window past
    midnight); None when the station had no pickup window on either day."""
    day = moment.astimezone(ZoneInfo(schedule.tz)).date()
    found = [w for d in (day.fromordinal(day.toordinal() - 1), day)
             for w in pickup_windows(schedule, d)]
    if not found:
        return None
    return any(w.start <= moment <= w.end for w in found)


@dataclass(frozen=True)
class Punctuality:
    """A station's scheduled pickups in a period and how many had a collection in time."""

    scheduled: int
    on_time: int

    @property
    def rate(self) -> float | None:
        """On-time pickups / scheduled pickups (None without scheduled pickups)."""
        return rate(self.on_time, self.scheduled)


def punctuality(scheduled: Sequence[windows.Window], moments: Iterable[datetime]) -> Punctuality:
    """Match collection moments to scheduled windows: a window is kept when some collection
    not yet used by an earlier window falls inside it."""
    left = sorted(moments)
    kept = 0
    for w in sorted(scheduled, key=lambda x: x.start):
        hit = next((m for m in left if w.start <= m <= w.end), None)
        if hit is not None:
            left.remove(hit)
            kept += 1
    return Punctuality(len(scheduled), kept)


# --- Weights and contamination ---------------------------------------------------------------

@dataclass
class StationDayKg:
    """One station's weights of one local day by category: from its weighed drops (scales)
    and from the collectors' lines."""

    scale: dict[str, Decimal] = field(default_factory=dict)
    collector: dict[str, Decimal] = field(default_factory=dict)
    weighed_drops: int = 0


@dataclass(frozen=True)
class Separation:
    """厨余垃圾分出率 from the chosen source of each station-day, with where the kg came from."""

    kitchen_kg: Decimal
    all_kg: Decimal
    scale_days: int
    collector_days: int

    @property
    def rate(self) -> float | None:
        """Kitchen kg / all kg (None without any weight)."""
        return rate(self.kitchen_kg, self.all_kg)

    @property
    def source(self) -> str:
        """"scale", "collector", "both" or "none": which weights the rate rests on."""
        if self.scale_days and self.collector_days:
            return "both"
        if self.scale_days:
            return "scale"
        return "collector" if self.collector_days else "none"


def separation(days: Iterable[StationDayKg]) -> Separation:
    """Kitchen kg / all kg, each station-day from its scales if it weighed drops, else from
    the collectors (see the module docstring)."""
    kitchen = total = Decimal(0)
    scale_days = collector_days = 0
    for d in days:
        if d.weighed_drops:
            chosen, scale_days = d.scale, scale_days + 1
        elif sum(d.collector.values(), Decimal(0)) > 0:
            chosen, collector_days = d.collector, collector_days + 1
        else:
            continue
        kitchen += chosen.get("kitchen", Decimal(0))
        total += sum(chosen.values(), Decimal(0))
    return Separation(kitchen, total, scale_days, collector_days)


def collector_kg_unweighed(days: Mapping[tuple[int, date], StationDayKg]) -> dict[str, Decimal]:
    """The collectors' kg by category over the station-days that weighed no drop: what the
    truck adds to the drops' own weights for the separation rate."""
    out: dict[str, Decimal] = {}
    for d in days.values():
        if d.weighed_drops:
            continue
        for category, kg in d.collector.items():
            out[category] = out.get(category, Decimal(0)) + kg
    return out


def accuracy_with_pickup(correct: int, graded: int, contaminated_bins: int) -> float | None:
    """Kitchen accuracy counting each contaminated kitchen bin found at pickup as one more
    graded, incorrect unit: correct / (graded + contaminated bins)."""
    return rate(correct, graded + contaminated_bins)
