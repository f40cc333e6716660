"""Rewards use cases: a catalog per community, redemption from a resident's phone, hand-over
at the station by the pickup QR, cancellation with a refund.

A redemption takes the points at once and reserves one item of stock, in one transaction:
the household's points account is locked first (FOR UPDATE on PostgreSQL; SQLite's
BEGIN IMMEDIATE already serialises writers), then the stock moves by a conditional
`UPDATE … SET stock = stock - 1 WHERE stock >= 1`, so neither a balance nor a stock can be
overdrawn by concurrent redemptions. Every lock is taken in the same order (account, then
item) so redemptions and cancellations never deadlock. The ledger entries are `redeem` and
`refund` with source "redemption:<id>"; UNIQUE (source, kind) and the refund's
`reverses_id` make a second charge or a second refund impossible.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, cast

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from community import clock
from community.areas.models import Area
from community.areas.services import get_community
from community.audit import services as audit
from community.auth import policy
from community.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from community.households import codes
from community.households import services as households_services
from community.households.models import Household
from community.images import clean_photo, write_atomic
from community.inbox import services as notifications
from community.points import services as ledger
from community.points.models import LedgerEntry, Redemption, RewardItem
from community.points.rewards.rules import local_midnight, period_bounds
from community.points.rewards.schemas import Buyer, CancelIn, RedeemIn, RewardIn, offered_to
from community.rows import pk

PICKUP_CODE_LENGTH = 10  # ~49 bits; only a signed-in steward of the community can use one
NO_REASON = CancelIn()  # a household member's own cancellation


class OutOfStock(DomainError):
    code, status, message = "out_of_stock", 409, _l("Sorry, this reward is out of stock.")


class RewardNotOffered(DomainError):
    """An item of another audience: households-only with a steward's points, or the reverse."""

    code, status, message = "reward_not_offered", 409, _l(
        "This reward is not offered to you: it is for households only.")


STEWARDS_ONLY = _l("This reward is not offered to you: it is for stewards only (their own "
                   "points).")


class RewardUnavailable(DomainError):
    code, status, message = "reward_unavailable", 409, _l(
        "This reward cannot be redeemed now.")


class PickupUnknown(DomainError):
    code, status, message = "pickup_unknown", 404, _l("No reward matches this pickup code.")


class PickupForeign(DomainError):
    code, status, message = "pickup_foreign", 403, _l(
        "This pickup code belongs to another community.")


class PickupUsed(DomainError):
    code, status, message = "pickup_used", 409, _l(
        "This reward has already been handed over.")


class RedemptionCancelled(DomainError):
    code, status, message = "redemption_cancelled", 409, _l(
        "This redemption was cancelled and its points refunded.")


class HouseholdLimitReached(DomainError):
    code, status, message = "household_limit_reached", 409, _l(
        "Your household has already redeemed this reward as often as allowed in this period.")


class NotAMember(DomainError):
    code, status, message = "not_a_member", 403, _l(
        "Only an approved member of the household can do this.")


# --- Pure checks ----------------------------------------------------------------------------

def is_available(item: RewardItem, on: date) -> bool:
    """Whether an item can be redeemed on a local date (active, in its dates, in stock)."""
    return (item.status == "active" and item.stock > 0
            and (item.active_from is None or item.active_from <= on)
            and (item.active_until is None or on <= item.active_until))


# --- Catalog (managers) ---------------------------------------------------------------------

