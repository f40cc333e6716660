"""The demo drops and ledgers: `days` days of drops ending yesterday, and today's drops up to
the moment the demo is built (the windows that have passed), with realistic patterns,
bulk-inserted with SQLAlchemy Core, then every identified drop scored day by day.

Today's drops are drawn after every other day's, from the same stream, so the past days are
the same whenever the demo is built; a drop not uploaded yet (its `received_at` still to
come) is left out. Today is not rolled up (the ratings step rolls up the past days): the
pages read today's drops raw, as they do for real scans until the nightly rollup."""
from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from itertools import groupby
from typing import Any
from zoneinfo import ZoneInfo

import click
from sqlalchemy import insert, select, update
from sqlmodel import Session, col

from community import clock
from community.areas.models import Area
from community.auth.models import RoleGrant
from community.demo.city import station_for_building
from community.demo.context import (
    CHUNK,
    Demo,
    building_numbers,
    placeholder_photos,
)
from community.households.models import Card, Household
from community.points import services as points_services
from community.points.models import PointsAccount
from community.points.rules import DropFacts
from community.rows import pk, table_of
from community.stations import windows
from community.stations.models import Drop, Station, StationException, StationWindow

# Per community: accuracy (准确率) around which buildings and households vary, and the share of
# active households dropping on a given day. Spread apart so the ratings come out different.
PROFILE: dict[str, tuple[float, float]] = {
    "yulong": (0.95, 0.68), "tongxin": (0.88, 0.64), "jinpu": (0.92, 0.66),
    "kangzhuang": (0.80, 0.58), "pingjiang": (0.85, 0.62), "taohuawu": (0.90, 0.65),
    "zhuhui": (0.76, 0.56), "erlangxiang": (0.97, 0.67),
}
IN_WINDOW_SHARE = 0.86
GRACE_SHARE = 0.04  # of the in-window drops: just before or after the window, within grace
# How likely a household drops each category on a day it comes (kitchen almost always).
CATEGORY_ODDS = (("kitchen", 0.93), ("other", 0.55), ("recyclable", 0.18), ("hazardous", 0.015))
UNGRADED_SHARE = 0.05
TALLY_SHARE = 0.03
MANUAL_SHARE = 0.04
# A steward's note on an incorrect drop says what was wrong with it: one of its reason's own
# (a drop without a reason, a tally, takes its category's first reason's). Four each, drawn
# as the one shared list was, so the demo's random stream (and every other figure) is kept.
INCORRECT_NOTES = {
    "kitchen_plastic_bag": ("厨余连塑料袋整袋投入", "厨余中混有塑料袋", "未破袋直接投放",
                            "塑料袋扔进了厨余桶"),
    "residual_in_kitchen": ("其他垃圾混入厨余", "厨余里混有纸巾", "大骨头投入厨余桶",
                            "一次性餐盒混入厨余"),
    "recyclable_dirty": ("可回收物未清洗", "饮料瓶未倒空", "纸箱沾有油污", "罐头盒未冲洗"),
    "hazardous_mixed": ("废电池未单独投放", "过期药品混在袋中", "灯管未包好", "油漆桶混投"),
    "bulky_mixed": ("装修垃圾投入其他垃圾桶", "旧家具部件混入其他垃圾", "大块木板塞进桶里",
                    "瓷砖碎块混入其他垃圾"),
}
# The mis-drop reasons (stations.reasons' seeded codes) an incorrect drop of each category
# carries, picked by the drop's number (no draw from the demo's random stream, so every other
# figure of the demo stays as it was).
DEMO_REASONS = {"kitchen": ("kitchen_plastic_bag", "kitchen_plastic_bag", "residual_in_kitchen"),
                "recyclable": ("recyclable_dirty",), "hazardous": ("hazardous_mixed",),
                "other": ("bulky_mixed",)}
WEIGHTS_KG = {"kitchen": (0.3, 2.5), "other": (0.2, 3.0), "recyclable": (0.2, 3.0),
              "hazardous": (0.2, 0.6)}


