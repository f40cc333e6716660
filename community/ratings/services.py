"""Rating use cases: policy versions per area, the monthly rating of every community, the
policy simulator, and the rating reads the dashboards use.

Policies: an area (city, district, street or community) may publish versions of the rating
policy, each in force from a local month. A community is rated with the newest version in
force of its nearest area that has one (itself, its street, district, city), else the
default of DOMAIN.md (version 0). Versions are never edited: a change is a new version.

Ratings: `rate_month` rates every community of a month in one pass — one `community_totals`
call for all of them, one read of the policies and of last month's levels, one bulk upsert
— so a city of 1,000+ communities takes seconds. Re-running a month replaces each row in
place (same id) with the same values: the job is idempotent, and its once-per-period
record is the scheduler's.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from community import clock
from community.areas.models import Area
from community.audit import services as audit
from community.auth import policy as auth_policy
from community.errors import Conflict, InvalidInput, NotFound
from community.ratings import metrics, rollups
from community.ratings import policy as rating_policy
from community.ratings.models import Rating, RatingChange, RatingPolicy
from community.ratings.policy import DEFAULT_POLICY, LEVELS, Facts, Policy
from community.ratings.schemas import PolicyVersionIn, SimulationIn
from community.reports import queries as reports_queries
from community.rows import dialect_insert, table_of
from community.stations.services import MAX_AGE

# --- Months --------------------------------------------------------------------------------

def add_months(month: date, n: int) -> date:
    """The first day of the month `n` months after `month`'s (n may be negative)."""
    k = month.year * 12 + month.month - 1 + n
    return date(k // 12, k % 12 + 1, 1)


def month_days(month: date) -> tuple[date, date]:
    """The first and last local day of `month`'s month."""
    first = rollups.month_start(month)
    return first, add_months(first, 1) - timedelta(days=1)


def local_month(tz: str, now: datetime | None = None) -> date:
    """The current local month (its first day) in a time zone."""
    return rollups.month_start(clock.local_today(tz, now))


# --- Policies ------------------------------------------------------------------------------

@dataclass(frozen=True)
class InForce:
    """The policy a community (or area) is rated with for a month, and where it comes from."""

    policy: Policy
    area_id: int | None          # None: the default of DOMAIN.md
    version: int                 # 0: the default
    effective_month: date | None


DEFAULT_IN_FORCE = InForce(DEFAULT_POLICY, None, 0, None)


def _in_force_by_area(session: Session, month: date,
                      area_ids: Iterable[int] | None = None) -> dict[int, InForce]:
    """Per area with a version in force in `month`: its newest such version.

    "Newest" is the latest effective month, then the highest version (the last published
    for that month wins). The table holds a handful of rows per area, so all are read.
    """
    stmt = (select(RatingPolicy)
            .where(col(RatingPolicy.effective_month) <= rollups.month_start(month))
            .order_by(col(RatingPolicy.effective_month), col(RatingPolicy.version)))
    if area_ids is not None:
        stmt = stmt.where(col(RatingPolicy.area_id).in_(list(area_ids)))
    out: dict[int, InForce] = {}
    for row in session.execute(stmt).scalars():
        out[row.area_id] = InForce(rating_policy.from_params(row.params), row.area_id,
                                   row.version, row.effective_month)
    return out


def path_ids(path: str) -> list[int]:
    """The area ids of a path, root first ('/1/4/9/' → [1, 4, 9])."""
    return [int(x) for x in path.strip("/").split("/") if x]


def resolve(in_force: Mapping[int, InForce], path: str) -> InForce:
    """The policy of the area at `path`: its nearest area (itself first) with one in force."""
    for area_id in reversed(path_ids(path)):
        if area_id in in_force:
            return in_force[area_id]
    return DEFAULT_IN_FORCE


def policy_for(session: Session, area: Area, month: date) -> InForce:
    """The policy in force for an area (usually a community) in a month."""
    return resolve(_in_force_by_area(session, month, path_ids(area.path)), area.path)


def versions_of(session: Session, area_id: int) -> list[RatingPolicy]:
    """An area's published versions, newest first."""
    return list(session.execute(
        select(RatingPolicy).where(col(RatingPolicy.area_id) == area_id)
        .order_by(col(RatingPolicy.version).desc())).scalars())


def publish_policy(session: Session, *, actor: auth_policy.Actor, area_id: int,
                   data: PolicyVersionIn, ip: str | None = None,
                   now: datetime | None = None) -> RatingPolicy:
    """Publish a new version of an area's rating policy, in force from a month (city admin).

    The month is this local month or a later one: months already rated keep the policy
    they were rated with (each rating stores its policy version). The thresholds are
    `PolicyVersionIn`'s to check.
    """
    area = session.get(Area, area_id)
    if area is None:
        raise NotFound()
    auth_policy.require(actor, "ratings:policy", area)
    month = rollups.month_start(data.effective_month)
    this_month = local_month(area.timezone, now)
    if month < this_month:
        raise InvalidInput(_l("Choose this month (%(month)s) or a later one: months already "
                              "rated keep the policy they were rated with.",
                              month=f"{this_month:%Y-%m}"), field="effective_month")
    note = data.note
    clean = data.policy().to_params()
    latest = session.execute(select(func.max(RatingPolicy.version)).where(
        col(RatingPolicy.area_id) == area_id)).scalar_one()
    row = RatingPolicy(area_id=area_id, version=(latest or 0) + 1, effective_month=month,
                       params=clean, note=note, created_by=actor.account_id,
                       created_at=now or clock.now())
    try:
        with session.begin_nested():  # two admins publishing at once
            session.add(row)
            session.flush()
    except IntegrityError:
        raise Conflict(field="version") from None
    audit.record(session, actor_id=actor.account_id, action="ratings.policy_published",
                 area=area, target_type="rating_policy", target_id=row.id, ip=ip,
                 version=row.version, effective_month=month.isoformat())
    return row


# --- The monthly rating ----------------------------------------------------------------------

def _facts(totals: metrics.Totals) -> Facts:
    return Facts(totals.active_households, totals.windows_scheduled)


def rate_month(session: Session, *, month: date, now: datetime,
               community_ids: Sequence[int] | None = None,
               causes: Mapping[int, Mapping[str, Any]] | None = None) -> dict[str, int]:
    """Rate every community (or those given) for one local month and store (replace) its
    Rating; flushes. Returns how many communities got each level, and how many in all.

    A final rating is never rated again. A provisional one is re-rated in place; when its
    level changes, a `RatingChange` keeps the old and new level with `causes` (community id →
    what changed its days, see RatingChange) so the pages can say why.
    """
    counts, _changed = rate_communities(session, month=month, now=now,
                                        community_ids=community_ids, causes=causes or {})
    return counts


def rate_communities(session: Session, *, month: date, now: datetime,
                     community_ids: Sequence[int] | None,
                     causes: Mapping[int, Mapping[str, Any]]
                     ) -> tuple[dict[str, int], dict[int, tuple[str, str]]]:
    """`rate_month`'s work; also returns community id → (old, new) level for each change."""
    month = rollups.month_start(month)
    first, last = month_days(month)
    stmt = select(col(Area.id), col(Area.path)).where(col(Area.level) == "community")
    if community_ids is not None:
        stmt = stmt.where(col(Area.id).in_(list(community_ids)))
    stored = {cid: (level, status) for cid, level, status in session.execute(
        select(col(Rating.community_id), col(Rating.level), col(Rating.status))
        .where(col(Rating.month) == month))}
    communities = [(c, p) for c, p in session.execute(stmt.order_by(col(Area.id))).all()
                   if stored.get(c, ("", ""))[1] != "final"]
    counts = dict.fromkeys(LEVELS, 0)
    if not communities:
        return {"communities": 0, **counts}, {}
    ids = [c for c, _path in communities]
    totals = rollups.community_totals(session, ids, first, last, now=now)
    in_force = _in_force_by_area(session, month)
    before = dict(session.execute(
        select(col(Rating.community_id), col(Rating.level))
        .where(col(Rating.month) == add_months(month, -1))).all())
    rows, changed = [], {}
    # The reports' on-time rate, read only for the communities whose policy rates it.
    wanted = [c for c, path in communities if _rates_reports(resolve(in_force, path).policy)]
    on_time = reports_queries.on_time_values(session, wanted, month, now=now)
    for community_id, path in communities:
        chosen = resolve(in_force, path)
        t = totals[community_id]
        values = metrics.all_metrics(t)
        if community_id in on_time:
            values["on_time_rate"] = on_time[community_id]
        result = rating_policy.evaluate(chosen.policy, values, _facts(t),
                                        before.get(community_id))
        counts[result.level] += 1
        rows.append({"community_id": community_id, "month": month, "level": result.level,
                     "policy_area_id": chosen.area_id, "policy_version": chosen.version,
                     "metrics": values, "checks": result.checks, "computed_at": now})
        old = stored.get(community_id, (None, ""))[0]
        if old is not None and old != result.level:
            changed[community_id] = (old, result.level)
    table = table_of(Rating)
    insert = dialect_insert(session, table)
    upsert = insert.on_conflict_do_update(
        index_elements=["community_id", "month"],
        set_={name: insert.excluded[name] for name in (
            "level", "policy_area_id", "policy_version", "metrics", "checks", "computed_at")})
    session.execute(upsert, rows)
    if changed:
        session.execute(table_of(RatingChange).insert(), [
            {"community_id": c, "month": month, "old_level": old, "new_level": new,
             "changed_at": now, "causes": dict(causes.get(c, {}))}
            for c, (old, new) in sorted(changed.items())])
    session.flush()
    return {"communities": len(rows), **counts}, changed


def _rates_reports(policy: rating_policy.Policy) -> bool:
    """Whether a policy holds a threshold on the reports' on-time rate (default: none)."""
    return any(t.metric in metrics.REPORT_METRICS
               for level in rating_policy.GRADED for t in policy.thresholds(level))


def final_from(month: date) -> date:
    """The first local day on which a month's rating is final: no drop of the month can be
    accepted any more (the drop API refuses device times older than MAX_AGE), so its days
    cannot change through uploads. Later regrades still rebuild its rollups but no longer
    move the published level (a final rating is final; DOMAIN.md)."""
    _first, last = month_days(month)
    return last + MAX_AGE + timedelta(days=1)


def finalize(session: Session, *, now: datetime) -> int:
    """Make final every provisional rating whose month is past its upload window; flushes."""
    zones = dict(session.execute(select(col(Area.id), col(Area.timezone))
                                 .where(col(Area.level) == "community")).all())
    done = 0
    for tz in sorted(set(zones.values())):
        today = clock.local_today(tz, now)
        # final_from(m) <= today  ⟺  m's last day <= today - MAX_AGE - 1 day.
        newest = rollups.month_start(today - MAX_AGE - timedelta(days=1))
        if final_from(newest) > today:
            newest = add_months(newest, -1)
        ids = [c for c, z in zones.items() if z == tz]
        table = table_of(Rating)
        result = session.execute(
            table.update().where(table.c.status == "provisional", table.c.month <= newest,
                                 table.c.community_id.in_(ids))
            .values(status="final", final_at=now))
        done += int(getattr(result, "rowcount", 0) or 0)
    session.flush()
    return done


def rating_changes(session: Session, community_id: int, month: date) -> list[RatingChange]:
    """The level changes of a community's rating of a month, oldest first."""
    return list(session.execute(
        select(RatingChange).where(col(RatingChange.community_id) == community_id,
                                   col(RatingChange.month) == rollups.month_start(month))
        .order_by(col(RatingChange.id))).scalars())


# --- The simulator -------------------------------------------------------------------------

@dataclass(frozen=True)
class SimRow:
    """One community in a simulation: its level now and under the draft."""

    community_id: int
    name: str
    current: str
    draft: str
    governed: bool  # False: a nearer area's own policy keeps deciding it

    @property
    def changed(self) -> bool:
        """Whether the draft would change this community's level."""
        return self.current != self.draft


@dataclass
class Simulation:
    """What publishing a draft for an area would do to one month's levels."""

    area: Area
    month: date
    rows: list[SimRow] = field(default_factory=list)
    stored: int = 0  # communities evaluated from their stored rating (the rest: fresh totals)

    def counts(self, which: str) -> dict[str, int]:
        """Communities per level under "current" or "draft"."""
        out = dict.fromkeys(LEVELS, 0)
        for row in self.rows:
            out[getattr(row, which)] += 1
        return out

    def coverage(self, which: str) -> float | None:
        """Compliant coverage (达标小区覆盖率) under "current" or "draft"."""
        return metrics.compliant_coverage(getattr(r, which) for r in self.rows)

    def names(self, which: str, level: str) -> list[str]:
        """The communities at `level` under "current" or "draft"."""
        return [r.name for r in self.rows if getattr(r, which) == level]

    @property
    def changed(self) -> list[SimRow]:
        """The communities whose level the draft would change."""
        return [r for r in self.rows if r.changed]


def _month_inputs(session: Session, communities: Sequence[tuple[int, str, str]],
                  month: date, now: datetime | None
                  ) -> tuple[dict[int, tuple[dict[str, float | None], Facts]], int]:
    """Per community: the metrics and facts of a month, stored when rated, else fresh."""
    ids = [c for c, _n, _p in communities]
    out: dict[int, tuple[dict[str, float | None], Facts]] = {}
    for community_id, values, checks in session.execute(
            select(col(Rating.community_id), col(Rating.metrics), col(Rating.checks))
            .where(col(Rating.month) == month, col(Rating.community_id).in_(ids))):
        out[community_id] = (dict(values), rating_policy.facts_from_checks(checks))
    stored = len(out)
    fresh = [c for c in ids if c not in out]
    if fresh:
        first, last = month_days(month)
        for community_id, t in rollups.community_totals(session, fresh, first, last,
                                                        now=now).items():
            out[community_id] = (metrics.all_metrics(t), _facts(t))
    # A draft may set a threshold on the reports' on-time rate: give it the month's value.
    for community_id, value in reports_queries.on_time_values(
            session, [c for c in ids if "on_time_rate" not in out[c][0]], month,
            now=now).items():
        out[community_id][0]["on_time_rate"] = value
    return out, stored


def simulate(session: Session, *, actor: auth_policy.Actor, area_id: int, data: SimulationIn,
             now: datetime | None = None) -> Simulation:
    """Levels of one month under the current policies and under a draft for `area_id`.

    The draft would govern each community under the area whose nearest policy is the area's
    own or comes from above it; a community under a nearer area with its own policy keeps
    that one (shown as not governed). Metrics come from the month's stored ratings, or fresh
    totals for communities not rated yet. Star needs last month compliant: under the
    current policies that is last month's stored level; under the draft, last month's
    stored metrics are judged by the draft. Reads only.
    """
    area = session.get(Area, area_id)
    if area is None:
        raise NotFound()
    auth_policy.require(actor, "ratings:policy", area)
    draft = data.policy()
    month = rollups.month_start(data.simulate_month)
    previous = add_months(month, -1)
    communities = [(c, n, p) for c, n, p in session.execute(
        select(col(Area.id), col(Area.name), col(Area.path))
        .where(col(Area.level) == "community", col(Area.path).startswith(area.path))
        .order_by(col(Area.path))).all()]
    sim = Simulation(area, month)
    if not communities:
        return sim
    inputs, sim.stored = _month_inputs(session, communities, month, now)
    in_force = _in_force_by_area(session, month)
    last = {c: (level, values, checks) for c, level, values, checks in session.execute(
        select(col(Rating.community_id), col(Rating.level), col(Rating.metrics), col(Rating.checks))
        .where(col(Rating.month) == previous,
               col(Rating.community_id).in_([c for c, _n, _p in communities])))}
    depth = len(path_ids(area.path))
    for community_id, name, path in communities:
        values, facts = inputs[community_id]
        current = resolve(in_force, path)
        # Governed unless an area below `area` (down to the community) has its own policy.
        governed = not any(a in in_force for a in path_ids(path)[depth:])
        before = last.get(community_id)
        now_level = rating_policy.evaluate(current.policy, values, facts,
                                           before[0] if before else None).level
        if governed:
            draft_last = (rating_policy.evaluate(
                draft, before[1], rating_policy.facts_from_checks(before[2]), None).level
                if before else None)
            draft_level = rating_policy.evaluate(draft, values, facts, draft_last).level
        else:
            draft_level = now_level
        sim.rows.append(SimRow(community_id, name, now_level, draft_level, governed))
    return sim


# --- Reads for pages and dashboards ----------------------------------------------------------

@dataclass(frozen=True)
class RatingRow:
    """A stored rating with its community's name and path (for rankings and lists)."""

    rating: Rating
    community_id: int
    community_name: str
    community_path: str


def rating_for(session: Session, community_id: int, month: date) -> Rating | None:
    """A community's stored rating of a month (None when not rated)."""
    return session.execute(select(Rating).where(
        col(Rating.community_id) == community_id,
        col(Rating.month) == rollups.month_start(month))).scalar_one_or_none()


def current_rating(session: Session, community_id: int, today: date) -> Rating | None:
    """A community's newest rating of a month up to today's (None before the first).

    The monthly job rates a month after it ends, so this is usually last month's.
    """
    return session.execute(
        select(Rating).where(col(Rating.community_id) == community_id,
                             col(Rating.month) <= rollups.month_start(today))
        .order_by(col(Rating.month).desc()).limit(1)).scalar_one_or_none()


def ratings_for_month(session: Session, *, month: date,
                      area_ids: Sequence[int] | None = None,
                      community_ids: Sequence[int] | None = None) -> list[RatingRow]:
    """Stored ratings of a month for the communities under `area_ids` or in `community_ids`
    (both: either), in tree order (the path's ids as numbers: "/1/9/" before "/1/10/", so the
    order does not hang on how many digits the ids have). No authorization: callers pass
    scoped ids."""
    stmt = (select(Rating, col(Area.id), col(Area.name), col(Area.path))
            .join(Area, col(Area.id) == Rating.community_id)
            .where(col(Rating.month) == rollups.month_start(month)))
    conds = []
    if area_ids:
        paths = session.execute(select(col(Area.path)).where(col(Area.id).in_(list(area_ids))))
        conds += [col(Area.path).startswith(p) for p in paths.scalars()]
    if community_ids:
        conds.append(col(Rating.community_id).in_(list(community_ids)))
    if not conds:
        return []
    rows = sorted(session.execute(stmt.where(or_(*conds))).all(),
                  key=lambda row: [int(part) for part in row[3].strip("/").split("/") if part])
    return [RatingRow(r, cid, name, path) for r, cid, name, path in rows]


def rated_months(session: Session, community_ids: Sequence[int] | None = None,
                 limit: int = 36) -> list[date]:
    """Months with stored ratings (of these communities, or any), newest first."""
    stmt = select(col(Rating.month)).distinct()
    if community_ids is not None:
        stmt = stmt.where(col(Rating.community_id).in_(list(community_ids)))
    return list(session.execute(stmt.order_by(col(Rating.month).desc()).limit(limit)).scalars())


__all__ = ["DEFAULT_IN_FORCE", "InForce", "RatingRow", "SimRow", "Simulation", "add_months",
           "current_rating", "final_from", "finalize", "local_month", "month_days", "path_ids",
           "policy_for", "publish_policy", "rate_communities", "rate_month", "rating_changes",
           "rated_months", "rating_for", "ratings_for_month", "resolve", "simulate",
           "versions_of"]
