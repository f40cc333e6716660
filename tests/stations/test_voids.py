"""The scan page's safety nets at the service level (both backends): a steward's undo (void)
of their own scan within 5 minutes, repeats within the duplicate window, mis-drop reasons."""
from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, select

from community.auth import services as auth_services
from community.dirty.models import DirtyDay
from community.errors import NotFound
from community.points import services as points_services
from community.points.models import LedgerEntry
from community.ratings import rollups
from community.ratings.models import StationDay
from community.stations import reasons, services
from community.stations.models import Drop
from community.stations.schemas import DropIn, RegradeIn
from tests import builders
from tests.stations.test_record import NOW

SH = ZoneInfo("Asia/Shanghai")


def _item(station_id: int, card: str | None, n: int, **kw) -> DropIn:
    data = {"client_id": f"void-{n:06d}", "station_id": station_id, "category": "kitchen",
            "quality": "correct", "happened_at": NOW, "card": card} | kw
    return DropIn.model_validate(data, strict=False)


@pytest.fixture
def scene(session: Session, world: builders.World):
    st = builders.station(session, world.a)
    builders.on_duty(session, world.steward_a, st, NOW - timedelta(hours=10),
                     NOW + timedelta(hours=16))
    other = builders.account(session, "steward", world.a)
    builders.on_duty(session, other, st, NOW - timedelta(hours=10), NOW + timedelta(hours=16))
    session.commit()
    steward = auth_services.load_actor(session, world.steward_a.id)
    return world, st, steward, auth_services.load_actor(session, other.id)


def _clean(session: Session) -> None:
    assert points_services.verify(session) == []
    assert points_services.verify_runs(session) == []
    assert points_services.misdated_reversals(session) == []


def test_void_reverses_points_once_and_keeps_the_drop(session: Session, scene) -> None:
    world, st, steward, _other = scene
    hh = world.households_a[0]
    card = builders.active_card(session, hh)
    res = services.record_drop(session, actor=steward, item=_item(st.id, card.token, 1),
                               now=NOW)
    assert res.points
    assert res.points > 0
    assert points_services.balance(session, hh.id) == res.points
    out = services.void_drop(session, actor=steward, client_id=res.client_id,
                             now=NOW + timedelta(minutes=4))
    assert not out.already
    assert out.points == -res.points
    assert out.voided_by == world.steward_a.id
    assert points_services.balance(session, hh.id) == 0
    drop = session.get(Drop, res.id)
    assert drop is not None
    assert drop.voided_at is not None
    assert drop.voided_by == steward.account_id
    _clean(session)
    # Twice: nothing more moves, the answer says so.
    again = services.void_drop(session, actor=steward, client_id=res.client_id,
                               now=NOW + timedelta(minutes=4, seconds=30))
    assert again.already
    assert again.points == 0
    reversals = session.exec(select(LedgerEntry).where(LedgerEntry.kind == "reversal")).all()
    assert len(reversals) == 1
    assert points_services.balance(session, hh.id) == 0
    _clean(session)
    # The history says why.
    text = points_services.history(session, household_id=hh.id)[0].text
    assert "steward" in text or "督导" in text
    # A voided drop cannot be regraded.
    chief = builders.recorder(session, world.a)
    with pytest.raises(services.DropVoided):
        services.regrade_drop(session, actor=chief, drop_id=res.id,
                              data=RegradeIn(quality="incorrect",
                                             reason_code=builders.MISDROP, reason="x"))


def test_void_refusals_change_nothing(session: Session, scene) -> None:
    world, st, steward, other = scene
    hh = world.households_a[0]
    card = builders.active_card(session, hh)
    res = services.record_drop(session, actor=steward, item=_item(st.id, card.token, 1),
                               now=NOW)
    before = points_services.balance(session, hh.id)
    with pytest.raises(services.VoidNotYours) as not_yours:
        services.void_drop(session, actor=other, client_id=res.client_id,
                           now=NOW + timedelta(minutes=1))
    assert not_yours.value.code == "void_not_yours"
    with pytest.raises(services.VoidTooLate) as late:
        services.void_drop(session, actor=steward, client_id=res.client_id,
                           now=NOW + timedelta(minutes=5, seconds=1))
    assert late.value.code == "void_too_late"
    with pytest.raises(NotFound):
        services.void_drop(session, actor=steward, client_id="no-such-client",
                           now=NOW + timedelta(minutes=1))
    assert session.get(Drop, res.id).voided_at is None  # type: ignore[union-attr]
    assert points_services.balance(session, hh.id) == before
    _clean(session)


