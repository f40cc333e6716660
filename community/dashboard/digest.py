"""The daily digest for community managers and station chiefs (issue 19, item 7): what is
waiting for them, in one inbox message (and a text where they opted in), instead of a
round of pages.

A manager's digest: hours waiting for approval, join requests, shifts at risk in the next
48 hours, open mis-drop cases, overdue reports. A chief's: the at-risk shifts of the
stations they run and the community's open cases. Nothing waiting, no message. Each
person gets one per community per local day (the inbox's dedupe key), whatever re-runs.

Volunteer hours waiting for approval are counted only for a reader who may approve them
in that community (steward:manage), without the reader's own (nobody approves their own
hours), and listed only when there are some, with a link to the approval page. The
message is worded at read time from its items (`word`, the inbox resolver of both kinds).

Overdue reports come from `community.reports` when it offers `area_overdue` (checked at
run time, so the digest works with or without that module; see `_overdue_reports`).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlmodel import Session, col

from community import clock
from community.areas.models import Area
from community.auth import policy
from community.auth import services as auth_services
from community.auth.models import Account, RoleGrant
from community.casework.models import MisdropCase
from community.households.models import HouseholdMember
from community.inbox import services as notifications
from community.inbox.models import Notification
from community.rows import pk
from community.stations.models import Station
from community.volunteers.models import Shift, ShiftAssignment, Steward
from community.volunteers.shifts import queries as shifts_queries

MAX_LISTED = 3  # at-risk shifts named in the message; the rest are counted
KINDS = ("daily_digest", "chief_digest")
APPROVAL_PAGE = "/manage/volunteers/hours"  # volunteers.hours: the pending hours, bulk approval

# The items of each kind, in order: (parameter, words). An item is listed only when its count
# is not zero (hours only to a reader who may approve them): the message says what waits.
ITEMS: dict[str, tuple[tuple[str, Any], ...]] = {
    "daily_digest": (
        ("hours", _l("volunteer hours to approve: %(hours)s")),
        ("joins", _l("join requests: %(joins)s")),
        ("at_risk", _l("shifts at risk in the next 48 hours: %(at_risk)s%(shifts)s")),
        ("cases", _l("open mis-drop cases: %(cases)s")),
        ("overdue", _l("reports not handled by their deadline: %(overdue)s")),
    ),
    "chief_digest": (
        ("hours", _l("volunteer hours to approve: %(hours)s")),
        ("at_risk", _l("shifts at risk in the next 48 hours: %(at_risk)s%(shifts)s")),
        ("cases", _l("open mis-drop cases in the community: %(cases)s")),
    ),
}
# The at-risk shifts named after their count, in the reader's punctuation (full-width in
# Chinese): " (11-20 17:30 East gate; +2 more)".
SHIFTS_LIST = _l(" (%(list)s)")
MORE = _l("+%(n)s more")


@dataclass
class Digest:
    """What waits in one community (for one reader: a chief sees their stations only)."""

    community: Area
    hours_pending: int = 0
    join_requests: int = 0
    at_risk: list[tuple[datetime, str]] = field(default_factory=list)  # (start, station)
    open_cases: int = 0
    overdue_reports: int | None = None  # None: the reports module is not there

    def empty(self) -> bool:
        """Nothing waiting: no message."""
        return not (self.hours_pending or self.join_requests or self.at_risk
                    or self.open_cases or self.overdue_reports)

    def params(self) -> dict[str, Any]:
        """The inbox message's parameters (plain values; worded at read time)."""
        tz = self.community.timezone
        shown = [f"{clock.local(at, tz):%m-%d %H:%M} {name}"
                 for at, name in self.at_risk[:MAX_LISTED]]
        return {"community": self.community.name, "hours": self.hours_pending,
                "hours_url": (f"{APPROVAL_PAGE}?community_id={self.community.id}"
                              if self.hours_pending else ""),
                "joins": self.join_requests, "at_risk": len(self.at_risk),
                # One line per shift (a message's parameters are plain values, not lists).
                "shift_list": "\n".join(shown), "more_shifts": len(self.at_risk) - len(shown),
                "cases": self.open_cases,
                "overdue": 0 if self.overdue_reports is None else self.overdue_reports}

    def link(self, kind: str) -> str:
        """Where the message's View button leads: the page of what waits first (hours have
        their own button): a chief's open cases, else their stations' shifts; a manager's
        join requests, at-risk shifts, cases or overdue reports, else the dashboard."""
        cid = self.community.id
        if kind == "chief_digest":
            return f"/casework?community_id={cid}" if self.open_cases else "/steward/stations"
        for count, url in ((self.join_requests, "/manage/links"),
                           (len(self.at_risk), f"/manage/rota/at-risk?community_id={cid}"),
                           (self.open_cases, f"/casework?community_id={cid}"),
                           (self.overdue_reports, "/reports/board")):
            if count:
                return url
        return f"/dashboard/community?community_id={cid}"


class _Values(dict):
    """A message's parameters where a missing one reads "?" (a message stored before it)."""

    def __missing__(self, key: str) -> str:
        return "?"


def word(session: Session, notes: list[Notification]) -> dict[int, dict[str, Any]]:
    """The inbox resolver of the digests: each message's items in the reader's language (a
    count of hours only when some wait), and the approval page's link when it names hours."""
    out: dict[int, dict[str, Any]] = {}
    for note in notes:
        params = note.params
        values = _Values({k: "?" if v is None else v for k, v in params.items()})
        if "shift_list" in params:
            listed = [x for x in str(params.get("shift_list") or "").split("\n") if x]
            if params.get("more_shifts"):
                listed.append(str(MORE) % {"n": params["more_shifts"]})
            values["shifts"] = str(SHIFTS_LIST) % {"list": _("; ").join(listed)} if listed else ""
        # Zero (or "—": the reports module was absent) is not listed.
        items = [str(words) % values for key, words in ITEMS.get(note.kind, ())
                 if key in params and params[key] and params[key] != "—"]
        text = _("; ").join(items)
        url = params.get("hours_url") or ""
        out[pk(note)] = {"items": text[:1].upper() + text[1:],
                         "hours_url": url if params.get("hours") and url else ""}
    return out


