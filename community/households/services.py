"""Household and card use cases: registry, import, issuing, revoking, resolving, printing cards."""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, insert, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from community import clock
from community.areas import services as areas_services
from community.areas.models import Area
from community.audit import services as audit
from community.auth import policy
from community.dirty import services as dirty
from community.errors import CardRevoked, CardUnknown, Conflict, InvalidInput, NotFound
from community.households import codes, importer
from community.households.models import STATUSES, Card, Household, HouseholdEvent, HouseholdMember
from community.households.schemas import HouseholdIn, normalize_part
from community.households.sheets import SheetCard
from community.rows import pk
from community.web.pagination import Page, paginate


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
    return format_address(hh.building, hh.unit, hh.room)


def _member_of_household() -> Any:
    """The join of a household and its members, on the community too (a colocated join)."""
    return and_(col(HouseholdMember.community_id) == Household.community_id,
                col(HouseholdMember.household_id) == Household.id)


def member_households(session: Session, account_id: int | None) -> list[Household]:
    """The households an account is an approved member of, oldest link first (a
    cross-community read by account: a resident's memberships, README "Sharding")."""
    if account_id is None:
        return []
    return list(session.execute(
        select(Household).join(HouseholdMember, _member_of_household())
        .where(col(HouseholdMember.account_id) == account_id,
               col(HouseholdMember.status) == "approved")
        .order_by(col(HouseholdMember.created_at), col(HouseholdMember.id))).scalars())


def member_household(session: Session, account_id: int | None,
                     household_id: int) -> Household | None:
    """The household if the account is an approved member of it, else None."""
    if account_id is None:
        return None
    return session.execute(
        select(Household).join(HouseholdMember, _member_of_household())
        .where(col(HouseholdMember.account_id) == account_id,
               col(HouseholdMember.status) == "approved",
               col(Household.id) == household_id)).scalar_one_or_none()


def member_accounts(session: Session, community_id: int,
                    household_ids: Iterable[int]) -> dict[int, list[int]]:
    """Household id → the account ids of its approved members (whom its messages go to), for
    households of one community."""
    ids = sorted(set(household_ids))
    if not ids:
        return {}
    out: dict[int, list[int]] = {}
    for hid, aid in session.execute(
            select(col(HouseholdMember.household_id), col(HouseholdMember.account_id))
            .where(col(HouseholdMember.community_id) == community_id,
                   col(HouseholdMember.household_id).in_(ids),
                   col(HouseholdMember.status) == "approved")
            .order_by(col(HouseholdMember.id))).all():
        out.setdefault(hid, []).append(aid)
    return out


def format_address(building: str, unit: str, room: str) -> str:
    """The address label from its parts (for rows loaded without the model)."""
    return f"{building}栋{unit}单元{room}室"


def issue_card(session: Session, *, household: Household) -> Card:
    """Create a new active card with a fresh token and short code."""
    for _attempt in range(5):
        card = Card(community_id=household.community_id, household_id=pk(household),
                    token=codes.new_token(), short_code=codes.new_code())
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


def _revoke_active(session: Session, household_id: int, actor_id: int | None) -> Card | None:
    """Revoke the household's active card (row-locked), returning it; None when there is none."""
    card = session.exec(
        select(Card).where(Card.household_id == household_id, Card.status == "active")
        .with_for_update()
    ).first()
    if card is not None:
        card.status = "revoked"
        card.revoked_at = clock.now()
        card.revoked_by = actor_id
        session.add(card)
        session.flush()
    return card


def reissue_card(session: Session, *, actor: policy.Actor, household_id: int,
                 ip: str | None = None) -> Card:
    """Revoke the current card (its token and short code stop working at once); issue a new one."""
    hh = get_household(session, household_id)
    area = household_area(session, hh)
    policy.require(actor, "card:manage", area)
    old = _revoke_active(session, pk(hh), actor.account_id)
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
    card = _revoke_active(session, pk(hh), actor.account_id)
    if card is None:
        raise NotFound()
    audit.record(session, actor_id=actor.account_id, action="card.revoked", area=area,
                 target_type="household", target_id=hh.id, ip=ip, card=card.id)
    return card


