"""Daily rollups: build one local day of figures from the raw drops and check-ins, and read
totals for any scope and period, merging today's raw rows since local midnight.

Building a day replaces that day's rows (DELETE + INSERT … SELECT in one transaction, the
caller commits), so re-running a day changes nothing. Grouping runs in SQL with the
`(community_id, local_date)` index; only the hour of day is mapped to local time in Python
(SQL never converts UTC to local dates here). Dashboards and ratings read these tables and
never scan a month of raw drops.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    Table,
    and_,
    case,
    cast,
    delete,
    exists,
    func,
    literal,
    select,
    text,
    union,
    union_all,
)
from sqlalchemy.schema import CreateTable, DropTable
from sqlmodel import Session, SQLModel, col

from community import clock
from community.areas.models import Area
from community.collection import queries as collection_queries
from community.collection import rules as collection_rules
from community.households import queries as households_queries
from community.households.models import Household
from community.ratings.metrics import Counts, Totals
from community.ratings.models import (
    BuildingDay,
    CommunityDay,
    CoverageDay,
    HourDay,
    HouseholdMonth,
    RollupDay,
    StationDay,
)
from community.rows import insert_ignoring, table_of
from community.stations import services as stations_services
from community.stations import windows
from community.stations.models import CATEGORY_CODE, Drop, Station
from community.volunteers.models import Shift, ShiftAssignment

D = table_of(Drop).c


def month_start(day: date) -> date:
    """The first day of `day`'s month."""
    return day.replace(day=1)


# --- Building a day ----------------------------------------------------------------------

def _counts_columns(src: Any = D) -> list[Any]:
    graded = src.quality.in_(("correct", "incorrect"))
    return [
        func.count().label("drops"),
        func.sum(case((src.household_id.is_not(None), 1), else_=0)).label("identified"),
        func.sum(case((src.household_id.is_(None), 1), else_=0)).label("tallies"),
        func.sum(case((graded, 1), else_=0)).label("graded"),
        func.sum(case((src.quality == "correct", 1), else_=0)).label("correct"),
        func.sum(case((src.quality == "incorrect", 1), else_=0)).label("incorrect"),
        func.sum(case((src.in_window.is_(False), 1), else_=0)).label("out_of_window"),
        func.sum(case((src.weight_kg.is_not(None), 1), else_=0)).label("weighed"),
        func.coalesce(func.sum(src.weight_kg), 0).label("kg"),
    ]


def _day_filter(day: date, community_ids: Sequence[int] | None) -> list[Any]:
    # A voided drop (a steward's undo) no longer counts anywhere.
    where = [D.local_date == day, D.voided_at.is_(None)]
    if community_ids is not None:
        where.append(D.community_id.in_(list(community_ids)))
    return where


# The columns of a day's drops that the rollups read, copied once per build into a
# temporary table (`_day_drops`): every part then reads that narrow table instead of
# fetching the same rows from the big table again (one pass over the drops, not five).
_DAY_COLUMNS = ("station_id", "local_date", "category", "community_id", "quality",
                "household_id", "in_window", "weight_kg", "happened_at")
DAY_DROPS = "tmp_rollup_day_drops"
DAY_HOUSEHOLDS = "tmp_rollup_day_households"  # the same drops, one row per household
# Sorts and hashes of a city's day stay in memory (the default 4 MB spills them to disk).
WORK_MEM = "64MB"


# The two temporary tables, described once: statements naming the same Table objects hit
# SQLAlchemy's compiled cache (described per build, 7 statements were compiled anew on every
# build_day: a fifth of a late-data test's time).
_DAY_DROPS_TABLE = Table(DAY_DROPS, MetaData(), *[Column(n, D[n].type) for n in _DAY_COLUMNS],
                         prefixes=["TEMPORARY"])
_DAY_HOUSEHOLDS_TABLE = Table(DAY_HOUSEHOLDS, MetaData(), Column("community_id", Integer),
                              Column("local_date", D["local_date"].type),
                              Column("household_id", Integer), Column("drops", Integer),
                              Column("graded", Integer), Column("correct", Integer),
                              Column("out_of_window", Integer), prefixes=["TEMPORARY"])