def _count(session: Session, stmt: Any) -> int:
    return int(session.execute(stmt).scalar_one() or 0)


def _overdue_reports(session: Session, community: Area, now: datetime) -> int | None:
    """Overdue open reports of the community, or None when `community.reports` (built by
    another change) is absent or offers no `area_overdue` yet."""
    try:
        from community.reports import queries as reports_queries
    except ImportError:
        return None
    area_overdue = getattr(reports_queries, "area_overdue", None)
    if area_overdue is None:
        return None
    return len(area_overdue(session, community, now=now).rows)


def pending_hours(session: Session, community: Area) -> dict[int, int]:
    """The community's assignments whose hours wait for approval, by the steward's account."""
    return {int(account): int(n) for account, n in session.execute(
        select(col(Steward.account_id), func.count())
        .select_from(ShiftAssignment)
        .join(Shift, col(Shift.id) == ShiftAssignment.shift_id)
        .join(Steward, col(Steward.id) == ShiftAssignment.steward_id)
        .where(col(Shift.community_id) == community.id,
               col(ShiftAssignment.hours_status) == "pending")
        .group_by(col(Steward.account_id))).all()}


def hours_for(session: Session, community: Area, account_id: int,
              pending: dict[int, int]) -> int:
    """The pending hours a reader may approve in the community: none unless they may approve
    there (steward:manage), and never their own."""
    if not policy.allowed(auth_services.load_actor(session, account_id), "steward:manage",
                          community):
        return 0
    return sum(n for owner, n in pending.items() if owner != account_id)


def community_digest(session: Session, community: Area, *, now: datetime,
                     manager_id: int | None) -> Digest:
    """The manager's view of one community (at-risk shifts through the manager's scope; the
    hours that manager may approve)."""
    cid = pk(community)
    hours = (hours_for(session, community, manager_id, pending_hours(session, community))
             if manager_id is not None else 0)
    joins = _count(session, select(func.count()).select_from(HouseholdMember).where(
        col(HouseholdMember.community_id) == cid, col(HouseholdMember.status) == "pending"))
    cases = _count(session, select(func.count()).select_from(MisdropCase).where(
        col(MisdropCase.community_id) == cid, col(MisdropCase.status) == "open"))
    at_risk: list[tuple[datetime, str]] = []
    if manager_id is not None:
        actor = auth_services.load_actor(session, manager_id)
        rows = shifts_queries.at_risk(session, actor=actor, community_id=cid, now=now).rows
        at_risk = [(shift.starts_at, name) for shift, name, _state in rows]
    return Digest(community, hours, joins, at_risk, cases,
                  _overdue_reports(session, community, now))


def _recipients(session: Session, community: Area) -> tuple[list[int], dict[int, set[str]]]:
    """(active managers of the community, chief account → names of the stations they run)."""
    managers = list(session.execute(
        select(col(RoleGrant.account_id)).join(Account, col(Account.id) == RoleGrant.account_id)
        .where(col(RoleGrant.area_id) == community.id, col(RoleGrant.role) == "manager",
               col(Account.active).is_(True)).order_by(col(RoleGrant.account_id))).scalars())
    chiefs: dict[int, set[str]] = {}
    for chief_id, name in session.execute(
            select(col(Station.chief_id), col(Station.name)).where(
                col(Station.community_id) == community.id, col(Station.chief_id).is_not(None))):
        chiefs.setdefault(int(chief_id), set()).add(name)
    return managers, chiefs


def send_digests(session: Session, *, now: datetime) -> Mapping[str, int]:
    """Every community's digest to its managers and chiefs (flushes; the job commits)."""
    sent = skipped = 0
    communities = session.execute(select(Area).where(col(Area.level) == "community")
                                  .order_by(col(Area.id))).scalars().all()
    for community in communities:
        managers, chiefs = _recipients(session, community)
        if not managers and not chiefs:
            continue
        digest = community_digest(session, community, now=now,
                                  manager_id=managers[0] if managers else None)
        pending = pending_hours(session, community)
        day = clock.local_today(community.timezone, now).isoformat()
        key = f"digest:{community.id}:{day}"
        for account_id in managers:
            theirs = replace(digest, hours_pending=hours_for(session, community, account_id,
                                                             pending))
            if theirs.empty():
                skipped += 1
                continue
            sent += notifications.notify(session, account_id=account_id, kind="daily_digest",
                                         params=theirs.params(),
                                         link=theirs.link("daily_digest"),
                                         dedupe_key=f"{key}:{account_id}")
        for account_id, stations in chiefs.items():
            if account_id in managers:
                continue  # a manager who is also a chief has the whole digest
            mine = Digest(community, at_risk=[(at, name) for at, name in digest.at_risk
                                              if name in stations],
                          open_cases=digest.open_cases,
                          hours_pending=hours_for(session, community, account_id, pending))
            if mine.empty():
                skipped += 1
                continue
            sent += notifications.notify(session, account_id=account_id,
                                         kind="chief_digest", params=mine.params(),
                                         link=mine.link("chief_digest"),
                                         dedupe_key=f"{key}:{account_id}")
    return {"digests": sent, "skipped": skipped}
