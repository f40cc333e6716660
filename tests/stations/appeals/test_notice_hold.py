"""An incorrect verdict's message waits out the steward's 5-minute undo window (both
backends): held back in the inbox and the SMS outbox until the window shuts, withdrawn (inbox
row and queued text) when the steward undoes the scan meanwhile, and shown and texted
promptly after the window; a drop that cannot be undone any more is told at once."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask
from sqlmodel import Session, select

from community import clock
from community.inbox import jobs as inbox_jobs
from community.inbox import queries as inbox_queries
from community.inbox import services as notifications
from community.inbox.models import Notification, SmsOutbox
from community.sms.dev import DevSender
from community.stations import services
from community.stations.schemas import DropIn
from tests import builders
from tests.stations.appeals.test_services import NOW, actor, loop, scan

__all__ = ["loop"]  # the fixture, used by name


@pytest.fixture(autouse=True)
def _at_the_scan() -> Iterator[None]:
    """The clock at the scans' moment (the outbox dates its texts by the clock)."""
    with clock.freeze(NOW):
        yield


def _texts(app: Flask, session: Session, now) -> list[str]:
    sender, saved = DevSender(), app.extensions["community.sms"]
    app.extensions["community.sms"] = sender
    try:
        with app.app_context():
            list(inbox_jobs.send_sms(session, now=now))
    finally:
        app.extensions["community.sms"] = saved
    session.commit()
    return [t for _p, t in sender.texts]


def _shown(session: Session, account_id: int, now) -> list[str]:
    page = inbox_queries.inbox_page(session, account_id=account_id, now=now)
    return [n.kind for n in page.items]


def test_held_back_through_the_undo_window_then_told(app: Flask, session: Session,
                                                     loop) -> None:
    world, st, hh, _chief = loop
    me = world.resident_a.id
    notifications.set_sms(session, account_id=me, on=True)
    scan(session, world, st, hh)
    note = session.exec(select(Notification).where(Notification.account_id == me)).one()
    assert note.visible_after == NOW + timedelta(minutes=5, seconds=1)
    for inside in (timedelta(0), timedelta(minutes=5)):
        assert _shown(session, me, NOW + inside) == []
        assert inbox_queries.unread_count(session, me, now=NOW + inside) == 0
        assert _texts(app, session, NOW + inside) == []  # the text waits too
    after = NOW + timedelta(minutes=5, seconds=1)
    assert _shown(session, me, after) == ["drop_incorrect"]
    assert inbox_queries.unread_count(session, me, now=after) == 1
    assert _texts(app, session, after) == [
        "您于 11-20 08:30 在玉龙东门投放的厨余垃圾被记录为分类错误：厨余混有塑料袋。"]


def test_an_undone_scan_tells_nobody(app: Flask, session: Session, loop) -> None:
    world, st, hh, _chief = loop
    me = world.resident_a.id
    notifications.set_sms(session, account_id=me, on=True)
    drop_id = scan(session, world, st, hh)
    kept = scan(session, world, st, hh, n=2, category="recyclable")  # not undone: still told
    assert session.exec(select(SmsOutbox)).all()
    services.void_drop(session, actor=actor(session, world.steward_a), client_id="appeal-0001",
                       now=NOW + timedelta(minutes=4))
    session.commit()
    keys = [n.dedupe_key for n in session.exec(select(Notification)).all()]
    assert not any(k and k.startswith(f"drop-incorrect:{drop_id}:") for k in keys)
    assert any(k and k.startswith(f"drop-incorrect:{kept}:") for k in keys)
    later = NOW + timedelta(hours=1)
    assert [n.params["drop"] for n in inbox_queries.inbox_page(
        session, account_id=me, now=later).items] == [kept]
    assert inbox_queries.unread_count(session, me, now=later) == 1
    assert len(_texts(app, session, later)) == 1
    # A second undo (already void) withdraws nothing more and fails nothing.
    again = services.void_drop(session, actor=actor(session, world.steward_a),
                               client_id="appeal-0001", now=NOW + timedelta(minutes=4))
    assert again.already


def test_withdraw_leaves_what_was_shown(session: Session, loop) -> None:
    """Only held-back messages are withdrawn: one already shown is never taken away."""
    world, _st, _hh, _chief = loop
    me = world.resident_a.id
    notifications.notify_many(session, account_ids=[me], kind="drop_incorrect",
                              params={"drop": 1}, dedupe_key="drop-incorrect:1",
                              visible_after=NOW)
    assert notifications.withdraw(session, dedupe_key="drop-incorrect:1", account_ids=[me],
                                  now=NOW + timedelta(seconds=1)) == 0
    assert notifications.withdraw(session, dedupe_key="drop-incorrect:1", account_ids=[me + 1],
                                  now=NOW - timedelta(seconds=1)) == 0  # not theirs
    assert notifications.withdraw(session, dedupe_key="drop-incorrect:1", account_ids=[me],
                                  now=NOW - timedelta(seconds=1)) == 1
    assert session.exec(select(Notification)).all() == []


def test_a_drop_synced_after_its_window_is_told_at_once(session: Session, loop) -> None:
    world, st, hh, _chief = loop
    me = world.resident_a.id
    card_scan_at = NOW - timedelta(minutes=40)  # queued offline, stored 40 minutes later
    card = builders.active_card(session, hh)
    item = DropIn.model_validate({
        "client_id": "late-0001", "station_id": st.id, "category": "kitchen",
        "quality": "incorrect", "happened_at": card_scan_at, "card": card.token,
        "reason_code": "kitchen_plastic_bag"}, strict=False)
    services.record_drop(session, actor=actor(session, world.steward_a), item=item, now=NOW)
    session.commit()
    assert _shown(session, me, NOW) == ["drop_incorrect"]
