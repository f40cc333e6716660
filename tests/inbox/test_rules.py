"""Quiet hours of the SMS channel (pure)."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from community.inbox import rules


@pytest.mark.parametrize(("utc", "expected"), [
    # Shanghai = UTC+8: 12:00 local is sent at once.
    (datetime(2026, 11, 20, 4, 0, tzinfo=UTC), datetime(2026, 11, 20, 4, 0, tzinfo=UTC)),
    # 20:59 local: still before the quiet hours.
    (datetime(2026, 11, 20, 12, 59, tzinfo=UTC), datetime(2026, 11, 20, 12, 59, tzinfo=UTC)),
    # 21:00 local: waits for 08:00 the next morning (00:00 UTC).
    (datetime(2026, 11, 20, 13, 0, tzinfo=UTC), datetime(2026, 11, 21, 0, 0, tzinfo=UTC)),
    # 02:00 local (18:00 UTC the day before): waits for 08:00 the same local day.
    (datetime(2026, 11, 20, 18, 0, tzinfo=UTC), datetime(2026, 11, 21, 0, 0, tzinfo=UTC)),
    # 08:00 local: sent.
    (datetime(2026, 11, 21, 0, 0, tzinfo=UTC), datetime(2026, 11, 21, 0, 0, tzinfo=UTC)),
])
def test_send_after_skips_the_night(utc: datetime, expected: datetime) -> None:
    assert rules.send_after(utc) == expected
    assert rules.in_quiet_hours(utc) == (expected != utc)
