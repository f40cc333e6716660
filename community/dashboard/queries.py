"""Read queries of the dashboards: the community manager's month, an area's rankings, compliant
coverage, rating trend and tonnage rates, and the paged community ranking.

Everything is read from the rollup tables and the ratings, grouped in SQL on the
`(community_id, local_date)` keys, never a month of raw drops: the month's headline figures
come from `rollups.community_totals` (which adds the days not rolled up yet, such as today,
from their raw rows), and the daily and per-station figures add those same days from the raw
rows of those days only. Every function authorizes before it reads.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import String, and_, case, func, literal, or_, select, union_all
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from community import clock
from community.areas import services as areas_services
from community.areas.models import Area
from community.auth import policy
from community.collection import queries as collection_queries
from community.dashboard import rules as dashboard_rules
from community.errors import Forbidden, NotFound
from community.households.models import HouseholdEvent
from community.ratings import metrics, rollups
from community.ratings import services as ratings_services
from community.ratings import standing as ratings_standing
from community.ratings.metrics import CATEGORIES, Counts, Totals
from community.ratings.models import (
    LEVELS,
    BuildingDay,
    CommunityDay,
    CoverageDay,
    HourDay,
    HouseholdMonth,
    Rating,
    RollupDay,
    StationDay,
    TonnageEntry,
)
from community.rows import pk, table_of
from community.stations.models import Drop, Station
from community.types import UTCDateTime
from community.web.pagination import Page

READ = "ratings:read"
TREND_MONTHS = 12
BOARD_SIZE = 10          # communities on the red and the grey list
WORST_BUILDINGS = 15
PICKER_LIMIT = 200       # communities listed in the manager dashboard's picker
# The headline figures in the order the page shows them (kitchen accuracy first).
FIGURES = ("kitchen_accuracy", "accuracy", "scan_rate", "participation", "out_of_window_rate",
           "steward_coverage", "kitchen_separation")
COUNT_FIELDS = ("drops", "identified", "tallies", "graded", "correct", "incorrect",
                "out_of_window", "weighed", "kg")
# Ranking sorts: the level order (default) or one metric.
SORTS = ("level", *FIGURES)
D = table_of(Drop).c


# --- Months --------------------------------------------------------------------------------

def add_months(month: date, n: int) -> date:
    """The first day of the month `n` months after `month`'s (negative: before)."""
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def month_end(month: date) -> date:
    """The last day of `month`'s month."""
    return add_months(month, 1) - timedelta(days=1)


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=k) for k in range((last - first).days + 1)]


# --- The community manager's dashboard -----------------------------------------------------

@dataclass(frozen=True)
class Figure:
    """A headline figure of the month with last month's value."""

    code: str
    value: float | None
    previous: float | None
    target: dashboard_rules.Target | None = None

    @property
    def status(self) -> str:
        """The card's colour by distance to the target: meets, near, below or na."""
        return dashboard_rules.kpi_status(self.value, self.target)

    @property
    def change(self) -> float | None:
        """Month-on-month change of the figures as shown (`rules.shown_change`: the
        difference of the rounded percentages, as a fraction; None when either is missing)."""
        return dashboard_rules.shown_change(self.value, self.previous)

    @property
    def lower_is_better(self) -> bool:
        """Whether a fall of this figure is an improvement (out-of-window rate)."""
        return self.code in ratings_standing.LOWER_IS_BETTER

    @property
    def direction(self) -> str:
        """"better", "worse" or "same" for the page's colour; "" when not comparable."""
        change = self.change
        if change is None:
            return ""
        if abs(change) < 0.0005:  # below what the page shows (0.1 percentage point)
            return "same"
        return "better" if (change < 0) == self.lower_is_better else "worse"


@dataclass(frozen=True)
class Point:
    """One day or month of a trend: the metric vector and the drops (None: no data yet)."""

    start: date
    values: dict[str, float | None] | None
    drops: int = 0


@dataclass
class StationRow:
    """One station's month: figures by category and its steward coverage."""

    station_id: int
    name: str
    by_category: dict[str, Counts] = field(default_factory=dict)
    scheduled: int = 0
    staffed: int = 0
    # 收运端检出: kitchen bins the collectors found contaminated here (community/collection).
    pickup_contaminated: int = 0

    @property
    def counts(self) -> Counts:
        """All categories together."""
        return Totals(by_category=self.by_category).all

    def metric(self, code: str) -> float | None:
        """One of the station's rates."""
        t = Totals(by_category=self.by_category, windows_scheduled=self.scheduled,
                   windows_staffed=self.staffed)
        return metrics.all_metrics(t).get(code)

    def kitchen_accuracy_with_pickup(self) -> float | None:
        """Kitchen accuracy counting the contaminated bins found at pickup (shown apart)."""
        return metrics.kitchen_accuracy_with_pickup(Totals(
            by_category=self.by_category, pickup_contaminated_kitchen=self.pickup_contaminated))