def save_item(session: Session, *, actor: policy.Actor, community_id: int, data: RewardIn,
              item_id: int | None = None, now: datetime | None = None,
              ip: str | None = None) -> RewardItem:
    """Add a catalog item, or edit one (rewards:manage). Stock set here is what is left."""
    now = now or clock.now()
    area = get_community(session, community_id)
    policy.require(actor, "rewards:manage", area)
    if item_id is None:
        item = RewardItem(community_id=community_id, created_at=now, updated_at=now,
                          name=data.name, cost=data.cost, stock=data.stock)
        session.add(item)
    else:
        item = _item_in(session, item_id, community_id)
    item.name, item.description, item.cost, item.stock = (data.name, data.description,
                                                          data.cost, data.stock)
    item.active_from, item.active_until, item.updated_at = (data.active_from,
                                                            data.active_until, now)
    item.household_limit = data.household_limit
    item.limit_period = None if data.limit_period is None else str(data.limit_period)
    item.audience = str(data.audience)
    session.flush()
    audit.record(session, actor_id=actor.account_id, action="reward.saved", area=area,
                 target_type="reward_item", target_id=item.id, ip=ip, name=item.name,
                 cost=item.cost, stock=item.stock)
    return item


def _item_in(session: Session, item_id: int, community_id: int | None = None) -> RewardItem:
    item = session.get(RewardItem, item_id)
    if item is None or (community_id is not None and item.community_id != community_id):
        raise NotFound()
    return item


def set_item_status(session: Session, *, actor: policy.Actor, item_id: int, status: str,
                    now: datetime | None = None, ip: str | None = None) -> RewardItem:
    """Retire an item (no new redemptions; open ones can still be handed over) or restore it."""
    if status not in ("active", "retired"):
        raise InvalidInput(field="status")
    item = _item_in(session, item_id)
    area = get_community(session, item.community_id)
    policy.require(actor, "rewards:manage", area)
    item.status, item.updated_at = status, now or clock.now()
    session.flush()
    audit.record(session, actor_id=actor.account_id, action=f"reward.{status}", area=area,
                 target_type="reward_item", target_id=item.id, ip=ip)
    return item


def set_item_picture(session: Session, *, actor: policy.Actor, item_id: int, data: bytes,
                     picture_dir: Path) -> str:
    """Store a checked, metadata-free picture of an item; its path relative to picture_dir."""
    item = _item_in(session, item_id)
    policy.require(actor, "rewards:manage", get_community(session, item.community_id))
    content, ext = clean_photo(data)
    digest = hashlib.sha256(content).hexdigest()[:16]
    relative = f"{item.community_id}/{item.id}-{digest}.{ext}"
    write_atomic(picture_dir / relative, content)
    item.picture = relative
    session.flush()
    return relative


def manage_item(session: Session, *, actor: policy.Actor, item_id: int) -> RewardItem:
    """One item for its manager's edit form (rewards:manage)."""
    item = _item_in(session, item_id)
    policy.require(actor, "rewards:manage", get_community(session, item.community_id))
    return item


def catalog(session: Session, *, community_id: int, on: date | None = None,
            buyer: Buyer | None = None) -> list[RewardItem]:
    """The items of a community, cheapest first; with `on`, only those redeemable that day;
    with `buyer` ("household" or "steward"), only those offered to it (`offered_to`)."""
    rows = list(session.execute(
        select(RewardItem).where(col(RewardItem.community_id) == community_id)
        .order_by(col(RewardItem.status), col(RewardItem.cost), col(RewardItem.id))).scalars())
    return [i for i in rows if (on is None or is_available(i, on))
            and (buyer is None or offered_to(i.audience, buyer))]


def picture_of(session: Session, *, item_id: int) -> tuple[int, str] | None:
    """(community id, relative path) of an item's picture, or None; access is the caller's."""
    item = session.get(RewardItem, item_id)
    if item is None or not item.picture:
        return None
    return item.community_id, item.picture


# --- Redemption (residents) -----------------------------------------------------------------

def _require_member(session: Session, account_id: int | None, household_id: int) -> Household:
    hh = households_services.member_household(session, account_id, household_id)
    if hh is None:
        raise NotAMember()
    return hh


