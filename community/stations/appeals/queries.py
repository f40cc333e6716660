"""What the appeal pages read: a resident's own drop with its verdict, the deciders' queue,
and the outcomes the verdict audits read (`outcomes`)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from community import clock
from community.areas import services as areas_services
from community.areas.models import Area
from community.auth import policy
from community.auth.models import Account
from community.errors import NotFound
from community.households import services as households_services
from community.households.models import Household
from community.stations import notices, reasons
from community.stations.appeals import rules
from community.stations.appeals.models import DropAppeal
from community.stations.models import Drop, DropRegrade, Station


@dataclass(frozen=True)
class VerdictView:
    """One of the household's drops as its member sees it on the appeal page."""

    drop: Drop
    station: str
    timezone: str
    reason: reasons.Reason | None
    refusal: str | None     # why no appeal may be filed now (None: it may)
    appeal: DropAppeal | None
    deadline: datetime
    # The latest regrade (who changed the quality, from what, why): its reason is the
    # resident's to read (DOMAIN: every regrade carries a reason the resident sees).
    regrade: DropRegrade | None = None


def my_verdict(session: Session, *, account_id: int | None, drop_id: int,
               lang: str | None = None, now: datetime | None = None) -> VerdictView:
    """A drop of one of the account's households with its reason and appeal state; NotFound
    for anyone else's drop."""
    row = session.execute(
        select(Drop, col(Station.name), col(Area.timezone))
        .join(Station, col(Station.id) == Drop.station_id)
        .join(Area, col(Area.id) == Drop.community_id)
        .where(col(Drop.id) == drop_id)).first()
    if row is None or row[0].household_id is None or households_services.member_household(
            session, account_id, row[0].household_id) is None:
        raise NotFound()
    drop, station, tz = row
    described = reasons.describe(session, drop.community_id,
                                 {drop.reason_code} if drop.reason_code else set(), lang=lang)
    refusal, appeal = notices.appeal_state(session, [drop], now=now)[drop_id]
    since = notices.verdict_times(session, [drop])[drop_id]
    regrade = session.execute(
        select(DropRegrade).where(col(DropRegrade.community_id) == drop.community_id,
                                  col(DropRegrade.drop_id) == drop_id)
        .order_by(col(DropRegrade.at).desc(), col(DropRegrade.id).desc()).limit(1)
    ).scalar_one_or_none()
    return VerdictView(drop, station, tz, described.get(drop.reason_code or ""), refusal,
                       appeal, rules.appeal_deadline(since), regrade)


def my_photo(session: Session, *, account_id: int | None, drop_id: int) -> str:
    """The photo path of one of the account's households' drops; NotFound otherwise."""
    drop = session.get(Drop, drop_id)
    if drop is None or drop.household_id is None or not drop.photo or \
            households_services.member_household(session, account_id,
                                                 drop.household_id) is None:
        raise NotFound()
    return drop.photo


@dataclass(frozen=True)
class QueueRow:
    """One appeal as the station chief or manager decides it."""

    appeal: DropAppeal
    drop: Drop
    station: str
    address: str
    steward: str
    reason: reasons.Reason | None
    decided_by: str


@dataclass(frozen=True)
class Queue:
    """A community's appeals with one status, oldest first (open) or newest first."""

    community: Area
    status: str
    rows: list[QueueRow]
    counts: dict[str, int]


def queue(session: Session, *, actor: policy.Actor, community_id: int | None,
          status: str = "open", lang: str | None = None, limit: int = 100) -> Queue:
    """The appeals of a community the actor may decide (drop:regrade), with everything a
    decision needs: the photo, the steward's reason and note, the household's note."""
    community = areas_services.community_for(session, actor=actor, community_id=community_id,
                                             action="drop:regrade")
    status = status if status in ("open", "upheld", "regraded") else "open"
    steward, decider = aliased(Account), aliased(Account)
    order = col(DropAppeal.filed_at) if status == "open" else col(DropAppeal.decided_at).desc()
    rows = session.execute(
        select(DropAppeal, Drop, col(Station.name), Household, col(steward.display_name),
               col(decider.display_name))
        .join(Drop, col(Drop.id) == DropAppeal.drop_id)
        .join(Station, col(Station.id) == Drop.station_id)
        .join(Household, col(Household.id) == DropAppeal.household_id)
        .outerjoin(steward, col(steward.id) == Drop.recorded_by)
        .outerjoin(decider, col(decider.id) == DropAppeal.decided_by)
        .where(col(DropAppeal.community_id) == community.id, col(DropAppeal.status) == status)
        .order_by(order, col(DropAppeal.id)).limit(limit)).all()
    codes = {d.reason_code for _a, d, *_ in rows if d.reason_code}
    described = reasons.describe(session, community.id or 0, codes, lang=lang)
    counts = dict.fromkeys(("open", "upheld", "regraded"), 0)
    for s, n in session.execute(select(col(DropAppeal.status), func.count())
                                .where(col(DropAppeal.community_id) == community.id)
                                .group_by(col(DropAppeal.status))).all():
        counts[s] = n
    return Queue(community, status, [
        QueueRow(a, d, name, households_services.address_label(hh), who or "",
                 described.get(d.reason_code or ""), by or "")
        for a, d, name, hh, who, by in rows], counts)


@dataclass(frozen=True)
class AppealOutcome:
    """An appeal's outcome as the verdict audits read it (evidence on the steward's verdict)."""

    appeal_id: int
    drop_id: int
    community_id: int
    steward_account_id: int | None  # who recorded the verdict
    status: str                     # open, upheld, regraded
    filed_at: datetime
    decided_at: datetime | None


def outcomes(session: Session, *, community_id: int, since: datetime | None = None,
             until: datetime | None = None) -> list[AppealOutcome]:
    """A community's appeals filed in [since, until), with the verdict's steward."""
    stmt = (select(DropAppeal, col(Drop.recorded_by))
            .join(Drop, col(Drop.id) == DropAppeal.drop_id)
            .where(col(DropAppeal.community_id) == community_id))
    if since is not None:
        stmt = stmt.where(col(DropAppeal.filed_at) >= since)
    if until is not None:
        stmt = stmt.where(col(DropAppeal.filed_at) < until)
    return [AppealOutcome(a.id, a.drop_id, a.community_id, by, a.status, a.filed_at,
                          a.decided_at)
            for a, by in session.execute(stmt.order_by(col(DropAppeal.id))).all()]


def local(moment: datetime | None, tz: str) -> str:
    """A UTC moment as the community's local "YYYY-MM-DD HH:MM" ("" for none)."""
    return "" if moment is None else clock.local(moment, tz).strftime("%Y-%m-%d %H:%M")