@dataclass(frozen=True)
class BuildingRow:
    """One building's identified drops of the month."""

    building: str
    drops: int
    graded: int
    correct: int
    out_of_window: int

    @property
    def accuracy(self) -> float | None:
        """Correct / graded drops of the building."""
        return metrics.rate(self.correct, self.graded)

    @property
    def out_of_window_rate(self) -> float | None:
        """Out-of-window drops / drops of the building."""
        return metrics.rate(self.out_of_window, self.drops)


@dataclass
class HourRow:
    """Drops of one local hour (or weekday) over the month."""

    key: int
    drops: int = 0
    out_of_window: int = 0
    graded: int = 0
    correct: int = 0

    @property
    def accuracy(self) -> float | None:
        """Correct / graded drops."""
        return metrics.rate(self.correct, self.graded)

    @property
    def out_of_window_rate(self) -> float | None:
        """Out-of-window drops / drops."""
        return metrics.rate(self.out_of_window, self.drops)


@dataclass
class CommunityDashboard:
    """Everything the manager's dashboard shows for one community and month."""

    communities: list[Area]
    community: Area
    month: date
    today: date
    day_to: date                 # the month's last day counted (today in the current month)
    totals: Totals
    previous: Totals
    figures: list[Figure]
    daily: list[Point]
    monthly: list[Point]
    stations: list[StationRow]
    buildings: list[BuildingRow]
    hours: list[HourRow]
    weekdays: list[HourRow]
    rating: ratings_standing.Standing | None
    built_through: date | None   # the latest rolled-up day of the community

    @property
    def previous_month(self) -> date:
        """The month before."""
        return add_months(self.month, -1)

    @property
    def next_month(self) -> date | None:
        """The month after, unless it has not begun."""
        nxt = add_months(self.month, 1)
        return nxt if nxt <= self.today else None

    @property
    def categories(self) -> list[tuple[str, Counts]]:
        """The month's figures of each category."""
        return [(code, self.totals.category(code)) for code in CATEGORIES]

    @property
    def metrics(self) -> dict[str, float | None]:
        """The month's metric vector."""
        return metrics.all_metrics(self.totals)


def _counts(row: Any) -> Counts:
    return Counts(**{n: int(getattr(row, n) or 0) for n in COUNT_FIELDS[:-1]},
                  kg=Decimal(str(row.kg or 0)))


def _sums(table: Any) -> list[Any]:
    return [func.sum(getattr(table.c, n)).label(n) for n in COUNT_FIELDS]


def _raw_sums() -> list[Any]:
    """The StationDay figures of raw drops (for days not rolled up yet)."""
    graded = D.quality.in_(("correct", "incorrect"))
    return [
        func.count().label("drops"),
        func.sum(case((D.household_id.is_not(None), 1), else_=0)).label("identified"),
        func.sum(case((D.household_id.is_(None), 1), else_=0)).label("tallies"),
        func.sum(case((graded, 1), else_=0)).label("graded"),
        func.sum(case((D.quality == "correct", 1), else_=0)).label("correct"),
        func.sum(case((D.quality == "incorrect", 1), else_=0)).label("incorrect"),
        func.sum(case((D.in_window.is_(False), 1), else_=0)).label("out_of_window"),
        func.sum(case((D.weight_kg.is_not(None), 1), else_=0)).label("weighed"),
        func.coalesce(func.sum(D.weight_kg), 0).label("kg"),
    ]


def _add(bucket: dict[str, Counts], category: str, counts: Counts) -> None:
    bucket[category] = bucket.get(category, Counts()) + counts


