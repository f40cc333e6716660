"""The reports (随手拍) board's weekly chart on a 390 px phone, in Chinese and English: the
legend of every kind wraps under the chart and reads whole (inside the chart, below the axis
labels), the chart grows by the legend's rows so the bars keep their height, and nothing
scrolls sideways."""
from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Browser, Page
from sqlmodel import Session

from community import clock
from community.reports.models import Report
from community.reports.rules import KINDS
from tests import builders
from tests.e2e.helpers import PHONE, horizontal_overflow, log_in, switch_language, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.real_db]

# The drawn chart's layout, as ECharts placed it: the legend's box (its view's group, an
# internal of ECharts: there is no public API for a component's rectangle), the plot's
# rectangle and the x axis with its labels.
LAYOUT = """() => {
  const el = document.querySelector('[data-chart=report_weeks]');
  const chart = window.echarts.getInstanceByDom(el);
  const view = (type) => chart._componentsViews.find(
    v => v.__model && v.__model.mainType === type);
  const legend = view('legend').group;
  const box = legend.getBoundingRect();
  const y = legend.transform ? legend.transform[5] : legend.y;
  const x = legend.transform ? legend.transform[4] : legend.x;
  const plot = chart.getModel().getComponent('grid').coordinateSystem.getRect();
  const axis = view('xAxis').group.getBoundingRect();
  return {width: el.clientWidth, height: el.clientHeight, legendTop: y + box.y,
          legendBottom: y + box.y + box.height, legendLeft: x + box.x,
          legendRight: x + box.x + box.width, plotHeight: plot.height,
          axisBottom: axis.y + axis.height,
          names: chart.getOption().series.map(s => s.name)};
}"""


def _check(page: Page, lang: str) -> None:
    wait_until(page, "document.querySelector('[data-chart=report_weeks][data-chart-ready]')"
                     " !== null")
    got = page.evaluate(LAYOUT)
    assert len(got["names"]) == len(KINDS), got
    # The legend reads whole: inside the chart, under the axis labels, never over them.
    assert got["legendTop"] >= got["axisBottom"], (lang, got)
    assert got["legendBottom"] <= got["height"], (lang, got)
    assert got["legendLeft"] >= 0, (lang, got)
    assert got["legendRight"] <= got["width"], (lang, got)
    # The bars keep a phone chart's height however many rows the legend takes.
    assert got["plotHeight"] >= 160, (lang, got)
    assert horizontal_overflow(page) == 0, lang


def test_reports_board_legend_wraps_whole_on_a_phone(browser: Browser, live_server: str,
                                                     session: Session,
                                                     world: builders.World) -> None:
    now = clock.now()
    for week in range(3):
        for kind in KINDS:
            at = now - timedelta(days=7 * week, hours=1)
            session.add(Report(community_id=world.a.id, route_area_id=world.a.id, kind=kind,
                               place="东门", hours=24, created_at=at,
                               due_at=at + timedelta(hours=24),
                               level_due_at=at + timedelta(hours=24)))
    session.commit()
    context = browser.new_context(viewport=PHONE, device_scale_factor=1, is_mobile=True,
                                  has_touch=True)
    page = context.new_page()
    try:
        log_in(page, live_server, world.manager_a.username or "", builders.PASSWORD)
        page.goto(f"{live_server}/reports/board")
        _check(page, "zh")
        switch_language(page, "en")
        _check(page, "en")
    finally:
        context.close()
