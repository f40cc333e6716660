"""The demo city's places and people: areas, accounts, households with their cards, and the
drop stations with their windows (issue 3)."""
from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from functools import cache

import click
from sqlalchemy import func, insert, literal, select
from sqlmodel import Session, col

from community import clock
from community.areas import services as area_services
from community.areas.models import Area
from community.areas.schemas import AreaIn
from community.auth import services as auth_services
from community.auth.models import Account
from community.auth.schemas import AccountIn
from community.demo.context import (
    CITY,
    DEMO_PASSWORD,
    DISTRICT_ADMIN,
    GIVEN,
    MEMBER_WEIGHTS,
    MOVED_OUT_SHARE,
    RESIDENTS_PER_COMMUNITY,
    STAFFED,
    STREET_ADMIN,
    SURNAMES,
    TREE,
    Demo,
    Login,
    building_numbers,
    first_active_households,
)
from community.households import codes
from community.households.models import Card, Household, HouseholdEvent, HouseholdMember
from community.rows import pk, table_of
from community.stations import windows
from community.stations.manage import services as stations_manage
from community.stations.models import Station, StationException, StationWindow
from community.types import UTCDateTime

# Rough centres for station coordinates: Kunshan and the old town of Suzhou.
ORIGIN = {"昆山市": (31.385, 120.980), "姑苏区": (31.315, 120.625)}
MAIN_STATIONS = (("北门投放亭", "小区北门内左侧，非机动车棚旁"),
                 ("南门投放亭", "小区南门入口右侧"),
                 ("中心花园投放亭", "中心花园西侧步道旁"),
                 ("会所旁投放亭", "物业会所东侧空地"))
SIDES = ("东", "南", "西", "北")
ALL_CATEGORIES = ("kitchen", "recyclable", "hazardous", "other")
KITCHEN_OTHER = ("kitchen", "other")
GRACE_MINUTES = 10
# Community (slug) whose second station was closed one day for repairs, and how long ago.
CLOSED_IN = ("yulong", 12)


def _child(demo: Demo, parent: Area | None, level: str, name: str) -> Area:
    """The area named `name` under `parent`, created when missing."""
    stmt = select(Area).where(col(Area.level) == level, col(Area.name) == name)
    stmt = stmt.where(col(Area.parent_id).is_(None) if parent is None
                      else col(Area.parent_id) == parent.id)
    found = demo.session.execute(stmt.order_by(col(Area.id))).scalars().first()
    if found is not None:
        return found
    demo.created += 1
    return area_services.add_area(demo.session, parent=parent, level=level,
                                  data=AreaIn.parse(name=name))


def add_areas(demo: Demo) -> None:
    """City → 2 districts → 4 streets → 8 communities."""
    demo.city = _child(demo, None, "city", CITY)
    for district_name, streets in TREE:
        district = _child(demo, demo.city, "district", district_name)
        demo.districts[district_name] = district
        for street_name, communities in streets:
            street = _child(demo, district, "street", street_name)
            demo.streets[street_name] = street
            for community_name, slug in communities:
                demo.communities[slug] = _child(demo, street, "community", community_name)
    demo.session.commit()


def plan_addresses(rng: random.Random, count: int) -> list[tuple[str, str, str]]:
    """`count` addresses (building, unit, room): buildings 1..N, units 1–3, rooms 101..1802."""
    out: list[tuple[str, str, str]] = []
    building = 0
    while len(out) < count:
        building += 1
        units = rng.randint(1, 3)
        floors = rng.choice((6, 6, 11, 12, 18))  # walk-ups, mid-rise and high-rise blocks
        for unit in range(1, units + 1):
            for floor in range(1, floors + 1):
                for door in (1, 2):
                    out.append((str(building), str(unit), f"{floor}{door:02d}"))
    return out[:count]


def add_households(demo: Demo) -> None:
    """About 3,000 households with an active card each, bulk-inserted per community."""
    session = demo.session
    hh_table = table_of(Household)
    items = list(demo.communities.items())
    with click.progressbar(items, label="Households and cards") as bar:
        for slug, community in bar:
            existing = session.execute(
                select(func.count()).select_from(hh_table)
                .where(hh_table.c.community_id == community.id)
            ).scalar_one()
            # A community that already has households (a previous run, or real data) is
            # left as it is: demo addresses are never mixed into it.
            if existing == 0:
                rng = demo.rng_for("households", slug)
                now = clock.now()
                rows = [
                    {"community_id": community.id, "building": b, "unit": u, "room": r,
                     "members": rng.choices(range(1, 7), weights=MEMBER_WEIGHTS)[0],
                     "status": "moved_out" if rng.random() < MOVED_OUT_SHARE else "active",
                     "created_at": now, "updated_at": now}
                    for b, u, r in plan_addresses(rng, rng.randint(*demo.households))
                ]
                session.execute(insert(hh_table), rows)
                _first_events(session, community, now - timedelta(days=demo.days + 1))
                demo.created += len(rows)
            demo.created += _issue_missing_cards(session, community)
            session.commit()