def resolve_card(session: Session, code: str, *,
                 community_id: int | None) -> tuple[Card, Household]:
    """Find the household of a scanned token or typed short code in a community.

    Tokens and short codes are unique per community. `community_id=None` looks in every
    community (a resident asking to join by a card's short code names no community: a
    cross-community read, README "Sharding"); a code found in more than one is unknown.
    Raises CardUnknown when nothing matches and CardRevoked for a revoked card.
    """
    code = (code or "").strip()
    if not code:
        raise CardUnknown()
    short = codes.normalize_code(code)
    stmt = select(Card).where(Card.short_code == short) if codes.is_short_code(short) \
        else select(Card).where(Card.token == code)
    if community_id is not None:
        stmt = stmt.where(Card.community_id == community_id)
    found = list(session.exec(stmt.limit(2)))
    card = found[0] if len(found) == 1 else None
    if card is None:
        raise CardUnknown()
    if card.status != "active":
        raise CardRevoked()
    return card, get_household(session, card.household_id)


# ---- registry: list, create, edit -------------------------------------------------------

CARD_FILTERS = ("active", "none")


def _natural(*columns: Any) -> list[Any]:
    """Order '2' before '10': by length, then text (numbers are stored as text)."""
    out: list[Any] = []
    for c in columns:
        out += [func.length(c), c]
    return out


@dataclass
class Registry:
    """What the household list page shows: the picker, the community, one page and the filters."""

    communities: list[Area]
    community: Area
    page: Page  # items: (Household, active short code or None)
    buildings: list[str]


def list_households(
    session: Session, *, actor: policy.Actor, community_id: int | None, q: str = "",
    building: str = "", status: str = "", card: str = "", page: int = 1, per_page: int = 50,
) -> Registry:
    """One page of a community's households, searched and filtered, with the active card code."""
    community = areas_services.community_for(session, actor=actor, community_id=community_id,
                              action="household:read")
    stmt = (
        select(Household, Card.short_code)
        .outerjoin(Card, and_(col(Card.household_id) == Household.id, col(Card.status) == "active"))
        .where(Household.community_id == community.id)
    )
    if q.strip():
        short = codes.normalize_code(q)
        parts = importer.parse_address_query(q)
        if codes.is_short_code(short):
            stmt = stmt.where(Card.short_code == short)
        elif parts:
            for key, value in parts.items():
                stmt = stmt.where(getattr(Household, key) == value)
        else:
            stmt = stmt.where(False)  # not an address or a code: nothing matches
    if building:
        stmt = stmt.where(Household.building == normalize_part("building", building))
    if status in STATUSES:
        stmt = stmt.where(Household.status == status)
    if card == "active":
        stmt = stmt.where(col(Card.id).is_not(None))
    elif card == "none":
        stmt = stmt.where(col(Card.id).is_(None))
    stmt = stmt.order_by(*_natural(Household.building, Household.unit, Household.room))
    result = paginate(session, stmt, page=page, per_page=per_page)
    buildings = session.exec(
        select(Household.building).where(Household.community_id == community.id).distinct()
    ).all()
    return Registry(
        communities=areas_services.communities_for(session, actor, "household:read"),
        community=community,
        page=result,
        buildings=sorted(buildings, key=lambda b: (len(b), b)),
    )


def _ensure_free(session: Session, community_id: int, values: dict[str, Any],
                 except_id: int | None = None) -> None:
    stmt = select(Household.id).where(
        Household.community_id == community_id, Household.building == values["building"],
        Household.unit == values["unit"], Household.room == values["room"],
    )
    if except_id is not None:
        stmt = stmt.where(Household.id != except_id)
    if session.exec(stmt).first() is not None:
        raise Conflict(field="room")


def _flush_unique(session: Session, hh: Household) -> None:
    try:
        with session.begin_nested():  # a concurrent insert of the same address is a conflict
            session.add(hh)
            session.flush()
    except IntegrityError as exc:
        raise Conflict(field="room") from exc


# ---- history: every status or member change is an event from the moment it took effect ----

FUTURE = _l("The date and time cannot be in the future.")
BEFORE_LAST = _l("This is earlier than the household's last recorded change (%(when)s).")


