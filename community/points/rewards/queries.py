"""What each rewards page shows, composed from the rewards use cases (`rewards.services`).

One function per page, so a view calls one service: the resident's catalog and redemptions
(their own households only, found through their approved memberships), the steward's
pickup desk, and the manager's catalog and redemption list (scoped by rewards:manage).
The residents' household lookup lives here rather than in `community.residents`, which
sits above `points` in the import layers.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from community import clock
from community.areas import services as areas_services
from community.areas.models import Area
from community.auth import policy
from community.errors import Forbidden, NotFound
from community.households import codes
from community.households import services as households_services
from community.households.models import Household, HouseholdMember
from community.inbox.models import Notification
from community.points import services as ledger
from community.points.models import REDEMPTION_STATUSES, Redemption, RewardItem
from community.points.rewards import services as rewards
from community.rows import pk

PICKUP_GROUP = 5  # "ABCDE-FGHJK": two groups are easy to read aloud and to type
# The confirm page names a redemption of the same item made this recently and still waiting
# for pickup (QA: Back after "Confirm" showed the confirm page again and a second tap redeemed
# a second one with no hint). A notice only: the item's own limits decide what is allowed.
RECENT_REDEMPTION = timedelta(minutes=10)


def format_pickup(code: str) -> str:
    """A pickup code in groups of five for reading and typing: 'ABCDE-FGHJK'."""
    return "-".join(code[i:i + PICKUP_GROUP] for i in range(0, len(code), PICKUP_GROUP))


# --- Residents ------------------------------------------------------------------------------

@dataclass(frozen=True)
class MyHousehold:
    """One of the resident's approved households, for the household switch."""

    household: Household
    address: str


def _my_households(session: Session, account_id: int | None) -> list[MyHousehold]:
    """The account's approved households, oldest link first (as the resident home lists them)."""
    return [MyHousehold(h, households_services.address_label(h))
            for h in households_services.member_households(session, account_id)]


def _pick(households: list[MyHousehold], household_id: int | None) -> MyHousehold | None:
    """The household the page is about: the asked one (NotFound unless it is the resident's
    own) or the first; None when the resident has none and asked for none."""
    if household_id is None:
        return households[0] if households else None
    found = next((h for h in households if h.household.id == household_id), None)
    if found is None:  # another household's id: as if it did not exist
        raise NotFound()
    return found


@dataclass(frozen=True)
class ShopItem:
    """A catalog item as a resident sees it."""

    item: RewardItem
    available: bool  # active, within its dates and in stock today
    affordable: bool
    upcoming: bool  # not yet on offer (active_from in the future)
    used: int = 0  # this household's redemptions in the item's limit period (not cancelled)
    # The household's latest redemption of this item made in the last RECENT_REDEMPTION and
    # still waiting for pickup (None: none), with its time in the community's timezone.
    recent: Redemption | None = None
    recent_at: datetime | None = None

    @property
    def limit_reached(self) -> bool:
        """The household has redeemed the item as often as its limit allows this period."""
        return self.item.household_limit is not None and self.used >= self.item.household_limit


@dataclass(frozen=True)
class ResidentShop:
    """The resident's rewards page: one household, its balance and its community's catalog."""

    households: list[MyHousehold]
    current: MyHousehold
    community: Area
    balance: int
    items: list[ShopItem]
    open_redemptions: int  # reserved, waiting to be picked up


