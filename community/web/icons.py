"""The home-screen icons in PNG, drawn at request time with Pillow (no generated file is kept
in the repository): the same mark as `static/img/icon.svg`, a white triangle on the brand
green, full-bleed so a launcher's mask (circle, squircle) never cuts it.

`static/manifest.webmanifest` names 192 and 512 px; iOS asks for the 180 px
`apple-touch-icon` linked from `templates/base.html`.
"""
from __future__ import annotations

import io
from functools import lru_cache

from flask import Blueprint, Response, abort
from PIL import Image, ImageDraw

bp = Blueprint("icons", __name__)

SIZES = (180, 192, 512)
GREEN, WHITE = (27, 127, 75), (255, 255, 255)
# The SVG's triangle on its 64-unit grid, and its stroke width.
TRIANGLE = ((20, 40), (32, 18), (44, 40))
STROKE = 5
SUPERSAMPLE = 4  # draw larger, then shrink: smooth edges without an anti-aliasing API


@lru_cache(maxsize=len(SIZES))
def render(size: int) -> bytes:
    """The icon as PNG bytes, `size` pixels square."""
    big = size * SUPERSAMPLE
    scale = big / 64
    img = Image.new("RGB", (big, big), GREEN)
    draw = ImageDraw.Draw(img)
    points = [(x * scale, y * scale) for x, y in TRIANGLE]
    width = round(STROKE * scale)
    draw.line([*points, points[0], points[1]], fill=WHITE, width=width, joint="curve")
    # Round the three corners like the SVG's stroke-linejoin="round".
    radius = width / 2
    for x, y in points:
        draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=WHITE)
    out = io.BytesIO()
    img.resize((size, size), Image.Resampling.LANCZOS).save(out, format="PNG", optimize=True)
    return out.getvalue()


@bp.get("/icons/<int:size>.png")
def icon(size: int) -> Response:
    """One of the home-screen icons (other sizes: 404)."""
    if size not in SIZES:
        abort(404)
    resp = Response(render(size), mimetype="image/png")
    resp.headers["Cache-Control"] = "public, max-age=86400"
    return resp