def redeem_reward(session: Session, *, actor: policy.Actor, data: RedeemIn,
                  now: datetime | None = None) -> Redemption:
    """A household member redeems one item: points taken, one stock reserved, a pickup code.

    `client_id` (the phone's request id) makes a double tap or a retry redeem once: the
    same request answers with the redemption it already made.
    """
    now = now or clock.now()
    household_id, reward_id, client_id = data.household_id, data.reward_id, data.client_id
    hh = _require_member(session, actor.account_id, household_id)
    item = session.get(RewardItem, reward_id)
    if item is None or item.community_id != hh.community_id:
        raise NotFound()
    area = get_community(session, hh.community_id)
    # The account lock serialises one household's redemptions, so a retry sees the first.
    accounts = ledger.lock_accounts(session, hh.community_id, {household_id})
    account_id, balance = accounts[household_id]
    return _redeem(session, actor=actor, item=item, area=area, account_id=account_id,
                   balance=balance, owner={"household_id": household_id},
                   client_id=client_id, now=now)


def redeem_for_steward(session: Session, *, actor: policy.Actor, steward_id: int,
                       community_id: int, reward_id: int, client_id: str | None = None,
                       now: datetime | None = None) -> Redemption:
    """A steward redeems one item of their community's catalog with their own points
    (积分银行): the same machinery as a household's (no overdraft, stock, pickup code).

    The caller (`volunteers.wallet`) has checked that `steward_id` is the actor's own,
    approved, in `community_id`; points never reads the stewards' tables.
    """
    now = now or clock.now()
    item = session.get(RewardItem, reward_id)
    if item is None or item.community_id != community_id:
        raise NotFound()
    area = get_community(session, community_id)
    accounts = ledger.lock_steward_accounts(session, community_id, {steward_id})
    account_id, balance = accounts[steward_id]
    return _redeem(session, actor=actor, item=item, area=area, account_id=account_id,
                   balance=balance, owner={"steward_id": steward_id}, client_id=client_id,
                   now=now)


def _redeem(session: Session, *, actor: policy.Actor, item: RewardItem, area: Area,
            account_id: int, balance: int, owner: dict[str, int], client_id: str | None,
            now: datetime) -> Redemption:
    """Charge a locked account for one item: a replayed request id answers with its
    redemption; otherwise the item must be active, the balance enough and one stock left."""
    reward_id = pk(item)
    if client_id is not None:
        earlier: Redemption | None = session.execute(select(Redemption).where(
            col(Redemption.client_id) == client_id)).scalar_one_or_none()
        if earlier is not None:
            same = all(getattr(earlier, k) == v for k, v in owner.items())
            if not same or earlier.reward_id != reward_id:
                raise Conflict(field="client_id")
            return earlier
    session.refresh(item)  # what other transactions committed before our lock
    if not offered_to(item.audience, "household" if "household_id" in owner else "steward"):
        raise (RewardNotOffered() if item.audience == "households"
               else RewardNotOffered(STEWARDS_ONLY))
    today = clock.local_today(area.timezone, now)
    if item.status != "active" or (item.active_from and today < item.active_from) \
            or (item.active_until and today > item.active_until):
        raise RewardUnavailable()
    if balance < item.cost:
        raise ledger.NotEnoughPoints(balance=balance, cost=item.cost)
    household_id = owner.get("household_id")
    if household_id is not None and item.household_limit is not None:
        # The household's account is locked (FOR UPDATE; SQLite: BEGIN IMMEDIATE), so no
        # other redemption of this household can commit between this count and our insert.
        used = redeemed_in_period(session, item=item, household_id=household_id,
                                  day=today, tz=area.timezone)
        if used >= item.household_limit:
            raise HouseholdLimitReached(limit=item.household_limit,
                                        period=item.limit_period, used=used)
    taken = session.exec(
        update(RewardItem).where(col(RewardItem.id) == reward_id, col(RewardItem.stock) >= 1,
                                 col(RewardItem.status) == "active")
        .values(stock=RewardItem.stock - 1)
        .execution_options(synchronize_session=False))
    if taken.rowcount != 1:
        raise OutOfStock()
    redemption = Redemption(community_id=item.community_id, reward_id=reward_id,
                            account_id=account_id, cost=item.cost,
                            pickup_code=codes.new_code(PICKUP_CODE_LENGTH), client_id=client_id,
                            redeemed_by=actor.account_id, created_at=now,
                            household_id=owner.get("household_id"),
                            steward_id=owner.get("steward_id"))
    try:
        with session.begin_nested():  # another household reused this request id
            session.add(redemption)
            session.flush()
    except IntegrityError:
        raise Conflict(field="client_id") from None
    ledger.append_entries(session, [{
        "account_id": account_id, "amount": -item.cost, "kind": "redeem",
        "source": f"redemption:{redemption.id}", "rule_version": None,
        "actor_id": actor.account_id, "reason": item.name[:200], "at": now,
        "local_date": today, "reverses_id": None}], community_id=item.community_id)
    session.refresh(item)
    _tell(session, redemption, "reward_ready", item.name)
    return redemption


