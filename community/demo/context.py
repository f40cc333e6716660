"""What every demo step shares: the `Demo` context, the printed `Login` rows, the city's shape
(`TREE`, the admin and staffed communities) and a few helpers.

Imports no step module: the steps (`city`, `drops`, `rewards`, `volunteers`, `ratings`) import
this one, and `community.demo` runs them in order.
"""
from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import select
from sqlmodel import Session, col

from community.areas import services as area_services
from community.areas.models import Area
from community.households.models import Household
from community.rows import table_of

# Local demo logins, printed by every run and documented in the README; not a secret.
DEMO_PASSWORD = "demo-sort-2026"  # noqa: S105

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
# gets stewards and chiefs: community/demo/volunteers.py).
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
    # How many days of drops to generate (ending yesterday; today's so far come on top); the
    # CLI keeps 60.
    days: int = 60
    # Households per community (drawn between the two); tests may ask for a smaller city.
    households: tuple[int, int] = HOUSEHOLDS_PER_COMMUNITY

    def rng_for(self, *parts: object) -> random.Random:
        """A generator of its own per item, so one item's draws never shift another's."""
        return random.Random(":".join([str(self.seed), *map(str, parts)]))

    def scope_name(self, area: Area) -> str:
        """'苏州市 / 昆山市 / 玉山镇' style label."""
        return area_services.full_name(self.session, area)


Step = Callable[[Demo], None]

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


CHUNK = 5_000  # rows per bulk insert


def first_active_households(session: Session, community: Area, n: int) -> list[Household]:
    """The community's first `n` active households (by id: a stable choice across runs)."""
    return list(session.execute(
        select(Household).where(col(Household.community_id) == community.id,
                                col(Household.status) == "active")
        .order_by(col(Household.id)).limit(n)
    ).scalars())



PHOTO_COLOURS = {"kitchen": (70, 130, 60), "recyclable": (40, 90, 170),
                 "hazardous": (190, 50, 40), "other": (110, 110, 110)}


def placeholder_photos() -> dict[str, str]:
    """The demo's placeholder drop photos (one per category), written once under the photo
    folder; category → stored path (the verdicts' photos of `drops`, the audits' of
    `casework`)."""
    out = {c: f"demo/{c}.jpg" for c in PHOTO_COLOURS}
    if not has_app_context():
        return out
    root = Path(current_app.config.get("UPLOAD_DIR") or current_app.instance_path) / "photos"
    from PIL import Image

    for category, colour in PHOTO_COLOURS.items():
        path = root / out[category]
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.new("RGB", (480, 360), colour).save(path, "JPEG", quality=70)
    return out


def building_numbers(session: Session, community: Area) -> list[int]:
    """The community's numbered buildings, in order."""
    hh = table_of(Household)
    return sorted({int(b) for b in session.execute(
        select(hh.c.building).where(hh.c.community_id == community.id).distinct()
    ).scalars() if b.isdigit()})

