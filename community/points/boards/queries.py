"""Honour boards (红榜): households, buildings and communities ranked by the points they earned
from sorting in one local month, without names.

The measure is the sum of a month's `earn` and `bonus` entries (by `local_date`) that have not
been reversed, as `points.facts.entries` lists them: penalties, redemptions, refunds,
adjustments and expiry never move a ranking. Those entries live in two places (issue 16): a
drop's own earn on its row (`drop_record.points`, taken back by a ledger reversal
"reversal:d<drop id>"), every other earn and bonus in the ledger (reversed by `reverses_id`).
The queries read both parts themselves rather than through `entries()`, each by its own
index (SQLite pushes no correlated condition into a UNION ALL subquery, and the view's drop
part has no device-time bound): the ledger through ix_ledger_entry_account_day
(account_id, local_date), one month range per account; the drop rows through
ix_drop_record_community_day (community_id, local_date), one month range per community, or
for one household ix_drop_record_household_happened (household_id, happened_at), its month's
device times. Every query is grouped in SQL. A page reads its community's month once
(`community_points`: one row per household) and ranks households and buildings from it in
Python; residents' pages share a community's list for a minute (their own household read
fresh on top), and a street's or district's community ranking for a few minutes.

Rooms are always masked ("3栋2单元**1室"). A household that opted out (household.honour_opt_out)
never appears on a board; only its own members see its rank. Building and community averages
still count every active household (opted out or not): an average names nobody, and leaving
a household out of it would make the averages of two buildings incomparable.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from typing import Any, TypeVar

from sqlalchemy import Integer, and_, cast, func, select, union_all
from sqlmodel import Session, col

from community import clock
from community.areas import services as areas_services
from community.areas.models import Area
from community.auth import policy
from community.errors import NotFound
from community.households import services as households_services
from community.households.models import Household
from community.points import facts
from community.points.models import LedgerEntry, PointsAccount
from community.points.services import drop_entry_not_reversed
from community.rows import pk

EARNING_KINDS = ("earn", "bonus")
RESIDENT_TOP = 20
MANAGER_TOP = 50
MANAGER_MONTHS = 12  # how many months back the managers' month picker reaches
AREA_LEVELS = ("district", "street")  # parents whose communities can be ranked together
BUILDING_SUFFIXES = ("栋", "幢", "座", "楼")
UNIT_SUFFIXES = ("单元",)


# --- Pure helpers --------------------------------------------------------------------------

def _suffixed(value: str, suffixes: Sequence[str], suffix: str) -> str:
    value = (value or "").strip()
    if not value:
        return ""
    return value if value.endswith(tuple(suffixes)) else f"{value}{suffix}"


def building_label(building: str) -> str:
    """'3' → '3栋'; a building already named '3栋' (or 幢/座/楼) is kept as it is."""
    return _suffixed(building, BUILDING_SUFFIXES, "栋")


def mask_room(building: str, unit: str, room: str) -> str:
    """The masked address of a household: '3栋2单元**1室' (pure).

    Only the room's last digit survives, behind at least two stars, so neither the floor nor
    the length of a short room number shows. A room that does not end in a digit ("12A")
    is masked entirely.
    """
    room = (room or "").strip()
    if room.endswith("室"):
        room = room[:-1].rstrip()
    tail = room[-1] if room and room[-1].isdigit() else ""
    stars = "*" * max(2, len(room) - len(tail))
    return f"{building_label(building)}{_suffixed(unit, UNIT_SUFFIXES, '单元')}{stars}{tail}室"


@dataclass(frozen=True, order=True)
class Month:
    """A calendar month (local time of the community)."""

    year: int
    month: int

    @classmethod
    def of(cls, day: date) -> Month:
        """The month a date falls in."""
        return cls(day.year, day.month)

    @classmethod
    def parse(cls, text: str | None) -> Month | None:
        """'2026-10' → Month(2026, 10); None for anything else."""
        text = (text or "").strip()
        if len(text) != 7 or text[4] != "-" or not (text[:4] + text[5:]).isdigit():
            return None
        year, month = int(text[:4]), int(text[5:])
        return cls(year, month) if 1 <= month <= 12 and year >= 1 else None

    @property
    def key(self) -> str:
        """'2026-10' (the query-string form)."""
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def first(self) -> date:
        """Its first day."""
        return date(self.year, self.month, 1)

    @property
    def last(self) -> date:
        """Its last day."""
        nxt = date(self.year + 1, 1, 1) if self.month == 12 else date(self.year, self.month + 1, 1)
        return nxt - timedelta(days=1)

    def previous(self) -> Month:
        """The month before."""
        return Month(self.year - 1, 12) if self.month == 1 else Month(self.year, self.month - 1)


def local_month(now: datetime, timezone: str) -> Month:
    """The month `now` falls in, in the community's time zone."""
    return Month.of(clock.local(now, timezone).date())