def effective_moment(area: Area, given: datetime | None, now: datetime) -> datetime:
    """When a change took effect, as aware UTC: `given` (naive = the community's local wall
    time) or `now`. A moment in the future is refused (InvalidInput on `effective_at`)."""
    if given is None:
        return now
    moment = given if given.tzinfo else given.replace(tzinfo=ZoneInfo(area.timezone))
    if moment > now:
        raise InvalidInput(field="effective_at", fields={"effective_at": FUTURE})
    return moment.astimezone(now.tzinfo)


def latest_event(session: Session, household_id: int) -> HouseholdEvent | None:
    """The household's latest event (by effective moment, then id), if any."""
    return session.exec(
        select(HouseholdEvent).where(HouseholdEvent.household_id == household_id)
        .order_by(col(HouseholdEvent.effective_at).desc(), col(HouseholdEvent.id).desc())
    ).first()


def record_events(session: Session, area: Area, rows: list[dict[str, Any]], *,
                  now: datetime) -> None:
    """Append history events (dicts of household_id, effective_at, status, members,
    recorded_by) of one community and mark the days they change; flushes.

    A change effective at moment m changes who was active at the end of m's local day and of
    every later one, so each local day from m's to yesterday is marked dirty ("households");
    today is never marked (it is read raw and built the next night).
    """
    if not rows:
        return
    session.execute(insert(HouseholdEvent), [
        {"community_id": area.id, "recorded_at": now, "recorded_by": None, **row}
        for row in rows])
    zone = ZoneInfo(area.timezone)
    today = now.astimezone(zone).date()
    counts: Counter[tuple[int, Any]] = Counter()
    for row in rows:
        day = row["effective_at"].astimezone(zone).date()
        while day < today:
            counts[(pk(area), day)] += 1
            day += timedelta(days=1)
    dirty.mark(session, "households", counts, now=now)


def create_household(
    session: Session, *, actor: policy.Actor, community_id: int, data: HouseholdIn,
    ip: str | None = None, now: datetime | None = None,
) -> Household:
    """Register a household at a free address and give it its first card.

    Its history starts with one event in its status, effective at `data.effective_at` (the
    moved-in moment, when the form gives one) or now.
    """
    area = areas_services.community_for(session, actor=actor, community_id=community_id,
                         action="household:write")
    now = now or clock.now()
    since = effective_moment(area, data.effective_at, now)
    values = data.model_dump(mode="json", exclude={"effective_at"})
    _ensure_free(session, pk(area), values)
    hh = Household(community_id=pk(area), created_at=now, updated_at=now, **values)
    _flush_unique(session, hh)
    record_events(session, area, [{"household_id": pk(hh), "effective_at": since,
                                   "status": hh.status, "members": hh.members,
                                   "recorded_by": actor.account_id}], now=now)
    card = issue_card(session, household=hh)
    audit.record(session, actor_id=actor.account_id, action="household.created", area=area,
                 target_type="household", target_id=hh.id, ip=ip, card=card.id,
                 address=address_label(hh))
    return hh


def household_for(session: Session, *, actor: policy.Actor, household_id: int,
                  action: str = "household:write") -> Household:
    """Load a household the actor may act on (`action`), e.g. for the edit form."""
    hh = get_household(session, household_id)
    policy.require(actor, action, household_area(session, hh))
    return hh


