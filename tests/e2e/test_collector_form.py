"""The collector's pickup form on a 390 px phone: bins without their kg are refused next to
the kg field (never saved as 0 kg); the contaminated bins and the photo show only once the
contamination box is ticked, its label on one line; the photo buttons draw an inline SVG
camera (no emoji) with their text centred; and a second pickup of the same station and
category within 30 minutes is asked about before it is recorded, in an accessible in-page
panel (no browser dialog): record anyway, or cancel."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlmodel import Session, select

from community.collection import rules
from community.collection.models import CollectionLine
from tests import builders
from tests.collection import helpers as h
from tests.e2e.helpers import PHONE, horizontal_overflow, log_in

pytestmark = [pytest.mark.browser, pytest.mark.real_db]

# A label's text is centred in its box when the gaps above and below its text differ by
# at most 2 px (the QA's 照片 button had its text at the top of a 45 px box).
CENTRED = """(el) => {
  const box = el.getBoundingClientRect();
  const range = document.createRange();
  range.selectNodeContents(el);
  const rects = Array.from(range.getClientRects()).filter(r => r.height > 0 && r.width > 0);
  const top = Math.min(...rects.map(r => r.top)), bottom = Math.max(...rects.map(r => r.bottom));
  return Math.abs((top - box.top) - (box.bottom - bottom)) <= 2;
}"""


# A label's text on one line: all its text boxes share one top.
ONE_LINE = """(el) => {
  const tops = [];
  for (const node of el.childNodes) {
    if (node.nodeType !== Node.TEXT_NODE || !node.textContent.trim()) { continue; }
    const range = document.createRange();
    range.selectNodeContents(node);
    for (const r of range.getClientRects()) { if (r.width > 0) { tops.push(Math.round(r.top)); } }
  }
  return tops.length > 0 && new Set(tops).size === 1;
}"""


def _lines(session: Session) -> list[CollectionLine]:
    session.commit()
    session.expire_all()
    rows = list(session.exec(select(CollectionLine).order_by(CollectionLine.id)))
    session.commit()
    return rows


def _save(page: Page) -> None:
    page.get_by_test_id("pickup-save").click()


def test_pickup_form_on_a_phone(browser: Browser, live_server: str, session: Session,
                                world: builders.World) -> None:
    station = h.tagged_station(session, world.a, "东门投放亭")
    collector = builders.account(session, "collector", world.street_a, username="collector3")
    code = rules.tag_text(h.token(session, station))
    session.commit()

    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        log_in(page, live_server, collector.username or "", builders.PASSWORD)
        page.goto(f"{live_server}/collector/collect")
        expect(page.locator("body[data-collect-ready='1']")).to_have_count(1)
        page.get_by_test_id("station-code").fill(code)
        page.get_by_test_id("station-code-ok").click()
        expect(page.get_by_test_id("station-name")).to_contain_text("东门投放亭")

        # Buttons with a camera: an inline SVG, no emoji; the text centred in the box.
        for testid in ("qr-photo-button", "photo-button-kitchen"):
            button = page.get_by_test_id(testid)
            assert "📷" not in (button.text_content() or "")
            expect(button.locator("svg")).to_have_count(1)
        assert page.get_by_test_id("qr-photo-button").evaluate(CENTRED)

        # Contamination: its fields hidden until ticked; the label on one line.
        expect(page.get_by_test_id("dirty-fields-kitchen")).to_be_hidden()
        expect(page.get_by_test_id("dirty-bins-kitchen")).to_be_hidden()
        assert page.locator("label.pickup-dirty").first.evaluate(ONE_LINE)
        page.get_by_test_id("dirty-kitchen").check()
        expect(page.get_by_test_id("dirty-bins-kitchen")).to_be_visible()
        expect(page.get_by_test_id("photo-button-kitchen")).to_be_visible()
        assert page.get_by_test_id("photo-button-kitchen").evaluate(CENTRED)
        assert horizontal_overflow(page) == 0
        page.get_by_test_id("dirty-kitchen").uncheck()
        expect(page.get_by_test_id("dirty-fields-kitchen")).to_be_hidden()

        # Bins without kg: refused next to the kg field, nothing queued or stored.
        page.get_by_test_id("bins-kitchen").fill("2")
        _save(page)
        expect(page.get_by_test_id("error-kg-kitchen")).to_have_text("请填写所收桶的重量（千克）。")
        expect(page.get_by_test_id("pending-count")).to_have_text("0")
        page.get_by_test_id("kg-kitchen").fill("0")
        _save(page)
        expect(page.get_by_test_id("error-kg-kitchen")).to_have_text("请填写所收桶的重量（千克）。")
        assert _lines(session) == []
        page.get_by_test_id("kg-kitchen").fill("60")
        _save(page)
        expect(page.get_by_test_id("feedback")).to_have_text("收运已记录")
        assert [(x.category, x.bins, float(x.kg)) for x in _lines(session)] == [
            ("kitchen", 2, 60.0)]

        # The same station and category again: asked in the page (never a browser dialog),
        # the focus on the panel's safe answer and the form inert meanwhile; "cancel" records
        # nothing and keeps what was typed, as does Escape; "record anyway" records it.
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        panel = page.get_by_test_id("repeat-panel")
        page.get_by_test_id("bins-kitchen").fill("1")
        page.get_by_test_id("kg-kitchen").fill("20")
        _save(page)
        expect(panel).to_be_visible()
        expect(panel).to_have_attribute("role", "alertdialog")
        expect(panel).to_have_accessible_name("再记录一次？")
        expect(page.get_by_test_id("repeat-text")).to_have_text(re.compile(
            r"^该投放点的厨余垃圾已于 \d\d:\d\d 收运过（不到 30 分钟前）。$"))
        expect(page.get_by_test_id("repeat-no")).to_be_focused()
        expect(page.get_by_test_id("repeat-no")).to_have_text("取消")
        expect(page.get_by_test_id("repeat-yes")).to_have_text("仍然记录")
        assert page.get_by_test_id("pickup-form").evaluate("(f) => f.inert") is True
        assert horizontal_overflow(page) == 0
        page.get_by_test_id("repeat-no").click()
        expect(panel).to_be_hidden()
        expect(page.get_by_test_id("pickup-save")).to_be_focused()
        expect(page.get_by_test_id("feedback")).to_have_text("未记录：之前的收运记录保持不变。")
        expect(page.get_by_test_id("kg-kitchen")).to_have_value("20")
        expect(page.get_by_test_id("pending-count")).to_have_text("0")
        assert len(_lines(session)) == 1
        _save(page)
        expect(page.get_by_test_id("repeat-no")).to_be_focused()
        page.keyboard.press("Escape")
        expect(panel).to_be_hidden()
        assert len(_lines(session)) == 1
        _save(page)
        page.get_by_test_id("repeat-yes").click()
        expect(panel).to_be_hidden()
        expect(page.get_by_test_id("feedback")).to_have_text("收运已记录")
        assert [(x.category, x.bins, float(x.kg)) for x in _lines(session)] == [
            ("kitchen", 2, 60.0), ("kitchen", 1, 20.0)]
        # Another category of the same station is not a repeat: no question.
        page.get_by_test_id("bins-other").fill("1")
        page.get_by_test_id("kg-other").fill("30")
        _save(page)
        expect(page.get_by_test_id("kg-other")).to_have_value("")  # saved: the form is reset
        expect(page.get_by_test_id("feedback")).to_have_text("收运已记录")
        expect(panel).to_be_hidden()
        assert len(_lines(session)) == 3
        assert dialogs == []
        assert horizontal_overflow(page) == 0
    finally:
        context.close()
