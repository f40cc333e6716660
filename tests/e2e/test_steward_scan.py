"""A steward on a phone: scan a card with the (fake) camera, and keep scanning offline.

(a) Chromium's fake camera plays a y4m made from a household card's QR code: the page
    decodes it with zxing-wasm and records exactly one drop.
(b) Offline: three typed short codes wait in IndexedDB, survive a reload served by the
    service worker, and sync to exactly three drops once the phone is back online. A queued
    card typed again after the reload is asked about first ("record again?").
"""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask, request
from playwright.sync_api import Browser, BrowserType, Page, expect
from sqlmodel import Session

from community import clock
from community.auth import services as auth_services
from community.households import codes
from community.households import services as households_services
from tests import builders
from tests.e2e.fakecam import card_video
from tests.e2e.helpers import (
    PHONE,
    horizontal_overflow,
    log_in,
    stored_drops,
    switch_language,
    wait_until,
)

pytestmark = [pytest.mark.browser, pytest.mark.real_db]




def _on_duty(session: Session, world: builders.World, station) -> None:
    """The steward is checked in to a shift of `station` around the suite's fixed clock."""
    now = clock.now()
    builders.on_duty(session, world.steward_a, station, now - timedelta(hours=2),
                     now + timedelta(hours=2))


def _open_scan_page(page: Page, base_url: str, station_id: int) -> None:
    log_in(page, base_url, "stewarda", builders.PASSWORD)
    page.goto(f"{base_url}/steward/scan")
    expect(page.locator("body[data-scan-ready='1']")).to_have_count(1)
    page.select_option("[data-testid=station-select]", str(station_id))
    page.get_by_test_id("category-kitchen").click()
    page.get_by_test_id("quality-correct").click()
    expect(page.get_by_test_id("category-kitchen")).to_have_attribute("aria-pressed", "true")


def test_fake_camera_records_one_drop(browser_type: BrowserType,
                                      browser_type_launch_args: dict, live_server: str,
                                      session: Session, world: builders.World,
                                      tmp_path: Path) -> None:
    """The camera sees a household's card: its address shows and exactly one drop is stored."""
    station = builders.station(session, world.a, "东门投放亭")
    _on_duty(session, world, station)
    home = world.households_a[0]
    card = builders.active_card(session, home)
    session.commit()
    video = card_video(tmp_path / "card.y4m", card.token)

    args = [*browser_type_launch_args.get("args", []), "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream", f"--use-file-for-fake-video-capture={video}"]
    browser = browser_type.launch(**{**browser_type_launch_args, "args": args})
    try:
        context = browser.new_context(viewport=PHONE, device_scale_factor=1, is_mobile=True,
                                      has_touch=True)
        context.grant_permissions(["camera"], origin=live_server)
        page = context.new_page()
        _open_scan_page(page, live_server, station.id)

        page.get_by_test_id("camera-toggle").click()
        expect(page.get_by_test_id("feedback-address")).to_have_text("1栋1单元101室",
                                                                     timeout=20_000)
        expect(page.get_by_test_id("feedback-title")).to_have_text("已记录")
        expect(page.get_by_test_id("pending-count")).to_have_text("0")
        # The live server runs on the real clock: 2 points in a window, 0 outside one.
        earned = 2 if stored_drops(session)[0].in_window else 0
        expect(page.get_by_test_id("feedback-detail")).to_contain_text(
            f"厨余垃圾 · 正确 · 积分 {earned}")
        # The card stays in front of the camera: it must not be recorded again.
        page.wait_for_timeout(3000)
        expect(page.get_by_test_id("recent-item")).to_have_count(1)
        assert horizontal_overflow(page) == 0

        drops = stored_drops(session)
        assert len(drops) == 1
        drop = drops[0]
        assert (drop.household_id, drop.card_id) == (home.id, card.id)
        assert (drop.category, drop.quality, drop.source) == ("kitchen", "correct", "scan")
        assert drop.recorded_by == world.steward_a.id

        # The station choice is remembered on the phone.
        page.reload()
        expect(page.get_by_test_id("station-select")).to_have_value(str(station.id))
        context.close()
    finally:
        browser.close()