T = TypeVar("T")


def competition_ranks(items: Sequence[T], score: Callable[[T], Any]) -> list[int]:
    """Ranks of items already sorted best first; equal scores share a rank (1, 1, 3)."""
    ranks: list[int] = []
    for i, item in enumerate(items):
        same = i > 0 and score(item) == score(items[i - 1])
        ranks.append(ranks[-1] if same else i + 1)
    return ranks


# --- Board rows ----------------------------------------------------------------------------

@dataclass(frozen=True)
class HouseholdRow:
    """One household on a board: its rank, masked address and points (no name, no id shown)."""

    rank: int
    label: str
    points: int
    household_id: int  # to mark "my household" on a resident's page; never rendered


@dataclass(frozen=True)
class TopBoard:
    """The first households of a community's board."""

    rows: list[HouseholdRow]
    ranked: int  # households on the board (active, not opted out, earned > 0)
    tied_beyond: int  # more households sharing the last shown row's rank, left off the list


@dataclass(frozen=True)
class GroupRow:
    """A building or community: rank by average earned points per active household."""

    key: str  # building name or community id
    label: str
    households: int
    points: int
    rank: int | None  # None when it has no active household ("not available")

    @property
    def average(self) -> float | None:
        """Average points per active household, one decimal; None when none is active."""
        return round(self.points / self.households, 1) if self.households else None


@dataclass(frozen=True)
class MyRank:
    """A household's own standing in its community (shown to its members only)."""

    points: int
    rank: int | None  # None before it earned anything this month
    ranked: int  # households ranked alongside it (itself included when it earned)
    opted_out: bool


# --- Queries -------------------------------------------------------------------------------

def _in_month(month: Month) -> list[Any]:
    """Earning, unreversed ledger entries of one month (the account_id, local_date index
    range). Earns and bonuses are a drop's entries, reversed on their own day
    (`drop_entry_not_reversed`: one probe of the reversal key each)."""
    return [col(LedgerEntry.local_date) >= month.first, col(LedgerEntry.local_date) <= month.last,
            col(LedgerEntry.kind).in_(EARNING_KINDS), drop_entry_not_reversed()]


def _own_earns_in_month(month: Month) -> list[Any]:
    """The drops' own earns of one month that were not taken back: the `earn` rows of
    `facts.entries` (a scored household's drop, not a repeat, points ≠ 0; a voided drop's
    too, its reversal is in the ledger), by local day; `facts.own_earn_kept` probes the
    ledger's unique key once per drop that earned."""
    d = facts.drops.c
    return [d.local_date >= month.first, d.local_date <= month.last,
            d.household_id.is_not(None), d.repeat_of.is_(None), d.points != 0,
            facts.own_earn_kept()]


def _device_times(month: Month) -> list[Any]:
    """Device times that cover the month's local days in any time zone (UTC−12…+14): from
    the UTC day before its first day to the end of the UTC day after its last. A drop's
    local day is its device time's in its station's zone, so this bounds
    ix_drop_record_household_happened to the month without changing the result."""
    d = facts.drops.c
    lo, hi = month.first - timedelta(days=1), month.last + timedelta(days=2)
    return [d.happened_at >= datetime(lo.year, lo.month, lo.day, tzinfo=UTC),
            d.happened_at < datetime(hi.year, hi.month, hi.day, tzinfo=UTC)]


@dataclass(frozen=True)
class HouseholdPoints:
    """One household of a community with the points it earned in the month."""

    household_id: int
    building: str
    unit: str
    room: str
    active: bool
    opted_out: bool
    points: int

    @property
    def on_board(self) -> bool:
        """Shown on the board: active, not opted out, and earned something."""
        return self.active and not self.opted_out and self.points > 0