def _day_drops(session: Session, day: date, ids: Sequence[int]) -> Any:
    """Copy the day's counted drops of these communities into a temporary table (dropped by
    `_drop_day_drops`, or with the transaction when it fails); returns its columns."""
    table = _DAY_DROPS_TABLE
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"SET LOCAL work_mem = '{WORK_MEM}'"))
    session.execute(DropTable(table, if_exists=True))
    session.execute(CreateTable(table))
    session.execute(table.insert().from_select(
        list(_DAY_COLUMNS), select(*[D[n] for n in _DAY_COLUMNS]).where(*_day_filter(day, ids))))
    return table.c


def _day_households(session: Session, src: Any) -> Any:
    """The identified drops of `src` per (community, household), in a temporary table: the
    buildings, the month's households and the day's participants all start from it, so the
    drops are grouped by household once, not three times."""
    table = _DAY_HOUSEHOLDS_TABLE
    session.execute(DropTable(table, if_exists=True))
    session.execute(CreateTable(table))
    graded = src.quality.in_(("correct", "incorrect"))
    session.execute(table.insert().from_select(
        ["community_id", "local_date", "household_id", "drops", "graded", "correct",
         "out_of_window"],
        select(src.community_id, src.local_date, src.household_id, func.count(),
               func.sum(case((graded, 1), else_=0)),
               func.sum(case((src.quality == "correct", 1), else_=0)),
               func.sum(case((src.in_window.is_(False), 1), else_=0)))
        .where(src.household_id.is_not(None))
        .group_by(src.community_id, src.local_date, src.household_id)))
    return table.c


def _drop_day_drops(session: Session) -> None:
    for name in (DAY_HOUSEHOLDS, DAY_DROPS):
        session.execute(text(f"DROP TABLE IF EXISTS {name}"))


def _station_day_select(src: Any) -> Any:
    # The drop's category is a SMALLINT code (`models.CATEGORY_CODE`); station_day keeps
    # the text, given back per group (not per drop).
    return (select(src.station_id, src.local_date, CATEGORY_CODE.sql_case(src.category),
                   src.community_id, *_counts_columns(src))
            .group_by(src.station_id, src.local_date, src.category, src.community_id))


def _utc_hour(session: Session, src: Any = D) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.extract("hour", func.timezone("UTC", src.happened_at)), Integer)
    return cast(func.strftime("%H", src.happened_at), Integer)  # stored as UTC text


def _hour_rows(session: Session, day: date, src: Any,
               zones: dict[int, str]) -> list[dict[str, Any]]:
    """By local hour: SQL groups by UTC hour, Python maps each to the community's local hour."""
    hour = _utc_hour(session, src)
    graded = src.quality.in_(("correct", "incorrect"))
    rows = session.execute(
        select(src.community_id, hour.label("utc_hour"), func.count(),
               func.sum(case((src.in_window.is_(False), 1), else_=0)),
               func.sum(case((graded, 1), else_=0)),
               func.sum(case((src.quality == "correct", 1), else_=0)))
        .group_by(src.community_id, hour)).all()
    out: dict[tuple[int, int], dict[str, Any]] = {}
    start = datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(days=1)
    for community_id, utc_hour, drops, oow, graded_n, correct in rows:
        zone = ZoneInfo(zones.get(community_id, clock.DEFAULT_TZ))
        # The drop's local date is `day`, so its UTC moment lies within a day of it: find the
        # UTC hour whose local date is `day` (whole-hour offsets, as in China, map exactly).
        local_hour = next(
            (m.astimezone(zone).hour for m in (start + timedelta(days=k, hours=int(utc_hour))
                                               for k in range(3))
             if m.astimezone(zone).date() == day), int(utc_hour))
        key = (community_id, local_hour)
        row = out.setdefault(key, {"community_id": community_id, "local_date": day,
                                   "hour": local_hour, "drops": 0, "out_of_window": 0,
                                   "graded": 0, "correct": 0})
        row["drops"] += int(drops)
        row["out_of_window"] += int(oow or 0)
        row["graded"] += int(graded_n or 0)
        row["correct"] += int(correct or 0)
    return list(out.values())


