"""Plain builder functions for tests: areas, accounts with roles, households, cards.

Each builder flushes; the caller commits when the data must be visible to the app.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from functools import cache

from flask.testing import FlaskClient
from sqlmodel import Session

from community.areas import services as area_services
from community.areas.models import Area
from community.areas.schemas import AreaIn
from community.auth import policy
from community.auth import services as auth_services
from community.auth.models import Account
from community.households.models import Card, Household, HouseholdEvent
from community.stations.schemas import WeekIn

PASSWORD = "correct-horse-battery"
# A city-wide default mis-drop reason (`stations.reasons`): what a regrade to incorrect names.
MISDROP = "kitchen_plastic_bag"
_counter = {"n": 0}


def _next() -> int:
    _counter["n"] += 1
    return _counter["n"]


def area(session: Session, parent: Area | None, name: str | None = None) -> Area:
    """A child area of the next level under `parent` (a city when parent is None)."""
    from community.areas.models import LEVELS

    level = "city" if parent is None else LEVELS[LEVELS.index(parent.level) + 1]
    return area_services.add_area(session, parent=parent, level=level,
                                  data=AreaIn.parse(name=name or f"{level}-{_next()}"))


@cache
def _hash(password: str) -> str:
    return auth_services.hash_password(password)


def account(session: Session, role: str | None = None, scope: Area | None = None,
            *, username: str | None = None, phone: str | None = None,
            password: str = PASSWORD) -> Account:
    """An account, optionally with one role in `scope`."""
    if not username and not phone:
        username = f"user{_next()}"
    # Straight to the table with a hash made once per password: checking the password rules
    # (zxcvbn) and hashing for each of the thousands of fixture accounts cost a tenth of a
    # second per test. The rules and `create_account` have their own tests.
    acct = Account(username=username, display_name=username or phone or "x",
                   phone=auth_services.normalize_phone(phone) if phone else None,
                   password_hash=_hash(password))
    session.add(acct)
    session.flush()
    if role:
        assert scope is not None
        auth_services.add_grant(session, account=acct, role=role, area=scope)
    return acct


# Builder households moved in long before any test's period (their first history event).
MOVED_IN = datetime(2020, 1, 1, tzinfo=UTC)


def household(session: Session, community: Area, building: str = "1", unit: str = "1",
              room: str | None = None, members: int = 3, with_card: bool = True,
              since: datetime = MOVED_IN) -> Household:
    """A household, with an active card unless `with_card` is False, active since `since`."""
    hh = Household(community_id=community.id, building=building, unit=unit,
                   room=room or str(100 + _next()), members=members)
    session.add(hh)
    session.flush()
    household_event(session, hh, since)
    if with_card:
        from community.households import services as hh_services

        hh_services.issue_card(session, household=hh)
    return hh


def household_event(session: Session, hh: Household, at: datetime, *,
                    status: str | None = None, members: int | None = None) -> HouseholdEvent:
    """Append a history event effective `at` and make it the household's current state
    (e.g. `household_event(session, hh, moment, status="moved_out")`)."""
    hh.status = status or hh.status
    hh.members = members or hh.members
    event = HouseholdEvent(household_id=hh.id, community_id=hh.community_id, effective_at=at,
                           status=hh.status, members=hh.members)
    session.add_all([hh, event])
    session.flush()
    return event


def households_with_residents(session: Session, community: Area, n: int, *, building: str,
                              phone_prefix: str) -> tuple[list[Household], list[Account]]:
    """`n` households in `building` (rooms <building>00, <building>01, …), each with one
    approved resident member (phones <phone_prefix>0000, …); flushed, not committed."""
    from community.households.models import HouseholdMember

    households = [household(session, community, building=building, room=f"{building}{i:02d}")
                  for i in range(n)]
    residents = []
    for i, hh in enumerate(households):
        acct = account(session, "resident", community, phone=f"{phone_prefix}{i:04d}")
        session.add(HouseholdMember(community_id=hh.community_id, household_id=hh.id,
                                    account_id=acct.id, status="approved"))
        residents.append(acct)
    session.flush()
    return households, residents


def active_card(session: Session, hh: Household) -> Card:
    """The household's current card."""
    from sqlmodel import select

    return session.exec(select(Card).where(Card.household_id == hh.id,
                                           Card.status == "active")).one()


@dataclass
class World:
    """Two communities A and B (different streets) in one city, with people and data in each."""

    city: Area
    district: Area
    street_a: Area
    street_b: Area
    a: Area
    b: Area
    city_admin: Account
    area_admin_a: Account  # street admin of street A
    manager_a: Account
    manager_b: Account
    resident_a: Account
    resident_b: Account
    steward_a: Account
    households_a: list[Household] = field(default_factory=list)
    households_b: list[Household] = field(default_factory=list)