def community_dashboard(session: Session, *, actor: policy.Actor, community_id: int | None,
                        month: date | None = None,
                        now: datetime | None = None) -> CommunityDashboard:
    """A community's month (this month by default) with last month and the last 12 months."""
    community = areas_services.community_for(session, actor=actor, community_id=community_id,
                                             action=READ)
    cid = pk(community)
    today = clock.local_today(community.timezone, now)
    this_month = rollups.month_start(today)
    month = min(rollups.month_start(month) if month else this_month, this_month)
    last = month_end(month)
    day_to = min(last, today)
    totals = rollups.community_totals(session, [cid], month, day_to, now=now)[cid]
    prev = add_months(month, -1)
    previous = rollups.community_totals(session, [cid], prev, month_end(prev), now=now)[cid]
    now_values, before = metrics.all_metrics(totals), metrics.all_metrics(previous)
    targets = dashboard_rules.targets(
        ratings_services.policy_for(session, community, month).policy, FIGURES)
    figures = [Figure(code, now_values[code], before[code], targets[code]) for code in FIGURES]

    trend_first = add_months(month, -(TREND_MONTHS - 1))
    built = set(session.execute(select(col(RollupDay.local_date)).where(
        col(RollupDay.community_id) == cid, col(RollupDay.local_date) >= month,
        col(RollupDay.local_date) <= day_to)).scalars())
    missing = [d for d in _days(month, day_to) if d not in built]

    stations = _stations(session, cid, month, last, missing)
    daily, monthly = _trends(session, cid, community.timezone, trend_first, month, day_to,
                             missing, totals)
    # The two months the headline compares come from community_totals, so they agree.
    for k, point in enumerate(monthly):
        if point.start in (month, prev):
            t = totals if point.start == month else previous
            monthly[k] = Point(point.start, metrics.all_metrics(t), t.all.drops)
    hours, weekdays = _hours(session, cid, month, last)
    built_through = session.execute(select(func.max(RollupDay.local_date)).where(
        col(RollupDay.community_id) == cid)).scalar()
    return CommunityDashboard(
        communities=_community_choices(session, actor),
        community=community, month=month, today=today, day_to=day_to, totals=totals,
        previous=previous, figures=figures, daily=daily, monthly=monthly, stations=stations,
        buildings=_buildings(session, cid, month, last), hours=hours, weekdays=weekdays,
        rating=ratings_standing.standing(session, cid, month=month),
        built_through=built_through)


def _community_choices(session: Session, actor: policy.Actor) -> list[Area]:
    """The picker's communities; none past PICKER_LIMIT (a city admin picks from the ranking,
    and a thousand options would only slow the page)."""
    paths = policy.scopes(actor, READ)
    if not paths:
        return []
    rows = list(session.execute(
        select(Area).where(or_(*[col(Area.path).startswith(p) for p in paths]),
                           col(Area.level) == "community")
        .order_by(col(Area.path)).limit(PICKER_LIMIT + 1)).scalars())
    return rows if len(rows) <= PICKER_LIMIT else []


def _stations(session: Session, cid: int, first: date, last: date,
              missing: Sequence[date]) -> list[StationRow]:
    """Each station's month by category (rollups + days not rolled up) and its coverage."""
    rows: dict[int, StationRow] = {
        sid: StationRow(sid, name) for sid, name in session.execute(
            select(col(Station.id), col(Station.name)).where(col(Station.community_id) == cid)
            .order_by(col(Station.name)))}
    sd = table_of(StationDay)
    for r in session.execute(
            select(sd.c.station_id, sd.c.category, *_sums(sd))
            .where(sd.c.community_id == cid, sd.c.local_date >= first, sd.c.local_date <= last)
            .group_by(sd.c.station_id, sd.c.category)):
        if r.station_id in rows:
            _add(rows[r.station_id].by_category, r.category, _counts(r))
    if missing:
        for r in session.execute(
                select(D.station_id, D.category, *_raw_sums())
                .where(D.community_id == cid, D.local_date.in_(list(missing)),
                       D.voided_at.is_(None))
                .group_by(D.station_id, D.category)):
            if r.station_id in rows:
                _add(rows[r.station_id].by_category, r.category, _counts(r))
    cv = table_of(CoverageDay)
    for sid, scheduled, staffed in session.execute(
            select(cv.c.station_id, func.sum(cv.c.scheduled), func.sum(cv.c.staffed))
            .where(cv.c.community_id == cid, cv.c.local_date >= first,
                   cv.c.local_date <= last).group_by(cv.c.station_id)):
        if sid in rows:
            rows[sid].scheduled, rows[sid].staffed = int(scheduled or 0), int(staffed or 0)
    for sid, n in collection_queries.contaminated_kitchen_by_station(session, cid, first,
                                                                     last).items():
        if sid in rows:
            rows[sid].pickup_contaminated = n
    return list(rows.values())