def _building_select(per: Any, ids: Sequence[int]) -> Any:
    """From the day's drops per household (`_day_households`) to buildings: the join reads
    each household once, and only those of these communities (through the index led by
    community_id; a drop's household is always of the drop's community: a card of another
    community is refused)."""
    return (select(per.community_id, per.local_date, col(Household.building),
                   func.sum(per.drops), func.sum(per.graded), func.sum(per.correct),
                   func.sum(per.out_of_window))
            .join(Household, and_(col(Household.id) == per.household_id,
                                  col(Household.community_id) == per.community_id))
            .where(col(Household.community_id).in_(list(ids)))
            .group_by(per.community_id, per.local_date, Household.building))


@dataclass(frozen=True)
class BuildCounts:
    """What building one day did."""

    day: date
    communities: int
    station_rows: int
    drops: int


def _communities(session: Session, community_ids: Sequence[int] | None) -> dict[int, str]:
    stmt = select(col(Area.id), col(Area.timezone)).where(col(Area.level) == "community")
    if community_ids is not None:
        stmt = stmt.where(col(Area.id).in_(list(community_ids)))
    return dict(session.execute(stmt).all())


# What each part of a day's rollups is built from, and so which dirty causes can change it
# (community/dirty: a drop stored or voided, a regrade, a household moving, a steward's
# presence, a schedule). A refresh rebuilds only the parts its marks can have changed; a
# cause not listed here rebuilds every part, and so does a day never built before.
PARTS: frozenset[str] = frozenset({"stations", "hours", "buildings", "household_months",
                                   "community", "coverage"})
PARTS_BY_CAUSE: dict[str, frozenset[str]] = {
    "drops": frozenset({"stations", "hours", "buildings", "household_months", "community"}),
    "regrades": frozenset({"stations", "hours", "buildings"}),  # quality only
    "households": frozenset({"community"}),  # active households at the day's end
    "presence": frozenset({"coverage"}),
    "schedule": frozenset({"coverage"}),  # a drop's in_window is kept as it was recorded
    # A late collection changes no drop table: the month's figures read the collections
    # themselves (`community_totals`), so only the day's rating is redone.
    "collections": frozenset(),
}


_FROM_DROPS = frozenset({"stations", "hours", "buildings", "household_months", "community"})


def parts_for(counts: Mapping[str, int]) -> frozenset[str]:
    """The parts of a day's rollups that the causes of a dirty mark can have changed."""
    out: frozenset[str] = frozenset()
    for cause, n in counts.items():
        if n:
            out |= PARTS_BY_CAUSE.get(cause, PARTS)
    # Marks that name only causes rebuilding nothing (a late collection) rebuild nothing.
    return out if any(counts.values()) else PARTS