def community_points(session: Session, *, community_id: int,
                     month: Month) -> list[HouseholdPoints]:
    """Every household of a community with its month's earnings: ONE grouped statement.

    The boards of a community (top households, a household's rank, buildings) are all ranked
    in Python from this list (at most a few thousand small rows), so a page reads the
    community's month once: its ledger through the (account_id, local_date) index, its drop
    rows through the (community_id, local_date) index.
    """
    # The earnings, one row each, from both places: the ledger's driven from the community's
    # accounts, so the planner walks the ledger index once per account (an account found
    # by its unique (community, household) key); the entries are joined by account only:
    # (account_id, local_date) is then the one index that fits, whatever the statistics (a
    # month's partition starts with none, community.partitions); naming their community too
    # let PostgreSQL pick a community-wide range and filter it once per household (0.4 s).
    # The drops' own earns: the community's month of drop rows, one index range (on
    # PostgreSQL in the month's partition). Bounded by community and month on both sides.
    d = facts.drops.c
    earned = union_all(
        select(col(PointsAccount.household_id).label("household_id"),
               col(LedgerEntry.amount).label("amount"))
        .select_from(PointsAccount)
        .join(LedgerEntry, and_(col(LedgerEntry.account_id) == PointsAccount.id,
                                *_in_month(month)))
        .where(col(PointsAccount.community_id) == community_id,
               col(PointsAccount.household_id).is_not(None)),  # not the stewards' accounts
        select(d.household_id, cast(d.points, Integer).label("amount"))
        .where(d.community_id == community_id, *_own_earns_in_month(month)),
    ).subquery("earned")
    # Driven from the community's households (a LEFT JOIN keeps the households that earned
    # nothing: buildings count them).
    rows = session.execute(
        select(col(Household.id), col(Household.building), col(Household.unit), col(Household.room),
               col(Household.status), col(Household.honour_opt_out),
               func.coalesce(func.sum(earned.c.amount), 0))
        .select_from(Household)
        .outerjoin(earned, earned.c.household_id == Household.id)
        .where(col(Household.community_id) == community_id)
        .group_by(col(Household.id), col(Household.building), col(Household.unit),
                  col(Household.room), col(Household.status),
                  col(Household.honour_opt_out))).all()
    return [HouseholdPoints(i, b, u, r, st == "active", bool(o), int(p))
            for i, b, u, r, st, o, p in rows]


def household_points(session: Session, *, community_id: int, household_id: int,
                     month: Month) -> int:
    """One household's earnings of the month (the measure of `community_points`, for one
    household: one range of the (account_id, local_date) index for its ledger, one of the
    (household_id, happened_at) index for its drop rows; no GROUP BY)."""
    d = facts.drops.c
    # The drop rows by household alone (its drops are its community's): with the community
    # named too, (community_id, local_date) would look as good to a planner without
    # statistics and read the community's month for one household.
    earned = union_all(
        select(col(LedgerEntry.amount).label("amount"))
        .select_from(PointsAccount)
        .join(LedgerEntry, and_(col(LedgerEntry.account_id) == PointsAccount.id,
                                *_in_month(month)))
        .where(col(PointsAccount.community_id) == community_id,
               col(PointsAccount.household_id) == household_id),
        select(cast(d.points, Integer).label("amount"))
        .where(d.household_id == household_id, *_device_times(month),
               *_own_earns_in_month(month)),
    ).subquery("earned")
    return int(session.execute(
        select(func.coalesce(func.sum(earned.c.amount), 0))).scalar_one())


# Every resident's board page reads its community's month of earnings (a community of 3,000
# households: ~180,000 entries by the end of a month). Residents' pages share that list for
# BOARD_TTL_SECONDS per process, and each page reads its own household fresh on top
# (`resident_board`): one's own drop shows in one's points and rank at once, the other
# households' within a minute. Managers' boards always read the month afresh.
BOARD_TTL_SECONDS = 60.0
_boards: dict[tuple[str, int, str], tuple[float, list[HouseholdPoints]]] = {}


