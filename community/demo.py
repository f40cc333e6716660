"""The demo city: 苏州市 with two districts, four streets, eight communities, ~3,000 households.

`build(session, seed=..., echo=..., days=60)` runs a list of small steps (`STEPS`) over one
`Demo` context; later issues append theirs (stewards' shifts, ledgers, ratings). Issue 3
added 2–3 drop stations per community with their windows, and `days` days of drops
(ending yesterday) with realistic patterns, bulk-inserted with SQLAlchemy Core.
Every step finds what already exists by natural keys (area name under its parent,
username or phone, household address) and adds only what is missing, so a second
run changes nothing. Layout and people are drawn from `random.Random(seed)`; card
secrets still come from `secrets` (`community.households.codes`).

It runs from the CLI (`flask --app wsgi demo`), so it commits: once per community
for the bulk household and drop steps, and once at the end.
"""
from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from itertools import groupby
from typing import Any
from zoneinfo import ZoneInfo

import click
from sqlalchemy import func, insert, select
from sqlmodel import Session, col

from community import clock
from community.areas import services as area_services
from community.areas.models import Area
from community.auth import services as auth_services
from community.auth.models import Account, RoleGrant
from community.households import codes
from community.households.models import Card, Household, HouseholdMember
from community.points import services as points_services
from community.points.models import PointsAccount, RewardItem
from community.points.rewards import services as rewards
from community.points.rules import DropFacts
from community.rows import pk, table_of
from community.stations import windows
from community.stations.models import Drop, Station, StationException, StationWindow

# Local demo logins, printed by every run and documented in the README; not a secret.
DEMO_PASSWORD = "demo-2026"  # noqa: S105

CITY = "苏州市"
# district → street → (community, slug used in usernames)
TREE: tuple[tuple[str, tuple[tuple[str, tuple[tuple[str, str], ...]], ...]], ...] = (
    ("昆山市", (
        ("玉山镇", (("玉龙社区", "yulong"), ("同心花园", "tongxin"))),
        ("周市镇", (("金浦社区", "jinpu"), ("康庄小区", "kangzhuang"))),
    )),
    ("姑苏区", (
        ("平江街道", (("平江新村", "pingjiang"), ("桃花坞社区", "taohuawu"))),
        ("双塔街道", (("竹辉小区", "zhuhui"), ("二郎巷社区", "erlangxiang"))),
    )),
)
DISTRICT_ADMIN = ("kunshan", "昆山市")
STREET_ADMIN = ("yushan", "玉山镇")
# Communities (by slug) whose station chief and steward logins are printed (every community
# gets stewards and chiefs: community/demo_volunteers.py).
STAFFED = ("yulong", "jinpu")
HOUSEHOLDS_PER_COMMUNITY = (340, 410)
RESIDENTS_PER_COMMUNITY = 2
MOVED_OUT_SHARE = 0.03
# Household sizes 1..6 and how common they are (roughly the census shape of a Suzhou estate).
MEMBER_WEIGHTS = (10, 25, 30, 20, 10, 5)

SURNAMES = "王李张刘陈杨黄赵周吴徐孙朱马胡郭林何高罗沈顾陆钱"
GIVEN = ("伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟",
         "涛", "明", "超", "秀英", "桂兰", "建华", "志强", "玉兰", "海燕", "晓东", "文博")


@dataclass
class Login:
    """One row of the printed login table."""

    role: str
    login: str
    scope: str
    password: str = DEMO_PASSWORD


@dataclass
class Demo:
    """What the steps share: the session, the seeded randomness, the areas made so far."""

    session: Session
    seed: int
    echo: Callable[[str], Any]
    rng: random.Random
    city: Area | None = None
    districts: dict[str, Area] = field(default_factory=dict)
    streets: dict[str, Area] = field(default_factory=dict)
    # slug → community, in TREE order
    communities: dict[str, Area] = field(default_factory=dict)
    logins: list[Login] = field(default_factory=list)
    created: int = 0
    # How many days of drops to generate (ending yesterday); the CLI keeps 60.
    days: int = 60

    def rng_for(self, *parts: object) -> random.Random:
        """A generator of its own per item, so one item's draws never shift another's."""
        return random.Random(":".join([str(self.seed), *map(str, parts)]))

    def scope_name(self, area: Area) -> str:
        """'苏州市 / 昆山市 / 玉山镇' style label."""
        return area_services.full_name(self.session, area)


