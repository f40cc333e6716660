"""The volunteers part of the demo city (issue 5): stewards in every community, rotas from
the station windows, `days` days of check-ins with a realistic share of no-shows,
supervision logs, and approved hours credited to the stewards' points (积分银行).

Two steps of `community.demo.STEPS`:

- `add_stewards` runs after the stations and before the drops, so the approved stewards are
  the people who recorded the demo drops: 6–10 stewards per community (approved, one or
  two pending, one retired) with availability and training, and a chief for every station.
  The station chief and steward logins `city.add_accounts` prints become Steward rows too;
  the other stewards are `<slug>.stewardN` with the same password, not printed.
- `add_rotas` runs after the points ledgers (a steward's points account in a community
  would make `drops.add_points` think the community had been scored already): future shifts
  through `shifts.generate_all`, the past shifts of the drop period planned by the pure
  `rota.plan_shifts` and bulk-inserted with their assignments, logs and ledger credits,
  sign-ups for the coming days (some shifts left short: the at-risk list), and a few inbox
  messages for the printed steward logins.

Idempotent like the rest of the demo: accounts are found by username, stewards by
(community, account); a community with a shift that has already started keeps its history,
and one with sign-ups on future shifts keeps those. Ledger credits carry the source
`hours.services.approve_hours` uses ("shift:<assignment id>") and go through the points services'
bulk path (`lock_steward_accounts` + `append_entries`), so `flask points verify` finds no
drift. Like the demo drops, the bulk rows write no audit entries.
"""
from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import click
from sqlalchemy import insert, select, update
from sqlmodel import Session, col

from community import clock
from community.areas.models import Area
from community.auth import services as auth_services
from community.auth.models import Account
from community.demo.context import CHUNK, DEMO_PASSWORD, GIVEN, STAFFED, SURNAMES, Demo
from community.inbox import services as notifications
from community.points import services as points_services
from community.rows import pk, table_of
from community.stations.models import Station, StationException, StationWindow
from community.volunteers import jobs as volunteers_jobs
from community.volunteers.checkins.rules import minutes_between
from community.volunteers.hours import queries as hours_queries
from community.volunteers.hours import rules as hours_rules
from community.volunteers.hours import services as hours_services
from community.volunteers.models import Shift, ShiftAssignment, Steward, SupervisionLog
from community.volunteers.shifts import rules as rota
from community.volunteers.shifts import services as shifts
from community.volunteers.stewards import rules as steward_rules
from community.volunteers.stewards import services as stewards

FUTURE_WEEKS = 4          # what the scheduler's rota job keeps generated
PENDING_DAYS = 3          # hours of the last three local days (today too) still wait
NO_SHOW_SHARE = 0.08
# Past shifts nobody signed up for: a share drawn per community, so coverage (督导到位率)
# differs between communities, some above the 90% a compliant rating wants and some below.
UNSTAFFED_SHARE = (0.005, 0.06)
SHORT_SHARE = 0.15        # a shift needing two stewards that got one
CANCEL_SHARE = 0.03       # a steward signed up, then cancelled before the cut-off
MANAGER_ASSIGNED_SHARE = 0.2
LATE_SHARE = 0.1          # arrived 8–35 minutes late (the rest a few minutes early)
CHIEF_CONFIRM_SHARE = 0.12
FORGOT_CHECKOUT_SHARE = 0.05
UNAPPROVED_SHARE = 0.03   # old hours the manager has not got round to yet
CORRECTED_SHARE = 0.03
LOG_SHARE = 0.6
BUSY_FROM = time(12, 0)   # the main station's evening window needs two stewards
# Sign-ups on future shifts by how many days ahead they fall: the near ones fill first.
UPCOMING_FILL = ((2, 0.7), (7, 0.55), (14, 0.25))
PRINTED_LEAD = timedelta(hours=3)  # a printed login's next shift: still cancellable
MORNING = (time(6, 30), time(9, 30))
EVENING = (time(17, 30), time(20, 30))
STEWARD_ROLES = ("steward", "station_chief")
# (incident, odds per log, fewest, most)
INCIDENT_ODDS = (("late_drop", 0.45, 1, 6), ("full_bin", 0.12, 1, 2),
                 ("dumping", 0.05, 1, 1), ("broken_station", 0.02, 1, 1),
                 ("other", 0.03, 1, 1))
