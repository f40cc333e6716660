"""The scan use case: record_drop / record_drops (service level, both backends)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, func, select

from community import clock
from community.auth import services as auth_services
from community.errors import CardRevoked, CardUnknown, Forbidden, InvalidInput
from community.households import services as hh_services
from community.stations import reasons, services
from community.stations.manage import services as manage_services
from community.stations.models import Drop
from community.stations.schemas import DeviceIn, DropIn, RegradeIn
from tests import builders

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 20, 8, 30, tzinfo=SH)  # a Friday, inside 07:00–09:00


def _item(station_id: int, card: str | None, n: int = 1, **kw) -> DropIn:
    data = {"client_id": f"client-{n:06d}", "station_id": station_id, "category": "kitchen",
            "quality": "correct", "happened_at": NOW, "card": card} | kw
    return DropIn.model_validate(data, strict=False)


@pytest.fixture
def scene(session: Session, world: builders.World):
    st = builders.station(session, world.a)
    # The steward's shift covers every moment these tests record at (a whole day around NOW).
    builders.on_duty(session, world.steward_a, st, NOW - timedelta(hours=10),
                     NOW + timedelta(hours=14))
    session.commit()
    steward = auth_services.load_actor(session, world.steward_a.id)
    return world, st, steward


def _count(session: Session) -> int:
    session.expire_all()
    n = session.exec(select(func.count()).select_from(Drop)).one()
    session.commit()
    return n


def test_scan_in_window_then_replay(session: Session, scene) -> None:
    world, st, steward = scene
    card = builders.active_card(session, world.households_a[0])
    first = services.record_drop(session, actor=steward, item=_item(st.id, card.token), now=NOW)
    session.commit()
    assert first.in_window
    assert first.source == "scan"
    assert first.household_label == "1栋1单元101室"
    again = services.record_drop(session, actor=steward, item=_item(st.id, card.token), now=NOW)
    session.commit()
    assert again.replay
    assert again.id == first.id
    assert _count(session) == 1


def test_short_code_is_manual_and_out_of_window_is_flagged(session: Session, scene) -> None:
    world, st, steward = scene
    card = builders.active_card(session, world.households_a[1])
    noon = NOW.replace(hour=12)
    typed = card.short_code[:4].lower() + "-" + card.short_code[4:]
    res = services.record_drop(session, actor=steward,
                               item=_item(st.id, typed, happened_at=noon), now=noon)
    assert res.source == "manual"
    assert not res.in_window
    assert "out_of_window" in res.warnings


def test_revoked_and_unknown_cards_are_refused(session: Session, scene) -> None:
    world, st, steward = scene
    hh = world.households_a[0]
    old = builders.active_card(session, hh)
    with clock.freeze(NOW - timedelta(hours=1)):  # revoked before the drop happened
        hh_services.reissue_card(session, household_id=hh.id,
                                 actor=auth_services.load_actor(session, world.manager_a.id))
    session.commit()
    with pytest.raises(CardRevoked):
        services.record_drop(session, actor=steward, item=_item(st.id, old.token), now=NOW)
    with pytest.raises(CardUnknown):
        services.record_drop(session, actor=steward, item=_item(st.id, "x" * 24, n=2), now=NOW)
    session.rollback()
    assert _count(session) == 0


def test_a_drop_made_before_the_card_was_revoked_is_recorded_and_scores(
        session: Session, scene) -> None:
    """DOMAIN.md: device time before the revocation → recorded and scores; at or after → no."""
    world, st, steward = scene
    hh = world.households_a[0]
    old = builders.active_card(session, hh)
    manager = auth_services.load_actor(session, world.manager_a.id)
    revoked_at = NOW + timedelta(minutes=5)
    with clock.freeze(revoked_at):
        hh_services.reissue_card(session, actor=manager, household_id=hh.id)
    session.commit()
    later = NOW + timedelta(hours=1)  # uploaded after the revocation, from an offline queue
    before = services.record_drop(session, actor=steward, now=later, item=_item(
        st.id, old.token, happened_at=revoked_at - timedelta(seconds=1)))
    assert before.household_id == hh.id
    assert before.points == 2
    for n, moment in ((2, revoked_at), (3, revoked_at + timedelta(seconds=1))):
        with pytest.raises(CardRevoked):
            services.record_drop(session, actor=steward, now=later,
                                 item=_item(st.id, old.token, n=n, happened_at=moment))


def test_a_drop_made_before_a_suspension_is_recorded(session: Session, scene) -> None:
    """Like a card's revocation: what counts is whether the station was open when the drop
    happened (device time), not when it was uploaded."""
    world, st, steward = scene
    manage_services.start_history(session, st, "Asia/Shanghai")
    card = builders.active_card(session, world.households_a[0])
    manager = auth_services.load_actor(session, world.manager_a.id)
    suspended_at = NOW + timedelta(minutes=5)
    manage_services.set_station_status(session, actor=manager, station_id=st.id,
                                       status="suspended", now=suspended_at)
    session.commit()
    later = NOW + timedelta(hours=2)
    kept = services.record_drop(session, actor=steward, now=later, item=_item(
        st.id, card.token, happened_at=suspended_at - timedelta(seconds=1)))
    assert kept.in_window
    with pytest.raises(services.StationSuspended):
        services.record_drop(session, actor=steward, now=later,
                             item=_item(st.id, card.token, n=2, happened_at=suspended_at))


def test_foreign_steward_and_foreign_card(session: Session, scene) -> None:
    world, st, steward = scene
    other = builders.account(session, "steward", world.b)
    session.commit()
    card = builders.active_card(session, world.households_a[0])
    with pytest.raises(Forbidden):
        services.record_drop(session, actor=auth_services.load_actor(session, other.id),
                             item=_item(st.id, card.token), now=NOW)
    # A card is resolved within the station's community: another community's is unknown.
    card_b = builders.active_card(session, world.households_b[0])
    with pytest.raises(CardUnknown):
        services.record_drop(session, actor=steward, item=_item(st.id, card_b.token), now=NOW)
    with pytest.raises(CardUnknown):
        services.record_drop(session, actor=steward, item=_item(st.id, card_b.short_code, n=2),
                             now=NOW)


def test_batch_keeps_good_items_and_reports_bad_ones(session: Session, scene) -> None:
    world, st, steward = scene
    cards = [builders.active_card(session, h) for h in world.households_a]
    items = [
        _item(st.id, cards[0].token, n=1),
        _item(st.id, "unknown-token-123456789", n=2),
        _item(st.id, None, n=3, tally=True),
        _item(st.id, cards[1].token, n=4, happened_at=NOW + timedelta(hours=2)),  # future
        _item(st.id, cards[2].token, n=5, category="hazardous", weight_kg="0.250"),
        _item(st.id, cards[0].token, n=1),  # the same client id again inside the batch
        _item(999999, cards[0].token, n=6),
    ]
    out = services.record_drops(session, actor=steward, items=items, now=NOW)
    session.commit()
    kinds = [type(o).__name__ for o in out]
    assert kinds == ["DropOut", "DropError", "DropOut", "DropError", "DropOut",
                     "DropOut", "DropError"]
    assert out[1].error.code == "card_unknown"
    assert out[2].source == "tally"
    assert out[2].household_id is None
    assert out[3].error.code == "time_in_future"
    assert out[5].replay
    assert out[5].id == out[0].id
    assert out[6].error.code == "station_unknown"
    assert _count(session) == 3


def test_recent_duplicate_warns(session: Session, scene) -> None:
    world, st, steward = scene
    card = builders.active_card(session, world.households_a[0])
    services.record_drop(session, actor=steward, item=_item(st.id, card.token, n=1), now=NOW)
    later = NOW + timedelta(minutes=3)
    res = services.record_drop(session, actor=steward,
                               item=_item(st.id, card.token, n=2, happened_at=later), now=later)
    assert "recent_duplicate" in res.warnings
    other_cat = services.record_drop(
        session, actor=steward,
        item=_item(st.id, card.token, n=3, happened_at=later, category="other"), now=later)
    assert "recent_duplicate" not in other_cat.warnings


def test_an_offline_batch_spanning_hours_reads_only_each_drops_own_window(
        session: Session, scene) -> None:
    """A repeat is a drop of the same household and category within ten minutes of another.
    An upload spanning hours finds each item's own neighbours: on PostgreSQL the repeat check
    reads only the stored drops within ten minutes of some item (one window per item), not
    every drop of the batch's households between its earliest and latest times."""
    world, st, steward = scene
    a, b = (builders.active_card(session, h) for h in world.households_a[:2])
    stored = {}
    for n, (card, minutes) in enumerate([(a, -60), (a, 0), (b, -30)], start=1):
        moment = NOW + timedelta(minutes=minutes)
        stored[(card.household_id, minutes)] = services.record_drop(
            session, actor=steward, item=_item(st.id, card.token, n=n, happened_at=moment),
            now=NOW).id
    session.commit()
    batch = [_item(st.id, a.token, n=11, happened_at=NOW - timedelta(minutes=58)),
             _item(st.id, a.token, n=12, happened_at=NOW - timedelta(minutes=25)),
             _item(st.id, b.token, n=13, happened_at=NOW + timedelta(minutes=20))]
    out = services.record_drops(session, actor=steward, items=batch,
                                now=NOW + timedelta(minutes=30))
    session.commit()
    assert [getattr(o, "warnings", o) for o in out] == [["recent_duplicate"], [], []]
    rows = [{"household_id": i.card and c.household_id, "category": i.category,
             "happened_at": i.happened_at} for i, c in zip(batch, (a, a, b), strict=True)]
    found = {d[3] for d in services._recent_drops(session, world.a.id, rows)} - {
        o.id for o in out}  # the batch's own rows, stored since
    first = stored[(a.household_id, -60)]
    if session.get_bind().dialect.name == "postgresql":
        assert found == {first}
    else:  # SQLite (one small community): the batch's time range, matched in Python
        assert first in found


