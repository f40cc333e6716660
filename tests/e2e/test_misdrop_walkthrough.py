"""The mis-drop loop end to end on 390 px phones (issue 17): the steward records an incorrect
drop with a reason and a photo on the scan page; the resident is told nothing while the scan
can still be undone, then sees the message with the photo and appeals; the station chief
sees the photo and the steward's reason and upholds it; the resident is told the decision.

WALK_SHOTS=<dir> saves a screenshot of each step (for a person to look at)."""
from __future__ import annotations

import os
from datetime import timedelta
from io import BytesIO
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlmodel import Session, select

from community import clock
from community.households import codes
from community.inbox.models import Notification
from community.points import services as points_services
from community.stations.appeals.models import DropAppeal
from tests import builders
from tests.e2e.helpers import PHONE, horizontal_overflow, log_in, stored_drops
from tests.residents.helpers import link

pytestmark = [pytest.mark.browser, pytest.mark.real_db]
SHOTS = os.environ.get("WALK_SHOTS")


def _jpeg(path: Path) -> Path:
    from PIL import Image

    buf = BytesIO()
    Image.new("RGB", (64, 48), (200, 60, 40)).save(buf, "JPEG")
    path.write_bytes(buf.getvalue())
    return path


def _phone(browser: Browser) -> tuple[BrowserContext, Page]:
    context = browser.new_context(viewport=PHONE, device_scale_factor=1, is_mobile=True,
                                  has_touch=True, timezone_id="Asia/Shanghai", locale="zh-CN")
    return context, context.new_page()


def _shot(page: Page, name: str) -> None:
    assert horizontal_overflow(page) == 0, name
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def test_steward_records_resident_appeals_chief_upholds(
        browser: Browser, live_server: str, session: Session, world: builders.World,
        tmp_path: Path) -> None:
    station = builders.station(session, world.a, "东门投放亭", ranges=((0, 24),))
    now = clock.now()
    builders.on_duty(session, world.steward_a, station, now - timedelta(hours=2),
                     now + timedelta(hours=2))
    builders.account(session, "station_chief", world.a, username="chiefa")
    home = world.households_a[0]
    session.commit()
    link(session, world.resident_a.id, builders.active_card(session, home))
    short = codes.format_code(builders.active_card(session, home).short_code)
    session.commit()

    # 1. The steward: 错误 with a reason and a photo.
    context, page = _phone(browser)
    try:
        log_in(page, live_server, "stewarda", builders.PASSWORD)
        page.goto(f"{live_server}/steward/scan")
        expect(page.locator("body[data-scan-ready='1']")).to_have_count(1)
        page.select_option("[data-testid=station-select]", str(station.id))
        page.get_by_test_id("category-kitchen").click()
        page.get_by_test_id("quality-incorrect").click()
        page.get_by_test_id("reason-kitchen_plastic_bag").click()
        page.get_by_test_id("verdict-photo").set_input_files(str(_jpeg(tmp_path / "bin.jpg")))
        page.get_by_test_id("short-code-input").fill(short)
        page.get_by_test_id("short-code-submit").click()
        expect(page.get_by_test_id("feedback-title")).to_have_text("已记录", timeout=10_000)
        expect(page.get_by_test_id("recent-item").first).to_contain_text("照片", timeout=10_000)
        _shot(page, "1-steward-recorded")
    finally:
        context.close()
    (drop,) = stored_drops(session)
    assert (drop.quality, drop.reason_code) == ("incorrect", "kitchen_plastic_bag")
    assert drop.photo
    session.commit()

    # 2. Within the undo window the resident is told nothing yet.
    context, page = _phone(browser)
    try:
        log_in(page, live_server, world.resident_a.phone or "", builders.PASSWORD)
        page.goto(f"{live_server}/me/inbox")
        expect(page.locator("[data-kind=drop_incorrect]")).to_have_count(0)
        _shot(page, "2-resident-inbox-within-window")
    finally:
        context.close()

    with clock.freeze(now + timedelta(minutes=6), tick=True):
        # 3. After it: the message with the reason, the how-to and the photo; the appeal.
        context, page = _phone(browser)
        try:
            log_in(page, live_server, world.resident_a.phone or "", builders.PASSWORD)
            page.goto(f"{live_server}/me/inbox")
            note = page.locator("[data-kind=drop_incorrect]").first
            expect(note.get_by_test_id("inbox-text")).to_contain_text("东门投放亭")
            expect(note.get_by_test_id("inbox-text")).to_contain_text("厨余混有塑料袋")
            expect(note.get_by_test_id("inbox-howto")).to_contain_text("破袋投放")
            photo = note.get_by_test_id("inbox-photo")
            expect(photo).to_be_visible()
            assert photo.evaluate("img => img.complete && img.naturalWidth") == 64
            _shot(page, "3-resident-inbox")
            note.get_by_test_id("inbox-appeal").click()
            page.fill("#note", "袋子是可降解的，已经破袋")
            page.get_by_test_id("appeal-submit").click()
            expect(page.get_by_test_id("appeal-status")).to_have_attribute("data-status",
                                                                            "open")
            _shot(page, "4-resident-appealed")
            page.goto(f"{live_server}/me/points")
            verdict = page.get_by_test_id("points-verdict").first
            expect(verdict.get_by_test_id("verdict-reason")).to_contain_text("厨余混有塑料袋")
            expect(verdict.get_by_test_id("verdict-photo")).to_be_visible()
            _shot(page, "5-resident-points")
        finally:
            context.close()

        # 4. The chief: the photo and the steward's reason; upholds with a reason.
        context, page = _phone(browser)
        try:
            log_in(page, live_server, "chiefa", builders.PASSWORD)
            page.goto(f"{live_server}/manage/appeals")
            row = page.get_by_test_id("appeal-row").first
            expect(row.get_by_test_id("appeal-reason")).to_have_text("厨余混有塑料袋")
            expect(row.get_by_test_id("appeal-photo")).to_be_visible()
            _shot(page, "6-chief-appeals")
            row.get_by_test_id("decide-reason").fill("照片里是普通塑料袋")
            row.get_by_test_id("decide-uphold").click()
            expect(page.get_by_test_id("appeals-empty")).to_be_visible()
            _shot(page, "7-chief-decided")
        finally:
            context.close()

        # 5. The resident reads the decision and its reason.
        context, page = _phone(browser)
        try:
            log_in(page, live_server, world.resident_a.phone or "", builders.PASSWORD)
            page.goto(f"{live_server}/me/inbox")
            upheld = page.locator("[data-kind=appeal_upheld]").first
            expect(upheld).to_contain_text("照片里是普通塑料袋")
            _shot(page, "8-resident-told")
        finally:
            context.close()

    drop_id = drop.id
    session.commit()  # a fresh read: what the phones stored meanwhile
    session.expire_all()
    appeals = session.exec(select(DropAppeal)).all()
    assert [(a.drop_id, a.status) for a in appeals] == [(drop_id, "upheld")]
    told = session.exec(select(Notification.kind).where(
        Notification.account_id == world.resident_a.id).order_by(Notification.id)).all()
    assert list(told) == ["drop_incorrect", "appeal_upheld"]
    assert points_services.verify(session) == []
    session.commit()
