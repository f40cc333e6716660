"""The web app manifest and its icons: residents can add the site to their home screen."""
from __future__ import annotations

import io
import json

from PIL import Image

from tests import builders


def test_pages_link_the_manifest_and_icons(client, world: builders.World) -> None:
    page = client.get("/login").get_data(as_text=True)
    assert '<link rel="manifest" href="/static/manifest.webmanifest">' in page
    assert '<link rel="apple-touch-icon" href="/icons/180.png">' in page


def test_manifest_is_valid_and_its_icons_exist(client, world: builders.World) -> None:
    resp = client.get("/static/manifest.webmanifest")
    assert resp.status_code == 200
    assert resp.mimetype == "application/manifest+json"
    manifest = json.loads(resp.get_data(as_text=True))
    assert manifest["name"] == "社区垃圾分类"
    assert manifest["short_name"] == "垃圾分类"
    assert manifest["display"] == "standalone"
    assert manifest["start_url"] == "/"
    for icon in manifest["icons"]:
        got = client.get(icon["src"])
        assert got.status_code == 200, icon["src"]
        assert got.mimetype == icon["type"]
        if icon["type"] == "image/png":
            size = int(icon["sizes"].split("x")[0])
            image = Image.open(io.BytesIO(got.data))
            assert image.size == (size, size)
            # The brand green at the corner (full bleed), white on the triangle's apex.
            assert image.getpixel((2, 2)) == (27, 127, 75)
            assert image.getpixel((size // 2, round(size * 18 / 64))) == (255, 255, 255)
    # Chrome's install prompt needs a 192 and a 512 px icon.
    assert {i["sizes"] for i in manifest["icons"]} >= {"192x192", "512x512"}


def test_other_icon_sizes_are_not_found(client, world: builders.World) -> None:
    assert client.get("/icons/100.png").status_code == 404
    assert client.get("/icons/180.png").headers["Cache-Control"] == "public, max-age=86400"