def test_local_date_uses_the_community_zone(session: Session, scene) -> None:
    world, st, steward = scene
    card = builders.active_card(session, world.households_a[0])
    moment = datetime(2026, 11, 19, 23, 30, tzinfo=UTC)  # 07:30 on the 20th in Shanghai
    services.record_drop(session, actor=steward,
                         item=_item(st.id, card.token, happened_at=moment), now=NOW)
    session.commit()
    drop = session.exec(select(Drop)).one()
    assert str(drop.local_date) == "2026-11-20"
    assert drop.in_window


def test_device_token_records_and_revocation_stops_it(session: Session, scene) -> None:
    world, st, _steward = scene
    manager = auth_services.load_actor(session, world.manager_a.id)
    device, token = services.issue_device(session, actor=manager, community_id=world.a.id,
                                          data=DeviceIn.parse(name="智能桶 1", station_id=st.id))
    session.commit()
    assert token not in device.token_hash
    found, dev_actor = services.authenticate_device(session, token)
    card = builders.active_card(session, world.households_a[0])
    res = services.record_drop(session, actor=dev_actor, item=_item(st.id, card.token),
                               device=found, now=NOW)
    assert res.source == "device"
    services.revoke_device(session, actor=manager, device_id=device.id)
    session.commit()
    with pytest.raises(services.DeviceUnauthorized):
        services.authenticate_device(session, token)
    manager_b = auth_services.load_actor(session, world.manager_b.id)
    with pytest.raises(Forbidden):
        services.issue_device(session, actor=manager_b, community_id=world.a.id,
                              data=DeviceIn.parse(name="x"))


