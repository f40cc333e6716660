"""A resident on a phone: log in by phone number, see the household, card QR and short code."""
from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Locator, Page, expect
from sqlmodel import Session

from community.households import codes
from community.households.models import HouseholdMember
from community.inbox import services as notifications
from tests import builders
from tests.e2e.helpers import (
    PHONE,
    horizontal_overflow,
    log_in,
    qr_texts,
    switch_language,
    wait_until,
)

pytestmark = [pytest.mark.browser, pytest.mark.real_db]

TAP = 44  # the smallest tap target on a phone, in CSS pixels


def _short_targets(page: Page, locator: Locator) -> list[str]:
    """The visible elements of `locator` under 44 px tall; a checkbox counts its label (the
    row it sits in, or the label naming it) as its hit area."""
    return page.evaluate("""([els, tap]) => els.filter(el => el.offsetParent !== null).map(el => {
        const hit = el.type === 'checkbox' ? (el.closest('label') || el.labels[0] || el) : el;
        const h = Math.max(el.getBoundingClientRect().height, hit.getBoundingClientRect().height);
        return h < tap ? `${el.outerHTML.slice(0, 80)}: ${h}px` : null;
    }).filter(Boolean)""", [locator.element_handles(), TAP])



def test_resident_home_on_a_phone(browser: Browser, live_server: str, session: Session,
                                  world: builders.World) -> None:
    """Chinese by default: address, a QR that decodes to the token, short code; then English."""
    home = world.households_a[1]
    session.add(HouseholdMember(community_id=home.community_id, household_id=home.id,
                                account_id=world.resident_a.id,
                                status="approved"))
    card = builders.active_card(session, home)
    other_card = builders.active_card(session, world.households_b[1])
    notifications.notify(session, account_id=world.resident_a.id, kind="reward_ready",
                         params={"item": "鸡蛋 10个", "code": "AB12CD"}, link="/me/points")
    session.commit()  # also ends the read transaction, so the server is not locked out

    context = browser.new_context(viewport=PHONE, device_scale_factor=1, is_mobile=True,
                                  has_touch=True)
    page = context.new_page()
    try:
        log_in(page, live_server, "138 0000 0001", builders.PASSWORD)
        assert page.url.endswith("/me/")

        expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
        expect(page.get_by_role("heading", level=1)).to_have_text("我的首页")
        expect(page.get_by_test_id("household-address")).to_have_text("1栋1单元102室")
        expect(page.get_by_test_id("household-community")).to_have_text("玉龙社区")
        expect(page.get_by_test_id("short-code")).to_have_text(codes.format_code(card.short_code))
        expect(page.get_by_text("投放时请向督导员出示此码。")).to_be_visible()
        assert other_card.short_code not in page.content()

        qr = page.get_by_test_id("card-qr")
        expect(qr).to_be_visible()
        wait_until(page, "el => el.complete && el.naturalWidth > 0", qr.element_handle())
        assert qr_texts(page.screenshot(full_page=True)) == [card.token]

        assert horizontal_overflow(page) == 0

        # Tap targets (QA): the bar folds into one 44 px ☰ button, and every link and tool in
        # the menu, the inbox's buttons and the account page's checkbox rows are 44 px tall.
        toggle = page.get_by_test_id("nav-toggle")
        assert (toggle.bounding_box() or {}).get("height", 0) >= TAP
        toggle.click()
        bar = page.locator(".topbar a, .topbar button, .topbar summary")
        assert bar.count() >= 6
        assert _short_targets(page, bar) == []
        page.get_by_test_id("nav-inbox").click()
        for testid in ("inbox-open", "inbox-mark-read", "inbox-read-all"):
            expect(page.get_by_test_id(testid)).to_be_visible()
        assert _short_targets(page, page.locator("main a.btn, main button")) == []
        page.goto(f"{live_server}/me/account")
        boxes = page.locator("main input[type=checkbox]")
        assert boxes.count() >= 1
        assert _short_targets(page, boxes) == []
        assert _short_targets(page, page.locator("main .btn")) == []
        page.goto(f"{live_server}/me/")

        switch_language(page, "en")
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(page.get_by_role("heading", level=1)).to_have_text("My home")
        expect(page.get_by_text("Show this code to the steward at the drop station.")
               ).to_be_visible()
        expect(page.get_by_test_id("household-address")).to_have_text("1栋1单元102室")
        assert "我的首页" not in page.content()
        assert horizontal_overflow(page) == 0

        # The choice sticks across pages, and back to Chinese works too.
        page.reload()
        expect(page.get_by_role("heading", level=1)).to_have_text("My home")
        switch_language(page, "zh")
        expect(page.get_by_role("heading", level=1)).to_have_text("我的首页")

        # The points history, linked from the home page, fits the phone too.
        page.get_by_test_id("points-link").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("我的积分")
        expect(page.get_by_test_id("points-balance")).to_have_text("0")
        expect(page.get_by_test_id("points-empty")).to_be_visible()
        assert horizontal_overflow(page) == 0
    finally:
        context.close()
