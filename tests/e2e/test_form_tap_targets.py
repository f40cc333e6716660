"""Form controls and lone links are 44 px tap targets on a 390 px phone (QA: selects were
40 px, text inputs 39 px, /manage/links' building input unstyled at 21 px, the resident
home's links 24 px tall, the steward's reward pickup and calendar links 20 px), and a file
input shows a button in the page's language."""
from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlmodel import Session

from community import clock
from community.households.models import HouseholdMember
from tests import builders
from tests.e2e.helpers import PHONE, horizontal_overflow, log_in, switch_language

pytestmark = [pytest.mark.browser, pytest.mark.real_db]

TAP = 44  # the smallest tap target on a phone, in CSS pixels
CONTROLS = ("main input:not([type=hidden]):not([type=checkbox]):not([type=radio])"
            ":not([type=file]), main select")
MEASURE = """([selector, tap]) => Array.from(document.querySelectorAll(selector))
    .filter(el => el.offsetParent !== null)
    .map(el => [el.outerHTML.slice(0, 90), el.getBoundingClientRect().height])
    .filter(([, h]) => h < tap)"""


def _short(page: Page, selector: str, least: int = 1) -> list:
    """The visible elements of `selector` under 44 px tall (at least `least` are visible)."""
    seen = page.evaluate(f"document.querySelectorAll({selector!r}).length")
    assert seen >= least, (page.url, selector)
    assert horizontal_overflow(page) == 0, page.url
    return page.evaluate(MEASURE, [selector, TAP])


def _photo_button(page: Page) -> None:
    """The report's photo input is a 44 px button in the page's language (not the browser's
    "Choose File / No file chosen"); the real input stays focusable and takes the photo."""
    button, name = page.get_by_test_id("report-photo-button"), page.get_by_test_id(
        "report-photo-name")
    expect(button).to_have_text("选择照片")
    expect(name).to_have_text("未选择照片")
    assert (button.bounding_box() or {}).get("height", 0) >= TAP
    real = page.get_by_test_id("report-photo")
    assert (real.bounding_box() or {}).get("width", 99) <= 1  # out of sight
    real.focus()
    assert page.evaluate("document.activeElement.dataset.testid") == "report-photo"
    real.set_input_files({"name": "bin.jpg", "mimeType": "image/jpeg", "buffer": b"\xff\xd8"})
    expect(name).to_have_text("bin.jpg")
    switch_language(page, "en")
    expect(page.get_by_test_id("report-photo-button")).to_have_text("Choose a photo")
    expect(page.get_by_test_id("report-photo-name")).to_have_text("No photo chosen")
    switch_language(page, "zh")


def test_form_controls_and_links_are_44_px_on_a_phone(browser: Browser, live_server: str,
                                                      session: Session,
                                                      world: builders.World) -> None:
    home = world.households_a[1]
    session.add(HouseholdMember(community_id=home.community_id, household_id=home.id,
                                account_id=world.resident_a.id, status="approved"))
    builders.active_card(session, home)
    station = builders.station(session, world.a, "东门投放亭", ranges=((0, 24),))
    now = clock.now()
    builders.on_duty(session, world.steward_a, station, now - timedelta(hours=2),  # a steward row
                     now + timedelta(hours=2))
    session.commit()

    pages = {  # login → (path, selector of what must be 44 px tall, how many at least)
        "138 0000 0001": (("/me/", "main a", 7), ("/reports/new", CONTROLS, 2),
                          ("/account/password", CONTROLS, 3)),
        "managera": (("/manage/links", CONTROLS, 1), ("/reports/board", CONTROLS, 1),
                     ("/manage/board", CONTROLS, 0)),
        # The steward's lone links: the scan page's reward pickup, the shift page's calendar
        # subscription, the hours page's way back (QA: 20 px tall).
        "stewarda": (("/steward/profile", CONTROLS, 1), ("/steward/hours", "main a.tap-link", 2),
                     ("/steward/scan", f"{CONTROLS}, main [data-testid=pickup-link]", 2),
                     ("/steward/shifts", "main [data-testid=calendar-subscribe]", 1)),
    }
    problems = []
    for login, visits in pages.items():
        context = browser.new_context(viewport=PHONE, device_scale_factor=1, is_mobile=True,
                                      has_touch=True)
        page = context.new_page()
        try:
            log_in(page, live_server, login, builders.PASSWORD)
            for path, selector, least in visits:
                resp = page.goto(live_server + path)
                assert resp is not None
                assert resp.status == 200, path
                problems += [(path, *p) for p in _short(page, selector, least)]
                if path == "/reports/new":
                    _photo_button(page)
        finally:
            context.close()
    assert problems == []