def test_regrade_keeps_history(session: Session, scene) -> None:
    world, st, steward = scene
    card = builders.active_card(session, world.households_a[0])
    res = services.record_drop(session, actor=steward, item=_item(st.id, card.token), now=NOW)
    session.commit()
    manager = auth_services.load_actor(session, world.manager_a.id)
    change = services.regrade_drop(
        session, actor=manager, drop_id=res.id,
        data=RegradeIn.parse(quality="incorrect",
                             reason_code=builders.MISDROP, reason="照片显示混有塑料袋"))
    session.commit()
    assert (change.from_quality, change.to_quality) == ("correct", "incorrect")
    with pytest.raises(Forbidden):
        services.regrade_drop(session, actor=steward, drop_id=res.id,
                              data=RegradeIn.parse(quality="correct", reason="复核"))
    with pytest.raises(InvalidInput):
        services.regrade_drop(session, actor=manager, drop_id=res.id,
                              data=RegradeIn.parse(quality="incorrect",
                                                   reason_code=builders.MISDROP, reason="复核"))
    # Every regrade says why (the household is told): no reason, or only spaces, is refused.
    for blank in ({}, {"reason": "  "}):
        with pytest.raises(InvalidInput) as err:
            RegradeIn.parse(quality="correct", **blank)
        assert err.value.details["field"] == "reason"


