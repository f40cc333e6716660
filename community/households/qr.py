"""QR images of a card's token (PNG for screens, SVG for print and zoom). Pure, no DB, no Flask.

The QR content is the card token exactly, so a steward's scanner reads the token and nothing else.
Error correction M (15%) survives a worn or creased card; border 4 is the quiet zone the
QR standard requires for reliable scanning.
"""
from __future__ import annotations

import io
import re

import qrcode
from qrcode.constants import ERROR_CORRECT_M
from qrcode.image.svg import SvgPathFillImage

BORDER = 4


def _code(data: str, box_size: int = 10) -> qrcode.QRCode:
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=BORDER, box_size=box_size)
    qr.add_data(data)
    qr.make(fit=True)
    return qr


def matrix(data: str) -> list[list[bool]]:
    """The QR modules as rows of booleans (True = dark), quiet zone included, for vector drawing."""
    return [list(row) for row in _code(data).get_matrix()]


def render_png(data: str, *, box_size: int = 10) -> bytes:
    """A black-on-white PNG of the QR code of `data`."""
    img = _code(data, box_size).make_image(fill_color="black", back_color="white")
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def render_svg(data: str) -> bytes:
    """A standalone SVG document (one path, white background) of the QR code of `data`."""
    # The "Fill" variant paints a white rect behind the path: a transparent background would
    # show dark-on-dark on a phone in dark mode and fail to scan.
    img = _code(data).make_image(image_factory=SvgPathFillImage)
    buf = io.BytesIO()
    img.save(buf)
    return buf.getvalue()


def render_svg_element(data: str) -> str:
    """The QR code of `data` as an `<svg>` element to put inside an HTML page: no XML
    declaration and no fixed size (the page's CSS sizes it; the viewBox keeps it square)."""
    svg = render_svg(data).decode()
    svg = svg[svg.index("<svg"):]
    return re.sub(r'^<svg width="[^"]*" height="[^"]*"', '<svg class="qr" role="img"', svg, count=1)