def test_offline_scans_survive_reload_and_sync_once(app: Flask, browser: Browser,
                                                   live_server: str, session: Session,
                                                   world: builders.World) -> None:
    """Three scans offline → pending 3 → reload (service worker) → pending 3 → online → 3 drops."""
    seen: list[str] = []  # every request the server gets, to prove "offline" really was

    @app.before_request
    def _note() -> None:
        seen.append(request.path)

    station = builders.station(session, world.a, "东门投放亭")
    _on_duty(session, world, station)
    short_codes = [codes.format_code(builders.active_card(session, hh).short_code)
                   for hh in world.households_a]
    session.commit()

    context = browser.new_context(viewport=PHONE, device_scale_factor=1, is_mobile=True,
                                  has_touch=True)
    page = context.new_page()
    try:
        _open_scan_page(page, live_server, station.id)
        page.evaluate("navigator.serviceWorker.ready.then(() => true)")
        wait_until(page, "navigator.serviceWorker.controller !== null")

        context.set_offline(True)
        seen.clear()
        for n, code in enumerate(short_codes, start=1):
            page.get_by_test_id("short-code-input").fill(code.replace("-", "").lower())
            page.get_by_test_id("short-code-submit").click()
            expect(page.get_by_test_id("pending-count")).to_have_text(str(n))
        expect(page.get_by_test_id("feedback-title")).to_have_text(
            "已保存在本机，联网后自动上传。")
        expect(page.get_by_test_id("net-status")).to_have_text("离线：投放记录保存在本机。")
        assert stored_drops(session) == []

        # The page's own memory of its scans goes: after the reload only the queue knows
        # these cards were scanned.
        page.evaluate("(key) => localStorage.removeItem(key)",
                      f"steward.scans.{world.steward_a.id}")
        page.reload()  # still offline: the service worker serves the page and its scripts
        expect(page.locator("h1")).to_have_text("扫码投放")
        expect(page.locator("body[data-scan-ready='1']")).to_have_count(1)
        expect(page.get_by_test_id("pending-count")).to_have_text("3")
        expect(page.get_by_test_id("station-select")).to_have_value(str(station.id))
        page.get_by_test_id("category-kitchen").click()
        page.get_by_test_id("short-code-input").fill(short_codes[0])
        page.get_by_test_id("short-code-submit").click()
        expect(page.get_by_test_id("repeat-panel")).to_be_visible()   # asked, not queued
        page.get_by_test_id("repeat-no").click()
        expect(page.get_by_test_id("pending-count")).to_have_text("3")
        assert stored_drops(session) == []
        # Page, scripts and scanner all came from the worker's cache. (Chromium's offline
        # emulation does not always cover a service worker's own fetches, so a sync attempt
        # may still reach the API; the queue above shows it stored nothing.)
        assert [p for p in seen if not p.startswith("/api/")] == [], seen

        context.set_offline(False)
        page.get_by_test_id("sync").click()
        expect(page.get_by_test_id("pending-count")).to_have_text("0", timeout=10_000)
        expect(page.get_by_test_id("recent-item")).to_have_count(3)
        assert "/api/v1/drops/batch" in seen

        drops = stored_drops(session)
        assert sorted(d.household_id for d in drops) == sorted(h.id for h in world.households_a)
        assert {(d.category, d.quality, d.source) for d in drops} == {
            ("kitchen", "correct", "manual")}
        assert len({d.client_id for d in drops}) == 3

        # Syncing again (a second tab, a retry) stores nothing more.
        page.get_by_test_id("sync").click()
        page.wait_for_timeout(500)
        assert len(stored_drops(session)) == 3
    finally:
        context.close()


