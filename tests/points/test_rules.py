"""Pure points rules: unit cases from DOMAIN.md and hypothesis properties."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from community.points.rules import (
    DropFacts,
    Lot,
    RuleSet,
    deserved,
    due_to_expire,
    expires_on,
    expiring,
    fact_order,
    lots_after_spending,
)

R = RuleSet()
DAY = date(2026, 11, 20)
SH = ZoneInfo("Asia/Shanghai")


def facts(category: str = "kitchen", quality: str = "correct", in_window: bool = True,
          household: int | None = 1, day: date = DAY, drop_id: int = 1,
          hour: int = 9) -> DropFacts:
    at = datetime(day.year, day.month, day.day, hour, tzinfo=SH)
    return DropFacts(drop_id, household, category, quality, in_window, day, at)


def got(items: list[DropFacts], rules: RuleSet = R) -> list[tuple[str, int]]:
    """(kind, amount) of what the facts deserve, in the order of the facts."""
    out = deserved(lambda _d: rules, items)
    order = {f.drop_id: fact_order(f) for f in items}
    return [(v.kind, v.amount) for _k, v in sorted(
        out.items(), key=lambda kv: (kv[1].local_date, order.get(kv[1].drop_id or 0, ()),
                                     ("earn", "strike", "penalty", "bonus").index(kv[0][0])))]


@pytest.mark.parametrize(("category", "points"), [
    ("kitchen", 2), ("recyclable", 2), ("hazardous", 3), ("other", 1)])
def test_default_points_per_category(category: str, points: int) -> None:
    assert got([facts(category)]) == [("earn", points)]


def test_ungraded_earns_unless_switched_off() -> None:
    assert got([facts(quality="ungraded")]) == [("earn", 2)]
    assert got([facts(quality="ungraded")], RuleSet(ungraded_earns=False)) == []


def test_out_of_window_and_tally_earn_nothing() -> None:
    assert got([facts(in_window=False)]) == []
    assert got([facts(household=None)]) == []
    assert got([facts(household=None, quality="incorrect")]) == []  # a tally never strikes


def test_daily_cap() -> None:
    day = [facts("kitchen", drop_id=1, hour=8), facts("hazardous", drop_id=2, hour=9),
           facts("hazardous", drop_id=3, hour=10), facts("hazardous", drop_id=4, hour=11)]
    assert got(day) == [("earn", 2), ("earn", 3), ("earn", 1)]


def test_third_strike_within_30_days_costs_5_never_below_zero() -> None:
    def strikes(days_before: list[int], earned: int) -> list[tuple[str, int]]:
        # `earned` points first (kitchen drops on distinct early days), then the strikes.
        earns = [facts(day=DAY - timedelta(days=60 + i), drop_id=100 + i)
                 for i in range(earned // 2)]
        hits = [facts(quality="incorrect", day=DAY - timedelta(days=d), drop_id=200 + d)
                for d in days_before]
        return [e for e in got([*earns, *hits]) if e[0] != "earn"]

    assert strikes([0], 10) == [("strike", 0)]
    assert strikes([29, 3, 0], 10) == [("strike", 0)] * 3 + [("penalty", -5)]
    assert strikes([29, 3, 0], 4)[-1] == ("penalty", -4)
    assert strikes([29, 3, 0], 0)[-1] == ("penalty", 0)  # recorded, takes nothing
    assert strikes([30, 3, 0], 10) == [("strike", 0)] * 3  # one fell out of the window


def test_streak_bonus_once_per_completed_seven_days() -> None:
    week = [facts(day=DAY - timedelta(days=i), drop_id=10 + i) for i in range(7)]
    assert got(week)[-2:] == [("earn", 2), ("bonus", 5)]
    # A second correct drop the same day gives no second bonus.
    again = facts(day=DAY, drop_id=99, hour=18)
    assert [k for k, _a in got([*week, again])].count("bonus") == 1
    # The bonus is the drop's that made the last day correct (device-time order).
    early = facts(day=DAY, drop_id=98, hour=7)
    bonus = [v for v in deserved(lambda _d: R, [*week, again, early]).values()
             if v.kind == "bonus"]
    assert [b.drop_id for b in bonus] == [98]
    # Day 8 continues the streak without a bonus; day 14 completes the next block.
    fortnight = [facts(day=DAY + timedelta(days=i), drop_id=30 + i) for i in range(1, 8)]
    kinds = [k for k, _a in got([*week, *fortnight])]
    assert kinds.count("bonus") == 2
    assert kinds[-1] == "bonus"
    assert [k for k, _a in got([*week, *fortnight[:1]])].count("bonus") == 1


def test_expiry_dates_and_oldest_first_spending() -> None:
    assert expires_on(R, 2025) == date(2026, 12, 31)
    lots = [Lot(2026, 10), Lot(2025, 4)]
    assert lots_after_spending(lots, 6) == [Lot(2026, 8)]
    with pytest.raises(ValueError, match="not enough"):
        lots_after_spending(lots, 15)
    assert expiring(R, lots, date(2026, 11, 1)) == [(date(2026, 12, 31), 4),
                                                     (date(2027, 12, 31), 10)]
    assert due_to_expire(R, lots, date(2027, 1, 1)) == 4
    assert due_to_expire(R, lots, date(2026, 12, 31)) == 0


def test_rule_set_validation() -> None:
    assert RuleSet().problems() == []
    assert "daily_cap" in RuleSet(daily_cap=-1).problems()
    assert "points.kitchen" in RuleSet(points={"kitchen": -2}).problems()


# --- Properties: what random drops deserve ---------------------------------------------------

drops = st.lists(
    st.tuples(st.integers(0, 20),                                       # day offset
              st.integers(0, 23),                                       # hour
              st.sampled_from(["kitchen", "recyclable", "hazardous", "other"]),
              st.sampled_from(["correct", "incorrect", "ungraded"]),
              st.booleans()),                                           # in window
    max_size=80)


@settings(max_examples=300, deadline=None)
@given(drops, st.integers(0, 12), st.booleans())
def test_properties(items, cap: int, ungraded: bool) -> None:
    rules = RuleSet(daily_cap=cap, ungraded_earns=ungraded)
    fs = [facts(c, q, w, day=DAY + timedelta(days=o), drop_id=i + 1, hour=h)
          for i, (o, h, c, q, w) in enumerate(items)]
    out = deserved(lambda _d: rules, fs)
    earned: dict[date, int] = {}
    for v in out.values():
        if v.kind == "earn":
            earned[v.local_date] = earned.get(v.local_date, 0) + v.amount
    assert all(v <= cap for v in earned.values())          # the daily total never exceeds the cap
    # The fact balance never goes below zero: in device-time order, each penalty takes at
    # most what the earlier outcomes left.
    order = {f.drop_id: fact_order(f) for f in fs}
    running = 0
    for _k, v in sorted(out.items(), key=lambda kv: (
            kv[1].local_date, order[kv[1].drop_id or 0][1:],
            ("earn", "strike", "penalty", "bonus").index(kv[0][0]))):
        running += v.amount
        assert running >= 0
    assert min((v.amount for v in out.values()), default=0) >= -5
