"""Small browser helpers shared by the e2e tests."""
from __future__ import annotations

from io import BytesIO

import zxingcpp
from PIL import Image
from playwright.sync_api import Page
from sqlmodel import Session, select

from community.stations.models import Drop

# A phone's viewport (CSS pixels): the residents', stewards' and collectors' pages fit it.
PHONE = {"width": 390, "height": 844}


def log_in(page: Page, base_url: str, login: str, password: str) -> None:
    """Fill the login form in the browser and wait for the landing page."""
    page.goto(f"{base_url}/login")
    page.fill("#login", login)
    page.fill("#password", password)
    page.click("form button[type=submit]")
    page.wait_for_load_state()
    assert "/login" not in page.url, page.content()[:2000]


def follow_nav(page: Page, testid: str) -> None:
    """Click a navigation link, opening the phone's ☰ menu first where the page folds the
    navigation into it (every page of a steward or station chief)."""
    link = page.get_by_test_id(testid)
    toggle = page.get_by_test_id("nav-toggle")
    if not link.is_visible() and toggle.is_visible():
        toggle.click()
    link.click()


def switch_language(page: Page, lang: str) -> None:
    """Press the language button in the top bar (the page reloads in that language), from
    the ☰ menu where the phone's bar folds the tools into it."""
    button = page.locator(f"[data-testid=lang-{lang}]")
    toggle = page.get_by_test_id("nav-toggle")
    if not button.is_visible() and toggle.is_visible():
        toggle.click()
    with page.expect_navigation():
        button.click()


def qr_texts(png: bytes) -> list[str]:
    """Every QR code readable in a screenshot."""
    image = Image.open(BytesIO(png))
    return [r.text for r in zxingcpp.read_barcodes(image)
            if r.format == zxingcpp.BarcodeFormat.QRCode]


def horizontal_overflow(page: Page) -> int:
    """How many CSS pixels the page is wider than its viewport (0 when it fits).

    Waits for the page's load event first: a layout read from the debugger protocol does not
    wait for stylesheets still in flight, so a cached full-size photo measured before its
    page's stylesheet arrived counted as overflow (a flaky 843 px in CI) although no reader
    ever sees that frame (rendering waits for the stylesheets).
    """
    page.wait_for_load_state("load")
    return page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth")


def wait_until(page: Page, expression: str, arg: object = None, timeout: float = 10.0) -> None:
    """Poll `expression` with page.evaluate until it is truthy.

    Page.wait_for_function compiles its predicate with eval() inside the page, which our
    Content-Security-Policy (no 'unsafe-eval') refuses whenever it has to poll; evaluate()
    goes through the debugger protocol and is not subject to the page's CSP.
    """
    import time

    deadline = time.monotonic() + timeout
    while not page.evaluate(expression, arg):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for: {expression}")
        page.wait_for_timeout(100)


def stored_drops(session: Session) -> list[Drop]:
    """Every stored drop (ends the read transaction so the live server is never blocked)."""
    session.expire_all()
    rows = list(session.exec(select(Drop).order_by(Drop.id)))
    session.commit()
    return rows
