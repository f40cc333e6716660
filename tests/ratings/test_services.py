"""Rating services on both backends: the monthly rating of a small city against hand-computed
metrics (local-midnight month edges, zero denominators, insufficient data), star only after
a compliant month, re-runs that give identical rows, policy versions per area (resolution,
validation, scope), the simulator, and the reads the dashboards use."""
from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, func, insert, select
from sqlmodel import Session, col

from community.areas.models import Area
from community.audit.models import AuditEntry
from community.auth import services as auth_services
from community.errors import Forbidden, InvalidInput, NotFound
from community.households.models import Household
from community.ratings import jobs, rollups, services
from community.ratings.models import CoverageDay, Rating, RatingPolicy, RollupDay, StationDay
from community.ratings.policy import DEFAULT_POLICY
from community.ratings.schemas import PolicyVersionIn, SimulationIn
from tests import builders

SH = ZoneInfo("Asia/Shanghai")
OCT, NOV, DEC = date(2026, 10, 1), date(2026, 11, 1), date(2026, 12, 1)
NOW = datetime(2026, 12, 1, 1, 0, tzinfo=SH)  # the monthly job's time, after November


def at(day: date, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=SH)


@dataclass
class Scene:
    """World A (32 active households, one station), B (3 households), C (30, no drops)."""

    w: builders.World
    c: Area
    homes: list[Household]


def _coverage(session: Session, station_id: int, community_id: int, month: date,
              staffed_less: int) -> None:
    """Two scheduled windows a day for the month, all staffed but `staffed_less`."""
    first, last = services.month_days(month)
    cv = CoverageDay.__table__
    session.execute(delete(cv).where(cv.c.station_id == station_id,
                                     cv.c.local_date >= first, cv.c.local_date <= last))
    rows = []
    day = first
    while day <= last:
        missed = 1 if staffed_less > 0 else 0
        staffed_less -= missed
        rows.append({"station_id": station_id, "local_date": day,
                     "community_id": community_id, "scheduled": 2, "staffed": 2 - missed})
        day += timedelta(days=1)
    session.execute(insert(cv), rows)


@pytest.fixture
def scene(session: Session, world: builders.World) -> Scene:
    """Drops of October and November in A, computed by hand in the tests below.

    October in A (32 active households; h33 moved out):
      Oct 10 08:00  h1..h23 kitchen correct, in window (h1 weighed 2.0 kg)      23
      Oct 10 08:05  a tally, kitchen ungraded, in window                           1
      Oct 31 23:59:59 (local) h24 other incorrect, out of window, 3.0 kg         1
      → drops 25, identified 24, graded 24, correct 23, out of window 1,
        households 24 / 32, coverage 60 / 62, kitchen kg 2 of 5.
    November in A:
      Nov 1 00:00:00 (local) h22 kitchen correct, out of window, 10 kg (November, not October)
      Nov 5 08:00  h1..h29 kitchen correct, in window
      → drops 30, identified 30, correct 30 of 30, out of window 1, households 29 / 32,
        coverage 60 / 60, kitchen kg 10 of 10.
    """
    w = world
    c = builders.area(session, w.street_a, "同心花园")
    homes = list(w.households_a) + [builders.household(session, w.a, building="3",
                                                       with_card=False) for _ in range(30)]
    builders.household_event(session, homes[32], datetime(2026, 9, 1, tzinfo=UTC),
                             status="moved_out")
    for _ in range(30):
        builders.household(session, c, building="5", with_card=False)
    st = builders.station(session, w.a, "北门")
    builders.station(session, c, "南门")
    drop = builders.drop
    for n, hh in enumerate(homes[:23]):
        drop(session, st, hh, happened_at=at(date(2026, 10, 10), 8), quality="correct",
             weight_kg=Decimal("2.0") if n == 0 else None)
    drop(session, st, None, happened_at=at(date(2026, 10, 10), 8, 5))
    drop(session, st, homes[23], happened_at=at(date(2026, 10, 31), 23, 59, 59),
         category="other", quality="incorrect", in_window=False, weight_kg=Decimal("3.0"))
    drop(session, st, homes[21], happened_at=at(NOV, 0), quality="correct", in_window=False,
         weight_kg=Decimal("10"))
    for hh in homes[:29]:
        drop(session, st, hh, happened_at=at(date(2026, 11, 5), 8), quality="correct")
    for day in (date(2026, 10, 10), date(2026, 10, 31), NOV, date(2026, 11, 5)):
        rollups.build_day(session, day, now=NOW)
    _coverage(session, st.id, w.a.id, OCT, staffed_less=2)
    _coverage(session, st.id, w.a.id, NOV, staffed_less=0)
    session.commit()
    return Scene(w, c, homes)