def test_void_recomputes_strikes_and_streaks(session: Session, scene) -> None:
    """Voiding an incorrect drop takes its strike (and the penalty it moved) back; voiding
    a day's only correct drop breaks the run it made, and the stored run follows."""
    world, st, steward, _other = scene
    hh = world.households_a[1]
    card = builders.active_card(session, hh)
    # Six correct days before NOW's day (recorded by a chief, any time), then today's drops.
    chief = builders.recorder(session, world.a)
    for d in range(6, 0, -1):
        at = NOW - timedelta(days=d)
        services.record_drop(session, actor=chief, item=_item(st.id, card.token, 100 + d,
                                                               happened_at=at), now=at)
    wrong = [services.record_drop(session, actor=steward, item=_item(
        st.id, card.token, 10 + k, quality="incorrect", category=c,
        reason_code="kitchen_plastic_bag" if c == "kitchen" else "hazardous_mixed",
        happened_at=NOW + timedelta(seconds=k)), now=NOW + timedelta(seconds=k))
        for k, c in enumerate(("kitchen", "recyclable", "hazardous"))]
    right = services.record_drop(session, actor=steward, item=_item(
        st.id, card.token, 20, category="other", happened_at=NOW + timedelta(seconds=9)),
        now=NOW + timedelta(seconds=9))
    balance = points_services.balance(session, hh.id)
    _clean(session)
    at = NOW + timedelta(minutes=2)
    for w in wrong:
        services.void_drop(session, actor=steward, client_id=w.client_id, now=at)
    _clean(session)
    strikes = session.exec(select(LedgerEntry).where(LedgerEntry.kind.in_(  # type: ignore
        ("strike", "penalty")))).all()
    live = {e.id for e in strikes} - {e.reverses_id for e in session.exec(
        select(LedgerEntry).where(LedgerEntry.kind == "reversal")).all()}
    assert live == set()  # every strike and penalty of the voided drops is reversed
    assert points_services.balance(session, hh.id) >= balance
    services.void_drop(session, actor=steward, client_id=right.client_id, now=at)
    _clean(session)  # the stored run now ends the day before


def test_void_of_a_past_day_marks_it_dirty_and_rollups_leave_it_out(
        session: Session, scene) -> None:
    world, st, steward, _other = scene
    hh = world.households_a[0]
    card = builders.active_card(session, hh)
    late_night = NOW.replace(hour=23, minute=58)
    res = services.record_drop(session, actor=steward,
                               item=_item(st.id, card.token, 1, happened_at=late_night),
                               now=late_night)
    tally = services.record_drop(session, actor=steward, item=_item(
        st.id, None, 2, tally=True, happened_at=late_night), now=late_night)
    after_midnight = late_night + timedelta(minutes=3)
    services.void_drop(session, actor=steward, client_id=res.client_id, now=after_midnight)
    day = late_night.date()
    assert session.get(DirtyDay, (world.a.id, day)) is not None
    rollups.build_day(session, day, community_ids=[world.a.id])
    rows = session.exec(select(StationDay).where(StationDay.local_date == day)).all()
    assert sum(r.drops for r in rows) == 1  # the tally only
    assert tally.id


