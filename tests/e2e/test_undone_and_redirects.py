"""In the browser: on a 390 px phone the resident's points history marks a voided drop's
earn undone and the verdict page tells a regrade's reason, without sideways scrolling; the
household invitation is a GET page after its form (a reload shows it no more); on a desktop
the manager's drop page shows the steward's reason, and the device form's token page is a
GET of its own."""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from playwright.sync_api import Browser, expect
from sqlalchemy import update
from sqlmodel import Session

from community import clock
from community.auth import services as auth_services
from community.points import facts as drop_rows
from community.points.rules import DropFacts
from community.stations import services as stations_services
from community.stations.models import Drop
from community.stations.schemas import RegradeIn
from tests import builders
from tests.e2e.helpers import PHONE, horizontal_overflow, log_in
from tests.residents.helpers import link

pytestmark = [pytest.mark.browser, pytest.mark.real_db]

SH = ZoneInfo("Asia/Shanghai")
DESKTOP = {"width": 1280, "height": 800}


def test_phone_history_verdict_and_invitation(app: Flask, browser: Browser, live_server: str,
                                              session: Session,
                                              world: builders.World) -> None:
    hh = world.households_a[0]
    link(session, world.resident_a.id, builders.active_card(session, hh))
    chief = builders.account(session, "station_chief", world.a, username="chiefa")
    now = clock.now()
    day = now.astimezone(SH).replace(hour=8, minute=0, second=0, microsecond=0)
    kept = DropFacts(9_301, hh.id, "kitchen", "correct", True, day.date(), day)
    voided = DropFacts(9_302, hh.id, "recyclable", "correct", True, day.date(),
                       day + timedelta(minutes=5))
    wrong = DropFacts(9_303, hh.id, "other", "incorrect", True, day.date(),
                      day + timedelta(minutes=10))
    for f in (kept, voided, wrong):
        builders.award(session, [f], community_id=world.a.id, now=f.happened_at)
    builders.void(session, voided, community_id=world.a.id,
                  now=voided.happened_at + timedelta(minutes=2))
    session.execute(update(Drop).where(Drop.id == wrong.drop_id).values(
        reason_code="bulky_mixed"))
    session.commit()
    stations_services.regrade_drop(
        session, actor=auth_services.load_actor(session, chief.id), drop_id=wrong.drop_id,
        # A reason may hold a "word" wider than the phone (a reference number): it wraps.
        data=RegradeIn.parse(quality="correct",
                             reason="复核照片：是普通其他垃圾，分类正确，单号" + "A1B2C3D4" * 15))
    session.commit()

    context = browser.new_context(viewport=PHONE, device_scale_factor=1, is_mobile=True,
                                  has_touch=True)
    page = context.new_page()
    try:
        log_in(page, live_server, world.resident_a.phone or "", builders.PASSWORD)
        page.goto(f"{live_server}/me/points")
        undone = page.locator('[data-testid="points-entry"][data-undone="1"]')
        expect(undone).to_have_count(1)
        expect(undone).to_have_attribute("data-entry-id", str(drop_rows.earn_id(9_302)))
        expect(undone.get_by_test_id("entry-undone")).to_be_visible()
        assert horizontal_overflow(page) == 0
        page.goto(f"{live_server}/me/drops/{wrong.drop_id}/appeal")
        expect(page.get_by_test_id("verdict-regrade")).to_contain_text("复核照片")
        assert horizontal_overflow(page) == 0
        # The invitation: the form's answer is a GET page; a reload shows it no more.
        page.goto(f"{live_server}/me/household/{hh.id}")
        page.get_by_test_id("invite-button").click()
        expect(page.get_by_test_id("invite-qr")).to_be_visible()
        assert re.search(rf"/me/household/{hh.id}/invite/\d+$", page.url)
        assert horizontal_overflow(page) == 0
        page.reload()
        assert page.url.endswith(f"/me/household/{hh.id}")
        expect(page.get_by_test_id("invite-qr")).to_have_count(0)
        assert horizontal_overflow(page) == 0
    finally:
        context.close()


def test_desktop_drop_reason_and_device_token(app: Flask, browser: Browser, live_server: str,
                                              session: Session,
                                              world: builders.World) -> None:
    station = builders.station(session, world.a, "东门投放亭")
    drop = builders.drop(session, station, world.households_a[1],
                         happened_at=datetime(2026, 11, 20, 8, 0, tzinfo=SH),
                         quality="incorrect", note="<b>整袋</b>投入")
    session.execute(update(Drop).where(Drop.id == drop.id).values(
        reason_code="kitchen_plastic_bag"))
    session.commit()
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    try:
        log_in(page, live_server, "managera", builders.PASSWORD)
        page.goto(f"{live_server}/manage/drops/{drop.id}")
        expect(page.get_by_test_id("drop-reason")).to_have_text("厨余混有塑料袋")
        expect(page.get_by_test_id("drop-facts")).to_contain_text("<b>整袋</b>投入")
        assert horizontal_overflow(page) == 0
        page.goto(f"{live_server}/manage/stations/devices?community_id={world.a.id}")
        page.fill("#name", "3栋智能桶")
        page.get_by_test_id("device-form").locator("button[type=submit]").click()
        token = page.get_by_test_id("device-token")
        expect(token).to_be_visible()
        assert re.search(r"/manage/stations/devices/\d+/token$", page.url)
        assert horizontal_overflow(page) == 0
        page.reload()
        assert "/token" not in page.url
        expect(page.get_by_test_id("device-token")).to_have_count(0)
    finally:
        context.close()