def update_household(
    session: Session, *, actor: policy.Actor, household_id: int, data: HouseholdIn,
    ip: str | None = None, now: datetime | None = None,
) -> Household:
    """Change a household's address, member count or status; the audit keeps old and new.

    A status or member change appends a history event effective at `data.effective_at` (e.g.
    "moved out on 11-30", recorded later) or now; it may not be in the future nor before the
    household's latest event (history is appended in order, so the household row always
    equals its latest event). An address change alone is not history (metrics do not
    depend on it).
    """
    hh = household_for(session, actor=actor, household_id=household_id)
    area = household_area(session, hh)
    now = now or clock.now()
    since = effective_moment(area, data.effective_at, now)
    values = data.model_dump(mode="json", exclude={"effective_at"})
    _ensure_free(session, pk(area), values, except_id=hh.id)
    changes = {k: [getattr(hh, k), v] for k, v in values.items() if getattr(hh, k) != v}
    if not changes:
        return hh
    history = "status" in changes or "members" in changes
    if history:
        last = latest_event(session, pk(hh))
        if last is not None and since < last.effective_at:
            when = clock.local(last.effective_at, area.timezone).strftime("%Y-%m-%d %H:%M")
            raise InvalidInput(field="effective_at",
                               fields={"effective_at": BEFORE_LAST % {"when": when}})
    for key, value in values.items():
        setattr(hh, key, value)
    hh.updated_at = now
    _flush_unique(session, hh)
    if history:
        record_events(session, area, [{"household_id": pk(hh), "effective_at": since,
                                       "status": hh.status, "members": hh.members,
                                       "recorded_by": actor.account_id}], now=now)
        if data.effective_at is not None:
            changes["effective_at"] = [None, since.isoformat()]
    audit.record(session, actor_id=actor.account_id, action="household.updated", area=area,
                 target_type="household", target_id=hh.id, ip=ip, changes=changes)
    return hh


# ---- import ------------------------------------------------------------------------------

@dataclass
class ImportResult:
    """Counts of one import and the rows the file got wrong."""

    filename: str
    community: Area
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[importer.Rejected] = field(default_factory=list)


def import_households(
    session: Session, *, actor: policy.Actor, community_id: int, filename: str,
    parsed: importer.Parsed, ip: str | None = None,
) -> ImportResult:
    """Create or update a community's households from a parsed CSV/XLSX list; new households
    get cards.

    The file is parsed (`importer.parse`) before this is called, outside any transaction:
    a slow or hostile file must never hold the database's write lock. Re-importing the same
    file changes nothing. A list states how things are now: each new
    household, and each status or member change, is a history event effective at the import
    (a list has no moved-in or moved-out dates).
    """
    area = areas_services.community_for(session, actor=actor, community_id=community_id,
                         action="household:import")
    result = ImportResult(filename=filename, community=area, rejected=parsed.rejected)
    # One query for the whole community: thousands of rows are compared in memory.
    existing = {
        (b, u, r): (hid, m, st)
        for hid, b, u, r, m, st in session.exec(
            select(  # type: ignore[call-overload]  # sqlmodel types select() for up to 4 columns
                col(Household.id), col(Household.building), col(Household.unit),
                col(Household.room), col(Household.members), col(Household.status))
            .where(Household.community_id == area.id)
        )
    }
    now = clock.now()
    new_rows: list[dict[str, Any]] = []
    changes: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for row in parsed.rows:
        current = existing.get(row.address)
        if current is None:
            new_rows.append({"community_id": area.id, "building": row.building, "unit": row.unit,
                             "room": row.room, "members": row.members,
                             "status": row.status or "active", "created_at": now,
                             "updated_at": now})
            continue
        hid, members, status = current
        new_status = row.status or status  # no status in the file keeps the registry's
        if (members, status) == (row.members, new_status):
            result.unchanged += 1
        else:
            changes.append({"id": hid, "members": row.members, "status": new_status,
                            "updated_at": now})
    if new_rows:
        # Only the ids are needed, in any order: asking for parameter order would make
        # SQLite fall back to one INSERT per row.
        try:
            with session.begin_nested():  # a concurrent import or edit took one of the addresses
                made = session.execute(insert(Household).returning(
                    col(Household.id), col(Household.building), col(Household.unit),
                    col(Household.room)), new_rows).all()
        except IntegrityError as exc:
            raise Conflict() from exc
        ids = [hid for hid, *_ in made]
        by_address = {(r["building"], r["unit"], r["room"]): r for r in new_rows}
        events += [{"household_id": hid, "effective_at": now,
                    "status": by_address[(b, u, r)]["status"],
                    "members": by_address[(b, u, r)]["members"], "recorded_by": actor.account_id}
                   for hid, b, u, r in made]
        _issue_cards_bulk(session, pk(area), list(ids))
        result.created = len(ids)
    if changes:
        session.execute(update(Household), changes)  # bulk UPDATE by primary key
        result.updated = len(changes)
        events += [{"household_id": c["id"], "effective_at": now, "status": c["status"],
                    "members": c["members"], "recorded_by": actor.account_id} for c in changes]
    record_events(session, area, events, now=now)
    audit.record(session, actor_id=actor.account_id, action="households.imported", area=area,
                 target_type="area", target_id=area.id, ip=ip, file=filename[:200],
                 created=result.created, updated=result.updated, unchanged=result.unchanged,
                 rejected=len(result.rejected))
    session.expire_all()  # bulk statements bypass the identity map
    return result


