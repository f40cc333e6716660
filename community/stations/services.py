"""Station use cases. THE scan use case lives here: `record_drop` / `record_drops`.

The hot path is set-based: one batch (or a single drop, a batch of one) costs a fixed
handful of statements whatever its size — replays by client id, stations with their
schedules, cards, recent duplicates, then one multi-row INSERT … ON CONFLICT DO NOTHING.

Every read and write of a drop, card or ledger row names the community of the station it is
about (the distribution column of a sharded deployment, README "Sharding"): a card is
resolved, a client id recognised as a replay and earlier drops looked up within that
community. A batch spanning communities is recorded one community at a time
(`community_groups` tells the API how to give each its own transaction).
"""
from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from time import monotonic as time_monotonic
from typing import Any, cast
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import Row, and_, bindparam, func, or_, select, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col

from community import clock
from community.areas import services as areas_services
from community.areas.models import Area
from community.audit import services as audit
from community.auth import policy
from community.dirty import services as dirty
from community.errors import (
    CardRevoked,
    CardUnknown,
    DomainError,
    Forbidden,
    InvalidInput,
    NotFound,
)
from community.households import codes
from community.households import services as households_services
from community.households.models import Card, Household
from community.points import services as points_services
from community.points.rules import DropFacts
from community.rows import (
    any_of,
    any_param,
    dialect_of,
    insert_rows,
    pk,
    run_prebuilt,
    table_of,
)
from community.stations import duty, notices, reasons, windows
from community.stations import rules as scan_rules
from community.stations.models import (
    Device,
    Drop,
    DropRegrade,
    ScheduleRange,
    ScheduleVersion,
    Station,
    StationException,
    StationStatusEvent,
    StationWindow,
    client_id_matches,
    client_id_of,
    split_client_id,
)
from community.stations.schemas import (
    DeviceIn,
    DropIn,
    DropOut,
    DropWarning,
    RegradeIn,
    VoidOut,
)

FUTURE_TOLERANCE = timedelta(minutes=5)   # device clocks drift a little
MAX_AGE = timedelta(days=30)               # an offline queue older than this is refused
DUPLICATE_WINDOW = scan_rules.DUPLICATE_WINDOW  # same household + category again: a repeat


class StationUnknown(DomainError):
    code, status, message = "station_unknown", 404, _l("This station does not exist.")


class StationSuspended(DomainError):
    code, status, message = "station_suspended", 409, _l("This station is suspended.")


class CategoryNotAccepted(DomainError):
    code, status, message = "category_not_accepted", 422, _l(
        "This station has no bin for this category.")


class TimeInFuture(DomainError):
    code, status, message = "time_in_future", 422, _l(
        "The drop time is in the future. Check the device clock.")


class TimeTooOld(DomainError):
    code, status, message = "time_too_old", 422, _l("The drop time is too long ago to record.")


class TallyWithCard(DomainError):
    code, status, message = "tally_with_card", 422, _l(
        "An anonymous tally cannot carry a card; send either a card or tally.")


class CardRequired(DomainError):
    code, status, message = "card_required", 422, _l(
        "Scan or type the household's card, or record an anonymous tally.")


@dataclass
class DropError:
    """Why one item of a batch was refused (nothing of it was stored)."""

    client_id: str | None
    error: DomainError


Outcome = DropOut | DropError  # a stored or replayed drop, or why an item was refused


@dataclass(frozen=True)
class _StationFacts:
    """What the scan path needs of a station, safe to keep across requests."""

    id: int
    community_id: int
    name: str
    location: str
    status: str
    categories: tuple[str, ...]
    grace_minutes: int
    path: str
    tz: str
    schedule: windows.Schedule


@dataclass
class _StationInfo:
    station: _StationFacts
    exceptions: dict[date, tuple[tuple[time, time], ...]]
    days: windows.DayWindows = field(init=False)

    def __post_init__(self) -> None:
        self.days = windows.DayWindows(self.station.schedule, self.exceptions)

    @property
    def path(self) -> str:
        return self.station.path

    @property
    def tz(self) -> str:
        return self.station.tz

    @property
    def schedule(self) -> windows.Schedule:
        return self.station.schedule

    def open_at(self, moment: datetime) -> bool:
        """Whether the station was open at `moment` (a station without history: as now)."""
        if self.schedule.status:
            return self.schedule.open_at(moment)
        return self.station.status == "open"

    def in_force(self, day: date) -> InForce:
        """The schedule in force on local date `day`: weekly ranges, grace, and whether the
        station existed and was open at some moment of that day."""
        sched = self.station.schedule
        zone = ZoneInfo(sched.tz)
        start = datetime.combine(day, time(0), tzinfo=zone)
        end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
        opened = sched.open_at(start) or any(
            start <= at < end and is_open for at, is_open in sched.status)
        return InForce(day, sched.weekly_on(day),
                       sched.grace_on(day, self.station.grace_minutes), opened)


@dataclass(frozen=True)
class InForce:
    """A station's schedule on one local day (see `_StationInfo.in_force`)."""

    day: date
    weekly: windows.Weekly
    grace_minutes: int
    open: bool


@dataclass(frozen=True)
class DeviceFacts:
    """What a request needs of the device that authenticated it (`authenticate_device`)."""

    id: int
    community_id: int
    station_id: int | None
    name: str


ScanDevice = Device | DeviceFacts  # the device a drop is recorded by


# --- The scan path's statements, built once ------------------------------------------------
# Each is built at first use per dialect and then only run with its values
# (`rows.run_prebuilt`, on the session's connection): building a select (columns,
# comparisons, `= ANY` arrays, joins) and the ORM's execution and object loading around it
# cost more of a single drop's CPU than PostgreSQL's work for it (BENCHMARKS.md, "The
# repeat check and prebuilt statements"). Core statements return rows, read by attribute
# like the models they replace; every one names the community of each hot table (README
# "Sharding").

