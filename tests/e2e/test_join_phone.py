"""On 390 px phones: the head invites a family member, who signs up with their phone number
and an SMS code (the development provider's page, as in the demo), joins and sees the
household's balance; the head then removes them (after confirming) and their page loses the
household."""
from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect
from sqlmodel import Session

from community.auth import services as auth_services
from community.households.models import HouseholdMember
from community.points import services as points_services
from community.points.schemas import AdjustIn
from tests import builders
from tests.e2e.helpers import PHONE, horizontal_overflow, log_in

pytestmark = [pytest.mark.browser, pytest.mark.real_db]



@pytest.fixture
def app_config() -> dict:
    """The demo's development page of SMS codes (the spouse reads the code there)."""
    return {"SMS_DEV_PAGE": True}


def _sign_up_by_sms(page, live_server: str, phone: str) -> None:
    """A new resident: phone number, then the code the development provider sent."""
    page.goto(f"{live_server}/login/phone")
    page.get_by_label("手机号").fill(phone)
    page.get_by_test_id("phone-submit").click()
    expect(page.get_by_test_id("code-sent-to")).to_be_visible()
    dev = page.context.new_page()
    dev.goto(f"{live_server}/auth/dev-sms")
    code = dev.get_by_test_id("dev-sms").locator("strong").first.inner_text()
    dev.close()
    page.get_by_label("验证码").fill(code)
    page.get_by_test_id("code-submit").click()
    page.wait_for_url(f"{live_server}/me/")


def test_a_family_member_joins_by_invitation_and_is_removed(
        browser: Browser, live_server: str, session: Session, world: builders.World) -> None:
    hh = world.households_a[0]
    builders.active_card(session, hh)
    session.add(HouseholdMember(community_id=hh.community_id, household_id=hh.id,
                                account_id=world.resident_a.id,
                                status="approved", role="head", joined_via="approval"))
    manager = auth_services.load_actor(session, world.manager_a.id)
    points_services.adjust(session, actor=manager, household_id=hh.id,
                           data=AdjustIn.parse(amount=178, reason="测试"))
    session.commit()  # also ends the read transaction, so the server is not locked out

    def phone():
        return browser.new_context(viewport=PHONE, device_scale_factor=1, is_mobile=True,
                                   has_touch=True)

    head_ctx, spouse_ctx = phone(), phone()
    head, other = head_ctx.new_page(), spouse_ctx.new_page()
    try:
        log_in(head, live_server, "138 0000 0001", builders.PASSWORD)
        head.get_by_test_id("members-link").click()
        expect(head.get_by_role("heading", level=1)).to_have_text("家庭成员")
        assert horizontal_overflow(head) == 0
        head.get_by_test_id("invite-button").click()
        expect(head.get_by_role("heading", level=1)).to_have_text("邀请家人")
        expect(head.get_by_test_id("invite-qr").locator("svg")).to_be_visible()
        link = head.get_by_test_id("invite-link").inner_text().strip()
        assert "/me/join/i/" in link
        assert horizontal_overflow(head) == 0

        _sign_up_by_sms(other, live_server, "139 0000 0077")
        expect(other.get_by_test_id("no-household")).to_be_visible()
        other.get_by_test_id("link-button").click()
        expect(other.get_by_role("heading", level=1)).to_have_text("加入我家")
        assert horizontal_overflow(other) == 0
        other.goto(link)
        expect(other.get_by_test_id("invitation")).to_contain_text("1栋1单元101室")
        assert horizontal_overflow(other) == 0
        other.get_by_test_id("invitation-accept").click()
        other.wait_for_url(f"{live_server}/me/")
        expect(other.get_by_test_id("points-balance")).to_have_text("178")
        assert horizontal_overflow(other) == 0

        head.goto(f"{live_server}/me/household/{hh.id}")
        expect(head.get_by_test_id("members").locator("li")).to_have_count(2)
        expect(head.get_by_test_id("members")).to_contain_text("139****0077")
        assert horizontal_overflow(head) == 0
        head.once("dialog", lambda dialog: dialog.accept())
        head.locator("[data-testid^=remove-]").click()
        expect(head.get_by_test_id("members").locator("li")).to_have_count(1)

        other.reload()
        assert "1栋1单元101室" not in other.content()
        assert other.get_by_test_id("points-balance").count() == 0
    finally:
        head_ctx.close()
        spouse_ctx.close()
