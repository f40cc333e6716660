"""Ratings jobs: the nightly rollup, the refresh of dirty days, the monthly rating.

Plain, idempotent functions; the scheduler (community/scheduler/registry.py) turns its
periods into their arguments and records each period once. Rating a month replaces that
month's rows; rolling up a day replaces that day's rows. They flush and the caller
commits, except `refresh_dirty`, a batched job that commits each batch it claims.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from community import clock
from community.areas.models import Area
from community.dirty import services as dirty
from community.ratings import rollups, services
from community.ratings.models import Rating, RollupDay

BATCH = 100  # dirty (community, day) keys rebuilt per transaction


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


def roll_up_day(session: Session, *, day: date, now: datetime) -> dict[str, int]:
    """The nightly rollup of the local day just ended, for every community; flushes.

    Takes that day's dirty marks first (drops uploaded for it after midnight): the build
    that follows reads them, so the refresh need not rebuild the day again.
    """
    dirty.claim(session, dirty.pending(session, before=day, on=day, limit=1_000_000))
    got = rollups.build_day(session, day, now=now)
    return {"communities": got.communities, "station_rows": got.station_rows,
            "drops": got.drops}


def _causes(claimed: list[dirty.Claimed]) -> dict[tuple[int, date], dict[str, Any]]:
    """(community, month) → cause → {local day: count}, from the claimed marks."""
    out: dict[tuple[int, date], dict[str, Any]] = {}
    for c in claimed:
        month = out.setdefault((c.community_id, rollups.month_start(c.local_date)), {})
        for cause, n in c.counts.items():
            if n:
                month.setdefault(cause, {})[c.local_date.isoformat()] = n
    return out


def _rerate(session: Session, months: dict[tuple[int, date], dict[str, Any]],
            now: datetime) -> int:
    """Re-rate the rated, provisional months whose days changed; a changed level re-rates
    the next month too (its star needs this month's level). Returns the level changes."""
    changes = 0
    todo = dict(months)
    while todo:
        by_month: dict[date, dict[int, dict[str, Any]]] = {}
        for (c, m), causes in todo.items():
            by_month.setdefault(m, {})[c] = causes
        todo = {}
        for month, causes in sorted(by_month.items()):
            rated = list(session.execute(select(col(Rating.community_id)).where(
                col(Rating.month) == month, col(Rating.status) == "provisional",
                col(Rating.community_id).in_(list(causes)))).scalars())
            if not rated:
                continue  # not rated yet (the current month) or final
            _counts, changed = services.rate_communities(
                session, month=month, now=now, community_ids=rated, causes=causes)
            changes += len(changed)
            for c, (old, new) in changed.items():
                todo[(c, services.add_months(month, 1))] = {"last_month": [old, new]}
    return changes


def refresh_dirty(session: Session, *, now: datetime, batch: int = BATCH) -> dict[str, int]:
    """Rebuild exactly the dirty past days, however old; re-rate the months they fall in;
    then make final the ratings no drop can reach any more. Commits each batch.

    Today is never rebuilt (dashboards read it raw; the nightly job rolls it up). A day
    is claimed when it is past in its community's zone.
    """
    zones = dict(session.execute(select(col(Area.id), col(Area.timezone))
                                 .where(col(Area.level) == "community")).all())
    today = {c: clock.local_today(z, now) for c, z in zones.items()}
    newest = max(today.values(), default=clock.local_today(clock.DEFAULT_TZ, now))
    days = changes = 0
    while True:
        keys = [(c, d) for c, d in dirty.pending(session, before=newest, limit=batch)
                if d < today.get(c, newest)]
        claimed = dirty.claim(session, keys)
        if not claimed:
            break
        by_day: dict[date, list[int]] = {}
        for c in claimed:
            by_day.setdefault(c.local_date, []).append(c.community_id)
        for day, ids in sorted(by_day.items()):
            rollups.build_day(session, day, community_ids=ids, now=now)
        days += len(claimed)
        changes += _rerate(session, _causes(claimed), now)
        session.commit()
    finals = services.finalize(session, now=now)
    session.commit()
    return {"days_rebuilt": days, "levels_changed": changes, "ratings_final": finals}
