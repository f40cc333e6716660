"""Reads of the household history: who was active in a community at a moment.

Set-based: one statement for any number of communities, each with its own moment (the
local end of a period differs by time zone). The state at a moment T is the latest event
with `effective_at` < T when T is a period's exclusive end (the next local midnight), so a
move-out at 23:59:59 of the last day counts (not active at the end) and one at 00:00 of the
next day does not (still active at the end). Ties at the same moment: the later id wins.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select

from community.households.models import HouseholdEvent
from community.rows import table_of


def local_end(day: date, tz: str) -> datetime:
    """The exclusive end of local `day` in zone `tz` (its next local midnight), as UTC."""
    after = day + timedelta(days=1)
    return datetime(after.year, after.month, after.day, tzinfo=ZoneInfo(tz)).astimezone(UTC)


def active_before(ends: Mapping[int, datetime]) -> Any:
    """A subquery (community_id, household_id) of the households active just before each
    community's moment `ends[community_id]` (exclusive): the latest event before it is active.

    Communities sharing a moment (one time zone) share one condition, so the statement stays
    small for an area of hundreds of communities. Uses ix_household_event_latest.
    """
    e = table_of(HouseholdEvent).c
    by_end: dict[datetime, list[int]] = {}
    for community_id, end in ends.items():
        by_end.setdefault(end, []).append(community_id)
    if not by_end:
        return select(e.community_id, e.household_id).where(e.id.is_(None)).subquery()
    scope = or_(*[and_(e.community_id.in_(sorted(ids)), e.effective_at < end)
                  for end, ids in by_end.items()])
    ranked = (select(e.community_id, e.household_id, e.status,
                     func.row_number().over(partition_by=e.household_id,
                                            order_by=(e.effective_at.desc(), e.id.desc()))
                     .label("n"))
              .where(scope).subquery())
    return (select(ranked.c.community_id, ranked.c.household_id)
            .where(ranked.c.n == 1, ranked.c.status == "active").subquery())
