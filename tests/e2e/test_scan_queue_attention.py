"""The steward's offline queue when the server refuses an item or is down (390 px phone).

(a) Queued offline: two typed codes and one drop the server refuses (a NUL in its note, as a
    broken device or an old app version could queue). Back online, the refused one shows
    under "needs attention" with the server's reason, kept on the phone; the two others are
    stored. In Chinese, then in English after a reload.
(b) The server answers 503 (a database outage): the drops stay queued, automatic retries
    back off; when the server is back, Sync sends them, once.
"""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, Page, Route, expect
from sqlmodel import Session

from community import clock
from community.households import codes
from tests import builders
from tests.e2e.helpers import PHONE, horizontal_overflow, log_in, stored_drops, switch_language

pytestmark = [pytest.mark.browser, pytest.mark.real_db]




def _count_soon(page: Page, session: Session, expected: int) -> int:
    """The number of stored drops once it reaches `expected` (or after 5 s): the page shows
    an answer a moment before the test's own connection sees the commit."""
    for _ in range(50):
        n = len(stored_drops(session))
        if n >= expected:
            return n
        page.wait_for_timeout(100)
    return len(stored_drops(session))


def _scene(session: Session, world: builders.World):
    station = builders.station(session, world.a, "东门投放亭")
    now = clock.now()
    builders.on_duty(session, world.steward_a, station, now - timedelta(hours=2),
                     now + timedelta(hours=2))
    short_codes = [codes.format_code(builders.active_card(session, hh).short_code)
                   for hh in world.households_a[:2]]
    session.commit()
    return station, short_codes


def _open(page: Page, base_url: str, station_id: int) -> None:
    log_in(page, base_url, "stewarda", builders.PASSWORD)
    page.goto(f"{base_url}/steward/scan")
    expect(page.locator("body[data-scan-ready='1']")).to_have_count(1)
    page.select_option("[data-testid=station-select]", str(station_id))
    page.get_by_test_id("category-kitchen").click()
    page.get_by_test_id("quality-correct").click()


def _type(page: Page, code: str) -> None:
    page.get_by_test_id("short-code-input").fill(code)
    page.get_by_test_id("short-code-submit").click()


def _no_overflow(page: Page) -> None:
    assert horizontal_overflow(page) == 0


def test_a_refused_item_needs_attention_and_the_rest_sync(browser: Browser, live_server: str,
                                                          session: Session,
                                                          world: builders.World) -> None:
    """One hostile queued item is listed as needing attention; the two good ones are stored."""
    station, short_codes = _scene(session, world)
    context = browser.new_context(viewport=PHONE, device_scale_factor=1, is_mobile=True,
                                  has_touch=True)
    page = context.new_page()
    try:
        _open(page, live_server, station.id)
        context.set_offline(True)
        _type(page, short_codes[0])
        expect(page.get_by_test_id("pending-count")).to_have_text("1")
        # A drop queued by the page's own queue code, as a broken client could have queued it.
        page.evaluate("""(stationId) => {
            const q = new window.ScanQueue("steward-queue-" + JSON.parse(
                document.getElementById("scan-config").textContent).account);
            const id = "hostile-" + Date.now();
            return q.add({client_id: id, created: Date.now(), meta: {kind: "tally", label: "?"},
                          payload: {client_id: id, station_id: stationId, category: "kitchen",
                                    quality: "correct", tally: true, note: "a\\u0000b",
                                    happened_at: new Date().toISOString()}});
        }""", station.id)
        _type(page, short_codes[1])
        expect(page.get_by_test_id("pending-count")).to_have_text("3")
        assert stored_drops(session) == []

        context.set_offline(False)
        page.get_by_test_id("sync").click()
        expect(page.get_by_test_id("pending-count")).to_have_text("0", timeout=10_000)
        attention = page.get_by_test_id("failed-item")
        expect(attention).to_have_count(1)
        expect(page.get_by_test_id("needs-attention")).to_have_text("需要处理")
        expect(attention).to_contain_text("数据无效")
        expect(attention).to_contain_text("NUL")
        drops = stored_drops(session)
        assert sorted(d.household_id for d in drops) == sorted(
            h.id for h in world.households_a[:2])
        _no_overflow(page)

        # Kept on the phone across a reload, never re-sent; the next scans go through.
        switch_language(page, "en")
        expect(page.get_by_test_id("needs-attention")).to_have_text("Needs attention")
        expect(page.get_by_test_id("failed-item")).to_have_count(1)
        # The page's own words in English; the server's reason as it was given (kept).
        expect(page.get_by_test_id("failed-item")).to_contain_text("Invalid data")
        expect(page.get_by_test_id("failed-item")).to_contain_text("NUL")
        page.select_option("[data-testid=station-select]", str(station.id))
        page.get_by_test_id("category-kitchen").click()
        page.get_by_test_id("tally").click()
        expect(page.get_by_test_id("feedback-title")).to_have_text("Recorded", timeout=10_000)
        expect(page.get_by_test_id("pending-count")).to_have_text("0")
        expect(page.get_by_test_id("failed-item")).to_have_count(1)
        assert _count_soon(page, session, 3) == 3
        _no_overflow(page)
    finally:
        context.close()


def test_a_server_outage_keeps_drops_queued_and_backs_off(browser: Browser, live_server: str,
                                                          session: Session,
                                                          world: builders.World) -> None:
    """503 with Retry-After: nothing is lost or marked refused; retries wait; Sync sends once."""
    station, short_codes = _scene(session, world)
    context = browser.new_context(viewport=PHONE, device_scale_factor=1, is_mobile=True,
                                  has_touch=True)
    page = context.new_page()
    posts: list[str] = []

    def outage(route: Route) -> None:
        posts.append(route.request.url)
        route.fulfill(status=503, headers={"Retry-After": "120"},
                      content_type="application/json",
                      body=json.dumps({"error": "unavailable", "message": "稍后再试"}))

    try:
        _open(page, live_server, station.id)
        page.route("**/api/v1/drops/batch", outage)
        _type(page, short_codes[0])
        expect(page.get_by_test_id("pending-count")).to_have_text("1")
        expect(page.locator("body[data-retry-in]")).to_have_count(1)
        assert int(page.get_attribute("body", "data-retry-in") or 0) >= 120
        _type(page, short_codes[1])  # a scan during the back-off waits with the rest
        expect(page.get_by_test_id("pending-count")).to_have_text("2")
        page.wait_for_timeout(500)
        assert len(posts) == 1, posts  # no retry storm
        expect(page.get_by_test_id("failed-item")).to_have_count(0)
        assert stored_drops(session) == []

        page.unroute("**/api/v1/drops/batch")
        page.get_by_test_id("sync").click()
        expect(page.get_by_test_id("pending-count")).to_have_text("0", timeout=10_000)
        expect(page.locator("body[data-retry-in]")).to_have_count(0)
        assert _count_soon(page, session, 2) == 2
    finally:
        context.close()
