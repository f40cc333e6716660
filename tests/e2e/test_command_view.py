"""Issue 19 in the browser: each role lands on its own first screen; the area command view
(驾驶舱) draws its figures, trends and stations map at 1280 px and fits a 390 px phone; the
manager's dashboard of small charts fits a phone too."""
from __future__ import annotations

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect
from sqlmodel import Session

from community import clock
from tests import builders
from tests.dashboard.helpers import NOW, rated_city, scene
from tests.e2e.helpers import PHONE, horizontal_overflow, log_in, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.real_db]

DESKTOP = {"width": 1280, "height": 900}
ALL_READY = ("Array.from(document.querySelectorAll('[data-chart]'))"
             ".every(el => el.hasAttribute('data-chart-ready'))")


def _watch_console(page: Page, errors: list[str]) -> None:
    def on_console(msg: ConsoleMessage) -> None:
        if msg.type == "error" and not msg.location.get("url", "").endswith("/favicon.ico"):
            errors.append(f"{page.url}: {msg.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.append(f"{page.url}: {exc}"))


def test_each_role_lands_on_its_first_screen(browser: Browser, live_server: str,
                                            session: Session, world: builders.World) -> None:
    """Resident → home, steward → scan, chief → their stations, manager → the community
    dashboard, street and city admins → the command view of their area."""
    chief = builders.account(session, "station_chief", world.a, username="chiefa")
    builders.station(session, world.a, "东门投放点").chief_id = chief.id
    session.commit()
    cases = [
        ("138 0000 0001", "/me/", None, PHONE),
        ("stewarda", "/steward/scan", None, PHONE),
        ("chiefa", "/steward/stations", "runnable-station", PHONE),
        ("managera", "/dashboard/community", "dashboard-title", DESKTOP),
        ("streeta", "/dashboard/area", "area-title", DESKTOP),
        ("cityadmin", "/dashboard/area", "area-title", DESKTOP),
    ]
    with clock.freeze(NOW):
        for login, path, testid, viewport in cases:
            context = browser.new_context(viewport=viewport)
            page = context.new_page()
            try:
                log_in(page, live_server, login, builders.PASSWORD)
                assert page.url.split("?")[0].endswith(path), (login, page.url)
                if testid:
                    expect(page.get_by_test_id(testid).first).to_be_visible()
            finally:
                context.close()
    # The street admin sees their street, the city admin the city.
    with clock.freeze(NOW):
        context = browser.new_context(viewport=DESKTOP)
        page = context.new_page()
        try:
            log_in(page, live_server, "streeta", builders.PASSWORD)
            expect(page.get_by_test_id("area-title")).to_contain_text("玉山镇")
        finally:
            context.close()


def test_command_view_at_desk_and_phone(browser: Browser, live_server: str, session: Session,
                                        world: builders.World) -> None:
    """The city's command view at 1280 px: figures with targets, ranking with bars, small
    charts and the stations map all drawn, no sideways scroll; a drill-down to a community;
    the same page and the manager's dashboard fit 390 px."""
    errors: list[str] = []
    with clock.freeze(NOW):
        s = scene(session, world)
        rated_city(session, world)
        s.st1.latitude, s.st1.longitude = 31.385, 120.981
        s.st2.latitude, s.st2.longitude = 31.382, 120.976
        session.add_all([s.st1, s.st2])
        session.commit()
        context = browser.new_context(viewport=DESKTOP)
        page = context.new_page()
        _watch_console(page, errors)
        try:
            log_in(page, live_server, "cityadmin", builders.PASSWORD)
            page.goto(f"{live_server}/dashboard/area?month=2026-10")
            figures = page.get_by_test_id("command-figures").get_by_test_id("figure")
            assert figures.count() >= 7
            accuracy = page.locator("[data-testid=command-figures] [data-code=accuracy]")
            expect(accuracy.get_by_test_id("figure-target")).to_have_text("目标 ≥ 85%")
            expect(page.get_by_test_id("rank-row").first).to_be_visible()
            expect(page.get_by_test_id("station-map")).to_have_attribute("data-points", "2")
            wait_until(page, ALL_READY)
            assert horizontal_overflow(page) == 0
            page.get_by_test_id("drill-area").first.click()
            page.wait_for_load_state()
            assert "area_id=" in page.url
            page.goto(f"{live_server}/dashboard/area?area_id={world.street_a.id}&month=2026-10")
            with page.expect_navigation():
                page.get_by_test_id("command-ranking").get_by_test_id(
                    "drill-community").first.click()
            expect(page.get_by_test_id("dashboard-title")).to_be_visible()
        finally:
            context.close()

        context = browser.new_context(viewport=PHONE)
        page = context.new_page()
        _watch_console(page, errors)
        try:
            log_in(page, live_server, "cityadmin", builders.PASSWORD)
            page.goto(f"{live_server}/dashboard/area?month=2026-10")
            wait_until(page, ALL_READY)
            assert horizontal_overflow(page) == 0
            context.clear_cookies()
            log_in(page, live_server, "managera", builders.PASSWORD)
            wait_until(page, ALL_READY)
            # Today is dashed apart, labelled with the time of the figures.
            name = page.evaluate("JSON.parse(document.getElementById('dashboard-data')"
                                 ".textContent).charts.daily_accuracy.series[1].name")
            assert "截至 12:" in name
            expect(page.get_by_test_id("figure").first).to_have_attribute(
                "data-status", "below")
            assert horizontal_overflow(page) == 0
        finally:
            context.close()
    assert not errors, errors