def resident_shop(session: Session, *, actor: policy.Actor, household_id: int | None = None,
                  now: datetime | None = None) -> ResidentShop | None:
    """The catalog of the community of one of the resident's households (None: no household).

    Retired items and items whose dates have passed are left out; out-of-stock and upcoming
    items stay visible (without a Redeem button) so residents know what to expect.
    """
    households = _my_households(session, actor.account_id)
    current = _pick(households, household_id)
    if current is None:
        return None
    hh = current.household
    community = areas_services.get_area(session, hh.community_id)
    today = clock.local_today(community.timezone, now)
    balance = ledger.balance(session, pk(hh))
    mine = rewards.household_redemptions(session, actor=actor,
                                         household_id=pk(hh))
    since = (now or clock.now()) - RECENT_REDEMPTION
    recent: dict[int, Redemption] = {}
    for r in mine:  # newest first: the first one seen of an item is its latest
        red = r.redemption
        if red.status == "reserved" and red.created_at >= since:
            recent.setdefault(red.reward_id, red)
    items = []
    for item in rewards.catalog(session, community_id=hh.community_id, buyer="household"):
        if item.status != "active" or (item.active_until is not None
                                       and item.active_until < today):
            continue
        last = recent.get(pk(item))
        items.append(ShopItem(
            item, rewards.is_available(item, today), item.cost <= balance,
            item.active_from is not None and item.active_from > today,
            rewards.redeemed_in_period(session, item=item, household_id=pk(hh),
                                       day=today, tz=community.timezone),
            last, clock.local(last.created_at, community.timezone) if last else None))
    return ResidentShop(households, current, community, balance, items,
                        sum(1 for r in mine if r.redemption.status == "reserved"))


def confirm_row(shop: ResidentShop, reward_id: int) -> ShopItem:
    """The shop's row of one item, for the confirm step (an item not on offer: 404)."""
    row = next((r for r in shop.items if r.item.id == reward_id), None)
    if row is None:
        raise NotFound()
    return row


@dataclass(frozen=True)
class ResidentRedemptions:
    """The resident's "my redemptions" page for one household."""

    households: list[MyHousehold]
    current: MyHousehold
    rows: list[rewards.RedemptionRow]


def resident_redemptions(session: Session, *, actor: policy.Actor,
                         household_id: int | None = None) -> ResidentRedemptions | None:
    """One household's redemptions, newest first (None: the account has no household)."""
    households = _my_households(session, actor.account_id)
    current = _pick(households, household_id)
    if current is None:
        return None
    rows = rewards.household_redemptions(session, actor=actor,
                                         household_id=pk(current.household))
    return ResidentRedemptions(households, current, rows)


def member_picture(session: Session, *, account_id: int | None, item_id: int) -> str:
    """An item's picture path for a member of a household of the item's community.

    Anyone else is refused (403, so a refusal never looks like a missing file).
    """
    found = rewards.picture_of(session, item_id=item_id)
    if found is None:
        raise NotFound()
    community_id, path = found
    member = session.execute(
        select(col(HouseholdMember.id))
        .join(Household, col(Household.id) == HouseholdMember.household_id)
        .where(col(HouseholdMember.account_id) == account_id,
               col(HouseholdMember.status) == "approved",
               col(Household.community_id) == community_id).limit(1)).first()
    if account_id is None or member is None:
        raise rewards.NotAMember()
    return path


# --- Stewards -------------------------------------------------------------------------------

def pickup_desk(session: Session, *, actor: policy.Actor,
                code: str | None = None) -> rewards.Pickup | None:
    """The steward's pickup page: open to whoever may hand rewards over somewhere; with a
    code, the redemption behind it (PickupUnknown / PickupForeign otherwise)."""
    if not policy.scopes(actor, "rewards:hand_over"):
        raise Forbidden(action="rewards:hand_over")
    if not code:
        return None
    return rewards.look_up_pickup(session, actor=actor, code=code)


def is_pickup_code(text: str) -> bool:
    """Whether typed or scanned text is shaped like a pickup code (after normalising)."""
    normal = codes.normalize_code(text)
    return len(normal) == rewards.PICKUP_CODE_LENGTH and all(
        ch in codes.ALPHABET for ch in normal)


# --- Managers -------------------------------------------------------------------------------

@dataclass(frozen=True)
class CatalogRow:
    """A catalog item with its redemption counts."""

    item: RewardItem
    reserved: int
    handed_over: int


