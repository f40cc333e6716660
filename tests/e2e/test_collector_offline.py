"""A collector on a 390 px phone records a contaminated kitchen bin offline, with a photo;
it waits in the phone's queue (through a reload served by the service worker) and syncs
once, with its photo, when the phone is back online (the page's own repeat question comes
up offline too); its day list opens offline too. A negative weight is refused on the page
next to its field (the form keeps what was typed, nothing is queued), and a queued pickup
the server refuses stays listed as refused until it is edited and resent."""
from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Browser, expect
from sqlmodel import Session, select

from community.collection import rules
from community.collection.models import Collection, CollectionLine, StationTag
from tests import builders
from tests.collection import helpers as h
from tests.e2e.helpers import PHONE, horizontal_overflow, log_in, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.real_db]


def _stored(session: Session) -> list[tuple[Collection, CollectionLine]]:
    session.commit()  # end any read snapshot (reading a row's attributes begins one)
    session.expire_all()
    rows = list(session.exec(select(Collection, CollectionLine).join(
        CollectionLine, CollectionLine.collection_id == Collection.id)))
    session.commit()
    return rows


def test_contaminated_bin_recorded_offline_syncs_once(browser: Browser, live_server: str,
                                                      session: Session, world: builders.World,
                                                      tmp_path: Path) -> None:
    station = h.tagged_station(session, world.a, "东门投放亭")
    collector = builders.account(session, "collector", world.street_a, username="collector1")
    code = rules.tag_text(h.token(session, station))
    session.commit()
    photo = tmp_path / "bin.jpg"
    Image.new("RGB", (64, 48), (90, 120, 40)).save(photo, "JPEG")

    context = browser.new_context(viewport=PHONE, device_scale_factor=1, is_mobile=True,
                                  has_touch=True)
    page = context.new_page()
    try:
        log_in(page, live_server, collector.username or "", builders.PASSWORD)
        assert page.url.endswith("/collector/")
        expect(page.get_by_test_id("stop-todo")).to_have_count(1)
        assert horizontal_overflow(page) == 0
        page.get_by_test_id("start-pickup").click()
        expect(page.locator("body[data-collect-ready='1']")).to_have_count(1)
        assert horizontal_overflow(page) == 0
        page.evaluate("navigator.serviceWorker.ready.then(() => true)")
        wait_until(page, "navigator.serviceWorker.controller !== null")

        # Online, a negative weight is refused on the page, next to the field; the form
        # keeps what was typed and nothing is queued (it would be refused after the
        # collector has left).
        page.get_by_test_id("station-code").fill(code)
        page.get_by_test_id("station-code-ok").click()
        expect(page.get_by_test_id("station-name")).to_contain_text("东门投放亭")
        page.get_by_test_id("bins-kitchen").fill("2")
        page.get_by_test_id("kg-kitchen").fill("-5")
        page.get_by_test_id("pickup-save").click()
        expect(page.get_by_test_id("error-kg-kitchen")).to_have_text("重量不能为负数。")
        expect(page.get_by_test_id("feedback")).to_have_text("未保存：请更正标出的字段。")
        expect(page.get_by_test_id("bins-kitchen")).to_have_value("2")
        expect(page.get_by_test_id("kg-kitchen")).to_have_value("-5")
        expect(page.get_by_test_id("pending-count")).to_have_text("0")

        context.set_offline(True)
        # Offline, the short code under the QR, typed in lower case with a space, names the
        # station too (the page knows its stations' codes by hash).
        short = session.get(StationTag, station.id).code
        session.commit()
        page.get_by_test_id("station-code").fill(short[:4].lower() + " " + short[4:].lower())
        page.get_by_test_id("station-code-ok").click()
        expect(page.get_by_test_id("station-name")).to_contain_text("东门投放亭")
        page.get_by_test_id("bins-kitchen").fill("2")
        page.get_by_test_id("kg-kitchen").fill("55.5")
        page.get_by_test_id("dirty-kitchen").check()
        page.get_by_test_id("photo-kitchen").set_input_files(str(photo))
        expect(page.locator("[data-photo-state=kitchen]")).to_have_text("✓")
        page.get_by_test_id("pickup-save").click()
        expect(page.get_by_test_id("pending-count")).to_have_text("1")
        expect(page.get_by_test_id("net-status")).to_have_text("离线：收运记录已保存在本机。")
        assert _stored(session) == []
        # Saved again offline: the page's own repeat question comes up with no network;
        # cancelled, nothing more is queued.
        page.get_by_test_id("bins-kitchen").fill("1")
        page.get_by_test_id("kg-kitchen").fill("10")
        page.get_by_test_id("pickup-save").click()
        expect(page.get_by_test_id("repeat-text")).to_contain_text("厨余垃圾")
        expect(page.get_by_test_id("repeat-no")).to_be_focused()
        page.get_by_test_id("repeat-no").click()
        expect(page.get_by_test_id("repeat-panel")).to_be_hidden()
        expect(page.get_by_test_id("pending-count")).to_have_text("1")
        page.reload()  # still offline: the service worker serves the page and its scripts
        expect(page.locator("body[data-collect-ready='1']")).to_have_count(1)
        expect(page.get_by_test_id("pending-count")).to_have_text("1")
        assert _stored(session) == []
        # The day list the page links to opens offline too (the worker keeps it), and leads
        # back to the pickup page.
        page.get_by_test_id("back-to-day").click()
        expect(page.get_by_test_id("start-pickup")).to_be_visible()
        page.get_by_test_id("start-pickup").click()
        expect(page.locator("body[data-collect-ready='1']")).to_have_count(1)
        expect(page.get_by_test_id("pending-count")).to_have_text("1")

        context.set_offline(False)
        wait_until(page, "document.querySelector('[data-testid=pending-count]').textContent"
                         " === '0'")
        expect(page.get_by_test_id("feedback")).to_have_text("收运已记录")
        page.get_by_test_id("sync").click()  # a second sync sends nothing again
        rows = _stored(session)
        assert len(rows) == 1
        pickup, line = rows[0]
        assert (pickup.station_id, pickup.collector_id) == (station.id, collector.id)
        assert (line.category, line.bins, float(line.kg), line.contaminated_bins) == (
            "kitchen", 2, 55.5, 1)
        assert line.photo

        # A queued pickup the server refuses (an older page queued 0 bins) stays visible as
        # refused, with its reason; edited in the form and resent, it is stored.
        page.evaluate("""(tag) => new window.ScanQueue("collection-queue").add({
            client_id: "c-old-page", created: Date.now(), meta: {station: "东门投放亭"},
            payload: {client_id: "c-old-page", station_tag: tag,
                      happened_at: new Date().toISOString(),
                      lines: [{category: "kitchen", bins: 0, kg: 12}]}})""", code)
        page.get_by_test_id("sync").click()
        expect(page.get_by_test_id("failed-item")).to_contain_text("被拒绝")
        expect(page.get_by_test_id("failed-item")).to_contain_text("超出允许范围")
        page.get_by_test_id("failed-edit").click()
        # The server's message, next to its field.
        expect(page.get_by_test_id("error-bins-kitchen")).to_contain_text("超出允许范围")
        expect(page.get_by_test_id("kg-kitchen")).to_have_value("12")
        page.get_by_test_id("bins-kitchen").fill("1")
        page.get_by_test_id("pickup-save").click()
        expect(page.get_by_test_id("feedback")).to_have_text("收运已记录")
        expect(page.get_by_test_id("bins-kitchen")).to_have_value("")
        expect(page.get_by_test_id("failed-item")).to_have_count(0)
        assert len(_stored(session)) == 2
        assert horizontal_overflow(page) == 0
        page.goto(f"{live_server}/collector/")
        expect(page.get_by_test_id("stop-done")).to_have_count(1)
    finally:
        context.close()