def cached_community_points(session: Session, *, community_id: int,
                            month: Month) -> list[HouseholdPoints]:
    """`community_points`, reused for BOARD_TTL_SECONDS within this process."""
    key = (str(session.get_bind().engine.url), community_id, month.key)
    now = time.monotonic()
    hit = _boards.get(key)
    if hit is not None and now - hit[0] < BOARD_TTL_SECONDS:
        return hit[1]
    rows = community_points(session, community_id=community_id, month=month)
    if len(_boards) > 1000:  # a bound, not an LRU (as `_rankings`)
        _boards.clear()
    _boards[key] = (now, rows)
    return rows


def top_of(households: Sequence[HouseholdPoints], limit: int = RESIDENT_TOP) -> TopBoard:
    """The best households on the board, masked (pure; see `top_households`)."""
    board = sorted((h for h in households if h.on_board),
                   key=lambda h: (-h.points, h.household_id))
    shown = board[:limit]
    ranks = competition_ranks(shown, lambda h: h.points)
    rows = [HouseholdRow(rank, mask_room(h.building, h.unit, h.room), h.points, h.household_id)
            for rank, h in zip(ranks, shown, strict=True)]
    tied = sum(1 for h in board[limit:] if h.points == shown[-1].points) if shown else 0
    return TopBoard(rows, len(board), tied)


def rank_of(households: Sequence[HouseholdPoints], household_id: int) -> MyRank:
    """A household's points and rank among the board's households, even when it opted out.

    Its rank is where it would stand on the board: 1 + the board households with more points.
    """
    me = next((h for h in households if h.household_id == household_id), None)
    points = me.points if me else 0
    others = [h for h in households if h.on_board and h.household_id != household_id]
    opted_out = bool(me and me.opted_out)
    if points <= 0:
        return MyRank(0, None, len(others), opted_out)
    above = sum(1 for h in others if h.points > points)
    return MyRank(points, above + 1, len(others) + 1, opted_out)


def buildings_of(households: Sequence[HouseholdPoints]) -> list[GroupRow]:
    """Buildings by average earned points per active household (pure; opted out included)."""
    totals: dict[str, list[int]] = {}
    for h in households:
        if h.active:
            count_points = totals.setdefault(h.building, [0, 0])
            count_points[0] += 1
            count_points[1] += h.points
    return _rank_groups([(b, building_label(b), n, p) for b, (n, p) in totals.items()])


def top_households(session: Session, *, community_id: int, month: Month,
                   limit: int = RESIDENT_TOP) -> TopBoard:
    """The community's best households of the month, masked; opted-out ones never appear.

    Equal points share a rank. When households beyond `limit` share the last shown rank,
    `tied_beyond` says how many (a notice board shows "and 12 more with 180 points").
    No authorization: callers (the board pages below) decide who may see it.
    """
    return top_of(community_points(session, community_id=community_id, month=month), limit)


def household_rank(session: Session, *, household: Household, month: Month) -> MyRank:
    """A household's points and rank in its community this month (see `rank_of`)."""
    return rank_of(community_points(session, community_id=household.community_id,
                                    month=month), pk(household))


def building_ranking(session: Session, *, community_id: int, month: Month) -> list[GroupRow]:
    """The community's buildings by average earned points per active household (no names)."""
    return buildings_of(community_points(session, community_id=community_id, month=month))


def _rank_groups(rows: list[tuple[str, str, int, int]]) -> list[GroupRow]:
    """(key, label, households, points) → ranked rows, best average first, "n/a" last."""
    def order(r: tuple[str, str, int, int]) -> tuple:
        avg = Fraction(r[3], r[2]) if r[2] else None
        return (avg is None, -(avg or 0), r[1])

    rows = sorted(rows, key=order)
    rated = [r for r in rows if r[2]]
    ranks = competition_ranks(rated, lambda r: Fraction(r[3], r[2]))
    out = [GroupRow(k, label, n, p, rank) for rank, (k, label, n, p) in zip(
        ranks, rated, strict=True)]
    return out + [GroupRow(k, label, n, p, None) for k, label, n, p in rows if not n]


def _communities_under(session: Session, parent: Area) -> list[Area]:
    return areas_services.areas_in_scopes(session, [parent.path], level="community")