Step = Callable[[Demo], None]


def build(session: Session, *, seed: int, echo: Callable[[str], Any] = print,
          days: int = 60) -> None:
    """Create (or complete) the demo city and print its logins; a second run changes nothing.

    Commits on `session` as it goes (the bulk steps once per community) and at the end."""
    demo = Demo(session=session, seed=seed, echo=echo, rng=random.Random(seed), days=days)
    for step in STEPS:
        step(demo)
    session.commit()
    if demo.created:
        echo(f"Demo city built: {demo.created} rows added (seed {seed}).")
    else:
        echo("The demo city already exists; nothing was changed.")
    echo(format_logins(demo.logins))


def format_logins(logins: Iterable[Login]) -> str:
    """The login table: role, login, password, scope (scope last: CJK widths break alignment)."""
    rows = [("role", "login", "password", "scope")]
    rows += [(x.role, x.login, x.password, x.scope) for x in logins]
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    w2 = max(len(r[2]) for r in rows)
    lines = [f"{r[0]:<{w0}}  {r[1]:<{w1}}  {r[2]:<{w2}}  {r[3]}" for r in rows]
    lines.insert(1, "-" * (w0 + w1 + w2 + 6 + 20))
    return "\n".join(lines)


# --- steps -------------------------------------------------------------------------------


def _child(demo: Demo, parent: Area | None, level: str, name: str) -> Area:
    """The area named `name` under `parent`, created when missing."""
    stmt = select(Area).where(col(Area.level) == level, col(Area.name) == name)
    stmt = stmt.where(col(Area.parent_id).is_(None) if parent is None
                      else col(Area.parent_id) == parent.id)
    found = demo.session.execute(stmt.order_by(col(Area.id))).scalars().first()
    if found is not None:
        return found
    demo.created += 1
    return area_services.add_area(demo.session, parent=parent, level=level, name=name)


def _areas(demo: Demo) -> None:
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


def _households(demo: Demo) -> None:
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
                    for b, u, r in plan_addresses(rng, rng.randint(*HOUSEHOLDS_PER_COMMUNITY))
                ]
                session.execute(insert(hh_table), rows)
                demo.created += len(rows)
            demo.created += _issue_missing_cards(session, community)
            session.commit()


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
    short_codes = _unused_short_codes(session, len(ids))
    session.execute(insert(card), [
        {"household_id": hid, "token": codes.new_token(), "short_code": code,
         "link_code": codes.new_code(codes.LINK_CODE_LENGTH), "status": "active",
         "issued_at": now}
        for hid, code in zip(ids, short_codes, strict=True)
    ])
    return len(ids)


def _unused_short_codes(session: Session, n: int) -> list[str]:
    """`n` distinct short codes not yet on any card (a clash is rare but must not abort a run)."""
    card = table_of(Card)
    found: list[str] = []  # in generation order: codes must not follow the address order
    while len(found) < n:
        batch = list(dict.fromkeys(codes.new_code() for _ in range(n - len(found))))
        taken = set(session.execute(
            select(card.c.short_code).where(card.c.short_code.in_(batch))
        ).scalars()) | set(found)
        found += [code for code in batch if code not in taken]
    return found