@cache
def _device_stmt() -> Any:
    d, a = table_of(Device), table_of(Area)
    return (select(d.c.id, d.c.community_id, d.c.station_id, d.c.name, d.c.revoked_at, a.c.path)
            .join(a, a.c.id == d.c.community_id).where(d.c.token_hash == bindparam("h")))


@cache
def _exceptions_stmt(dialect: str) -> Any:
    e = table_of(StationException)
    return select(e.c.station_id, e.c.day, e.c.start_time, e.c.end_time).where(
        any_param(e.c.station_id, "sids", dialect), any_param(e.c.day, "days", dialect))


@cache
def _cards_stmt(dialect: str, tokens: bool, shorts: bool) -> Any:
    c, h = table_of(Card), table_of(Household)
    conds = ([any_param(c.c.token, "tokens", dialect)] if tokens else []) + (
        [any_param(c.c.short_code, "shorts", dialect)] if shorts else [])
    return (select(c.c.id, c.c.token, c.c.short_code, c.c.status, c.c.revoked_at,
                   c.c.household_id, h.c.building, h.c.unit, h.c.room)
            .join(h, and_(h.c.community_id == c.c.community_id, h.c.id == c.c.household_id))
            .where(c.c.community_id == bindparam("c"), or_(*conds)))


@cache
def _replays_stmt(dialect: str, uuids: bool, texts: bool) -> Any:
    d = table_of(Drop)
    # Each kind of client id on its own column and unique key (models.split_client_id).
    ids = ([any_param(d.c.client_uuid, "uuids", dialect)] if uuids else []) + (
        [any_param(d.c.client_text, "texts", dialect)] if texts else [])
    return select(d).where(d.c.community_id == bindparam("c"), or_(*ids),
                           d.c.local_date >= bindparam("since"))


@cache
def _recent_stmt(dialect: str) -> Any:
    d = table_of(Drop)
    cols = (d.c.household_id, d.c.category, d.c.happened_at, d.c.id)
    where = (d.c.community_id == bindparam("c"), any_param(d.c.local_date, "days", dialect),
             d.c.voided_at.is_(None))
    if dialect != "postgresql":
        return select(*cols).where(
            *where, any_param(d.c.household_id, "hh", dialect),
            any_param(d.c.category, "cats", dialect),
            d.c.happened_at >= bindparam("lo"), d.c.happened_at <= bindparam("hi"))
    # One window per row (household, category, its time ± the duplicate window), joined to
    # the (household, device time) index: a batch reads the drops that may be repeated, not
    # every drop of its households between the batch's earliest and latest times (an
    # offline upload spans hours: 1,650-3,400 rows read per 100 drops, BENCHMARKS.md).
    w = func.unnest(*(bindparam(n, type_=postgresql.ARRAY(c.type)) for n, c in (
        ("hh", d.c.household_id), ("cats", d.c.category), ("los", d.c.happened_at),
        ("his", d.c.happened_at)))).table_valued("h", "k", "lo", "hi").render_derived("w")
    return (select(*cols).select_from(d.join(w, and_(
        d.c.household_id == w.c.h, d.c.category == w.c.k, d.c.happened_at >= w.c.lo,
        d.c.happened_at <= w.c.hi))).where(*where))


# Per-process cache of station facts for the hot path (3 queries saved per scan). Edits in
# this process forget the entry at once; other workers see them within STATION_CACHE_TTL.
STATION_CACHE_TTL = 30.0
_station_cache: dict[int, tuple[float, _StationFacts]] = {}


def forget_station(station_id: int | None = None) -> None:
    """Drop a station (or all) from the scan-path cache after an edit."""
    if station_id is None:
        _station_cache.clear()
    else:
        _station_cache.pop(station_id, None)


def _station_facts(session: Session, station_ids: set[int]) -> dict[int, _StationFacts]:
    """Stations with their whole schedule history (versions and status events), cached.

    A station without versions (rows written before the history, or by hand) falls back to
    its `StationWindow` rows and grace, in force every day; without status events it is
    always open.
    """
    now = time_monotonic()
    out = {i: f for i in station_ids
           if (hit := _station_cache.get(i)) and hit[0] > now for f in (hit[1],)}
    missing = station_ids - out.keys()
    if not missing:
        return out
    rows = session.execute(
        select(Station, col(Area.path), col(Area.timezone))
        .join(Area, col(Area.id) == Station.community_id)
        .where(col(Station.id).in_(missing))
    ).all()
    versions: dict[int, dict[int, tuple[date, int, dict[int, list[tuple[time, time]]]]]] = {}
    for sid, vid, day, grace, weekday, start, end in session.execute(
            select(col(ScheduleVersion.station_id), col(ScheduleVersion.id),
                   col(ScheduleVersion.effective_from), col(ScheduleVersion.grace_minutes),
                   col(ScheduleRange.weekday), col(ScheduleRange.start_time),
                   col(ScheduleRange.end_time))
            .outerjoin(ScheduleRange, col(ScheduleRange.version_id) == ScheduleVersion.id)
            .where(col(ScheduleVersion.station_id).in_(missing))):
        _day, _grace, weekly = versions.setdefault(sid, {}).setdefault(vid, (day, grace, {}))
        if weekday is not None:
            weekly.setdefault(weekday, []).append((start, end))
    status: dict[int, list[tuple[datetime, bool]]] = {}
    for sid, at, state in session.execute(
            select(col(StationStatusEvent.station_id), col(StationStatusEvent.effective_at),
                   col(StationStatusEvent.status))
            .where(col(StationStatusEvent.station_id).in_(missing))
            .order_by(col(StationStatusEvent.effective_at), col(StationStatusEvent.id))):
        status.setdefault(sid, []).append((at, state == "open"))
    plain: dict[int, dict[int, list[tuple[time, time]]]] = {}
    if missing - versions.keys():
        for w in session.execute(select(StationWindow).where(
                col(StationWindow.station_id).in_(missing - versions.keys()))).scalars():
            plain.setdefault(w.station_id, {}).setdefault(w.weekday, []).append(
                (w.start_time, w.end_time))
    for station, path, tz in rows:
        history = tuple(sorted(
            (windows.Version(day, {k: tuple(sorted(v)) for k, v in weekly.items()}, grace)
             for day, grace, weekly in versions.get(station.id, {}).values()),
            key=lambda v: v.effective_from))
        current = history[-1].weekly if history else {
            k: tuple(v) for k, v in plain.get(station.id, {}).items()}
        sched = windows.Schedule(current, tz, history, tuple(status.get(station.id, ())))
        facts = _StationFacts(station.id, station.community_id, station.name, station.location,
                              station.status,
                              tuple(station.category_list()), station.grace_minutes, path, tz,
                              sched)
        _station_cache[station.id] = (now + STATION_CACHE_TTL, facts)
        out[station.id] = facts
    return out


