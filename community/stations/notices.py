"""Telling a household about its verdicts (the mis-drop loop): what, where, when and why.

- `tell_incorrect`: a message to every approved member of the household of each new
  incorrect identified drop (scan or batch), stored in the same transaction as the drop
  (the inbox row, and a queued text for those who opted in: `community.inbox`) but held
  back until the steward's undo window has passed (`rules.void_closed_at`: 5 minutes after
  the scan, the inbox's `visible_after` and the outbox's `send_after`); `withdraw_incorrect`
  takes it back when the steward undoes the scan meanwhile, so a wrong tap reaches nobody.
  After the window the inbox shows it at once (read time) and the `inbox.sms` job texts it
  on its next run. A drop that cannot be undone (a device's, or one synced after its window)
  is told at once;
- `tell_regraded`: a regrade's new quality and its reason;
- `tell_appeal_decided`: the outcome of an appeal and its reason;
- `details`: the resolver the inbox calls at read time for these messages: the reason and
  its how-to-sort-it-right text in the reader's language (the city edits them), the photo
  (the household's own, through /me/drops/<id>/photo) and the appeal link while one may be
  filed. Only codes and ids are stored in the messages.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import get_locale, gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlmodel import Session, col

from community import clock
from community.areas.models import Area
from community.households import services as households_services
from community.inbox import services as notifications
from community.inbox.models import Notification
from community.stations import reasons
from community.stations import rules as scan_rules
from community.stations.appeals import rules as appeal_rules
from community.stations.appeals.models import DropAppeal
from community.stations.models import Drop, DropRegrade, Station

VERDICT_KINDS = ("drop_incorrect", "drop_regraded", "appeal_upheld", "appeal_regraded")
NO_REASON = _l("no reason recorded")
# Told when the reason has no how-to of its own (e.g. "Other"): sorting in general.
GENERAL_HOWTO = _l("Kitchen waste goes in without its bag; recyclables clean and dry; "
                   "batteries, bulbs and medicines in the hazardous bin; the rest in other "
                   "waste. Not sure? Ask the steward at the station.")


def reason_text(reason: reasons.Reason | None, note: str | None) -> str:
    """The reason as the household reads it: its label, with the steward's note when there
    is one (the reason "Other" always has one: the note says what was wrong)."""
    label = reason.label if reason is not None else str(NO_REASON)
    note = (note or "").strip()
    return gettext("%(reason)s (%(note)s)", reason=label, note=note) if note else label


def howto_text(reason: reasons.Reason | None) -> str:
    """The reason's how-to-sort-it-right text, or the general one when it has none."""
    return (reason.howto if reason is not None else "") or str(GENERAL_HOWTO)


def household_accounts(session: Session, community_id: int,
                       household_ids: Iterable[int]) -> dict[int, list[int]]:
    """Household id → the account ids of its approved members (households of one community)."""
    return households_services.member_accounts(session, community_id, household_ids)


def _zones(session: Session, community_ids: set[int]) -> dict[int, str]:
    return dict(session.execute(select(col(Area.id), col(Area.timezone)).where(
        col(Area.id).in_(sorted(community_ids)))).all()) if community_ids else {}


def _local_iso(moment: datetime, tz: str | None) -> str:
    return clock.local(moment, tz or clock.DEFAULT_TZ).isoformat(timespec="minutes")


def link_for(household_id: int, drop_id: int) -> str:
    """Where a verdict message points: the drop in the household's points history."""
    return f"/me/points?household_id={household_id}#drop-{drop_id}"


def tell_incorrect(session: Session, rows: Sequence[Mapping[str, Any]] | Sequence[Drop], *,
                   stations: Mapping[int, tuple[str, str]] | None = None,
                   now: datetime | None = None) -> int:
    """Message the households of the new incorrect identified drops in `rows` (stored drops
    as dicts or `Drop`s: id, household_id, community_id, station_id, category, happened_at,
    reason_code); returns the number of messages. Idempotent per drop and member.

    `stations`: station id → (name, time zone) when the caller has them (the scan path),
    so telling costs the members' lookup and the inserts only. `now`: the moment the drops
    were stored (a drop whose undo window is still open then is held back until it shuts)."""
    def get(r: Any, key: str) -> Any:
        return r.get(key) if isinstance(r, Mapping) else getattr(r, key, None)

    wrong = [r for r in rows if get(r, "quality") == "incorrect" and get(r, "household_id")]
    if not wrong:
        return 0
    members: dict[int, list[int]] = {}
    for community_id in sorted({get(r, "community_id") for r in wrong}):
        members |= household_accounts(session, community_id, {
            get(r, "household_id") for r in wrong if get(r, "community_id") == community_id})
    known = dict(stations or {})
    missing = {get(r, "station_id") for r in wrong} - known.keys()
    if missing:
        for sid, name, tz in session.execute(
                select(col(Station.id), col(Station.name), col(Area.timezone))
                .join(Area, col(Area.id) == Station.community_id)
                .where(col(Station.id).in_(sorted(missing)))).all():
            known[sid] = (name, tz)
    sent = 0
    for r in wrong:
        drop_id, hid = get(r, "id"), get(r, "household_id")
        name, tz = known.get(get(r, "station_id"), ("", clock.DEFAULT_TZ))
        params = {"drop": drop_id, "community": get(r, "community_id"),
                  "category": get(r, "category"), "station": name,
                  "at": _local_iso(get(r, "happened_at"), tz),
                  "reason": get(r, "reason_code") or ""}
        # Only the steward who recorded a scan may undo it: a device's drop is told at once.
        held = (scan_rules.void_closed_at(get(r, "happened_at"))
                if get(r, "recorded_by") is not None else None)
        sent += notifications.notify_many(
            session, account_ids=members.get(hid, []), kind="drop_incorrect", params=params,
            link=link_for(hid, drop_id), dedupe_key=incorrect_key(drop_id),
            visible_after=held if held is not None and held > (now or clock.now()) else None)
    return sent