def test_repeat_within_the_window_scores_nothing(session: Session, scene) -> None:
    world, st, steward, _other = scene
    hh = world.households_a[0]
    card = builders.active_card(session, hh)
    first = services.record_drop(session, actor=steward, item=_item(st.id, card.token, 1),
                                 now=NOW)
    again = services.record_drop(session, actor=steward, item=_item(
        st.id, card.short_code, 2, happened_at=NOW + timedelta(minutes=3)),
        now=NOW + timedelta(minutes=3))
    assert again.repeat
    assert again.points == 0
    assert "recent_duplicate" in again.warnings
    assert session.get(Drop, again.id).repeat_of == first.id  # type: ignore[union-attr]
    # Within one batch (an offline queue): the later one is the repeat.
    hh2 = world.households_a[1]
    card2 = builders.active_card(session, hh2)
    out = services.record_drops(session, actor=steward, items=[
        _item(st.id, card2.token, 4, happened_at=NOW + timedelta(minutes=2)),
        _item(st.id, card2.token, 3, happened_at=NOW + timedelta(minutes=1))],
        now=NOW + timedelta(minutes=3))
    assert [o.repeat for o in out] == [True, False]  # type: ignore[union-attr]
    assert session.get(Drop, out[0].id).repeat_of == out[1].id  # type: ignore[union-attr]
    assert out[0].points == 0
    assert (out[1].points or 0) > 0
    # A voided drop is no longer there to be repeated.
    services.void_drop(session, actor=steward, client_id=first.client_id,
                       now=NOW + timedelta(minutes=4))
    third = services.record_drop(session, actor=steward, item=_item(
        st.id, card.token, 5, category="kitchen", happened_at=NOW + timedelta(minutes=25)),
        now=NOW + timedelta(minutes=25))
    assert not third.repeat
    assert (third.points or 0) > 0
    _clean(session)


def test_reasons(session: Session, scene) -> None:
    world, st, steward, _other = scene
    card = builders.active_card(session, world.households_a[0])
    listed = reasons.reasons_for(session, world.a.id, lang="zh")
    assert listed[0].label == "厨余混有塑料袋"
    assert listed[-1].code == reasons.OTHER
    assert reasons.reasons_for(session, world.a.id, lang="en")[0].label.startswith("Kitchen")
    manager = auth_services.load_actor(session, world.manager_a.id)
    own = reasons.add_reason(session, actor=manager, community_id=world.a.id,
                             label_zh="玻璃未包好", label_en="Glass not wrapped")
    assert own.code == f"c{world.a.id}_1"
    assert reasons.reasons_for(session, world.a.id)[-1].code == own.code
    assert own.code not in {r.code for r in reasons.reasons_for(session, world.b.id)}
    with pytest.raises(reasons.ReasonUnknown):  # another community's reason
        services.record_drop(session, actor=steward, item=_item(
            st.id, card.token, 1, quality="incorrect", reason_code="nope"), now=NOW)
    with pytest.raises(reasons.ReasonNeedsNote):
        services.record_drop(session, actor=steward, item=_item(
            st.id, card.token, 2, quality="incorrect", reason_code="other"), now=NOW)
    with pytest.raises(reasons.ReasonNotIncorrect):
        services.record_drop(session, actor=steward, item=_item(
            st.id, card.token, 3, quality="correct", reason_code="other", note="x"), now=NOW)
    ok = services.record_drop(session, actor=steward, item=_item(
        st.id, card.token, 4, quality="incorrect", reason_code=own.code), now=NOW)
    assert ok.reason_code == own.code


def test_the_managers_drop_list_marks_voided_drops(client, session: Session, scene) -> None:
    world, st, steward, _other = scene
    card = builders.active_card(session, world.households_a[0])
    res = services.record_drop(session, actor=steward, item=_item(st.id, card.token, 1),
                               now=NOW)
    services.void_drop(session, actor=steward, client_id=res.client_id,
                       now=NOW + timedelta(minutes=1))
    session.commit()
    builders.login(client, world.manager_a)
    day = NOW.date().isoformat()
    page = client.get(f"/manage/drops?community_id={world.a.id}&day_from={day}&day_to={day}")
    assert page.get_data(as_text=True).count('data-testid="drop-voided"') == 1
    detail = client.get(f"/manage/drops/{res.id}").get_data(as_text=True)
    assert 'data-testid="drop-voided"' in detail