def _schedules(session: Session, stations: list[Station], tz: str, first: date, last: date
               ) -> dict[int, tuple[windows.Schedule, dict[date, tuple[windows.TimeRange, ...]]]]:
    """Each station's weekly schedule and its exceptions between `first` and `last`."""
    ids = [pk(s) for s in stations]
    weekly: dict[int, dict[int, list[windows.TimeRange]]] = {i: {} for i in ids}
    for w in session.execute(select(StationWindow).where(
            col(StationWindow.station_id).in_(ids))).scalars():
        weekly[w.station_id].setdefault(w.weekday, []).append((w.start_time, w.end_time))
    exc: dict[int, dict[date, list[windows.TimeRange]]] = {i: {} for i in ids}
    for e in session.execute(select(StationException).where(
            col(StationException.station_id).in_(ids),
            col(StationException.day) >= first - timedelta(days=1),
            col(StationException.day) <= last + timedelta(days=1))).scalars():
        ranges = exc[e.station_id].setdefault(e.day, [])
        if e.start_time is not None and e.end_time is not None:
            ranges.append((e.start_time, e.end_time))
    return {i: (windows.Schedule({d: tuple(r) for d, r in weekly[i].items()}, tz),
                {d: tuple(r) for d, r in exc[i].items()}) for i in ids}


def drop_time(rng: random.Random, day: date, tz: ZoneInfo, day_windows: list[windows.Window],
              habit: int, lean: float, grace: int) -> datetime:
    """When a household drops on `day` (aware, local): mostly inside its usual window, else
    过时投放 just outside a window's edges, around noon or late in the evening."""
    window = day_windows[habit if habit < len(day_windows) else 0]
    if rng.random() < IN_WINDOW_SHARE:
        if rng.random() < GRACE_SHARE:
            margin = timedelta(minutes=rng.uniform(0, grace * 0.9))
            return window.start - margin if rng.random() < 0.4 else window.end + margin
        span = (window.end - window.start).total_seconds()
        return window.start + timedelta(seconds=rng.triangular(0, span, lean * span))
    kind = rng.random()
    if kind < 0.55:
        late = timedelta(minutes=rng.uniform(grace + 1, grace + 45))
        return window.start - late if rng.random() < 0.45 else window.end + late
    start = time(11, 0) if kind < 0.75 else time(20, 30)
    return datetime.combine(day, start, tzinfo=tz) + timedelta(minutes=rng.uniform(0, 150))


def _recorders(session: Session, community: Area) -> list[int]:
    """Account ids of the community's stewards (its manager when it has none)."""
    for role in ("steward", "manager"):
        ids = list(session.execute(
            select(col(RoleGrant.account_id)).where(col(RoleGrant.area_id) == community.id,
                                                    col(RoleGrant.role) == role)
            .order_by(col(RoleGrant.account_id))).scalars())
        if ids:
            return ids
    return []


def add_drops(demo: Demo) -> None:
    """`demo.days` days of drops ending yesterday, and today's so far, per community in one
    transaction each, scored day by day as they are stored (`_store_and_score`)."""
    session = demo.session
    drop = table_of(Drop)
    with click.progressbar(list(demo.communities.items()),
                           label=f"Drops ({demo.days} days)") as bar:
        for slug, community in bar:
            if session.execute(select(drop.c.id).where(drop.c.community_id == community.id)
                               .limit(1)).first() is not None:
                continue  # the community already has drops: demo data is never mixed in
            rows = plan_drops(demo, slug, community)
            _store_and_score(session, community, rows)
            demo.created += len(rows)
            _verdict_photos(session, pk(community))
            session.commit()


def _store_and_score(session: Session, community: Area, rows: list[dict[str, Any]]) -> None:
    """Store the drop rows one local day at a time and score each day's identified drops
    right after its rows, as they came in: points read their facts from the drop rows, so
    a day scored with later days' rows already stored saw drops that had not happened yet
    (strikes and runs of the days after it) and dated its penalties and bonuses on those
    later days, before the moment it recorded them. Entries of a past day are recorded on
    its evening (21:00) or when its last drop arrived, if later; today's at the build."""
    drop = table_of(Drop)
    zone = ZoneInfo(community.timezone)
    now = clock.now()
    today = now.astimezone(zone).date()
    for day, group in groupby(rows, key=lambda r: r["local_date"]):
        day_rows = list(group)
        for start in range(0, len(day_rows), CHUNK):
            session.execute(insert(drop), day_rows[start:start + CHUNK])
        if day == today:
            at = now
        else:
            at = max(datetime.combine(day, time(21, 0), tzinfo=zone),
                     *(r["received_at"] for r in day_rows))
        _score(session, community, day, at)


