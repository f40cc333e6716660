"""When a queued text message may go out: never in the quiet hours of the night (pure)."""
from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

DEFAULT_TZ = "Asia/Shanghai"
QUIET_FROM, QUIET_UNTIL = time(21, 0), time(8, 0)  # local; nobody is texted at night
RETRIES = 3  # attempts before a temporary provider failure counts as failed


def in_quiet_hours(moment: datetime, tz: str = DEFAULT_TZ) -> bool:
    """Whether `moment` (aware) falls in the local quiet hours (21:00-08:00)."""
    local = moment.astimezone(ZoneInfo(tz)).time()
    return local >= QUIET_FROM or local < QUIET_UNTIL


def send_after(moment: datetime, tz: str = DEFAULT_TZ) -> datetime:
    """`moment` itself, or the end of the quiet hours it falls in (aware, same offset as UTC)."""
    if not in_quiet_hours(moment, tz):
        return moment
    zone = ZoneInfo(tz)
    local = moment.astimezone(zone)
    day = local.date() + timedelta(days=1) if local.time() >= QUIET_FROM else local.date()
    return datetime.combine(day, QUIET_UNTIL, tzinfo=zone).astimezone(moment.tzinfo)