def load_station_schedules(session: Session, station_ids: set[int],
                           days: set[date]) -> dict[int, _StationInfo]:
    """Stations with their area path, zone, schedule history and exceptions near `days`.

    For each day, `_StationInfo.in_force(day)` gives the weekly ranges and grace in force
    then, and whether the station existed and was open; `windows.classify` and
    `windows.windows_on` on `.schedule` use the version in force on each window's day.
    """
    if not station_ids:
        return {}
    facts = _station_facts(session, station_ids)
    exc: dict[int, dict[date, list[tuple[time, time]]]] = {}
    if facts and days:
        # Exceptions are read fresh every time: a closed day must apply at once.
        for sid, day, start, end in run_prebuilt(session, _exceptions_stmt(dialect_of(session)),
                                        {"sids": list(facts), "days": list(days)}):
            ranges = exc.setdefault(sid, {}).setdefault(day, [])
            if start is not None and end is not None:
                ranges.append((start, end))
    return {i: _StationInfo(f, {d: tuple(r) for d, r in exc.get(i, {}).items()})
            for i, f in facts.items()}


CardRow = Row[Any]  # a card with its household's address (`_cards_stmt`)


def _load_cards(session: Session, community_id: int, raw: set[str]) -> dict[str, CardRow]:
    """A community's cards by the exact text sent (token or short code) with their
    households' addresses; a card of another community is not found (it is unknown there)."""
    if not raw:
        return {}
    shorts = {r: codes.normalize_code(r) for r in raw}
    short_values = {s for s in shorts.values() if codes.is_short_code(s)}
    tokens = {r for r in raw if not codes.is_short_code(shorts[r])}
    stmt = _cards_stmt(dialect_of(session), bool(tokens), bool(short_values))
    rows = run_prebuilt(session, stmt, {"c": community_id, "tokens": list(tokens),
                               "shorts": list(short_values)}).all()
    by_token = {c.token: c for c in rows}
    by_short = {c.short_code: c for c in rows}
    out = {}
    for r in raw:
        hit = by_short.get(shorts[r]) if codes.is_short_code(shorts[r]) else by_token.get(r)
        if hit:
            out[r] = hit
    return out


DropRow = Row[Any]  # a stored drop, every column (`_replays_stmt`)


def _replays(session: Session, community_id: int, client_ids: Sequence[str],
             since: date) -> dict[str, DropRow]:
    """The community's stored drops of these client ids dated `since` or later (a replay is
    one of the same community: client ids are unique per community and local day).

    `since` is the day before the batch's earliest device time: a replay carries the
    device time of the drop it repeats, so it is never dated earlier, and on PostgreSQL the
    read visits only the monthly partitions from `since` on (`community.partitions`), not
    every month of the city's history.
    """
    if not client_ids:
        return {}
    uuids, texts = [], []
    for cid in set(client_ids):
        u, t = split_client_id(cid)
        if u is not None:
            uuids.append(u)
        else:
            texts.append(t)
    params: dict[str, Any] = {"c": community_id, "since": since}
    if uuids:
        params["uuids"] = uuids
    if texts:
        params["texts"] = texts
    rows = run_prebuilt(session, _replays_stmt(dialect_of(session), bool(uuids), bool(texts)),
                        params)
    return {client_id_of(d.client_uuid, d.client_text): d for d in rows}


def _recent_drops(session: Session, community_id: int,
                  rows: list[dict[str, Any]]) -> set[tuple[int, str, datetime, int]]:
    """Stored, not voided drops of the batch's households near the batch's times (repeats):
    (household, category, happened_at, id)."""
    households = {r["household_id"] for r in rows if r["household_id"]}
    if not households:
        return set()
    times = [r["happened_at"] for r in rows]
    lo, hi = min(times) - DUPLICATE_WINDOW, max(times) + DUPLICATE_WINDOW
    # The local day is within a day of the UTC day: on PostgreSQL only the monthly
    # partitions of those days are read. The days are listed (`= ANY`), not a range: with
    # a range, (community_id, local_date) looks as selective as (household_id, happened_at)
    # to a planner without column statistics (a month's partition analysed while empty, or
    # not yet, as every new month's is), and it read the community's whole day per scan:
    # 10 ms at 55,000 drops a day (BENCHMARKS.md, "The repeat check and prebuilt
    # statements"). A list of days is estimated less selective, so the household index wins
    # with or without statistics.
    first, last = lo.astimezone(UTC).date(), hi.astimezone(UTC).date()
    days = [first + timedelta(days=n) for n in range(-1, (last - first).days + 2)]
    dialect = dialect_of(session)
    if dialect == "postgresql":
        keyed = [r for r in rows if r["household_id"]]
        params: dict[str, Any] = {
            "c": community_id, "days": days, "hh": [r["household_id"] for r in keyed],
            "cats": [r["category"] for r in keyed],
            "los": [r["happened_at"] - DUPLICATE_WINDOW for r in keyed],
            "his": [r["happened_at"] + DUPLICATE_WINDOW for r in keyed]}
    else:
        params = {"c": community_id, "hh": list(households), "lo": lo, "hi": hi, "days": days,
                  "cats": list({r["category"] for r in rows})}
    return set(run_prebuilt(session, _recent_stmt(dialect), params).tuples().all())