def _score(session: Session, community: Area, day: date | None, at: datetime) -> None:
    """Score a community's identified drops of `day` (every day when None), recorded `at`."""
    conds = [col(Drop.community_id) == community.id, col(Drop.household_id).is_not(None)]
    if day is not None:
        conds.append(col(Drop.local_date) == day)
    rows = session.execute(
        select(col(Drop.id), col(Drop.household_id), col(Drop.category), col(Drop.quality),
               col(Drop.in_window), col(Drop.local_date), col(Drop.happened_at))
        .where(*conds).order_by(col(Drop.local_date), col(Drop.happened_at), col(Drop.id))).all()
    for on, group in groupby(rows, key=lambda r: r.local_date):
        facts = [DropFacts(r.id, r.household_id, r.category, r.quality, r.in_window, on,
                           r.happened_at) for r in group]
        points_services.award_for_drops(session, facts, community_id=pk(community), now=at)


VERDICT_PHOTOS = 5  # the latest incorrect identified drops of a community get a photo


def _verdict_photos(session: Session, community_id: int) -> None:
    """A few photos on a community's latest incorrect drops, as a steward takes them with
    the verdict (the demo's placeholder pictures, one per category)."""
    drop = table_of(Drop)
    photos = placeholder_photos()
    latest = session.execute(
        select(drop.c.id, drop.c.category).where(
            drop.c.community_id == community_id, drop.c.quality == "incorrect",
            drop.c.household_id.is_not(None), drop.c.photo.is_(None))
        .order_by(drop.c.happened_at.desc(), drop.c.id.desc()).limit(VERDICT_PHOTOS)).all()
    for drop_id, category in latest:
        if category in photos:
            session.execute(update(drop).where(drop.c.id == drop_id)
                            .values(photo=photos[category]))


def plan_drops(demo: Demo, slug: str, community: Area) -> list[dict[str, Any]]:
    """The drop rows of one community (not yet inserted), drawn from the demo's seed: the
    `demo.days` days before today, then today's up to now (uploaded by now)."""
    session = demo.session
    stations = list(session.execute(select(Station).where(
        col(Station.community_id) == community.id, col(Station.status) == "open")
        .order_by(col(Station.id))).scalars())
    recorders = _recorders(session, community)
    if not stations or not recorders:
        return []
    hh, card = table_of(Household), table_of(Card)
    homes = session.execute(
        select(hh.c.id, hh.c.building, card.c.id)
        .join(card, (card.c.household_id == hh.c.id) & (card.c.status == "active"))
        .where(hh.c.community_id == community.id, hh.c.status == "active")
        .order_by(hh.c.id)).all()
    tz = ZoneInfo(community.timezone)
    now = clock.now()
    today = now.astimezone(tz).date()
    first = today - timedelta(days=demo.days)
    schedules = _schedules(session, stations, community.timezone, first, today)
    rng = demo.rng_for("drops", slug)
    accuracy, participation = PROFILE.get(slug, (0.85, 0.62))
    buildings = building_numbers(session, community)
    building_acc = {b: accuracy + rng.uniform(-0.08, 0.04) for b in buildings}
    # Per household: how often it comes, its usual window and minute, how well it sorts.
    people = []
    for hid, building, card_id in homes:
        b = int(building) if building.isdigit() else 1
        come = rng.betavariate(participation * 4, (1 - participation) * 4)
        sorts = min(0.995, max(0.3, building_acc.get(b, accuracy) + rng.gauss(0, 0.03)))
        home = station_for_building(b, len(buildings), len(stations))
        people.append((hid, card_id, come, home, int(rng.random() < 0.55),
                       rng.uniform(0.15, 0.85), sorts))
    rows: list[dict[str, Any]] = []
    day = first
    while day <= today:
        open_windows = [windows.windows_on(*schedules[s.id], day) for s in stations]
        for hid, card_id, come, home, habit, lean, sorts in people:
            if rng.random() >= come:
                continue
            cats = [c for c, odds in CATEGORY_ODDS if rng.random() < odds] or ["kitchen"]
            moment = None
            for cat in cats[:3]:
                k = _station_index(stations, open_windows, home, cat)
                if k is None:
                    continue
                station = stations[k]
                if moment is None:
                    moment = drop_time(rng, day, tz, open_windows[k], habit, lean,
                                       station.grace_minutes)
                else:  # the same trip: a few seconds between bins
                    moment += timedelta(seconds=rng.randint(5, 40))
                rows.append(_drop_row(rng, slug, len(rows), station, k, cat, sorts,
                                      hid, card_id, recorders, moment, schedules[station.id]))
        day += timedelta(days=1)
    # Today's plan runs to midnight: keep what has been uploaded by now.
    return [r for r in rows if r["received_at"] <= now]