def incorrect_key(drop_id: int) -> str:
    """The dedupe key of a drop's incorrect-verdict messages (":<account>" is appended)."""
    return f"drop-incorrect:{drop_id}"


def withdraw_incorrect(session: Session, drop: Drop, *, now: datetime | None = None) -> int:
    """Take back the held-back incorrect-verdict messages of a drop its steward undid (and
    their queued texts), sent to the household's members; returns how many. (A member who
    left within those 5 minutes keeps theirs: it says the scan was undone.)"""
    if drop.household_id is None:
        return 0
    members = household_accounts(session, drop.community_id, [drop.household_id])
    return notifications.withdraw(session, dedupe_key=incorrect_key(pk_of(drop)),
                                  account_ids=members.get(drop.household_id, []), now=now)


def _drop_params(session: Session, drop: Drop) -> dict[str, Any]:
    station = session.get(Station, drop.station_id)
    zone = _zones(session, {drop.community_id}).get(drop.community_id)
    return {"drop": drop.id, "community": drop.community_id, "category": drop.category,
            "station": station.name if station else "",
            "at": _local_iso(drop.happened_at, zone), "reason": drop.reason_code or ""}


def tell_regraded(session: Session, drop: Drop, change: DropRegrade) -> int:
    """Message the household the drop's new quality and the regrade's reason."""
    if drop.household_id is None:
        return 0
    params = _drop_params(session, drop) | {"quality": change.to_quality, "note": change.reason}
    return notifications.notify_many(
        session, account_ids=household_accounts(session, drop.community_id,
                                                [drop.household_id]).get(drop.household_id, []),
        kind="drop_regraded", params=params, link=link_for(drop.household_id, pk_of(drop)),
        dedupe_key=f"regrade:{change.id}")


def tell_appeal_decided(session: Session, drop: Drop, appeal: DropAppeal) -> int:
    """Message the household the outcome of its appeal and the decider's reason."""
    kind = "appeal_regraded" if appeal.status == "regraded" else "appeal_upheld"
    params = _drop_params(session, drop) | {"quality": drop.quality,
                                            "note": appeal.decision_reason}
    return notifications.notify_many(
        session, account_ids=household_accounts(session, drop.community_id,
                                                [appeal.household_id]).get(appeal.household_id,
                                                                           []),
        kind=kind, params=params, link=link_for(appeal.household_id, pk_of(drop)),
        dedupe_key=f"appeal:{appeal.id}")


def pk_of(drop: Drop) -> int:
    """The id of a stored drop."""
    assert drop.id is not None  # noqa: S101 - a stored row
    return drop.id


# --- Read time ---------------------------------------------------------------------------------

def verdict_times(session: Session, drops: Sequence[Drop]) -> dict[int, datetime]:
    """When each drop's current incorrect verdict was given: the latest regrade to incorrect,
    else the moment the drop was received (the start of its appeal window)."""
    ids = [pk_of(d) for d in drops]
    regraded = dict(session.execute(
        select(col(DropRegrade.drop_id), func.max(DropRegrade.at))
        .where(col(DropRegrade.drop_id).in_(ids), col(DropRegrade.to_quality) == "incorrect")
        .group_by(col(DropRegrade.drop_id))).all()) if ids else {}
    return {pk_of(d): regraded.get(pk_of(d)) or d.received_at for d in drops}


def appeal_state(session: Session, drops: Sequence[Drop], *,
                 now: datetime | None = None) -> dict[int, tuple[str | None, DropAppeal | None]]:
    """Drop id → (why no appeal may be filed now, or None; the drop's appeal, if any)."""
    now = now or clock.now()
    ids = [pk_of(d) for d in drops]
    appeals = {a.drop_id: a for a in session.execute(
        select(DropAppeal).where(col(DropAppeal.drop_id).in_(ids))).scalars()} if ids else {}
    since = verdict_times(session, drops)
    return {pk_of(d): (appeal_rules.appeal_refusal(
        quality=d.quality, voided=d.voided_at is not None, appealed=pk_of(d) in appeals,
        verdict_at=since[pk_of(d)], now=now), appeals.get(pk_of(d))) for d in drops}


