"""The pure recomputation (rules.deserved and its parts): what a household's facts deserve,
whatever order they arrived in."""
from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from community.points.rules import DropFacts, Other, RuleSet, deserved

SH = ZoneInfo("Asia/Shanghai")
R = RuleSet()
START = date(2026, 10, 1)
_ids = iter(range(1, 10**6))


def rules_on(_d: date) -> RuleSet:
    return R


def fact(day: int, *, hour: int = 9, quality: str = "correct", category: str = "kitchen",
         in_window: bool = True, drop_id: int | None = None) -> DropFacts:
    on = START + timedelta(days=day)
    at = datetime(on.year, on.month, on.day, hour, tzinfo=SH)
    return DropFacts(drop_id or next(_ids), 1, category, quality, in_window, on, at)


def bonuses(facts: list[DropFacts]) -> dict[date, int]:
    return {k[1]: v.amount for k, v in deserved(rules_on, facts).items()  # type: ignore[misc]
            if k[0] == "bonus"}


def penalties(facts: list[DropFacts]) -> list[tuple[int, str]]:
    got = deserved(rules_on, facts)
    return sorted((int(k[1]), v.reason) for k, v in got.items() if k[0] == "penalty")


def test_a_streak_completed_by_an_upload_ten_days_late() -> None:
    week = [fact(d) for d in range(7) if d != 3]
    assert bonuses(week) == {}
    late = fact(3)  # arrives ten days later; the facts decide, not the arrival
    assert bonuses([*week, late]) == {START + timedelta(days=6): 5}
    assert bonuses([late, *reversed(week)]) == {START + timedelta(days=6): 5}


def test_runs_give_one_bonus_per_completed_block() -> None:
    days = [fact(d) for d in range(20)] + [fact(21 + d) for d in range(7)]
    got = bonuses(days)
    assert sorted(got) == [START + timedelta(days=6), START + timedelta(days=13),
                           START + timedelta(days=27)]
    reasons = {v.reason for k, v in deserved(rules_on, days).items() if k[0] == "bonus"}
    assert reasons == {"streak:7", "streak:14"}


def test_a_regrade_that_breaks_a_run_takes_the_bonus_back() -> None:
    week = [fact(d) for d in range(7)]
    assert len(bonuses(week)) == 1
    broken = [*week[:3], DropFacts(week[3].drop_id, 1, "kitchen", "incorrect", True,
                                   week[3].local_date, week[3].happened_at), *week[4:]]
    assert bonuses(broken) == {}
    # A second correct drop the same day keeps the day correct: the bonus stays.
    extra = fact(3, hour=18)
    assert len(bonuses([*broken, extra])) == 1


def test_the_third_and_sixth_strike_within_thirty_days() -> None:
    strikes = [fact(d, quality="incorrect") for d in (0, 4, 8, 12, 16, 20)]
    assert penalties(strikes) == [(strikes[2].drop_id, "strikes:3"),
                                  (strikes[5].drop_id, "strikes:6")]
    # Strikes 30 days apart never add up.
    sparse = [fact(d, quality="incorrect") for d in (0, 30, 60)]
    assert penalties(sparse) == []


def test_a_late_strike_shifts_the_later_penalties() -> None:
    strikes = [fact(d, quality="incorrect") for d in (1, 5, 10, 12, 15, 20)]
    assert [i for i, _r in penalties(strikes)] == [strikes[2].drop_id, strikes[5].drop_id]
    late = fact(3, quality="incorrect")
    assert [i for i, _r in penalties([*strikes, late])] == [strikes[1].drop_id,
                                                            strikes[4].drop_id]


def test_strikes_on_one_day_count_in_device_time_order() -> None:
    evening = fact(0, hour=20, quality="incorrect", drop_id=1)
    morning = fact(0, hour=8, quality="incorrect", drop_id=2)
    noon = fact(0, hour=12, quality="incorrect", drop_id=3)
    assert [i for i, _r in penalties([evening, morning, noon])] == [1]


def test_the_cap_is_reordered_by_an_earlier_late_drop() -> None:
    on_time = [fact(0, hour=10, category="hazardous"), fact(0, hour=11, category="hazardous"),
               fact(0, hour=12)]
    earns = {k[1]: v.amount for k, v in deserved(rules_on, on_time).items() if k[0] == "earn"}
    assert [earns.get(f.drop_id, 0) for f in on_time] == [3, 3, 0]
    late = fact(0, hour=9)
    got = deserved(rules_on, [*on_time, late])
    earns = {k[1]: v.amount for k, v in got.items() if k[0] == "earn"}
    assert [earns.get(f.drop_id, 0) for f in [late, *on_time]] == [2, 3, 1, 0]


def test_out_of_window_and_ungraded() -> None:
    assert bonuses([fact(d, in_window=d != 3) for d in range(7)]) == {}
    assert len(bonuses([fact(d, quality="ungraded") for d in range(7)])) == 1


def test_the_result_depends_only_on_the_set_of_facts() -> None:
    rnd = random.Random(13)
    facts = [fact(rnd.randrange(60), hour=rnd.randrange(24),
                  quality=rnd.choice(["correct", "correct", "incorrect", "ungraded"]),
                  category=rnd.choice(["kitchen", "hazardous", "other"]))
             for _ in range(120)]
    want = deserved(rules_on, facts)
    for _ in range(5):
        rnd.shuffle(facts)
        assert deserved(rules_on, facts) == want


def test_the_fact_balance_before_a_strike_orders_bonuses_and_other_entries() -> None:
    """A bonus counts at its completing drop's time (after its earn); a non-fact entry counts
    for a strike when its `at` is strictly before the strike's device time."""
    day6 = START + timedelta(days=6)

    def at(hour: int, minute: int = 0) -> datetime:
        return datetime(day6.year, day6.month, day6.day, hour, minute, tzinfo=SH)

    def penalty(strike_hour: int, strike_minute: int = 0) -> int:
        run = [fact(d, drop_id=900 + d) for d in range(6)] + [fact(6, hour=9, drop_id=906)]
        strikes = [fact(4, hour=20, quality="incorrect", drop_id=910),
                   fact(5, hour=20, quality="incorrect", drop_id=911),
                   DropFacts(912, 1, "kitchen", "incorrect", True, day6,
                             at(strike_hour, strike_minute))]
        others = [Other(day6, at(8, 30), -18, 1), Other(day6, at(10), -1, 2)]
        got = deserved(rules_on, [*run, *strikes], others=others)
        assert got[("bonus", day6)].drop_id == 906  # the drop that completed the block
        return got[("penalty", 912)].amount

    assert penalty(10) == -1  # 12 - 18 + 2 + 5 = 1; the -1 at 10:00 is not before it
    assert penalty(10, 1) == 0  # after the second redemption: 0 left
    assert penalty(8, 45) == 0  # before the completing drop (and its bonus): 12 - 18 < 0
    assert penalty(8, 0) == -5  # before the first redemption: 12
