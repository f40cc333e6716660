"""Small browser helpers shared by the e2e tests."""
from __future__ import annotations

from io import BytesIO

import zxingcpp
from PIL import Image
from playwright.sync_api import Page


def log_in(page: Page, base_url: str, login: str, password: str) -> None:
    """Fill the login form in the browser and wait for the landing page."""
    page.goto(f"{base_url}/login")
    page.fill("#login", login)
    page.fill("#password", password)
    page.click("form button[type=submit]")
    page.wait_for_load_state()
    assert "/login" not in page.url, page.content()[:2000]


def switch_language(page: Page, lang: str) -> None:
    """Press the language button in the top bar (the page reloads in that language)."""
    with page.expect_navigation():
        page.click(f"[data-testid=lang-{lang}]")


def qr_texts(png: bytes) -> list[str]:
    """Every QR code readable in a screenshot."""
    image = Image.open(BytesIO(png))
    return [r.text for r in zxingcpp.read_barcodes(image)
            if r.format == zxingcpp.BarcodeFormat.QRCode]


def horizontal_overflow(page: Page) -> int:
    """How many CSS pixels the page is wider than its viewport (0 when it fits)."""
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
