"""A community manager at a desk: the household list in Chinese, search, filters, and scope."""
from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect
from sqlmodel import Session

from community.households import codes
from tests import builders
from tests.e2e.helpers import log_in

pytestmark = [pytest.mark.browser, pytest.mark.real_db]

DESKTOP = {"width": 1366, "height": 900}


def test_manager_household_list(browser: Browser, live_server: str, session: Session,
                                world: builders.World) -> None:
    """Manager A sees A's households only, finds one by room, filters by building and status."""
    moved = builders.household(session, world.a, building="3", unit="2", room="501")
    moved.status = "moved_out"
    session.add(moved)
    builders.household(session, world.a, building="3", unit="1", room="1802")
    foreign_codes = [builders.active_card(session, hh).short_code for hh in world.households_b]
    session.commit()

    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    rows = page.get_by_test_id("household-row")
    table = page.get_by_test_id("household-table")
    filter_button = page.get_by_test_id("household-filters").locator("button[type=submit]")
    try:
        log_in(page, live_server, "managera", builders.PASSWORD)
        assert "/dashboard/community" in page.url  # a manager lands on the dashboard
        page.goto(f"{live_server}/manage/households")

        expect(page.get_by_test_id("households-title")).to_contain_text("住户")
        expect(page.get_by_test_id("households-title")).to_contain_text("玉龙社区")
        expect(rows).to_have_count(5)
        for room in ("101", "102", "103"):
            expect(table).to_contain_text(f"1栋1单元{room}室")
        expect(table).to_contain_text("3栋2单元501室")
        expect(table).to_contain_text("3栋1单元1802室")
        # Community B's households and cards never reach A's manager.
        html = page.content()
        assert "金浦社区" not in html
        assert "2栋1单元201室" not in html
        assert not any(code in html or codes.format_code(code) in html
                       for code in foreign_codes)

        # Search one room by its address.
        page.get_by_test_id("household-search").fill("1-1-102")
        with page.expect_navigation():
            page.get_by_test_id("household-search").press("Enter")
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text("1栋1单元102室")

        # Filters: building 3, then moved-out households only.
        page.get_by_test_id("household-search").fill("")
        page.get_by_test_id("filter-building").select_option("3")
        with page.expect_navigation():
            filter_button.click()
        expect(rows).to_have_count(2)
        expect(table).to_contain_text("3栋1单元1802室")
        expect(table).to_contain_text("3栋2单元501室")

        page.get_by_test_id("filter-building").select_option("")
        page.get_by_test_id("filter-status").select_option("moved_out")
        with page.expect_navigation():
            filter_button.click()
        assert "status=moved_out" in page.url
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text("3栋2单元501室")

        # Asking for B's community by URL shows none of B's data.
        resp = page.goto(f"{live_server}/manage/households?community_id={world.b.id}")
        assert resp is not None
        html = page.content()
        assert resp.status in (403, 404) or "2栋1单元201室" not in html
        assert "2栋1单元201室" not in html
        assert not any(codes.format_code(code) in html for code in foreign_codes)
    finally:
        context.close()
