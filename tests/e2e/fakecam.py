"""A fake camera for Chromium: a YUV4MPEG2 file showing one QR code on a white frame.

Chromium plays it with `--use-fake-device-for-media-stream
--use-file-for-fake-video-capture=FILE.y4m` (looping), so the page's getUserMedia sees a
household card held in front of the camera.
"""
from __future__ import annotations

from pathlib import Path

import qrcode
from PIL import Image

WIDTH, HEIGHT = 640, 480


def card_frame(text: str, *, size: int = 320) -> Image.Image:
    """A white 640x480 frame with the QR code of `text` in the middle."""
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    qr.add_data(text)
    qr.make(fit=True)
    code = qr.make_image(fill_color="black", back_color="white").get_image().convert("RGB")
    code = code.resize((size, size), Image.Resampling.NEAREST)
    frame = Image.new("RGB", (WIDTH, HEIGHT), "white")
    frame.paste(code, ((WIDTH - size) // 2, (HEIGHT - size) // 2))
    return frame


def write_y4m(path: Path, image: Image.Image, *, frames: int = 30) -> Path:
    """Write `image` as `frames` identical 4:2:0 frames (JPEG-range YCbCr, as C420jpeg says)."""
    width, height = image.size
    y, cb, cr = image.convert("YCbCr").split()
    half = (width // 2, height // 2)
    planes = (y.tobytes() + cb.resize(half, Image.Resampling.BILINEAR).tobytes()
              + cr.resize(half, Image.Resampling.BILINEAR).tobytes())
    with open(path, "wb") as fh:
        fh.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode("ascii"))
        for _ in range(frames):
            fh.write(b"FRAME\n")
            fh.write(planes)
    return path


def card_video(path: Path, text: str, *, frames: int = 30) -> Path:
    """The fake-camera file for a card whose QR code carries `text`."""
    return write_y4m(path, card_frame(text), frames=frames)