def community_ranking(session: Session, *, parent: Area, month: Month) -> list[GroupRow]:
    """The communities under a street or district by average earned points per active household.

    Two grouped statements whatever the number of communities: active households per
    community, and their month's earnings per community (opted-out households included):
    their ledger by account and month, their drop rows by community and month.
    """
    communities = _communities_under(session, parent)
    ids = [c.id for c in communities]
    if not ids:
        return []
    counts = dict(session.execute(
        select(col(Household.community_id), func.count())
        .where(col(Household.community_id).in_(ids), col(Household.status) == "active")
        .group_by(col(Household.community_id))).all())
    d = facts.drops.c
    active = [col(Household.community_id).in_(ids), col(Household.status) == "active"]
    # Each part grouped by community: SQLite then walks the households in community order
    # (one account and one ledger range each); ungrouped, it read the community's whole
    # ledger by its reversal index instead (every month of it).
    earned = union_all(
        select(col(Household.community_id).label("community_id"),
               func.sum(LedgerEntry.amount).label("amount"))
        .select_from(Household)
        # Joined on the community too: each community's rows join within their shard.
        .join(PointsAccount, and_(col(PointsAccount.community_id) == Household.community_id,
                                  col(PointsAccount.household_id) == Household.id))
        .join(LedgerEntry, and_(col(LedgerEntry.community_id) == PointsAccount.community_id,
                                col(LedgerEntry.account_id) == PointsAccount.id,
                                *_in_month(month)))
        .where(*active).group_by(col(Household.community_id)),
        # The drops' own earns: each community's month of drop rows (one index range each),
        # their household found by primary key.
        select(d.community_id, func.sum(cast(d.points, Integer)).label("amount"))
        .select_from(facts.drops)
        .join(Household, and_(col(Household.id) == d.household_id,
                              col(Household.community_id) == d.community_id))
        .where(d.community_id.in_(ids), *_own_earns_in_month(month), *active)
        .group_by(d.community_id),
    ).subquery("earned")
    points = dict(session.execute(
        select(earned.c.community_id, func.sum(earned.c.amount))
        .group_by(earned.c.community_id)).all())
    return _rank_groups([(str(c.id), c.name, int(counts.get(c.id, 0)),
                          int(points.get(c.id) or 0)) for c in communities])


# A street's ranking reads the month of earnings of all its communities, and every resident's
# board shows it: the pages share one result per (database, area, month) for a few minutes
# (per process). A board is not a live score; the community's own boards are always fresh.
RANKING_TTL_SECONDS = 300.0
_rankings: dict[tuple[str, int, str], tuple[float, list[GroupRow]]] = {}


def cached_community_ranking(session: Session, *, parent: Area, month: Month) -> list[GroupRow]:
    """`community_ranking`, reused for RANKING_TTL_SECONDS within this process."""
    key = (str(session.get_bind().engine.url), pk(parent), month.key)
    now = time.monotonic()
    hit = _rankings.get(key)
    if hit is not None and now - hit[0] < RANKING_TTL_SECONDS:
        return hit[1]
    rows = community_ranking(session, parent=parent, month=month)
    if len(_rankings) > 1000:  # a bound, not an LRU: dropping everything now and then is fine
        _rankings.clear()
    _rankings[key] = (now, rows)
    return rows


def forget_rankings() -> None:
    """Empty the ranking and board caches (tests; ids repeat across test databases)."""
    _rankings.clear()
    _boards.clear()


# --- Pages ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class ResidentBoard:
    """The resident's /me/board page: their household's standing and the boards around it."""

    choices: list[tuple[int, str]]  # (household id, own address) when the resident has several
    household: Household
    address: str
    community: Area
    month: Month
    last_month: bool
    mine: MyRank
    top: TopBoard
    buildings: list[GroupRow]
    street: Area | None
    community_row: GroupRow | None  # the household's community within its street
    communities: int  # communities ranked in the street


