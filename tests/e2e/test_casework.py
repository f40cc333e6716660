"""The manager's casework board and the blind audit, at 1280 px and at 390 px: no page wider
than its viewport, the reasons chart drawn, the steward's verdict hidden until graded."""
from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from flask import Flask
from PIL import Image
from playwright.sync_api import Browser, expect
from sqlmodel import Session

from community.auth import services as auth_services
from community.casework import services
from community.stations.models import Drop
from community.volunteers.models import Steward
from tests import builders
from tests.casework.test_services import DAY0, NOW, _scan
from tests.e2e.helpers import PHONE, horizontal_overflow, log_in, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.real_db]

DESKTOP = {"width": 1280, "height": 900}


def test_casework_board_and_blind_audit(browser: Browser, live_server: str, app: Flask,
                                        session: Session, world: builders.World) -> None:
    st = builders.station(session, world.a)
    chief = builders.account(session, "station_chief", world.a)
    session.add(Steward(community_id=world.a.id, account_id=chief.id, status="approved"))
    session.flush()
    actor = auth_services.load_actor(session, chief.id)
    card = builders.active_card(session, world.households_a[0]).token
    folder = Path(app.config.get("UPLOAD_DIR") or app.instance_path) / "photos" / "e2e"
    folder.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (320, 240), (70, 130, 60)).save(folder / "bag.jpg", "JPEG")
    for d in range(3):
        out = _scan(session, st, actor, card, DAY0 + timedelta(days=d), "incorrect", d,
                    reason="kitchen_plastic_bag")
        drop = session.get(Drop, out.id)
        drop.photo, drop.note = "e2e/bag.jpg", "袋子没破"
        session.add(drop)
    services.evaluate_all(session, now=NOW)
    services.draw_week(session, world.a.id, date(2026, 11, 2), now=NOW)
    session.commit()

    for viewport in (DESKTOP, PHONE):
        context = browser.new_context(viewport=viewport)
        page = context.new_page()
        try:
            log_in(page, live_server, "managera", builders.PASSWORD)
            page.goto(f"{live_server}/casework?community_id={world.a.id}")
            expect(page.get_by_test_id("casework-title")).to_contain_text("教育纠正")
            expect(page.get_by_test_id("case-row")).to_have_count(1)
            wait_until(page, "!!document.querySelector('[data-chart-ready]')")
            assert horizontal_overflow(page) == 0, viewport
            if viewport == PHONE:  # the case table is a card list: nothing scrolls sideways
                hidden = page.evaluate(
                    "[...document.querySelectorAll('.cw-cards')].map("
                    "t => t.closest('.table-wrap')).map(w => w.scrollWidth - w.clientWidth)")
                assert len(hidden) == 2
                assert max(hidden) == 0, hidden
                steward = page.get_by_test_id("case-row").locator("td[data-label]").nth(3)
                box = steward.bounding_box()  # the cell after the task, within the width
                assert box is not None
                assert box["x"] + box["width"] <= PHONE["width"], box

            page.goto(f"{live_server}/casework/audits?community_id={world.a.id}")
            expect(page.get_by_test_id("audit-photo")).to_be_visible()
            assert page.get_by_test_id("audit-original").count() == 0
            assert "袋子没破" not in page.content()
            box = page.get_by_test_id("grade-incorrect").bounding_box()
            assert box is not None
            assert box["height"] >= 44
            assert horizontal_overflow(page) == 0, viewport
            with page.expect_navigation():
                page.get_by_test_id("grade-incorrect").click()
            expect(page.get_by_test_id("audit-original")).to_contain_text("错误")
            expect(page.get_by_test_id("audit-revealed")).to_contain_text("袋子没破")
        finally:
            context.close()
