"""The refresh of dirty days: exactly the changed days are rebuilt, however old; their rated
months are re-rated with the reason kept; a changed level re-rates the next month; a month
past its upload window becomes final and never moves again."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlmodel import Session, col

from community import clock
from community.auth import services as auth_services
from community.dirty.models import DirtyDay
from community.ratings import jobs, services
from community.ratings.models import RollupDay
from community.stations import services as stations_services
from community.stations.models import Drop, Station
from community.stations.schemas import DropIn, RegradeIn
from tests import builders
from tests.ratings.test_services import NOV, NOW, OCT, SH, Scene, _rating, at
from tests.ratings.test_services import scene as scene  # noqa: PLC0414  (the fixture)

DEC2 = datetime(2026, 12, 2, 10, 0, tzinfo=SH)


def _built(session: Session, community_id: int) -> dict[date, datetime]:
    session.expire_all()
    return {r.local_date: r.built_at for r in session.execute(
        select(RollupDay).where(col(RollupDay.community_id) == community_id)).scalars()}


def _late_incorrect_drops(session: Session, scene: Scene, day: date, n: int) -> None:
    """n households' incorrect kitchen drops on `day`, uploaded on DEC2 from an offline queue."""
    st = session.execute(select(Station).where(col(Station.name) == "北门")).scalar_one()
    steward = builders.recorder(session, scene.w.a)
    items = [DropIn.model_validate({
        "client_id": f"offline-{k:06d}", "station_id": st.id, "category": "kitchen",
        "quality": "incorrect", "reason_code": "kitchen_plastic_bag",
        "happened_at": at(day, 8, k),
        "card": builders.active_card(session, hh).token}, strict=False)
        for k, hh in enumerate(scene.homes[:n])]
    stations_services.record_drops(session, actor=steward, items=items, now=DEC2)
    session.commit()


def test_exactly_the_dirty_days_are_rebuilt_and_a_changed_level_says_why(
        session: Session, scene: Scene) -> None:
    services.rate_month(session, month=OCT, now=NOW)
    services.rate_month(session, month=NOV, now=NOW)
    session.commit()
    assert _rating(session, scene.w.a.id, NOV).level == "star"
    before = _built(session, scene.w.a.id)
    _late_incorrect_drops(session, scene, date(2026, 11, 20), 2)  # accuracy 30/32 < 95%

    got = jobs.refresh_dirty(session, now=DEC2)

    assert got["days_rebuilt"] == 1
    after = _built(session, scene.w.a.id)
    assert after[date(2026, 11, 20)] == DEC2
    assert {d: t for d, t in after.items() if d != date(2026, 11, 20)} == before
    nov = _rating(session, scene.w.a.id, NOV)
    assert (nov.level, nov.status) == ("compliant", "provisional")
    assert nov.metrics["accuracy"] == 30 / 32
    [change] = services.rating_changes(session, scene.w.a.id, NOV)
    assert (change.old_level, change.new_level) == ("star", "compliant")
    assert change.causes == {"drops": {"2026-11-20": 2}}
    assert _rating(session, scene.w.a.id, OCT).status == "final"  # Oct 31 + 30 days passed
    # Nothing changed since: nothing is rebuilt, no new change is recorded.
    assert jobs.refresh_dirty(session, now=DEC2 + timedelta(hours=1))["days_rebuilt"] == 0
    assert _built(session, scene.w.a.id) == after
    assert len(services.rating_changes(session, scene.w.a.id, NOV)) == 1


