"""Rewards on phones: a resident redeems a reward and gets a pickup QR; a steward scans that
QR with the (fake) camera and hands the reward over; the resident then sees it picked up.

Both phones are 390 px wide: no page scrolls sideways, and no page logs a console error.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import BrowserType, ConsoleMessage, Page, expect
from sqlmodel import Session, select

from community.auth import services as auth_services
from community.households.models import HouseholdMember
from community.points import services as points_services
from community.points.models import Redemption
from community.points.rewards import services as rewards
from community.points.rewards.schemas import RewardIn
from community.points.schemas import AdjustIn
from tests import builders
from tests.e2e.fakecam import card_video
from tests.e2e.helpers import PHONE, follow_nav, horizontal_overflow, log_in, qr_texts, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.real_db]

EGGS = "鸡蛋 10个"
TAP = 44  # the smallest tap target on a phone, in CSS pixels
# The visible links of the page's main part under 44 px tall (an image link counts its box).
SHORT_LINKS = """(tap) => Array.from(document.querySelectorAll('main a'))
    .filter(a => a.offsetParent !== null)
    .map(a => [a.outerHTML.slice(0, 90), a.getBoundingClientRect().height])
    .filter(([, h]) => h < tap)"""


def _redemptions(session: Session) -> list[Redemption]:
    """Every redemption, freshly read (ends the read transaction: the server is not blocked)."""
    rows = list(session.exec(select(Redemption).order_by(Redemption.id)
                             .execution_options(populate_existing=True)))
    session.commit()
    return rows


def _watch_console(page: Page, errors: list[str]) -> None:
    """Collect console errors and uncaught exceptions of a page."""

    def on_console(msg: ConsoleMessage) -> None:
        # Chromium asks for /favicon.ico on its own; the app has none, and that is not a bug
        # of the page.
        if msg.type == "error" and not msg.location.get("url", "").endswith("/favicon.ico"):
            errors.append(f"{page.url}: {msg.text} {msg.location}")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.append(f"{page.url}: {exc}"))


def test_redeem_on_a_phone_then_steward_scans_and_hands_over(
        app: Flask, browser_type: BrowserType, browser_type_launch_args: dict,
        live_server: str, session: Session, world: builders.World, tmp_path: Path) -> None:
    home = world.households_a[0]
    session.add(HouseholdMember(community_id=home.community_id, household_id=home.id,
                                account_id=world.resident_a.id,
                                status="approved"))
    session.flush()
    manager = auth_services.load_actor(session, world.manager_a.id)
    with app.app_context():
        # 50 points in 31 entries: the points history has an older page (its link measured).
        for n in range(30):
            points_services.adjust(session, actor=manager, household_id=home.id,
                                   data=AdjustIn.parse(amount=1, reason=f"签到 {n + 1}"))
        points_services.adjust(session, actor=manager, household_id=home.id,
                               data=AdjustIn.parse(amount=20, reason="活动奖励"))
        eggs = rewards.save_item(session, actor=manager, community_id=world.a.id,
                                 data=RewardIn.parse(name=EGGS, cost=20, stock=3))
    session.commit()

    errors: list[str] = []
    browser = browser_type.launch(**browser_type_launch_args)
    try:
        # --- The resident redeems on a phone -------------------------------------------
        context = browser.new_context(viewport=PHONE, device_scale_factor=1, is_mobile=True,
                                      has_touch=True)
        page = context.new_page()
        _watch_console(page, errors)
        log_in(page, live_server, "138 0000 0001", builders.PASSWORD)
        page.get_by_test_id("rewards-link").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("积分兑换")
        expect(page.get_by_test_id("points-balance")).to_have_text("50")
        expect(page.get_by_test_id("reward-name")).to_have_text(EGGS)
        assert horizontal_overflow(page) == 0
        button = page.get_by_test_id("redeem-button")
        expect(button).to_have_text("兑换（20 积分）")
        button.click()
        # The confirm step shows the balance after the redemption before anything is spent.
        expect(page.get_by_test_id("confirm-after")).to_have_text("30")
        assert horizontal_overflow(page) == 0
        page.get_by_test_id("confirm-redeem-button").click()

        expect(page.get_by_test_id("redemption-status")).to_have_text("待领取")
        reds = _redemptions(session)
        assert len(reds) == 1
        assert reds[0].reward_id == eggs.id
        code = reds[0].pickup_code
        expect(page.get_by_test_id("pickup-code")).to_have_text(f"{code[:5]}-{code[5:]}")
        qr = page.get_by_test_id("pickup-qr")
        expect(qr).to_be_visible()
        wait_until(page, "el => el.complete && el.naturalWidth > 0", qr.element_handle())
        assert qr_texts(page.screenshot(full_page=True)) == [code]
        assert horizontal_overflow(page) == 0
        redemption_url = page.url

        # --- The steward scans the resident's QR and hands the eggs over ----------------
        video = card_video(tmp_path / "pickup.y4m", code)
        args = [*browser_type_launch_args.get("args", []), "--use-fake-ui-for-media-stream",
                "--use-fake-device-for-media-stream",
                f"--use-file-for-fake-video-capture={video}"]
        camera_browser = browser_type.launch(**{**browser_type_launch_args, "args": args})
        try:
            steward_context = camera_browser.new_context(
                viewport=PHONE, device_scale_factor=1, is_mobile=True, has_touch=True)
            steward_context.grant_permissions(["camera"], origin=live_server)
            desk = steward_context.new_page()
            _watch_console(desk, errors)
            log_in(desk, live_server, "stewarda", builders.PASSWORD)
            follow_nav(desk, "nav-pickup")  # the steward lands on the scan page (☰ menu)
            expect(desk.get_by_role("heading", level=1)).to_have_text("奖品领取")
            expect(desk.locator("body[data-pickup-ready='1']")).to_have_count(1)
            assert horizontal_overflow(desk) == 0

            desk.get_by_test_id("camera-toggle").click()
            # The decoded code is looked up at once: item, address and status show.
            expect(desk.get_by_test_id("pickup-item")).to_have_text(EGGS, timeout=20_000)
            expect(desk.get_by_test_id("pickup-address")).to_have_text("1栋1单元101室")
            expect(desk.get_by_test_id("pickup-status")).to_have_text("待领取")
            assert horizontal_overflow(desk) == 0
            desk.get_by_test_id("hand-over").click()
            expect(desk.get_by_test_id("pickup-status")).to_have_text("已领取")
            expect(desk.get_by_text(f"已交付：{EGGS}，交给 1栋1单元101室。")).to_be_visible()
            expect(desk.get_by_test_id("hand-over")).to_have_count(0)
            assert horizontal_overflow(desk) == 0
            red = _redemptions(session)[0]
            assert (red.status, red.handed_over_by) == ("handed_over", world.steward_a.id)
            steward_context.close()
        finally:
            camera_browser.close()

        # --- The resident sees the reward picked up --------------------------------------
        page.goto(redemption_url)
        expect(page.get_by_test_id("redemption-status")).to_have_text("已领取")
        expect(page.get_by_test_id("pickup-qr")).to_have_count(0)
        page.get_by_test_id("my-redemptions").click()
        expect(page.get_by_test_id("redemption-status")).to_have_text("已领取")
        assert horizontal_overflow(page) == 0

        # Tap targets (QA at 390 px: 我的兑换 157 × 20, each redemption's link ~100 × 20,
        # 更早的记录 80 × 20): every link of the resident's points and rewards pages is a
        # 44 px hit area (.tap-link), as the home page's are.
        for path, least in (("/me/rewards/redemptions", 3), ("/me/rewards", 4),
                            ("/me/points", 4), ("/me/", 7)):
            page.goto(live_server + path)
            if path == "/me/points":  # 31 entries: the history has an older page
                expect(page.get_by_test_id("points-older")).to_be_visible()
            assert page.locator("main a").count() >= least, path
            assert page.evaluate(SHORT_LINKS, TAP) == [], path
            assert horizontal_overflow(page) == 0, path
        assert points_services.balance(session, home.id) == 30
        session.commit()
        context.close()
    finally:
        browser.close()
    assert errors == []
