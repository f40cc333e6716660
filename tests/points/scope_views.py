"""Foreign-access cases of the points views pages (see tests/scope.py).

Each case function first stores some of community A's points data (an adjustment with a
distinctive amount and reason, a published rule version), so the foreign manager of B has
real targets and a leak of A's figures would show.
"""
from __future__ import annotations

from sqlalchemy.orm import object_session
from sqlmodel import Session, select

from community.auth import services as auth_services
from community.points import services as points_services
from community.points.models import LedgerEntry
from community.points.schemas import AdjustIn, RulesIn
from tests.builders import World
from tests.scope import Case, foreign

A_REASON = "A的积分调整"
A_AMOUNT = 4321
ABSENT = [A_REASON, str(A_AMOUNT), "玉龙社区", "1栋1单元101室", "managera"]
RULES = {"points_kitchen": "3", "points_recyclable": "2", "points_hazardous": "4",
         "points_other": "1", "ungraded_earns": "y", "daily_cap": "8", "strike_limit": "3",
         "strike_window_days": "30", "strike_penalty": "5", "streak_days": "7",
         "streak_bonus": "6", "expiry_years": "1", "effective_from": "2099-01-01"}


def _a_data(w: World) -> int:
    """Store A's adjustment and rule version once; the id of A's household with points."""
    owner = object_session(w.households_a[0])
    assert owner is not None
    hh_id = w.households_a[0].id
    # A session of our own, closed at once: an open SQLite transaction would lock the app out.
    with Session(owner.get_bind()) as session:
        if session.exec(select(LedgerEntry).where(LedgerEntry.reason == A_REASON)).first():
            session.commit()
            return hh_id  # type: ignore[return-value]
        manager = auth_services.load_actor(session, w.manager_a.id)  # type: ignore[arg-type]
        points_services.adjust(session, actor=manager, household_id=hh_id,  # type: ignore
                               data=AdjustIn.parse(amount=A_AMOUNT, reason=A_REASON))
        points_services.publish_rules(session, actor=manager, community_id=w.a.id,  # type: ignore
                                      data=RulesIn.parse(daily_cap=987,
                                                         effective_from=w.a.created_at.date()))
        session.commit()
    return hh_id  # type: ignore[return-value]


@foreign("points.index")
def _index(w: World) -> list[Case]:
    _a_data(w)
    return [
        Case("GET", f"/manage/points?community_id={w.a.id}"),
        Case("GET", f"/manage/points?community_id={w.street_a.id}"),
        Case("GET", f"/manage/points?community_id={w.city.id}"),
        Case("GET", "/manage/points", expect=(200,), absent=ABSENT),
    ]


@foreign("points.household")
def _household(w: World) -> list[Case]:
    hh = _a_data(w)
    return [
        Case("GET", f"/manage/points/households/{hh}"),
        Case("GET", f"/manage/points/households/{hh}?before=999999"),
    ]


@foreign("points.adjust")
def _adjust(w: World) -> list[Case]:
    hh = _a_data(w)
    url = f"/manage/points/households/{hh}/adjust"
    return [
        Case("POST", url, data={"amount": "-5", "reason": "外来扣分"}),
        Case("POST", url, data={"amount": "5", "reason": "外来加分"}),
        Case("POST", url, data={"amount": "0", "reason": ""}),  # refused, not shown A's page
        Case("GET", url, expect=(405,)),
    ]


@foreign("points.rules")
def _rules(w: World) -> list[Case]:
    _a_data(w)
    return [
        Case("GET", f"/manage/points/rules?community_id={w.a.id}"),
        Case("GET", f"/manage/points/rules?community_id={w.street_a.id}"),
        Case("GET", "/manage/points/rules", expect=(200,), absent=[*ABSENT, "987"]),
    ]


@foreign("points.publish")
def _publish(w: World) -> list[Case]:
    _a_data(w)
    return [
        Case("POST", f"/manage/points/rules?community_id={w.a.id}", data=RULES),
        Case("POST", f"/manage/points/rules?community_id={w.a.id}",
             data=RULES | {"daily_cap": "-1"}),
        Case("POST", f"/manage/points/rules?community_id={w.street_a.id}", data=RULES),
    ]


@foreign("points.entries_csv")
def _entries_csv(w: World) -> list[Case]:
    _a_data(w)
    return [
        Case("GET", f"/manage/points/entries.csv?community_id={w.a.id}"),
        Case("GET", f"/manage/points/entries.csv?community_id={w.street_a.id}"),
        Case("GET", "/manage/points/entries.csv?day_from=2000-01-01&day_to=2099-12-31",
             expect=(200,), absent=ABSENT),
    ]


@foreign("points.entries_xlsx")
def _entries_xlsx(w: World) -> list[Case]:
    _a_data(w)
    return [
        Case("GET", f"/manage/points/entries.xlsx?community_id={w.a.id}"),
        Case("GET", f"/manage/points/entries.xlsx?community_id={w.street_a.id}"),
    ]


@foreign("points.summary_csv")
def _summary_csv(w: World) -> list[Case]:
    _a_data(w)
    return [
        Case("GET", f"/manage/points/summary.csv?community_id={w.a.id}"),
        Case("GET", f"/manage/points/summary.csv?community_id={w.district.id}"),
        Case("GET", "/manage/points/summary.csv", expect=(200,), absent=ABSENT),
    ]


@foreign("points.summary_xlsx")
def _summary_xlsx(w: World) -> list[Case]:
    _a_data(w)
    return [
        Case("GET", f"/manage/points/summary.xlsx?community_id={w.a.id}"),
        Case("GET", f"/manage/points/summary.xlsx?community_id={w.street_a.id}"),
    ]