def _rating(session: Session, community_id: int, month: date) -> Rating:
    session.expire_all()
    got = services.rating_for(session, community_id, month)
    assert got is not None
    return got


def _rows(session: Session) -> list[tuple]:
    session.expire_all()
    t = Rating.__table__
    return [tuple(r) for r in session.execute(select(t).order_by(t.c.id)).all()]


def test_october_against_hand_computed_metrics(session: Session, scene: Scene) -> None:
    counts = services.rate_month(session, month=date(2026, 10, 17), now=NOW)
    session.commit()
    assert counts == {"communities": 3, "insufficient": 1, "not_compliant": 1,
                      "compliant": 1, "star": 0}
    a = _rating(session, scene.w.a.id, OCT)
    assert a.month == OCT
    assert a.level == "compliant"
    assert a.metrics == pytest.approx({
        "scan_rate": 24 / 25, "accuracy": 23 / 24, "kitchen_accuracy": 23 / 23,
        "participation": 24 / 32, "out_of_window_rate": 1 / 25,
        "steward_coverage": 60 / 62, "kitchen_separation": 2 / 5})
    assert (a.policy_area_id, a.policy_version) == (None, 0)
    assert a.computed_at == NOW
    failed = [(c["level"], c["metric"]) for c in a.checks if not c["passed"]]
    # Star: participation 75% < 85%, and no rating of September.
    assert failed == [("star", "participation"), ("star", "last_month_level")]
    assert {(c["metric"], c["value"]) for c in a.checks if c["level"] == "insufficient"} == {
        ("active_households", 32), ("scheduled_windows", 62)}
    # B: 3 households and no station: insufficient; nothing measured is "not available".
    b = _rating(session, scene.w.b.id, OCT)
    assert b.level == "insufficient"
    assert b.metrics == {"scan_rate": None, "accuracy": None, "kitchen_accuracy": None,
                         "participation": 0.0, "out_of_window_rate": None,
                         "steward_coverage": None, "kitchen_separation": None}
    # C: enough households and windows, no drops and no steward: not compliant.
    c = _rating(session, scene.c.id, OCT)
    assert c.level == "not_compliant"
    assert c.metrics["scan_rate"] is None
    assert c.metrics["steward_coverage"] == 0.0
    missing = {m["metric"]: m["value"] for m in
               services.rating_policy.missing_for_next(c.level, c.checks)}
    assert missing == {"accuracy": None, "scan_rate": None, "participation": 0.0,
                       "steward_coverage": 0.0, "out_of_window_rate": None}


