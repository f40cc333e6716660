"""The community manager's dashboard on both backends: headline figures and month-on-month
changes against the hand-computed scene (tests/dashboard/helpers.py), today's raw drop merged,
daily and monthly trends, breakdowns by station, building, hour, weekday and category,
"not available" as 暂无数据 / n/a, drill-down links, exports, and who may read it."""
from __future__ import annotations

import csv
import io
from datetime import date
from urllib.parse import parse_qs, urlparse

import pytest
from openpyxl import load_workbook
from sqlalchemy import event
from sqlmodel import Session

from community import clock
from community.auth import services as auth_services
from community.dashboard import queries
from community.ratings import rollups
from tests import builders
from tests.dashboard.helpers import (
    NOV_DAY,
    NOW,
    OCT_DAY,
    TODAY,
    at,
    chart_data,
    figure,
    rating,
    scene,
    text_of,
)
from tests.stations.helpers import english


@pytest.fixture(autouse=True)
def _frozen():
    """Every page sees 2026-11-20 12:00 in Shanghai."""
    with clock.freeze(NOW):
        yield


EXPECTED_NOV = {  # code: (value, last month, change) as the page shows them (zh)
    "kitchen_accuracy": ("66.7%", "50.0%", "+16.7 个百分点"),
    "accuracy": ("50.0%", "66.7%", "-16.7 个百分点"),
    "scan_rate": ("80.0%", "75.0%", "+5.0 个百分点"),
    "participation": ("75.0%", "50.0%", "+25.0 个百分点"),
    "out_of_window_rate": ("20.0%", "25.0%", "-5.0 个百分点"),
    "steward_coverage": ("50.0%", "0.0%", "+50.0 个百分点"),
    "kitchen_separation": ("50.0%", "暂无数据", "暂无数据"),
}


def test_headline_figures_and_month_on_month(client, session: Session,
                                             world: builders.World) -> None:
    """November against October, today's raw drop included, in Chinese by default."""
    scene(session, world)
    builders.login(client, world.manager_a)
    resp = client.get("/dashboard/community")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "数据看板" in html
    assert "玉龙社区" in html
    assert "2026-11" in html
    for code, (value, previous, change) in EXPECTED_NOV.items():
        assert figure(html, code) == {"value": value, "previous": previous,
                                      "change": change}, code
    # The out-of-window rate fell: an improvement, shown as better; accuracy fell: worse.
    assert 'dash-change dash-better" data-testid="figure-change">-5.0' in html
    assert 'dash-change dash-worse" data-testid="figure-change">-16.7' in html
    assert text_of(html, "count-drops") == ["5"]
    assert text_of(html, "count-households") == ["3 / 4"]
    assert text_of(html, "count-windows") == ["2 / 4"]
    assert "金浦南门" not in html


def test_english_shows_na(client, session: Session, world: builders.World) -> None:
    """A rate with a zero denominator reads "n/a" in English (never 0%)."""
    scene(session, world)
    builders.login(client, world.manager_a)
    english(client)
    html = client.get("/dashboard/community").get_data(as_text=True)
    assert "Dashboard" in html
    assert figure(html, "kitchen_separation") == {"value": "50.0%", "previous": "n/a",
                                                  "change": "n/a"}
    assert figure(html, "scan_rate")["change"] == "+5.0 pp"


def test_previous_month_page(client, session: Session, world: builders.World) -> None:
    """October's own page: its figures, by hour and weekday, and September's n/a."""
    scene(session, world)
    builders.login(client, world.manager_a)
    html = client.get(f"/dashboard/community?month=2026-10&community_id={world.a.id}"
                      ).get_data(as_text=True)
    assert figure(html, "kitchen_accuracy") == {"value": "50.0%", "previous": "暂无数据",
                                                "change": "暂无数据"}
    assert figure(html, "out_of_window_rate")["value"] == "25.0%"
    assert figure(html, "kitchen_separation")["value"] == "暂无数据"
    data = chart_data(html)["charts"]
    hours = dict(zip(data["hour_window"]["x"], zip(*[s["data"] for s in
                                                     data["hour_window"]["series"]],
                                                   strict=True), strict=True))
    assert hours == {"07:00": (3, 0), "12:00": (1, 1)}
    accuracy = dict(zip(data["hour_accuracy"]["x"], data["hour_accuracy"]["series"][0]["data"],
                        strict=True))
    assert accuracy == {"07:00": 50.0, "12:00": 100.0}
    weekday_oow = data["weekday_window"]["series"][1]["data"]
    assert weekday_oow == [0, 0, 0, 0, 0, 1, 0]  # October 10 is a Saturday
    assert text_of(html, "weekday-oow")[0].split()[-2:] == ["1", "0"]