def _taken_short_codes(session: Session, community_id: int,
                       candidates: Iterable[str]) -> set[str]:
    values = list(candidates)
    taken: set[str] = set()
    for i in range(0, len(values), 1000):  # stay under every driver's bound-parameter limit
        chunk = values[i:i + 1000]
        taken.update(session.exec(select(Card.short_code).where(
            Card.community_id == community_id, col(Card.short_code).in_(chunk))))
    return taken


def _issue_cards_bulk(session: Session, community_id: int, household_ids: list[int]) -> None:
    """One INSERT for many new cards; short codes are checked against existing ones first."""
    for _attempt in range(3):
        short: set[str] = set()
        fresh: set[str] = set()
        while len(short) < len(household_ids):
            # Only newly drawn codes need checking against the table.
            while len(short | fresh) < len(household_ids):
                fresh.add(codes.new_code())
            fresh -= short
            short |= fresh - _taken_short_codes(session, community_id, fresh)
            fresh = set()
        now = clock.now()
        cards = [
            {"community_id": community_id, "household_id": hid, "token": codes.new_token(),
             "short_code": code,
             "status": "active", "issued_at": now}
            for hid, code in zip(household_ids, sorted(short), strict=True)
        ]
        try:
            with session.begin_nested():  # a concurrent issue taking one of our codes retries
                session.execute(insert(Card), cards)
        except IntegrityError:
            continue
        return
    raise RuntimeError("could not generate unique short codes")


# ---- card files -------------------------------------------------------------------------

def card_for_export(session: Session, *, actor: policy.Actor, household_id: int, fmt: str,
                    ip: str | None = None) -> Card:
    """The household's active card for a QR file; audited, since the file carries the token."""
    hh = get_household(session, household_id)
    area = household_area(session, hh)
    policy.require(actor, "card:print", area)
    card = active_card(session, pk(hh))
    if card is None:
        raise NotFound()
    audit.record(session, actor_id=actor.account_id, action="card.exported", area=area,
                 target_type="household", target_id=hh.id, ip=ip, card=card.id, format=fmt)
    return card


def sheet_cards(session: Session, *, actor: policy.Actor, community_id: int,
                building: str | None = None) -> list[SheetCard]:
    """Active cards of a community's active households (optionally one building), in address order.

    Only reads: once the sheets are made, `record_sheets_printed` audits them (printed sheets
    expose the tokens), so the slow rendering between runs without SQLite's write lock.
    """
    area = areas_services.community_for(session, actor=actor, community_id=community_id,
                                        action="card:print")
    stmt = (
        select(  # type: ignore[call-overload]  # sqlmodel types select() for up to 4 columns
            col(Card.token), col(Card.short_code), col(Household.building),
            col(Household.unit), col(Household.room))
        .join(Household, col(Household.id) == Card.household_id)
        .where(Household.community_id == area.id, Household.status == "active",
               Card.status == "active")
    )
    building = normalize_part("building", building) if building else None
    if building:
        stmt = stmt.where(Household.building == building)
    stmt = stmt.order_by(*_natural(Household.building, Household.unit, Household.room))
    cards = [
        SheetCard(token=token, short_code=short, label=format_address(b, u, r),
                  community=area.name)
        for token, short, b, u, r in session.exec(stmt)
    ]
    return cards


def record_sheets_printed(session: Session, *, actor: policy.Actor, community_id: int,
                          count: int, building: str | None = None,
                          ip: str | None = None) -> None:
    """Audit sheets of `count` cards made by `sheet_cards` (the same community and building)."""
    area = areas_services.community_for(session, actor=actor, community_id=community_id,
                                        action="card:print")
    audit.record(session, actor_id=actor.account_id, action="cards.printed", area=area,
                 target_type="area", target_id=area.id, ip=ip, count=count,
                 building=normalize_part("building", building) if building else None)
