"""A new resident on a 390 px phone signs up with a phone number and an SMS code.

The development SMS provider with its page on (as in the demo): the code is read from
/auth/dev-sms, as a demo visitor would.
"""
from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect
from sqlmodel import Session, select

from community.auth.models import Account
from tests import builders
from tests.e2e.helpers import PHONE, horizontal_overflow

pytestmark = [pytest.mark.browser, pytest.mark.real_db]



@pytest.fixture
def app_config() -> dict:
    """CSRF on (as in production) and the demo's development page of codes."""
    return {"WTF_CSRF_ENABLED": True, "SMS_DEV_PAGE": True}


def test_new_resident_signs_up_by_phone(browser: Browser, live_server: str, session: Session,
                                        world: builders.World) -> None:
    session.commit()  # end the read transaction, so the server is not locked out
    context = browser.new_context(viewport=PHONE, device_scale_factor=1, is_mobile=True,
                                  has_touch=True)
    page = context.new_page()
    try:
        page.goto(f"{live_server}/login")
        page.get_by_test_id("login-phone").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("用手机号登录/注册")
        phone_box = page.get_by_label("手机号")
        assert phone_box.get_attribute("type") == "tel"
        assert horizontal_overflow(page) == 0
        phone_box.fill("139 0000 0099")
        page.get_by_test_id("phone-submit").click()
        expect(page.get_by_test_id("code-sent-to")).to_contain_text("139****0099")
        assert page.get_by_label("验证码").get_attribute("autocomplete") == "one-time-code"
        assert horizontal_overflow(page) == 0

        dev = context.new_page()
        dev.goto(f"{live_server}/auth/dev-sms")
        code = dev.get_by_test_id("dev-sms").locator("strong").first.inner_text()
        dev.close()

        page.get_by_label("验证码").fill(code)
        page.get_by_label("您的称呼（仅新账户需要，可不填）").fill("王阿姨")
        page.get_by_test_id("code-submit").click()
        page.wait_for_url(f"{live_server}/me/")
        expect(page.get_by_role("heading", level=1)).to_have_text("我的首页")
        assert horizontal_overflow(page) == 0
    finally:
        context.close()
    account = session.exec(select(Account).where(Account.phone == "13900000099")).one()
    assert account.display_name == "王阿姨"
