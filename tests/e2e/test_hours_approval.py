"""The manager's hours approval list at 1280 px and 390 px: each row's checkbox and the select
all box have a 44 × 44 px hit area (their label), on the desktop the whole cell; select all is
reachable on a phone (its rows are cards with no header row)."""
from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import Browser, Locator, expect
from sqlmodel import Session

from tests import builders
from tests.e2e.helpers import PHONE, horizontal_overflow, log_in
from tests.volunteers.hours import builders as hb

pytestmark = [pytest.mark.browser, pytest.mark.real_db]

DESKTOP = {"width": 1280, "height": 900}


def _box(locator: Locator) -> dict[str, float]:
    box = locator.bounding_box()
    assert box is not None
    return box


def _at_least_44(box: dict[str, float]) -> bool:
    return min(box["width"], box["height"]) >= 44


def test_hours_checkboxes_have_44px_hit_areas(browser: Browser, live_server: str,
                                              session: Session,
                                              world: builders.World) -> None:
    station = builders.station(session, world.a, "东门投放亭")
    for n, start in enumerate((7, 18)):
        stw = hb.steward(session, world.a, name=f"督导员{n + 1}")
        hb.worked(session, station, stw, date(2026, 11, 20), start=start)
    session.commit()

    for viewport in (DESKTOP, PHONE):
        context = browser.new_context(viewport=viewport)
        page = context.new_page()
        try:
            log_in(page, live_server, world.manager_a.username or "", builders.PASSWORD)
            page.goto(f"{live_server}/manage/volunteers/hours?community_id={world.a.id}")
            expect(page.get_by_test_id("hours-row")).to_have_count(2)
            assert horizontal_overflow(page) == 0, viewport
            hits = page.get_by_test_id("hours-select-hit")
            for i in range(2):
                box = _box(hits.nth(i))
                assert _at_least_44(box), (viewport, box)
            select_all = page.get_by_test_id("hours-select-all-hit")
            expect(select_all).to_be_visible()
            box = _box(select_all)
            assert _at_least_44(box), (viewport, box)

            boxes = page.get_by_test_id("hours-select")
            first = _box(hits.first)
            if viewport == DESKTOP:
                # The whole cell is the hit area: its corner ticks the box.
                cell = _box(page.locator("[data-testid=hours-row] td.tap-cell").first)
                assert first["x"] <= cell["x"] + 1, (first, cell)
                assert first["y"] <= cell["y"] + 1, (first, cell)
                assert first["x"] + first["width"] >= cell["x"] + cell["width"] - 1
                assert first["y"] + first["height"] >= cell["y"] + cell["height"] - 1
                page.mouse.click(cell["x"] + 2, cell["y"] + 2)
            else:
                # A thumb landing beside the small box, inside its label, ticks it.
                page.mouse.click(first["x"] + first["width"] - 3, first["y"] + 3)
            expect(boxes.first).to_be_checked()
            expect(boxes.nth(1)).not_to_be_checked()
            # Select all from its label's edge ticks every row.
            page.mouse.click(box["x"] + 2, box["y"] + box["height"] - 3)
            expect(page.get_by_test_id("hours-select-all")).to_be_checked()
            expect(boxes.nth(1)).to_be_checked()
        finally:
            context.close()


def test_bulk_approval_on_a_long_phone_list(browser: Browser, live_server: str,
                                            session: Session, world: builders.World) -> None:
    """A phone's long list: after Select all, the bar at the bottom of the screen says how many
    are ticked and offers Approve selected (no scrolling to the end); unticking one makes
    Select all indeterminate; with nothing ticked, the button says so at once (no dialog)."""
    station = builders.station(session, world.a, "东门投放亭")
    for n in range(12):
        stw = hb.steward(session, world.a, name=f"督导员{n + 1}")
        hb.worked(session, station, stw, date(2026, 11, 1 + n), start=7)
    session.commit()

    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    asked: list[str] = []
    try:
        log_in(page, live_server, world.manager_a.username or "", builders.PASSWORD)
        page.goto(f"{live_server}/manage/volunteers/hours?community_id={world.a.id}")
        expect(page.get_by_test_id("hours-row")).to_have_count(12)
        assert page.evaluate("document.documentElement.scrollHeight") > 2 * PHONE["height"]
        bar = page.get_by_test_id("hours-bulkbar")
        count = page.get_by_test_id("hours-selected-count")
        expect(count).to_have_text("已选 0 项")
        select_all = page.get_by_test_id("hours-select-all")
        select_all.check()
        expect(count).to_have_text("已选 12 项")
        # In view at the top of the page: the bar sits at the bottom of the screen.
        assert page.evaluate("window.scrollY") < 200
        box = _box(bar)
        assert box["y"] + box["height"] <= PHONE["height"] + 1, box
        assert box["y"] > PHONE["height"] / 2, box
        assert page.get_by_test_id("hours-approve-selected").is_visible()
        assert horizontal_overflow(page) == 0

        page.get_by_test_id("hours-select").nth(3).uncheck()
        expect(count).to_have_text("已选 11 项")
        assert select_all.evaluate("el => el.indeterminate") is True
        expect(select_all).not_to_be_checked()
        page.get_by_test_id("hours-select").nth(3).check()
        assert select_all.evaluate("el => el.indeterminate") is False
        expect(select_all).to_be_checked()

        # Nothing ticked: said at once, no confirmation dialog, nothing sent.
        select_all.uncheck()
        expect(count).to_have_text("已选 0 项")
        page.on("dialog", lambda d: (asked.append(d.message), d.dismiss()))
        page.get_by_test_id("hours-approve-selected").click()
        expect(page.get_by_test_id("hours-select-none")).to_have_text("请至少选择一个班次。")
        expect(page.get_by_test_id("hours-select-none")).to_be_visible()
        assert asked == []
        expect(page.get_by_test_id("hours-row")).to_have_count(12)
        # Two ticked: the question comes, and the answer "no" keeps them all.
        page.get_by_test_id("hours-select").nth(0).check()
        expect(page.get_by_test_id("hours-select-none")).to_be_hidden()
        page.get_by_test_id("hours-select").nth(1).check()
        page.get_by_test_id("hours-approve-selected").click()
        assert len(asked) == 1
        expect(page.get_by_test_id("hours-row")).to_have_count(12)
    finally:
        context.close()
