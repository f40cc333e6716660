"""The dashboards' test scenes: community A's October (rolled up) and November (one day rolled
up, today's drop raw), and a city's rated communities, each worked out by hand in its
docstring."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlmodel import Session, col

from community.areas.models import Area
from community.households.models import Household
from community.ratings import rollups
from community.ratings import services as ratings_services
from community.ratings.models import CoverageDay, Rating
from community.stations.models import Station
from tests import builders

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=SH)
TODAY = NOW.date()
OCT_DAY = date(2026, 10, 10)   # a Saturday
NOV_DAY = date(2026, 11, 5)    # a Thursday
OCT = date(2026, 10, 1)
SEP = date(2026, 9, 1)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """A local moment in Shanghai."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SH)


@dataclass
class Scene:
    """Community A's stations and households used by the scene."""

    world: builders.World
    st1: Station
    st2: Station
    h1: Household
    h2: Household
    h4: Household     # the one household in building 3


def scene(session: Session, world: builders.World) -> Scene:
    """A's drops; A has 4 active households (1-1-101..103 in building 1, h4 in building 3).

    October 10 (rolled up): st1 h1 kitchen correct 07:30; st1 h2 kitchen incorrect 07:40;
    st1 tally other ungraded 07:50; st2 h1 recyclable correct 12:00 out of window.
      → drops 4, scan 3/4 = 75%, accuracy 2/3 = 66.7%, kitchen accuracy 1/2 = 50%,
        out of window 1/4 = 25%, participation 2/4 = 50%, coverage 0/4 = 0%, separation n/a.
    November 5 (rolled up; st1's two windows staffed): st1 h1 kitchen correct 3 kg 07:30;
    st1 h2 kitchen correct 1 kg 08:00; st1 h4 other incorrect 4 kg 18:30; st2 tally kitchen
    ungraded 19:00. November 20 (today, raw): st2 h4 kitchen incorrect 10:00 out of window.
      → drops 5, scan 4/5 = 80%, accuracy 2/4 = 50%, kitchen accuracy 2/3 = 66.7%,
        out of window 1/5 = 20%, participation 3/4 = 75%, coverage 2/4 = 50%,
        separation 4/8 kg = 50%.
    Community B gets one drop (never shown to A's readers).
    """
    h1, h2, _h3 = world.households_a
    h4 = builders.household(session, world.a, building="3", unit="1", room="301")
    st1 = builders.station(session, world.a, "东门投放点")
    st2 = builders.station(session, world.a, "西门投放点")
    st_b = builders.station(session, world.b, "金浦南门")
    drop = builders.drop
    drop(session, st1, h1, happened_at=at(OCT_DAY, 7, 30), quality="correct")
    drop(session, st1, h2, happened_at=at(OCT_DAY, 7, 40), quality="incorrect")
    drop(session, st1, None, happened_at=at(OCT_DAY, 7, 50), category="other")
    drop(session, st2, h1, happened_at=at(OCT_DAY, 12, 0), category="recyclable",
         quality="correct", in_window=False)
    drop(session, st1, h1, happened_at=at(NOV_DAY, 7, 30), quality="correct",
         weight_kg=Decimal("3.0"))
    drop(session, st1, h2, happened_at=at(NOV_DAY, 8, 0), quality="correct",
         weight_kg=Decimal("1.0"))
    drop(session, st1, h4, happened_at=at(NOV_DAY, 18, 30), category="other",
         quality="incorrect", weight_kg=Decimal("4.0"))
    drop(session, st2, None, happened_at=at(NOV_DAY, 19, 0))
    drop(session, st2, h4, happened_at=at(TODAY, 10, 0), quality="incorrect", in_window=False)
    drop(session, st_b, world.households_b[0], happened_at=at(NOV_DAY, 8, 0),
         quality="correct")
    for day in (OCT_DAY, NOV_DAY):
        rollups.build_day(session, day, now=NOW)
    session.execute(update(CoverageDay).where(col(CoverageDay.station_id) == st1.id,
                                              col(CoverageDay.local_date) == NOV_DAY)
                    .values(staffed=2))
    session.commit()
    return Scene(world, st1, st2, h1, h2, h4)