def _person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def _account(demo: Demo, *, role: str, area: Area, display_name: str,
             username: str | None = None, phone: str | None = None) -> Account:
    """The account with this login (created when missing), holding `role` in `area`."""
    login = username or phone or ""
    existing = auth_services.find_by_login(demo.session, login)
    if existing is None:
        existing = auth_services.create_account(
            demo.session, display_name=display_name, password=DEMO_PASSWORD,
            username=username, phone=phone)
        demo.created += 1
    auth_services.add_grant(demo.session, account=existing, role=role, area=area)
    demo.logins.append(Login(role=role, login=login, scope=demo.scope_name(area)))
    return existing


def _accounts(demo: Demo) -> None:
    """One login for every role: city, district and street admins, managers, staff, residents."""
    if demo.city is None:
        raise RuntimeError("_areas must run before _accounts")
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
        homes = _first_active_households(demo.session, community, RESIDENTS_PER_COMMUNITY)
        for n, hh in enumerate(homes, start=1):
            resident = _account(demo, role="resident", area=community,
                                phone=f"139{index:04d}{n:04d}", display_name=_person(rng))
            _link(demo, resident, hh, decided_by=managers[slug])


def _first_active_households(session: Session, community: Area, n: int) -> list[Household]:
    """The community's first `n` active households (by id: a stable choice across runs)."""
    return list(session.execute(
        select(Household).where(col(Household.community_id) == community.id,
                                col(Household.status) == "active")
        .order_by(col(Household.id)).limit(n)
    ).scalars())


def _link(demo: Demo, account: Account, hh: Household, *, decided_by: Account) -> None:
    """An approved membership, unless the account is already linked to some household."""
    linked = demo.session.execute(
        select(col(HouseholdMember.id)).where(col(HouseholdMember.account_id) == account.id)
    ).first()
    if linked is not None:
        return
    demo.session.add(HouseholdMember(household_id=pk(hh), account_id=pk(account),
                                     status="approved", decided_by=decided_by.id,
                                     decided_at=clock.now()))
    demo.session.flush()
    demo.created += 1


# --- stations and drops (issue 3) ---------------------------------------------------------

# Per community: accuracy (准确率) around which buildings and households vary, and the share of
# active households dropping on a given day. Spread apart so the ratings come out different.
PROFILE: dict[str, tuple[float, float]] = {
    "yulong": (0.95, 0.68), "tongxin": (0.88, 0.64), "jinpu": (0.92, 0.66),
    "kangzhuang": (0.80, 0.58), "pingjiang": (0.85, 0.62), "taohuawu": (0.90, 0.65),
    "zhuhui": (0.76, 0.56), "erlangxiang": (0.97, 0.67),
}
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
IN_WINDOW_SHARE = 0.86
GRACE_SHARE = 0.04  # of the in-window drops: just before or after the window, within grace
# How likely a household drops each category on a day it comes (kitchen almost always).
CATEGORY_ODDS = (("kitchen", 0.93), ("other", 0.55), ("recyclable", 0.18), ("hazardous", 0.015))
UNGRADED_SHARE = 0.05
TALLY_SHARE = 0.03
MANUAL_SHARE = 0.04
INCORRECT_NOTES = ("厨余中混有塑料袋", "其他垃圾混入厨余", "可回收物未清洗", "电池投入其他垃圾桶")
WEIGHTS_KG = {"kitchen": (0.3, 2.5), "other": (0.2, 3.0), "recyclable": (0.2, 3.0),
              "hazardous": (0.2, 0.6)}
CHUNK = 5_000


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


def _buildings(session: Session, community: Area) -> list[int]:
    hh = table_of(Household)
    return sorted({int(b) for b in session.execute(
        select(hh.c.building).where(hh.c.community_id == community.id).distinct()
    ).scalars() if b.isdigit()})


