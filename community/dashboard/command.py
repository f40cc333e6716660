"""Read model of the area command view (驾驶舱, /dashboard/area): an area's month at a glance.

Every figure comes from the ratings and the rollups, never from a month of raw drops:
- the area-wide figures of the month (and of last month) pool the communities' totals of
  `rollups.community_totals` (the function the monthly ratings use), so the area's accuracy
  is its correct drops over its graded drops, not an average of rates;
- compliant coverage counts the stored ratings' levels;
- the ranking, the worst five and the most improved five read the stored ratings of the
  communities (a street's communities) or pool the communities' totals by sub-area (a city's
  districts, a district's streets);
- the 12-month trend sums the station and coverage rollups by month, participation from the
  stored ratings (each rating keeps its participation and active households), the month
  shown and the one before it replaced by the exact pooled totals;
- 按期处置率 appears once `community.reports.queries.on_time_rate` exists (see `_on_time`).
"""
from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session, col

from community.areas.models import Area
from community.dashboard import rules
from community.dashboard.queries import Figure, add_months, month_end
from community.ratings import metrics, rollups
from community.ratings import services as ratings_services
from community.ratings.metrics import Counts, Totals
from community.ratings.models import CoverageDay, Rating, StationDay
from community.ratings.policy import facts_from_checks
from community.ratings.standing import HEADLINE, LEVEL_ORDER, MISSING
from community.rows import pk, table_of
from community.stations.models import Station

# The area figures in the order the page shows them; on_time_rate joins when reports exist.
AREA_FIGURES = ("kitchen_accuracy", "accuracy", "scan_rate", "participation",
                "out_of_window_rate", "steward_coverage", "compliant_coverage")
TREND_MONTHS = 12
SHORT_LIST = 5          # the worst five and the most improved five


@dataclass(frozen=True)
class RankItem:
    """One community or sub-area of the ranking, with last month's rank and value."""

    area_id: int
    name: str
    level: str                   # "community", "street" or "district"
    rank: int | None             # None: not ranked (insufficient data, or no value)
    previous_rank: int | None
    value: float | None          # the headline figure (kitchen-waste accuracy)
    previous: float | None
    status: str                  # "provisional" while any rating below may change, or "final"
    rating: str | None = None    # a community's rating level

    @property
    def movement(self) -> int | None:
        """Places gained since last month (negative: lost; None: not ranked in both)."""
        if self.rank is None or self.previous_rank is None:
            return None
        return self.previous_rank - self.rank

    @property
    def change(self) -> float | None:
        """The headline figure's change since last month, as shown (`rules.shown_change`)."""
        return rules.shown_change(self.value, self.previous)


@dataclass(frozen=True)
class StationPoint:
    """A station with coordinates and its accuracy of the month (rolled-up days)."""

    station_id: int
    name: str
    community_id: int
    community: str
    longitude: float
    latitude: float
    graded: int
    correct: int

    @property
    def accuracy(self) -> float | None:
        """Correct / graded drops of the station."""
        return metrics.rate(self.correct, self.graded)


@dataclass
class CommandView:
    """What the command view shows for one area and month."""

    area: Area
    month: date
    day_to: date                       # the month's last day counted (today in this month)
    totals: Totals                     # the area's communities pooled
    previous_totals: Totals
    figures: list[Figure]
    ranking_of: str                    # "community" or "area"
    ranking: list[RankItem]
    worst: list[RankItem]
    improved: list[RankItem]
    trends: dict[str, list[tuple[date, float | None]]]
    stations: list[StationPoint]
    communities: int
    targets: dict[str, rules.Target | None] = field(default_factory=dict)
    # Communities rated on quality with a headline value: the pool of both short lists.
    listable: int = 0

    @property
    def worst_is_everyone(self) -> bool:
        """Whether the "worst five" list is every listable community (five or fewer: the
        best of them is in it too), which the page says rather than calling them all worst."""
        return 0 < self.listable <= SHORT_LIST

    @property
    def lists_coincide(self) -> bool:
        """Whether the most improved are exactly the communities of the lowest list (a small
        area where every community rose): legitimate, and the page says so."""
        return bool(self.improved) and ({r.area_id for r in self.improved}
                                         == {r.area_id for r in self.worst})

    @property
    def figure_map(self) -> dict[str, Figure]:
        """The figures by code."""
        return {f.code: f for f in self.figures}


# --- Pooling -------------------------------------------------------------------------------