def rating(session: Session, community: Area, month: date, level: str, **values: float | None
           ) -> Rating:
    """A stored rating (as the monthly job would write it) with the given metric values: final
    if its month is past its upload window on NOW's day, else provisional."""
    metrics = {"scan_rate": None, "accuracy": None, "kitchen_accuracy": None,
               "participation": None, "out_of_window_rate": None, "steward_coverage": None,
               "kitchen_separation": None, **values}
    final = ratings_services.final_from(month) <= NOW.date()
    r = Rating(community_id=community.id, month=month, level=level, metrics=metrics,
               checks=[], status="final" if final else "provisional")
    session.add(r)
    session.flush()
    return r


@dataclass
class Areas:
    """The extra communities and the second district."""

    a2: Area
    a3: Area
    a4: Area
    b2: Area
    wujiang: Area
    songling: Area
    c1: Area


def rated_city(session: Session, w: builders.World) -> Areas:
    """October: star a2 (0.96); compliant A and b2 (0.90, a tie); not compliant a3 (0.70),
    B (0.60) and c1 (n/a); insufficient a4; 玉林社区 unrated. September: a2 compliant, A not.

    City: rated 7 of 8; coverage (1 + 2) / 6 = 50%. 昆山市 3/5 = 60%, 玉山镇 2/3 = 66.7%,
    周市镇 1/2 = 50%, 吴江区 and 松陵街道 0/1 = 0%.
    """
    area = builders.area
    x = Areas(a2=area(session, w.street_a, "玉湖社区"), a3=area(session, w.street_a, "玉泉社区"),
              a4=area(session, w.street_a, "玉峰社区"), b2=area(session, w.street_b, "金湾社区"),
              wujiang=(wj := area(session, w.city, "吴江区")),
              songling=(sl := area(session, wj, "松陵街道")),
              c1=area(session, sl, "松陵一社区"))
    area(session, w.street_a, "玉林社区")
    rating(session, w.a, OCT, "compliant", kitchen_accuracy=0.90, scan_rate=0.96,
           out_of_window_rate=0.05)
    rating(session, x.a2, OCT, "star", kitchen_accuracy=0.96, scan_rate=0.97,
           out_of_window_rate=0.02)
    rating(session, x.b2, OCT, "compliant", kitchen_accuracy=0.90, scan_rate=0.95)
    rating(session, x.a3, OCT, "not_compliant", kitchen_accuracy=0.70, scan_rate=0.99)
    rating(session, w.b, OCT, "not_compliant", kitchen_accuracy=0.60, scan_rate=0.90)
    rating(session, x.c1, OCT, "not_compliant")
    rating(session, x.a4, OCT, "insufficient", kitchen_accuracy=0.99, scan_rate=0.5)
    rating(session, x.a2, SEP, "compliant", kitchen_accuracy=0.92)
    rating(session, w.a, SEP, "not_compliant", kitchen_accuracy=0.80)
    session.commit()
    return x


def chart_data(html: str) -> dict:
    """The JSON chart block of a dashboard page."""
    m = re.search(r'<script type="application/json" id="dashboard-data">(.*?)</script>', html,
                  re.S)
    assert m, "no chart data on the page"
    return json.loads(m.group(1))


def text_of(html: str, testid: str) -> list[str]:
    """The texts (tags removed, spaces collapsed) of the elements with a data-testid."""
    out = []
    for m in re.finditer(rf'<(\w+)[^>]*data-testid="{testid}"[^>]*>(.*?)</\1>', html, re.S):
        out.append(" ".join(re.sub(r"<[^>]+>", " ", m.group(2)).split()))
    return out


def figure(html: str, code: str) -> dict[str, str]:
    """One headline figure's value, last month's value and change as shown."""
    m = re.search(rf'data-testid="figure" data-code="{code}"[^>]*>(.*?)</section>', html, re.S)
    assert m, code
    block = m.group(1)
    return {name: text_of(block, f"figure-{name}")[0]
            for name in ("value", "previous", "change")}
