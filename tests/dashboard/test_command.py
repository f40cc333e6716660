"""The area command view's figures equal the ratings and rollups of the same area and month
(service level, both backends): a street of one community shows that community's rating; a
district pools its communities' rollup totals (correct over graded across them, not an average
of rates); the ranking, the movers and the 12-month trend agree with the stored ratings."""
from __future__ import annotations

import pytest
from sqlmodel import Session, col, select

from community import clock
from community.areas.models import Area
from community.dashboard import command
from community.ratings import metrics, rollups
from community.ratings import services as ratings_services
from community.ratings.models import Rating
from tests import builders
from tests.dashboard.helpers import NOW, OCT, TODAY, scene, text_of

NOV = TODAY.replace(day=1)
RATED = ("kitchen_accuracy", "accuracy", "scan_rate", "participation", "out_of_window_rate",
         "steward_coverage")


@pytest.fixture(autouse=True)
def _frozen():
    """Every page sees 2026-11-20 12:00 in Shanghai."""
    with clock.freeze(NOW):
        yield


def _rated(session: Session, world: builders.World) -> dict[tuple[int, object], Rating]:
    """The scene, with October and November rated as the monthly job rates them."""
    scene(session, world)
    for month in (OCT, NOV):
        ratings_services.rate_month(session, month=month, now=NOW)
    session.commit()
    return {(r.community_id, r.month): r for r in session.execute(select(Rating)).scalars()}


def _view(session: Session, area: Area, month) -> command.CommandView:
    return command.command_view(session, area=area, month=month, today=TODAY, now=NOW)


def test_a_street_of_one_community_shows_its_rating(session: Session,
                                                    world: builders.World) -> None:
    """Street A holds community A only: every figure is A's stored rating metric."""
    ratings = _rated(session, world)
    for month in (OCT, NOV):
        view = _view(session, world.street_a, month)
        stored = ratings[(world.a.id, month)].metrics
        figures = view.figure_map
        for code in RATED:
            assert figures[code].value == pytest.approx(stored[code]), (month, code)
        level = ratings[(world.a.id, month)].level
        assert figures["compliant_coverage"].value == metrics.compliant_coverage([level])
        assert view.ranking_of == "community"
        assert [r.area_id for r in view.ranking] == [world.a.id]
        assert view.ranking[0].value == stored["kitchen_accuracy"]
    # November compared with October: last month's values are October's rating.
    nov = _view(session, world.street_a, NOV).figure_map
    for code in RATED:
        assert nov[code].previous == pytest.approx(ratings[(world.a.id, OCT)].metrics[code])


def test_a_district_pools_its_communities(session: Session, world: builders.World) -> None:
    """The district's November: A and B pooled from the rollups (community_totals, as the
    ratings use it), equal to pooling the ratings' own counts.

    Accuracy (2 + 1) / (4 + 1) = 60 %, not the mean of 50 % and 100 %; participation
    (3 + 1) / (4 + 3) = 4/7 from the ratings' participation × active households.
    """
    ratings = _rated(session, world)
    view = _view(session, world.district, NOV)
    ids = [world.a.id, world.b.id]
    pooled = metrics.all_metrics(command.pool(
        rollups.community_totals(session, ids, NOV, TODAY, now=NOW).values()))
    figures = view.figure_map
    for code in RATED:
        assert figures[code].value == pytest.approx(pooled[code]), code
    assert figures["accuracy"].value == pytest.approx(0.6)
    assert figures["scan_rate"].value == pytest.approx(5 / 6)
    active = {c: ratings_services.rating_policy.facts_from_checks(
        ratings[(c, NOV)].checks).active_households for c in ids}
    dropped = sum(round(ratings[(c, NOV)].metrics["participation"] * active[c]) for c in ids)
    assert figures["participation"].value == pytest.approx(dropped / sum(active.values()))
    assert figures["participation"].value == pytest.approx(4 / 7)
    levels = [ratings[(c, NOV)].level for c in ids]
    assert figures["compliant_coverage"].value == metrics.compliant_coverage(levels)
    # Targets from the policy in force: the card's colour follows the rule.
    assert figures["accuracy"].target is not None
    assert figures["accuracy"].status == "below"
    # The sub-areas: street B (B's kitchen 1/1) above street A (2/3); A was first in
    # October (B had no kitchen drop then), so it lost a place.
    assert view.ranking_of == "area"
    rows = {r.area_id: r for r in view.ranking}
    assert [r.area_id for r in view.ranking] == [world.street_b.id, world.street_a.id]
    assert rows[world.street_a.id].value == pytest.approx(
        ratings[(world.a.id, NOV)].metrics["kitchen_accuracy"])
    assert rows[world.street_a.id].movement == -1
    assert rows[world.street_b.id].movement is None
    assert {r.status for r in view.ranking} == {"provisional"}
    # The movers are communities, from their ratings: A rose from 50 % to 66.7 %, but on
    # insufficient data (3 households), so it is in neither short list.
    assert ratings[(world.a.id, NOV)].level == "insufficient"
    movers = {r.area_id: r for r in command._community_ranking(session, world.district, NOV)}
    assert movers[world.a.id].change == pytest.approx(0.167)  # 66.7% − 50.0%, as shown
    assert view.improved == view.worst == []


def test_the_trend_from_rollups_and_ratings_equals_the_exact_month(
        session: Session, world: builders.World) -> None:
    """October's point of the 12-month trend (rollups summed by month, participation from
    the ratings) equals October's exact pooled figures; months without data are None."""
    _rated(session, world)
    exact = _view(session, world.district, OCT).figure_map
    trend = command._trends(session, world.district, NOV, exact={})
    for code in (*RATED, "compliant_coverage"):
        by_month = dict(trend[code])
        assert by_month[OCT] == pytest.approx(exact[code].value), code
        assert by_month[OCT.replace(month=9)] is None, code
    view = _view(session, world.district, NOV)
    assert dict(view.trends["accuracy"])[NOV] == view.figure_map["accuracy"].value


def test_the_page_shows_the_same_figures(client, session: Session,
                                         world: builders.World) -> None:
    """The district admin's page: the cards read the view's values, with their targets."""
    _rated(session, world)
    builders.login(client, world.city_admin)
    html = client.get(f"/dashboard/area?area_id={world.district.id}&month=2026-11"
                      ).get_data(as_text=True)
    block = html.split('data-testid="command-figures"')[1].split("</div>")[0]
    assert 'data-code="accuracy" data-status="below"' in block
    values = text_of(block, "figure-value")
    assert values[1] == "60.0%"  # accuracy, after kitchen accuracy
    assert "目标 ≥ 85%" in text_of(block, "figure-target")
    assert len(text_of(html, "rank-row")) == 2
    assert f'/dashboard/area?area_id={world.street_a.id}' in html  # drill-down


def test_stations_with_coordinates_on_the_map(session: Session,
                                              world: builders.World) -> None:
    """Only stations with coordinates are placed, with their rolled-up accuracy."""
    s = scene(session, world)
    s.st1.latitude, s.st1.longitude = 31.38, 120.98
    session.add(s.st1)
    session.commit()
    view = _view(session, world.city, OCT)
    assert [(p.station_id, p.graded, p.correct) for p in view.stations] == [(s.st1.id, 2, 1)]
    assert view.stations[0].accuracy == 0.5
    names = session.execute(select(col(Area.name)).where(col(Area.id) == world.a.id)).scalar()
    assert view.stations[0].community == names
