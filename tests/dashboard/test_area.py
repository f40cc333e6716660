"""Area and city dashboards on both backends: red and grey lists, compliant coverage by
district and street, the level trend, the paged ranking (ties share a rank, insufficient data
last and unranked, sorting by a metric), and who may read what. Ratings are inserted as the
monthly job would store them."""
from __future__ import annotations

import pytest
from sqlmodel import Session

from community import clock
from tests import builders
from tests.dashboard.helpers import NOW, chart_data, rated_city, text_of


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