def _stations(demo: Demo) -> None:
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
        for name, location, cats in plan_stations(rng, len(_buildings(session, community))):
            station = Station(
                community_id=pk(community), name=name, location=location,
                latitude=round(lat0 + rng.uniform(-0.02, 0.02), 6),
                longitude=round(lon0 + rng.uniform(-0.02, 0.02), 6),
                categories=",".join(cats), chief_id=chief.id if chief else None,
                status="open", grace_minutes=GRACE_MINUTES)
            session.add(station)
            session.flush()
            session.add_all(StationWindow(station_id=pk(station), weekday=day, start_time=start,
                                          end_time=end)
                            for day in range(7) for start, end in windows.DEFAULT_RANGES)
            made.append(station)
            demo.created += 1 + 7 * len(windows.DEFAULT_RANGES)
        if slug == CLOSED_IN[0]:
            today = clock.now().astimezone(ZoneInfo(community.timezone)).date()
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


def _schedules(session: Session, stations: list[Station], tz: str, first: date, last: date
               ) -> dict[int, tuple[windows.Schedule, dict[date, tuple[windows.TimeRange, ...]]]]:
    """Each station's weekly schedule and its exceptions between `first` and `last`."""
    ids = [pk(s) for s in stations]
    weekly: dict[int, dict[int, list[windows.TimeRange]]] = {i: {} for i in ids}
    for w in session.execute(select(StationWindow).where(
            col(StationWindow.station_id).in_(ids))).scalars():
        weekly[w.station_id].setdefault(w.weekday, []).append((w.start_time, w.end_time))
    exc: dict[int, dict[date, list[windows.TimeRange]]] = {i: {} for i in ids}
    for e in session.execute(select(StationException).where(
            col(StationException.station_id).in_(ids),
            col(StationException.day) >= first - timedelta(days=1),
            col(StationException.day) <= last + timedelta(days=1))).scalars():
        ranges = exc[e.station_id].setdefault(e.day, [])
        if e.start_time is not None and e.end_time is not None:
            ranges.append((e.start_time, e.end_time))
    return {i: (windows.Schedule({d: tuple(r) for d, r in weekly[i].items()}, tz),
                {d: tuple(r) for d, r in exc[i].items()}) for i in ids}


def drop_time(rng: random.Random, day: date, tz: ZoneInfo, day_windows: list[windows.Window],
              habit: int, lean: float, grace: int) -> datetime:
    """When a household drops on `day` (aware, local): mostly inside its usual window, else
    过时投放 just outside a window's edges, around noon or late in the evening."""
    window = day_windows[habit if habit < len(day_windows) else 0]
    if rng.random() < IN_WINDOW_SHARE:
        if rng.random() < GRACE_SHARE:
            margin = timedelta(minutes=rng.uniform(0, grace * 0.9))
            return window.start - margin if rng.random() < 0.4 else window.end + margin
        span = (window.end - window.start).total_seconds()
        return window.start + timedelta(seconds=rng.triangular(0, span, lean * span))
    kind = rng.random()
    if kind < 0.55:
        late = timedelta(minutes=rng.uniform(grace + 1, grace + 45))
        return window.start - late if rng.random() < 0.45 else window.end + late
    start = time(11, 0) if kind < 0.75 else time(20, 30)
    return datetime.combine(day, start, tzinfo=tz) + timedelta(minutes=rng.uniform(0, 150))


def _recorders(session: Session, community: Area) -> list[int]:
    """Account ids of the community's stewards (its manager when it has none)."""
    for role in ("steward", "manager"):
        ids = list(session.execute(
            select(col(RoleGrant.account_id)).where(col(RoleGrant.area_id) == community.id,
                                                    col(RoleGrant.role) == role)
            .order_by(col(RoleGrant.account_id))).scalars())
        if ids:
            return ids
    return []


def _drops(demo: Demo) -> None:
    """`demo.days` days of drops ending yesterday, per community in one transaction each."""
    session = demo.session
    drop = table_of(Drop)
    with click.progressbar(list(demo.communities.items()),
                           label=f"Drops ({demo.days} days)") as bar:
        for slug, community in bar:
            if session.execute(select(drop.c.id).where(drop.c.community_id == community.id)
                               .limit(1)).first() is not None:
                continue  # the community already has drops: demo data is never mixed in
            rows = plan_drops(demo, slug, community)
            for start in range(0, len(rows), CHUNK):
                session.execute(insert(drop), rows[start:start + CHUNK])
            demo.created += len(rows)
            session.commit()


