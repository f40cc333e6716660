"""Late and out-of-order data (DOMAIN.md): every derived number is a function of the facts.

One generated world of facts over 60 days — drops with device times, regrades, households
moving out, a new station schedule — is fed to two identical communities of one database:
to A in device-time order (each fact as it happens), to B in a random permutation (uploads
up to 29 days late, regrades and moves recorded later still; the schedule, which can only
change from today on, the same day in both).
The scheduler's jobs run on the same timeline for both (the nightly rollup, the hourly
refresh as a daily tick, the monthly rating). At the end, balances, ledger sums per drop,
rollups and monthly ratings must be identical. The seed is printed; set LATE_DATA_SEED to
replay one.
"""
from __future__ import annotations

import os
import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlmodel import Session, col

from community import clock
from community.auth import services as auth_services
from community.households import services as households_services
from community.households.schemas import HouseholdIn
from community.points import services as points_services
from community.points.models import LedgerEntry
from community.ratings import jobs as ratings_jobs
from community.ratings.models import CommunityDay, CoverageDay, Rating, StationDay
from community.stations import services as stations_services
from community.stations.manage import services as stations_manage
from community.stations.models import Drop
from community.stations.schemas import DropIn, RegradeIn, WeekIn
from tests import builders

SH = ZoneInfo("Asia/Shanghai")
START = date(2026, 11, 23)
DAYS = 60
HOUSEHOLDS = 32
CATEGORIES = ("kitchen", "kitchen", "kitchen", "recyclable", "hazardous", "other")


@dataclass(frozen=True)
class DropFact:
    """Drop number k: household index, device time, category, quality as first recorded."""

    k: int
    home: int
    at: datetime
    category: str
    quality: str


@dataclass(frozen=True)
class Event:
    """Something that reaches the server at `arrives`: a drop (new quality None) or a regrade."""

    arrives: datetime
    world: str  # "a" (in device-time order) or "b" (permuted)
    fact: DropFact
    regrade_to: str | None = None


@dataclass(frozen=True)
class Move:
    """Household `home` moved out at `at`; the manager records it at `arrives`."""

    arrives: datetime
    world: str
    home: int
    at: datetime


# From day 20 of the run, both stations get new windows (recorded on day 12, same in both).
NEW_WINDOWS_FROM = START + timedelta(days=20)
NEW_WINDOWS_RECORDED = datetime.combine(START + timedelta(days=12), time(15), SH)
NEW_RANGES = [(time(6, 30), time(8, 30)), (time(18, 0), time(21, 0))]


