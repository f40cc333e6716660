"""Dashboards at a desk: the manager's charts are drawn (canvas pixels) in Chinese and in
English with no console error, and the city admin's area dashboard and ranking work."""
from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect
from sqlmodel import Session

from community import clock
from community.reports.models import Report
from tests import builders
from tests.dashboard.helpers import NOW, rated_city, scene
from tests.e2e.helpers import PHONE, log_in, switch_language, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.real_db]

DESKTOP = {"width": 1366, "height": 900}
# The manager's charts: a daily and a monthly small chart per figure (7), and five others.
MANAGER_CHARTS = 7 * 2 + 5
ALL_READY = ("Array.from(document.querySelectorAll('[data-chart]'))"
             ".every(el => el.hasAttribute('data-chart-ready'))")
# Painted pixels of each chart's canvas (0: blank or no canvas).
PAINTED = """() => Array.from(document.querySelectorAll('[data-chart]')).map(el => {
  const canvas = el.querySelector('canvas');
  if (!canvas || !canvas.width || !canvas.height) return 0;
  const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let n = 0;
  for (let i = 3; i < pixels.length; i += 4) { if (pixels[i]) n++; }
  return n;
})"""


# Each drawn chart's layout as ECharts took it: grid, legend, and the target line's label.
LAYOUT = """() => Array.from(document.querySelectorAll('[data-chart]')).map(el => {
  const o = window.echarts.getInstanceByDom(el).getOption();
  const mark = (o.series[0] || {}).markLine;
  return {id: el.getAttribute('data-chart'), top: o.grid && o.grid[0] ? o.grid[0].top : null,
          bottom: o.grid && o.grid[0] ? o.grid[0].bottom : null,
          legend: o.legend && o.legend[0] && o.legend[0].show !== false
            ? {type: o.legend[0].type, bottom: o.legend[0].bottom} : null,
          target: mark && mark.data && mark.data.length ? mark.label.position : null};
})"""


def _check_layout(page: Page) -> list[dict]:
    """The target's label at the line's start with room above the grid for a 100 % line,
    and a legend under the chart (QA: labels on the newest points, clipped, or covered)."""
    layout = page.evaluate(LAYOUT)
    for chart in layout:
        if chart["target"] is not None:
            assert chart["target"] == "insideStartTop", chart
            assert chart["top"] >= 28, chart
        if chart["legend"] is not None:
            assert chart["legend"] == {"type": "plain", "bottom": 0}, chart
            assert chart["bottom"] >= 30, chart
    return layout


def _watch_console(page: Page, errors: list[str]) -> None:
    """Collect console errors (CSP violations included) and uncaught exceptions."""

    def on_console(msg: ConsoleMessage) -> None:
        if msg.type == "error" and not msg.location.get("url", "").endswith("/favicon.ico"):
            errors.append(f"{page.url}: {msg.text} {msg.location}")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.append(f"{page.url}: {exc}"))


def _charts_drawn(page: Page, expected: int | None) -> None:
    """Every chart finished rendering and painted its canvas (`expected` of them, or at least
    nine when None: the command view's count depends on the modules installed)."""
    if expected is None:
        expected = page.locator("[data-chart]").count()
        assert expected >= 9
    assert page.locator("[data-chart]").count() == expected
    wait_until(page, ALL_READY)
    painted = page.evaluate(PAINTED)
    assert len(painted) == expected
    assert all(n > 500 for n in painted), painted


def test_dashboards_in_the_browser(browser: Browser, live_server: str, session: Session,
                                   world: builders.World) -> None:
    """Manager A's charts in Chinese then English; the city admin's area page and ranking."""
    errors: list[str] = []
    with clock.freeze(NOW):
        scene(session, world)
        x = rated_city(session, world)
        # Two kinds of report this week: the reports board's chart has a legend.
        for kind in ("overflow", "broken"):
            session.add(Report(community_id=world.a.id, route_area_id=world.a.id, kind=kind,
                               place="东门", hours=24, created_at=NOW,
                               due_at=NOW + timedelta(hours=24),
                               level_due_at=NOW + timedelta(hours=24)))
        session.commit()
        context = browser.new_context(viewport=DESKTOP)
        page = context.new_page()
        _watch_console(page, errors)
        try:
            log_in(page, live_server, "managera", builders.PASSWORD)
            page.get_by_test_id("nav-dashboard").click()
            page.wait_for_load_state()
            expect(page.get_by_test_id("dashboard-title")).to_contain_text("数据看板 · 玉龙社区")
            kitchen = page.locator('[data-testid=figure][data-code=kitchen_accuracy]')
            expect(kitchen.get_by_test_id("figure-value")).to_have_text("66.7%")
            expect(kitchen.get_by_test_id("figure-change")).to_have_text("+16.7 个百分点")
            _charts_drawn(page, MANAGER_CHARTS)
            assert any(c["target"] for c in _check_layout(page))
            names = page.evaluate("JSON.parse(document.getElementById('dashboard-data')"
                                  ".textContent).charts.daily_kitchen_accuracy.series"
                                  ".map(s => s.name)")
            assert names[0] == "厨余垃圾准确率"

            # The reports board's weekly chart on a phone: its legend of kinds under the chart.
            page.set_viewport_size(PHONE)
            page.goto(f"{live_server}/reports/board")
            _charts_drawn(page, 1)
            assert _check_layout(page)[0]["legend"] is not None
            page.set_viewport_size(DESKTOP)
            page.get_by_test_id("nav-dashboard").click()
            page.wait_for_load_state()

            switch_language(page, "en")
            expect(page.get_by_test_id("dashboard-title")).to_contain_text("Dashboard")
            separation = page.locator('[data-testid=figure][data-code=kitchen_separation]')
            expect(separation.get_by_test_id("figure-previous")).to_have_text("n/a")
            _charts_drawn(page, MANAGER_CHARTS)
            names = page.evaluate("JSON.parse(document.getElementById('dashboard-data')"
                                  ".textContent).charts.daily_kitchen_accuracy.series"
                                  ".map(s => s.name)")
            assert names[0] == "Kitchen-waste accuracy"
        finally:
            context.close()

        context = browser.new_context(viewport=DESKTOP)
        page = context.new_page()
        _watch_console(page, errors)
        try:
            log_in(page, live_server, "cityadmin", builders.PASSWORD)
            page.goto(f"{live_server}/dashboard/")
            expect(page.get_by_test_id("area-title")).to_contain_text("苏州市 · 2026-10")
            expect(page.get_by_test_id("area-coverage")).to_have_text("50.0%")
            # The levels, coverage and a 12-month small chart per figure (no station has
            # coordinates here: no map); 按期处置率's chart only once reports exist.
            _charts_drawn(page, None)
            assert any(c["target"] for c in _check_layout(page))
            page.get_by_test_id("ranking-link").click()
            page.wait_for_load_state()
            rows = page.get_by_test_id("ranking-row")
            expect(rows).to_have_count(7)
            expect(rows.first).to_contain_text("玉湖社区")
            page.get_by_test_id("sort-picker").select_option("scan_rate")
            with page.expect_navigation():
                page.get_by_test_id("ranking-apply").click()
            assert "sort=scan_rate" in page.url
            expect(rows.first).to_have_attribute("data-community-id", str(x.a3.id))
            expect(rows.first.locator("[data-col=rank]")).to_have_text("1")
        finally:
            context.close()
    assert not errors, errors