def redeemed_in_period(session: Session, *, item: RewardItem, household_id: int, day: date,
                       tz: str) -> int:
    """How many of the item a household redeemed (not cancelled) in the limit period of a
    local day; 0 when the item has no limit."""
    if item.limit_period is None:
        return 0
    start, end = period_bounds(day, item.limit_period)
    return int(session.execute(select(func.count()).select_from(Redemption).where(
        col(Redemption.community_id) == item.community_id,
        col(Redemption.household_id) == household_id,
        col(Redemption.reward_id) == item.id,
        col(Redemption.status) != "cancelled",
        col(Redemption.created_at) >= local_midnight(start, tz),
        col(Redemption.created_at) < local_midnight(end, tz))).scalar_one())


def _tell(session: Session, red: Redemption, kind: str, item_name: str) -> None:
    """Good news to the household's members: a reward ready for pickup, or handed over (a
    steward's own redemption: to the steward who redeemed it, pointing at their wallet)."""
    if red.household_id is None:
        if red.steward_id is not None and red.redeemed_by is not None:
            notifications.notify(
                session, account_id=red.redeemed_by, kind=kind,
                params={"item": item_name, "code": red.pickup_code},
                link=f"/steward/wallet/redemptions/{red.id}",
                dedupe_key=f"{kind}:{red.id}:{red.redeemed_by}")
        return
    notifications.notify_many(
        session, account_ids=households_services.member_accounts(
            session, red.community_id, [red.household_id]).get(red.household_id, []),
        kind=kind, params={"item": item_name, "code": red.pickup_code},
        link=f"/me/rewards/redemptions/{red.id}", dedupe_key=f"{kind}:{red.id}")


class ChargeMissing(Conflict):
    """A redemption whose charge is not in the ledger (only data written by hand can be so):
    nothing to refund, so nothing is changed and the manager is told."""

    code, message = "charge_missing", _l(
        "This redemption has no charge in the points ledger, so it cannot be refunded here. "
        "Ask the community manager to check the household's points.")


def _redemption_entry(session: Session, community_id: int, redemption_id: int) -> LedgerEntry:
    entry: LedgerEntry | None = session.execute(select(LedgerEntry).where(
        col(LedgerEntry.community_id) == community_id,
        col(LedgerEntry.source) == f"redemption:{redemption_id}",
        col(LedgerEntry.kind) == "redeem")).scalar_one_or_none()
    if entry is None:
        raise ChargeMissing()
    return entry