def details(session: Session, notes: Sequence[Notification]) -> dict[int, dict[str, Any]]:
    """The inbox resolver of the verdict messages: reason label and how-to (reader's
    language), photo and appeal links, current appeal status."""
    ids = {int(n.params["drop"]) for n in notes if str(n.params.get("drop", "")).isdigit()}
    if not ids:
        return {}
    drops = {pk_of(d): d for d in session.execute(
        select(Drop).where(col(Drop.id).in_(sorted(ids)))).scalars()}
    lang = str(get_locale() or "zh")
    described: dict[tuple[int, str], reasons.Reason] = {}
    for community_id in {d.community_id for d in drops.values()}:
        codes = {d.reason_code for d in drops.values()
                 if d.community_id == community_id and d.reason_code}
        for code, found in reasons.describe(session, community_id, codes, lang=lang).items():
            described[(community_id, code)] = found
    states = appeal_state(session, list(drops.values()))
    out: dict[int, dict[str, Any]] = {}
    for n in notes:
        drop = drops.get(int(n.params.get("drop", 0) or 0))
        if drop is None or n.id is None:
            continue
        reason = described.get((drop.community_id, drop.reason_code or ""))
        refusal, appeal = states[pk_of(drop)]
        extra: dict[str, Any] = {}
        extra["reason"] = (reason_text(reason, drop.note) if n.kind == "drop_incorrect"
                           else reason.label if reason is not None else str(NO_REASON))
        if n.kind == "drop_incorrect":
            extra["howto"] = howto_text(reason)
        if drop.photo and n.kind == "drop_incorrect":
            extra["photo_url"] = f"/me/drops/{drop.id}/photo"
        if refusal is None and n.kind in ("drop_incorrect", "drop_regraded"):
            extra["appeal_url"] = f"/me/drops/{drop.id}/appeal"
        if appeal is not None:
            extra["appeal_status"] = appeal.status
        if drop.voided_at is not None:
            extra["voided"] = True
        out[n.id] = extra
    return out


@dataclass(frozen=True)
class VerdictCard:
    """An incorrect (or once incorrect) drop as the household's points history shows it."""

    drop_id: int
    category: str
    station: str
    at: datetime          # local time of the community
    quality: str
    reason: str           # the reason's label in the reader's language ("" for none)
    howto: str
    note: str
    photo: bool
    can_appeal: bool
    appeal_status: str | None
    appeal_decision: str
    voided: bool = False  # the steward undid the scan: it no longer counts, nothing to appeal
    # The latest regrade of the drop (an appeal's or a manager's own): the resident is shown
    # every regrade's reason (issue 17: "a reason is required for every regrade, shown to the
    # resident"), not only the ones an appeal asked for.
    regrade: RegradeNote | None = None


@dataclass(frozen=True)
class RegradeNote:
    """A drop's latest change of verdict, as its household reads it."""

    from_quality: str
    to_quality: str
    at: datetime          # local time of the community
    reason: str


def _latest_regrades(session: Session, drops: Sequence[Drop]) -> dict[int, DropRegrade]:
    """Drop id → its latest regrade, for drops that have one (one statement, scoped by the
    drops' communities)."""
    if not drops:
        return {}
    rows = session.execute(
        select(DropRegrade)
        .where(col(DropRegrade.community_id).in_({d.community_id for d in drops}),
               col(DropRegrade.drop_id).in_([pk_of(d) for d in drops]))
        .order_by(col(DropRegrade.id))).scalars().all()
    return {r.drop_id: r for r in rows}  # later rows overwrite earlier ones


def verdict_cards(session: Session, drop_ids: Iterable[int], *, lang: str | None = None,
                  now: datetime | None = None) -> dict[int, VerdictCard]:
    """Drop id → its card, for the drops of a household's strikes and penalties (the caller
    reads only its own household's entries)."""
    ids = sorted(set(drop_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(Drop, col(Station.name), col(Area.timezone))
        .join(Station, col(Station.id) == Drop.station_id)
        .join(Area, col(Area.id) == Drop.community_id)
        .where(col(Drop.id).in_(ids))).all()
    drops = [d for d, _n, _t in rows]
    states = appeal_state(session, drops, now=now)
    regrades = _latest_regrades(session, drops)
    described: dict[tuple[int, str], reasons.Reason] = {}
    for community_id in {d.community_id for d in drops}:
        codes = {d.reason_code for d in drops if d.community_id == community_id and d.reason_code}
        for code, found in reasons.describe(session, community_id, codes, lang=lang).items():
            described[(community_id, code)] = found
    out: dict[int, VerdictCard] = {}
    for d, name, tz in rows:
        reason = described.get((d.community_id, d.reason_code or ""))
        refusal, appeal = states[pk_of(d)]
        change = regrades.get(pk_of(d))
        note = (RegradeNote(change.from_quality, change.to_quality,
                            clock.local(change.at, tz), change.reason)
                if change is not None else None)
        out[pk_of(d)] = VerdictCard(
            pk_of(d), d.category, name, clock.local(d.happened_at, tz), d.quality,
            reason.label if reason else "", howto_text(reason), d.note or "",
            bool(d.photo), refusal is None, appeal.status if appeal else None,
            appeal.decision_reason if appeal else "", d.voided_at is not None, note)
    return out
