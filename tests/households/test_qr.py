"""QR renderers: the PNG decodes back to the card token; the SVG is a well-formed image."""
from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import zxingcpp
from PIL import Image

from community.households import codes, qr

SVG_NS = "{http://www.w3.org/2000/svg}"


def test_png_decodes_to_the_token() -> None:
    token = codes.new_token()
    png = qr.render_png(token)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    results = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert [r.text for r in results] == [token]
    assert results[0].format == zxingcpp.BarcodeFormat.QRCode


def test_png_box_size_scales_the_image() -> None:
    token = codes.new_token()
    small = Image.open(io.BytesIO(qr.render_png(token, box_size=4)))
    large = Image.open(io.BytesIO(qr.render_png(token, box_size=10)))
    modules = len(qr.matrix(token))
    assert small.size == (modules * 4, modules * 4)
    assert large.size == (modules * 10, modules * 10)
    assert zxingcpp.read_barcodes(small)[0].text == token


def test_matrix_has_quiet_zone_and_error_correction_m() -> None:
    token = codes.new_token()
    m = qr.matrix(token)
    border = qr.BORDER
    assert all(not any(row) for row in m[:border] + m[-border:])
    assert all(not any(row[:border]) and not any(row[-border:]) for row in m)
    result = zxingcpp.read_barcodes(Image.open(io.BytesIO(qr.render_png(token))))[0]
    assert result.ec_level == "M"


def test_svg_is_standalone_with_white_background_and_same_modules() -> None:
    token = codes.new_token()
    svg = qr.render_svg(token)
    root = ET.fromstring(svg)  # noqa: S314 - our own output, not untrusted input
    assert root.tag == f"{SVG_NS}svg"
    n = len(qr.matrix(token))
    assert root.get("viewBox") == f"0 0 {n} {n}"
    rect = root.find(f"{SVG_NS}rect")
    assert rect is not None
    assert rect.get("fill") == "white"
    path = root.find(f"{SVG_NS}path")
    assert path is not None
    # One "M x,y H.. V.. H.. z" square per dark module: the SVG draws exactly the QR matrix.
    dark = sum(sum(row) for row in qr.matrix(token))
    assert path.get("d").count("z") == dark


def test_svg_rasterised_decodes_to_the_token() -> None:
    """Paint the SVG's own squares onto a bitmap and decode it (no browser needed)."""
    import re

    token = codes.new_token()
    root = ET.fromstring(qr.render_svg(token))  # noqa: S314 - our own output
    n = int(root.get("viewBox").split()[2])
    scale = 8
    img = Image.new("L", (n * scale, n * scale), 255)
    for x, y in re.findall(r"M(\d+),(\d+)H", root.find(f"{SVG_NS}path").get("d")):
        x0, y0 = int(x) * scale, int(y) * scale
        img.paste(0, (x0, y0, x0 + scale, y0 + scale))
    assert [r.text for r in zxingcpp.read_barcodes(img)] == [token]


def test_different_tokens_give_different_codes() -> None:
    assert qr.render_png("a" * 24) != qr.render_png("b" * 24)