def plan_drops(demo: Demo, slug: str, community: Area) -> list[dict[str, Any]]:
    """The drop rows of one community (not yet inserted), drawn from the demo's seed."""
    session = demo.session
    stations = list(session.execute(select(Station).where(
        col(Station.community_id) == community.id, col(Station.status) == "open")
        .order_by(col(Station.id))).scalars())
    recorders = _recorders(session, community)
    if not stations or not recorders:
        return []
    hh, card = table_of(Household), table_of(Card)
    homes = session.execute(
        select(hh.c.id, hh.c.building, card.c.id)
        .join(card, (card.c.household_id == hh.c.id) & (card.c.status == "active"))
        .where(hh.c.community_id == community.id, hh.c.status == "active")
        .order_by(hh.c.id)).all()
    tz = ZoneInfo(community.timezone)
    now = clock.now()
    last = now.astimezone(tz).date() - timedelta(days=1)
    first = last - timedelta(days=demo.days - 1)
    schedules = _schedules(session, stations, community.timezone, first, last)
    rng = demo.rng_for("drops", slug)
    accuracy, participation = PROFILE.get(slug, (0.85, 0.62))
    buildings = _buildings(session, community)
    building_acc = {b: accuracy + rng.uniform(-0.08, 0.04) for b in buildings}
    # Per household: how often it comes, its usual window and minute, how well it sorts.
    people = []
    for hid, building, card_id in homes:
        b = int(building) if building.isdigit() else 1
        come = rng.betavariate(participation * 4, (1 - participation) * 4)
        sorts = min(0.995, max(0.3, building_acc.get(b, accuracy) + rng.gauss(0, 0.03)))
        home = station_for_building(b, len(buildings), len(stations))
        people.append((hid, card_id, come, home, int(rng.random() < 0.55),
                       rng.uniform(0.15, 0.85), sorts))
    rows: list[dict[str, Any]] = []
    day = first
    while day <= last:
        open_windows = [windows.windows_on(*schedules[s.id], day) for s in stations]
        for hid, card_id, come, home, habit, lean, sorts in people:
            if rng.random() >= come:
                continue
            cats = [c for c, odds in CATEGORY_ODDS if rng.random() < odds] or ["kitchen"]
            moment = None
            for cat in cats[:3]:
                k = _station_index(stations, open_windows, home, cat)
                if k is None:
                    continue
                station = stations[k]
                if moment is None:
                    moment = drop_time(rng, day, tz, open_windows[k], habit, lean,
                                       station.grace_minutes)
                else:  # the same trip: a few seconds between bins
                    moment += timedelta(seconds=rng.randint(5, 40))
                rows.append(_drop_row(rng, slug, len(rows), station, k, cat, sorts,
                                      hid, card_id, recorders, moment, schedules[station.id]))
        day += timedelta(days=1)
    return rows


def _station_index(stations: list[Station], open_windows: list[list[windows.Window]],
                   home: int, category: str) -> int | None:
    """The household's own station if open with a bin for `category`, else the first that is."""
    for k in (home, *range(len(stations))):
        if open_windows[k] and category in stations[k].category_list():
            return k
    return None