def pool(parts: Iterable[Totals]) -> Totals:
    """Several communities' totals as one (every count adds: a household has one community)."""
    out = Totals()
    for t in parts:
        for cat, counts in t.by_category.items():
            out.by_category[cat] = out.by_category.get(cat, Counts()) + counts
        out.households_dropped += t.households_dropped
        out.active_households += t.active_households
        out.windows_scheduled += t.windows_scheduled
        out.windows_staffed += t.windows_staffed
    return out


def _in_area(area: Area) -> Any:
    return col(Area.path).startswith(area.path)


def _community_paths(session: Session, area: Area) -> dict[int, str]:
    return dict(session.execute(select(col(Area.id), col(Area.path)).where(
        _in_area(area), col(Area.level) == "community")).all())


def area_totals(session: Session, area: Area, first: date, last: date, *,
                now: datetime | None = None) -> tuple[Totals, dict[int, Totals]]:
    """The area's pooled totals over [first, last] and each community's (rollups, plus the
    days not rolled up yet from their raw drops: `rollups.community_totals`)."""
    ids = list(_community_paths(session, area))
    per = rollups.community_totals(session, ids, first, last, now=now)
    return pool(per.values()), per


def _levels(session: Session, area: Area, month: date) -> list[str]:
    return list(session.execute(
        select(col(Rating.level)).join(Area, col(Area.id) == Rating.community_id)
        .where(_in_area(area), col(Rating.month) == month)).scalars())


def _on_time(session: Session, area: Area, month: date) -> Callable[[date], float | None] | None:
    """The reports module's on-time handling rate, once it exists (feature check).

    Contract: `community.reports.queries.on_time_rate(session, area_id, month)` returns the
    rate of the area's local month: a fraction, or a value with `.value` (a fraction, None
    when no report was due). Until that function exists the card is not shown.
    """
    try:
        module = importlib.import_module("community.reports.queries")
    except ImportError:
        return None
    fn = getattr(module, "on_time_rate", None)
    if fn is None:
        return None

    def rate(m: date) -> float | None:
        result = fn(session, pk(area), m)
        value = getattr(result, "value", result)
        return None if value is None else float(value)

    return rate


# --- The view ------------------------------------------------------------------------------

def command_view(session: Session, *, area: Area, month: date, today: date,
                 now: datetime | None = None) -> CommandView:
    """The command view of an area the caller has authorized (`queries.area_for`)."""
    previous = add_months(month, -1)
    day_to = min(month_end(month), today)
    totals, per = area_totals(session, area, month, day_to, now=now)
    previous_totals, per_before = area_totals(session, area, previous, month_end(previous),
                                              now=now)
    values, before = metrics.all_metrics(totals), metrics.all_metrics(previous_totals)
    values["compliant_coverage"] = metrics.compliant_coverage(_levels(session, area, month))
    before["compliant_coverage"] = metrics.compliant_coverage(
        _levels(session, area, previous))
    codes = list(AREA_FIGURES)
    on_time = _on_time(session, area, month)
    if on_time is not None:
        codes.append("on_time_rate")
        values["on_time_rate"], before["on_time_rate"] = on_time(month), on_time(previous)
    policy = ratings_services.policy_for(session, area, month).policy
    targets = rules.targets(policy, codes)
    figures = [Figure(c, values.get(c), before.get(c), targets.get(c)) for c in codes]

    children = _children(session, area)
    if children:
        ranking = _area_ranking(session, area, month, children, per, per_before)
        ranking_of = "area"
    else:
        ranking = _community_ranking(session, area, month)
        ranking_of = "community"
    movers = ranking if ranking_of == "community" else _community_ranking(session, area, month)
    trends = _trends(session, area, month, {month: values, previous: before})
    return CommandView(
        area=area, month=month, day_to=day_to, totals=totals, previous_totals=previous_totals,
        figures=figures, ranking_of=ranking_of, ranking=ranking,
        worst=_worst(movers), improved=_improved(movers), trends=trends,
        stations=_stations(session, area, month, day_to), communities=len(per), targets=targets,
        listable=len(_listable(movers)))


def _children(session: Session, area: Area) -> list[Area]:
    """The sub-areas ranked (districts of a city, streets of a district); none for a street."""
    return list(session.execute(
        select(Area).where(col(Area.parent_id) == area.id, col(Area.level) != "community")
        .order_by(col(Area.name))).scalars())


def _ranks(values: Mapping[int, Any]) -> dict[int, int]:
    """Competition ranks (ties share a rank, 1 2 2 4) of sortable keys, larger first."""
    order = sorted(values.items(), key=lambda kv: kv[1], reverse=True)
    out: dict[int, int] = {}
    for n, (key, value) in enumerate(order):
        if n and value == order[n - 1][1]:
            out[key] = out[order[n - 1][0]]
        else:
            out[key] = n + 1
    return out