def _mark_repeats(session: Session, community_id: int,
                  pending: Sequence[tuple[int, dict[str, Any], list[DropWarning]]]) -> None:
    """Set `repeat_of` on the rows that repeat a stored drop (its id) or an earlier row of
    the batch (a negative placeholder, -(position + 1), resolved after the insert), and warn.

    Rows are taken in device-time order, so within a batch the later drop is the repeat.
    """
    rows = [r for _n, r, _w in pending]
    earlier: dict[tuple[int, str], list[tuple[int, datetime]]] = {}
    for h, c, t, i in _recent_drops(session, community_id, rows):
        earlier.setdefault((h, c), []).append((i, t))
    order = sorted(range(len(pending)), key=lambda k: (pending[k][1]["happened_at"], k))
    for k in order:
        _n, row, warnings = pending[k]
        if not row["household_id"]:
            continue
        key = (row["household_id"], row["category"])
        seen = earlier.setdefault(key, [])
        row["repeat_of"] = scan_rules.repeat_of(seen, row["happened_at"])
        if row["repeat_of"] is not None:
            warnings.append("recent_duplicate")
        seen.append((-(k + 1), row["happened_at"]))


def _reserve_ids(session: Session, n: int) -> list[int]:
    """Ids for `n` drop rows about to be stored: their points are scored before the INSERT,
    which then carries them (one row version per drop; see `points.services.score_new`).
    PostgreSQL: from the table's sequence, in one statement. SQLite: after the highest id,
    under the write lock every write transaction takes first (BEGIN IMMEDIATE, `db`)."""
    if not n:
        return []
    if dialect_of(session) == "postgresql":
        return list(run_prebuilt(session, _reserve_stmt(), {"n": n}).scalars())
    top = session.execute(select(func.max(col(Drop.id)))).scalar_one_or_none() or 0
    return list(range(top + 1, top + n + 1))


@cache
def _reserve_stmt() -> Any:
    # The sequence of drop_record.id (SERIAL, created by the first migration).
    return select(func.nextval("drop_record_id_seq")).select_from(
        func.generate_series(1, bindparam("n")))


def _place_repeats(rows: Sequence[dict[str, Any]]) -> None:
    """Point the repeats of rows of the same batch (a placeholder, -(position + 1)) at the
    first row's reserved id, before the insert; `_repeats` keeps the first's client id."""
    for row in rows:
        ref = row.get("repeat_of")
        row["_repeats"] = None  # every row has the key: the insert drops it from all rows
        if ref is not None and ref < 0:
            row["_repeats"] = rows[-ref - 1]["client_id"]
            row["repeat_of"] = rows[-ref - 1]["id"]


def _resolve_repeats(session: Session, community_id: int, rows: Sequence[dict[str, Any]],
                     inserted: Mapping[str, int], replays: Mapping[str, DropRow]) -> None:
    """After the insert, in the rare case that the first row of a repeat was not stored (a
    concurrent request stored its client id first): point the repeat at that stored drop."""
    fixes = []
    for row in rows:
        first = row.get("_repeats")
        if (first is not None and first not in inserted and first in replays
                and row["client_id"] in inserted):
            row["repeat_of"] = replays[first].id
            fixes.append({"rid": row["id"], "of": row["repeat_of"]})
    if fixes:
        table = table_of(Drop)
        session.execute(update(table).where(table.c.community_id == community_id,
                                            table.c.id == bindparam("rid"))
                        .values(repeat_of=bindparam("of")), fixes,
                        execution_options={"synchronize_session": False})


def _labels(session: Session, community_id: int, household_ids: set[int]) -> dict[int, str]:
    if not household_ids:
        return {}
    rows = session.execute(select(Household).where(
        col(Household.community_id) == community_id,
        any_of(session, col(Household.id), household_ids)))
    return {h.id: households_services.address_label(h) for h in rows.scalars()}


def _result(row: Drop | DropRow | dict[str, Any], *, replay: bool, label: str | None,
            warnings: list[DropWarning] | None = None, points: int | None = None) -> DropOut:
    get: Callable[[str], Any] = row.get if isinstance(row, dict) else lambda k: getattr(row, k)
    return DropOut(
        id=get("id"), client_id=client_id_of(get("client_uuid"), get("client_text")),
        replay=replay, station_id=get("station_id"),
        category=get("category"), quality=get("quality"), source=get("source"),
        in_window=get("in_window"), happened_at=get("happened_at").astimezone(UTC),
        household_id=get("household_id"), household_label=label, warnings=warnings or [],
        points=points if get("household_id") else None, reason_code=get("reason_code"),
        repeat=get("repeat_of") is not None, voided=get("voided_at") is not None,
    )


def _facts(row: Drop | DropRow | dict[str, Any]) -> DropFacts:
    get: Callable[[str], Any] = row.get if isinstance(row, dict) else lambda k: getattr(row, k)
    return DropFacts(drop_id=get("id"), household_id=get("household_id"),
                     category=get("category"), quality=get("quality"),
                     in_window=get("in_window"), local_date=get("local_date"),
                     happened_at=get("happened_at"))


def _score_new(session: Session, community_id: int, rows: list[dict[str, Any]],
               now: datetime) -> points_services.Scoring:
    """Score a community's identified drops about to be stored (ids reserved), in happened
    order, and put each one's own points on its row for the INSERT; a repeat is never
    scored."""
    group = sorted((r for r in rows if r["household_id"] and r.get("repeat_of") is None),
                   key=lambda r: (r["happened_at"], r["id"]))
    scoring = points_services.score_new(session, [_facts(r) for r in group],
                                        community_id=community_id, now=now)
    own = scoring.points
    for r in rows:
        r["points"] = own.get(r["id"], 0)
    return scoring