def _drop_row(rng: random.Random, slug: str, n: int, station: Station, k: int,
              category: str, sorts: float, hid: int, card_id: int, recorders: list[int],
              moment: datetime, schedule: tuple[windows.Schedule, dict]) -> dict[str, Any]:
    happened = moment.astimezone(UTC)
    if rng.random() < UNGRADED_SHARE:
        quality = "ungraded"
    else:
        slip = 0.04 if category == "kitchen" else 0.10 if category == "hazardous" else 0.0
        quality = "correct" if rng.random() < sorts - slip else "incorrect"
    tally = rng.random() < TALLY_SHARE
    source = "tally" if tally else "manual" if rng.random() < MANUAL_SHARE else "scan"
    weight = None
    if k == 0:  # the main station stands on a scale
        low, high = WEIGHTS_KG[category]
        weight = Decimal(f"{rng.uniform(low, high):.2f}")
    # Mostly uploaded at once; a few sat in an offline queue for a while.
    delay = rng.uniform(60, 3600) if rng.random() < 0.03 else rng.uniform(1, 20)
    note = (rng.choice(INCORRECT_NOTES)
            if quality == "incorrect" and rng.random() < 0.2 else None)
    return {
        "client_id": f"demo-{slug}-{n + 1:07d}", "station_id": station.id,
        "community_id": station.community_id, "category": category, "quality": quality,
        "source": source, "household_id": None if tally else hid,
        "card_id": None if tally else card_id, "recorded_by": rng.choice(recorders),
        "device_id": None, "happened_at": happened,
        "received_at": happened + timedelta(seconds=delay),
        "local_date": moment.date(),
        "in_window": windows.classify(schedule[0], schedule[1], happened,
                                      station.grace_minutes).in_window,
        "weight_kg": weight, "note": note, "photo": None,
    }


# Later issues append their steps here (stewards' shifts, ledgers, ratings).
def _points(demo: Demo) -> None:
    """Ledgers follow the demo drops: every identified drop scored day by day, as it happened."""
    session = demo.session
    zone = ZoneInfo("Asia/Shanghai")
    with click.progressbar(list(demo.communities.items()), label="Points ledgers") as bar:
        for _slug, community in bar:
            started = session.execute(select(col(PointsAccount.id)).where(
                col(PointsAccount.community_id) == community.id).limit(1)).first()
            if started is not None:  # scored by a previous run (or by real scans)
                continue
            rows = session.execute(
                select(col(Drop.id), col(Drop.household_id), col(Drop.category),
                       col(Drop.quality), col(Drop.in_window), col(Drop.local_date))
                .where(col(Drop.community_id) == community.id, col(Drop.household_id).is_not(None))
                .order_by(col(Drop.happened_at), col(Drop.id))).all()
            for day, group in groupby(rows, key=lambda r: r.local_date):
                facts = [DropFacts(r.id, r.household_id, r.category, r.quality, r.in_window, day)
                         for r in group]
                # Entries carry the evening of their day, as if scored when the drops came in.
                evening = datetime.combine(day, time(21, 0), tzinfo=zone)
                points_services.award_for_drops(session, facts, community_id=pk(community),
                                                now=evening)
            session.commit()


# --- rewards (积分兑换) -------------------------------------------------------------------

# Per community: (name, description, cost, stock). Stock is what is left before the demo's
# redemptions; the voucher costs a few months of careful sorting.
REWARD_CATALOG = (
    ("鸡蛋（10个）", "新鲜鸡蛋一盒，凭领取码到投放亭领取", 30, 40),
    ("洗衣皂（2块）", "无磷洗衣皂两块装", 15, 60),
    ("垃圾袋（1卷）", "加厚点断式垃圾袋，每卷30只", 10, 100),
    ("物业费抵用券（50元）", "抵扣本户下季度物业费，每户每季度限兑一张", 300, 10),
)
# What the demo residents did with them: (resident number, item index, outcome, days ago).
REWARD_STORY = ((1, 2, "handed_over", 3), (1, 0, "reserved", 1), (2, 1, "cancelled", 2))
REWARD_BONUS_REASON = "社区积分兑换活动奖励"