LOG_NOTES = ("几户居民过时投放，已上门提醒", "厨余桶满溢，已联系保洁员清运",
             "新住户不熟悉分类，已现场讲解", "发现楼道口堆放大件垃圾，已报物业",
             "投放亭照明损坏，已报修", "雨天投放人数较少")
CORRECTIONS = ("提前离岗，按实际在岗时间核定", "签到码未能识别，按排班时长核定")


@dataclass(frozen=True)
class StewardSpec:
    """One demo steward of a community, before it is stored."""

    username: str
    status: str                      # approved | retired | pending
    name: str
    phone: str
    slots: tuple[tuple[int, time, time], ...]
    training: str
    trained_days_ago: int | None
    joined_days_ago: int
    left_days_ago: int | None        # retired this many days ago


def _availability(rng: random.Random, everyday: bool) -> tuple[tuple[int, time, time], ...]:
    """Weekly ranges around the drop windows: mornings, evenings or both, on 3–7 weekdays."""
    days = list(range(7)) if everyday else sorted(rng.sample(range(7), rng.randint(3, 6)))
    pattern = "both" if everyday else rng.choice(("morning", "evening", "evening", "both"))
    ranges = {"morning": (MORNING,), "evening": (EVENING,), "both": (MORNING, EVENING)}[pattern]
    return tuple((d, a, b) for d in days for a, b in ranges)


