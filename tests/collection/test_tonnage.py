"""The area's monthly tonnage form is pre-filled from the collectors' kg, with the source
shown, and stays editable (both backends)."""
from __future__ import annotations

import json
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from community import clock
from community.collection import services
from community.collection.schemas import CollectionIn
from tests import builders
from tests.collection import helpers as h

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 21, 10, 0, tzinfo=SH)


@pytest.fixture(autouse=True)
def frozen():
    """The form's month is this one."""
    with clock.freeze(NOW):
        yield


def test_tonnage_is_prefilled_from_collections(client, session, world, tmp_path) -> None:
    st = h.tagged_station(session, world.a)
    mine = h.collector(session, world.street_a)
    for day, kitchen, recyclable in ((3, 1200, 400), (4, 1300, 450.5)):
        body = h.pickup(h.token(session, st), datetime(2026, 11, day, 6, 30, tzinfo=SH),
                        {"category": "kitchen", "bins": 10, "kg": kitchen},
                        {"category": "recyclable", "bins": 2, "kg": recyclable},
                        {"category": "other", "bins": 8, "kg": 2000})
        services.record_collection(session, actor=h.actor_of(session, mine),
                                   item=CollectionIn.model_validate_json(json.dumps(body)),
                                   photo_dir=tmp_path, now=NOW)
    session.commit()
    builders.login(client, world.city_admin)
    page = client.get(f"/dashboard/tonnage?area_id={world.street_a.id}&month=2026-11")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'data-testid="tonnage-prefilled"' in html
    assert re.search(r'name="kitchen"[^>]*value="2.50"', html)
    assert re.search(r'name="recyclables"[^>]*value="0.85"', html)
    assert "4.00 t" in html  # other waste, shown as a source only
    # Another street has no collections: nothing pre-filled there.
    other = client.get(f"/dashboard/tonnage?area_id={world.street_b.id}&month=2026-11")
    assert other.status_code == 200
    assert 'data-testid="tonnage-collected"' not in other.get_data(as_text=True)