def build_day(session: Session, day: date, *, community_ids: Sequence[int] | None = None,
              now: datetime | None = None, parts: frozenset[str] = PARTS) -> BuildCounts:
    """Replace the rollup rows of one local day (all communities, or some); flushes only.

    Set-based: each part is one statement (or one read) over all the given communities at
    once. `parts`: only those tables are replaced (the refresh passes what its dirty marks
    can have changed); the day's `rollup_day` row is always rewritten.
    """
    now = now or clock.now()
    zones = _communities(session, community_ids)
    # Always by community: every query then uses the (community_id, local_date) index; a
    # filter on local_date alone would scan the whole drop table (measured: 13 s vs 1.3 s).
    ids = list(zones)
    tables: list[tuple[str, type[SQLModel]]] = [
        ("stations", StationDay), ("hours", HourDay), ("buildings", BuildingDay),
        ("coverage", CoverageDay), ("community", CommunityDay), ("", RollupDay)]
    for part, model in tables:
        if part and part not in parts:
            continue
        table = table_of(model)
        session.execute(delete(table).where(table.c.local_date == day,
                                            table.c.community_id.in_(ids)))
    sd = table_of(StationDay)
    if parts & _FROM_DROPS and ids:
        src = _day_drops(session, day, ids)
        if "stations" in parts:
            session.execute(sd.insert().from_select(
                ["station_id", "local_date", "category", "community_id", "drops", "identified",
                 "tallies", "graded", "correct", "incorrect", "out_of_window", "weighed", "kg"],
                _station_day_select(src)))
        if "hours" in parts:
            hours = _hour_rows(session, day, src, zones)
            if hours:
                session.execute(table_of(HourDay).insert(), hours)
        if parts & {"buildings", "household_months", "community"}:
            per = _day_households(session, src)
            if "buildings" in parts:
                session.execute(table_of(BuildingDay).insert().from_select(
                    ["community_id", "local_date", "building", "drops", "graded", "correct",
                     "out_of_window"], _building_select(per, ids)))
            if "household_months" in parts:
                _household_months(session, day, ids, per)
            if "community" in parts:
                _community_days(session, day, zones, per)
        _drop_day_drops(session)
    if "coverage" in parts:
        _coverage(session, day, zones)
    if zones:  # (an empty executemany would insert one row of defaults)
        session.execute(table_of(RollupDay).insert(), [
            {"community_id": c, "local_date": day, "built_at": now} for c in zones])
    session.flush()
    drops, rows = session.execute(
        select(func.coalesce(func.sum(sd.c.drops), 0), func.count())
        .where(sd.c.local_date == day, sd.c.community_id.in_(ids))).one()
    return BuildCounts(day, len(zones), int(rows), int(drops))


def _household_months(session: Session, day: date, ids: Sequence[int], per: Any) -> None:
    """Households active in the month: added, never removed (a drop is never deleted).
    Only those not there yet are inserted (a rebuilt day's households mostly are: an
    anti-join costs about half of letting each row hit the conflict)."""
    hm = table_of(HouseholdMonth)
    month = month_start(day)
    key = ["community_id", "month", "household_id"]
    known = exists().where(hm.c.community_id == per.community_id, hm.c.month == month,
                           hm.c.household_id == per.household_id,
                           hm.c.community_id.in_(list(ids)))
    # ON CONFLICT still: the nightly job and a refresh may add the same household at once.
    session.execute(insert_ignoring(session, hm, on=key).from_select(
        key, select(per.community_id, literal(month), per.household_id).where(~known)))


def _active_and_dropped(session: Session, ends: dict[int, datetime],
                        dropped: Any) -> dict[int, tuple[int, int]]:
    """Per community: (households active at its end, those of them in `dropped`), one query.

    `dropped` is a subquery of distinct (community_id, household_id) that made an identified
    drop in the period; a household that dropped but was not active at the end (moved out,
    or moved in after the period) is in neither count, so participation never exceeds 1.
    """
    active = households_queries.active_before(ends)
    # One pass over both sets, grouped by household: linear on both backends. A LEFT JOIN of
    # the two subqueries is a nested loop without an index on SQLite (quadratic: 0.3 s at
    # 3,000 households), and `IN (subquery)` a SubPlan that PostgreSQL rescans for every
    # active household once the dropped set outgrows work_mem (a city's day: minutes; see
    # BENCHMARKS.md, "Rolling up a city's dirty day"). A household has one community.
    one, zero = literal(1, Integer), literal(0, Integer)
    both = union_all(
        select(active.c.community_id, active.c.household_id, one.label("active"),
               zero.label("dropped")),
        select(dropped.c.community_id, dropped.c.household_id, zero, one)).subquery()
    per = (select(both.c.community_id, func.max(both.c.active).label("active"),
                  func.max(both.c.dropped).label("dropped"))
           .group_by(both.c.community_id, both.c.household_id).subquery())
    return {c: (int(n), int(d or 0)) for c, n, d in session.execute(
        select(per.c.community_id, func.count(), func.sum(per.c.dropped))
        .where(per.c.active == 1).group_by(per.c.community_id)).all()}