def test_star_needs_last_month_compliant(session: Session, scene: Scene) -> None:
    services.rate_month(session, month=NOV, now=NOW)
    session.commit()
    nov = _rating(session, scene.w.a.id, NOV)
    assert nov.metrics == pytest.approx({
        "scan_rate": 1.0, "accuracy": 1.0, "kitchen_accuracy": 1.0,
        "participation": 29 / 32, "out_of_window_rate": 1 / 30, "steward_coverage": 1.0,
        "kitchen_separation": 1.0})
    assert nov.level == "compliant"  # October not rated yet
    services.rate_month(session, month=OCT, now=NOW)
    counts = services.rate_month(session, month=NOV, now=NOW)
    session.commit()
    assert counts["star"] == 1
    assert _rating(session, scene.w.a.id, NOV).level == "star"
    # October not compliant (a policy for October needing 80% participation): no star.
    city_admin = auth_services.load_actor(session, scene.w.city_admin.id)
    params = copy.deepcopy(DEFAULT_POLICY.to_params())
    params["compliant"][2]["value"] = 0.80
    assert params["compliant"][2]["metric"] == "participation"
    services.publish_policy(session, actor=city_admin, area_id=scene.w.a.id, now=at(OCT, 9),
                            data=PolicyVersionIn.parse(params, effective_month=OCT))
    services.rate_month(session, month=OCT, now=NOW)
    services.rate_month(session, month=NOV, now=NOW)
    session.commit()
    assert _rating(session, scene.w.a.id, OCT).level == "not_compliant"
    nov = _rating(session, scene.w.a.id, NOV)
    assert nov.level == "compliant"
    assert (nov.policy_area_id, nov.policy_version) == (scene.w.a.id, 1)


def test_a_rerun_gives_identical_rows(session: Session, scene: Scene) -> None:
    jobs.rate_month(session, month=OCT, now=NOW)
    jobs.rate_month(session, month=NOV, now=NOW)
    session.commit()
    first = _rows(session)
    assert len(first) == 6
    jobs.rate_month(session, month=OCT, now=NOW)
    jobs.rate_month(session, month=NOV, now=NOW)
    session.commit()
    assert _rows(session) == first
    # A later run replaces each row in place (same id), with its own time.
    later = NOW + timedelta(days=1)
    services.rate_month(session, month=OCT, now=later)
    session.commit()
    again = _rows(session)
    assert [r[0] for r in again] == [r[0] for r in first]
    assert _rating(session, scene.w.a.id, OCT).computed_at == later


def test_the_monthly_job_rolls_up_the_days_it_misses(session: Session, scene: Scene) -> None:
    # October 10 was never rolled up (the daily job was down), nor any other October day
    # but the 31st: the job builds them first, then rates from complete rollups.
    sd, rd = StationDay.__table__, RollupDay.__table__
    for table in (sd, rd):
        session.execute(delete(table).where(table.c.local_date == date(2026, 10, 10)))
    session.commit()
    got = jobs.rate_month(session, month=OCT, now=NOW)
    session.commit()
    assert got["days_rolled_up"] == 30
    assert got["communities"] == 3
    built = session.execute(select(func.count()).select_from(rd).where(
        rd.c.local_date >= OCT, rd.c.local_date < NOV)).scalar_one()
    assert built == 31 * 3
    drops = session.execute(select(func.sum(sd.c.drops)).where(
        sd.c.local_date == date(2026, 10, 10))).scalar_one()
    assert drops == 24
    rating = _rating(session, scene.w.a.id, OCT)
    assert rating.metrics["scan_rate"] == pytest.approx(24 / 25)
    # Coverage of the rebuilt days comes from the station's schedule and check-ins (none):
    # two windows a day, unstaffed; the 31st keeps its two staffed windows.
    assert rating.checks[1]["value"] == 62
    assert rating.metrics["steward_coverage"] == pytest.approx(2 / 62)
    again = jobs.rate_month(session, month=OCT, now=NOW)
    assert again["days_rolled_up"] == 0
    # The running month: only the days before today are rolled up.
    running = jobs.rate_month(session, month=DEC, now=datetime(2026, 12, 4, 9, tzinfo=SH))
    assert running["days_rolled_up"] == 3


def test_roll_up_days_job_builds_each_day_once(session: Session, scene: Scene) -> None:
    got = jobs.roll_up_days(session, days=[date(2026, 10, 10), date(2026, 10, 10),
                                           date(2026, 10, 31)], now=NOW)
    assert got == {"days": 2, "drops": 25}


def test_an_empty_city_rates_nothing(session: Session) -> None:
    assert services.rate_month(session, month=OCT, now=NOW) == {
        "communities": 0, "insufficient": 0, "not_compliant": 0, "compliant": 0, "star": 0}


# --- Policies ------------------------------------------------------------------------------

