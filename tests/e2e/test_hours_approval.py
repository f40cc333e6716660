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
