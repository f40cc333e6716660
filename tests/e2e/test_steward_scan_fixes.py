"""The phone walkthrough's defects of the scan page, in the browser at 390 px (issue 17,
item 1): every steward page folds its navigation into one ☰ menu of 44 px rows; the scan
page starts on the station of the steward's shift; a refused scan offers no undo; the repeat
question names the household; after a reload the steward's recent scans keep their undo
buttons (an incorrect drop with its reason is undone: void, its points reversed); the
buttons go when the 5 minutes end.

The repeat question (issue 17 QA, 390 px): an alertdialog with the focus on Cancel, Escape
cancels and the focus is back in the code box; a scan while it is open is never lost (the
next household is recorded, the question closed as "cancel" and said so); after a reload it
is still asked (the page remembers the cards it scanned)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlmodel import Session

from community import clock
from community.households import codes
from community.points import services as points_services
from tests import builders
from tests.e2e.helpers import PHONE, horizontal_overflow, log_in, stored_drops

pytestmark = [pytest.mark.browser, pytest.mark.real_db]


def _record(page: Page, code: str) -> None:
    page.get_by_test_id("short-code-input").fill(code)
    page.get_by_test_id("short-code-submit").click()


def _compact_nav(page: Page) -> None:
    """One row of bar with a 44 px menu button; open, every link and tool is a 44 px row."""
    bar = page.locator(".topbar").bounding_box()
    assert bar is not None
    assert bar["height"] <= 60, bar
    toggle = page.get_by_test_id("nav-toggle").bounding_box()
    assert toggle is not None
    assert toggle["height"] >= 44, toggle
    assert toggle["width"] >= 44, toggle
    expect(page.get_by_test_id("nav-my-shifts")).to_be_hidden()
    page.get_by_test_id("nav-toggle").click()
    rows = page.evaluate("""Array.from(document.querySelectorAll(
        '.topbar .nav a, .topbar .topbar-tools a, .topbar .topbar-tools button'))
        .map(a => [a.textContent.trim(), a.getBoundingClientRect().height])""")
    assert len(rows) >= 8, rows
    assert all(h >= 44 for _t, h in rows), rows
    assert horizontal_overflow(page) == 0
    page.get_by_test_id("nav-toggle").click()


def test_steward_pages_scan_reload_undo_and_expiry(browser: Browser, live_server: str,
                                                   session: Session,
                                                   world: builders.World) -> None:
    builders.station(session, world.a, "北门投放亭", ranges=((0, 24),))
    station = builders.station(session, world.a, "东门投放亭", ranges=((0, 24),))
    now = clock.now()
    builders.on_duty(session, world.steward_a, station, now - timedelta(hours=2),
                     now + timedelta(hours=2))
    wrong_home, right_home, third_home = world.households_a
    wrong = codes.format_code(builders.active_card(session, wrong_home).short_code)
    right = codes.format_code(builders.active_card(session, right_home).short_code)
    third = codes.format_code(builders.active_card(session, third_home).short_code)
    session.commit()

    context = browser.new_context(viewport=PHONE, device_scale_factor=1, is_mobile=True,
                                  has_touch=True)
    page = context.new_page()
    try:
        log_in(page, live_server, "stewarda", builders.PASSWORD)
        # Every steward page: one compact navigation (not only the scan page).
        for path in ("/steward/shifts", "/steward/check-in", "/steward/scan"):
            page.goto(f"{live_server}{path}")
            _compact_nav(page)

        expect(page.locator("body[data-scan-ready='1']")).to_have_count(1)
        # Two stations: the one of the steward's shift is chosen already.
        expect(page.get_by_test_id("station-select")).to_have_value(str(station.id))
        page.get_by_test_id("category-kitchen").click()
        # Nothing recorded yet: the recent list says so (QA: a heading over an empty list).
        expect(page.get_by_test_id("recent-empty")).to_have_text(
            "还没有投放记录：您记录的每次投放都会显示在这里。")

        # A refused scan (an unknown card) offers no undo.
        _record(page, "ZZZZ-ZZZZ")
        expect(page.get_by_test_id("feedback-title")).to_have_text("未知卡", timeout=10_000)
        expect(page.get_by_test_id("recent-item")).to_have_count(1)
        expect(page.get_by_test_id("recent-empty")).to_be_hidden()
        expect(page.get_by_test_id("undo-last")).to_be_hidden()

        # An incorrect drop with its reason.
        page.get_by_test_id("quality-incorrect").click()
        page.get_by_test_id("reason-kitchen_plastic_bag").click()
        _record(page, wrong)
        expect(page.get_by_test_id("feedback-title")).to_have_text("已记录", timeout=10_000)
        expect(page.get_by_test_id("undo-last")).to_be_visible()
        # The same household and category again: the question names the household. It is
        # an alertdialog named by its title, the focus on the safe button; Escape cancels.
        panel = page.get_by_role("alertdialog", name="再记录一次？")
        _record(page, wrong)
        expect(panel).to_be_visible()
        expect(panel).to_have_attribute("aria-describedby", "repeat-text")
        expect(page.get_by_test_id("repeat-text")).to_contain_text("1栋1单元101室")
        expect(page.get_by_test_id("repeat-no")).to_be_focused()
        page.keyboard.press("Escape")
        expect(panel).to_be_hidden()
        expect(page.get_by_test_id("short-code-input")).to_be_focused()

        # Asked again and left open, the next household is scanned: it is recorded, and the
        # page says the earlier card was not recorded again (it was lost silently before).
        _record(page, wrong)
        expect(panel).to_be_visible()
        _record(page, right)
        expect(panel).to_be_hidden()
        expect(page.get_by_test_id("feedback-address")).to_have_text("1栋1单元102室",
                                                                     timeout=10_000)
        expect(page.get_by_test_id("feedback-title")).to_have_text("已记录")
        expect(page.get_by_test_id("feedback-note")).to_have_text(
            "未再次记录：1栋1单元101室（回答“再记录一次？”之前已扫入下一张卡）。")
        assert horizontal_overflow(page) == 0
        expect(page.get_by_test_id("recent-item")).to_have_count(3)   # 101 once, 102, refused

        # After a reload the scan is still listed with its undo button, from the server,
        # and scanning its card again still asks first (no repeat stored unasked).
        page.reload()
        expect(page.locator("body[data-scan-ready='1']")).to_have_count(1)
        for testid in ("camera-toggle", "short-code-input"):
            box = page.get_by_test_id(testid).bounding_box()
            assert box is not None, testid
            assert box["y"] + box["height"] <= PHONE["height"], testid
        _record(page, wrong)
        expect(panel).to_be_visible()
        expect(page.get_by_test_id("repeat-text")).to_contain_text("1栋1单元101室")
        page.get_by_test_id("repeat-no").click()
        expect(panel).to_be_hidden()
        expect(page.get_by_test_id("feedback-note")).to_be_hidden()
        item = page.get_by_test_id("recent-item").filter(has_text="1栋1单元101室")
        expect(item).to_contain_text("错误")
        item.get_by_test_id("undo").click()
        expect(item).to_have_class("is-undone", timeout=10_000)
        expect(item).to_contain_text("已撤销")

        drops = stored_drops(session)   # the left-open repeat was never stored
        assert [d.household_id for d in drops] == [wrong_home.id, right_home.id]
        bad = drops[0]
        assert (bad.quality, bad.reason_code) == ("incorrect", "kitchen_plastic_bag")
        assert bad.voided_at is not None
        assert bad.voided_by == world.steward_a.id
        session.expire_all()
        assert points_services.balance(session, wrong_home.id) == 0
        assert points_services.verify(session) == []
        session.commit()

        # A correct drop earns; its undo buttons go when its 5 minutes end (the page's
        # clock, set from the server's), and nothing is voided.
        _record(page, third)
        expect(page.get_by_test_id("feedback-address")).to_have_text("1栋1单元103室",
                                                                     timeout=10_000)
        expect(page.get_by_test_id("undo-last")).to_be_visible()
        expect(page.get_by_test_id("recent-item").first.get_by_test_id("undo")).to_be_visible()
        page.clock.fast_forward("05:00")
        expect(page.get_by_test_id("undo-last")).to_be_hidden()
        expect(page.get_by_test_id("recent-item").first.get_by_test_id("undo")).to_have_count(0)
        good = stored_drops(session)[-1]
        assert good.voided_at is None
        session.expire_all()
        assert points_services.balance(session, right_home.id) > 0
        assert points_services.balance(session, third_home.id) > 0
        session.commit()
    finally:
        context.close()
