"""What a resident may take away: their account and their households' records, as one JSON
document (the personal-information right to a copy, 个人信息查阅复制权).

A drop its steward undid is listed (it happened) and marked (`undone`, `undone_at`, a note
in words, as the managers' drop exports mark it): it counts nowhere, so its points entries
are reversed in the same document.

Read-only. A household's records belong to the household (its drops and points are shared
by its members), so every approved member gets them whole; other members appear by name
only, their phone numbers masked.
"""
from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlmodel import Session, col

from community import clock
from community.auth import services as auth_services
from community.auth.models import Account
from community.errors import NotFound
from community.households import services as households_services
from community.households.models import Household, HouseholdMember
from community.points import facts as drop_rows
from community.points import services as points_services
from community.points.models import PointsAccount
from community.rows import pk
from community.stations.models import Drop, Station

APPROVED = "approved"


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def my_data(session: Session, account_id: int) -> dict[str, Any]:
    """The account and, for each household it belongs to: address, members, every drop and
    every points entry with its reason in words (the session's language)."""
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound()
    out: dict[str, Any] = {
        "exported_at": clock.now().isoformat(),
        "account": {"display_name": account.display_name, "phone": account.phone,
                    "username": account.username, "locale": account.locale,
                    "created_at": _iso(account.created_at)},
        "households": [],
    }
    memberships = session.execute(
        select(HouseholdMember, Household)
        .join(Household, col(Household.id) == HouseholdMember.household_id)
        .where(col(HouseholdMember.account_id) == account_id,
               col(HouseholdMember.status) == APPROVED)
        .order_by(col(Household.id))).all()
    for me, hh in memberships:
        out["households"].append(_household(session, account_id, me, hh))
    return out


def _household(session: Session, account_id: int, me: HouseholdMember,
               hh: Household) -> dict[str, Any]:
    members = session.execute(
        select(HouseholdMember, Account)
        .join(Account, col(Account.id) == HouseholdMember.account_id)
        .where(col(HouseholdMember.household_id) == hh.id,
               col(HouseholdMember.status) == APPROVED)
        .order_by(col(HouseholdMember.id))).all()
    drops = session.execute(
        select(Drop, col(Station.name))
        .join(Station, col(Station.id) == Drop.station_id)
        .where(col(Drop.household_id) == hh.id)
        .order_by(col(Drop.happened_at), col(Drop.id))).all()
    account = session.execute(select(col(PointsAccount.id)).where(
        col(PointsAccount.household_id) == hh.id)).scalar_one_or_none()
    # Every entry (`facts.entries`: the ledger's and the drops' own), as written.
    e = drop_rows.entries()
    entries = [] if account is None else session.execute(
        select(e.c.id, e.c.at, e.c.local_date, e.c.kind, e.c.amount, e.c.reason)
        .where(e.c.account_id == account).order_by(*drop_rows.written_order(e))).all()
    described = {r.id: r.text for r in points_services.history(
        session, household_id=pk(hh), limit=max(len(entries), 1))}
    return {
        "address": households_services.address_label(hh),
        "community_id": hh.community_id,
        "my_role": me.role,
        "joined_at": _iso(me.decided_at or me.created_at),
        "members": [{"display_name": auth_services.name_for(a.display_name, a.phone,
                                                            reveal=a.id == account_id),
                     "phone": a.phone if a.id == account_id else auth_services.mask_phone(a.phone),
                     "role": m.role} for m, a in members],
        "points_balance": points_services.balance(session, pk(hh)),
        "points": [{"at": _iso(e.at), "day": _iso(e.local_date), "kind": e.kind,
                    "amount": e.amount, "reason": described.get(e.id, e.reason)}
                   for e in entries],
        "drops": [{"happened_at": _iso(d.happened_at), "day": _iso(d.local_date),
                   "station": name, "category": d.category, "quality": d.quality,
                   "in_window": d.in_window, "source": d.source,
                   "undone": d.voided_at is not None, "undone_at": _iso(d.voided_at),
                   "note": _("Undone by the steward") if d.voided_at is not None else ""}
                  for d, name in drops],
    }
