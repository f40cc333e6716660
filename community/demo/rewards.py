"""The demo rewards (积分兑换): a catalog per community and a few redemptions."""
from __future__ import annotations

import io
from datetime import date, timedelta
from pathlib import Path

from flask import current_app, has_app_context
from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import select
from sqlmodel import Session, col

from community import clock
from community.areas.models import Area
from community.auth import services as auth_services
from community.demo.context import (
    RESIDENTS_PER_COMMUNITY,
    Demo,
    first_active_households,
)
from community.households.models import HouseholdMember
from community.points import services as points_services
from community.points.models import RewardItem
from community.points.rewards import services as rewards
from community.points.rewards.schemas import LimitPeriod, RedeemIn, RewardIn
from community.points.schemas import AdjustIn
from community.rows import pk

# Per community: (name, description, cost, stock). Stock is what is left before the demo's
# redemptions; the voucher costs a few months of careful sorting.
REWARD_CATALOG = (
    ("鸡蛋（10个）", "新鲜鸡蛋一盒，凭领取码到投放亭领取", 30, 40),
    ("洗衣皂（2块）", "无磷洗衣皂两块装", 15, 60),
    ("垃圾袋（1卷）", "加厚点断式垃圾袋，每卷30只", 10, 100),
    ("物业费抵用券（50元）", "抵扣本户下季度物业费，每户每季度限兑一张", 300, 10),
)
# The voucher is limited per household (the description says so; now the shop enforces it).
REWARD_LIMITS: dict[int, tuple[int | None, LimitPeriod | None]] = {
    3: (1, LimitPeriod.QUARTER)}
# What the demo residents did with them: (resident number, item index, outcome, days ago).
REWARD_STORY = ((1, 2, "handed_over", 3), (1, 0, "reserved", 1), (2, 1, "cancelled", 2))
REWARD_BONUS_REASON = "社区积分兑换活动奖励"


def add_rewards(demo: Demo) -> None:
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
                                   now=now - timedelta(days=7), data=RewardIn(
                                       name=name, description=text, cost=cost, stock=stock,
                                       active_until=year_end if cost >= 100 else None,
                                       household_limit=REWARD_LIMITS.get(k, (None, None))[0],
                                       limit_period=REWARD_LIMITS.get(k, (None, None))[1]))
                 for k, (name, text, cost, stock) in enumerate(REWARD_CATALOG)]
        demo.created += len(items)
        folder = _picture_dir()
        if folder is not None:
            for k, item in enumerate(items):
                rewards.set_item_picture(session, actor=manager, item_id=pk(item),
                                         data=reward_picture(k), picture_dir=folder)
        members = dict(enumerate(_demo_members(session, community), start=1))
        for n, (_account_id, household_id) in members.items():
            needed = sum(items[k].cost for m, k, _o, _d in REWARD_STORY if m == n)
            have = points_services.balance(session, household_id)
            if have < needed:
                points_services.adjust(session, actor=manager, household_id=household_id,
                                       data=AdjustIn(amount=needed - have,
                                                     reason=REWARD_BONUS_REASON),
                                       now=now - timedelta(days=5))
                demo.created += 1
        # Oldest first, so redemption ids follow their dates as they would in real use.
        for n, k, outcome, days in sorted(REWARD_STORY, key=lambda s: -s[3]):
            if n not in members:
                continue
            account_id, household_id = members[n]
            resident = auth_services.load_actor(session, account_id)
            at = now - timedelta(days=days)
            red = rewards.redeem_reward(session, actor=resident, now=at, data=RedeemIn(
                household_id=household_id, reward_id=pk(items[k]),
                client_id=f"demo-{slug}-{n}-{k}"))
            if outcome == "handed_over":
                rewards.hand_over(session, actor=steward, code=red.pickup_code,
                                  now=at + timedelta(hours=2))
            elif outcome == "cancelled":
                rewards.cancel_redemption(session, actor=resident, redemption_id=pk(red),
                                          now=at + timedelta(minutes=30))
            demo.created += 1
        session.commit()


def _picture_dir() -> Path | None:
    """Where the app keeps reward pictures (as `rewards.views.picture_root`); None outside
    an app (nothing to serve them)."""
    if not has_app_context():
        return None
    return Path(current_app.config.get("UPLOAD_DIR") or current_app.instance_path) / "rewards"


PICTURE_COLOURS = ((250, 236, 205), (214, 234, 248), (225, 240, 220), (253, 226, 226))


def reward_picture(k: int, size: int = 240) -> bytes:
    """A simple drawing of catalog item `k` (eggs, soap, bag roll, voucher) as PNG bytes:
    made here with Pillow, so the demo needs no download and the repository no binaries."""
    image = Image.new("RGB", (size, size), PICTURE_COLOURS[k % len(PICTURE_COLOURS)])
    draw = ImageDraw.Draw(image)
    u = size / 24
    if k == 0:  # a box of eggs
        draw.rounded_rectangle((2 * u, 12 * u, 22 * u, 20 * u), radius=u, fill=(190, 160, 110))
        for i in range(5):
            x = 3 * u + i * 3.8 * u
            draw.ellipse((x, 6 * u, x + 3.2 * u, 13 * u), fill=(255, 250, 240),
                         outline=(200, 180, 150), width=2)
    elif k == 1:  # two bars of soap
        for i, colour in enumerate(((120, 180, 230), (90, 150, 210))):
            y = 6 * u + i * 6.5 * u
            draw.rounded_rectangle((4 * u, y, 20 * u, y + 5.5 * u), radius=2 * u, fill=colour,
                                   outline=(60, 100, 160), width=2)
    elif k == 2:  # a roll of bags
        draw.rectangle((5 * u, 7 * u, 19 * u, 17 * u), fill=(70, 150, 80))
        draw.ellipse((16 * u, 7 * u, 22 * u, 17 * u), fill=(90, 175, 100),
                     outline=(40, 100, 50), width=2)
        draw.ellipse((18 * u, 10.5 * u, 20 * u, 13.5 * u), fill=(230, 240, 225))
        draw.polygon(((5 * u, 17 * u), (3 * u, 21 * u), (9 * u, 17 * u)), fill=(70, 150, 80))
    else:  # a voucher with notches and ¥50
        draw.rounded_rectangle((2 * u, 7 * u, 22 * u, 17 * u), radius=u, fill=(220, 70, 60))
        for x in (2 * u, 22 * u):
            draw.ellipse((x - 1.5 * u, 10.5 * u, x + 1.5 * u, 13.5 * u),
                         fill=PICTURE_COLOURS[3])
        draw.line((16 * u, 8 * u, 16 * u, 16 * u), fill=(255, 220, 210), width=2)
        draw.text((5 * u, 9.5 * u), "50", fill=(255, 255, 255),
                  font=ImageFont.load_default(size=int(4.5 * u)))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _demo_members(session: Session, community: Area) -> list[tuple[int, int]]:
    """(account, household) of the community's demo residents, in the order they were made."""
    homes = [h.id for h in first_active_households(session, community,
                                                    RESIDENTS_PER_COMMUNITY)]
    if not homes:
        return []
    rows = session.execute(
        select(col(HouseholdMember.account_id), col(HouseholdMember.household_id))
        .where(col(HouseholdMember.household_id).in_(homes),
               col(HouseholdMember.status) == "approved")
        .order_by(col(HouseholdMember.household_id), col(HouseholdMember.id))).all()
    return [(a, h) for a, h in rows]

