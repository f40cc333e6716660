"""Undo over HTTP (both backends): POST /api/v1/drops/<client_id>/void and its error codes."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session

from community import clock
from community.points import services as points_services
from tests import builders
from tests.stations.test_api import NOW, _drop


@pytest.fixture
def scene(session: Session, world: builders.World):
    st = builders.station(session, world.a, "东门投放点")
    other = builders.account(session, "steward", world.a, username="stewardother")
    for acct in (world.steward_a, other):
        builders.on_duty(session, acct, st, NOW - timedelta(hours=2), NOW + timedelta(hours=2))
    session.commit()
    return world, st, other


def test_void_over_the_api(client, session: Session, scene) -> None:
    world, st, other = scene
    hh = world.households_a[0]
    card = builders.active_card(session, hh)
    builders.login(client, world.steward_a)
    with clock.freeze(NOW):
        made = client.post("/api/v1/drops", json=_drop(st.id, card.token, n=1,
                                                       quality="incorrect",
                                                       reason_code="recyclable_dirty"))
        assert made.status_code == 201, made.get_json()
        assert made.get_json()["reason_code"] == "recyclable_dirty"
        ok = client.post("/api/v1/drops", json=_drop(st.id, card.token, n=2,
                                                     category="recyclable"))
        assert ok.get_json()["points"] > 0
        bad = client.post("/api/v1/drops", json=_drop(st.id, card.token, n=3,
                                                      quality="incorrect", reason_code="nope"))
        assert bad.status_code == 422
        assert bad.get_json()["error"] == "reason_unknown"
    with clock.freeze(NOW + timedelta(minutes=3)):
        voided = client.post("/api/v1/drops/api-client-000002/void")
        assert voided.status_code == 200, voided.get_json()
        body = voided.get_json()
        assert body["already"] is False
        assert body["points"] == -ok.get_json()["points"]
        again = client.post("/api/v1/drops/api-client-000002/void")
        assert again.status_code == 200
        assert again.get_json()["already"] is True
        assert again.get_json()["points"] == 0
        missing = client.post("/api/v1/drops/api-client-999999/void")
        assert missing.status_code == 404
        assert missing.get_json()["error"] == "not_found"
    with clock.freeze(NOW + timedelta(minutes=6)):
        late = client.post("/api/v1/drops/api-client-000001/void")
        assert late.status_code == 409
        assert late.get_json()["error"] == "void_too_late"
    client.post("/logout")
    builders.login(client, other)
    with clock.freeze(NOW + timedelta(minutes=1)):
        theirs = client.post("/api/v1/drops/api-client-000001/void")
        assert theirs.status_code == 403
        assert theirs.get_json()["error"] == "void_not_yours"
    session.commit()
    assert points_services.verify(session) == []
    assert points_services.verify_runs(session) == []
