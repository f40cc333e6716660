"""Recording pickups (service level, both backends): replays, scope, bad input, lateness."""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask_babel import force_locale
from pydantic import ValidationError
from sqlmodel import Session, func, select

from community.collection import services
from community.collection.models import Collection, CollectionLine
from community.collection.schemas import CollectionIn
from community.dirty.models import DirtyDay
from community.errors import Forbidden
from community.stations.services import CategoryNotAccepted
from tests import builders
from tests.collection import helpers as h

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 21, 10, 0, tzinfo=SH)
MORNING = datetime(2026, 11, 21, 6, 30, tzinfo=SH)  # inside the 06:00-07:00 pickup window


@pytest.fixture
def scene(session: Session, world: builders.World):
    """A station of community A (street A) with a tag, collectors of street A and B."""
    st = h.tagged_station(session, world.a, "东门投放点")
    mine = h.collector(session, world.street_a)
    other = h.collector(session, world.street_b)
    session.commit()
    return world, st, mine, other


def _count(session: Session, model) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def _record(session: Session, acct, body: dict, tmp_path: Path):
    return services.record_collection(session, actor=h.actor_of(session, acct),
                                      item=CollectionIn.model_validate_json(json.dumps(body)),
                                      photo_dir=tmp_path, now=NOW)


def test_a_pickup_synced_twice_is_stored_once(session, scene, tmp_path) -> None:
    _w, st, mine, _other = scene
    body = h.pickup(h.token(session, st), MORNING)
    first = _record(session, mine, body, tmp_path)
    again = _record(session, mine, body, tmp_path)
    assert (first.replay, again.replay) == (False, True)
    assert first.id == again.id
    assert first.on_time is True
    assert _count(session, Collection) == 1
    assert _count(session, CollectionLine) == 1


def test_a_confirmed_repeat_within_the_window_is_recorded(session, scene, tmp_path) -> None:
    """The "same station again within 30 minutes" question is the pickup page's (collect.js
    asks; "record anyway" sends the pickup): the server records a second pickup of the same
    station and category minutes later under its own client id, and a re-send of it once."""
    _w, st, mine, _other = scene
    first = _record(session, mine, h.pickup(h.token(session, st), MORNING), tmp_path)
    body = h.pickup(h.token(session, st), MORNING + timedelta(minutes=5))
    again = _record(session, mine, body, tmp_path)
    resent = _record(session, mine, body, tmp_path)
    assert (first.replay, again.replay, resent.replay) == (False, False, True)
    assert first.id != again.id == resent.id
    assert _count(session, Collection) == 2
    assert _count(session, CollectionLine) == 2


def test_on_time_follows_the_pickup_window(session, scene, tmp_path) -> None:
    _w, st, mine, _other = scene
    late = _record(session, mine, h.pickup(h.token(session, st), MORNING + timedelta(hours=1)),
                   tmp_path)
    edge = _record(session, mine, h.pickup(h.token(session, st),
                                           MORNING.replace(hour=7, minute=0)), tmp_path)
    assert (late.on_time, edge.on_time) == (False, True)  # the window's end is inclusive


def test_contaminated_line_keeps_its_photo(session, scene, tmp_path) -> None:
    _w, st, mine, _other = scene
    body = h.pickup(h.token(session, st), MORNING,
                    {"category": "kitchen", "bins": 3, "kg": 95.5, "contaminated_bins": 1,
                     "photo": h.photo_url()})
    _record(session, mine, body, tmp_path)
    line = session.exec(select(CollectionLine)).one()
    assert line.contaminated_bins == 1
    assert line.kg == Decimal("95.50")
    assert line.photo
    assert (tmp_path / line.photo).read_bytes()[:2] == b"\xff\xd8"


def test_a_collector_of_another_street_is_refused(session, scene, tmp_path) -> None:
    _w, st, _mine, other = scene
    with pytest.raises(services.OutsideArea) as err:
        _record(session, other, h.pickup(h.token(session, st), MORNING), tmp_path)
    assert err.value.code == "station_outside_area"
    assert _count(session, Collection) == 0


@pytest.mark.parametrize("who", ["manager_a", "steward_a", "resident_a"])
def test_only_collectors_record(session, scene, tmp_path, who) -> None:
    w, st, _mine, _other = scene
    with pytest.raises(Forbidden):
        _record(session, getattr(w, who), h.pickup(h.token(session, st), MORNING), tmp_path)
    assert _count(session, Collection) == 0


def test_negative_kg_is_refused_by_the_input_model(session, scene) -> None:
    _w, st, _mine, _other = scene
    with pytest.raises(ValidationError) as err:
        CollectionIn.model_validate_json(json.dumps(h.pickup(h.token(session, st), MORNING,
                                             {"category": "kitchen", "bins": 1, "kg": -3})))
    assert err.value.errors()[0]["loc"] == ("lines", 0, "kg")