def test_trends(app, session: Session, world: builders.World) -> None:
    """Daily points: rolled-up days, today from raw rows, nothing after today; months: the
    two compared months equal the headline, months without data are None."""
    scene(session, world)
    actor = builders_actor(session, world.manager_a.id)
    d = queries.community_dashboard(session, actor=actor, community_id=None, now=NOW)
    daily = {p.start: p for p in d.daily}
    assert len(daily) == 30
    nov5 = daily[NOV_DAY].values
    assert nov5 is not None
    assert nov5["kitchen_accuracy"] == 1.0
    assert nov5["accuracy"] == pytest.approx(2 / 3)
    assert nov5["scan_rate"] == 0.75
    assert nov5["participation"] == 0.75
    assert nov5["steward_coverage"] == 0.5
    assert nov5["kitchen_separation"] == 0.5
    today = daily[TODAY]
    assert today.drops == 1
    assert today.values is not None
    assert today.values["kitchen_accuracy"] == 0.0
    assert today.values["participation"] == 0.25
    assert today.values["steward_coverage"] is None  # not rolled up: no coverage yet
    assert daily[TODAY.replace(day=21)].values is None
    months = {p.start: p for p in d.monthly}
    assert len(months) == 12
    assert min(months).isoformat() == "2025-12-01"
    assert months[OCT_DAY.replace(day=1)].values["participation"] == 0.5  # type: ignore[index]
    assert months[NOV_DAY.replace(day=1)].drops == 5
    assert months[OCT_DAY.replace(day=1, month=9)].values is None
    with app.test_request_context():
        charts = chart_data_of(d)
    # One small chart per figure; the axis ends at today (the 20th), today dashed apart.
    chart = charts["daily_kitchen_accuracy"]
    assert len(chart["x"]) == 20
    assert chart["x"][-1] == "11-20"
    done, partial = chart["series"]
    assert done["name"] == "厨余垃圾准确率"
    assert done["data"][4] == 100.0
    assert done["data"][19] is None          # today is not drawn as a finished day
    assert partial["dashed"] is True
    assert partial["name"] == "厨余垃圾准确率 (截至 12:00)"
    assert partial["data"][19] == 0.0        # today so far: 0 of 1 kitchen drop correct
    assert chart["partial"] == 19
    assert chart["target"] == 85.0
    assert charts["daily_out_of_window_rate"]["targetLabel"] == "目标 ≤ 10%"
    # The monthly small chart: the month under way is dashed too.
    monthly = charts["monthly_participation"]
    assert monthly["x"][-1] == "2026-11"
    assert monthly["series"][0]["data"][-2] == 50.0   # October, finished
    assert monthly["series"][1]["data"][-1] == 75.0   # November so far
    assert monthly["target"] == 70.0


def test_trends_read_the_household_history_once(session: Session,
                                                world: builders.World) -> None:
    """Participation's "active at the period's end" reads the household history in one
    statement for the whole trend (19 days not rolled up and 2 months here: 21 before), plus
    one for each of the two compared months' totals."""
    scene(session, world)
    actor = builders_actor(session, world.manager_a.id)
    statements: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if "household_event" in statement:
            statements.append(statement)

    connection = session.connection()
    event.listen(connection, "before_cursor_execute", seen)
    try:
        queries.community_dashboard(session, actor=actor, community_id=None, now=NOW)
    finally:
        event.remove(connection, "before_cursor_execute", seen)
    assert len(statements) == 3