def _insert_ignore(session: Session, rows: list[dict[str, Any]]) -> dict[str, int]:
    """INSERT … ON CONFLICT DO NOTHING RETURNING; map client id → new id (the rows are of
    one community). No conflict target: a row has one of two unique keys, (community_id,
    client_uuid, local_date) or (community_id, client_text, local_date), and the multi-row
    insert mixes both kinds; the primary key's id is the sequence's, never a conflict."""
    if not rows:
        return {}
    table = table_of(Drop)
    got = insert_rows(session, table, rows, on=(),
                      returning=(table.c.id, table.c.client_uuid, table.c.client_text))
    return {client_id_of(u, t): i for i, u, t in got.all()}


def _days(items: Sequence[DropIn]) -> set[date]:
    # The local date is within a day of the UTC date, and classify() looks one local day
    # either side (windows past midnight), so exceptions are read for UTC date ±2.
    utc_days = {i.happened_at.astimezone(UTC).date() for i in items}
    return {d + timedelta(days=o) for d in utc_days for o in range(-2, 3)}


def community_groups(session: Session, items: Sequence[DropIn]) -> list[list[int]]:
    """The indexes of a batch's items per community of their station (in community order;
    items of an unknown station join the first group, where they are refused).

    The API records each group in its own transaction: no transaction spans communities
    (on a sharded database, one community's rows live together; see README "Sharding").
    Reads the stations from the scan path's cache (no statement when cached).
    """
    facts = _station_facts(session, {i.station_id for i in items})
    groups: dict[int, list[int]] = {}
    unknown: list[int] = []
    for n, item in enumerate(items):
        f = facts.get(item.station_id)
        if f is None:
            unknown.append(n)
        else:
            groups.setdefault(f.community_id, []).append(n)
    out = [groups[c] for c in sorted(groups)] or [[]]
    out[0] = sorted(out[0] + unknown)
    return out


def record_drops(session: Session, *, actor: policy.Actor, items: Sequence[DropIn],
                 device: ScanDevice | None = None, now: datetime | None = None) -> list[Outcome]:
    """Record a batch of drops in the caller's transaction; one outcome per item, in order.

    A replayed client id returns the stored drop (flagged `replay`, scoring nothing again);
    a bad item is reported and skipped while the good ones are stored. The items are
    recorded per community of their station, each community's with statements naming it
    (the API gives each community its own transaction, see `community_groups`).
    """
    now = now or clock.now()
    outcomes: list[Outcome | None] = [None] * len(items)
    days = _days(items)
    stations = load_station_schedules(session, {i.station_id for i in items}, days)
    groups: dict[int, list[int]] = {}
    for n, item in enumerate(items):
        info = stations.get(item.station_id)
        if info is None:
            outcomes[n] = DropError(item.client_id, StationUnknown(field="station_id"))
        else:
            groups.setdefault(info.station.community_id, []).append(n)
    on_duty = _Duty(session, actor, items)
    for community_id, index in sorted(groups.items()):
        got = _record_community(session, actor, community_id, [items[n] for n in index],
                                stations, days, device, now, on_duty)
        for n, outcome in zip(index, got, strict=True):
            outcomes[n] = outcome
    return cast(list[Outcome], outcomes)  # every item has its outcome by now


def _record_community(session: Session, actor: policy.Actor, community_id: int,
                      items: Sequence[DropIn], stations: dict[int, _StationInfo],
                      days: set[date], device: ScanDevice | None, now: datetime,
                      on_duty: _Duty) -> list[Outcome]:
    """`record_drops` for items whose stations are of one community."""
    outcomes: list[Outcome | None] = [None] * len(items)
    replay_of: dict[int, str] = {}       # item index -> client id answered by a stored drop
    first: dict[str, int] = {}           # client id -> index of its first valid item here
    # The local day is within a day of the UTC day (see _days).
    since = min(i.happened_at.astimezone(UTC).date() for i in items) - timedelta(days=1)
    replays = _replays(session, community_id, [i.client_id for i in items], since)
    other = {d.station_id for d in replays.values()} - stations.keys()
    if other:  # a replay names the station it was stored at (of the same community)
        stations = stations | load_station_schedules(session, other, days)
    cards = _load_cards(session, community_id,
                        {i.card for i in items if i.card and not i.tally})

    reason_cache: dict[int, list[Any]] = {}  # community → its active reasons
    pending: list[tuple[int, dict[str, Any], list[DropWarning]]] = []
    for n, item in enumerate(items):
        try:
            old = replays.get(item.client_id)
            info = stations.get(old.station_id if old else item.station_id)
            if info is None:
                raise StationUnknown(field="station_id")
            # Replays too must come from someone allowed at that station's community.
            policy.require(actor, "drop:record", _Path(info.path))
            if old is not None or item.client_id in first:
                replay_of[n] = item.client_id
                continue
            row, warnings = _validate(item, info, cards, actor, device, now, on_duty)
            if item.reason_code is not None:
                if info.station.community_id not in reason_cache:
                    reason_cache[info.station.community_id] = reasons.reason_rows(
                        session, info.station.community_id)
                reasons.check_reason(reason_cache[info.station.community_id],
                                     quality=item.quality, code=item.reason_code,
                                     note=item.note)
        except DomainError as err:
            outcomes[n] = DropError(item.client_id, err)
            continue
        first[item.client_id] = n
        pending.append((n, row, warnings))

    rows = [r for _, r, _ in pending]
    _mark_repeats(session, community_id, pending)
    for row, reserved in zip(rows, _reserve_ids(session, len(rows)), strict=True):
        row["id"] = reserved
    _place_repeats(rows)
    # Scored before the insert, so each row is written once, with its points.
    scoring = _score_new(session, community_id, rows, now)
    inserted = _insert_ignore(session, rows)
    # Not inserted means a concurrent request stored the same client id first: a replay.
    replays.update(_replays(session, community_id, [r["client_id"] for r in rows
                                                    if r["client_id"] not in inserted], since))
    _resolve_repeats(session, community_id, rows, inserted, replays)
    labels = {c.household_id: households_services.format_address(c.building, c.unit, c.room)
              for c in cards.values()}
    labels |= _labels(session, community_id, {d.household_id for d in replays.values()
                                              if d.household_id and d.household_id not in labels})
    points = points_services.finish(session, scoring, set(inserted.values()))
    points |= points_services.points_for_drops(session, community_id, sorted(
        {d.id for d in replays.values() if d.household_id}),
        days={d.local_date for d in replays.values() if d.household_id})
    for n, row, warnings in pending:
        if row["client_id"] in inserted:
            drop_id = inserted[row["client_id"]]
            outcomes[n] = _result({**row, "id": drop_id}, replay=False,
                                  label=labels.get(row["household_id"]), warnings=warnings,
                                  points=points.get(drop_id, 0))
        else:
            replay_of[n] = row["client_id"]
    for n, cid in replay_of.items():
        if cid in replays:
            old = replays[cid]
            label = labels.get(old.household_id) if old.household_id is not None else None
            outcomes[n] = _result(old, replay=True, label=label, points=points.get(old.id))
        else:  # repeated inside this batch: the first occurrence's answer, as a replay
            answer = outcomes[first[cid]]
            outcomes[n] = (answer.model_copy(update={"replay": True, "warnings": []})
                           if isinstance(answer, DropOut) else answer)
    _mark_late_days(session, [r for r in rows if r["client_id"] in inserted], stations, now)
    # The households of new incorrect drops are told in this transaction, held back until
    # the steward's undo window shuts (a text message, where wanted, is only queued: the
    # scan never waits for a provider).
    notices.tell_incorrect(session, [{**r, "id": inserted[r["client_id"]]} for r in rows
                                     if r["client_id"] in inserted],
                           stations={sid: (i.station.name, i.station.tz)
                                     for sid, i in stations.items()}, now=now)
    return cast(list[Outcome], outcomes)  # every item has its outcome by now