def world(session: Session) -> World:
    """Build the standard two-community world and commit it."""
    city = area(session, None, "苏州市")
    district = area(session, city, "昆山市")
    street_a = area(session, district, "玉山镇")
    street_b = area(session, district, "周市镇")
    a = area(session, street_a, "玉龙社区")
    b = area(session, street_b, "金浦社区")
    w = World(
        city=city, district=district, street_a=street_a, street_b=street_b, a=a, b=b,
        city_admin=account(session, "city_admin", city, username="cityadmin"),
        area_admin_a=account(session, "area_admin", street_a, username="streeta"),
        manager_a=account(session, "manager", a, username="managera"),
        manager_b=account(session, "manager", b, username="managerb"),
        resident_a=account(session, "resident", a, phone="13800000001"),
        resident_b=account(session, "resident", b, phone="13800000002"),
        steward_a=account(session, "steward", a, username="stewarda"),
    )
    for i in range(3):
        w.households_a.append(household(session, a, building="1", unit="1", room=f"10{i + 1}"))
        w.households_b.append(household(session, b, building="2", unit="1", room=f"20{i + 1}"))
    session.commit()
    return w


def login(client: FlaskClient, acct: Account, password: str = PASSWORD) -> None:
    """Log the test client in as `acct` (asserts success)."""
    resp = client.post("/login", data={"login": acct.username or acct.phone, "password": password})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]


def station(session: Session, community: Area, name: str | None = None, *,
            categories: str = "kitchen,recyclable,hazardous,other", grace: int = 10,
            ranges: tuple = ((7, 9), (18, 20)), created_at: datetime | None = None):
    """An open station with the same windows (whole hours) on every weekday.

    It exists since `created_at` (default: 2020-01-01, long before any test's days), with no
    schedule history: its windows and grace are in force every day since its creation. Tests
    of the history give it one with `stations.manage.services.start_history`.
    """

    from community.stations.models import Station, StationWindow

    st = Station(community_id=community.id, name=name or f"投放点{_next()}",
                 categories=categories, grace_minutes=grace,
                 created_at=created_at or datetime(2020, 1, 1, tzinfo=UTC))
    session.add(st)
    session.flush()
    for weekday in range(7):
        for start, end in ranges:
            session.add(StationWindow(station_id=st.id, weekday=weekday,
                                      start_time=time(start % 24), end_time=time(end % 24)))
    session.flush()
    return st


def drop(session: Session, st, household: Household | None = None, *, happened_at,
         category: str = "kitchen", quality: str = "ungraded", in_window: bool = True,
         weight_kg=None, note: str | None = None, photo: str | None = None,
         source: str | None = None, recorded_by: int | None = None):
    """A stored drop at station `st` (a tally without `household`); local_date in Shanghai."""
    from zoneinfo import ZoneInfo

    from community.stations.models import Drop

    d = Drop(client_text=f"test-drop-{_next():08d}", station_id=st.id,
             community_id=st.community_id, category=category, quality=quality,
             source=source or ("scan" if household else "tally"),
             household_id=household.id if household else None, recorded_by=recorded_by,
             happened_at=happened_at, received_at=happened_at,
             local_date=happened_at.astimezone(ZoneInfo("Asia/Shanghai")).date(),
             in_window=in_window, weight_kg=weight_kg, note=note, photo=photo)
    session.add(d)
    session.flush()
    return d


def week(weekly: dict[int, list[tuple[time, time]]]) -> WeekIn:
    """A weekly schedule input from {weekday: [(start, end), ...]} (other days closed)."""
    return WeekIn.parse({f"weekday_{day}": ranges for day, ranges in weekly.items()})


def on_duty(session: Session, acct: Account, st, start: datetime, end: datetime):
    """`acct` as an approved steward of `st`'s community (reused when it is one) on a shift of
    `st` from `start` to `end` (shared with others on it), checked in at its start: where
    and when a steward may record drops (`community.stations.duty`). Returns the
    assignment."""
    from zoneinfo import ZoneInfo

    from sqlmodel import select as sql_select

    from community.volunteers.models import Shift, ShiftAssignment, Steward

    steward = session.exec(sql_select(Steward).where(
        Steward.account_id == acct.id, Steward.community_id == st.community_id)).first()
    if steward is None:
        steward = Steward(community_id=st.community_id, account_id=acct.id, status="approved")
        session.add(steward)
        session.flush()
    shift = session.exec(sql_select(Shift).where(Shift.station_id == st.id,
                                                 Shift.starts_at == start)).first()
    if shift is None:  # several stewards may share one shift
        shift = Shift(community_id=st.community_id, station_id=st.id, needed=20,
                      local_date=start.astimezone(ZoneInfo("Asia/Shanghai")).date(),
                      starts_at=start, ends_at=end)
        session.add(shift)
        session.flush()
    assignment = ShiftAssignment(shift_id=shift.id, steward_id=steward.id, checked_in_at=start,
                                 check_in_method="code")
    session.add(assignment)
    session.flush()
    return assignment