def test_a_changed_month_re_rates_the_next_and_final_months_never_move(
        session: Session, scene: Scene) -> None:
    services.rate_month(session, month=OCT, now=NOW)
    services.rate_month(session, month=NOV, now=NOW)
    session.commit()
    manager = auth_services.load_actor(session, scene.w.manager_a.id)
    october = session.execute(select(Drop).where(
        col(Drop.local_date) == date(2026, 10, 10), col(Drop.quality) == "correct")
        .order_by(col(Drop.id)).limit(3)).scalars().all()
    with clock.freeze(NOW):
        for d in october:  # accuracy 20/24 < 85%: October is no longer compliant
            stations_services.regrade_drop(session, actor=manager, drop_id=d.id,
                                           data=RegradeIn.parse(quality="incorrect",
                                                                reason_code=builders.MISDROP,
                                                                reason="复核"))
    session.commit()

    jobs.refresh_dirty(session, now=NOW + timedelta(hours=1))

    [oct_change] = services.rating_changes(session, scene.w.a.id, OCT)
    assert (oct_change.old_level, oct_change.new_level) == ("compliant", "not_compliant")
    assert oct_change.causes == {"regrades": {"2026-10-10": 3}}
    [nov_change] = services.rating_changes(session, scene.w.a.id, NOV)
    assert (nov_change.old_level, nov_change.new_level) == ("star", "compliant")
    assert nov_change.causes == {"last_month": ["compliant", "not_compliant"]}
    assert _rating(session, scene.w.a.id, OCT).status == "final"
    # A final month: its days are still rebuilt, its rating no longer moves.
    with clock.freeze(DEC2):
        stations_services.regrade_drop(session, actor=manager, drop_id=october[0].id,
                                       data=RegradeIn.parse(quality="correct", reason="复核更正"))
    session.commit()
    got = jobs.refresh_dirty(session, now=DEC2)
    assert got["days_rebuilt"] == 1
    assert got["levels_changed"] == 0
    assert _rating(session, scene.w.a.id, OCT).level == "not_compliant"
    assert len(services.rating_changes(session, scene.w.a.id, OCT)) == 1
    services.rate_month(session, month=OCT, now=DEC2)  # a hand re-run skips it too
    assert _rating(session, scene.w.a.id, OCT).level == "not_compliant"


def test_the_nightly_rollup_takes_the_marks_of_its_day(session: Session,
                                                       scene: Scene) -> None:
    day = date(2026, 12, 1)
    _late_incorrect_drops(session, scene, day, 1)  # uploaded 12-02 10:00 for yesterday
    assert session.execute(select(DirtyDay)).scalars().all() != []
    got = jobs.roll_up_day(session, day=day, now=DEC2)
    session.commit()
    assert got["drops"] == 1
    assert session.execute(select(DirtyDay)).scalars().all() == []
    assert jobs.refresh_dirty(session, now=DEC2)["days_rebuilt"] == 0


def test_the_rating_page_shows_provisional_final_and_why_a_level_changed(
        client, session: Session, scene: Scene) -> None:
    services.rate_month(session, month=OCT, now=NOW)
    services.rate_month(session, month=NOV, now=NOW)
    session.commit()
    _late_incorrect_drops(session, scene, date(2026, 11, 20), 2)
    jobs.refresh_dirty(session, now=DEC2)
    builders.login(client, scene.w.manager_a)
    url = f"/manage/ratings/communities/{scene.w.a.id}"
    with clock.freeze(DEC2):
        page = client.get(f"{url}?month=2026-11").get_data(as_text=True)
        october = client.get(f"{url}?month=2026-10").get_data(as_text=True)
    assert 'data-status="provisional"' in page
    assert "暂定" in page
    assert "星级 → 达标 · 11-20 补录投放 2 次" in page
    assert "自 2026-12-31 起为终评" in page
    assert 'data-status="final"' in october
    assert "终评" in october
    assert 'data-testid="rating-changes"' not in october


def test_the_city_list_marks_provisional_ratings(client, session: Session,
                                                 scene: Scene) -> None:
    services.rate_month(session, month=NOV, now=NOW)
    session.commit()
    builders.login(client, scene.w.city_admin)
    with clock.freeze(DEC2):
        page = client.get("/manage/ratings?month=2026-11").get_data(as_text=True)
    assert page.count('data-testid="rating-status"') >= 1
    assert "暂定" in page