def _station_index(stations: list[Station], open_windows: list[list[windows.Window]],
                   home: int, category: str) -> int | None:
    """The household's own station if open with a bin for `category`, else the first that is."""
    for k in (home, *range(len(stations))):
        if open_windows[k] and category in stations[k].category_list():
            return k
    return None


def _drop_row(rng: random.Random, slug: str, n: int, station: Station, k: int,
              category: str, sorts: float, hid: int, card_id: int, recorders: list[int],
              moment: datetime, schedule: tuple[windows.Schedule, dict]) -> dict[str, Any]:
    happened = moment.astimezone(UTC)
    if rng.random() < UNGRADED_SHARE:
        quality = "ungraded"
    else:
        slip = 0.04 if category == "kitchen" else 0.10 if category == "hazardous" else 0.0
        quality = "correct" if rng.random() < sorts - slip else "incorrect"
    tally = rng.random() < TALLY_SHARE
    source = "tally" if tally else "manual" if rng.random() < MANUAL_SHARE else "scan"
    weight = None
    if k == 0:  # the main station stands on a scale
        low, high = WEIGHTS_KG[category]
        weight = Decimal(f"{rng.uniform(low, high):.2f}")
    # Mostly uploaded at once; a few sat in an offline queue for a while.
    delay = rng.uniform(60, 3600) if rng.random() < 0.03 else rng.uniform(1, 20)
    reason = (DEMO_REASONS[category][n % len(DEMO_REASONS[category])]
              if quality == "incorrect" and not tally else None)
    note = (rng.choice(INCORRECT_NOTES[reason or DEMO_REASONS[category][0]])
            if quality == "incorrect" and rng.random() < 0.2 else None)
    return {
        "client_text": f"demo-{slug}-{n + 1:07d}", "station_id": station.id,
        "community_id": station.community_id, "category": category, "quality": quality,
        "source": source, "household_id": None if tally else hid,
        "card_id": None if tally else card_id, "recorded_by": rng.choice(recorders),
        "device_id": None, "happened_at": happened,
        "received_at": happened + timedelta(seconds=delay),
        "local_date": moment.date(),
        "in_window": windows.classify(schedule[0], schedule[1], happened,
                                      station.grace_minutes).in_window,
        "weight_kg": weight, "note": note, "photo": None,
        "reason_code": reason,
    }


def add_points(demo: Demo) -> None:
    """Ledgers follow the demo drops: `add_drops` scores each day as it stores it. A
    community with drops and no ledger yet (stored by an older build) is scored here, day
    by day, as recorded now (never dated after the moment it was recorded)."""
    session = demo.session
    with click.progressbar(list(demo.communities.items()), label="Points ledgers") as bar:
        for _slug, community in bar:
            started = session.execute(select(col(PointsAccount.id)).where(
                col(PointsAccount.community_id) == community.id).limit(1)).first()
            if started is not None:  # scored by `add_drops` (or by real scans)
                continue
            _score(session, community, None, clock.now())
            session.commit()