def _facts(rng: random.Random) -> tuple[list[DropFact], dict[int, tuple[timedelta, str]]]:
    """Drops over DAYS days (most in window, some not) and the regrades of some of them."""
    facts, k = [], 0
    for offset in range(DAYS):
        day = START + timedelta(days=offset)
        for home in range(HOUSEHOLDS):
            if rng.random() > 0.3:
                continue
            minute = rng.choice([7 * 60 + 5, 8 * 60 + 40, 18 * 60 + 30, 12 * 60, 21 * 60])
            at = datetime.combine(day, time(minute // 60, minute % 60), SH) + timedelta(
                seconds=rng.randrange(0, 600))
            quality = rng.choices(["correct", "incorrect", "ungraded"], [80, 12, 8])[0]
            facts.append(DropFact(k, home, at, rng.choice(CATEGORIES), quality))
            k += 1
    regrades = {f.k: (timedelta(hours=rng.randrange(1, 240)),
                      "correct" if f.quality != "correct" else "incorrect")
                for f in facts if rng.random() < 0.06}
    return facts, regrades


def _month_end(day: date) -> date:
    nxt = (day.replace(day=1) + timedelta(days=32)).replace(day=1)
    return nxt - timedelta(days=1)


def _events(rng: random.Random, facts: list[DropFact],
            regrades: dict[int, tuple[timedelta, str]]) -> list[Event]:
    out = []
    for f in facts:
        out.append(Event(f.at, "a", f))
        late = timedelta(0) if rng.random() < 0.5 else timedelta(
            seconds=rng.randrange(60, 29 * 86400))
        out.append(Event(f.at + late, "b", f))
        if f.k in regrades:
            after, to = regrades[f.k]
            out.append(Event(f.at + after, "a", f, to))
            # B hears of the regrade late too, but before its month's rating is final.
            latest = datetime.combine(_month_end(f.at.date()) + timedelta(days=29), time(12), SH)
            first = max(f.at + after, f.at + late) + timedelta(minutes=1)
            b_at = min(first + timedelta(seconds=rng.randrange(0, 5 * 86400)), latest)
            out.append(Event(max(b_at, first), "b", f, to))
    return out


def _moves(rng: random.Random) -> list[Move]:
    """Two households move out during the run; B's manager records it up to 10 days late."""
    out = []
    for home in rng.sample(range(HOUSEHOLDS), 2):
        at = datetime.combine(START + timedelta(days=rng.randrange(5, DAYS - 15)), time(10),
                              SH) + timedelta(minutes=rng.randrange(0, 600))
        out.append(Move(at, "a", home, at))
        out.append(Move(at + timedelta(seconds=rng.randrange(60, 10 * 86400)), "b", home, at))
    return out


def _ticks() -> list[tuple[datetime, str]]:
    """The jobs' timeline: nightly rollup 00:20, refresh 12:00, monthly rating 1st 01:00."""
    out = []
    for offset in range(DAYS + 75):
        day = START + timedelta(days=offset)
        out.append((datetime.combine(day, time(0, 20), SH), "rollup"))
        out.append((datetime.combine(day, time(12, 0), SH), "refresh"))
        if day.day == 1:
            out.append((datetime.combine(day, time(1, 0), SH), "monthly"))
    return out


def test_any_upload_order_gives_the_same_numbers(session: Session,
                                                 world: builders.World) -> None:
    seed = int(os.environ.get("LATE_DATA_SEED", random.randrange(1 << 30)))
    print(f"LATE_DATA_SEED={seed}")  # noqa: T201 - replay a failure with this seed
    rng = random.Random(seed)
    facts, regrades = _facts(rng)
    moves = _moves(rng)
    moved = {m.home: m.at for m in moves}
    # A household that moved out drops no more (its card is left in the drawer).
    facts = [f for f in facts if f.home not in moved or f.at < moved[f.home]]
    events = _events(rng, facts, regrades)

    worlds = {"a": world.a, "b": world.b}
    stewards = {"a": world.steward_a,
                "b": builders.account(session, "steward", world.b, username="stewardb")}
    homes = {w: [builders.household(session, c, building="9", room=f"{n + 1:03d}")
                 for n in range(HOUSEHOLDS)] for w, c in worlds.items()}
    stations = {w: builders.station(session, c, "东门") for w, c in worlds.items()}
    for w, c in worlds.items():
        stations_manage.start_history(session, stations[w], c.timezone)
    cards = {w: [builders.active_card(session, h).token for h in hs] for w, hs in homes.items()}
    manager = {"a": world.manager_a, "b": world.manager_b}
    session.commit()
    actors = {w: auth_services.load_actor(session, s.id) for w, s in stewards.items()}
    managers = {w: auth_services.load_actor(session, m.id) for w, m in manager.items()}
    drop_ids: dict[tuple[str, int], int] = {}

    timeline = sorted([(e.arrives, 1, i) for i, e in enumerate(events)]
                      + [(t, 0, n) for n, (t, _job) in enumerate(_ticks())]
                      + [(m.arrives, 2, n) for n, m in enumerate(moves)]
                      + [(NEW_WINDOWS_RECORDED, 3, 0)])
    ticks = _ticks()
    for moment, kind, index in timeline:
        with clock.freeze(moment):
            if kind == 0:
                _run_job(session, ticks[index][1], moment)
                continue
            if kind == 2:
                m = moves[index]
                hh = homes[m.world][m.home]
                households_services.update_household(
                    session, actor=managers[m.world], household_id=hh.id, now=moment,
                    data=HouseholdIn.parse(building=hh.building, unit=hh.unit, room=hh.room,
                                           members=hh.members, status="moved_out",
                                           effective_at=m.at))
                session.commit()
                continue
            if kind == 3:
                week = WeekIn.parse({f"weekday_{d}": NEW_RANGES for d in range(7)},
                                    effective_from=NEW_WINDOWS_FROM)
                for w in worlds:
                    stations_manage.set_weekly_windows(session, actor=managers[w], now=moment,
                                                       station_id=stations[w].id, week=week)
                session.commit()
                continue
            e = events[index]
            if e.regrade_to is None:
                item = DropIn.model_validate({
                    "client_id": f"{e.world}-{e.fact.k:06d}",
                    "station_id": stations[e.world].id, "category": e.fact.category,
                    "quality": e.fact.quality, "happened_at": e.fact.at,
                    "card": cards[e.world][e.fact.home]}, strict=False)
                out = stations_services.record_drop(session, actor=actors[e.world], item=item,
                                                    now=moment)
                drop_ids[(e.world, e.fact.k)] = out.id
            else:
                stations_services.regrade_drop(session, actor=managers[e.world],
                                               drop_id=drop_ids[(e.world, e.fact.k)],

data=RegradeIn.parse(quality=e.regrade_to, reason="复核"))
            session.commit()

    # Points: balances per household, and the ledger's sum per drop.
    if os.environ.get("LATE_DATA_DEBUG"):
        _debug(session, homes)
    assert [points_services.balance(session, h.id) for h in homes["a"]] == \
        [points_services.balance(session, h.id) for h in homes["b"]]
    sums = dict(session.execute(select(col(LedgerEntry.drop_id), func.sum(LedgerEntry.amount))
                                .where(col(LedgerEntry.drop_id).is_not(None))
                                .group_by(col(LedgerEntry.drop_id))).all())
    for f in facts:
        assert sums.get(drop_ids[("a", f.k)], 0) == sums.get(drop_ids[("b", f.k)], 0), f
    # Every drop stored once, with the same day, window verdict and final quality.
    assert _drops(session, world.a.id) == _drops(session, world.b.id)
    # Rollups and monthly ratings.
    for model, key in ((StationDay, ("local_date", "category")), (CommunityDay, ("local_date",)),
                       (CoverageDay, ("local_date",))):
        assert _rows(session, model, world.a.id, key) == _rows(session, model, world.b.id, key)
    ratings = {w: [(r.month, r.level, r.status, r.metrics) for r in session.execute(
        select(Rating).where(col(Rating.community_id) == c.id).order_by(col(Rating.month))
    ).scalars()] for w, c in worlds.items()}
    assert ratings["a"] == ratings["b"]
    rated = {m: status for m, _level, status, _x in ratings["a"]}
    assert [rated.get(m) for m in (date(2026, 11, 1), date(2026, 12, 1), date(2027, 1, 1))] \
        == ["final"] * 3


def _run_job(session: Session, job: str, moment: datetime) -> None:
    if job == "rollup":
        ratings_jobs.roll_up_day(session, day=moment.date() - timedelta(days=1), now=moment)
    elif job == "refresh":
        ratings_jobs.refresh_dirty(session, now=moment)
    else:
        prev = (moment.date().replace(day=1) - timedelta(days=1)).replace(day=1)
        ratings_jobs.rate_month(session, month=prev, now=moment)
    session.commit()


def _drops(session: Session, community_id: int) -> list[tuple]:
    rows = session.execute(
        select(col(Drop.client_id), col(Drop.local_date), col(Drop.in_window), col(Drop.quality))
        .where(col(Drop.community_id) == community_id)).all()
    return sorted((cid[2:], day, inside, q) for cid, day, inside, q in rows)


def _rows(session: Session, model: type, community_id: int, key: tuple[str, ...]) -> list:
    table = model.__table__
    skip = {"community_id", "station_id", "built_at"}
    cols = [c for c in table.columns if c.name not in skip]
    rows = session.execute(select(*cols).where(table.c.community_id == community_id)).all()
    return sorted(tuple(r) for r in rows)



def _debug(session: Session, homes: dict) -> None:
    from community.points.models import PointsAccount
    for n in range(HOUSEHOLDS):
        got = {}
        for w in ("a", "b"):
            acct = session.execute(select(PointsAccount.id).where(
                PointsAccount.household_id == homes[w][n].id)).scalar()
            got[w] = session.execute(
                select(LedgerEntry.local_date, LedgerEntry.kind, LedgerEntry.amount,
                       LedgerEntry.source, LedgerEntry.reason)
                .where(LedgerEntry.account_id == acct).order_by(LedgerEntry.id)).all()
        if sum(r[2] for r in got["a"]) != sum(r[2] for r in got["b"]):
            for w in ("a", "b"):
                print(w, [(str(d)[5:], k, a, r) for d, k, a, _s, r in got[w]])  # noqa: T201
            return