def _rewards(demo: Demo) -> None:
    """A catalog per community and a few redemptions (reserved, handed over, cancelled).

    Everything goes through the rewards and ledger services, so balances, stock and entries
    agree exactly (`flask points verify` finds no drift). A demo resident short of points
    first gets a community bonus (an ordinary manager adjustment) for what the story spends.
    """
    session = demo.session
    now = clock.now()
    for slug, community in demo.communities.items():
        if session.execute(select(col(RewardItem.id)).where(
                col(RewardItem.community_id) == community.id).limit(1)).first() is not None:
            continue  # a previous run (or a real manager) already made the catalog
        manager_account = auth_services.find_by_login(session, slug)
        if manager_account is None:
            continue
        manager = auth_services.load_actor(session, pk(manager_account))
        steward_account = auth_services.find_by_login(session, f"{slug}.steward1")
        steward = (auth_services.load_actor(session, pk(steward_account))
                   if steward_account is not None else manager)
        year_end = date(clock.local(now, community.timezone).year, 12, 31)
        items = [rewards.save_item(session, actor=manager, community_id=pk(community),
                                   now=now - timedelta(days=7), data=rewards.ItemInput(
                                       name=name, description=text, cost=cost, stock=stock,
                                       active_until=year_end if cost >= 100 else None))
                 for name, text, cost, stock in REWARD_CATALOG]
        demo.created += len(items)
        members = dict(enumerate(_demo_members(session, community), start=1))
        for n, (_account_id, household_id) in members.items():
            needed = sum(items[k].cost for m, k, _o, _d in REWARD_STORY if m == n)
            have = points_services.balance(session, household_id)
            if have < needed:
                points_services.adjust(session, actor=manager, household_id=household_id,
                                       amount=needed - have, reason=REWARD_BONUS_REASON,
                                       now=now - timedelta(days=5))
                demo.created += 1
        # Oldest first, so redemption ids follow their dates as they would in real use.
        for n, k, outcome, days in sorted(REWARD_STORY, key=lambda s: -s[3]):
            if n not in members:
                continue
            account_id, household_id = members[n]
            resident = auth_services.load_actor(session, account_id)
            at = now - timedelta(days=days)
            red = rewards.redeem_reward(session, actor=resident, household_id=household_id,
                                        reward_id=pk(items[k]),
                                        client_id=f"demo-{slug}-{n}-{k}", now=at)
            if outcome == "handed_over":
                rewards.hand_over(session, actor=steward, code=red.pickup_code,
                                  now=at + timedelta(hours=2))
            elif outcome == "cancelled":
                rewards.cancel_redemption(session, actor=resident, redemption_id=pk(red),
                                          now=at + timedelta(minutes=30))
            demo.created += 1
        session.commit()


def _demo_members(session: Session, community: Area) -> list[tuple[int, int]]:
    """(account, household) of the community's demo residents, in the order they were made."""
    homes = [h.id for h in _first_active_households(session, community,
                                                    RESIDENTS_PER_COMMUNITY)]
    if not homes:
        return []
    rows = session.execute(
        select(col(HouseholdMember.account_id), col(HouseholdMember.household_id))
        .where(col(HouseholdMember.household_id).in_(homes),
               col(HouseholdMember.status) == "approved")
        .order_by(col(HouseholdMember.household_id), col(HouseholdMember.id))).all()
    return [(a, h) for a, h in rows]


# --- volunteers (issue 5): community/demo_volunteers.py ------------------------------------
# Imported when the step runs: that module builds on this one's constants and `Demo`.

def _stewards(demo: Demo) -> None:
    """Stewards and station chiefs in every community (before the drops: they record them)."""
    from community import demo_volunteers

    demo_volunteers.add_stewards(demo)


def _rotas(demo: Demo) -> None:
    """Shifts, check-ins, logs and approved hours (after the ledgers, which it credits)."""
    from community import demo_volunteers

    demo_volunteers.add_rotas(demo)


# --- ratings (issue 6): community/demo_ratings.py -------------------------------------------

def _ratings(demo: Demo) -> None:
    """Rollups of the demo days and ratings of their months (last: reads every step before)."""
    from community import demo_ratings

    demo_ratings.add_ratings(demo)


STEPS: list[Step] = [_areas, _households, _accounts, _stations, _stewards, _drops, _points,
                     _rewards, _rotas, _ratings]