def test_breakdowns(client, session: Session, world: builders.World) -> None:
    """By station (today's raw drop included), worst buildings, categories, drill-downs."""
    s = scene(session, world)
    builders.login(client, world.manager_a)
    html = client.get("/dashboard/community").get_data(as_text=True)
    rows = {r.station_id: r for r in queries.community_dashboard(
        session, actor=builders_actor(session, world.manager_a.id), community_id=world.a.id,
        now=NOW).stations}
    assert rows[s.st1.id].counts.drops == 3
    assert rows[s.st2.id].counts.drops == 2
    assert rows[s.st1.id].metric("kitchen_accuracy") == 1.0
    assert rows[s.st1.id].metric("steward_coverage") == 1.0
    assert rows[s.st2.id].metric("scan_rate") == 0.5
    assert rows[s.st2.id].metric("out_of_window_rate") == 0.5
    assert rows[s.st2.id].metric("accuracy") == 0.0
    assert rows[s.st2.id].metric("steward_coverage") == 0.0
    assert f'data-station-id="{s.st1.id}"' in html
    buildings = text_of(html, "building-row")
    assert buildings[0].startswith("3栋")
    assert "0.0%" in buildings[0]
    assert buildings[1].startswith("1栋")
    assert "100.0%" in buildings[1]
    categories = dict(zip(("kitchen", "recyclable", "hazardous", "other"),
                                       text_of(html, "category-row"), strict=True))
    assert "66.7%" in categories["kitchen"]
    assert "暂无数据" in categories["recyclable"]
    # Drill-down links open the drop list with the month's dates and the row's filter.
    links = [urlparse(h) for h in _hrefs(html, "drill-station")]
    args = parse_qs(links[0].query)
    assert links[0].path == "/manage/drops"
    assert args["day_from"] == ["2026-11-01"]
    assert args["day_to"] == ["2026-11-20"]
    assert args["community_id"] == [str(world.a.id)]
    oow = parse_qs(urlparse(_hrefs(html, "drill-oow")[0]).query)
    assert oow["window"] == ["out"]
    drops = client.get(_hrefs(html, "drill-oow")[0]).get_data(as_text=True)
    assert drops.count('data-testid="drop-row"') == 1  # today's out-of-window drop
    building = client.get(_hrefs(html, "drill-building")[0]).get_data(as_text=True)
    assert building.count('data-testid="drop-row"') == 2  # h4: Nov 5 and today


def test_rating_of_the_month(client, session: Session, world: builders.World) -> None:
    """A rated month shows its level and the rank in the street."""
    other = builders.area(session, world.street_a, "玉湖社区")
    rating(session, world.a, OCT_DAY.replace(day=1), "compliant", kitchen_accuracy=0.9)
    rating(session, other, OCT_DAY.replace(day=1), "star", kitchen_accuracy=0.96)
    session.commit()
    builders.login(client, world.manager_a)
    html = client.get("/dashboard/community?month=2026-10").get_data(as_text=True)
    assert text_of(html, "rating-level") == ["达标"]
    assert text_of(html, "dashboard-rank") == ["玉山镇第 2 名（共 2 个）"]
    html = client.get("/dashboard/community?month=2026-11").get_data(as_text=True)
    assert 'data-testid="dashboard-rating"' not in html


def test_exports(client, session: Session, world: builders.World) -> None:
    """CSV (utf-8-sig) and XLSX hold the same figures, "n/a" in the user's language."""
    scene(session, world)
    builders.login(client, world.manager_a)
    resp = client.get(f"/dashboard/community/export.csv?community_id={world.a.id}")
    assert resp.status_code == 200
    assert resp.headers["Cache-Control"] == "no-store"
    body = resp.get_data()
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][0] == "部分"
    head = {r[2]: r for r in rows if r[0] == "核心指标"}
    assert head["厨余垃圾准确率"][4:] == ["66.7", "50.0", "16.7"]
    assert head["厨余垃圾分出率"][4:] == ["50.0", "暂无数据", "暂无数据"]
    assert head["过时投放率"][4:] == ["20.0", "25.0", "-5.0"]
    xlsx = client.get(f"/dashboard/community/export.xlsx?community_id={world.a.id}")
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.get_data())).active
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert len(values) == len(rows)
    xhead = {r[2]: r for r in values if r[0] == "核心指标"}
    assert xhead["扫码率"][4:] == [80.0, 75.0, 5.0]
    assert xhead["厨余垃圾分出率"][5] == "暂无数据"


