"""On a 390 px phone a resident reports an overflowing bin with a photo (the camera input),
the station chief handles it with an after-photo (picked with the page's own localised
button), and the resident confirms the fix (issue 18, reports)."""
from __future__ import annotations

from io import BytesIO

import pytest
from flask import Flask
from PIL import Image
from playwright.sync_api import Browser, expect
from sqlmodel import Session, select

from community.reports.models import Report
from tests import builders
from tests.e2e.helpers import PHONE, follow_nav, horizontal_overflow, log_in

pytestmark = [pytest.mark.browser, pytest.mark.real_db]


def _jpeg(colour: tuple[int, int, int], size: tuple[int, int] = (64, 48)) -> bytes:
    buf = BytesIO()
    Image.new("RGB", size, colour).save(buf, "JPEG")
    return buf.getvalue()


def test_resident_reports_chief_handles_resident_confirms(
        app: Flask, browser: Browser, live_server: str, session: Session,
        world: builders.World) -> None:
    station = builders.station(session, world.a, "东门投放亭")
    chief = builders.account(session, "station_chief", world.a, username="chiefr")
    station.chief_id = chief.id
    session.add(station)
    session.commit()

    context = browser.new_context(viewport=PHONE, device_scale_factor=1, is_mobile=True,
                                  has_touch=True)
    page = context.new_page()
    try:
        log_in(page, live_server, world.resident_a.phone or "", builders.PASSWORD)
        follow_nav(page, "nav-report")
        photo = page.get_by_test_id("report-photo")
        expect(photo).to_have_attribute("capture", "environment")
        page.select_option("#station_id", label="东门投放亭")
        page.select_option("#kind", value="overflow")
        page.fill("#note", "厨余桶满了")
        photo.set_input_files({"name": "bin.jpg", "mimeType": "image/jpeg",
                               "buffer": _jpeg((200, 60, 40), (1200, 900))})
        assert horizontal_overflow(page) == 0
        page.get_by_test_id("report-submit").click()
        expect(page.get_by_test_id("report-status")).to_have_attribute("data-status",
                                                                        "assigned")
        expect(page.get_by_test_id("report-photo")).to_be_visible()
        assert horizontal_overflow(page) == 0
        # A thumbnail (a 1200x900 photo), opening the full size.
        box = page.get_by_test_id("report-photo").bounding_box()
        assert box is not None
        assert box["width"] <= 240
        assert box["height"] <= 240
        report_url = page.url
        page.context.clear_cookies()

        log_in(page, live_server, "chiefr", builders.PASSWORD)
        page.goto(f"{live_server}/me/inbox")
        item = page.get_by_test_id("inbox-item").first
        expect(item).to_contain_text("东门投放亭")
        expect(item).to_contain_text("垃圾桶满溢")
        page.goto(report_url)
        page.get_by_test_id("start-submit").click()
        expect(page.get_by_test_id("report-status")).to_have_attribute("data-status",
                                                                        "in_progress")
        page.get_by_test_id("handle-submit").click()  # no note, no photo: refused
        expect(page.locator(".has-error").first).to_be_visible()
        page.fill("#note", "已清运，加了一个桶")
        # The after-photo is picked with a button in the page's language (not the browser's
        # "Choose File / No file chosen"), which names the chosen photo beside it.
        button = page.get_by_test_id("handle-photo-button")
        expect(button).to_have_text("选择照片")
        expect(page.get_by_test_id("handle-photo-name")).to_have_text("未选择照片")
        with page.expect_file_chooser() as chooser:
            button.click()
        assert not chooser.value.is_multiple()
        chooser.value.set_files(
            {"name": "after.jpg", "mimeType": "image/jpeg", "buffer": _jpeg((40, 160, 60))})
        expect(page.get_by_test_id("handle-photo-name")).to_have_text("after.jpg")
        expect(page.get_by_test_id("handle-photo")).to_have_attribute("capture", "environment")
        assert page.get_by_test_id("handle-photo").evaluate("(i) => i.files.length") == 1
        assert horizontal_overflow(page) == 0
        page.get_by_test_id("handle-submit").click()
        expect(page.get_by_test_id("report-status")).to_have_attribute("data-status",
                                                                        "handled")
        expect(page.get_by_test_id("report-after-photo")).to_be_visible()
        assert horizontal_overflow(page) == 0
        page.context.clear_cookies()

        log_in(page, live_server, world.resident_a.phone or "", builders.PASSWORD)
        follow_nav(page, "nav-my-reports")
        expect(page.get_by_test_id("report-answer")).to_contain_text("已清运")
        page.get_by_test_id("to-confirm").click()
        page.get_by_test_id("confirm-submit").click()
        expect(page.get_by_test_id("report-status")).to_have_attribute("data-status",
                                                                        "confirmed")
        assert horizontal_overflow(page) == 0
    finally:
        context.close()
    session.expire_all()
    (report,) = session.exec(select(Report)).all()
    assert (report.status, report.handled_by, report.handle_note) == (
        "confirmed", chief.id, "已清运，加了一个桶")