def _first_events(session: Session, community: Area, since: datetime) -> None:
    """The demo households' history: all moved in at `since` (before the first demo drop);
    the moved-out ones left a second later (the demo draws drops from active ones only)."""
    hh, events = table_of(Household), table_of(HouseholdEvent)
    now = clock.now()
    for status, at in (("active", since), ("moved_out", since + timedelta(seconds=1))):
        picked = select(hh.c.id, hh.c.community_id, literal(at, UTCDateTime()),
                        literal(status), hh.c.members, literal(now, UTCDateTime())).where(
            hh.c.community_id == community.id)
        if status == "moved_out":
            picked = picked.where(hh.c.status == "moved_out")
        session.execute(events.insert().from_select(
            ["household_id", "community_id", "effective_at", "status", "members",
             "recorded_at"], picked))


def _issue_missing_cards(session: Session, community: Area) -> int:
    """Give every household of `community` without an active card a new one (Core, in bulk)."""
    hh, card = table_of(Household), table_of(Card)
    has_card = select(card.c.id).where(card.c.household_id == hh.c.id, card.c.status == "active")
    ids = session.execute(
        select(hh.c.id).where(hh.c.community_id == community.id, ~has_card.exists())
        .order_by(hh.c.id)
    ).scalars().all()
    if not ids:
        return 0
    now = clock.now()
    short_codes = _unused_short_codes(session, pk(community), len(ids))
    session.execute(insert(card), [
        {"community_id": pk(community), "household_id": hid, "token": codes.new_token(),
         "short_code": code,
         "status": "active", "issued_at": now}
        for hid, code in zip(ids, short_codes, strict=True)
    ])
    return len(ids)


def _unused_short_codes(session: Session, community_id: int, n: int) -> list[str]:
    """`n` distinct short codes not yet on a card of the community (a clash is rare but must
    not abort a run)."""
    card = table_of(Card)
    found: list[str] = []  # in generation order: codes must not follow the address order
    while len(found) < n:
        batch = list(dict.fromkeys(codes.new_code() for _ in range(n - len(found))))
        taken = set(session.execute(
            select(card.c.short_code).where(card.c.community_id == community_id,
                                            card.c.short_code.in_(batch))
        ).scalars()) | set(found)
        found += [code for code in batch if code not in taken]
    return found


def _person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


@cache
def _demo_hash() -> str:
    """The demo password's hash, made once: every demo login shares the password (scrypt is
    deliberately slow, about 0.1 s a hash)."""
    return auth_services.hash_password(DEMO_PASSWORD)


def _account(demo: Demo, *, role: str, area: Area, display_name: str,
             username: str | None = None, phone: str | None = None) -> Account:
    """The account with this login (created when missing), holding `role` in `area`."""
    login = username or phone or ""
    existing = auth_services.find_by_login(demo.session, login)
    if existing is None:
        existing = auth_services.create_account(demo.session, data=AccountIn.parse(
            display_name=display_name, password=DEMO_PASSWORD, username=username, phone=phone),
            password_hash=_demo_hash())
        demo.created += 1
    auth_services.add_grant(demo.session, account=existing, role=role, area=area)
    demo.logins.append(Login(role=role, login=login, scope=demo.scope_name(area)))
    return existing


def add_accounts(demo: Demo) -> None:
    """One login for every role: city, district and street admins, managers, staff, residents."""
    if demo.city is None:
        raise RuntimeError("add_areas must run before add_accounts")
    rng = demo.rng_for("accounts")
    _account(demo, role="city_admin", area=demo.city, username="city",
             display_name="苏州市城管局管理员")
    username, district = DISTRICT_ADMIN
    _account(demo, role="area_admin", area=demo.districts[district], username=username,
             display_name=f"{district}分类办管理员")
    username, street = STREET_ADMIN
    _account(demo, role="area_admin", area=demo.streets[street], username=username,
             display_name=f"{street}管理员")
    managers: dict[str, Account] = {}
    for slug, community in demo.communities.items():
        managers[slug] = _account(demo, role="manager", area=community, username=slug,
                                  display_name=f"{community.name}管理员 {_person(rng)}")
    for slug in STAFFED:
        community = demo.communities[slug]
        _account(demo, role="station_chief", area=community, username=f"{slug}.chief",
                 display_name=_person(rng))
        for n in (1, 2):
            _account(demo, role="steward", area=community, username=f"{slug}.steward{n}",
                     display_name=_person(rng))
    for index, (slug, community) in enumerate(demo.communities.items(), start=1):
        homes = first_active_households(demo.session, community, RESIDENTS_PER_COMMUNITY)
        for n, hh in enumerate(homes, start=1):
            resident = _account(demo, role="resident", area=community,
                                phone=f"139{index:04d}{n:04d}", display_name=_person(rng))
            _link(demo, resident, hh, decided_by=managers[slug])