@dataclass(frozen=True)
class ManagerCatalog:
    """The manager's catalog page: the community picker and the community's items."""

    communities: list[Area]
    community: Area
    rows: list[CatalogRow]
    today: date


def manager_catalog(session: Session, *, actor: policy.Actor,
                    community_id: int | None) -> ManagerCatalog:
    """A community's whole catalog (retired items included) with stock counts (rewards:manage)."""
    community = areas_services.community_for(session, actor=actor, community_id=community_id,
                                             action="rewards:manage")
    cid = pk(community)
    counts = rewards.stock_summary(session, community_id=cid)
    empty: dict[str, Any] = {"reserved": 0, "handed_over": 0}
    rows = [CatalogRow(item, counts.get(pk(item), empty)["reserved"],
                       counts.get(pk(item), empty)["handed_over"])
            for item in rewards.catalog(session, community_id=cid)]
    return ManagerCatalog(areas_services.communities_for(session, actor, "rewards:manage"),
                          community, rows, clock.local_today(community.timezone))


@dataclass(frozen=True)
class ManagerRedemptions:
    """The manager's redemption list: picker, status filter, one page and the next cursor."""

    communities: list[Area]
    community: Area
    status: str
    rows: list[rewards.RedemptionRow]
    next_before: int | None


def manager_redemptions(session: Session, *, actor: policy.Actor, community_id: int | None,
                        status: str = "", before_id: int | None = None,
                        limit: int = 50) -> ManagerRedemptions:
    """A community's redemptions, newest first, optionally of one status (rewards:manage)."""
    community = areas_services.community_for(session, actor=actor, community_id=community_id,
                                             action="rewards:manage")
    status = status if status in REDEMPTION_STATUSES else ""
    rows = rewards.community_redemptions(
        session, actor=actor, community_id=pk(community),
        status=status or None, before_id=before_id, limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return ManagerRedemptions(
        areas_services.communities_for(session, actor, "rewards:manage"), community, status,
        rows, rows[-1].redemption.id if more and rows else None)


def manager_picture(session: Session, *, actor: policy.Actor, item_id: int) -> str:
    """An item's picture path for whoever manages or hands over its community's rewards."""
    found = rewards.picture_of(session, item_id=item_id)
    if found is None:
        raise NotFound()
    community_id, path = found
    area = areas_services.get_area(session, community_id)
    if not (policy.allowed(actor, "rewards:manage", area)
            or policy.allowed(actor, "rewards:hand_over", area)):
        raise Forbidden(action="rewards:manage")
    return path


def reward_note_states(session: Session,
                       notes: Sequence[Notification]) -> dict[int, dict[str, Any]]:
    """The inbox resolver of "reward ready" messages: the redemption's state now (a message
    sent when it was ready still shows, and says so when it was cancelled or picked up), and
    its pickup code grouped as every page shows it ("ABCDE-FGHJK"; stored bare)."""
    ids = {int(tail) for n in notes if (tail := (n.link or "").rsplit("/", 1)[-1]).isdigit()}
    status = dict(session.execute(select(col(Redemption.id), col(Redemption.status))
                                  .where(col(Redemption.id).in_(sorted(ids)))).all()) if ids else {}
    out: dict[int, dict[str, Any]] = {}
    for n in notes:
        if n.id is None:
            continue
        extra: dict[str, Any] = {}
        if code := str((n.params or {}).get("code") or "").replace("-", ""):
            extra["code"] = format_pickup(code)
        tail = (n.link or "").rsplit("/", 1)[-1]
        state = status.get(int(tail)) if tail.isdigit() else None
        if state == "cancelled":
            extra |= {"redemption_status": state, "as_kind": "reward_cancelled"}
        elif state == "handed_over":
            extra["redemption_status"] = state
        if extra:
            out[n.id] = extra
    return out
