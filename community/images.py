"""Uploaded pictures (drop photos, reward pictures): check that an upload is a real
JPEG/PNG/WebP within limits, re-encode it without metadata, and write it atomically.
"""
from __future__ import annotations

import io
import os
import tempfile
import warnings
from pathlib import Path

from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps, UnidentifiedImageError

from community.errors import DomainError

MAX_PHOTO_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 40_000_000  # far above any phone camera; refuses decompression bombs
FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}


class PhotoInvalid(DomainError):
    code, status, message = "photo_invalid", 422, _l(
        "The photo must be a JPEG, PNG or WebP image.")


class PhotoTooLarge(DomainError):
    code, status, message = "photo_too_large", 413, _l("The photo is larger than 5 MB.")


def clean_photo(data: bytes) -> tuple[bytes, str]:
    """Validate an upload and re-encode it without metadata; return (bytes, file extension)."""
    if len(data) > MAX_PHOTO_BYTES:
        raise PhotoTooLarge(field="photo")
    if not data:
        raise PhotoInvalid(field="photo")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                fmt = probe.format
                if fmt not in FORMATS or probe.width * probe.height > MAX_PIXELS:
                    raise PhotoInvalid(field="photo")
                probe.verify()  # catches truncated or corrupt files
            with Image.open(io.BytesIO(data)) as img:
                img.load()
                # Turn the pixels upright, then drop EXIF (GPS position, device) on re-encode.
                upright = ImageOps.exif_transpose(img)
                out = io.BytesIO()
                if fmt == "JPEG":
                    upright.convert("RGB").save(out, "JPEG", quality=85, optimize=True)
                elif fmt == "PNG":
                    upright.save(out, "PNG", optimize=True)
                else:
                    upright.save(out, "WEBP", quality=85)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError,
            Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise PhotoInvalid(field="photo") from exc
    return out.getvalue(), FORMATS[fmt]


def write_atomic(path: Path, content: bytes) -> None:
    """Write a file so readers see the old content or the new, never a partial one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
