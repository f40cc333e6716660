"""The ratings part of the demo city (issue 6): the demo days rolled up and their months rated,
through the same functions the scheduler runs (`rollups.build_day`,
`ratings.services.rate_month`). No Rating row is ever made up.

One step of `community.demo.STEPS`, after all the others (it reads their drops and
check-ins). Before rating, it publishes the demo's rating policy versions, as the city
admin would have at the start of the demo period, so the eight communities spread over
every level (insufficient, not compliant, compliant and star):

- the city's transition-year version (`TRANSITION`): the demo drops put about 14% of drops
  outside the windows and stewards miss some windows (issues 3 and 5), which the default
  (≤ 10%, ≥ 90%) would fail everywhere; the transition version allows ≤ 20% out of window
  (star ≤ 18%), ≥ 80% steward coverage and star from 90% accuracy, and keeps the rest.
  Accuracy then sorts the communities: the demo's best sorters are star (from their second
  month: star needs the month before compliant), the middle ones compliant, the rest not;
- a pilot in 平江街道 (`PILOT_STREET`) rates only estates with at least a round number of
  occupied households that its smaller estate does not reach: insufficient data.

Months: every month the demo days touch, except the running month before it has
`MIN_RUNNING_DAYS` days of figures (a few days say little). The running month's rating
shows the figures so far; the monthly job rates it again when it ends.

Idempotent: a demo city whose communities already have ratings is left as it is, and each
policy is looked up by (area, note) before it is published.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import click
from sqlalchemy import func, select
from sqlmodel import col

from community import clock
from community.areas.models import Area
from community.auth import services as auth_services
from community.demo.context import Demo
from community.households.models import Household
from community.ratings import rollups, services
from community.ratings.models import Rating, RatingPolicy
from community.ratings.policy import DEFAULT_POLICY
from community.ratings.schemas import PolicyVersionIn
from community.rows import pk

MIN_RUNNING_DAYS = 10
TRANSITION_NOTE = "过渡期考核标准：过时投放率、督导到位率及星级准确率门槛阶段性放宽"
TRANSITION = {"compliant": {"out_of_window_rate": 0.20, "steward_coverage": 0.80},
              "star": {"out_of_window_rate": 0.18, "accuracy": 0.90}}
PILOT_STREET = "平江街道"
PILOT_NOTE = "街道试点：在住户数达到规模的小区先行参评"


def demo_params(changes: dict[str, Any]) -> dict[str, Any]:
    """The default policy's params with some thresholds (or the minimum) changed."""
    params = DEFAULT_POLICY.to_params()
    for key, value in changes.items():
        if key in ("compliant", "star"):
            params[key] = [t | {"value": value.get(t["metric"], t["value"])}
                           for t in params[key]]
        else:
            params[key] = value
    return params


def pilot_minimum(counts: list[int]) -> int | None:
    """A round minimum of occupied households that the smallest estate misses and the
    largest meets (None when the street's estates are all the same size)."""
    if len(counts) < 2 or min(counts) == max(counts):
        return None
    low, high = min(counts), max(counts)
    for step in (50, 10, 5):
        rounded = (low // step + 1) * step
        if rounded <= high:
            return rounded
    return low + 1


def _active(demo: Demo, street: Area) -> list[int]:
    ids = [c.id for c in demo.communities.values() if c.parent_id == street.id]
    return [int(n) for n in demo.session.execute(
        select(func.count()).select_from(Household)
        .where(col(Household.community_id).in_(ids), col(Household.status) == "active")
        .group_by(col(Household.community_id))).scalars()]


def _publish(demo: Demo, area: Area, note: str, params: dict[str, Any], month: date,
             at: datetime) -> None:
    """Publish one demo version as the city admin, unless it exists (same area and note)."""
    exists = demo.session.execute(select(col(RatingPolicy.id)).where(
        col(RatingPolicy.area_id) == area.id, col(RatingPolicy.note) == note)).first()
    admin = auth_services.find_by_login(demo.session, "city")
    if exists is not None or admin is None:
        return
    services.publish_policy(demo.session, actor=auth_services.load_actor(demo.session, pk(admin)),
                            area_id=pk(area), now=at,
                            data=PolicyVersionIn.parse(params, effective_month=month, note=note))
    demo.created += 1


def months_to_rate(first: date, last: date) -> list[date]:
    """The months of the demo days [first, last], less a running month that has just begun."""
    months = []
    month = rollups.month_start(first)
    while month <= last:
        months.append(month)
        month = services.add_months(month, 1)
    end_of_last = services.month_days(months[-1])[1]
    if end_of_last > last and (last - months[-1]).days + 1 < MIN_RUNNING_DAYS \
            and len(months) > 1:
        months.pop()
    return months


def add_ratings(demo: Demo) -> None:
    """Publish the demo policies, roll up the demo days and rate their months."""
    session = demo.session
    ids = [c.id for c in demo.communities.values() if c.id is not None]
    if not ids or demo.city is None:
        return
    rated = session.execute(select(col(Rating.id)).where(col(Rating.community_id).in_(ids))
                            .limit(1)).first()
    if rated is not None:  # a previous run (or the monthly job) rated them already
        return
    now = clock.now()
    last = clock.local_today(clock.DEFAULT_TZ, now) - timedelta(days=1)
    first = last - timedelta(days=demo.days - 1)
    start = datetime.combine(first, time(9, 0), tzinfo=ZoneInfo(clock.DEFAULT_TZ))
    month = rollups.month_start(first)
    _publish(demo, demo.city, TRANSITION_NOTE, demo_params(TRANSITION), month, start)
    street = demo.streets.get(PILOT_STREET)
    minimum = pilot_minimum(_active(demo, street)) if street is not None else None
    if street is not None and minimum is not None:
        _publish(demo, street, PILOT_NOTE,
                 demo_params(TRANSITION | {"min_active_households": minimum}), month, start)
    days = [first + timedelta(days=n) for n in range(demo.days)]
    with click.progressbar(days, label="Rollups of the demo days") as bar:
        for day in bar:
            demo.created += rollups.build_day(session, day, community_ids=ids,
                                              now=now).station_rows
    session.commit()
    for month in months_to_rate(first, last):
        demo.created += services.rate_month(session, month=month, now=now,
                                            community_ids=ids)["communities"]
    # As the hourly refresh would: a month past its upload window is final, not provisional.
    services.finalize(session, now=now)
    session.commit()
