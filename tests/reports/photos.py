"""Test photos for the reports: a small JPEG, with or without an EXIF GPS position."""
from __future__ import annotations

import io

from PIL import Image


def jpeg(*, gps: bool = False, colour: tuple[int, int, int] = (200, 40, 40)) -> bytes:
    """A 64x48 JPEG; with `gps`, EXIF says 31°18'N 120°36'E (Suzhou)."""
    img = Image.new("RGB", (64, 48), colour)
    out = io.BytesIO()
    if gps:
        exif = Image.Exif()
        exif[0x8825] = {1: "N", 2: (31.0, 18.0, 0.0), 3: "E", 4: (120.0, 36.0, 0.0)}
        img.save(out, "JPEG", exif=exif)
    else:
        img.save(out, "JPEG")
    return out.getvalue()