def _active_droppers(session: Session, cid: int, tz: str,
                     periods: Mapping[str, tuple[Any, date]]) -> dict[str, int]:
    """Per period key: how many of its households (a select of household_id) were active at
    the local end of its day `end` (participation's numerator, DOMAIN.md "Exact readings").

    One statement for every period (a month's trend once asked 20 in a row): the periods'
    households with their end moment, each paired with its latest status event before it.
    """
    if not periods:
        return {}
    events = table_of(HouseholdEvent)
    e = events.c
    parts = []
    for key, (dropped, end) in periods.items():
        midnight = datetime.combine(end + timedelta(days=1), time(0), ZoneInfo(tz))
        sub = dropped.subquery()
        parts.append(select(literal(key, String()).label("k"),
                            literal(midnight, UTCDateTime()).label("end_at"),
                            sub.c.household_id.label("household_id")))
    d = union_all(*parts).subquery()
    ranked = (select(d.c.k, e.status, func.row_number().over(
        partition_by=(d.c.k, d.c.household_id),
        order_by=(e.effective_at.desc(), e.id.desc())).label("n"))
        .join(events, and_(e.household_id == d.c.household_id, e.community_id == cid,
                      e.effective_at < d.c.end_at))
        .subquery())
    return {k: int(n) for k, n in session.execute(
        select(ranked.c.k, func.count()).where(ranked.c.n == 1, ranked.c.status == "active")
        .group_by(ranked.c.k))}


def _trends(session: Session, cid: int, tz: str, trend_first: date, month: date,
            day_to: date, missing: Sequence[date],
            totals: Totals) -> tuple[list[Point], list[Point]]:
    """Daily points of the month and monthly points of the last TREND_MONTHS months.

    A day or month without any rolled-up day (and not counted from raw rows) has no data:
    its point is None, never a 0%. Participation counts only households active at the
    period's end, so it never exceeds 100%.
    """
    last = month_end(month)
    by_day: dict[date, dict[str, Counts]] = {}
    sd = table_of(StationDay)
    for r in session.execute(
            select(sd.c.local_date, sd.c.category, *_sums(sd))
            .where(sd.c.community_id == cid, sd.c.local_date >= trend_first,
                   sd.c.local_date <= last).group_by(sd.c.local_date, sd.c.category)):
        _add(by_day.setdefault(r.local_date, {}), r.category, _counts(r))
    coverage: dict[date, tuple[int, int]] = {}
    cv = table_of(CoverageDay)
    for day, scheduled, staffed in session.execute(
            select(cv.c.local_date, func.sum(cv.c.scheduled), func.sum(cv.c.staffed))
            .where(cv.c.community_id == cid, cv.c.local_date >= trend_first,
                   cv.c.local_date <= last).group_by(cv.c.local_date)):
        coverage[day] = (int(scheduled or 0), int(staffed or 0))
    community_days = {day: (int(dropped), int(active)) for day, dropped, active in session.execute(
        select(col(CommunityDay.local_date), col(CommunityDay.households_dropped),
               col(CommunityDay.active_households))
        .where(col(CommunityDay.community_id) == cid, col(CommunityDay.local_date) >= trend_first,
               col(CommunityDay.local_date) <= last))}
    periods: dict[str, tuple[Any, date]] = {}
    if missing:  # days not rolled up: counted from their own raw rows, as the totals are
        for r in session.execute(
                select(D.local_date, D.category, *_raw_sums())
                .where(D.community_id == cid, D.local_date.in_(list(missing)),
                       D.voided_at.is_(None))
                .group_by(D.local_date, D.category)):
            _add(by_day.setdefault(r.local_date, {}), r.category, _counts(r))
        periods = {f"d{day}": (select(D.household_id).where(
            D.community_id == cid, D.local_date == day, D.household_id.is_not(None),
            D.voided_at.is_(None)).distinct(), day) for day in missing}

    hm = table_of(HouseholdMonth).c
    month_ends: dict[date, date] = {}
    for k in range(TREND_MONTHS):
        start = add_months(trend_first, k)
        days = [d for d in community_days if rollups.month_start(d) == start]
        if days:
            month_ends[start] = max(days)
            periods[f"m{start}"] = (select(hm.household_id).where(
                hm.community_id == cid, hm.month == start), month_ends[start])
    droppers = _active_droppers(session, cid, tz, periods)
    raw_households = {day: droppers.get(f"d{day}", 0) for day in missing}

    daily = []
    for day in _days(month, last):
        if day in community_days:
            dropped, active = community_days[day]
        elif day in missing:
            dropped, active = raw_households.get(day, 0), totals.active_households
        else:  # after today, or a past day never rolled up
            daily.append(Point(day, None))
            continue
        scheduled, staffed = coverage.get(day, (0, 0))
        t = Totals(by_category=by_day.get(day, {}), households_dropped=dropped,
                   active_households=active, windows_scheduled=scheduled,
                   windows_staffed=staffed)
        daily.append(Point(day, metrics.all_metrics(t), t.all.drops))

    monthly = []
    for k in range(TREND_MONTHS):
        start = add_months(trend_first, k)
        days = sorted(d for d in community_days if rollups.month_start(d) == start)
        if not days:
            monthly.append(Point(start, None))
            continue
        t = Totals(households_dropped=droppers.get(f"m{start}", 0),
                   active_households=community_days[days[-1]][1])
        for day in days:
            for cat, counts in by_day.get(day, {}).items():
                _add(t.by_category, cat, counts)
            scheduled, staffed = coverage.get(day, (0, 0))
            t.windows_scheduled += scheduled
            t.windows_staffed += staffed
        monthly.append(Point(start, metrics.all_metrics(t), t.all.drops))
    return daily, monthly


