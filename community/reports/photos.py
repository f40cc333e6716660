"""Report photos: checked and re-encoded without metadata by `community.images`, stored per
community and report; the GPS position of the original is read only when the reporter
agreed to share it (it is kept as the report's coordinates, never in the stored file)."""
from __future__ import annotations

import hashlib
import io
from pathlib import Path

from PIL import Image

from community.images import clean_photo, write_atomic

__all__ = ["clean_photo", "location_of", "relative_path", "store"]

GPS_IFD = 0x8825


def _degrees(value: object) -> float | None:
    try:
        d, m, s = (float(x) for x in value)  # type: ignore[attr-defined]
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return d + m / 60 + s / 3600


def location_of(data: bytes) -> tuple[float, float] | None:
    """(latitude, longitude) from a photo's EXIF GPS tags, or None (none, or unreadable).
    Call only on data `clean_photo` accepted."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            gps = img.getexif().get_ifd(GPS_IFD)
    except (OSError, ValueError, SyntaxError):
        return None
    lat, lon = _degrees(gps.get(2)), _degrees(gps.get(4))
    if lat is None or lon is None:
        return None
    if gps.get(1) == "S":
        lat = -lat
    if gps.get(3) == "W":
        lon = -lon
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return round(lat, 6), round(lon, 6)


def relative_path(community_id: int, report_id: int, tag: str, content: bytes,
                  ext: str) -> str:
    """Where a cleaned photo of a report goes under the reports' folder."""
    digest = hashlib.sha256(content).hexdigest()[:16]
    return f"{community_id}/{report_id}-{tag}-{digest}.{ext}"


def store(photo_dir: Path, relative: str, content: bytes) -> None:
    """Write a cleaned photo (atomically: readers never see half a file)."""
    write_atomic(photo_dir / relative, content)
