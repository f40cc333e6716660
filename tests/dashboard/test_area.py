"""Area and city dashboards on both backends: red and grey lists, compliant coverage by
district and street, the level trend, the paged ranking (ties share a rank, insufficient data
last and unranked, sorting by a metric), and who may read what. Ratings are inserted as the
monthly job would store them."""
from __future__ import annotations

import pytest
from sqlmodel import Session

from community import clock
from tests import builders
from tests.dashboard.helpers import NOW, OCT, SEP, chart_data, rated_city, rating, text_of


@pytest.fixture(autouse=True)
def _frozen():
    """Every page sees 2026-11-20 12:00 in Shanghai."""
    with clock.freeze(NOW):
        yield


@pytest.fixture
def app_config() -> dict:
    """Three rows a page, so the ranking pages."""
    return {"PAGE_SIZE": 3}


def _ids(html: str, testid: str) -> list[int]:
    import re

    return [int(i) for i in re.findall(rf'data-testid="{testid}" data-community-id="(\d+)"',
                                       html)]


def test_city_dashboard(client, session: Session, world: builders.World) -> None:
    """The city admin's month: lists, coverage by district and street, the level trend."""
    x = rated_city(session, world)
    builders.login(client, world.city_admin)
    resp = client.get("/dashboard/")
    assert resp.headers["Location"].endswith("/dashboard/area")
    html = client.get("/dashboard/area").get_data(as_text=True)
    assert "苏州市" in html
    assert "2026-10" in html  # the latest rated month by default
    assert text_of(html, "area-coverage") == ["50.0%"]
    assert text_of(html, "area-rated") == ["7 / 8"]
    # October's drops can still arrive until 11-30: every rating is provisional until 12-01.
    assert text_of(html, "area-status") == ["暂定 7 · 终评 0"]
    assert "2026-12-01" in text_of(html, "area-final-from")[0]
    assert len(text_of(html, "row-provisional")) == 6  # 3 red + 3 grey rows
    red = _ids(html, "red-row")
    assert red[0] == x.a2.id
    assert set(red[1:]) == {world.a.id, x.b2.id}
    assert _ids(html, "grey-row") == [world.b.id, x.a3.id, x.c1.id]  # n/a last
    coverage = {r.split()[0]: r for r in text_of(html, "coverage-row")}
    assert coverage["昆山市"].endswith("60.0%")
    assert coverage["玉山镇"].split()[1:3] == ["5", "4"]  # communities, rated
    assert coverage["玉山镇"].endswith("66.7%")
    assert coverage["周市镇"].endswith("50.0%")
    assert coverage["吴江区"].endswith("0.0%")
    assert coverage["松陵街道"].endswith("0.0%")
    charts = chart_data(html)["charts"]
    assert charts["levels"]["x"][-2:] == ["2026-09", "2026-10"]
    by_level = {s["name"]: s["data"][-2:] for s in charts["levels"]["series"]}
    assert by_level == {"数据不足": [0, 1], "未达标": [1, 3], "达标": [1, 2], "星级": [0, 1]}
    assert charts["coverage"]["series"][0]["data"][-3:] == [None, 50.0, 50.0]


def test_september_and_empty_months(client, session: Session, world: builders.World) -> None:
    """An older month has its own lists; a month without ratings shows 暂无数据, not 0%."""
    x = rated_city(session, world)
    builders.login(client, world.city_admin)
    html = client.get("/dashboard/area?month=2026-09").get_data(as_text=True)
    assert _ids(html, "red-row") == [x.a2.id]
    assert _ids(html, "grey-row") == [world.a.id]
    assert text_of(html, "area-status") == ["暂定 0 · 终评 2"]  # September is final
    assert text_of(html, "area-final-from") == text_of(html, "row-provisional") == []
    html = client.get("/dashboard/area?month=2026-06").get_data(as_text=True)
    assert text_of(html, "area-coverage") == ["暂无数据"]
    assert "本月没有达标小区。" in html


def test_ranking_pages_and_ties(client, session: Session, world: builders.World) -> None:
    """Level order, a tie sharing rank 2, paging by three, insufficient data last as "—"."""
    x = rated_city(session, world)
    builders.login(client, world.city_admin)
    pages = []
    for page in (1, 2, 3):
        html = client.get(f"/dashboard/ranking?month=2026-10&page={page}"
                          ).get_data(as_text=True)
        pages.append([(cid, rank) for cid, rank in zip(
            _ids(html, "ranking-row"),
            [t.split()[0] for t in text_of(html, "ranking-row")], strict=True)])
    assert "已评级小区 7 个" in html
    assert text_of(html, "row-provisional") == ["暂定"]  # page 3: a4, October
    first, second, third = pages
    assert first[0] == (x.a2.id, "1")
    assert set(first[1:]) == {(world.a.id, "2"), (x.b2.id, "2")}
    assert second == [(x.a3.id, "4"), (world.b.id, "5"), (x.c1.id, "6")]
    assert third == [(x.a4.id, "—")]


