"""A community's standing on both backends: the latest rated month, the rank in its street
(level first, then kitchen-waste accuracy; ties share a rank; insufficient data unranked), and
the resident home page showing it."""
from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import Session

from community import clock
from community.ratings import standing
from tests import builders
from tests.dashboard.helpers import NOW, rating, text_of

OCT = date(2026, 10, 1)
SEP = date(2026, 9, 1)


@pytest.fixture(autouse=True)
def _frozen():
    """Every page sees 2026-11-20 12:00 in Shanghai."""
    with clock.freeze(NOW):
        yield


def _street(session: Session, w: builders.World) -> dict[str, int]:
    """Street A in October: A compliant 0.90, 玉湖 star 0.96, 玉泉 compliant 0.90 (a tie with
    A), 玉峰 not compliant 0.99, 玉林 insufficient; B (another street) star."""
    ids = {"a": w.a.id}
    for key, name, level, value in (("hu", "玉湖社区", "star", 0.96),
                                    ("quan", "玉泉社区", "compliant", 0.90),
                                    ("feng", "玉峰社区", "not_compliant", 0.99),
                                    ("lin", "玉林社区", "insufficient", None)):
        c = builders.area(session, w.street_a, name)
        rating(session, c, OCT, level, kitchen_accuracy=value)
        ids[key] = c.id  # type: ignore[assignment]
    rating(session, w.a, SEP, "not_compliant", kitchen_accuracy=0.5)
    rating(session, w.a, OCT, "compliant", kitchen_accuracy=0.90)
    rating(session, w.b, OCT, "star", kitchen_accuracy=1.0)
    session.commit()
    return ids


def test_rank_in_street(session: Session, world: builders.World) -> None:
    """Latest month by default; ties share rank 2; not compliant after compliant whatever its
    accuracy; insufficient data has a level but no rank; other streets do not count."""
    ids = _street(session, world)
    a = standing.standing(session, ids["a"])
    assert a is not None
    assert (a.month, a.level, a.rank, a.ranked, a.street) == (OCT, "compliant", 2, 4, "玉山镇")
    quan = standing.standing(session, ids["quan"])
    assert quan is not None
    assert quan.rank == 2
    feng = standing.standing(session, ids["feng"])
    assert feng is not None
    assert feng.rank == 4
    lin = standing.standing(session, ids["lin"])
    assert lin is not None
    assert (lin.level, lin.rank) == ("insufficient", None)
    sep = standing.standing(session, ids["a"], month=SEP)
    assert sep is not None
    assert (sep.level, sep.rank, sep.ranked) == ("not_compliant", 1, 1)
    assert standing.standing(session, ids["a"], month=date(2026, 8, 1)) is None


def test_resident_home_shows_rating(client, session: Session, world: builders.World) -> None:
    """The resident's household card shows the community's latest rating and rank."""
    builders.login(client, world.resident_a)
    hh = world.households_a[0]
    from community.households.models import HouseholdMember

    session.add(HouseholdMember(community_id=hh.community_id, household_id=hh.id,
                                account_id=world.resident_a.id,
                                status="approved"))
    session.commit()
    html = client.get("/me/").get_data(as_text=True)
    assert 'data-testid="community-rating"' not in html  # never rated: nothing to show
    _street(session, world)
    html = client.get("/me/").get_data(as_text=True)
    assert text_of(html, "community-level") == ["达标"]
    assert text_of(html, "community-rank") == ["玉山镇第 2 名（共 4 个）"]
    assert "小区 2026-10 评级：" in html
    assert "厨余垃圾准确率 90.0%" in html