def recorder(session: Session, community: Area) -> policy.Actor:
    """A new station chief of `community`, as an acting recorder: chiefs record drops at any
    station of their community at any time (stewards only on duty: `on_duty`)."""
    return auth_services.load_actor(session, account(session, "station_chief", community).id)


def ledger(session: Session, *, household: Household | None = None,
           account_id: int | None = None) -> list:
    """Every entry of a household's (or an account's) points, the ledger's and the drops'
    own earns and strikes (`points.facts.entries`), in the order they were written: by
    `at`, a drop row's own earn before the ledger rows of the same moment, then by id.
    Rows carry id, kind, amount, source, reason, local_date, drop_id, reverses_id, at."""
    from sqlalchemy import case, func, select

    from community.points import facts
    from community.points.models import PointsAccount

    session.flush()
    session.expire_all()
    e = facts.entries()
    if account_id is None:
        assert household is not None
        account_id = session.execute(select(PointsAccount.id).where(
            PointsAccount.household_id == household.id)).scalar_one_or_none()
        if account_id is None:
            return []
    return list(session.execute(
        select(e.c.id, e.c.kind, e.c.amount, e.c.source, e.c.reason, e.c.local_date,
               e.c.drop_id, e.c.reverses_id, e.c.at)
        .where(e.c.account_id == account_id)
        .order_by(e.c.at, case((e.c.id < 0, 0), else_=1), func.abs(e.c.id))).all())


def store_facts(session: Session, facts: list) -> list:
    """Store drop rows for facts made up by a test (ids as given; a station of the
    household's community, made once), as the scan path would before scoring them: the
    drop rows are the facts points read (`points.facts`). Returns the facts whose rows are
    new (an id already stored is a replay, as a repeated upload is)."""
    from datetime import timedelta

    from sqlalchemy import select

    from community.stations.models import Drop, Station

    new = []
    for f in facts:
        if session.get(Drop, f.drop_id) is not None:
            continue
        hh = session.get(Household, f.household_id) if f.household_id is not None else None
        community_id = hh.community_id if hh is not None else None
        if community_id is None:
            community_id = session.execute(select(Area.id).where(
                Area.level == "community").order_by(Area.id)).scalars().first()
        st = session.execute(select(Station).where(
            Station.community_id == community_id).order_by(Station.id)).scalars().first()
        if st is None:
            st = station(session, session.get(Area, community_id))
        at = f.happened_at or datetime.combine(f.local_date, time(0, 0), tzinfo=UTC)
        if at.astimezone(UTC).date() > f.local_date + timedelta(days=1):
            raise ValueError("happened_at far from local_date")
        session.add(Drop(id=f.drop_id, client_text=f"fact-{f.drop_id:04d}", station_id=st.id,
                         community_id=community_id, category=f.category or "kitchen",
                         quality=f.quality, source="scan", household_id=f.household_id,
                         happened_at=at, received_at=at, local_date=f.local_date,
                         in_window=f.in_window))
        new.append(f)
    session.flush()
    return new


def award(session: Session, facts: list, *, community_id: int, now: datetime) -> dict[int, int]:
    """`points.services.award_for_drops` for facts made up by a test: their drop rows are
    stored first when missing (`store_facts`); a drop this helper scored before scores
    nothing again (0), as a replayed upload does (the scan path only scores new rows)."""
    from community.points import services as points_services

    store_facts(session, facts)
    done: set[int] = session.info.setdefault("scored_by_test", set())
    new = [f for f in facts if f.drop_id not in done]
    done |= {f.drop_id for f in new}
    got = points_services.award_for_drops(session, new, community_id=community_id, now=now)
    return {f.drop_id: got.get(f.drop_id, 0) for f in facts}


def regrade(session: Session, facts, *, community_id: int, regrade_id: int,
            now: datetime | None = None, actor_id: int | None = None) -> int:
    """A regrade of a test's drop: its row takes the new quality (and window), then points
    recompute (`points.services.reverse_and_reaward`), as `stations.regrade_drop` does."""
    from sqlalchemy import update

    from community.points import services as points_services
    from community.stations.models import Drop

    store_facts(session, [facts])
    session.execute(update(Drop).where(Drop.id == facts.drop_id).values(
        quality=facts.quality, in_window=facts.in_window, category=facts.category or "kitchen"))
    return points_services.reverse_and_reaward(session, facts=facts, community_id=community_id,
                                               regrade_id=regrade_id, now=now,
                                               actor_id=actor_id)


def void(session: Session, facts, *, community_id: int, now: datetime,
         actor_id: int | None = None) -> int:
    """A void of a test's drop: its row is marked void, then points recompute."""
    from sqlalchemy import update

    from community.points import services as points_services
    from community.stations.models import Drop

    session.execute(update(Drop).where(Drop.id == facts.drop_id, Drop.voided_at.is_(None))
                    .values(voided_at=now))
    return points_services.void_drop(session, facts=facts, community_id=community_id,
                                     now=now, actor_id=actor_id)