def cancel_redemption(session: Session, *, actor: policy.Actor, redemption_id: int,
                      data: CancelIn = NO_REASON, now: datetime | None = None,
                      ip: str | None = None, steward_ids: frozenset[int] = frozenset()
                      ) -> Redemption:
    """Cancel a reserved redemption: points refunded, the item back in stock (once).

    The household's members may cancel their own, a steward theirs (`steward_ids`: the
    actor's own steward records, from `volunteers.wallet`); a manager (rewards:manage) needs
    a reason.
    """
    now = now or clock.now()
    red = session.get(Redemption, redemption_id)
    if red is None:
        raise NotFound()
    area = get_community(session, red.community_id)
    member = _owns(session, actor, red, steward_ids)
    by_manager = not member and policy.allowed(actor, "rewards:manage", area)
    if not member and not by_manager:
        raise NotFound()  # never reveal other households' redemptions
    reason = data.reason
    if by_manager and not reason:
        raise InvalidInput(field="reason")
    if red.household_id is not None:
        ledger.lock_accounts(session, red.community_id, {red.household_id})
    else:
        ledger.lock_steward_accounts(session, red.community_id, {cast(int, red.steward_id)})
    done = session.exec(
        update(Redemption).where(col(Redemption.id) == redemption_id,
                                 col(Redemption.status) == "reserved")
        .values(status="cancelled", cancelled_at=now, cancelled_by=actor.account_id,
                cancel_reason=reason)
        .execution_options(synchronize_session=False))
    if done.rowcount != 1:
        session.refresh(red)
        raise RedemptionCancelled() if red.status == "cancelled" else PickupUsed()
    session.execute(update(RewardItem).where(col(RewardItem.id) == red.reward_id)
                    .values(stock=RewardItem.stock + 1)
                    .execution_options(synchronize_session=False))
    charged = _redemption_entry(session, red.community_id, redemption_id)
    ledger.append_entries(session, [{
        "account_id": red.account_id, "amount": -charged.amount, "kind": "refund",
        "source": f"redemption:{redemption_id}", "rule_version": None,
        "actor_id": actor.account_id, "reason": reason[:200], "at": now,
        "local_date": clock.local_today(area.timezone, now), "reverses_id": charged.id}],
        community_id=red.community_id)
    if by_manager:
        audit.record(session, actor_id=actor.account_id, action="reward.cancelled", area=area,
                     target_type="redemption", target_id=redemption_id, ip=ip, reason=reason)
    session.refresh(red)
    return red


def _owns(session: Session, actor: policy.Actor, red: Redemption,
          steward_ids: frozenset[int] = frozenset()) -> bool:
    """Whether the redemption is the actor's own: their household's, or their steward's."""
    if red.household_id is None:
        return red.steward_id in steward_ids
    return _is_member(session, actor.account_id, red.household_id)


def _is_member(session: Session, account_id: int | None, household_id: int) -> bool:
    try:
        _require_member(session, account_id, household_id)
    except NotAMember:
        return False
    return True


# --- Hand-over (stewards, managers) ---------------------------------------------------------

def _by_pickup(session: Session, actor: policy.Actor, code: str) -> tuple[Redemption, Area]:
    normal = codes.normalize_code(code)
    if len(normal) != PICKUP_CODE_LENGTH or any(ch not in codes.ALPHABET for ch in normal):
        raise PickupUnknown(field="code")
    red = session.execute(select(Redemption).where(
        col(Redemption.pickup_code) == normal)).scalar_one_or_none()
    if red is None:
        raise PickupUnknown(field="code")
    area = get_community(session, red.community_id)
    if not policy.allowed(actor, "rewards:hand_over", area):
        if policy.scopes(actor, "rewards:hand_over"):
            raise PickupForeign(field="code")
        raise Forbidden(action="rewards:hand_over")
    return red, area


@dataclass(frozen=True)
class Pickup:
    """What the steward sees before handing an item over."""

    redemption: Redemption
    item_name: str
    address: str


def look_up_pickup(session: Session, *, actor: policy.Actor, code: str) -> Pickup:
    """The redemption behind a scanned or typed pickup code (rewards:hand_over)."""
    red, _area = _by_pickup(session, actor, code)
    item = session.get(RewardItem, red.reward_id)
    return Pickup(red, item.name if item else "", _address(session, red))


def _address(session: Session, red: Redemption) -> str:
    """Who picks the item up: the household's address, or "a steward's own points"."""
    if red.household_id is None:
        return str(_l("Steward (own points)"))
    hh = session.get(Household, red.household_id)
    return households_services.address_label(hh) if hh is not None else ""


