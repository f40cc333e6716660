"""The demo city: 苏州市 with two districts, four streets, eight communities, ~3,000 households.

`build(engine, seed=..., echo=...)` runs a list of small steps (`STEPS`) over one `Demo`
context; later issues append theirs (stations, stewards, drops, ledgers, ratings).
Every step finds what already exists by natural keys (area name under its parent,
username or phone, household address) and adds only what is missing, so a second
run changes nothing. Layout and people are drawn from `random.Random(seed)`; card
secrets still come from `secrets` (`community.households.codes`).

It runs from the CLI (`flask --app wsgi demo`), so it commits: once per community
for the bulk household step, and once at the end.
"""
from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import click
from sqlalchemy import Engine, func, insert, select
from sqlmodel import Session, col

from community import clock
from community.areas import services as area_services
from community.areas.models import Area
from community.auth import services as auth_services
from community.auth.models import Account
from community.households import codes
from community.households.models import Card, Household, HouseholdMember

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
# Communities (by slug) that get stewards and a station chief in this issue.
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

    def rng_for(self, *parts: object) -> random.Random:
        """A generator of its own per item, so one item's draws never shift another's."""
        return random.Random(":".join([str(self.seed), *map(str, parts)]))

    def scope_name(self, area: Area) -> str:
        """'苏州市 / 昆山市 / 玉山镇' style label."""
        return area_services.full_name(self.session, area)


Step = Callable[[Demo], None]


def build(engine: Engine, *, seed: int, echo: Callable[[str], Any] = print) -> None:
    """Create (or complete) the demo city and print its logins; a second run changes nothing."""
    with Session(engine, expire_on_commit=False) as session:
        demo = Demo(session=session, seed=seed, echo=echo, rng=random.Random(seed))
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
    stmt = select(Area).where(Area.level == level, Area.name == name)
    stmt = stmt.where(col(Area.parent_id).is_(None) if parent is None
                      else col(Area.parent_id) == parent.id)
    found = demo.session.execute(stmt.order_by(Area.id)).scalars().first()
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
    hh_table = Household.__table__
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
    hh, card = Household.__table__, Card.__table__
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
    card = Card.__table__
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
        select(Household).where(Household.community_id == community.id,
                                Household.status == "active")
        .order_by(col(Household.id)).limit(n)
    ).scalars())


def _link(demo: Demo, account: Account, hh: Household, *, decided_by: Account) -> None:
    """An approved membership, unless the account is already linked to some household."""
    linked = demo.session.execute(
        select(HouseholdMember.id).where(HouseholdMember.account_id == account.id)
    ).first()
    if linked is not None:
        return
    demo.session.add(HouseholdMember(household_id=hh.id, account_id=account.id,
                                     status="approved", decided_by=decided_by.id,
                                     decided_at=clock.now()))
    demo.session.flush()
    demo.created += 1


# Later issues append their steps here (stations, stewards' shifts, drops, ledgers, ratings).
STEPS: list[Step] = [_areas, _households, _accounts]