def _hours(session: Session, cid: int, first: date,
           last: date) -> tuple[list[HourRow], list[HourRow]]:
    """The month's drops by local hour and by weekday (Monday 0), from the hour rollup."""
    hours = [HourRow(h) for h in range(24)]
    weekdays = [HourRow(w) for w in range(7)]
    hd = table_of(HourDay)
    for r in session.execute(
            select(hd.c.local_date, hd.c.hour, func.sum(hd.c.drops).label("drops"),
                   func.sum(hd.c.out_of_window).label("oow"),
                   func.sum(hd.c.graded).label("graded"),
                   func.sum(hd.c.correct).label("correct"))
            .where(hd.c.community_id == cid, hd.c.local_date >= first, hd.c.local_date <= last)
            .group_by(hd.c.local_date, hd.c.hour)):
        for row in (hours[int(r.hour) % 24], weekdays[r.local_date.weekday()]):
            row.drops += int(r.drops or 0)
            row.out_of_window += int(r.oow or 0)
            row.graded += int(r.graded or 0)
            row.correct += int(r.correct or 0)
    return hours, weekdays


def _buildings(session: Session, cid: int, first: date, last: date) -> list[BuildingRow]:
    """The buildings of the month, worst accuracy first (no graded drop: last)."""
    bd = table_of(BuildingDay)
    rows = [BuildingRow(r.building, int(r.drops or 0), int(r.graded or 0),
                        int(r.correct or 0), int(r.oow or 0))
            for r in session.execute(
                select(bd.c.building, func.sum(bd.c.drops).label("drops"),
                       func.sum(bd.c.graded).label("graded"),
                       func.sum(bd.c.correct).label("correct"),
                       func.sum(bd.c.out_of_window).label("oow"))
                .where(bd.c.community_id == cid, bd.c.local_date >= first,
                       bd.c.local_date <= last).group_by(bd.c.building))]
    rows.sort(key=lambda b: (b.accuracy is None, b.accuracy or 0.0,
                             -(b.out_of_window_rate or 0.0), b.building))
    return rows[:WORST_BUILDINGS]


# --- Areas: scope --------------------------------------------------------------------------

def _area_choices(session: Session, actor: policy.Actor) -> list[Area]:
    """The areas (city, districts, streets) whose dashboards the actor may read."""
    paths = policy.scopes(actor, READ)
    if not paths:
        return []
    return list(session.execute(
        select(Area).where(or_(*[col(Area.path).startswith(p) for p in paths]),
                           col(Area.level) != "community")
        .order_by(col(Area.path))).scalars())


def area_for(session: Session, *, actor: policy.Actor,
             area_id: int | None) -> tuple[Area, list[Area]]:
    """The area a page shows (the actor's outermost one by default) and the picker's areas."""
    choices = _area_choices(session, actor)
    if area_id is None:
        if not choices:
            raise Forbidden(action=READ)
        return choices[0], choices
    area = areas_services.get_area(session, area_id)
    policy.require(actor, READ, area)
    if area.level == "community":
        raise NotFound()
    return area, choices


def _in_area(area: Area) -> Any:
    """The condition "this community lies in `area`" on the community's Area row."""
    return col(Area.path).startswith(area.path)


def latest_rated_month(session: Session, area: Area, today: date) -> date:
    """The newest month rated in the area, or last month when none is."""
    latest = session.execute(
        select(func.max(Rating.month)).join(Area, col(Area.id) == Rating.community_id)
        .where(_in_area(area), col(Rating.month) <= today)).scalar()
    return latest or add_months(rollups.month_start(today), -1)


def _pick_month(session: Session, area: Area, month: date | None,
                now: datetime | None) -> tuple[date, date]:
    today = clock.local_today(area.timezone, now)
    if month is None:
        return latest_rated_month(session, area, today), today
    return min(rollups.month_start(month), rollups.month_start(today)), today