def test_a_regrade_to_incorrect_names_its_mis_drop_reason(session: Session, scene) -> None:
    """DOMAIN "The mis-drop loop": an incorrect verdict always carries its reason (the
    household is shown how to sort it right), a regrade's as much as a steward's."""
    world, st, steward = scene
    card = builders.active_card(session, world.households_a[0])
    res = services.record_drop(session, actor=steward, item=_item(st.id, card.token), now=NOW)
    session.commit()
    manager = auth_services.load_actor(session, world.manager_a.id)
    with pytest.raises(InvalidInput) as err:
        services.regrade_drop(session, actor=manager, drop_id=res.id,
                              data=RegradeIn.parse(quality="incorrect", reason="复核"))
    assert err.value.details["field"] == "reason_code"
    with pytest.raises(reasons.ReasonUnknown):
        services.regrade_drop(session, actor=manager, drop_id=res.id,
                              data=RegradeIn.parse(quality="incorrect", reason="复核",
                                                   reason_code="no_such_reason"))
    with pytest.raises(reasons.ReasonNotIncorrect):  # only an incorrect drop has a reason
        services.regrade_drop(session, actor=manager, drop_id=res.id,
                              data=RegradeIn.parse(quality="ungraded", reason="复核",
                                                   reason_code=builders.MISDROP))
    session.rollback()

    def reason_code() -> str | None:
        session.expire_all()
        return session.get(Drop, res.id).reason_code

    assert reason_code() is None
    services.regrade_drop(session, actor=manager, drop_id=res.id,
                          data=RegradeIn.parse(quality="incorrect", reason="复核",
                                               reason_code=builders.MISDROP))
    session.commit()
    assert reason_code() == builders.MISDROP
    # Regraded away and back: the reason it carries stands unless another is named.
    services.regrade_drop(session, actor=manager, drop_id=res.id,
                          data=RegradeIn.parse(quality="correct", reason="复核：正确"))
    services.regrade_drop(session, actor=manager, drop_id=res.id,
                          data=RegradeIn.parse(quality="incorrect", reason="再复核"))
    session.commit()
    assert reason_code() == builders.MISDROP


def test_device_bound_to_a_station_records_only_there(session: Session, scene) -> None:
    world, st, _steward = scene
    other = builders.station(session, world.a, "北门投放点")
    manager = auth_services.load_actor(session, world.manager_a.id)
    _device, token = services.issue_device(session, actor=manager, community_id=world.a.id,
                                           data=DeviceIn.parse(name="厨余秤", station_id=st.id))
    session.commit()
    device, dev_actor = services.authenticate_device(session, token)
    card = builders.active_card(session, world.households_a[0])
    with pytest.raises(Forbidden):
        services.record_drop(session, actor=dev_actor, item=_item(other.id, card.token),
                             device=device, now=NOW)
    assert services.record_drop(session, actor=dev_actor, item=_item(st.id, card.token),
                                device=device, now=NOW).source == "device"


# --- Stewards record only on duty (issue 14, part 6) ----------------------------------------

def test_a_steward_records_only_on_a_checked_in_shift_at_that_station(
        session: Session, world: builders.World) -> None:
    """Off shift, at another station, before checking in, or with a device time outside the
    shift (+30 min) a steward's drop is refused (nothing stored); a chief and a manager record
    anywhere in their community."""
    from community.stations.duty import NotOnDuty
    from community.volunteers.models import ShiftAssignment

    st, other = builders.station(session, world.a), builders.station(session, world.a)
    start, end = NOW.replace(hour=7, minute=0), NOW.replace(hour=9, minute=0)
    post = builders.on_duty(session, world.steward_a, st, start, end)
    card = builders.active_card(session, world.households_a[0]).token
    session.commit()
    steward = auth_services.load_actor(session, world.steward_a.id)
    off = [_item(st.id, card, 11, happened_at=start - timedelta(minutes=31)),
           _item(st.id, card, 12, happened_at=end + timedelta(minutes=31)),
           _item(other.id, card, 13)]
    later = end + timedelta(hours=1)
    for item in off:
        with pytest.raises(NotOnDuty):
            services.record_drop(session, actor=steward, item=item, now=later)
        session.rollback()
    assert _count(session) == 0
    # The margin: half an hour either side of the shift; a batch keeps its good items.
    got = services.record_drops(session, actor=steward, now=later, items=[
        _item(st.id, card, 21, happened_at=start - timedelta(minutes=30)),
        _item(st.id, card, 22, happened_at=end + timedelta(minutes=30), category="other"),
        *off])
    session.commit()
    assert [type(o).__name__ for o in got] == ["DropOut", "DropOut"] + ["DropError"] * 3
    assert got[2].error.code == "not_on_duty"  # type: ignore[union-attr]
    # Not checked in: the same shift no longer counts.
    row = session.get(ShiftAssignment, post.id)
    row.checked_in_at = None  # type: ignore[union-attr]
    session.commit()
    with pytest.raises(NotOnDuty):
        services.record_drop(session, actor=steward, item=_item(st.id, card, 31), now=NOW)
    session.rollback()
    # Chiefs and managers record at any station of their community, at any time.
    chief = builders.account(session, "station_chief", world.a)
    session.commit()
    for n, who in enumerate((chief, world.manager_a)):
        acting = auth_services.load_actor(session, who.id)
        services.record_drop(session, actor=acting, now=NOW,
                             item=_item(other.id, card, 41 + n, happened_at=NOW.replace(hour=3)))
    session.commit()
    assert _count(session) == 4
