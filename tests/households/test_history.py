"""Household history (issue 13): every status or member change is an event from the moment it
took effect; creation writes the first one; days it changes are marked dirty; the data
migration gives existing households their first events."""
from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text
from sqlmodel import Session, col, select

from community.cli import alembic_config, upgrade_database
from community.dirty.models import DirtyDay
from community.errors import InvalidInput
from community.households import services
from community.households.models import Household, HouseholdEvent
from community.households.schemas import HouseholdIn
from tests import builders
from tests.households.helpers import actor_of, read, upload

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 21, 10, 0, tzinfo=SH)


def wall(*parts: int) -> datetime:
    """A naive local wall time, as the form gives it (the community's zone is implied)."""
    return datetime(*parts, tzinfo=SH).replace(tzinfo=None)  # type: ignore[misc]


def _events(session: Session, household_id: int) -> list[tuple[datetime, str, int]]:
    rows = read(session, select(HouseholdEvent).where(HouseholdEvent.household_id == household_id)
                .order_by(col(HouseholdEvent.effective_at), col(HouseholdEvent.id)))
    return [(e.effective_at, e.status, e.members) for e in rows]


def _dirty(session: Session, community_id: int) -> dict[date, int]:
    rows = read(session, select(DirtyDay).where(DirtyDay.community_id == community_id))
    return {r.local_date: r.households for r in rows if r.households}


def _data(**values) -> HouseholdIn:
    return HouseholdIn.parse({"building": "7", "unit": "1", "room": "701", "members": 3,
                              **values})


def test_creating_writes_the_first_event(session: Session, world: builders.World) -> None:
    manager = actor_of(session, world.manager_a)
    hh = services.create_household(session, actor=manager, community_id=world.a.id,
                                   data=_data(), now=NOW)
    moved_in = services.create_household(
        session, actor=manager, community_id=world.a.id, now=NOW,
        data=_data(room="702", effective_at=wall(2026, 11, 19, 8, 30)))  # local wall time
    session.commit()
    assert _events(session, hh.id) == [(NOW.astimezone(UTC), "active", 3)]
    assert _events(session, moved_in.id) == [(datetime(2026, 11, 19, 0, 30, tzinfo=UTC),
                                              "active", 3)]
    # Moving in on the 19th changes who was active at the end of the 19th and the 20th.
    assert _dirty(session, world.a.id) == {date(2026, 11, 19): 1, date(2026, 11, 20): 1}


def test_a_move_out_recorded_later_takes_effect_when_it_happened(
        session: Session, world: builders.World) -> None:
    manager = actor_of(session, world.manager_a)
    hh = world.households_a[0]
    left = wall(2026, 11, 20, 23, 59)  # "moved out on 11-20, late in the evening"
    services.update_household(session, actor=manager, household_id=hh.id, now=NOW, data=_data(
        building=hh.building, unit=hh.unit, room=hh.room, members=hh.members,
        status="moved_out", effective_at=left))
    session.commit()
    assert _events(session, hh.id)[-1] == (left.replace(tzinfo=SH).astimezone(UTC),
                                           "moved_out", 3)
    assert hh.status == "moved_out"
    assert _dirty(session, world.a.id) == {date(2026, 11, 20): 1}
    # A member change now appends another event; today is never marked.
    services.update_household(session, actor=manager, household_id=hh.id, now=NOW, data=_data(
        building=hh.building, unit=hh.unit, room=hh.room, members=5, status="moved_out"))
    session.commit()
    assert _events(session, hh.id)[-1] == (NOW.astimezone(UTC), "moved_out", 5)
    assert _dirty(session, world.a.id) == {date(2026, 11, 20): 1}


def test_an_address_change_alone_is_not_history(session: Session,
                                                world: builders.World) -> None:
    manager = actor_of(session, world.manager_a)
    hh = world.households_a[0]
    before = _events(session, hh.id)
    services.update_household(session, actor=manager, household_id=hh.id, now=NOW, data=_data(
        building="9", unit="9", room="909", members=hh.members))
    session.commit()
    assert _events(session, hh.id) == before