def _link(demo: Demo, account: Account, hh: Household, *, decided_by: Account) -> None:
    """An approved membership, unless the account is already linked to some household."""
    linked = demo.session.execute(
        select(col(HouseholdMember.id)).where(col(HouseholdMember.account_id) == account.id)
    ).first()
    if linked is not None:
        return
    headed = demo.session.execute(
        select(col(HouseholdMember.id)).where(col(HouseholdMember.household_id) == hh.id,
                                              col(HouseholdMember.role) == "head")
    ).first()
    demo.session.add(HouseholdMember(community_id=hh.community_id, household_id=pk(hh),
                                     account_id=pk(account),
                                     status="approved", role="member" if headed else "head",
                                     joined_via="approval", decided_by=decided_by.id,
                                     decided_at=clock.now()))
    demo.session.flush()
    demo.created += 1



def plan_stations(rng: random.Random, buildings: int) -> list[tuple[str, str, tuple[str, ...]]]:
    """2–3 stations (name, location, categories): a main one with all bins, then building ones.

    Station k serves the k-th contiguous block of buildings (see `station_for_building`).
    """
    count = 2 if buildings < 8 else rng.choice((2, 3))
    main_name, main_location = rng.choice(MAIN_STATIONS)
    plans: list[tuple[str, str, tuple[str, ...]]] = [(main_name, main_location, ALL_CATEGORIES)]
    for k in range(1, count):
        first = k * buildings // count + 1
        last = max(first, (k + 1) * buildings // count)
        b, side = rng.randint(first, last), rng.choice(SIDES)
        cats = KITCHEN_OTHER if rng.random() < 0.5 else ALL_CATEGORIES
        plans.append((f"{b}号楼{side}侧投放点", f"{b}号楼{side}侧绿化带旁，靠近单元出入口", cats))
    return plans


def station_for_building(building: int, buildings: int, stations: int) -> int:
    """Index of the station serving a building: buildings split into equal contiguous blocks."""
    return min(stations - 1, max(0, (building - 1) * stations // max(1, buildings)))


def _district_of(slug: str) -> str:
    return next(d for d, streets in TREE for _s, cs in streets for _c, s in cs if s == slug)



def add_stations(demo: Demo) -> None:
    """2–3 stations per community, daily windows 07:00–09:00 and 18:00–20:00, grace 10."""
    session = demo.session
    for slug, community in demo.communities.items():
        exists = session.execute(
            select(col(Station.id)).where(col(Station.community_id) == community.id)
            .limit(1)).first()
        if exists is not None:  # a previous run (or a real manager) already made stations
            continue
        rng = demo.rng_for("stations", slug)
        chief = auth_services.find_by_login(session, f"{slug}.chief") if slug in STAFFED else None
        lat0, lon0 = ORIGIN[_district_of(slug)]
        made = []
        for name, location, cats in plan_stations(rng, len(building_numbers(session, community))):
            station = Station(
                community_id=pk(community), name=name, location=location,
                latitude=round(lat0 + rng.uniform(-0.02, 0.02), 6),
                longitude=round(lon0 + rng.uniform(-0.02, 0.02), 6),
                categories=",".join(cats), chief_id=chief.id if chief else None,
                status="open", grace_minutes=GRACE_MINUTES,
                # It exists before the first generated day (its history starts then).
                created_at=clock.now() - timedelta(days=demo.days + 1))
            session.add(station)
            session.flush()
            session.add_all(StationWindow(station_id=pk(station), weekday=day, start_time=start,
                                          end_time=end)
                            for day in range(7) for start, end in windows.DEFAULT_RANGES)
            session.flush()
            stations_manage.start_history(session, station, community.timezone)
            made.append(station)
            demo.created += 1 + 7 * len(windows.DEFAULT_RANGES)
        if slug == CLOSED_IN[0]:
            today = clock.local_today(community.timezone)
            closed = made[-1]
            # Inside every generated period (even a short test run), so its effect is visible.
            ago = min(CLOSED_IN[1], max(1, demo.days - 1))
            session.add(StationException(station_id=pk(closed), day=today - timedelta(days=ago),
                                         note="设备检修，暂停开放"))
            session.add(StationException(station_id=pk(made[0]), day=today + timedelta(days=3),
                                         start_time=time(7, 0), end_time=time(10, 0),
                                         note="社区清洁日，延长开放"))
            demo.created += 2
        session.flush()
    session.commit()