@pytest.mark.parametrize("kg", [None, 0, "0", 0.0])
def test_bins_without_their_weight_are_refused_with_the_fields_words(
        app, session, scene, tmp_path, kg) -> None:
    """Bins with a missing or 0 kg weight: refused per field ("lines.0.kg") in both languages,
    with the API's "invalid" code, and nothing stored (a 0 kg pickup lowers the tonnage)."""
    _w, st, mine, _other = scene
    line = {"category": "kitchen", "bins": 2}
    if kg is not None:
        line["kg"] = kg
    with app.test_request_context():
        for lang, words in (("en", "Enter the weight of the bins collected, in kg."),
                            ("zh", "请填写所收桶的重量（千克）。")):
            with force_locale(lang):
                out = services.record_batch(session, actor=h.actor_of(session, mine),
                                            raw_items=[h.pickup(h.token(session, st), MORNING,
                                                                line)],
                                            photo_dir=tmp_path, now=NOW)
                assert out[0].ok is False
                assert out[0].error == "invalid"
                assert out[0].fields == {"lines.0.kg": words}
    assert _count(session, Collection) == 0


def test_contamination_needs_a_photo(session, scene) -> None:
    _w, st, _mine, _other = scene
    with pytest.raises(ValidationError):
        CollectionIn.model_validate_json(json.dumps(h.pickup(h.token(session, st), MORNING,
                                             {"category": "kitchen", "bins": 1, "kg": 3,
                                              "contaminated_bins": 1})))


def test_a_bad_photo_stores_nothing(session, scene, tmp_path) -> None:
    _w, st, mine, _other = scene
    body = h.pickup(h.token(session, st), MORNING,
                    {"category": "other", "bins": 1, "kg": 40},
                    {"category": "kitchen", "bins": 1, "kg": 30, "contaminated_bins": 1,
                     "photo": "data:image/jpeg;base64,bm90IGFuIGltYWdl"})
    with pytest.raises(services.DomainError) as err:
        _record(session, mine, body, tmp_path)
    assert err.value.code == "photo_invalid"
    assert _count(session, Collection) == 0
    assert _count(session, CollectionLine) == 0


def test_a_category_without_a_bin_is_refused(session, world, tmp_path) -> None:
    st = h.tagged_station(session, world.a, "只收厨余")
    st.categories = "kitchen"
    session.add(st)
    mine = h.collector(session, world.street_a)
    body = h.pickup(h.token(session, st), MORNING, {"category": "hazardous", "bins": 1, "kg": 2})
    with pytest.raises(CategoryNotAccepted):
        _record(session, mine, body, tmp_path)


def test_a_late_pickup_marks_its_day_dirty(session, scene, tmp_path) -> None:
    w, st, mine, _other = scene
    _record(session, mine, h.pickup(h.token(session, st), MORNING), tmp_path)
    assert session.get(DirtyDay, (w.a.id, MORNING.date())) is None  # today: not late
    yesterday = MORNING - timedelta(days=1)
    _record(session, mine, h.pickup(h.token(session, st), yesterday), tmp_path)
    mark = session.get(DirtyDay, (w.a.id, yesterday.date()))
    assert mark is not None
    assert mark.collections == 1
    assert mark.drops == 0


def test_an_unknown_or_reissued_tag_is_refused(session, scene, tmp_path) -> None:
    w, st, mine, _other = scene
    old = h.token(session, st)
    services.issue_tag(session, actor=h.actor_of(session, w.manager_a), station_id=st.id,
                       reissue=True)
    with pytest.raises(services.StationTagUnknown):
        _record(session, mine, h.pickup(old, MORNING), tmp_path)
    assert _record(session, mine, h.pickup(h.token(session, st), MORNING), tmp_path).id


def test_batch_refuses_bad_items_and_keeps_good_ones(session, scene, tmp_path) -> None:
    _w, st, mine, _other = scene
    tag = h.token(session, st)
    items = [h.pickup(tag, MORNING, {"category": "kitchen", "bins": 1, "kg": -1}),
             h.pickup("x" * 30, MORNING),
             h.pickup(tag, MORNING)]
    out = services.record_batch(session, actor=h.actor_of(session, mine), raw_items=items,
                                photo_dir=tmp_path, now=NOW)
    assert [r.ok for r in out] == [False, False, True]
    assert out[0].error == "invalid"
    assert "lines.0.kg" in out[0].fields
    assert out[1].error == "station_unknown"
    assert _count(session, Collection) == 1


def test_street_admins_grant_the_collector_role_in_their_street_only(session, world) -> None:
    from community.auth import services as auth_services

    options = auth_services.grant_options(session, actor=h.actor_of(session, world.area_admin_a))
    assert options.roles_by_area[world.street_a.id].count("collector") == 1
    assert "collector" not in options.roles_by_area.get(world.a.id, [])  # a street or district role
    manager = auth_services.grant_options(session, actor=h.actor_of(session, world.manager_a))
    assert "collector" not in manager.roles  # a community's manager cannot make one