def test_feedback_warnings_errors_and_tally(browser: Browser, live_server: str,
                                            session: Session, world: builders.World) -> None:
    """Out-of-window and duplicate warnings, revoked and unknown cards, a tally; then English."""
    hour = clock.local(clock.now(), "Asia/Shanghai").hour  # the suite's fixed clock
    # The only windows start 3 hours from now, no grace: this drop is 过时投放.
    station = builders.station(session, world.a, "东门投放亭", grace=0,
                               ranges=((hour + 3, hour + 5),))
    _on_duty(session, world, station)
    good, revoked = world.households_a[0], world.households_a[1]
    good_code = codes.format_code(builders.active_card(session, good).short_code)
    manager = auth_services.load_actor(session, world.manager_a.id)
    revoked_code = codes.format_code(households_services.revoke_card(
        session, actor=manager, household_id=revoked.id).short_code)
    session.commit()

    context = browser.new_context(viewport=PHONE, device_scale_factor=1, is_mobile=True,
                                  has_touch=True)
    page = context.new_page()
    feedback = page.get_by_test_id("feedback")
    title = page.get_by_test_id("feedback-title")
    warnings = page.get_by_test_id("feedback-warnings")

    def type_code(code: str) -> None:
        page.get_by_test_id("short-code-input").fill(code)
        page.get_by_test_id("short-code-submit").click()

    try:
        _open_scan_page(page, live_server, station.id)
        type_code(good_code)
        expect(page.get_by_test_id("feedback-address")).to_have_text("1栋1单元101室")
        expect(title).to_have_text("已记录")
        expect(warnings).to_have_text("过时投放")
        expect(feedback).to_have_attribute("data-state", "warn")

        type_code(good_code)  # the same household and category again, minutes later
        expect(page.get_by_test_id("repeat-panel")).to_be_visible()  # asked first
        expect(page.get_by_test_id("recent-item")).to_have_count(1)
        page.get_by_test_id("repeat-yes").click()  # recorded again, without points
        expect(page.get_by_test_id("recent-item")).to_have_count(2)
        expect(warnings).to_contain_text("同户同类几分钟内已投放")
        expect(page.get_by_test_id("feedback-detail")).to_contain_text("重复投放：不加分")

        type_code(revoked_code)
        expect(title).to_have_text("卡已作废")
        expect(feedback).to_have_attribute("data-state", "error")
        expect(page.get_by_test_id("failed-item")).to_have_count(1)

        type_code("2222-2222")
        expect(title).to_have_text("未知卡")
        expect(page.get_by_test_id("failed-item")).to_have_count(2)
        expect(page.get_by_test_id("failed-item").first).to_contain_text("未知卡")

        type_code("ABC")  # not a code at all: refused on the phone, nothing queued
        expect(page.get_by_test_id("code-error")).to_have_text(
            "请输入8位卡号，例如 ABCD-EFGH。")

        page.get_by_test_id("tally").click()
        expect(page.get_by_test_id("recent-item")).to_have_count(5)
        expect(page.get_by_test_id("feedback-address")).to_have_text("匿名计数")
        expect(page.get_by_test_id("pending-count")).to_have_text("0")

        drops = stored_drops(session)
        assert [(d.household_id, d.source, d.in_window) for d in drops] == [
            (good.id, "manual", False), (good.id, "manual", False), (None, "tally", False)]

        switch_language(page, "en")
        expect(page.locator("h1")).to_have_text("Scan drops")
        expect(page.get_by_test_id("category-kitchen")).to_have_text("Kitchen waste")
        # Refused drops stay listed on the phone across reloads, until cleared.
        expect(page.get_by_test_id("failed-item")).to_have_count(2)
        page.get_by_test_id("clear-failed").click()
        expect(page.get_by_test_id("failed-item")).to_have_count(0)
        type_code(revoked_code)
        expect(title).to_have_text("This card is revoked")
        assert len(stored_drops(session)) == 3
    finally:
        context.close()