def _revoked_before(card: Card | CardRow, happened_at: datetime) -> bool:
    """Whether the card was revoked before the drop happened (DOMAIN.md: a drop made with a
    card before its revocation, by device time, is recorded and scores; one made after is
    refused). A revoked card without a recorded moment counts as revoked since always."""
    if card.status == "active":
        return False
    return card.revoked_at is None or happened_at >= card.revoked_at


def _mark_late_days(session: Session, rows: list[dict[str, Any]],
                    stations: Mapping[int, _StationInfo], now: datetime) -> None:
    """Mark the past local days that newly stored drops landed in (their rollups are stale).

    Today's drops mark nothing: today is read raw and rolled up whole the next night, so the
    common scan adds no statement. Last in the transaction: the mark's row lock is held only
    until the commit that follows.
    """
    counts: dict[tuple[int, date], int] = {}
    for r in rows:
        if r["local_date"] < clock.local_today(stations[r["station_id"]].tz, now):
            key = (r["community_id"], r["local_date"])
            counts[key] = counts.get(key, 0) + 1
    dirty.mark(session, "drops", counts, now=now)


@dataclass(frozen=True)
class _Path:
    path: str


class _Duty:
    """Whether the actor may record at a station at a moment: anywhere in their community for
    chiefs, managers and devices; on a checked-in shift of that station for a steward
    (`duty`). The steward's posts are read once per request, and only when needed."""

    def __init__(self, session: Session, actor: policy.Actor, items: Sequence[DropIn]) -> None:
        self.session, self.actor, self.items = session, actor, items
        self._posts: Sequence[duty.Post] | None = None

    def require(self, info: _StationInfo, moment: datetime) -> None:
        """Raise NotOnDuty unless the actor may record at `info`'s station at `moment`."""
        if policy.allowed(self.actor, "drop:record_anywhere", _Path(info.path)):
            return
        if self._posts is None:
            times = [i.happened_at for i in self.items]
            account_id = self.actor.account_id
            self._posts = () if account_id is None else duty.posts(
                self.session, account_id, min(times), max(times))
        if not any(p.covers(info.station.id, moment) for p in self._posts):
            raise duty.NotOnDuty(field="station_id")


def _validate(item: DropIn, info: _StationInfo, cards: dict[str, CardRow],
              actor: policy.Actor, device: ScanDevice | None, now: datetime,
              on_duty: _Duty) -> tuple[dict[str, Any], list[DropWarning]]:
    """Check one new drop against its station and card; return the row to insert."""
    station = info.station
    if device is not None and device.station_id not in (None, station.id):
        raise Forbidden(field="station_id")  # a device bound to a station records only there
    # Open when the drop happened (device time): a drop made before a suspension and
    # uploaded after it is recorded, like one made before its card was revoked.
    if not info.open_at(item.happened_at):
        raise StationSuspended(field="station_id")
    if item.category not in station.categories:
        raise CategoryNotAccepted(field="category")
    if item.happened_at > now + FUTURE_TOLERANCE:
        raise TimeInFuture(field="happened_at")
    if item.happened_at < now - MAX_AGE:
        raise TimeTooOld(field="happened_at")
    on_duty.require(info, item.happened_at)  # before the card: an off-duty steward learns nothing
    warnings: list[DropWarning] = []
    household_id = card_id = None
    if item.tally:
        if item.card:
            raise TallyWithCard(field="card")
        source = "tally"
    else:
        if not item.card:
            raise CardRequired(field="card")
        card = cards.get(item.card)
        if card is None:
            raise CardUnknown(field="card")
        if _revoked_before(card, item.happened_at):
            raise CardRevoked(field="card")
        household_id, card_id = card.household_id, card.id
        typed = codes.is_short_code(codes.normalize_code(item.card))
        source = "device" if device else ("manual" if typed else "scan")
    verdict = windows.classify(info.schedule, info.exceptions, item.happened_at,
                               station.grace_minutes, info.days)
    if not verdict.in_window:
        warnings.append("out_of_window")
    client_uuid, client_text = split_client_id(item.client_id)
    return {
        # "client_id" keys the batch's bookkeeping; the two columns are what is stored.
        "client_id": item.client_id, "client_uuid": client_uuid, "client_text": client_text,
        "station_id": station.id,
        "community_id": station.community_id, "category": item.category,
        "quality": item.quality, "source": source,
        "household_id": household_id, "card_id": card_id,
        "recorded_by": actor.account_id, "device_id": device.id if device else None,
        "happened_at": item.happened_at, "received_at": now,
        "local_date": item.happened_at.astimezone(ZoneInfo(info.tz)).date(),
        "in_window": verdict.in_window, "weight_kg": item.weight_kg, "note": item.note,
        "photo": None, "reason_code": item.reason_code, "repeat_of": None,
    }, warnings


