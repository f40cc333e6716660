"""The demo's appeals: in each community with linked residents, messages about last week's
incorrect drops and one appeal in each state (open, upheld, regraded), decided with reasons
through the services, so the ledgers stay exact."""
from __future__ import annotations

from collections import Counter

import pytest
from flask.testing import FlaskClient
from sqlmodel import Session, select

from community.auth.models import Account
from community.demo.context import DEMO_PASSWORD
from community.inbox.models import Notification
from community.points import services as points_services
from community.stations.appeals.models import DropAppeal
from community.stations.models import Drop, DropRegrade

pytestmark = pytest.mark.demo_db  # the demo city, built once per worker: see tests/conftest.py


def test_appeals_in_each_state(session: Session, client: FlaskClient) -> None:
    appeals = list(session.exec(select(DropAppeal)).all())
    per_community = Counter((a.community_id, a.status) for a in appeals)
    communities = {a.community_id for a in appeals}
    assert len(communities) >= 2
    states = ("open", "upheld", "regraded")
    for cid in communities:  # one of each, in this order, as far as there were drops to appeal
        got = [per_community[(cid, s)] for s in states]
        assert got in ([1, 0, 0], [1, 1, 0], [1, 1, 1]), (cid, got)
    full = [cid for cid in communities if per_community[(cid, "regraded")]]
    assert len(full) >= len(communities) // 2
    for a in appeals:
        drop = session.get(Drop, a.drop_id)
        assert drop is not None
        if a.status == "regraded":
            change = session.get(DropRegrade, a.regrade_id)
            assert change is not None
            assert (drop.quality, change.reason) == ("correct", a.decision_reason)
        else:
            assert drop.quality == "incorrect"
        assert (a.status == "open") == (a.decision_reason == "")
    assert points_services.verify(session) == []
    kinds = Counter(session.exec(select(Notification.kind)).all())
    assert kinds["drop_incorrect"] >= len(appeals)
    assert kinds["appeal_upheld"] >= len(full)
    assert kinds["appeal_regraded"] >= len(full)

    # A resident with an open appeal sees its state on the appeal page.
    open_one = next(a for a in appeals if a.status == "open")
    who = session.get(Account, open_one.filed_by)
    assert who is not None
    session.commit()
    resp = client.post("/login", data={"login": who.phone or who.username,
                                       "password": DEMO_PASSWORD})
    assert resp.status_code == 302
    page = client.get(f"/me/drops/{open_one.drop_id}/appeal").get_data(as_text=True)
    assert 'data-status="open"' in page
    assert client.get("/me/inbox").status_code == 200
