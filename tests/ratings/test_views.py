"""Rating pages on both backends, in Chinese and English: a community's rating explained
("未达标：扫码率 91.2% < 95%", "距星级还差：…"), not available figures, history, the month's
list per scope (manager, area admin, city admin), and the city admin's policy page with
the simulator and publishing (refusals store nothing)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlmodel import Session

from community import clock
from community.ratings import services
from community.ratings.models import Rating, RatingPolicy
from tests import builders
from tests.ratings.helpers import month_rollup
from tests.stations.helpers import english

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=SH)
OCT, NOV = date(2026, 10, 1), date(2026, 11, 1)


@pytest.fixture(autouse=True)
def _frozen():
    """Every page and service sees 2026-12-01 09:00 in Shanghai."""
    with clock.freeze(NOW):
        yield


@dataclass
class Scene:
    """A (40 households) rated for October and November, B (3) insufficient."""

    w: builders.World


@pytest.fixture
def scene(session: Session, world: builders.World) -> Scene:
    """October in A: scan 912/1000 = 91.2% (not compliant). November in A: every compliant
    threshold met, participation 30/40 = 75% (< 85% for star), kitchen 1 kg of 4 weighed."""
    w = world
    homes = list(w.households_a) + [builders.household(session, w.a, building="9",
                                                       with_card=False) for _ in range(37)]
    st = builders.station(session, w.a, "北门")
    st_b = builders.station(session, w.b, "南门")
    month_rollup(session, w.a, st.id, OCT, homes, drops=1000, identified=912, graded=900,
                 correct=800, out_of_window=50, households=30, scheduled=62, staffed=60)
    month_rollup(session, w.a, st.id, NOV, homes, drops=1000, identified=960, graded=900,
                 correct=810, out_of_window=50, households=30, scheduled=60, staffed=60,
                 kitchen_kg="1.0", other_kg="3.0")
    for month in (OCT, NOV):
        month_rollup(session, w.b, st_b.id, month, list(w.households_b), drops=10,
                     identified=10, graded=10, correct=10, out_of_window=0, households=3,
                     scheduled=60, staffed=60)
        services.rate_month(session, month=month, now=NOW)
    session.commit()
    return Scene(w)


def _page(client: FlaskClient, url: str, status: int = 200) -> str:
    resp = client.get(url)
    assert resp.status_code == status, resp.get_data(as_text=True)[:400]
    return resp.get_data(as_text=True)


def test_not_compliant_is_explained_in_chinese_and_english(client, scene: Scene) -> None:
    w = scene.w
    builders.login(client, w.manager_a)
    url = f"/manage/ratings/communities/{w.a.id}?month=2026-10"
    body = _page(client, url)
    assert 'data-level="not_compliant"' in body
    assert "未达标：扫码率 91.2% &lt; 95%" in body
    assert "距达标还差：" in body
    assert "还差 3.8 个百分点" in body
    assert "准确率 88.9% ≥ 85%" in body  # a passed check
    assert "默认标准" in body
    english(client, url)
    body = _page(client, url)
    assert "Not compliant: Scan rate 91.2% &lt; 95%" in body
    assert "Still missing for compliant:" in body
    assert "3.8 percentage points to go" in body


def test_compliant_shows_what_star_still_needs(client, scene: Scene) -> None:
    w = scene.w
    builders.login(client, w.manager_a)
    url = f"/manage/ratings/communities/{w.a.id}"  # the newest month by default: November
    body = _page(client, url)
    assert 'data-level="compliant"' in body
    assert "达标：达到全部达标条件" in body
    assert "距星级还差：" in body
    assert "参与率 75.0% &lt; 85%" in body
    assert "还差 10.0 个百分点" in body
    assert "上月：未达标" in body
    assert "厨余垃圾分出率" in body
    assert "25.0%" in body
    # The history lists both months, newest first.
    assert body.index("2026-11</a>") < body.index("2026-10</a>")
    english(client, url)
    body = _page(client, url)
    assert "Still missing for star:" in body
    assert "Participation 75.0% &lt; 85%" in body
    assert "Last month: Not compliant" in body


def test_insufficient_and_not_available(client, session: Session, scene: Scene) -> None:
    w = scene.w
    builders.login(client, w.manager_b)
    url = f"/manage/ratings/communities/{w.b.id}?month=2026-11"
    body = _page(client, url)
    assert "数据不足：在住户数 3 &lt; 30" in body
    assert "在住户数还差 27 户" in body
    assert "暂无数据" in body  # kitchen separation: nothing weighed
    english(client, url)
    body = _page(client, url)
    assert "Insufficient data: Active households 3 &lt; 30" in body
    assert "n/a" in body
    # A month without a rating says so.
    body = _page(client, f"/manage/ratings/communities/{w.b.id}?month=2026-06")
    assert 'data-testid="rating-none"' in body


def test_the_month_list_follows_the_scope(client, scene: Scene) -> None:
    w = scene.w
    cases = [(w.manager_a, {"玉龙社区"}), (w.area_admin_a, {"玉龙社区"}),
             (w.manager_b, {"金浦社区"}), (w.city_admin, {"玉龙社区", "金浦社区"})]
    for who, names in cases:
        builders.login(client, who)
        body = _page(client, "/manage/ratings?month=2026-11")
        assert {n for n in ("玉龙社区", "金浦社区") if n in body} == names, who.username
        client.post("/logout")
    builders.login(client, w.city_admin)
    body = _page(client, "/manage/ratings?month=2026-11")
    assert 'data-testid="count-compliant">1<' in body
    assert 'data-testid="count-insufficient">1<' in body
    assert 'data-testid="coverage">100.0%<' in body
    body = _page(client, "/manage/ratings?month=2026-11&level=insufficient")
    assert "金浦社区" in body
    assert "玉龙社区" not in body
    body = _page(client, "/manage/ratings?month=2026-06&level=unrated")
    assert "金浦社区" in body
    assert "玉龙社区" in body
    # Junk filters are ignored, not errors.
    assert "玉龙社区" in _page(client, "/manage/ratings?month=junk&level=junk&page=x")
    # A manager has no policy page; nor a resident any rating page.
    client.post("/logout")
    builders.login(client, w.manager_a)
    assert client.get("/manage/ratings/policy").status_code == 403
    client.post("/logout")
    builders.login(client, w.resident_a)
    assert client.get("/manage/ratings").status_code == 403


def _form(**changes: str) -> dict[str, str]:
    data = {"min_active_households": "30", "compliant_accuracy": "85",
            "compliant_scan_rate": "95", "compliant_participation": "70",
            "compliant_steward_coverage": "90", "compliant_out_of_window_rate": "10",
            "star_accuracy": "95", "star_participation": "85", "star_out_of_window_rate": "5",
            "effective_month": "2026-12", "note": "", "simulate_month": "2026-10"}
    data.update(changes)
    return data


def _counts(session: Session) -> tuple[int, int]:
    session.rollback()  # a fresh snapshot (a lazy load may have started an older one)
    session.expire_all()
    got = (session.execute(select(func.count()).select_from(RatingPolicy)).scalar_one(),
           session.execute(select(func.count()).select_from(Rating)).scalar_one())
    session.commit()
    return got


def test_policy_page_simulates_then_publishes(client, session: Session, scene: Scene) -> None:
    w = scene.w
    builders.login(client, w.city_admin)
    body = _page(client, "/manage/ratings/policy")
    assert "默认标准（本区域及上级区域均未发布版本）" in body
    assert 'name="compliant_scan_rate"' in body
    assert 'value="95"' in body
    before = _counts(session)
    # Simulate October with a 90% scan rate: A would become compliant.
    resp = client.post(f"/manage/ratings/policy/simulate?area_id={w.city.id}",
                       data=_form(compliant_scan_rate="90"))
    # Post/Redirect/Get (QA #20): the simulation is the policy page with the draft in its
    # query, a GET that can be reloaded.
    assert resp.status_code == 303, resp.get_data(as_text=True)[:400]
    shown = resp.headers["Location"]
    assert shown.startswith(f"/manage/ratings/policy?area_id={w.city.id}&")
    assert "compliant_scan_rate=90" in shown
    assert "csrf_token" not in shown
    assert shown.endswith("#simulation")
    resp = client.get(shown)
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200, body[:400]
    assert 'data-testid="simulation"' in body
    assert 'value="90"' in body  # the draft stays in the editor
    assert f'data-testid="sim-change" data-community-id="{w.a.id}"' in body
    assert 'data-testid="sim-current-compliant">0<' in body
    assert 'data-testid="sim-draft-compliant">1<' in body
    assert 'data-testid="sim-draft-not_compliant">0<' in body
    resp = client.post(f"/manage/ratings/policy/simulate?area_id={w.city.id}",
                       data=_form(star_accuracy="很高", simulate_month="上个月"))
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "请输入 0 到 100 之间的百分数" in body
    assert "请按 年-月 格式填写月份" in body
    assert 'data-testid="simulation"' not in body
    # A tampered query is the page with the form's errors, no simulation.
    resp = client.get(f"/manage/ratings/policy?area_id={w.city.id}&simulate_month=x"
                      "&star_accuracy=%E5%BE%88%E9%AB%98")
    assert resp.status_code == 422
    assert "请输入 0 到 100 之间的百分数" in resp.get_data(as_text=True)
    assert 'data-testid="simulation"' not in resp.get_data(as_text=True)
    # A month that has not begun (an edited address): refused, not "not enough data" for all.
    resp = client.get(f"/manage/ratings/policy?area_id={w.city.id}&simulate_month=2027-01"
                      "&star_accuracy=95")
    assert resp.status_code == 422
    assert "该月份尚未开始" in resp.get_data(as_text=True)
    assert 'data-testid="simulation"' not in resp.get_data(as_text=True)
    assert _counts(session) == before
    # Refusals: a threshold over 100%, a month already over; nothing is stored.
    resp = client.post(f"/manage/ratings/policy?area_id={w.city.id}",
                       data=_form(compliant_accuracy="101"))
    assert resp.status_code == 422
    assert "请输入 0 到 100 之间的百分数" in resp.get_data(as_text=True)
    # Star accuracy 80% under compliant 90% (the QA case): refused on the star field.
    resp = client.post(f"/manage/ratings/policy?area_id={w.city.id}",
                       data=_form(compliant_accuracy="90", star_accuracy="80"))
    assert resp.status_code == 422
    assert "星级门槛不能比达标门槛更宽松：请填写不低于 90% 的值。" in resp.get_data(as_text=True)
    resp = client.post(f"/manage/ratings/policy?area_id={w.city.id}",
                       data=_form(effective_month="2026-11"))
    assert resp.status_code == 422
    assert "2026-12" in resp.get_data(as_text=True)
    assert _counts(session) == before
    # Publish for street A from December, with a blank (dropped) and a decimal threshold.
    resp = client.post(f"/manage/ratings/policy?area_id={w.street_a.id}",
                       data=_form(compliant_scan_rate="92.5", star_out_of_window_rate="",
                                  note="玉山镇试点"))
    assert resp.status_code == 302, resp.get_data(as_text=True)[:300]
    assert resp.headers["Location"].endswith(f"/manage/ratings/policy?area_id={w.street_a.id}")
    session.commit()  # a lazy load of `w` above may have started an older snapshot
    row = session.execute(select(RatingPolicy)).scalar_one()
    assert (row.area_id, row.version, row.effective_month, row.note) == (
        w.street_a.id, 1, date(2026, 12, 1), "玉山镇试点")
    assert {(t["metric"], t["value"]) for t in row.params["compliant"]} >= {
        ("scan_rate", 0.925)}
    assert [t["metric"] for t in row.params["star"]] == ["accuracy", "participation"]
    session.commit()
    body = _page(client, f"/manage/ratings/policy?area_id={w.a.id}")
    assert "玉山镇" in body  # A inherits the street's version from December
    english(client, f"/manage/ratings/policy?area_id={w.street_a.id}")
    body = _page(client, f"/manage/ratings/policy?area_id={w.street_a.id}")
    assert "Scan rate ≥ 92.5%" in body
    assert "Upcoming" not in body
    assert "In force" in body