def record_drop(session: Session, *, actor: policy.Actor, item: DropIn,
                device: ScanDevice | None = None, now: datetime | None = None) -> DropOut:
    """Record one drop (or return the stored one for a replayed client id); raise on bad input."""
    outcome = record_drops(session, actor=actor, items=[item], device=device, now=now)[0]
    if isinstance(outcome, DropError):
        raise outcome.error
    return outcome


# --- Devices (kiosks, smart bins, scales) -------------------------------------------------

class DeviceUnauthorized(DomainError):
    code, status, message = "device_unauthorized", 401, _l(
        "The device token is missing, unknown or revoked.")


def _hash_token(token: str) -> str:
    # Tokens carry 256 random bits, so a fast hash is enough (nothing to brute-force).
    return hashlib.sha256(token.encode()).hexdigest()


def get_station(session: Session, station_id: int) -> Station:
    """Load a station or raise StationUnknown."""
    station = session.get(Station, station_id)
    if station is None:
        raise StationUnknown()
    return station


def issue_device(session: Session, *, actor: policy.Actor, community_id: int, data: DeviceIn,
                 ip: str | None = None) -> tuple[Device, str]:
    """Register a device and return it with its bearer token (shown once, stored hashed)."""
    area = areas_services.get_community(session, community_id)
    policy.require(actor, "device:manage", area)
    name, station_id = data.name, data.station_id
    if station_id is not None and get_station(session, station_id).community_id != area.id:
        raise InvalidInput(field="station_id")
    token = secrets.token_urlsafe(32)
    device = Device(community_id=pk(area), station_id=station_id, name=name,
                    token_hash=_hash_token(token), created_by=actor.account_id)
    session.add(device)
    session.flush()
    audit.record(session, actor_id=actor.account_id, action="device.issued", area=area,
                 target_type="device", target_id=device.id, ip=ip, name=name)
    return device, token


def revoke_device(session: Session, *, actor: policy.Actor, device_id: int,
                  ip: str | None = None) -> Device:
    """Revoke a device token at once; its later requests get 401."""
    device = session.get(Device, device_id)
    if device is None:
        raise NotFound()
    area = areas_services.get_community(session, device.community_id)
    policy.require(actor, "device:manage", area)
    if device.revoked_at is None:
        device.revoked_at = clock.now()
        session.add(device)
        audit.record(session, actor_id=actor.account_id, action="device.revoked", area=area,
                     target_type="device", target_id=device.id, ip=ip)
        session.flush()
    return device


def authenticate_device(session: Session, token: str) -> tuple[DeviceFacts, policy.Actor]:
    """The device of a bearer token and its Actor (pseudo-role "device" in its community).

    Read on every request (a revoked token is refused at once), by a prebuilt statement."""
    row = run_prebuilt(session, _device_stmt(), {"h": _hash_token(token or "")}).first()
    if row is None or row.revoked_at is not None:
        raise DeviceUnauthorized()
    device = DeviceFacts(row.id, row.community_id, row.station_id, row.name)
    return device, policy.Actor(None, [policy.Grant("device", row.community_id, row.path)])


# --- Regrading ----------------------------------------------------------------------------

def _communities_of(session: Session, actor: policy.Actor, action: str) -> list[int]:
    """The ids of the communities where the actor may do `action` (Forbidden if none): a
    drop named by id or client id is looked up among them, so every statement names its
    community."""
    if not policy.offers(actor, action):
        raise Forbidden(action=action)
    return [pk(a) for a in areas_services.communities_for(session, actor, action)]


# Modules above stations that keep state derived from verdicts register here (casework: a
# closed case's refund follows the penalties of its period); a regrade or a void calls each
# listener in its own transaction, after the points moved: (session, drop, cause, now), the
# cause "regrade" or "void". Stations cannot import them (they sit above it).
VerdictListener = Callable[[Session, Drop, str, datetime], None]
_VERDICT_LISTENERS: list[VerdictListener] = []


def on_verdict_changed(listener: VerdictListener) -> None:
    """Call `listener` after every regrade and void (once, however often registered)."""
    if listener not in _VERDICT_LISTENERS:
        _VERDICT_LISTENERS.append(listener)


def _verdict_changed(session: Session, drop: Drop, cause: str, now: datetime) -> None:
    for listener in _VERDICT_LISTENERS:
        listener(session, drop, cause, now)


REASON_REQUIRED_REGRADE = _l("Please choose the mis-drop reason: the household is shown how "
                             "to sort it right.")


