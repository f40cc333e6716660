"""Ratings jobs: the monthly rating of every community and rolling up a run of days.

Plain, idempotent functions; the scheduler (community/scheduler/registry.py) turns its
periods into their arguments and records each period once. Rating a month replaces that
month's rows; rolling up a day replaces that day's rows. Both flush; the caller commits.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlmodel import Session, col

from community import clock
from community.areas.models import Area
from community.ratings import rollups, services
from community.ratings.models import RollupDay


def rate_month(session: Session, *, month: date, now: datetime) -> dict[str, int]:
    """Rate every community for the local month of `month` (period = a month).

    First rolls up any past day of the month a community is missing (a day the daily job
    skipped, a community added mid-month): drops of such a day would be read from the raw
    rows anyway, but steward coverage and active households come from rollups only.
    """
    first, last = services.month_days(month)
    upto = min(last, clock.local_today(clock.DEFAULT_TZ, now) - timedelta(days=1))
    ids = list(session.execute(
        select(col(Area.id)).where(col(Area.level) == "community")).scalars())
    built = set(session.execute(
        select(col(RollupDay.community_id), col(RollupDay.local_date)).where(
            col(RollupDay.local_date) >= first, col(RollupDay.local_date) <= upto)).all())
    rolled = 0
    day = first
    while day <= upto:
        missing = [c for c in ids if (c, day) not in built]
        if missing:
            rollups.build_day(session, day, community_ids=missing, now=now)
            rolled += 1
        day += timedelta(days=1)
    return {**services.rate_month(session, month=month, now=now), "days_rolled_up": rolled}


def roll_up_days(session: Session, *, days: Iterable[date], now: datetime) -> dict[str, int]:
    """Build (replace) the rollups of each given local day, for every community."""
    built = drops = 0
    for day in sorted(set(days)):
        drops += rollups.build_day(session, day, now=now).drops
        built += 1
    return {"days": built, "drops": drops}