def _level_counts(session: Session, area: Area, month: date) -> dict[str, int]:
    counts = dict.fromkeys(LEVELS, 0)
    for level, n in session.execute(
            select(col(Rating.level), func.count()).join(Area, col(Area.id) == Rating.community_id)
            .where(_in_area(area), col(Rating.month) == month).group_by(Rating.level)):
        counts[level] = int(n)
    return counts


def _expand(counts: dict[str, int]) -> list[str]:
    return [level for level, n in counts.items() for _ in range(n)]


# --- Areas: the dashboard ------------------------------------------------------------------

@dataclass(frozen=True)
class RankRow:
    """One rated community in a ranking."""

    rank: int | None      # None: insufficient data, not ranked
    community_id: int
    name: str
    street: str | None
    district: str | None
    level: str
    metrics: dict[str, float | None]
    status: str = "final"  # provisional until the month's drops can no longer change


@dataclass
class CoverageRow:
    """Compliant coverage of one district or street: rated communities by level."""

    area: Area
    counts: dict[str, int]
    communities: int              # communities in the area (rated or not)

    @property
    def rated(self) -> int:
        """Communities with a rating this month."""
        return sum(self.counts.values())

    @property
    def coverage(self) -> float | None:
        """达标小区覆盖率 of the area (None when none was rated on quality)."""
        return metrics.compliant_coverage(_expand(self.counts))


@dataclass(frozen=True)
class LevelMonth:
    """How many communities of the area had each level in one month."""

    month: date
    counts: dict[str, int]

    @property
    def coverage(self) -> float | None:
        """The month's compliant coverage."""
        return metrics.compliant_coverage(_expand(self.counts))


@dataclass(frozen=True)
class TonnageRow:
    """An area's tonnage entry of a month (None: not entered) and its rates."""

    area: Area
    entry: TonnageEntry | None

    @property
    def tonnage(self) -> metrics.Tonnage | None:
        """The entry as the pure Tonnage value."""
        return tonnage_of(self.entry) if self.entry else None

    @property
    def recycling_rate(self) -> float | None:
        """回收利用率 of the entry."""
        t = self.tonnage
        return metrics.recycling_rate(t) if t else None

    @property
    def resource_utilization_rate(self) -> float | None:
        """资源化利用率 of the entry."""
        t = self.tonnage
        return metrics.resource_utilization_rate(t) if t else None


def tonnage_of(entry: TonnageEntry) -> metrics.Tonnage:
    """A stored entry as the pure Tonnage value."""
    return metrics.Tonnage(Decimal(entry.recyclables), Decimal(entry.incineration_grate),
                           Decimal(entry.incineration_fluid), Decimal(entry.kitchen),
                           Decimal(entry.landfill))


@dataclass
class AreaDashboard:
    """An area's month: red and grey lists, coverage by district and street, the level trend
    and the tonnage rates."""

    areas: list[Area]
    area: Area
    month: date
    today: date
    counts: dict[str, int]
    provisional: int                  # ratings of the month that may still change
    final_from: date                  # the day the month's ratings become final
    communities: int
    red: list[RankRow]
    grey: list[RankRow]
    coverage: list[CoverageRow]
    trend: list[LevelMonth]
    tonnage: list[TonnageRow]         # the area's own entry first, then its sub-areas'
    tonnage_total: metrics.Tonnage | None   # the sub-areas' entries together
    can_enter_tonnage: bool

    @property
    def rated(self) -> int:
        """Communities rated this month."""
        return sum(self.counts.values())

    @property
    def compliant_coverage(self) -> float | None:
        """The area's compliant coverage this month."""
        return metrics.compliant_coverage(_expand(self.counts))

    @property
    def next_month(self) -> date | None:
        """The month after, unless it has not begun."""
        nxt = add_months(self.month, 1)
        return nxt if nxt <= self.today else None

    @property
    def previous_month(self) -> date:
        """The month before."""
        return add_months(self.month, -1)


def _rank_rows(rows: Iterable[Any]) -> list[RankRow]:
    return [RankRow(int(r.rank) if r.level != "insufficient" and r.rank is not None else None,
                    r.community_id, r.name, r.street, r.district, r.level, dict(r.metrics or {}),
                    r.status)
            for r in rows]


def _ranked(area: Area, month: date, order: list[Any], where: Sequence[Any] = ()) -> Any:
    """Ratings of the area's communities in `month` with rank() over `order` and names."""
    street, district = aliased(Area), aliased(Area)
    return (select(func.rank().over(order_by=order).label("rank"),
                   col(Rating.community_id), col(Rating.level), col(Rating.metrics),
                   col(Rating.status), col(Area.name).label("name"),
                   col(street.name).label("street"), col(district.name).label("district"))
            .join(Area, col(Area.id) == Rating.community_id)
            .outerjoin(street, col(street.id) == Area.parent_id)
            .outerjoin(district, col(district.id) == street.parent_id)
            .where(_in_area(area), col(Rating.month) == month, *where))