def _area_ranking(session: Session, area: Area, month: date, children: Sequence[Area],
                  per: Mapping[int, Totals], per_before: Mapping[int, Totals]) -> list[RankItem]:
    """Sub-areas by their pooled headline figure (a missing one is not ranked)."""
    paths = _community_paths(session, area)
    depth = len(ratings_services.path_ids(area.path))
    by_child: dict[int, list[int]] = {c.id: [] for c in children if c.id is not None}
    for cid, path in paths.items():
        ids = ratings_services.path_ids(path)
        if len(ids) > depth and ids[depth] in by_child:
            by_child[ids[depth]].append(cid)
    now_v = {k: metrics.all_metrics(pool(per[c] for c in v if c in per))[HEADLINE]
             for k, v in by_child.items()}
    then_v = {k: metrics.all_metrics(pool(per_before[c] for c in v if c in per_before))[HEADLINE]
              for k, v in by_child.items()}
    ranks = _ranks({k: v for k, v in now_v.items() if v is not None})
    before = _ranks({k: v for k, v in then_v.items() if v is not None})
    provisional: set[int] = set()
    ids_provisional = set(session.execute(
        select(col(Rating.community_id)).join(Area, col(Area.id) == Rating.community_id)
        .where(_in_area(area), col(Rating.month) == month, col(Rating.status) != "final"))
        .scalars())
    for k, v in by_child.items():
        if ids_provisional.intersection(v):
            provisional.add(k)
    rows = [RankItem(pk(c), c.name, c.level, ranks.get(pk(c)), before.get(pk(c)),
                     now_v[pk(c)], then_v[pk(c)],
                     "provisional" if pk(c) in provisional else "final") for c in children]
    return sorted(rows, key=lambda r: (r.rank is None, r.rank or 0, r.name))


def _headline_key(level: str, metrics_: Mapping[str, Any]) -> tuple[int, float]:
    value = metrics_.get(HEADLINE)
    return LEVEL_ORDER.get(level, 0), MISSING if value is None else float(value)


def _community_ranking(session: Session, area: Area, month: date) -> list[RankItem]:
    """The area's rated communities in the ratings' order (level, then the headline figure,
    ties sharing a rank; insufficient data unranked), with last month's rank and value."""
    previous = add_months(month, -1)
    rows: dict[date, dict[int, tuple[str, str, dict, str]]] = {month: {}, previous: {}}
    for cid, name, m, level, values, status in session.execute(
            select(col(Rating.community_id), col(Area.name), col(Rating.month),
                   col(Rating.level), col(Rating.metrics), col(Rating.status))
            .join(Area, col(Area.id) == Rating.community_id)
            .where(_in_area(area), col(Rating.month).in_([month, previous]))):
        rows[m][cid] = (name, level, dict(values or {}), status)

    def ranked(of: dict[int, tuple[str, str, dict, str]]) -> dict[int, int]:
        return _ranks({c: _headline_key(level, v) for c, (_n, level, v, _s) in of.items()
                       if level != "insufficient"})

    now_r, then_r = ranked(rows[month]), ranked(rows[previous])
    items = [RankItem(cid, name, "community", now_r.get(cid), then_r.get(cid),
                      values.get(HEADLINE),
                      rows[previous].get(cid, ("", "", {}, ""))[2].get(HEADLINE),
                      status, level)
             for cid, (name, level, values, status) in rows[month].items()]
    return sorted(items, key=lambda r: (r.rank is None, r.rank or 0, r.name))


def _listable(items: Sequence[RankItem]) -> list[RankItem]:
    """The communities either short list may name: rated on quality this month (not
    "insufficient data", whose figures are too thin to rank) with a headline value."""
    return [r for r in items if r.value is not None and r.rating != "insufficient"]


def _worst(items: Sequence[RankItem]) -> list[RankItem]:
    """The five lowest headline figures (rated on quality, with a value)."""
    return sorted(_listable(items), key=lambda r: (r.value, r.name))[:SHORT_LIST]


def _improved(items: Sequence[RankItem]) -> list[RankItem]:
    """The five largest rises of the headline figure since last month, largest first (at
    least the 0.1 point the page shows: "+0.0" is no improvement), among the same
    communities as the lowest list (a community with insufficient data is in neither)."""
    rose = [r for r in _listable(items) if r.change is not None and r.change >= 0.0005]
    return sorted(rose, key=lambda r: (-(r.change or 0), r.name))[:SHORT_LIST]