def _community_days(session: Session, day: date, zones: dict[int, str], per: Any) -> None:
    """Households active at the end of THAT local day (from their history, so a day rebuilt
    later gets the same figure) and how many of them made an identified drop on it (`per`:
    the day's drops per household, `_day_households`)."""
    dropped = select(per.community_id, per.household_id).subquery()
    counts = _active_and_dropped(
        session, {c: households_queries.local_end(day, tz) for c, tz in zones.items()}, dropped)
    rows = [{"community_id": c, "local_date": day,
             "households_dropped": counts.get(c, (0, 0))[1],
             "active_households": counts.get(c, (0, 0))[0]} for c in zones]
    if rows:
        session.execute(table_of(CommunityDay).insert(), rows)


def _coverage(session: Session, day: date, zones: dict[int, str]) -> None:
    """Steward coverage of local day `day` (DOMAIN.md "Scheduled windows", "A steward checked
    in during a window").

    Scheduled = the windows that start on `day` at stations that existed and were open then,
    under the schedule version (weekly ranges, exceptions) in force on `day` — from the
    stations' history, never today's settings: a station exists from its creation day, and a
    window counts when the station was open at its start. Staffed = a scheduled window that
    a steward presence overlaps: from the check-in to the check-out, or to the shift's end
    when never checked out. Overlap means sharing more than an instant (a check-out exactly
    at the window's start does not count). Rows only for stations that existed that day.
    """
    stations = {sid: (cid, created) for sid, cid, created in session.execute(
        select(col(Station.id), col(Station.community_id), col(Station.created_at))
        .where(col(Station.community_id).in_(list(zones)))).all()
        if created.astimezone(ZoneInfo(zones[cid])).date() <= day}
    if not stations:
        return
    infos = stations_services.load_station_schedules(session, set(stations), {day})
    day_start = datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(days=1)
    presences: dict[int, list[tuple[datetime, datetime]]] = {}
    for station_id, checked_in, checked_out, shift_end in session.execute(
            select(col(Shift.station_id), col(ShiftAssignment.checked_in_at),
                   col(ShiftAssignment.checked_out_at), col(Shift.ends_at))
            .join(Shift, col(Shift.id) == ShiftAssignment.shift_id)
            .where(col(Shift.station_id).in_(list(stations)),
                   col(ShiftAssignment.checked_in_at).is_not(None),
                   col(Shift.starts_at) >= day_start,
                   col(Shift.starts_at) < day_start + timedelta(days=3))):
        presences.setdefault(station_id, []).append(
            (checked_in, checked_out if checked_out is not None else shift_end))
    rows = []
    for station_id, info in infos.items():
        if not info.in_force(day).open:
            continue  # not created yet (no history: its creation day says) or suspended
        opened = windows.windows_on(info.station.schedule, info.exceptions, day)
        staffed = sum(1 for w in opened if any(
            start < w.end and end > w.start for start, end in presences.get(station_id, ())))
        rows.append({"station_id": station_id, "local_date": day,
                     "community_id": stations[station_id][0], "scheduled": len(opened),
                     "staffed": staffed})
    if rows:
        session.execute(table_of(CoverageDay).insert(), rows)


def days_to_build(session: Session, *, now: datetime, back: int = 2) -> list[date]:
    """The local days a refresh should (re)build: today and the `back` days before it."""
    today = clock.local_today(clock.DEFAULT_TZ, now)
    return [today - timedelta(days=k) for k in range(back, -1, -1)]


# --- Reading totals ----------------------------------------------------------------------

def _sum_counts(rows: Iterable[Any]) -> dict[int, dict[str, Counts]]:
    out: dict[int, dict[str, Counts]] = {}
    for r in rows:
        counts = Counts(int(r.drops), int(r.identified or 0), int(r.tallies or 0),
                        int(r.graded or 0), int(r.correct or 0), int(r.incorrect or 0),
                        int(r.out_of_window or 0), int(r.weighed or 0),
                        Decimal(str(r.kg or 0)))
        bucket = out.setdefault(r.key, {})
        bucket[r.category] = bucket.get(r.category, Counts()) + counts
    return out