def _sort_key(sort: str) -> list[Any]:
    """The ranking order: insufficient data last, then the level or one metric, best first."""
    level = ratings_standing.level_order_expr()
    last = case((col(Rating.level) == "insufficient", 1), else_=0)
    if sort == "level" or sort not in SORTS:
        return [last, level.desc(), ratings_standing.headline_expr().desc()]
    value = ratings_standing.metric_expr(sort)
    if sort in ratings_standing.LOWER_IS_BETTER:
        return [last, func.coalesce(value, 2.0).asc(), level.desc()]
    return [last, func.coalesce(value, ratings_standing.MISSING).desc(), level.desc()]


def area_dashboard(session: Session, *, actor: policy.Actor, area_id: int | None,
                   month: date | None = None, now: datetime | None = None) -> AreaDashboard:
    """An area's month (the latest rated one by default): see AreaDashboard."""
    area, areas = area_for(session, actor=actor, area_id=area_id)
    month, today = _pick_month(session, area, month, now)
    counts = _level_counts(session, area, month)
    communities = int(session.execute(select(func.count()).select_from(Area).where(
        _in_area(area), col(Area.level) == "community")).scalar_one())
    level = ratings_standing.level_order_expr()
    headline = ratings_standing.headline_expr()
    red = session.execute(
        _ranked(area, month, [level.desc(), headline.desc()],
                [col(Rating.level).in_(("compliant", "star"))])
        .order_by(level.desc(), headline.desc(), Area.name).limit(BOARD_SIZE))
    worst = func.coalesce(ratings_standing.metric_expr(ratings_standing.HEADLINE), 2.0)
    grey = session.execute(
        _ranked(area, month, [worst.asc()], [col(Rating.level) == "not_compliant"])
        .order_by(worst.asc(), Area.name).limit(BOARD_SIZE))
    provisional = int(session.execute(
        select(func.count()).select_from(Rating).join(Area, col(Area.id) == Rating.community_id)
        .where(_in_area(area), col(Rating.month) == month, col(Rating.status) != "final"))
        .scalar_one())
    return AreaDashboard(
        areas=areas, area=area, month=month, today=today, counts=counts,
        provisional=provisional, final_from=ratings_services.final_from(month),
        communities=communities, red=_rank_rows(red), grey=_rank_rows(grey),
        coverage=_coverage(session, area, month), trend=_level_trend(session, area, month),
        tonnage=(rows := _tonnage(session, area, month)),
        tonnage_total=_total(rows[1:]),
        can_enter_tonnage=policy.allowed(actor, "tonnage:write", area))


def _coverage(session: Session, area: Area, month: date) -> list[CoverageRow]:
    """Compliant coverage by district and street under `area` (one grouped query)."""
    by_street: dict[int, dict[str, int]] = {}
    for parent_id, level, n in session.execute(
            select(col(Area.parent_id), col(Rating.level), func.count())
            .join(Area, col(Area.id) == Rating.community_id)
            .where(_in_area(area), col(Rating.month) == month)
            .group_by(col(Area.parent_id), col(Rating.level))):
        by_street.setdefault(parent_id, dict.fromkeys(LEVELS, 0))[level] = int(n)
    sizes = dict(session.execute(
        select(col(Area.parent_id), func.count())
        .where(_in_area(area), col(Area.level) == "community")
        .group_by(col(Area.parent_id))).all())
    nodes = list(session.execute(
        select(Area).where(_in_area(area), col(Area.level).in_(("district", "street")))
        .order_by(col(Area.path))).scalars())
    rows: list[CoverageRow] = []
    district_rows: dict[int, CoverageRow] = {}
    for node in nodes:
        if node.level == "district":
            row = CoverageRow(node, dict.fromkeys(LEVELS, 0), 0)
            district_rows[node.id] = row
        else:
            row = CoverageRow(node, by_street.get(node.id, dict.fromkeys(LEVELS, 0)),
                              int(sizes.get(node.id, 0)))
            parent = district_rows.get(node.parent_id)
            if parent is not None:
                parent.communities += row.communities
                for lv, n in row.counts.items():
                    parent.counts[lv] += n
        rows.append(row)
    return rows