def _params(**changes: float) -> dict:
    params = copy.deepcopy(DEFAULT_POLICY.to_params())
    for level in ("compliant", "star"):
        for t in params[level]:
            t["value"] = changes.get(f"{level}_{t['metric']}", t["value"])
    if "min" in changes:
        params["min_active_households"] = int(changes["min"])
    return params


def test_policy_resolution_nearest_area_newest_version(session: Session,
                                                       world: builders.World) -> None:
    admin = auth_services.load_actor(session, world.city_admin.id)
    now = at(OCT, 9)
    publish = services.publish_policy
    assert services.policy_for(session, world.a, OCT) == services.DEFAULT_IN_FORCE
    v1 = publish(session, actor=admin, area_id=world.city.id, now=now,
                 data=PolicyVersionIn.parse(_params(min=40), effective_month=date(2026, 10, 20),
                                            note=" 全市 "))
    assert (v1.version, v1.effective_month, v1.note) == (1, OCT, "全市")
    v2 = publish(session, actor=admin, area_id=world.city.id, now=now,
                 data=PolicyVersionIn.parse(_params(min=50), effective_month=DEC))
    street = publish(session, actor=admin, area_id=world.street_a.id, now=now,
                     data=PolicyVersionIn.parse(_params(min=60), effective_month=NOV))
    session.commit()
    got = services.policy_for(session, world.a, OCT)
    assert (got.area_id, got.version, got.policy.min_active_households) == (world.city.id, 1, 40)
    got = services.policy_for(session, world.a, NOV)
    assert (got.area_id, got.version, got.policy.min_active_households) == (
        world.street_a.id, street.version, 60)
    got = services.policy_for(session, world.b, DEC)
    assert (got.area_id, got.version) == (world.city.id, v2.version)
    assert services.policy_for(session, world.b, date(2026, 9, 1)) == services.DEFAULT_IN_FORCE
    # Two versions for the same month: the later published one wins.
    v3 = publish(session, actor=admin, area_id=world.city.id, now=now,
                 data=PolicyVersionIn.parse(_params(min=45), effective_month=OCT))
    assert services.policy_for(session, world.b, NOV).version == v3.version
    assert [v.version for v in services.versions_of(session, world.city.id)] == [3, 2, 1]
    audit = session.execute(select(func.count()).select_from(AuditEntry).where(
        col(AuditEntry.action) == "ratings.policy_published")).scalar_one()
    assert audit == 4


@pytest.mark.parametrize(("params", "month", "field"), [
    (_params(compliant_accuracy=1.01), NOV, "compliant.accuracy"),
    (_params(star_participation=-0.1), NOV, "star.participation"),
    (_params(min=-1), NOV, "min_active_households"),
    ({"compliant": []}, NOV, "min_active_households"),
    (_params(), date(2026, 9, 30), "effective_month"),  # a month already over
])
def test_publishing_refuses_bad_input_and_stores_nothing(session: Session,
                                                         world: builders.World, params,
                                                         month: date, field: str) -> None:
    admin = auth_services.load_actor(session, world.city_admin.id)
    with pytest.raises(InvalidInput) as err:
        services.publish_policy(session, actor=admin, area_id=world.city.id, now=at(OCT, 9),
                                data=PolicyVersionIn.parse(params, effective_month=month))
    assert err.value.details["field"] == field
    session.rollback()
    assert session.execute(select(func.count()).select_from(RatingPolicy)).scalar_one() == 0


def test_only_a_city_admin_publishes(session: Session, world: builders.World) -> None:
    for who in (world.area_admin_a, world.manager_a):
        actor = auth_services.load_actor(session, who.id)
        with pytest.raises(Forbidden):
            services.publish_policy(session, actor=actor, area_id=world.a.id, now=at(OCT, 9),
                                    data=PolicyVersionIn.parse(_params(), effective_month=NOV))
        with pytest.raises(Forbidden):
            services.simulate(session, actor=actor, area_id=world.a.id,
                              data=SimulationIn.parse(_params(), simulate_month=OCT))
    admin = auth_services.load_actor(session, world.city_admin.id)
    with pytest.raises(NotFound):
        services.publish_policy(session, actor=admin, area_id=999_999,
                                data=PolicyVersionIn.parse(_params(), effective_month=NOV))
    assert session.execute(select(func.count()).select_from(RatingPolicy)).scalar_one() == 0


