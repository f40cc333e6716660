"""A steward's shift on a phone: sign up for a shift, check in by scanning the station's
rotating code with the (fake) camera, scan a household, check out, and add two photos to
the shift's supervision log with the page's own multi-photo button.

The live server runs on the real clock, so the station's window is built around the present
hour and the camera shows the code of the present 30-second step (the server accepts it and
the one before, so the test has about 30 to 60 seconds to reach the scanner).
"""
from __future__ import annotations

from datetime import timedelta
from io import BytesIO
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from PIL import Image
from playwright.sync_api import BrowserType, expect
from sqlmodel import Session, select

from community import clock
from community.households import codes as card_codes
from community.stations.models import Drop
from community.volunteers.checkins import codes
from community.volunteers.models import Shift, ShiftAssignment, Steward, SupervisionLog
from community.volunteers.shifts import services as shifts_services
from tests import builders
from tests.e2e.fakecam import card_video
from tests.e2e.helpers import PHONE, horizontal_overflow, log_in

pytestmark = [pytest.mark.browser, pytest.mark.real_db]

SH = ZoneInfo("Asia/Shanghai")


# Every photo of the log loaded (a broken image has no natural width).
ALL_LOADED = "(imgs) => imgs.length > 0 && imgs.every((i) => i.complete && i.naturalWidth > 0)"


def _png(colour: str) -> bytes:
    buf = BytesIO()
    Image.new("RGB", (40, 30), colour).save(buf, "PNG")
    return buf.getvalue()


def _assignments(session: Session) -> list[ShiftAssignment]:
    rows = list(session.exec(select(ShiftAssignment).order_by(ShiftAssignment.id)
                             .execution_options(populate_existing=True)))
    session.commit()
    return rows


