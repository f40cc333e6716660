"""On a 390 px phone a resident sees the message about an incorrect drop, with its reason,
how-to and photo, and appeals it; the station chief sees the photo and the steward's reason
and upholds it with a reason the resident is told (issue 17)."""
from __future__ import annotations

from datetime import timedelta
from io import BytesIO
from pathlib import Path

import pytest
from flask import Flask
from PIL import Image
from playwright.sync_api import Browser, expect
from sqlmodel import Session, select

from community import clock
from community.auth import services as auth_services
from community.inbox.models import Notification
from community.stations import photos
from community.stations import services as stations_services
from community.stations.appeals.models import DropAppeal
from community.stations.schemas import DropIn
from tests import builders
from tests.e2e.helpers import PHONE, horizontal_overflow, log_in
from tests.residents.helpers import link

pytestmark = [pytest.mark.browser, pytest.mark.real_db]


def _jpeg() -> bytes:
    buf = BytesIO()
    Image.new("RGB", (64, 48), (200, 60, 40)).save(buf, "JPEG")
    return buf.getvalue()


def test_resident_appeals_and_chief_upholds(app: Flask, browser: Browser, live_server: str,
                                            session: Session, world: builders.World) -> None:
    station = builders.station(session, world.a, "东门投放亭", ranges=((0, 24),))
    now = clock.now()
    builders.on_duty(session, world.steward_a, station, now - timedelta(hours=2),
                     now + timedelta(hours=2))
    chief = builders.account(session, "station_chief", world.a, username="chiefa")
    home = world.households_a[0]
    session.commit()
    link(session, world.resident_a.id, builders.active_card(session, home))
    steward = auth_services.load_actor(session, world.steward_a.id)
    # Scanned 6 minutes ago: the steward's undo window has shut, so the message is shown
    # (tests/e2e/test_misdrop_walkthrough.py follows one through the window).
    item = DropIn.model_validate({
        "client_id": "appeal-e2e-1", "station_id": station.id, "category": "kitchen",
        "quality": "incorrect", "reason_code": "kitchen_plastic_bag",
        "happened_at": now - timedelta(minutes=6),
        "card": builders.active_card(session, home).token}, strict=False)
    drop = stations_services.record_drop(session, actor=steward, item=item, now=now)
    with app.app_context():
        photos.attach_photo(session, actor=steward, client_id="appeal-e2e-1", data=_jpeg(),
                            photo_dir=Path(app.config["UPLOAD_DIR"]) / "photos")
    session.commit()

    context = browser.new_context(viewport=PHONE, device_scale_factor=1, is_mobile=True,
                                  has_touch=True)
    page = context.new_page()
    try:
        log_in(page, live_server, world.resident_a.phone or "", builders.PASSWORD)
        page.goto(f"{live_server}/me/inbox")
        item_ = page.get_by_test_id("inbox-item").first
        expect(item_).to_have_attribute("data-kind", "drop_incorrect")
        expect(item_.get_by_test_id("inbox-text")).to_contain_text("东门投放亭")
        expect(item_.get_by_test_id("inbox-text")).to_contain_text("厨余混有塑料袋")
        expect(item_.get_by_test_id("inbox-howto")).to_contain_text("破袋投放")
        photo = item_.get_by_test_id("inbox-photo")
        expect(photo).to_be_visible()
        assert photo.evaluate("img => img.complete && img.naturalWidth") == 64  # it loaded
        assert horizontal_overflow(page) == 0

        item_.get_by_test_id("inbox-appeal").click()
        expect(page.get_by_test_id("verdict-reason")).to_have_text("厨余混有塑料袋")
        page.get_by_test_id("appeal-submit").click()  # no note yet: refused, nothing stored
        expect(page.locator(".has-error")).to_have_count(1)
        page.fill("#note", "袋子是可降解的，已经破袋")
        page.get_by_test_id("appeal-submit").click()
        expect(page.get_by_test_id("appeal-status")).to_have_attribute("data-status", "open")
        assert horizontal_overflow(page) == 0
        # Its lone links (my points, inbox) are 44 px hit areas (.tap-link), the photo's too.
        assert page.evaluate("""() => Array.from(document.querySelectorAll('main a'))
            .map(a => a.getBoundingClientRect().height).filter(h => h < 44)""") == []
        # The points history shows the same verdict, its photo and the appeal's state.
        page.goto(f"{live_server}/me/points")
        verdict = page.get_by_test_id("points-verdict").first
        expect(verdict.get_by_test_id("verdict-reason")).to_contain_text("厨余混有塑料袋")
        expect(verdict.get_by_test_id("verdict-photo")).to_be_visible()
        expect(verdict.get_by_test_id("verdict-appeal")).to_have_attribute("data-status", "open")
        assert horizontal_overflow(page) == 0
        context.clear_cookies()  # log out
        log_in(page, live_server, "chiefa", builders.PASSWORD)
        page.goto(f"{live_server}/manage/appeals")
        row = page.get_by_test_id("appeal-row").first
        expect(row.get_by_test_id("appeal-reason")).to_have_text("厨余混有塑料袋")
        expect(row.get_by_test_id("appeal-note")).to_have_text("袋子是可降解的，已经破袋")
        expect(row.get_by_test_id("appeal-photo")).to_be_visible()
        assert horizontal_overflow(page) == 0  # a chief decides on the phone too
        row.get_by_test_id("decide-uphold").click()  # no reason: refused on the page
        expect(page.get_by_test_id("decide-error")).to_be_visible()
        page.get_by_test_id("appeal-row").first.get_by_test_id("decide-reason").fill(
            "照片里是普通塑料袋")
        page.get_by_test_id("appeal-row").first.get_by_test_id("decide-uphold").click()
        expect(page.get_by_test_id("appeals-empty")).to_be_visible()
        assert horizontal_overflow(page) == 0
    finally:
        context.close()

    session.expire_all()
    appeal = session.exec(select(DropAppeal).where(DropAppeal.drop_id == drop.id)).one()
    assert (appeal.status, appeal.decided_by, appeal.decision_reason) == (
        "upheld", chief.id, "照片里是普通塑料袋")
    told = session.exec(select(Notification.kind).where(
        Notification.account_id == world.resident_a.id).order_by(Notification.id)).all()
    assert list(told) == ["drop_incorrect", "appeal_upheld"]
    session.commit()