def _built_days(session: Session, community_ids: Sequence[int], day_from: date,
                day_to: date) -> set[tuple[int, date]]:
    return set(session.execute(select(col(RollupDay.community_id), col(RollupDay.local_date)).where(
        col(RollupDay.community_id).in_(list(community_ids)),
        col(RollupDay.local_date) >= day_from, col(RollupDay.local_date) <= day_to)).all())


def community_totals(session: Session, community_ids: Sequence[int], day_from: date,
                     day_to: date, *, now: datetime | None = None) -> dict[int, Totals]:
    """Totals per community over [day_from, day_to] (local dates).

    Rolled-up days come from the rollup tables; days in the range not rolled up yet (today,
    since local midnight, or a day the job has not reached) are counted from the raw drops
    of those days only. Participation counts distinct households over the months the period
    touches (exact for a whole month, the usual period).
    """
    now = now or clock.now()
    ids = list(community_ids)
    out = {c: Totals() for c in ids}
    if not ids:
        return out
    built = _built_days(session, ids, day_from, day_to)
    sd = table_of(StationDay)
    rows = session.execute(
        select(sd.c.community_id.label("key"), sd.c.category,
               *[func.sum(getattr(sd.c, n)).label(n) for n in (
                   "drops", "identified", "tallies", "graded", "correct", "incorrect",
                   "out_of_window", "weighed", "kg")])
        .where(sd.c.community_id.in_(ids), sd.c.local_date >= day_from,
               sd.c.local_date <= day_to)
        .group_by(sd.c.community_id, sd.c.category))
    for key, cats in _sum_counts(rows).items():
        out[key].by_category = cats
    # Days not rolled up: from the raw drops (today, typically), with the same grouping.
    missing = _missing_days(ids, day_from, min(day_to, _max_today(session, ids, now)), built)
    # One raw query per set of communities missing the same days (usually: all, today only).
    by_ids: dict[tuple[int, ...], list[date]] = {}
    for day, missing_ids in missing.items():
        by_ids.setdefault(tuple(missing_ids), []).append(day)
    for day_ids, days in by_ids.items():
        raw = session.execute(
            select(D.community_id.label("key"), D.category, *_counts_columns())
            .where(D.local_date.in_(days), D.community_id.in_(day_ids),
                   D.voided_at.is_(None))
            .group_by(D.community_id, D.category))
        for key, cats in _sum_counts(raw).items():
            for cat, counts in cats.items():
                out[key].by_category[cat] = out[key].by_category.get(cat, Counts()) + counts
    _households(session, out, day_from, day_to, missing)
    cv = table_of(CoverageDay)
    for key, scheduled, staffed in session.execute(
            select(cv.c.community_id, func.sum(cv.c.scheduled), func.sum(cv.c.staffed))
            .where(cv.c.community_id.in_(ids), cv.c.local_date >= day_from,
                   cv.c.local_date <= day_to).group_by(cv.c.community_id)):
        out[key].windows_scheduled = int(scheduled or 0)
        out[key].windows_staffed = int(staffed or 0)
    _collections(session, out, ids, day_from, day_to)
    return out