def resident_board(session: Session, *, account_id: int, household_id: int | None = None,
                   last_month: bool = False, now: datetime | None = None) -> ResidentBoard | None:
    """The boards of one of the resident's own households (None: no approved household yet).

    Everything is derived from the household: no area or month comes from the request but
    "this month" or "last month".
    """
    households = households_services.member_households(session, account_id)
    if household_id is None:
        if not households:
            return None
        hh = households[0]
    else:
        found = next((h for h in households if h.id == household_id), None)
        if found is None:  # someone else's household: 404 whether or not one has any
            raise NotFound()
        hh = found
    community = session.get(Area, hh.community_id)
    if community is None:  # cannot happen (foreign key); keeps the type checker honest
        raise NotFound()
    month = local_month(now or clock.now(), community.timezone)
    if last_month:
        month = month.previous()
    street = session.get(Area, community.parent_id) if community.parent_id else None
    ranking = cached_community_ranking(session, parent=street, month=month) if street else []
    own = next((r for r in ranking if r.key == str(community.id)), None)
    choices = [(pk(h), households_services.address_label(h)) for h in households]
    fresh = household_points(session, community_id=pk(community), household_id=pk(hh),
                             month=month)
    points = [replace(h, points=fresh) if h.household_id == hh.id else h
              for h in cached_community_points(session, community_id=pk(community),
                                               month=month)]
    return ResidentBoard(
        choices=choices if len(households) > 1 else [],
        household=hh, address=households_services.address_label(hh), community=community,
        month=month, last_month=last_month, mine=rank_of(points, pk(hh)),
        top=top_of(points, RESIDENT_TOP), buildings=buildings_of(points),
        street=street, community_row=own, communities=sum(1 for r in ranking if r.rank))


@dataclass(frozen=True)
class ManagerBoard:
    """The managers' /manage/board page: a community's boards and, for area admins, an area's."""

    community: Area
    communities: list[Area]  # the community picker
    month: Month
    months: list[Month]  # the month picker, newest first
    top: TopBoard
    buildings: list[GroupRow]
    areas: list[Area] = field(default_factory=list)  # streets/districts the actor may rank
    area: Area | None = None
    ranking: list[GroupRow] = field(default_factory=list)


def _area_choices(session: Session, actor: policy.Actor) -> list[Area]:
    """Streets and districts inside the actor's points:read scopes (empty for a manager)."""
    scopes = policy.scopes(actor, "points:read")
    return [a for level in AREA_LEVELS
            for a in areas_services.areas_in_scopes(session, scopes, level=level)]


def manager_board(session: Session, *, actor: policy.Actor, community_id: int | None = None,
                  area_id: int | None = None, month_key: str | None = None,
                  now: datetime | None = None) -> ManagerBoard:
    """A community's honour board and building ranking (points:read there), and the community
    ranking of a street or district the actor may read (area and city admins).

    An unknown month falls back to the current one; only the last MANAGER_MONTHS are offered.
    """
    community = areas_services.community_for(session, actor=actor, community_id=community_id,
                                             action="points:read")
    current = local_month(now or clock.now(), community.timezone)
    months = [current]
    while len(months) < MANAGER_MONTHS:
        months.append(months[-1].previous())
    month = Month.parse(month_key)
    if month not in months:
        month = current
    areas = _area_choices(session, actor)
    area = None
    if area_id is not None:
        area = areas_services.get_area(session, area_id)
        policy.require(actor, "points:read", area)
        if area.level not in AREA_LEVELS:
            raise NotFound()
    elif areas:
        # The street of the shown community when the actor may read it, else the first.
        area = next((a for a in areas if a.id == community.parent_id), areas[0])
    points = community_points(session, community_id=pk(community),
                              month=month)
    return ManagerBoard(
        community=community,
        communities=areas_services.communities_for(session, actor, "points:read"),
        month=month, months=months, top=top_of(points, MANAGER_TOP),
        buildings=buildings_of(points), areas=areas, area=area,
        ranking=cached_community_ranking(session, parent=area, month=month) if area else [])


__all__ = ["GroupRow", "HouseholdPoints", "HouseholdRow", "ManagerBoard", "Month", "MyRank",
           "ResidentBoard", "TopBoard", "building_label", "building_ranking", "buildings_of",
           "cached_community_points", "cached_community_ranking", "community_points",
           "community_ranking", "competition_ranks", "forget_rankings", "household_points",
           "household_rank", "local_month", "manager_board", "mask_room", "rank_of",
           "resident_board", "top_households", "top_of"]
