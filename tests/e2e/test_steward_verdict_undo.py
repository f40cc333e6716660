"""A steward on a 390 px phone records an incorrect drop with a reason and a photo, then
undoes their last scan: the drop is kept but void and its points are gone (issue 17)."""
from __future__ import annotations

from datetime import timedelta
from io import BytesIO
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Browser, expect
from sqlmodel import Session

from community import clock
from community.households import codes
from community.points import services as points_services
from tests import builders
from tests.e2e.helpers import PHONE, horizontal_overflow, log_in, stored_drops

pytestmark = [pytest.mark.browser, pytest.mark.real_db]


def _jpeg(path: Path) -> Path:
    buf = BytesIO()
    Image.new("RGB", (64, 48), (200, 60, 40)).save(buf, "JPEG")
    path.write_bytes(buf.getvalue())
    return path


def test_incorrect_with_reason_and_photo_then_undo(browser: Browser, live_server: str,
                                                   session: Session, world: builders.World,
                                                   tmp_path: Path) -> None:
    # Open all day, so the correct drop earns whatever the suite's clock says.
    station = builders.station(session, world.a, "东门投放亭", ranges=((0, 24),))
    now = clock.now()
    builders.on_duty(session, world.steward_a, station, now - timedelta(hours=2),
                     now + timedelta(hours=2))
    wrong_home, right_home = world.households_a[0], world.households_a[1]
    wrong = codes.format_code(builders.active_card(session, wrong_home).short_code)
    right = codes.format_code(builders.active_card(session, right_home).short_code)
    session.commit()

    context = browser.new_context(viewport=PHONE, device_scale_factor=1, is_mobile=True,
                                  has_touch=True)
    page = context.new_page()
    try:
        log_in(page, live_server, "stewarda", builders.PASSWORD)
        page.goto(f"{live_server}/steward/scan")
        expect(page.locator("body[data-scan-ready='1']")).to_have_count(1)
        page.select_option("[data-testid=station-select]", str(station.id))
        page.get_by_test_id("category-kitchen").click()
        # The community's default (正确) is selected; the reason list is closed.
        expect(page.get_by_test_id("quality-correct")).to_have_attribute("aria-pressed", "true")
        expect(page.get_by_test_id("reason-panel")).to_be_hidden()

        # 错误 is a deliberate tap: it asks for a reason, offers a note and a photo.
        page.get_by_test_id("quality-incorrect").click()
        expect(page.get_by_test_id("reason-panel")).to_be_visible()
        page.get_by_test_id("short-code-input").fill(wrong)
        page.get_by_test_id("short-code-submit").click()
        expect(page.get_by_test_id("feedback-title")).to_have_text("请先选择错误原因。")
        page.get_by_test_id("reason-kitchen_plastic_bag").click()
        page.get_by_test_id("verdict-photo").set_input_files(str(_jpeg(tmp_path / "bin.jpg")))
        expect(page.get_by_test_id("verdict-photo-name")).not_to_be_empty()
        page.get_by_test_id("short-code-submit").click()
        expect(page.get_by_test_id("feedback-title")).to_have_text("已记录", timeout=10_000)
        expect(page.get_by_test_id("feedback-detail")).to_contain_text("错误")
        # The next household starts from the default again; the scanner and the code box
        # stay above the fold of the phone.
        expect(page.get_by_test_id("quality-correct")).to_have_attribute("aria-pressed", "true")
        expect(page.get_by_test_id("reason-panel")).to_be_hidden()
        for testid in ("camera-toggle", "short-code-input"):
            box = page.get_by_test_id(testid).bounding_box()
            assert box is not None, testid
            assert box["y"] + box["height"] <= PHONE["height"], testid
        expect(page.get_by_test_id("recent-item").first).to_contain_text("照片", timeout=10_000)
        assert horizontal_overflow(page) == 0

        # A correct drop of another household earns points; undo takes them back.
        page.get_by_test_id("short-code-input").fill(right)
        page.get_by_test_id("short-code-submit").click()
        expect(page.get_by_test_id("feedback-address")).to_have_text("1栋1单元102室",
                                                                     timeout=10_000)
        expect(page.get_by_test_id("feedback-title")).to_have_text("已记录")
        assert points_services.balance(session, right_home.id) > 0
        session.commit()
        page.get_by_test_id("undo-last").click()
        expect(page.get_by_test_id("feedback-title")).to_contain_text("已撤销", timeout=10_000)
        expect(page.get_by_test_id("recent-item").first).to_have_class("is-undone")

        drops = stored_drops(session)
        bad, good = drops
        assert (bad.quality, bad.reason_code, bad.voided_at) == (
            "incorrect", "kitchen_plastic_bag", None)
        assert bad.photo
        assert bad.photo.startswith(f"{world.a.id}/")
        assert good.voided_at is not None
        assert good.voided_by == world.steward_a.id
        session.expire_all()
        assert points_services.balance(session, right_home.id) == 0
        assert points_services.verify(session) == []
        session.commit()
    finally:
        context.close()
