"""Drop photos: check that an upload is a real JPEG/PNG/WebP, strip its metadata, store it.

A photo is stored under a folder the caller passes in (the app's instance folder), named
by community, drop id and content hash, and `Drop.photo` records its relative path.
"""
from __future__ import annotations

import hashlib
import io
import os
import tempfile
import warnings
from pathlib import Path

from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import select, update
from sqlmodel import Session, col

from community.areas.models import Area
from community.auth import policy
from community.errors import DomainError
from community.stations.models import Drop

MAX_PHOTO_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 40_000_000  # far above any phone camera; refuses decompression bombs
FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}


class PhotoInvalid(DomainError):
    code, status, message = "photo_invalid", 422, _l(
        "The photo must be a JPEG, PNG or WebP image.")


class PhotoTooLarge(DomainError):
    code, status, message = "photo_too_large", 413, _l("The photo is larger than 5 MB.")


class DropUnknown(DomainError):
    code, status, message = "drop_unknown", 404, _l(
        "No drop with this client id has been recorded yet.")


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


def _write_atomic(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def attach_photo(session: Session, *, actor: policy.Actor, client_id: str, data: bytes,
                 photo_dir: Path) -> str:
    """Store a photo for the drop with `client_id` and record its path; return that path."""
    drop = session.execute(
        select(Drop.id, Drop.community_id).where(col(Drop.client_id) == client_id)
    ).first()
    if drop is None:
        raise DropUnknown()
    area = session.get(Area, drop.community_id)
    if area is None:
        raise DropUnknown()
    policy.require(actor, "drop:record", area)
    content, ext = clean_photo(data)
    digest = hashlib.sha256(content).hexdigest()[:16]
    relative = f"{drop.community_id}/{drop.id}-{digest}.{ext}"
    _write_atomic(photo_dir / relative, content)
    session.execute(update(Drop).where(col(Drop.id) == drop.id).values(photo=relative))
    session.flush()
    return relative
