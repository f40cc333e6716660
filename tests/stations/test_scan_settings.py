"""A community's scan settings and mis-drop reasons: the manager's page, the scan page's
configuration (both backends)."""
from __future__ import annotations

import json
import re

from sqlmodel import Session, select

from community.stations.models import MisdropReason, ScanSetting
from tests import builders
from tests.stations.helpers import read


def _config(client) -> dict:
    page = client.get("/steward/scan").get_data(as_text=True)
    raw = re.search(r'<script type="application/json" id="scan-config">(.*?)</script>', page, re.S)
    assert raw is not None
    return json.loads(raw.group(1))


def test_manager_sets_the_default_quality_and_adds_a_reason(client, session: Session,
                                                            world: builders.World) -> None:
    st = builders.station(session, world.a)
    session.commit()
    builders.login(client, world.manager_a)
    page = client.get(f"/manage/stations/scan-settings?community_id={world.a.id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "厨余混有塑料袋" in text
    assert 'value="correct" checked' in text.replace(
        ' data-testid="default-quality-correct"', "")
    config = _config(client)
    assert config["default_quality"][str(world.a.id)] == "correct"
    assert [r["code"] for r in config["reasons"][str(world.a.id)]][0] == "kitchen_plastic_bag"
    assert any(s["id"] == st.id for s in config["stations"])

    bad = client.post(f"/manage/stations/scan-settings?community_id={world.a.id}",
                      data={"default_quality": "incorrect"})
    assert bad.status_code == 422
    assert read(session, select(ScanSetting)) == []
    ok = client.post(f"/manage/stations/scan-settings?community_id={world.a.id}",
                     data={"default_quality": "ungraded"})
    assert ok.status_code == 302
    assert _config(client)["default_quality"][str(world.a.id)] == "ungraded"

    added = client.post(f"/manage/stations/reasons?community_id={world.a.id}",
                        data={"label_zh": "玻璃未包好", "label_en": "Glass not wrapped"})
    assert added.status_code == 302
    codes = [r["code"] for r in _config(client)["reasons"][str(world.a.id)]]
    assert codes[-1] == f"c{world.a.id}_1"
    empty = client.post(f"/manage/stations/reasons?community_id={world.a.id}",
                        data={"label_zh": " "})
    assert empty.status_code == 422


def test_other_communities_and_stewards_are_refused(client, session: Session,
                                                    world: builders.World) -> None:
    builders.login(client, world.manager_b)
    assert client.post(f"/manage/stations/scan-settings?community_id={world.a.id}",
                       data={"default_quality": "ungraded"}).status_code in (403, 404)
    assert client.post(f"/manage/stations/reasons?community_id={world.a.id}",
                       data={"label_zh": "x"}).status_code in (403, 404)
    rows = read(session, select(MisdropReason).where(
        MisdropReason.community_id == world.a.id))
    assert rows == []
    client.post("/logout")
    builders.login(client, world.steward_a)
    assert client.get(f"/manage/stations/scan-settings?community_id={world.a.id}"
                      ).status_code in (403, 404)