def _level_trend(session: Session, area: Area, month: date) -> list[LevelMonth]:
    """Communities per level for each of the last TREND_MONTHS months (one grouped query)."""
    first = add_months(month, -(TREND_MONTHS - 1))
    counts = {add_months(first, k): dict.fromkeys(LEVELS, 0) for k in range(TREND_MONTHS)}
    for m, level, n in session.execute(
            select(col(Rating.month), col(Rating.level), func.count())
            .join(Area, col(Area.id) == Rating.community_id)
            .where(_in_area(area), col(Rating.month) >= first, col(Rating.month) <= month)
            .group_by(col(Rating.month), col(Rating.level))):
        if m in counts:
            counts[m][level] = int(n)
    return [LevelMonth(m, c) for m, c in counts.items()]


def _tonnage(session: Session, area: Area, month: date) -> list[TonnageRow]:
    """The area's own entry of the month, then its sub-areas' (districts or streets)."""
    children = list(session.execute(
        select(Area).where(col(Area.parent_id) == area.id, col(Area.level) != "community")
        .order_by(col(Area.name))).scalars())
    ids = [area.id, *[c.id for c in children]]
    entries = {e.area_id: e for e in session.execute(
        select(TonnageEntry).where(col(TonnageEntry.area_id).in_(ids),
                                   col(TonnageEntry.month) == month)).scalars()}
    return [TonnageRow(a, entries.get(a.id)) for a in (area, *children)]


def _total(rows: Sequence[TonnageRow]) -> metrics.Tonnage | None:
    values = [r.tonnage for r in rows if r.tonnage is not None]
    if not values:
        return None
    total = values[0]
    for t in values[1:]:
        total = total + t
    return total


# --- Areas: the ranking --------------------------------------------------------------------

@dataclass
class Ranking:
    """One page of an area's communities ranked for a month."""

    areas: list[Area]
    area: Area
    month: date
    today: date
    sort: str
    counts: dict[str, int]
    page: Page                      # items: RankRow


def ranking(session: Session, *, actor: policy.Actor, area_id: int | None,
            month: date | None = None, sort: str = "level", page: int = 1,
            per_page: int = 50, now: datetime | None = None) -> Ranking:
    """The rated communities of an area, ranked (rank() over one order), one page at a time."""
    area, areas = area_for(session, actor=actor, area_id=area_id)
    month, today = _pick_month(session, area, month, now)
    sort = sort if sort in SORTS else "level"
    counts = _level_counts(session, area, month)
    total = sum(counts.values())
    page = max(1, min(page, max(1, -(-total // per_page))))
    ranked = _ranked(area, month, _sort_key(sort)).subquery()
    rows = session.execute(select(ranked).order_by(ranked.c.rank, ranked.c.name,
                                                   ranked.c.community_id)
                           .limit(per_page).offset((page - 1) * per_page))
    return Ranking(areas, area, month, today, sort, counts,
                   Page(items=_rank_rows(rows), page=page, per_page=per_page, total=total))


# --- Tonnage entry page --------------------------------------------------------------------

@dataclass
class TonnagePage:
    """The tonnage form's area and month, its current entry and the area's last 12 months."""

    areas: list[Area]
    area: Area
    month: date
    today: date
    entry: TonnageEntry | None
    history: list[tuple[date, TonnageRow]]   # newest first


def tonnage_page(session: Session, *, actor: policy.Actor, area_id: int | None,
                 month: date | None = None, now: datetime | None = None) -> TonnagePage:
    """What the tonnage form shows (tonnage:write on the area; cities, districts, streets)."""
    paths = policy.scopes(actor, "tonnage:write")
    areas = list(session.execute(
        select(Area).where(or_(*[col(Area.path).startswith(p) for p in paths]),
                           col(Area.level) != "community")
        .order_by(col(Area.path))).scalars()) if paths else []
    if area_id is None:
        if not areas:
            raise Forbidden(action="tonnage:write")
        area = areas[0]
    else:
        area = areas_services.get_area(session, area_id)
        policy.require(actor, "tonnage:write", area)
        if area.level == "community":
            raise NotFound()
    today = clock.local_today(area.timezone, now)
    this_month = rollups.month_start(today)
    month = min(rollups.month_start(month), this_month) if month else add_months(this_month, -1)
    first = add_months(this_month, -(TREND_MONTHS - 1))
    entries = {e.month: e for e in session.execute(
        select(TonnageEntry).where(col(TonnageEntry.area_id) == area.id,
                                   col(TonnageEntry.month) >= min(first, month))).scalars()}
    history = [(m, TonnageRow(area, entries.get(m)))
               for m in (add_months(this_month, -k) for k in range(TREND_MONTHS))]
    return TonnagePage(areas, area, month, today, entries.get(month), history)
