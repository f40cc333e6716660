"""A resident's data download marks a drop its steward undid (both backends): listed, since it
happened, with `undone`, when, and a note in words; its points are reversed alongside."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from tests import builders
from tests.residents.test_my_account import member


def test_an_undone_drop_is_marked_in_the_download(client, session: Session,
                                                   world: builders.World) -> None:
    hh = world.households_a[0]
    member(session, hh, world.resident_a, role="head")
    st = builders.station(session, world.a, "北门")
    at = datetime(2026, 11, 20, 0, 30, tzinfo=UTC)
    builders.drop(session, st, hh, category="kitchen", quality="correct", happened_at=at)
    undone = builders.drop(session, st, hh, category="other", quality="incorrect",
                           happened_at=at + timedelta(minutes=1))
    undone.voided_at, undone.voided_by = at + timedelta(minutes=3), world.steward_a.id
    session.add(undone)
    session.commit()
    builders.login(client, world.resident_a)
    client.post("/lang", data={"lang": "zh", "next": "/me/"})
    [home] = json.loads(client.get("/me/data.json").get_data(as_text=True))["households"]
    assert [(d["category"], d["undone"], d["note"]) for d in home["drops"]] == [
        ("kitchen", False, ""), ("other", True, "已撤销")]
    assert home["drops"][1]["undone_at"].startswith("2026-11-20T00:33")
    assert home["drops"][0]["undone_at"] is None