def hand_over(session: Session, *, actor: policy.Actor, code: str,
              now: datetime | None = None) -> Pickup:
    """Mark a reserved item as handed over; a used, cancelled or foreign code is refused."""
    now = now or clock.now()
    red, _area = _by_pickup(session, actor, code)
    done = session.exec(
        update(Redemption).where(col(Redemption.id) == red.id,
                                 col(Redemption.status) == "reserved")
        .values(status="handed_over", handed_over_at=now, handed_over_by=actor.account_id)
        .execution_options(synchronize_session=False))
    session.refresh(red)
    if done.rowcount != 1:
        raise RedemptionCancelled(field="code") if red.status == "cancelled" \
            else PickupUsed(field="code")
    item = session.get(RewardItem, red.reward_id)
    _tell(session, red, "reward_handed_over", item.name if item else "")
    return Pickup(red, item.name if item else "", _address(session, red))


# --- Reading --------------------------------------------------------------------------------

@dataclass(frozen=True)
class RedemptionRow:
    """A redemption with its item's name, for lists."""

    redemption: Redemption
    item_name: str
    address: str = ""


def household_redemptions(session: Session, *, actor: policy.Actor, household_id: int,
                          limit: int = 50) -> list[RedemptionRow]:
    """A household's redemptions, newest first (its members only)."""
    _require_member(session, actor.account_id, household_id)
    rows = session.execute(
        select(Redemption, col(RewardItem.name))
        .join(RewardItem, col(RewardItem.id) == Redemption.reward_id)
        .where(col(Redemption.household_id) == household_id)
        .order_by(col(Redemption.id).desc()).limit(limit)).all()
    return [RedemptionRow(r, n) for r, n in rows]


def my_redemption(session: Session, *, actor: policy.Actor, redemption_id: int,
                  steward_ids: frozenset[int] = frozenset()) -> RedemptionRow:
    """One of the actor's own redemptions (with its pickup code): their household's, or
    their steward's (`steward_ids`); NotFound otherwise."""
    red = session.get(Redemption, redemption_id)
    if red is None or not _owns(session, actor, red, steward_ids):
        raise NotFound()
    item = session.get(RewardItem, red.reward_id)
    return RedemptionRow(red, item.name if item else "")


def community_redemptions(session: Session, *, actor: policy.Actor, community_id: int,
                          status: str | None = None, before_id: int | None = None,
                          limit: int = 50) -> list[RedemptionRow]:
    """A community's redemptions for its manager, newest first (keyset paging by id)."""
    policy.require(actor, "rewards:manage", get_community(session, community_id))
    stmt = (select(Redemption, col(RewardItem.name), Household)
            .join(RewardItem, col(RewardItem.id) == Redemption.reward_id)
            .outerjoin(Household, col(Household.id) == Redemption.household_id)
            .where(col(Redemption.community_id) == community_id))
    if status:
        stmt = stmt.where(col(Redemption.status) == status)
    if before_id is not None:
        stmt = stmt.where(col(Redemption.id) < before_id)
    rows = session.execute(stmt.order_by(col(Redemption.id).desc()).limit(limit)).all()
    return [RedemptionRow(r, n, households_services.address_label(h) if h is not None
                          else str(_l("Steward (own points)"))) for r, n, h in rows]


def stock_summary(session: Session, *, community_id: int) -> dict[int, dict[str, Any]]:
    """Per item: reserved (not yet handed over) and handed-over counts, for the catalog page."""
    rows = session.execute(
        select(col(Redemption.reward_id), col(Redemption.status), func.count())
        .where(col(Redemption.community_id) == community_id)
        .group_by(col(Redemption.reward_id), col(Redemption.status)))
    out: dict[int, dict[str, Any]] = {}
    for rid, status, n in rows:
        out.setdefault(rid, {"reserved": 0, "handed_over": 0, "cancelled": 0})[status] = int(n)
    return out