def test_steward_signs_up_checks_in_by_camera_scans_and_checks_out(
        app: Flask, browser_type: BrowserType, browser_type_launch_args: dict,
        live_server: str, session: Session, world: builders.World, tmp_path: Path) -> None:
    now = clock.now().astimezone(SH)
    hour = now.hour
    # A window from the last full hour to two hours on, every day.
    station = builders.station(session, world.a, "东门投放亭", ranges=((hour, hour + 2),))
    steward = Steward(community_id=world.a.id, account_id=world.steward_a.id, status="approved",
                      training="trained")
    session.add(steward)
    session.flush()
    # Today's shift has started (too late to sign up): the manager put the steward on it.
    start = now.replace(minute=0, second=0, microsecond=0)
    current = Shift(community_id=world.a.id, station_id=station.id, local_date=start.date(),
                    starts_at=start, ends_at=start + timedelta(hours=2), needed=1)
    session.add(current)
    session.flush()
    session.add(ShiftAssignment(shift_id=current.id, steward_id=steward.id))
    # The coming days' shifts come from the station's windows.
    shifts_services.generate_all(session, now=clock.now(), weeks=1)
    household = world.households_a[0]
    short = card_codes.format_code(builders.active_card(session, household).short_code)
    session.commit()

    key = codes.derive_key(app.config["SECRET_KEY"])
    shown = codes.current(key, station.id, clock.now())
    video = card_video(tmp_path / "station.y4m", shown.text)
    args = [*browser_type_launch_args.get("args", []), "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream", f"--use-file-for-fake-video-capture={video}"]
    browser = browser_type.launch(**{**browser_type_launch_args, "args": args})
    errors: list[str] = []
    try:
        context = browser.new_context(viewport=PHONE, device_scale_factor=1, is_mobile=True,
                                      has_touch=True)
        context.grant_permissions(["camera"], origin=live_server)
        page = context.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("response", lambda r: errors.append(f"{r.status} {r.url}")
                if r.status >= 400 else None)
        log_in(page, live_server, "stewarda", builders.PASSWORD)

        # 1. Check in: the camera sees the station's code and the page posts it at once.
        page.goto(f"{live_server}/steward/check-in")
        expect(page.get_by_test_id("due-shift")).to_have_count(1)
        page.get_by_test_id("camera-toggle").click()
        expect(page.get_by_test_id("checked-in-shift")).to_have_count(1, timeout=30_000)
        [first] = _assignments(session)
        assert first.checked_in_at is not None
        assert first.check_in_method == "code"
        assert horizontal_overflow(page) == 0

        # 2. Sign up for a coming shift (tomorrow's window) on the open-shifts list.
        page.goto(f"{live_server}/steward/shifts/open")
        with page.expect_navigation():
            page.get_by_test_id("sign-up").first.click()
        expect(page.get_by_test_id("on-shift").first).to_be_visible()
        assert horizontal_overflow(page) == 0
        booked = [a for a in _assignments(session) if a.shift_id != current.id]
        assert len(booked) == 1
        assert booked[0].status == "signed_up"
        page.goto(f"{live_server}/steward/shifts")
        expect(page.get_by_test_id("my-shifts-title")).to_be_visible()

        # 3. Scan a household at the station during the shift (typed short code).
        page.goto(f"{live_server}/steward/scan")
        expect(page.locator("body[data-scan-ready='1']")).to_have_count(1)
        page.select_option("[data-testid=station-select]", str(station.id))
        page.get_by_test_id("category-kitchen").click()
        page.get_by_test_id("quality-correct").click()
        page.get_by_test_id("short-code-input").fill(short)
        page.get_by_test_id("short-code-submit").click()
        expect(page.get_by_test_id("feedback-title")).to_have_text("已记录")

        # 4. Check out by typing the code the station shows now.
        page.goto(f"{live_server}/steward/check-in")
        digits = codes.current(key, station.id, clock.now()).digits
        page.get_by_test_id("code-input").fill(digits)
        with page.expect_navigation():
            page.get_by_test_id("code-submit").click()
        expect(page.locator("main")).to_contain_text("已在东门投放亭签退")
        done = next(a for a in _assignments(session) if a.shift_id == current.id)
        assert done.checked_out_at is not None
        assert done.check_out_method == "code"
        assert done.status == "done"
        assert done.hours_status == "pending"

        # The drop scanned during the shift is linked to it on the supervision log.
        drops = list(session.exec(select(Drop)))
        session.commit()
        assert [(d.household_id, d.recorded_by) for d in drops] == [
            (household.id, world.steward_a.id)]
        page.goto(f"{live_server}/steward/assignments/{done.id}/log")
        expect(page.locator("body")).to_contain_text("1栋1单元101室")

        # 5. Two photos on the log, picked at once with the page's own button (one file
        # chooser taking several photos), saved and shown.
        button = page.get_by_test_id("log-photos-button")
        expect(button).to_have_text("选择照片")
        expect(page.get_by_test_id("log-photos-name")).to_have_text("未选择照片")
        with page.expect_file_chooser() as chooser:
            button.click()
        assert chooser.value.is_multiple()
        chooser.value.set_files([
            {"name": "bins.png", "mimeType": "image/png", "buffer": _png("red")},
            {"name": "sign.png", "mimeType": "image/png", "buffer": _png("blue")}])
        expect(page.get_by_test_id("log-photos-name")).to_have_text("已选择 2 张照片")
        assert horizontal_overflow(page) == 0
        with page.expect_navigation():
            page.get_by_test_id("log-save").click()
        shown = page.get_by_test_id("log-photo").locator("img")
        expect(shown).to_have_count(2)
        assert shown.evaluate_all(ALL_LOADED)
        assert horizontal_overflow(page) == 0
        context.close()
    finally:
        browser.close()
    assert errors == []
    (log,) = session.exec(select(SupervisionLog)).all()
    session.commit()
    assert log.assignment_id == done.id
    assert len(log.photos) == 2
    root = Path(app.config["UPLOAD_DIR"]) / "supervision"
    assert all((root / p).is_file() for p in log.photos)
