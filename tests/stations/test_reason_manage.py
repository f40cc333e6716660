"""A manager manages the community's own mis-drop reasons: add (no duplicate labels), edit
and deactivate them from the scan settings page; the city's defaults stay the city admin's."""
from __future__ import annotations

from sqlmodel import Session, select

from community.stations import reasons
from community.stations.models import MisdropReason
from tests import builders
from tests.stations.helpers import read

ADD = "/manage/stations/reasons?community_id={}"


def _reason(label_zh: str, label_en: str = "", active: bool = True,
            rid: int = 1) -> MisdropReason:
    return MisdropReason(id=rid, code=f"r{rid}", label_zh=label_zh, label_en=label_en,
                         active=active, position=rid)


def test_duplicate_labels_are_found_ignoring_case_and_spaces() -> None:
    rows = [_reason("厨余混有塑料袋", "Plastic bag in kitchen waste"),
            _reason("玻璃未包好", "Glass", active=False, rid=2)]
    assert reasons.duplicate_field(rows, label_zh=" 厨余混有塑料袋 ", label_en="") == "label_zh"
    assert reasons.duplicate_field(rows, label_zh="新", label_en="plastic bag in  KITCHEN waste"
                                   ) == "label_en"
    assert reasons.duplicate_field(rows, label_zh="玻璃未包好", label_en="") is None  # inactive
    assert reasons.duplicate_field(rows, label_zh="厨余混有塑料袋", label_en="",
                                   exclude_id=1) is None  # the reason itself


def test_manager_adds_edits_and_deactivates_own_reasons(client, session: Session,
                                                        world: builders.World) -> None:
    builders.login(client, world.manager_a)
    assert client.post(ADD.format(world.a.id), data={"label_zh": "玻璃未包好"}).status_code == 302
    for label in ("玻璃未包好", "厨余混有塑料袋"):  # its own, a city default
        twice = client.post(ADD.format(world.a.id), data={"label_zh": label})
        assert twice.status_code == 422
        assert "已有" in twice.get_data(as_text=True)
    own = read(session, select(MisdropReason).where(MisdropReason.community_id == world.a.id))
    assert [r.label_zh for r in own] == ["玻璃未包好"]
    rid = own[0].id

    page = client.get(f"/manage/stations/scan-settings?community_id={world.a.id}")
    assert f'action="/manage/reasons/{rid}"' in page.get_data(as_text=True)
    saved = client.post(f"/manage/reasons/{rid}", data={f"r{rid}-label_zh": "玻璃瓶未包好",
                                                         f"r{rid}-label_en": "Glass unwrapped"})
    assert saved.status_code == 302
    assert "/manage/stations/scan-settings" in saved.headers["Location"]
    assert client.get(saved.headers["Location"]).status_code == 200
    dup = client.post(f"/manage/reasons/{rid}", data={f"r{rid}-label_zh": "厨余混有塑料袋"})
    assert dup.status_code == 422
    assert "已有" in dup.get_data(as_text=True)
    default = read(session, select(MisdropReason).where(MisdropReason.community_id.is_(None)))[0]
    assert client.post(f"/manage/reasons/{default.id}", data={
        f"r{default.id}-label_zh": "改"}).status_code == 403
    assert client.post(f"/manage/stations/reasons/{default.id}/active",
                       data={"active": "0"}).status_code == 403

    off = client.post(f"/manage/stations/reasons/{rid}/active", data={"active": "0"})
    assert off.status_code == 302
    session.expire_all()
    assert [r.code for r in reasons.reason_rows(session, world.a.id)
            if r.community_id is not None] == []
    row = read(session, select(MisdropReason).where(MisdropReason.id == rid))[0]
    assert (row.label_zh, row.active) == ("玻璃瓶未包好", False)
    client.post("/logout")
    builders.login(client, world.manager_b)
    assert client.post(f"/manage/stations/reasons/{rid}/active",
                       data={"active": "1"}).status_code in (403, 404)
