"""Ratings jobs: the nightly rollup, the refresh of dirty days, the monthly rating.

Plain, idempotent functions; the scheduler (community/scheduler/registry.py) turns its
periods into their arguments and records each period once. Rating a month replaces that
month's rows; rolling up a day replaces that day's rows. They flush and the caller
commits, except `refresh_dirty`, a batched job that commits each batch it claims.
"""
from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from community import clock
from community.areas.models import Area
from community.dirty import services as dirty
from community.ratings import rollups, services
from community.ratings.models import Rating, RollupDay

BATCH = 100  # dirty (community, day) keys rebuilt per transaction
# PostgreSQL sessions rebuilding districts at once in the refresh (each a connection of the
# pool and about one database core: see BENCHMARKS.md, "Rolling up a city's dirty day").
WORKERS = 2
PENDING_BATCHES = 20  # a parallel refresh reads this many batches per worker at a time


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


def _rebuild(session: Session, claimed: list[dirty.Claimed], now: datetime) -> int:
    """Rebuild the claimed (community, day) pairs: per day, one set-based `build_day` per
    set of parts their causes can have changed (everything for a day never built); then
    re-rate their months. Returns the level changes; flushes."""
    built = set(session.execute(
        select(col(RollupDay.community_id), col(RollupDay.local_date)).where(
            tuple_(col(RollupDay.community_id), col(RollupDay.local_date)).in_(
                [(c.community_id, c.local_date) for c in claimed]))).all())
    groups: dict[tuple[date, frozenset[str]], list[int]] = {}
    for c in claimed:
        parts = (rollups.parts_for(c.counts) if (c.community_id, c.local_date) in built
                 else rollups.PARTS)
        groups.setdefault((c.local_date, parts), []).append(c.community_id)
    for (day, parts), ids in sorted(groups.items(), key=lambda g: (g[0][0], sorted(g[0][1]))):
        rollups.build_day(session, day, community_ids=ids, now=now, parts=parts)
    return _rerate(session, _causes(claimed), now)


def _districts(session: Session, community_ids: Iterable[int]) -> dict[int, int]:
    """Community → the second area of its path (city, district, …: its district), or itself."""
    out = {}
    for cid, path in session.execute(select(col(Area.id), col(Area.path)).where(
            col(Area.id).in_(list(community_ids)))).all():
        parts = [p for p in path.split("/") if p]
        out[cid] = int(parts[1]) if len(parts) > 2 else cid
    return out


def _refresh_share(engine: Engine, keys: list[tuple[int, date]], now: datetime,
                   batch: int) -> tuple[int, int]:
    """One worker's share of a district's keys: batch by batch, claim, rebuild, re-rate and
    commit, in a session of its own. A community is only ever in one share, so its month
    is never re-rated by two transactions at once."""
    days = changes = 0
    with Session(engine, expire_on_commit=False) as session:
        for k in range(0, len(keys), batch):
            claimed = dirty.claim(session, keys[k:k + batch])
            if claimed:
                days += len(claimed)
                changes += _rebuild(session, claimed, now)
            session.commit()
    return days, changes


def _parallel(session: Session, workers: int) -> Engine | None:
    """The engine to rebuild districts concurrently with, or None (sequential): PostgreSQL
    only (SQLite has one writer), and only when the session owns its connections (a test's
    session bound to one connection in a transaction cannot share it)."""
    bind = session.get_bind()
    if workers > 1 and isinstance(bind, Engine) and bind.dialect.name == "postgresql":
        return bind
    return None


def refresh_dirty(session: Session, *, now: datetime, batch: int = BATCH,
                  workers: int | None = None) -> dict[str, int]:
    """Rebuild exactly the dirty past days, however old; re-rate the months they fall in;
    then make final the ratings no drop can reach any more. Commits each batch.

    Today is never rebuilt (dashboards read it raw; the nightly job rolls it up). A day
    is claimed when it is past in its community's zone. Each batch rebuilds, per day and
    set of parts (rollups.parts_for), all its communities in one `build_day`. On PostgreSQL
    with `workers` (default WORKERS) > 1 the batches are shares of one district's whole
    communities, rebuilt by up to `workers` sessions at once (no two workers touch the same
    row); each claims its keys in its own transaction, so a failed batch keeps its marks.
    """
    zones = dict(session.execute(select(col(Area.id), col(Area.timezone))
                                 .where(col(Area.level) == "community")).all())
    today = {c: clock.local_today(z, now) for c, z in zones.items()}
    newest = max(today.values(), default=clock.local_today(clock.DEFAULT_TZ, now))
    workers = WORKERS if workers is None else workers
    engine = _parallel(session, workers)
    days = changes = 0
    while True:
        limit = batch if engine is None else batch * workers * PENDING_BATCHES
        pending = dirty.pending(session, before=newest, limit=limit)
        keys = [(c, d) for c, d in pending if d < today.get(c, newest)]
        if engine is not None:
            if not keys:
                break
            got = _refresh_in_parallel(session, engine, keys, now, batch, workers)
            days += got[0]
            changes += got[1]
            if len(pending) < limit or got[0] == 0:
                break
            continue
        claimed = dirty.claim(session, keys)
        if not claimed:
            break
        days += len(claimed)
        changes += _rebuild(session, claimed, now)
        session.commit()
    finals = services.finalize(session, now=now)
    session.commit()
    return {"days_rebuilt": days, "levels_changed": changes, "ratings_final": finals}


def _refresh_in_parallel(session: Session, engine: Engine, keys: list[tuple[int, date]],
                         now: datetime, batch: int, workers: int) -> tuple[int, int]:
    """Split the keys into shares, each of one district's communities (whole: all the keys
    of a community in one share) and up to `batch` keys unless one community has more;
    rebuild the shares on `workers` threads, each with a session and connection of its own.
    Returns (days rebuilt, level changes)."""
    district = _districts(session, {c for c, _d in keys})
    session.commit()  # end this read: the workers claim in their own transactions
    by_community: dict[int, dict[int, list[tuple[int, date]]]] = {}
    for c, d in keys:
        by_community.setdefault(district.get(c, c), {}).setdefault(c, []).append((c, d))
    shares: list[list[tuple[int, date]]] = []
    for communities in by_community.values():
        share: list[tuple[int, date]] = []
        for own in communities.values():
            if share and len(share) + len(own) > batch:
                shares.append(share)
                share = []
            share.extend(own)
        shares.append(share)
    shares.sort(key=len, reverse=True)  # the biggest first: the workers end together
    days = changes = 0
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="refresh") as pool:
        for n, c in pool.map(lambda share: _refresh_share(engine, share, now, batch),
                             shares):
            days += n
            changes += c
    return days, changes