# --- Simulator ------------------------------------------------------------------------------

def test_simulator_counts_and_lists(session: Session, scene: Scene) -> None:
    w = scene.w
    admin = auth_services.load_actor(session, w.city_admin.id)
    services.rate_month(session, month=OCT, now=NOW)
    session.commit()
    # November is not rated: fresh totals. The draft asks 90% participation (A has 90.6%).
    sim = services.simulate(session, actor=admin, area_id=w.city.id, now=NOW,
                            data=SimulationIn.parse(_params(compliant_participation=0.9,
                                                            star_participation=0.95),
                                                    simulate_month=NOV))
    assert sim.stored == 0
    assert {r.name: (r.current, r.draft) for r in sim.rows} == {
        "玉龙社区": ("star", "compliant"), "同心花园": ("not_compliant", "not_compliant"),
        "金浦社区": ("insufficient", "insufficient")}
    assert sim.counts("current") == {"insufficient": 1, "not_compliant": 1, "compliant": 0,
                                     "star": 1}
    assert sim.counts("draft")["compliant"] == 1
    assert sim.names("draft", "compliant") == ["玉龙社区"]
    assert [r.name for r in sim.changed] == ["玉龙社区"]
    assert sim.coverage("current") == pytest.approx(0.5)
    # October is rated: stored metrics. Under 80% participation A (75%) falls; last month
    # (September) has no rating, so no star under either.
    sim = services.simulate(session, actor=admin, area_id=w.street_a.id, data=SimulationIn.parse(
        _params(compliant_participation=0.8), simulate_month=OCT))
    assert sim.stored == 2
    assert {r.name: (r.current, r.draft) for r in sim.rows} == {
        "玉龙社区": ("compliant", "not_compliant"),
        "同心花园": ("not_compliant", "not_compliant")}
    # Under a draft for the city, a community whose own area has a policy keeps it.
    services.publish_policy(session, actor=admin, area_id=w.a.id, now=NOW,
                            data=PolicyVersionIn.parse(_params(), effective_month=DEC))
    session.commit()
    sim = services.simulate(session, actor=admin, area_id=w.city.id, now=NOW,
                            data=SimulationIn.parse(_params(compliant_participation=0.8),
                                                    simulate_month=DEC))
    governed = {r.name: r.governed for r in sim.rows}
    assert governed == {"玉龙社区": False, "同心花园": True, "金浦社区": True}
    with pytest.raises(InvalidInput):
        services.simulate(session, actor=admin, area_id=w.city.id,
                          data=SimulationIn.parse(_params(compliant_accuracy=2),
                                                  simulate_month=OCT))


def test_reads_for_dashboards(session: Session, scene: Scene) -> None:
    w = scene.w
    assert services.current_rating(session, w.a.id, date(2026, 12, 3)) is None
    services.rate_month(session, month=OCT, now=NOW)
    services.rate_month(session, month=NOV, now=NOW)
    session.commit()
    assert services.current_rating(session, w.a.id, date(2026, 12, 3)).month == NOV
    assert services.current_rating(session, w.a.id, date(2026, 10, 31)).month == OCT
    assert services.current_rating(session, w.a.id, date(2026, 9, 30)) is None
    rows = services.ratings_for_month(session, month=date(2026, 11, 15),
                                      area_ids=[w.street_a.id])
    assert [(r.community_name, r.rating.level) for r in rows] == [
        ("玉龙社区", "star"), ("同心花园", "not_compliant")]
    rows = services.ratings_for_month(session, month=NOV, community_ids=[w.b.id],
                                      area_ids=[w.street_a.id])
    assert len(rows) == 3
    assert services.ratings_for_month(session, month=NOV) == []
    assert services.rated_months(session, [w.a.id]) == [NOV, OCT]