def plan_stewards(rng: random.Random, slug: str, index: int, stations: int, *,
                  staffed: bool, days: int) -> list[StewardSpec]:
    """A community's stewards: two approved per station (plus maybe one), one retired, one
    or two pending. A staffed community's printed chief login comes first (on duty daily)."""
    approved = 2 * stations + rng.randint(0, 1)
    statuses = ["approved"] * approved + ["retired"] + ["pending"] * rng.choice((1, 2))
    names = [f"{slug}.chief"] if staffed else []
    names += [f"{slug}.steward{n}" for n in range(1, len(statuses) - len(names) + 1)]
    out = []
    for n, (username, status) in enumerate(zip(names, statuses, strict=True), start=1):
        chief = username.endswith(".chief")
        # Approved and retired stewards joined before the drop period; pending ones lately.
        joined = rng.randint(1, 5) if status == "pending" else days + rng.randint(20, 300)
        if status == "pending":
            training, trained = "none", None
        elif status == "approved" and not chief and rng.random() < 0.15:
            training, trained = "in_training", None
        else:
            training, trained = "trained", rng.randint(1, joined - 1)
        out.append(StewardSpec(
            username=username, status=status,
            name=rng.choice(SURNAMES) + rng.choice(GIVEN),
            phone=f"138{index:04d}{n:04d}", slots=_availability(rng, everyday=chief),
            training=training, trained_days_ago=trained, joined_days_ago=joined,
            left_days_ago=max(1, days // 3) if status == "retired" else None))
    return out


# --- Stewards and station chiefs -----------------------------------------------------------

def _open_stations(session: Session, community: Area) -> list[Station]:
    return list(session.execute(select(Station).where(
        col(Station.community_id) == community.id, col(Station.status) == "open")
        .order_by(col(Station.id))).scalars())


def _store_steward(demo: Demo, community: Area, manager: Account, spec: StewardSpec,
                   now: datetime, hashed: list[str]) -> tuple[Steward, Account]:
    """The spec's account and Steward row (each created when missing), the role if approved."""
    session = demo.session
    account = auth_services.find_by_login(session, spec.username)
    joined = now - timedelta(days=spec.joined_days_ago)
    if account is None:
        if not hashed:
            # Every demo account shares the published DEMO_PASSWORD: one scrypt hash (~80 ms)
            # serves all the new stewards instead of one per account.
            hashed.append(auth_services.hash_password(DEMO_PASSWORD))
        phone = spec.phone if auth_services.find_by_login(session, spec.phone) is None else None
        account = Account(username=spec.username, phone=phone, display_name=spec.name,
                          password_hash=hashed[0], created_at=joined)
        session.add(account)
        session.flush()
        demo.created += 1
    steward = session.execute(select(Steward).where(
        col(Steward.community_id) == community.id,
        col(Steward.account_id) == account.id)).scalar_one_or_none()
    if steward is None:
        decided_at = None if spec.status == "pending" else joined + timedelta(days=1)
        if spec.left_days_ago is not None:
            decided_at = now - timedelta(days=spec.left_days_ago)
        steward = Steward(
            community_id=pk(community), account_id=pk(account), status=spec.status,
            availability=[{"weekday": d, "start": f"{a:%H:%M}", "end": f"{b:%H:%M}"}
                          for d, a, b in spec.slots],
            training=spec.training,
            trained_on=(clock.local(now, community.timezone).date()
                        - timedelta(days=spec.trained_days_ago)
                        if spec.trained_days_ago is not None else None),
            created_at=joined, decided_at=decided_at,
            decided_by=manager.id if decided_at is not None else None)
        session.add(steward)
        session.flush()
        demo.created += 1
    if steward.status == "approved":
        auth_services.add_grant(session, account=account, role="steward", area=community,
                                granted_by=manager.id)
    return steward, account


def _appoint_chiefs(demo: Demo, community: Area, stations: Sequence[Station],
                    crew: Sequence[tuple[Steward, Account]], manager: Account,
                    named: Account | None) -> None:
    """A chief for every station without one. The printed chief login keeps the first
    station (`city.add_stations` gave it all of them); stewards who are not printed logins take
    the others, so the printed steward logins stay plain stewards."""
    printed = {login.login for login in demo.logins}
    candidates = [a for s, a in reversed(crew)
                  if s.status == "approved" and a.username not in printed]
    for k, station in enumerate(stations):
        stale = named is not None and k > 0 and station.chief_id == named.id
        if station.chief_id is not None and not stale:
            continue  # in someone's charge already (a previous run, or a real manager)
        chief = named if k == 0 and named is not None else (
            candidates.pop(0) if candidates else None)
        if chief is None:
            continue
        station.chief_id = chief.id
        demo.session.add(station)
        auth_services.add_grant(demo.session, account=chief, role="station_chief",
                                area=community, granted_by=manager.id)
        demo.created += 1
    demo.session.flush()


def add_stewards(demo: Demo) -> None:
    """6–10 stewards per community with availability and training, and station chiefs."""
    session = demo.session
    hashed: list[str] = []
    now = clock.now()
    for index, (slug, community) in enumerate(demo.communities.items(), start=1):
        manager = auth_services.find_by_login(session, slug)
        stations = _open_stations(session, community)
        if manager is None or not stations:
            continue
        specs = plan_stewards(demo.rng_for("stewards", slug), slug, index, len(stations),
                              staffed=slug in STAFFED, days=demo.days)
        crew = [_store_steward(demo, community, manager, spec, now, hashed) for spec in specs]
        named = next((a for s, a in crew if a.username == f"{slug}.chief"
                      and s.status == "approved"), None)
        _appoint_chiefs(demo, community, stations, crew, manager, named)
        session.commit()


# --- The rota planner (pure) ---------------------------------------------------------------

@dataclass(frozen=True)
class Member:
    """A steward as the rota planner sees them."""

    steward_id: int
    account_id: int
    slots: tuple[tuple[int, time, time], ...]
    until: date | None = None  # a retired steward's last local date on duty


@dataclass(frozen=True)
class Slot:
    """A stored shift as the rota planner sees it (times aware UTC)."""

    shift_id: int
    station_id: int
    local_date: date
    starts_at: datetime
    ends_at: datetime
    needed: int
    chief_id: int | None = None  # the station chief's account


def covers(member: Member, slot: Slot, zone: ZoneInfo) -> bool:
    """Whether the steward's weekly availability contains the whole shift (local times)."""
    start, end = slot.starts_at.astimezone(zone), slot.ends_at.astimezone(zone)
    return start.date() == end.date() and any(
        d == start.weekday() and a <= start.time() and end.time() <= b
        for d, a, b in member.slots)


def _pick(rng: random.Random, pool: list[Member], slot: Slot, zone: ZoneInfo) -> Member | None:
    """One steward from `pool` (removed from it): mostly those available then, chiefs at
    their own station most of all."""
    if not pool:
        return None
    weights = [1 + 4 * covers(m, slot, zone) + 6 * (m.account_id == slot.chief_id)
               for m in pool]
    chosen = rng.choices(pool, weights=weights)[0]
    pool.remove(chosen)
    return chosen


def _seconds(minutes: float) -> timedelta:
    return timedelta(seconds=round(minutes * 60))


def _assignment(slot: Slot, member: Member, created_at: datetime,
                assigned_by: int | None) -> dict[str, Any]:
    """An assignment row with every column (one executemany needs the same keys per row)."""
    return {"shift_id": slot.shift_id, "steward_id": member.steward_id, "status": "signed_up",
            "assigned_by": assigned_by, "created_at": created_at, "cancelled_at": None,
            "checked_in_at": None, "check_in_method": None, "checked_out_at": None,
            "check_out_method": None, "confirmed_by": None, "minutes": None,
            "hours_status": None, "approved_minutes": None, "approved_by": None,
            "approved_at": None, "correction_reason": ""}


def _attend(rng: random.Random, row: dict[str, Any], slot: Slot, member: Member,
            now: datetime, manager_id: int) -> None:
    """What happened on the shift: a no-show, or a check-in (code or chief) and a check-out
    (code, or "auto" at the end for a forgotten one); a running shift stays open."""
    ended = slot.ends_at <= now
    if ended and rng.random() < NO_SHOW_SHARE:
        row["status"] = "no_show"
        return
    late = (rng.uniform(8, 35) if rng.random() < LATE_SHARE
            else min(7.0, max(-25.0, rng.gauss(-6, 5))))
    checked_in = slot.starts_at + _seconds(late)
    if checked_in > now:
        return  # a running shift the steward has not reached yet
    by_chief = rng.random() < CHIEF_CONFIRM_SHARE
    confirmer = slot.chief_id if slot.chief_id not in (None, member.account_id) else manager_id
    row.update(checked_in_at=checked_in, check_in_method="chief" if by_chief else "code",
               confirmed_by=confirmer if by_chief else None)
    if not ended:
        return
    if rng.random() < FORGOT_CHECKOUT_SHARE:
        out, method = slot.ends_at, "auto"  # the end-of-shift job closed it
    else:
        out = slot.ends_at + _seconds(min(14.0, max(-20.0, rng.gauss(3, 5))))
        out, method = min(max(out, checked_in), now), "code"
    row.update(status="done", checked_out_at=out, check_out_method=method,
               minutes=minutes_between(checked_in, out), hours_status="pending")


def _approve(rng: random.Random, row: dict[str, Any], slot: Slot, today: date, now: datetime,
             manager_id: int) -> None:
    """The manager approves most hours older than PENDING_DAYS, a day or two after the shift,
    now and then corrected with a reason."""
    if (row["hours_status"] != "pending"
            or slot.local_date > today - timedelta(days=PENDING_DAYS)
            or rng.random() < UNAPPROVED_SHARE):
        return
    minutes, reason = row["minutes"], ""
    if rng.random() < CORRECTED_SHARE:
        k = rng.randrange(len(CORRECTIONS))
        scheduled = minutes_between(slot.starts_at, slot.ends_at)
        corrected = max(0, minutes - 30) if k == 0 else scheduled
        if corrected != minutes:
            minutes, reason = corrected, CORRECTIONS[k]
    approved_at = min(row["checked_out_at"] + _seconds(rng.uniform(14, 50) * 60),
                      now - timedelta(minutes=5))
    row.update(hours_status="approved", approved_minutes=minutes, approved_by=manager_id,
               approved_at=approved_at, correction_reason=reason)


def _log(rng: random.Random, row: dict[str, Any], zone: ZoneInfo) -> dict[str, Any]:
    """A supervision log for a done assignment (assignment id filled in after the insert)."""
    evening = row["checked_in_at"].astimezone(zone).time() >= BUSY_FROM
    guided = rng.randint(6, 25) + (rng.randint(5, 20) if evening else 0)
    incidents = {code: rng.randint(low, high) for code, odds, low, high in INCIDENT_ODDS
                 if rng.random() < odds}
    written = row["checked_in_at"] + _seconds(rng.uniform(30, 100))
    return {"residents_guided": guided, "drops_corrected": rng.randint(0, max(1, guided // 4)),
            "incidents": incidents,
            "note": rng.choice(LOG_NOTES) if incidents and rng.random() < 0.5 else "",
            "photos": [], "created_at": min(written, row["checked_out_at"]),
            "updated_at": row["checked_out_at"]}


@dataclass
class History:
    """Planned past assignments, and logs keyed by (shift id, steward id)."""

    assignments: list[dict[str, Any]]
    logs: dict[tuple[int, int], dict[str, Any]]


def plan_history(rng: random.Random, slots: Sequence[Slot], crew: Sequence[Member], *,
                 now: datetime, today: date, tz: str, manager_id: int) -> History:
    """Who held each past (or running) shift and what happened, in start order.

    Most shifts get the stewards they need (a few none, a few one short); a steward never
    holds two overlapping shifts, and a retired one only shifts before leaving.
    """
    zone = ZoneInfo(tz)
    unstaffed = rng.uniform(*UNSTAFFED_SHARE)
    free_at: dict[int, datetime] = {}
    out = History([], {})
    for slot in sorted(slots, key=lambda s: (s.starts_at, s.station_id)):
        if rng.random() < unstaffed:
            continue
        wanted = slot.needed - (slot.needed > 1 and rng.random() < SHORT_SHARE)
        pool = [m for m in crew if (m.until is None or slot.local_date <= m.until)
                and free_at.get(m.steward_id, slot.starts_at) <= slot.starts_at]
        for _ in range(wanted):
            gone = _pick(rng, pool, slot, zone) if (
                rng.random() < CANCEL_SHARE and len(pool) > 1) else None
            if gone is not None:  # signed up, then cancelled before the cut-off
                cancelled = slot.starts_at - _seconds(rng.uniform(3, 40) * 60)
                row = _assignment(slot, gone, cancelled - _seconds(rng.uniform(1, 5) * 1440),
                                  None)
                row.update(status="cancelled", cancelled_at=cancelled)
                out.assignments.append(row)
            member = _pick(rng, pool, slot, zone)
            if member is None:
                break
            manager = rng.random() < MANAGER_ASSIGNED_SHARE
            row = _assignment(slot, member, slot.starts_at - _seconds(rng.uniform(1, 10) * 1440),
                              manager_id if manager else None)
            _attend(rng, row, slot, member, now, manager_id)
            _approve(rng, row, slot, today, now, manager_id)
            if row["status"] == "done" and rng.random() < LOG_SHARE:
                out.logs[(slot.shift_id, member.steward_id)] = _log(rng, row, zone)
            out.assignments.append(row)
            free_at[member.steward_id] = slot.ends_at
    return out


# --- Rotas: history, sign-ups, inbox -------------------------------------------------------

def _crew(session: Session, community: Area, now: datetime) -> list[Member]:
    """The community's approved and retired stewards (retired: on duty until the day before)."""
    out = []
    for s in session.execute(select(Steward).where(
            col(Steward.community_id) == community.id,
            col(Steward.status).in_(("approved", "retired"))).order_by(col(Steward.id))).scalars():
        until = None
        if s.status == "retired":
            left = clock.local(s.decided_at or now, community.timezone).date()
            until = left - timedelta(days=1)
        out.append(Member(s.id, s.account_id, tuple(steward_rules.slots_of(s)), until))
    return out


def _needed(station_index: int, starts_at: datetime, zone: ZoneInfo) -> int:
    return 2 if station_index == 0 and starts_at.astimezone(zone).time() >= BUSY_FROM else 1


def _past_shift_rows(session: Session, stations: Sequence[Station], first: date, today: date,
                     tz: str, now: datetime) -> list[dict[str, Any]]:
    """Shift rows of the stations' windows from `first` up to now (started ones only)."""
    ids = [pk(s) for s in stations]
    weekly: dict[int, list[rota.WindowSpec]] = {i: [] for i in ids}
    for w in session.execute(select(StationWindow).where(
            col(StationWindow.station_id).in_(ids))).scalars():
        weekly[w.station_id].append(rota.WindowSpec(w.id, w.weekday, w.start_time, w.end_time))
    closed: dict[int, list[rota.ExceptionSpec]] = {i: [] for i in ids}
    for e in session.execute(select(StationException).where(
            col(StationException.station_id).in_(ids),
            col(StationException.day).between(first, today))).scalars():
        closed[e.station_id].append(rota.ExceptionSpec(e.day, e.start_time, e.end_time))
    zone = ZoneInfo(tz)
    rows = []
    for k, station in enumerate(stations):
        for spec in rota.plan_shifts(weekly[pk(station)], closed[pk(station)],
                                     first, today, tz):
            if spec.starts_at > now:
                continue  # shifts.generate_all made it
            made = spec.starts_at - timedelta(days=21)  # generated weeks ahead, as the job does
            rows.append({"community_id": station.community_id, "station_id": station.id,
                         "window_id": spec.window_id, "local_date": spec.local_date,
                         "starts_at": spec.starts_at, "ends_at": spec.ends_at,
                         "needed": _needed(k, spec.starts_at, zone), "status": "open",
                         "created_at": made, "updated_at": made})
    return rows


def _slots(session: Session, community: Area, stations: Sequence[Station], *,
           after: datetime | None = None, until: datetime | None = None) -> list[Slot]:
    """The community's open shifts as planner slots (started by `until`, or after `after`)."""
    chiefs = {s.id: s.chief_id for s in stations}
    stmt = select(Shift).where(col(Shift.community_id) == community.id,
                               col(Shift.status) == "open",
                               col(Shift.station_id).in_(list(chiefs)))
    if until is not None:
        stmt = stmt.where(col(Shift.starts_at) <= until)
    if after is not None:
        stmt = stmt.where(col(Shift.starts_at) > after)
    return [Slot(s.id, s.station_id, s.local_date, s.starts_at, s.ends_at, s.needed,
                 chiefs.get(s.station_id))
            for s in session.execute(stmt.order_by(col(Shift.starts_at), col(Shift.id))).scalars()]


def _credit(session: Session, community: Area, approved: list[tuple[int, dict[str, Any]]],
            day_of: dict[int, date]) -> int:
    """Credit approved hours to the stewards' points accounts, as `hours.approve_hours` does
    (points at the rate in force on the shift's date, source "shift:<assignment id>"), oldest
    approval first; accounts are locked (and made) first, as every balance writer does.
    Returns how many entries went in."""
    if not approved:
        return 0
    zone = ZoneInfo(community.timezone)
    accounts = points_services.lock_steward_accounts(
        session, pk(community), {row["steward_id"] for _i, row in approved})
    rules: dict[date, Any] = {}
    entries = []
    for assignment_id, row in sorted(approved, key=lambda x: (x[1]["approved_at"], x[0])):
        day = day_of[row["shift_id"]]
        if day not in rules:
            rules[day] = points_services.current_rules(session, pk(community), day)
        amount = hours_rules.points_for_minutes(row["approved_minutes"],
                                                rules[day].steward_points_per_hour)
        if amount == 0:
            continue  # credit_steward appends nothing for zero points
        entries.append({
            "account_id": accounts[row["steward_id"]][0], "amount": amount, "kind": "earn",
            "source": f"shift:{assignment_id}", "rule_version": rules[day].version,
            "actor_id": row["approved_by"], "reason": f"hours:{row['approved_minutes']}",
            "at": row["approved_at"], "local_date": row["approved_at"].astimezone(zone).date(),
            "reverses_id": None})
    return len(points_services.append_entries(session, entries,
                                               community_id=pk(community)))


def _history(demo: Demo, slug: str, community: Area, manager: Account,
             crew: Sequence[Member], now: datetime) -> None:
    """The drop period's shifts with assignments, check-ins, logs and approved hours."""
    session = demo.session
    started = session.execute(select(col(Shift.id)).where(
        col(Shift.community_id) == community.id, col(Shift.starts_at) <= now).limit(1)).first()
    if started is not None:
        return  # the community already has a history: demo data is never mixed in
    stations = _open_stations(session, community)
    today = clock.local(now, community.timezone).date()
    rows = _past_shift_rows(session, stations, today - timedelta(days=demo.days), today,
                            community.timezone, now)
    if not rows or not crew:
        return
    session.execute(insert(table_of(Shift)), rows)
    demo.created += len(rows)
    slots = _slots(session, community, stations, until=now)
    plan = plan_history(demo.rng_for("history", slug), slots, crew, now=now, today=today,
                        tz=community.timezone, manager_id=pk(manager))
    table = table_of(ShiftAssignment)
    for start in range(0, len(plan.assignments), CHUNK):
        session.execute(insert(table), plan.assignments[start:start + CHUNK])
    demo.created += len(plan.assignments)
    ids = {(shift_id, steward_id): i for i, shift_id, steward_id in session.execute(
        select(table.c.id, table.c.shift_id, table.c.steward_id)
        .where(table.c.shift_id.in_([s.shift_id for s in slots])))}
    logs = [{"assignment_id": ids[key], **log} for key, log in plan.logs.items()]
    if logs:
        session.execute(insert(table_of(SupervisionLog)), logs)
        demo.created += len(logs)
    approved = [(ids[(r["shift_id"], r["steward_id"])], r) for r in plan.assignments
                if r["hours_status"] == "approved"]
    demo.created += _credit(session, community, approved,
                            {s.shift_id: s.local_date for s in slots})
    session.flush()


def _upcoming(demo: Demo, slug: str, community: Area, manager: Account,
              crew: Sequence[Member], now: datetime) -> None:
    """Sign-ups on the coming shifts: the near ones mostly filled, some left short (the
    at-risk list); each printed steward login holds the next shift it can still cancel."""
    session = demo.session
    table = table_of(ShiftAssignment)
    taken = session.execute(
        select(table.c.id).join(Shift, col(Shift.id) == table.c.shift_id)
        .where(col(Shift.community_id) == community.id, col(Shift.starts_at) > now)
        .limit(1)).first()
    stations = _open_stations(session, community)
    if taken is not None or not stations:
        return  # sign-ups exist (a previous run, or real stewards)
    zone = ZoneInfo(community.timezone)
    today = clock.local(now, community.timezone).date()
    horizon = today + timedelta(days=UPCOMING_FILL[-1][0])
    # The main station's evening shifts need two stewards, as in the past weeks.
    busy_ids = [s.shift_id for s in _slots(session, community, stations, after=now)
                if s.needed == 1 and _needed(0 if s.station_id == stations[0].id else 1,
                                            s.starts_at, zone) == 2]
    if busy_ids:
        session.execute(update(Shift).where(col(Shift.id).in_(busy_ids))
                        .values(needed=2, updated_at=now)
                        .execution_options(synchronize_session=False))
        demo.created += len(busy_ids)
    slots = [s for s in _slots(session, community, stations, after=now)
             if s.local_date <= horizon]
    held: dict[int, list[tuple[datetime, datetime]]] = {}
    for steward_id, starts, ends in session.execute(
            select(table.c.steward_id, col(Shift.starts_at), col(Shift.ends_at))
            .join(Shift, col(Shift.id) == table.c.shift_id)
            .where(col(Shift.community_id) == community.id, col(Shift.ends_at) > now,
                   table.c.status == "signed_up")):
        held.setdefault(steward_id, []).append((starts, ends))
    active = [m for m in crew if m.until is None]
    count: dict[int, int] = {}
    rows: list[dict[str, Any]] = []
    rng = demo.rng_for("upcoming", slug)

    def free(member: Member, slot: Slot) -> bool:
        return all(e <= slot.starts_at or slot.ends_at <= s
                   for s, e in held.get(member.steward_id, []))

    def place(member: Member, slot: Slot, assigned_by: int | None) -> None:
        rows.append(_assignment(slot, member, now, assigned_by))
        held.setdefault(member.steward_id, []).append((slot.starts_at, slot.ends_at))
        count[slot.shift_id] = count.get(slot.shift_id, 0) + 1

    printed = {a.id for a in _printed_accounts(session, demo)}
    for member in active:
        if member.account_id in printed:
            slot = next((s for s in slots if s.starts_at > now + PRINTED_LEAD
                         and count.get(s.shift_id, 0) < s.needed and free(member, s)), None)
            if slot is not None:
                place(member, slot, None)
    for slot in slots:
        ahead = (slot.local_date - today).days
        fill = next((p for d, p in UPCOMING_FILL if ahead <= d), 0.0)
        for _ in range(slot.needed - count.get(slot.shift_id, 0)):
            if rng.random() >= fill:
                continue
            picked = _pick(rng, [m for m in active if free(m, slot)], slot, zone)
            if picked is not None:
                manager_id = manager.id if rng.random() < MANAGER_ASSIGNED_SHARE else None
                place(picked, slot, manager_id)
    if rows:
        session.execute(insert(table), rows)
        demo.created += len(rows)
    session.flush()


def _printed_accounts(session: Session, demo: Demo) -> list[Account]:
    """The steward and station chief logins of the printed table, in its order."""
    logins = dict.fromkeys(x.login for x in demo.logins if x.role in STEWARD_ROLES)
    found = (auth_services.find_by_login(session, login) for login in logins)
    return [a for a in found if a is not None]


def _inbox(demo: Demo, now: datetime) -> None:
    """A few messages for each printed steward login: welcome, hours approved, a reminder.

    Sent through `notifications.notify` with the dedupe keys the real senders use, so a
    second run (or the reminder job later) sends none of them again.
    """
    session = demo.session
    table = table_of(ShiftAssignment)
    for account in _printed_accounts(session, demo):
        for steward, area in session.execute(
                select(Steward, Area).join(Area, col(Area.id) == Steward.community_id)
                .where(col(Steward.account_id) == account.id,
                       col(Steward.status) == "approved").order_by(col(Steward.id))).all():
            sent: int = notifications.notify(
                session, account_id=pk(account), kind="steward_approved",
                params={"community": area.name}, link=stewards.PROFILE_LINK,
                dedupe_key=f"steward_approved:{steward.id}")
            recent = session.execute(
                select(table.c.id, table.c.approved_minutes).where(
                    table.c.steward_id == steward.id, table.c.hours_status == "approved")
                .order_by(table.c.approved_at.desc(), table.c.id.desc()).limit(2)).all()
            credited = hours_queries.points_credited(session, [i for i, _m in recent])
            for assignment_id, minutes in reversed(recent):
                sent += notifications.notify(
                    session, account_id=pk(account), kind="hours_approved",
                    params={"minutes": minutes, "points": credited.get(assignment_id, 0)},
                    link=hours_services.MY_LINK, dedupe_key=f"hours_approved:{assignment_id}")
            upcoming = session.execute(
                select(table.c.id, col(Shift.id), col(Shift.starts_at), col(Station.name))
                .join(Shift, col(Shift.id) == table.c.shift_id)
                .join(Station, col(Station.id) == Shift.station_id)
                .where(table.c.steward_id == steward.id, table.c.status == "signed_up",
                       col(Shift.starts_at) > now)
                .order_by(col(Shift.starts_at)).limit(1)).first()
            if upcoming is not None:
                assignment_id, shift_id, starts_at, station = upcoming
                local_start = clock.local(starts_at, area.timezone).isoformat(timespec="minutes")
                sent += notifications.notify(
                    session, account_id=pk(account), kind="shift_reminder",
                    params={"station": station, "starts_at": local_start, "shift_id": shift_id},
                    link=volunteers_jobs.REMINDER_LINK,
                    dedupe_key=f"shift_reminder:{assignment_id}")
            demo.created += sent


def add_rotas(demo: Demo) -> None:
    """Future shifts (the rota job), the drop period's history, sign-ups and inbox messages."""
    session = demo.session
    now = clock.now()
    report = shifts.generate_all(session, now=now, weeks=FUTURE_WEEKS)
    demo.created += report.created + report.updated + report.cancelled
    session.commit()
    with click.progressbar(list(demo.communities.items()),
                           label=f"Stewards' shifts ({demo.days} days)") as bar:
        for slug, community in bar:
            manager = auth_services.find_by_login(session, slug)
            if manager is None:
                continue
            crew = _crew(session, community, now)
            _history(demo, slug, community, manager, crew, now)
            _upcoming(demo, slug, community, manager, crew, now)
            session.commit()
    _inbox(demo, now)
    session.commit()
