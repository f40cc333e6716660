"""Collector weights and contamination in the rates (both backends): the kitchen separation
rate with collector weights equals a hand computation; contaminated kitchen bins count as a
separate figure against kitchen accuracy; a late pickup re-rates its month."""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, select

from community.collection import rules, services
from community.collection.schemas import CollectionIn
from community.ratings import jobs as ratings_jobs
from community.ratings import metrics, rollups
from community.ratings.models import Rating
from tests import builders
from tests.collection import helpers as h

SH = ZoneInfo("Asia/Shanghai")
D1, D2 = date(2026, 11, 10), date(2026, 11, 11)
NOW = datetime(2026, 11, 21, 10, 0, tzinfo=SH)


def _at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=SH)


def _pickup(session: Session, acct, st, day: date, lines: list[dict], tmp_path) -> None:
    body = h.pickup(h.token(session, st), _at(day, 6), *lines)
    services.record_collection(session, actor=h.actor_of(session, acct),
                               item=CollectionIn.model_validate_json(json.dumps(body)),
                               photo_dir=tmp_path, now=NOW)


@pytest.fixture
def scene(session: Session, world: builders.World, tmp_path):
    """S1 has no scales (its drops carry no weight); S2 weighs its drops on D1."""
    s1 = h.tagged_station(session, world.a, "无秤投放点")
    s2 = h.tagged_station(session, world.a, "有秤投放点")
    mine = h.collector(session, world.street_a)
    hh = world.households_a[0]
    for _ in range(8):
        builders.drop(session, s1, hh, happened_at=_at(D1, 7), quality="correct")
    for _ in range(2):
        builders.drop(session, s1, hh, happened_at=_at(D1, 7), quality="incorrect")
    builders.drop(session, s2, hh, happened_at=_at(D1, 8), weight_kg=Decimal("3.0"))
    builders.drop(session, s2, hh, happened_at=_at(D1, 8), category="other",
                  weight_kg=Decimal("7.0"))
    _pickup(session, mine, s1, D1, [{"category": "kitchen", "bins": 2, "kg": 60,
                                     "contaminated_bins": 2, "photo": h.photo_url()},
                                    {"category": "other", "bins": 1, "kg": 40}], tmp_path)
    _pickup(session, mine, s1, D2, [{"category": "kitchen", "bins": 1, "kg": 30},
                                    {"category": "other", "bins": 2, "kg": 90}], tmp_path)
    # S2 has scales on D1: the truck's weights there are left out (never counted twice).
    _pickup(session, mine, s2, D1, [{"category": "kitchen", "bins": 5, "kg": 500},
                                    {"category": "other", "bins": 5, "kg": 500}], tmp_path)
    session.flush()
    return world, s1, s2, mine


# By hand: S1 D1 60 kitchen + 40 other (collectors), S1 D2 30 + 90 (collectors), S2 D1 the
# scale's 3 + 7 (its truck's 500 + 500 ignored): kitchen 93 kg of 230 kg.
HAND = 93 / 230


@pytest.mark.parametrize("built", [False, True])
def test_separation_with_collector_weights_equals_the_hand_computation(session, scene,
                                                                      built) -> None:
    w, _s1, _s2, _mine = scene
    if built:  # the same figures from the rolled-up days as from the raw ones
        for day in (D1, D2):
            rollups.build_day(session, day, community_ids=[w.a.id], now=NOW)
    t = rollups.community_totals(session, [w.a.id], D1, D2, now=NOW)[w.a.id]
    assert t.collected_kg == {"kitchen": Decimal(90), "other": Decimal(130)}
    assert metrics.kitchen_separation(t) == pytest.approx(HAND)
    assert metrics.all_metrics(t)["kitchen_separation"] == pytest.approx(HAND)


def test_the_pure_rule_gives_the_same_rate_and_names_its_sources() -> None:
    days = [rules.StationDayKg(collector={"kitchen": Decimal(60), "other": Decimal(40)}),
            rules.StationDayKg(collector={"kitchen": Decimal(30), "other": Decimal(90)}),
            rules.StationDayKg(scale={"kitchen": Decimal(3), "other": Decimal(7)},
                               collector={"kitchen": Decimal(500), "other": Decimal(500)},
                               weighed_drops=2),
            rules.StationDayKg()]
    got = rules.separation(days)
    assert got.rate == pytest.approx(HAND)
    assert (got.scale_days, got.collector_days, got.source) == (1, 2, "both")
    assert rules.separation([]).rate is None


def test_contaminated_kitchen_bins_count_apart_against_kitchen_accuracy(session, scene) -> None:
    w, _s1, _s2, _mine = scene
    t = rollups.community_totals(session, [w.a.id], D1, D2, now=NOW)[w.a.id]
    assert t.pickup_contaminated_kitchen == 2
    assert metrics.accuracy(t.category("kitchen")) == pytest.approx(8 / 10)  # stewards' own
    assert metrics.kitchen_accuracy_with_pickup(t) == pytest.approx(8 / 12)
    assert t.category("kitchen").graded == 10  # the drop counts are not altered


def test_punctuality_keeps_one_collection_per_window() -> None:
    sched = rules.windows.Schedule({d: ((datetime.min.time().replace(hour=6),
                                         datetime.min.time().replace(hour=7)),)
                                    for d in range(7)}, "Asia/Shanghai")
    ws = [w for n in range(3) for w in rules.pickup_windows(sched, D1 + timedelta(days=n))]
    moments = [_at(D1, 6) + timedelta(minutes=5), _at(D1, 6) + timedelta(minutes=50),
               _at(D2, 7), _at(D2 + timedelta(days=1), 8)]
    got = rules.punctuality(ws, moments)
    assert (got.scheduled, got.on_time) == (3, 2)
    assert rules.punctuality([], moments).rate is None


def test_a_late_pickup_re_rates_its_month(session, world, tmp_path) -> None:
    st = h.tagged_station(session, world.a, "补录投放点")
    mine = h.collector(session, world.street_a)
    month = date(2026, 11, 1)
    ratings_jobs.rate_month(session, month=month, now=NOW)
    assert _rating(session, world.a.id, month).metrics["kitchen_separation"] is None
    _pickup(session, mine, st, D1, [{"category": "kitchen", "bins": 1, "kg": 45},
                                    {"category": "other", "bins": 1, "kg": 55}], tmp_path)
    session.commit()
    ratings_jobs.refresh_dirty(session, now=NOW, workers=1)
    assert _rating(session, world.a.id, month).metrics["kitchen_separation"] == pytest.approx(
        0.45)


def _rating(session: Session, community_id: int, month: date) -> Rating:
    session.expire_all()
    return session.exec(select(Rating).where(Rating.community_id == community_id,
                                             Rating.month == month)).one()


@pytest.mark.parametrize(("typed", "code"), [
    ("ABCD-2345", "ABCD2345"), ("abcd 2345", "ABCD2345"), (" abcd2345 ", "ABCD2345"),
    ("ABCD-2340", None),  # 0 is a look-alike of O: not in the alphabet
    ("ABCD-234", None), ("CST:" + "A" * 32, None), ("", None),
])
def test_a_typed_short_code_ignores_case_spaces_and_dashes(typed: str, code: str | None) -> None:
    assert rules.code_from_text(typed) == code


def test_new_short_codes_use_the_unambiguous_alphabet() -> None:
    codes = {rules.new_tag_code() for _ in range(50)}
    assert len(codes) == 50
    assert all(rules.code_from_text(rules.format_code(c)) == c for c in codes)
    assert all(set(c) <= set(rules.CODE_ALPHABET) and len(c) == 8 for c in codes)