def _collections(session: Session, out: dict[int, Totals], ids: Sequence[int], day_from: date,
                 day_to: date) -> None:
    """Add the collectors' figures (community/collection) as separate figures of each Totals:
    their kg for the station-days that weighed no drop, and the kitchen bins they found
    contaminated. Collections are few (a visit per station and pickup): two indexed reads, and
    a read of the weighed station-days only for stations that had collections. A late
    collection marks its day dirty (cause `collections`), so the month is re-rated."""
    for cid, n in collection_queries.contaminated_kitchen_bins(session, ids, day_from,
                                                               day_to).items():
        out[cid].pickup_contaminated_kitchen = n
    collected = collection_queries.station_day_kg(session, ids, day_from, day_to)
    if not collected:
        return
    stations = sorted({sid for _c, sid, _d in collected})
    sd = table_of(StationDay)
    weighed = {(sid, day) for sid, day, n in session.execute(
        select(sd.c.station_id, sd.c.local_date, func.sum(sd.c.weighed))
        .where(sd.c.station_id.in_(stations), sd.c.local_date >= day_from,
               sd.c.local_date <= day_to)
        .group_by(sd.c.station_id, sd.c.local_date)) if n}
    # Days not rolled up yet (today): their weighed drops straight from the drops.
    built = _built_days(session, ids, day_from, day_to)
    open_days = sorted({d for c, _s, d in collected if (c, d) not in built})
    if open_days:
        weighed |= {(sid, day) for sid, day in session.execute(
            select(D.station_id, D.local_date).where(
                D.community_id.in_(ids), D.local_date.in_(open_days),
                D.station_id.in_(stations), D.weight_kg.is_not(None), D.voided_at.is_(None))
            .distinct())}
    by_community: dict[int, dict[tuple[int, date], collection_rules.StationDayKg]] = {}
    for (cid, sid, day), kg in collected.items():
        # A station-day with weighed drops keeps its scale weights (the rollups' kg): the
        # truck's are left out so no waste is counted twice.
        by_community.setdefault(cid, {})[(sid, day)] = collection_rules.StationDayKg(
            collector=kg, weighed_drops=1 if (sid, day) in weighed else 0)
    for cid, days in by_community.items():
        out[cid].collected_kg = collection_rules.collector_kg_unweighed(days)


def _max_today(session: Session, ids: Sequence[int], now: datetime) -> date:
    zones = set(session.execute(select(col(Area.timezone)).where(col(Area.id).in_(ids))).scalars())
    return max((clock.local_today(z, now) for z in zones),
               default=clock.local_today(clock.DEFAULT_TZ, now))


def _missing_days(ids: Sequence[int], day_from: date, day_to: date,
                  built: set[tuple[int, date]]) -> dict[date, list[int]]:
    out: dict[date, list[int]] = {}
    day = day_from
    while day <= day_to:
        todo = [c for c in ids if (c, day) not in built]
        if todo:
            out[day] = todo
        day += timedelta(days=1)
    return out


def _households(session: Session, out: dict[int, Totals], day_from: date, day_to: date,
                missing: dict[date, list[int]]) -> None:
    ids = list(out)
    months = sorted({month_start(day_from), month_start(day_to)}
                    | {month_start(d) for d in missing})
    hm = table_of(HouseholdMonth)
    parts = [select(hm.c.community_id, hm.c.household_id).where(
        hm.c.community_id.in_(ids), hm.c.month >= months[0], hm.c.month <= months[-1])]
    by_ids: dict[tuple[int, ...], list[date]] = {}
    for day, missing_ids in missing.items():
        by_ids.setdefault(tuple(missing_ids), []).append(day)
    for day_ids, days in by_ids.items():
        parts.append(select(D.community_id, D.household_id).where(
            D.local_date.in_(days), D.community_id.in_(day_ids), D.household_id.is_not(None),
            D.voided_at.is_(None)))
    both = union(*parts).subquery() if len(parts) > 1 else parts[0].distinct().subquery()
    # Active at the period's end = at the local end of `day_to` in each community's zone,
    # from the household history (never the table as it is now, nor a stored daily figure).
    zones = dict(session.execute(
        select(col(Area.id), col(Area.timezone)).where(col(Area.id).in_(ids))).all())
    counts = _active_and_dropped(session, {
        c: households_queries.local_end(day_to, zones.get(c) or clock.DEFAULT_TZ)
        for c in ids}, both)
    for key in ids:
        active, dropped = counts.get(key, (0, 0))
        out[key].active_households = active
        out[key].households_dropped = dropped


def any_rollups(session: Session) -> bool:
    """Whether any day has been rolled up (dashboards explain an empty state otherwise)."""
    return bool(session.execute(select(exists().where(
        table_of(RollupDay).c.local_date.is_not(None)))).scalar())
