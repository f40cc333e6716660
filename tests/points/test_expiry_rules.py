"""Pure expiry rules: lots folded from a ledger, oldest-first spending, last days, and
hypothesis properties tying the fold to `lots_after_spending`, `expiring` and `due_to_expire`."""
from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from community.points.rules import (
    Lot,
    LotEntry,
    RuleSet,
    credit_year,
    due_lots,
    due_to_expire,
    expires_on,
    expiring,
    lots_after_spending,
    lots_from_entries,
)

R = RuleSet()


def e(day: str, amount: int, lot_year: int | None = None) -> LotEntry:
    return LotEntry(date.fromisoformat(day), amount, lot_year)


def test_credits_join_their_year_and_debits_take_the_oldest_first() -> None:
    entries = [e("2024-03-01", 10), e("2024-12-31", 4), e("2025-01-01", 5),
               e("2025-02-01", -12),   # redeem: 12 of the 14 earned in 2024
               e("2025-03-01", 0),     # a strike moves nothing
               e("2025-04-01", 3)]
    assert lots_from_entries(entries) == [Lot(2024, 2), Lot(2025, 8)]
    assert lots_from_entries([*entries, e("2025-05-01", -3)]) == [Lot(2025, 7)]
    assert lots_from_entries([]) == []


def test_a_refund_gives_points_back_to_the_year_it_undoes() -> None:
    entries = [e("2024-06-01", 10), e("2024-12-20", -10), e("2025-01-03", 10, lot_year=2024)]
    assert lots_from_entries(entries) == [Lot(2024, 10)]
    # Without its lot year the refund would count as earned in 2025 and live a year longer.
    assert lots_from_entries(entries[:2] + [e("2025-01-03", 10)]) == [Lot(2025, 10)]


def test_a_debit_beyond_every_lot_empties_them() -> None:
    assert lots_from_entries([e("2024-01-01", 3), e("2025-01-01", 2), e("2025-02-01", -9)]) == []


def test_credit_year_never_reopens_a_year_past_its_last_day() -> None:
    on = date(2025, 1, 3)
    assert credit_year(R, on) == 2025
    assert credit_year(R, on, date(2024, 12, 20)) == 2024           # open until 2025-12-31
    assert credit_year(R, date(2026, 2, 1), date(2024, 12, 20)) == 2025  # 2024 closed already
    assert credit_year(RuleSet(expiry_years=0), on, date(2024, 12, 20)) == 2025
    assert credit_year(RuleSet(expiry_years=2), date(2026, 2, 1), date(2024, 12, 20)) == 2024
    for rules in (R, RuleSet(expiry_years=0), RuleSet(expiry_years=3)):
        for undone in (date(2019, 5, 1), date(2024, 12, 31), on):
            assert expires_on(rules, credit_year(rules, on, undone)) >= on


def test_earned_in_2024_is_due_from_2026() -> None:
    lots = [Lot(2024, 7), Lot(2025, 3)]
    assert expires_on(R, 2024) == date(2025, 12, 31)
    assert due_lots(R, lots, date(2025, 12, 31)) == []
    assert due_lots(R, lots, date(2026, 1, 1)) == [Lot(2024, 7)]
    assert due_lots(RuleSet(expiry_years=2), lots, date(2026, 1, 1)) == []
    assert due_lots(RuleSet(expiry_years=0), lots, date(2026, 1, 1)) == lots
    assert expiring(R, lots, date(2025, 10, 1)) == [(date(2025, 12, 31), 7),
                                                     (date(2026, 12, 31), 3)]


# --- Properties --------------------------------------------------------------------------------

START = date(2022, 1, 1)

# A ledger in order: (days after the previous entry, amount, how many years back a credit's
# lot is when it gives points back — None for an ordinary credit).
steps = st.lists(st.tuples(st.integers(0, 200), st.integers(-30, 30),
                           st.one_of(st.none(), st.integers(0, 3))), max_size=60)


def ledger(items, never_negative: bool = True) -> list[LotEntry]:
    """Turn generated steps into entries; debits are cut to the balance like the services do."""
    out, day, balance = [], START, 0
    for gap, amount, back in items:
        day += timedelta(days=gap)
        if never_negative and amount < 0:
            amount = -min(-amount, balance)
        balance += amount
        year = day.year - back if back is not None and amount > 0 else None
        out.append(LotEntry(day, amount, year))
    return out


@settings(max_examples=300, deadline=None)
@given(steps)
def test_lots_hold_exactly_the_balance(items) -> None:
    entries = ledger(items)
    lots = lots_from_entries(entries)
    assert sum(lot.amount for lot in lots) == sum(x.amount for x in entries)
    assert all(lot.amount > 0 for lot in lots)
    assert [lot.year for lot in lots] == sorted({lot.year for lot in lots})


@settings(max_examples=300, deadline=None)
@given(steps, st.integers(1, 60))
def test_a_debit_spends_the_oldest_lots_first(items, spend: int) -> None:
    entries = ledger(items)
    before = lots_from_entries(entries)
    spend = min(spend, sum(lot.amount for lot in before))
    after = lots_from_entries([*entries, LotEntry(entries[-1].local_date if entries else START,
                                                  -spend)])
    assert after == lots_after_spending(before, spend)
    # Oldest first: every year still holding points is at least as new as any year emptied.
    emptied = {lot.year for lot in before} - {lot.year for lot in after}
    assert all(y <= lot.year for y in emptied for lot in after)


@settings(max_examples=300, deadline=None)
@given(steps, st.integers(0, 10), st.dates(date(2021, 1, 1), date(2040, 12, 31)))
def test_expiring_and_due_agree_with_expires_on(items, years: int, today: date) -> None:
    rules = RuleSet(expiry_years=years)
    lots = lots_from_entries(ledger(items))
    due = due_lots(rules, lots, today)
    ahead = expiring(rules, lots, today)
    assert due_to_expire(rules, lots, today) == sum(lot.amount for lot in due)
    assert due_to_expire(rules, lots, today) + sum(n for _d, n in ahead) == sum(
        lot.amount for lot in lots)
    assert all(expires_on(rules, lot.year) < today for lot in due)
    assert [d for d, _n in ahead] == sorted({expires_on(rules, lot.year) for lot in lots
                                             if expires_on(rules, lot.year) >= today})
    # Expiring what is due (an `expire` debit) leaves exactly the lots still ahead.
    gone = lots_from_entries([*ledger(items), LotEntry(today, -sum(x.amount for x in due))])
    assert expiring(rules, gone, today) == ahead
    assert due_lots(rules, gone, today) == []
