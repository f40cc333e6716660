"""Household and card use cases: registry edits, issuing, revoking and resolving cards."""
from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from community import clock
from community.areas.models import Area
from community.audit import services as audit
from community.auth import policy
from community.errors import CardRevoked, CardUnknown, NotFound
from community.households import codes
from community.households.models import Card, Household


def get_household(session: Session, household_id: int) -> Household:
    """Load a household or raise NotFound."""
    hh = session.get(Household, household_id)
    if hh is None:
        raise NotFound()
    return hh


def household_area(session: Session, hh: Household) -> Area:
    """The community a household belongs to (for policy checks)."""
    area = session.get(Area, hh.community_id)
    if area is None:  # the foreign key makes this impossible; fail loudly if it ever is
        raise NotFound()
    return area


def address_label(hh: Household) -> str:
    """Chinese address label: '3栋2单元301室'."""
    return f"{hh.building}栋{hh.unit}单元{hh.room}室"


def issue_card(session: Session, *, household: Household) -> Card:
    """Create a new active card with a fresh token, short code and one-time link code."""
    for _attempt in range(5):
        card = Card(household_id=household.id, token=codes.new_token(),
                    short_code=codes.new_code(), link_code=codes.new_code(codes.LINK_CODE_LENGTH))
        try:
            with session.begin_nested():  # a short-code collision retries, not fails
                session.add(card)
                session.flush()
        except IntegrityError:
            continue
        return card
    raise RuntimeError("could not generate a unique short code")


def active_card(session: Session, household_id: int) -> Card | None:
    """The household's current card, if any."""
    return session.exec(
        select(Card).where(Card.household_id == household_id, Card.status == "active")
    ).first()


def reissue_card(session: Session, *, actor: policy.Actor, household_id: int,
                 ip: str | None = None) -> Card:
    """Revoke the current card (its token and codes stop working at once) and issue a new one."""
    hh = get_household(session, household_id)
    area = household_area(session, hh)
    policy.require(actor, "card:manage", area)
    old = session.exec(
        select(Card).where(Card.household_id == hh.id, Card.status == "active").with_for_update()
    ).first()
    if old is not None:
        old.status = "revoked"
        old.revoked_at = clock.now()
        old.revoked_by = actor.account_id
        session.add(old)
        session.flush()
    card = issue_card(session, household=hh)
    audit.record(session, actor_id=actor.account_id, action="card.reissued", area=area,
                 target_type="household", target_id=hh.id, ip=ip,
                 old_card=old.id if old else None, new_card=card.id)
    return card


def revoke_card(session: Session, *, actor: policy.Actor, household_id: int,
                ip: str | None = None) -> Card:
    """Revoke the current card without a replacement (e.g. the household moved out)."""
    hh = get_household(session, household_id)
    area = household_area(session, hh)
    policy.require(actor, "card:manage", area)
    card = session.exec(
        select(Card).where(Card.household_id == hh.id, Card.status == "active").with_for_update()
    ).first()
    if card is None:
        raise NotFound()
    card.status = "revoked"
    card.revoked_at = clock.now()
    card.revoked_by = actor.account_id
    session.add(card)
    audit.record(session, actor_id=actor.account_id, action="card.revoked", area=area,
                 target_type="household", target_id=hh.id, ip=ip, card=card.id)
    session.flush()
    return card


def resolve_card(session: Session, code: str) -> tuple[Card, Household]:
    """Find the household of a scanned token or typed short code.

    Raises CardUnknown when nothing matches and CardRevoked for a revoked card.
    """
    code = (code or "").strip()
    if not code:
        raise CardUnknown()
    short = codes.normalize_code(code)
    if codes.is_short_code(short):
        card = session.exec(select(Card).where(Card.short_code == short)).first()
    else:
        card = session.exec(select(Card).where(Card.token == code)).first()
    if card is None:
        raise CardUnknown()
    if card.status != "active":
        raise CardRevoked()
    return card, get_household(session, card.household_id)
