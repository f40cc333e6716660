"""Pure points rules: unit cases from DOMAIN.md and hypothesis properties."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from community.points.rules import (
    DropFacts,
    HouseholdDay,
    Lot,
    RuleSet,
    award,
    due_to_expire,
    expires_on,
    expiring,
    lots_after_spending,
    streak_length,
)

R = RuleSet()
DAY = date(2026, 11, 20)


def facts(category: str = "kitchen", quality: str = "correct", in_window: bool = True,
          household: int | None = 1, day: date = DAY, drop_id: int = 1) -> DropFacts:
    return DropFacts(drop_id, household, category, quality, in_window, day)


@pytest.mark.parametrize(("category", "points"), [
    ("kitchen", 2), ("recyclable", 2), ("hazardous", 3), ("other", 1)])
def test_default_points_per_category(category: str, points: int) -> None:
    entries = award(R, facts(category), HouseholdDay())
    assert [(e.kind, e.amount) for e in entries] == [("earn", points)]


def test_ungraded_earns_unless_switched_off() -> None:
    assert award(R, facts(quality="ungraded"), HouseholdDay())[0].amount == 2
    assert award(RuleSet(ungraded_earns=False), facts(quality="ungraded"), HouseholdDay()) == []


def test_out_of_window_and_tally_earn_nothing() -> None:
    assert award(R, facts(in_window=False), HouseholdDay()) == []
    assert award(R, facts(household=None), HouseholdDay()) == []


def test_daily_cap() -> None:
    assert award(R, facts("hazardous"), HouseholdDay(earned_today=5))[0].amount == 1
    assert award(R, facts("hazardous"), HouseholdDay(earned_today=6)) == []


def test_third_strike_within_30_days_costs_5_never_below_zero() -> None:
    first = award(R, facts(quality="incorrect"), HouseholdDay(balance=10))
    assert [(e.kind, e.amount) for e in first] == [("strike", 0)]
    two_before = [DAY - timedelta(days=3), DAY - timedelta(days=29)]
    third = award(R, facts(quality="incorrect"), HouseholdDay(balance=10, strike_dates=two_before))
    assert [(e.kind, e.amount) for e in third] == [("strike", 0), ("penalty", -5)]
    poor = award(R, facts(quality="incorrect"), HouseholdDay(balance=3, strike_dates=two_before))
    assert poor[-1].amount == -3
    broke = award(R, facts(quality="incorrect"), HouseholdDay(balance=0, strike_dates=two_before))
    assert [e.kind for e in broke] == ["strike"]
    old = [DAY - timedelta(days=3), DAY - timedelta(days=30)]  # one fell out of the window
    assert [e.kind for e in award(R, facts(quality="incorrect"),
                                  HouseholdDay(balance=10, strike_dates=old))] == ["strike"]


def test_streak_bonus_once_per_completed_seven_days() -> None:
    six = [DAY - timedelta(days=i) for i in range(1, 7)]
    entries = award(R, facts(), HouseholdDay(correct_dates=six))
    assert [(e.kind, e.amount) for e in entries] == [("earn", 2), ("bonus", 5)]
    # A second correct drop the same day gives no second bonus.
    assert [e.kind for e in award(R, facts(), HouseholdDay(correct_dates=[*six, DAY],
                                                            bonus_dates=[DAY]))] == ["earn"]
    # Day 8 continues the streak without a bonus; day 14 completes the next block.
    assert [e.kind for e in award(R, facts(day=DAY + timedelta(days=1)),
                                  HouseholdDay(correct_dates=[*six, DAY], bonus_dates=[DAY]))
            ] == ["earn"]
    thirteen = [DAY - timedelta(days=i) for i in range(1, 14)]
    week_ago = [DAY - timedelta(days=7)]
    entries = award(R, facts(), HouseholdDay(correct_dates=thirteen, bonus_dates=week_ago))
    assert entries[-1].kind == "bonus"
    assert streak_length(six, DAY) == 0
    assert streak_length([*six, DAY], DAY) == 7


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


# --- Properties: simulate a household's ledger over random drops ------------------------------

drops = st.lists(
    st.tuples(st.integers(0, 20),                                       # day offset
              st.sampled_from(["kitchen", "recyclable", "hazardous", "other"]),
              st.sampled_from(["correct", "incorrect", "ungraded"]),
              st.booleans(),                                            # in window
              st.integers(1, 40)),                                      # drop id (repeats)
    max_size=80)


def simulate(rules: RuleSet, items) -> tuple[int, dict[date, int], list]:
    """Apply awards in order, crediting each drop id once, like the ledger's unique key."""
    balance, earned, strikes, correct, bonus, seen, log = 0, {}, [], set(), set(), set(), []
    for offset, category, quality, in_window, drop_id in sorted(items, key=lambda x: x[0]):
        if drop_id in seen:
            continue
        seen.add(drop_id)
        day = DAY + timedelta(days=offset)
        state = HouseholdDay(balance, earned.get(day, 0), list(strikes), set(correct), set(bonus))
        for e in award(rules, DropFacts(drop_id, 1, category, quality, in_window, day), state):
            balance += e.amount
            log.append((drop_id, e))
            if e.kind == "earn":
                earned[day] = earned.get(day, 0) + e.amount
                correct.add(day)
            elif e.kind == "strike":
                strikes.append(day)
            elif e.kind == "bonus":
                bonus.add(day)
            assert balance >= 0
    return balance, earned, log


@settings(max_examples=300, deadline=None)
@given(drops, st.integers(0, 12), st.booleans())
def test_properties(items, cap: int, ungraded: bool) -> None:
    rules = RuleSet(daily_cap=cap, ungraded_earns=ungraded)
    balance, earned, log = simulate(rules, items)
    assert all(v <= cap for v in earned.values())          # the daily total never exceeds the cap
    assert balance >= 0                                    # a penalty never goes below zero
    ids = [d for d, e in log if e.kind == "earn"]
    assert len(ids) == len(set(ids))                       # one award per drop
    # Replaying the whole sequence again changes nothing (the same drops award once).
    assert simulate(rules, items + items)[0] == balance