def test_ranking_by_metric(client, session: Session, world: builders.World) -> None:
    """Sorting by scan rate (higher first) and by out-of-window rate (lower first)."""
    x = rated_city(session, world)
    builders.login(client, world.city_admin)
    html = client.get("/dashboard/ranking?month=2026-10&sort=scan_rate").get_data(as_text=True)
    assert _ids(html, "ranking-row") == [x.a3.id, x.a2.id, world.a.id]
    html = client.get("/dashboard/ranking?month=2026-10&sort=scan_rate&page=3"
                      ).get_data(as_text=True)
    assert _ids(html, "ranking-row") == [x.a4.id]  # insufficient data stays last
    html = client.get("/dashboard/ranking?month=2026-10&sort=out_of_window_rate"
                      ).get_data(as_text=True)
    assert _ids(html, "ranking-row")[:2] == [x.a2.id, world.a.id]
    html = client.get("/dashboard/ranking?month=2026-10&sort=junk").get_data(as_text=True)
    assert _ids(html, "ranking-row")[0] == x.a2.id


def test_street_admin_scope(client, session: Session, world: builders.World) -> None:
    """A street admin sees their street only; other streets, the city and B are refused."""
    x = rated_city(session, world)
    builders.login(client, world.area_admin_a)
    html = client.get("/dashboard/area").get_data(as_text=True)
    assert "玉山镇" in html
    assert _ids(html, "red-row") == [x.a2.id, world.a.id]
    assert _ids(html, "grey-row") == [x.a3.id]
    assert "金浦社区" not in html
    assert "金湾社区" not in html
    ranking = client.get("/dashboard/ranking").get_data(as_text=True)
    assert set(_ids(ranking, "ranking-row")) == {x.a2.id, world.a.id, x.a3.id}
    for url in (f"/dashboard/area?area_id={world.city.id}",
                f"/dashboard/area?area_id={world.street_b.id}",
                f"/dashboard/ranking?area_id={world.district.id}"):
        assert client.get(url).status_code == 403, url
    assert client.get(f"/dashboard/area?area_id={world.a.id}").status_code == 404


def test_manager_has_no_area_dashboard(client, session: Session,
                                      world: builders.World) -> None:
    """A community manager reads their community, never the street's rankings."""
    rated_city(session, world)
    builders.login(client, world.manager_a)
    assert client.get("/dashboard/area").status_code == 403
    assert client.get(f"/dashboard/area?area_id={world.street_a.id}").status_code == 403
    assert client.get("/dashboard/ranking").status_code == 403


def _rows(html: str, testid: str) -> list[int]:
    import re

    return [int(i) for i in re.findall(rf'data-testid="{testid}" data-area-id="(\d+)"', html)]


def test_small_areas_say_their_short_lists_hold_every_community(
        client, session: Session, world: builders.World) -> None:
    """A street of four communities (QA: 昆山市's four, 康庄小区 first in both lists): the
    worst five are all of its rated communities, the best included, and when every one of
    them rose the most improved are the same ones, largest rise first. The page says both.
    A community with insufficient data (a4, +49 points on thin figures) is in neither list.
    """
    x = rated_city(session, world)
    area = builders.area
    a5 = area(session, world.street_b, "金泉社区")
    # Street B: B 60% (Sep 50%), b2 90% (Sep 88%), a5 80% (Sep 71%): all rose.
    rating(session, world.b, SEP, "not_compliant", kitchen_accuracy=0.50)
    rating(session, x.b2, SEP, "compliant", kitchen_accuracy=0.88)
    rating(session, a5, OCT, "not_compliant", kitchen_accuracy=0.80)
    rating(session, a5, SEP, "not_compliant", kitchen_accuracy=0.71)
    rating(session, x.a3, SEP, "not_compliant", kitchen_accuracy=0.65)
    rating(session, x.a4, SEP, "insufficient", kitchen_accuracy=0.50)
    session.commit()
    builders.login(client, world.city_admin)
    html = client.get(f"/dashboard/area?area_id={world.street_b.id}&month=2026-10"
                      ).get_data(as_text=True)
    assert _rows(html, "worst-row") == [world.b.id, a5.id, x.b2.id]
    assert _rows(html, "improved-row") == [world.b.id, a5.id, x.b2.id]  # +10, +9, +2
    assert text_of(html, "worst-all") == [
        "本月只有 3 个社区按质量参评：全部列出，由低到高，最好的也在其中。"]
    assert text_of(html, "lists-coincide") == [
        "与“最差五个社区”是同一批社区：它们较上月都有提升，按提升幅度由大到小排列。"]
    # Street A: a3, A, a2 rated on quality (a4 insufficient); a3 +5, A +10, a2 +4 rose, so
    # the lists coincide as sets; a4's +49 on insufficient data is in neither.
    html = client.get(f"/dashboard/area?area_id={world.street_a.id}&month=2026-10"
                      ).get_data(as_text=True)
    assert _rows(html, "worst-row") == [x.a3.id, world.a.id, x.a2.id]
    assert _rows(html, "improved-row") == [world.a.id, x.a3.id, x.a2.id]
    assert 'data-testid="worst-all"' in html
    # The city has seven communities rated on quality: five are listed, no note.
    html = client.get(f"/dashboard/area?area_id={world.city.id}&month=2026-10"
                      ).get_data(as_text=True)
    assert len(_rows(html, "worst-row")) == 5
    assert 'data-testid="worst-all"' not in html
    assert x.a4.id not in _rows(html, "improved-row")
