"""Drop photos over the API: real images only, at most 5 MB, EXIF stripped, stored per drop."""
from __future__ import annotations

import io
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from PIL import Image
from sqlmodel import Session, select

from community import clock
from community.stations import photos
from community.stations.models import Drop, client_id_matches
from tests import builders

NOW = datetime(2026, 11, 20, 8, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
CLIENT_ID = "photo-client-000001"


def _image(fmt: str = "PNG", size: tuple[int, int] = (64, 48), exif: bool = False) -> bytes:
    img = Image.new("RGB", size, (30, 160, 60))
    out = io.BytesIO()
    if exif:
        data = Image.Exif()
        data[0x010F] = "SecretPhoneMaker"  # Make
        img.save(out, fmt, exif=data.tobytes())
    else:
        img.save(out, fmt)
    return out.getvalue()


@pytest.fixture
def recorded(client, session: Session, world: builders.World):
    """A steward logged in, with one recorded drop in community A."""
    st = builders.station(session, world.a)
    builders.on_duty(session, world.steward_a, st, NOW - timedelta(hours=2),
                     NOW + timedelta(hours=2))
    session.commit()
    builders.login(client, world.steward_a)
    with clock.freeze(NOW):
        resp = client.post("/api/v1/drops", json={
            "client_id": CLIENT_ID, "station_id": st.id, "category": "kitchen",
            "happened_at": NOW.isoformat(), "tally": True})
    assert resp.status_code == 201
    return world


def _photo_of(session: Session) -> str | None:
    session.commit()
    return session.exec(select(Drop.photo).where(client_id_matches([CLIENT_ID]))).one()


def _post(client, data: bytes, name: str = "p.jpg", client_id: str = CLIENT_ID):
    return client.post(f"/api/v1/drops/{client_id}/photo",
                       data={"photo": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def test_photo_is_stored_without_exif(app: Flask, client, session: Session, recorded) -> None:
    resp = _post(client, _image("JPEG", exif=True))
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json() == {"photo": True}
    stored = _photo_of(session)
    assert stored is not None
    assert stored.endswith(".jpg")
    path = Path(app.config["UPLOAD_DIR"]) / "photos" / stored
    assert path.is_file()
    content = path.read_bytes()
    assert b"SecretPhoneMaker" not in content
    with Image.open(io.BytesIO(content)) as img:
        assert img.format == "JPEG"
        assert img.size == (64, 48)
        assert not img.getexif()


@pytest.mark.parametrize(("data", "name"), [
    (b"GIF89a" + b"\x00" * 100, "fake.gif"),
    (b"%PDF-1.4 not an image", "doc.jpg"),
    (_image("PNG")[:60], "truncated.png"),
    (_image("GIF"), "real.gif"),
    (b"", "empty.png"),
])
def test_not_an_allowed_image_is_refused(client, session: Session, recorded, data: bytes,
                                         name: str) -> None:
    resp = _post(client, data, name)
    assert resp.status_code == 422
    body = resp.get_json()
    assert body["error"] == "photo_invalid"
    assert body["fields"] == {"photo": "照片须为 JPEG、PNG 或 WebP 图片。"}
    assert _photo_of(session) is None


def test_photo_limits_and_errors(client, session: Session, recorded) -> None:
    big = _image("PNG") + b"\x00" * (5 * 1024 * 1024)
    resp = _post(client, big)
    assert resp.status_code == 413
    assert resp.get_json()["error"] == "photo_too_large"
    assert resp.get_json()["message"] == "照片超过 5 MB。"
    resp = _post(client, big + b"\x00" * photos.MAX_PHOTO_BYTES)  # the request itself is too big
    assert resp.status_code == 413
    assert resp.get_json()["error"] == "too_large"
    resp = client.post(f"/api/v1/drops/{CLIENT_ID}/photo", data=_image("PNG"),
                       content_type="image/png")
    assert resp.status_code == 415
    resp = client.post(f"/api/v1/drops/{CLIENT_ID}/photo", data={"other": "x"},
                       content_type="multipart/form-data")
    assert resp.status_code == 422
    assert resp.get_json()["fields"] == {"photo": "部分字段无效。"}
    resp = _post(client, _image("WEBP"), client_id="no-such-client-id")
    assert resp.status_code == 404
    assert resp.get_json()["error"] == "drop_unknown"
    assert _photo_of(session) is None
    assert _post(client, _image("WEBP")).status_code == 200
    assert _photo_of(session).endswith(".webp")


def test_photo_of_another_communitys_drop_is_unknown(client, session: Session,
                                                     recorded) -> None:
    """Client ids are unique per community: another community's drop is not found."""
    world = recorded
    client.post("/logout")
    builders.login(client, world.manager_b)
    resp = _post(client, _image("PNG"))
    assert resp.status_code == 404
    assert resp.get_json()["error"] == "drop_unknown"
    assert _photo_of(session) is None


def test_clean_photo_refuses_decompression_bombs() -> None:
    bomb = _image("PNG", size=(8000, 6000))  # 48 MP of one colour compresses tiny
    assert len(bomb) < photos.MAX_PHOTO_BYTES
    with pytest.raises(photos.PhotoInvalid):
        photos.clean_photo(bomb)
    content, ext = photos.clean_photo(_image("PNG"))
    assert ext == "png"
    assert content.startswith(b"\x89PNG")


def test_only_the_recorder_or_a_manager_replaces_a_photo(client, session: Session,
                                                         recorded) -> None:
    """Another steward may not replace the recorder's photo; the recorder and a manager may,
    and a replacement is audited with the old and new file."""
    from community.audit.models import AuditEntry

    assert _post(client, _image("PNG")).status_code == 200
    first = _photo_of(session)
    client.post("/logout")
    other = builders.account(session, "steward", recorded.a, username="stewardother")
    session.commit()
    builders.login(client, other)
    resp = _post(client, _image("JPEG"))
    assert resp.status_code == 403
    assert resp.get_json()["error"] == "photo_not_yours"
    assert _photo_of(session) == first
    client.post("/logout")
    builders.login(client, recorded.steward_a)
    assert _post(client, _image("JPEG", size=(32, 32))).status_code == 200
    second = _photo_of(session)
    assert second != first
    client.post("/logout")
    builders.login(client, recorded.manager_a)
    assert _post(client, _image("PNG", size=(40, 40))).status_code == 200
    third = _photo_of(session)
    replaced = session.exec(select(AuditEntry).where(
        AuditEntry.action == "drop.photo_replaced").order_by(AuditEntry.id)).all()
    assert [(e.actor_id, e.detail["old"], e.detail["new"]) for e in replaced] == [
        (recorded.steward_a.id, first, second), (recorded.manager_a.id, second, third)]