def regrade_drop(session: Session, *, actor: policy.Actor, drop_id: int, data: RegradeIn,
                 ip: str | None = None, tell_household: bool = True) -> DropRegrade:
    """Change a drop's quality, keeping its history (who, when, from, to, why); the household
    is told the new quality and the reason (an appeal's decision tells it its own way).

    The drop is looked up among the communities where the actor may regrade (a drop of
    another community is not found).
    """
    communities = _communities_of(session, actor, "drop:regrade")
    drop = session.execute(
        select(Drop).where(any_of(session, col(Drop.community_id), communities),
                           col(Drop.id) == drop_id).with_for_update()
    ).scalar_one_or_none()
    if drop is None:
        raise NotFound()
    area = areas_services.get_community(session, drop.community_id)
    policy.require(actor, "drop:regrade", area)
    if drop.voided_at is not None:
        raise DropVoided()
    quality = data.quality
    if quality == drop.quality:
        raise InvalidInput(_l("The drop already has this quality."), field="quality")
    # DOMAIN "The mis-drop loop": an incorrect verdict always carries its reason. A regrade to
    # incorrect names one of the community's active reasons (its note: the regrade's reason),
    # or keeps the steward's the drop still carries (regraded away and back).
    reason_code = drop.reason_code
    if quality == "incorrect":
        reason_code = data.reason_code or drop.reason_code
        if reason_code is None:
            raise InvalidInput(REASON_REQUIRED_REGRADE, field="reason_code")
        if data.reason_code is not None:
            reasons.check_reason(reasons.reason_rows(session, drop.community_id),
                                 quality=quality, code=data.reason_code, note=data.reason)
    elif data.reason_code is not None:
        raise reasons.ReasonNotIncorrect(field="reason_code")
    change = DropRegrade(community_id=drop.community_id, drop_id=drop.id,
                         from_quality=drop.quality, to_quality=quality,
                         actor_id=actor.account_id, reason=data.reason)
    earlier = list(session.execute(select(col(DropRegrade.id)).where(
        col(DropRegrade.community_id) == drop.community_id,
        col(DropRegrade.drop_id) == drop.id)).scalars())
    # The drop's own UPDATE names its community (an ORM flush would update by id alone).
    session.execute(update(Drop).where(col(Drop.community_id) == drop.community_id,
                                       col(Drop.id) == drop.id)
                    .values(quality=quality, reason_code=reason_code)
                    .execution_options(synchronize_session=False))
    set_committed_value(drop, "quality", quality)
    set_committed_value(drop, "reason_code", reason_code)
    session.add(change)
    session.flush()
    if drop.repeat_of is None:  # a repeat is never scored, whatever its quality
        points_services.reverse_and_reaward(
            session, facts=_facts(drop), community_id=drop.community_id,
            regrade_id=pk(change), earlier_regrade_ids=earlier,
            actor_id=actor.account_id)
    _verdict_changed(session, drop, "regrade", change.at)
    if drop.local_date < clock.local_today(area.timezone):
        dirty.mark(session, "regrades", {(drop.community_id, drop.local_date): 1})
    audit.record(session, actor_id=actor.account_id, action="drop.regraded", area=area,
                 target_type="drop", target_id=drop.id, ip=ip,
                 from_quality=change.from_quality, to_quality=quality, reason=data.reason)
    if tell_household:
        notices.tell_regraded(session, drop, change)
    return change


# --- Undo (void) ----------------------------------------------------------------------------

class VoidNotYours(Forbidden):
    code, message = "void_not_yours", _l(
        "Only the steward who recorded this scan can undo it.")


class VoidTooLate(DomainError):
    code, status, message = "void_too_late", 409, _l(
        "A scan can only be undone within 5 minutes. Ask the station chief or the manager to "
        "regrade it instead.")


class DropVoided(DomainError):
    code, status, message = "drop_voided", 409, _l(
        "This drop was undone by its steward; it no longer counts.")


def void_drop(session: Session, *, actor: policy.Actor, client_id: str,
              now: datetime | None = None, ip: str | None = None) -> VoidOut:
    """A steward undoes their own scan within 5 minutes (`rules.void_refusal`): the drop is
    kept, marked void with who and when, its points reversed (`points.void_drop`), and
    metrics leave it out (a past day is marked dirty). Voiding again changes nothing and
    answers `already`; another steward's scan or one older than 5 minutes is refused.
    """
    now = now or clock.now()
    # Client ids are unique per community: looked up in the actor's communities.
    communities = _communities_of(session, actor, "drop:record")
    drop = session.execute(
        select(Drop).where(any_of(session, col(Drop.community_id), communities),
                           client_id_matches([client_id]))
        .order_by(col(Drop.id).desc()).limit(1).with_for_update()
    ).scalars().first()
    if drop is None:
        raise NotFound()
    area = areas_services.get_community(session, drop.community_id)
    policy.require(actor, "drop:record", area)
    refusal = scan_rules.void_refusal(recorded_by=drop.recorded_by, actor_id=actor.account_id,
                                      happened_at=drop.happened_at, now=now)
    if refusal == "void_not_yours":
        raise VoidNotYours()
    if drop.voided_at is not None:
        return VoidOut(id=pk(drop), client_id=drop.client_id, voided_at=drop.voided_at,
                       voided_by=cast(int, drop.voided_by), points=0, already=True)
    if refusal == "void_too_late":
        raise VoidTooLate()
    table = table_of(Drop)
    done = session.exec(update(table).where(table.c.community_id == drop.community_id,
                                            table.c.id == drop.id,
                                            table.c.voided_at.is_(None))
                        .values(voided_at=now, voided_by=actor.account_id)
                        .execution_options(synchronize_session=False))
    if done.rowcount != 1:  # voided meanwhile (the row lock makes this SQLite-only)
        session.refresh(drop)
        return VoidOut(id=pk(drop), client_id=drop.client_id,
                       voided_at=cast(datetime, drop.voided_at),
                       voided_by=cast(int, drop.voided_by), points=0, already=True)
    points = points_services.void_drop(session, facts=_facts(drop),
                                       community_id=drop.community_id,
                                       actor_id=actor.account_id, now=now)
    _verdict_changed(session, drop, "void", now)
    if drop.local_date < clock.local_today(area.timezone, now):
        # A void changes the day's counts as a drop stored late does.
        dirty.mark(session, "drops", {(drop.community_id, drop.local_date): 1}, now=now)
    # An undone incorrect verdict is told to nobody: its messages were still held back.
    notices.withdraw_incorrect(session, drop, now=now)
    audit.record(session, actor_id=actor.account_id, action="drop.voided", area=area,
                 target_type="drop", target_id=drop.id, ip=ip, points=points)
    session.refresh(drop)
    return VoidOut(id=pk(drop), client_id=drop.client_id, voided_at=now,
                   voided_by=cast(int, actor.account_id), points=points, already=False)