def _trends(session: Session, area: Area, month: date,
            exact: Mapping[date, Mapping[str, float | None]]
            ) -> dict[str, list[tuple[date, float | None]]]:
    """Each figure over the last TREND_MONTHS months (a month with nothing rolled up: None).

    Drops and coverage from the rollups summed by month (two grouped queries), participation
    from the stored ratings (participation × active households, summed), compliant coverage
    from the ratings' levels; the months in `exact` (the month shown and the one before)
    take their exact pooled values.
    """
    first = add_months(month, -(TREND_MONTHS - 1))
    months = [add_months(first, k) for k in range(TREND_MONTHS)]
    ids = select(col(Area.id)).where(_in_area(area), col(Area.level) == "community")
    sd, cv = table_of(StationDay), table_of(CoverageDay)
    by_month: dict[date, Totals] = {}
    for r in session.execute(
            select(sd.c.local_date, sd.c.category,
                   *[func.sum(getattr(sd.c, n)).label(n) for n in (
                       "drops", "identified", "tallies", "graded", "correct", "incorrect",
                       "out_of_window", "weighed", "kg")])
            .where(sd.c.community_id.in_(ids), sd.c.local_date >= first,
                   sd.c.local_date <= month_end(month))
            .group_by(sd.c.local_date, sd.c.category)):
        t = by_month.setdefault(rollups.month_start(r.local_date), Totals())
        counts = Counts(**{n: int(getattr(r, n) or 0) for n in (
            "drops", "identified", "tallies", "graded", "correct", "incorrect",
            "out_of_window", "weighed")}, kg=Decimal(str(r.kg or 0)))
        t.by_category[r.category] = t.by_category.get(r.category, Counts()) + counts
    for day, scheduled, staffed in session.execute(
            select(cv.c.local_date, func.sum(cv.c.scheduled), func.sum(cv.c.staffed))
            .where(cv.c.community_id.in_(ids), cv.c.local_date >= first,
                   cv.c.local_date <= month_end(month)).group_by(cv.c.local_date)):
        t = by_month.setdefault(rollups.month_start(day), Totals())
        t.windows_scheduled += int(scheduled or 0)
        t.windows_staffed += int(staffed or 0)
    levels: dict[date, list[str]] = {}
    for m, level, values, checks in session.execute(
            select(col(Rating.month), col(Rating.level), col(Rating.metrics), col(Rating.checks))
            .join(Area, col(Area.id) == Rating.community_id)
            .where(_in_area(area), col(Rating.month) >= first, col(Rating.month) <= month)):
        levels.setdefault(m, []).append(level)
        active = facts_from_checks(checks or []).active_households
        share = (values or {}).get("participation")
        t = by_month.setdefault(m, Totals())
        t.active_households += active
        if share is not None:
            t.households_dropped += round(float(share) * active)
    out: dict[str, list[tuple[date, float | None]]] = {c: [] for c in (*AREA_FIGURES,
                                                                      "on_time_rate")}
    for m in months:
        if m in exact:
            vector: Mapping[str, float | None] = exact[m]
        elif m in by_month:
            vector = {**metrics.all_metrics(by_month[m]),
                      "compliant_coverage": metrics.compliant_coverage(levels.get(m, []))}
        else:
            vector = {}
        for code in out:
            out[code].append((m, vector.get(code)))
    return out


def _stations(session: Session, area: Area, first: date, last: date) -> list[StationPoint]:
    """The area's stations with coordinates and their rolled-up accuracy of the month."""
    sd = table_of(StationDay)
    graded = {sid: (int(g or 0), int(c or 0)) for sid, g, c in session.execute(
        select(sd.c.station_id, func.sum(sd.c.graded), func.sum(sd.c.correct))
        .join(Area, col(Area.id) == sd.c.community_id)
        .where(_in_area(area), sd.c.local_date >= first, sd.c.local_date <= last)
        .group_by(sd.c.station_id))}
    rows = session.execute(
        select(col(Station.id), col(Station.name), col(Station.community_id), col(Area.name),
               col(Station.longitude), col(Station.latitude))
        .join(Area, col(Area.id) == Station.community_id)
        .where(_in_area(area), col(Station.latitude).is_not(None),
               col(Station.longitude).is_not(None))
        .order_by(col(Station.id)))
    return [StationPoint(sid, name, cid, community, float(lng), float(lat),
                         *graded.get(sid, (0, 0)))
            for sid, name, cid, community, lng, lat in rows]