def test_scope(client, session: Session, world: builders.World) -> None:
    """A manager reads only their own community; area admins theirs below; residents none."""
    scene(session, world)
    builders.login(client, world.manager_b)
    assert client.get(f"/dashboard/community?community_id={world.a.id}").status_code == 403
    assert client.get(f"/dashboard/community/export.csv?community_id={world.a.id}"
                      ).status_code == 403
    own = client.get("/dashboard/community").get_data(as_text=True)
    assert "金浦社区" in own
    assert "玉龙社区" not in own
    assert "东门投放点" not in own
    client.post("/logout")
    builders.login(client, world.area_admin_a)
    assert client.get(f"/dashboard/community?community_id={world.a.id}").status_code == 200
    assert client.get(f"/dashboard/community?community_id={world.b.id}").status_code == 403
    assert client.get(f"/dashboard/community?community_id={world.street_a.id}"
                      ).status_code == 404
    client.post("/logout")
    builders.login(client, world.resident_a)
    assert client.get("/dashboard/community").status_code == 403
    assert client.get("/dashboard/").status_code == 403


def test_landing_and_future_month(client, session: Session, world: builders.World) -> None:
    """/dashboard/ sends a manager to the community page; a future month shows this month."""
    builders.login(client, world.manager_a)
    resp = client.get("/dashboard/")
    assert resp.status_code == 302
    assert resp.headers["Location"].endswith("/dashboard/community")
    html = client.get("/dashboard/community?month=2027-05").get_data(as_text=True)
    assert "2026-11" in html
    assert 'data-testid="month-next"' not in html
    assert client.get("/dashboard/community?month=junk").status_code == 200


def test_empty_community(client, session: Session, world: builders.World) -> None:
    """No drops at all: every rate with a zero denominator is 暂无数据."""
    builders.login(client, world.manager_a)
    html = client.get("/dashboard/community").get_data(as_text=True)
    for code in ("kitchen_accuracy", "accuracy", "scan_rate", "out_of_window_rate",
                 "steward_coverage", "kitchen_separation"):
        assert figure(html, code)["value"] == "暂无数据", code


# --- helpers -------------------------------------------------------------------------------

def builders_actor(session: Session, account_id: int):
    """The policy Actor of an account (as the web layer loads it)."""
    from community.auth import services as auth_services

    actor = auth_services.load_actor(session, account_id)
    session.commit()
    return actor


def chart_data_of(d: queries.CommunityDashboard) -> dict:
    """The chart payload of a dashboard (call inside a request context)."""
    from community.dashboard import charts

    return charts.manager_charts(d, as_of="截至 12:00")["charts"]


def _hrefs(html: str, testid: str) -> list[str]:
    import re
    from html import unescape

    return [unescape(m) for m in re.findall(rf'href="([^"]+)" data-testid="{testid}"', html)]


def test_trend_participation_counts_only_households_active_at_the_end(
        app, session: Session, world: builders.World) -> None:
    """A household that dropped in October and moved out before October ended counts in
    neither side of October's participation (it used to count above, making 150%)."""
    scene(session, world)
    h5 = builders.household(session, world.a, building="5", room="501")
    station = builders.station(session, world.a, "西门")
    builders.drop(session, station, h5, happened_at=at(OCT_DAY, 8, 0), quality="correct")
    builders.household_event(session, h5, at(date(2026, 10, 30), 12), status="moved_out")
    rollups.build_day(session, OCT_DAY, now=NOW)
    session.commit()
    d = queries.community_dashboard(session, actor=auth_services.load_actor(
        session, world.manager_a.id), community_id=None, now=NOW)
    october = {p.start: p for p in d.monthly}[OCT_DAY.replace(day=1)]
    assert october.values is not None
    assert october.values["participation"] == 0.5  # 2 of 4 active, as before h5 came