@pytest.mark.parametrize("when", [
    wall(2026, 11, 21, 10, 1),  # a minute after now
    wall(2019, 12, 31, 23, 0),  # before the household's last event (moved in in 2020)
])
def test_moments_in_the_future_or_before_the_last_change_are_refused(
        session: Session, world: builders.World, when: datetime) -> None:
    manager = actor_of(session, world.manager_a)
    hh = world.households_a[0]
    with pytest.raises(InvalidInput) as info:
        services.update_household(session, actor=manager, household_id=hh.id, now=NOW,
                                  data=_data(building=hh.building, unit=hh.unit, room=hh.room,
                                             members=hh.members, status="moved_out",
                                             effective_at=when))
    assert info.value.details["field"] == "effective_at"
    session.rollback()


def test_the_form_takes_the_moment_and_refuses_the_future(
        client, session: Session, world: builders.World) -> None:
    hh = world.households_a[0]
    builders.login(client, world.manager_a)
    data = {"building": "1", "unit": "1", "room": "101", "members": "3", "status": "moved_out"}
    resp = client.post(f"/manage/households/{hh.id}/edit",
                       data={**data, "effective_at": "2099-01-01T08:00"})
    assert resp.status_code == 422
    assert "不能晚于现在" in resp.get_data(as_text=True)
    resp = client.post(f"/manage/households/{hh.id}/edit",
                       data={**data, "effective_at": "2026-11-01T00:00"})
    assert resp.status_code == 302
    assert _events(session, hh.id)[-1] == (datetime(2026, 10, 31, 16, 0, tzinfo=UTC),
                                           "moved_out", 3)
    assert min(_dirty(session, world.a.id)) == date(2026, 11, 1)


def test_an_import_appends_events_for_new_and_changed_households(
        client, session: Session, world: builders.World) -> None:
    builders.login(client, world.manager_a)
    body = b"building,unit,room,members,status\n1,1,101,3,moved_out\n8,1,801,2,\n"
    assert upload(client, world.a.id, body).status_code == 200
    first = world.households_a[0]
    assert [s for _, s, _ in _events(session, first.id)] == ["active", "moved_out"]
    [new] = read(session, select(Household.id).where(Household.community_id == world.a.id,
                                                      Household.building == "8"))
    assert [(s, m) for _, s, m in _events(session, new)] == [("active", 2)]
    # The same file again changes nothing, so no new event either.
    assert upload(client, world.a.id, body).status_code == 200
    assert len(_events(session, first.id)) == 2
    assert len(_events(session, new)) == 1


def test_the_migration_gives_existing_households_their_first_events(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    script = ScriptDirectory.from_config(alembic_config(url))
    revision = script.get_revision("8d4d5dd6781e")
    upgrade_database(url, str(revision.down_revision))
    engine = create_engine(url)
    with engine.begin() as conn:
        for n, (status, created, updated) in enumerate([
                ("active", "2026-03-01 08:00:00.000000", "2026-05-01 09:00:00.000000"),
                ("moved_out", "2026-03-02 08:00:00.000000", "2026-10-31 16:00:00.000000")]):
            conn.execute(text(
                "INSERT INTO household (community_id, building, unit, room, members, status,"
                " honour_opt_out, created_at, updated_at) VALUES (1, '1', '1', :room, 4,"
                " :status, 0, :created, :updated)"),
                {"room": str(101 + n), "status": status, "created": created,
                 "updated": updated})
    upgrade_database(url, revision.revision)
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT household_id, effective_at, status, members FROM household_event"
            " ORDER BY household_id, id")).all()
    engine.dispose()
    assert [(h, str(at)[:19], s, m) for h, at, s, m in rows] == [
        (1, "2026-03-01 08:00:00", "active", 4),
        (2, "2026-03-02 08:00:00", "active", 4),
        (2, "2026-10-31 16:00:00", "moved_out", 4),
    ]
