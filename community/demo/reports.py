"""Demo reports (随手拍): about one report every two or three days per community over the demo's
days, made by its residents and stewards at its stations (a few "somewhere else"), in every
state: most handled within their deadline by the station chief (realistic times: about half
the deadline, a tail beyond it), confirmed by the reporter, a few reopened once and handled
again, a few joined (+1), the latest still open, a few overdue and escalated to the street
and the district (escalated by `reports.services.escalate_overdue` at the moments the
scheduler would have run it, so the escalation rows and messages are real). 混收混运 goes to
the street and is handled by its admin where the street has one. A second run changes
nothing (a community with reports is skipped).
"""
from __future__ import annotations

import math
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context
from sqlalchemy import select
from sqlmodel import col

from community import clock
from community.areas.models import Area
from community.auth.models import RoleGrant
from community.demo.context import Demo
from community.reports import rules
from community.reports import services as reports_services
from community.reports.models import Report, ReportPlus
from community.rows import pk
from community.stations.models import Station

# Kinds and how common they are (overflowing bins lead, as in the cities' 随手拍 figures).
KIND_WEIGHTS = {"overflow": 34, "dumping": 14, "broken": 10, "missed_pickup": 12, "odour": 10,
                "no_offhours_point": 4, "mixed_collection": 6, "other": 10}
PER_DAY = 0.4  # reports per community and day
NOTES = {
    "overflow": ("厨余桶满了，盖子盖不上", "其他垃圾桶溢出来了", "晚上投放时桶已经满了"),
    "dumping": ("有人把装修垃圾堆在投放点旁边", "大件家具扔在路边", "垃圾袋丢在桶外"),
    "broken": ("洗手池的水龙头坏了", "桶盖脚踏坏了", "投放亭的灯不亮"),
    "missed_pickup": ("今天早上没有收运", "厨余桶两天没清运了",),
    "odour": ("投放点异味很重", "夏天味道太大，需要清洗"),
    "no_offhours_point": ("上夜班回来没有误时投放点",),
    "mixed_collection": ("看到收运车把厨余和其他垃圾倒在一起", "分好的垃圾被混装运走"),
    "other": ("投放点地面很脏", "指示牌被遮住了"),
}
ANSWERS = {
    "overflow": "已清运并加派一个桶", "dumping": "已清理并张贴提醒",
    "broken": "已联系维修，已修好", "missed_pickup": "已联系收运公司补收", "odour": "已冲洗消毒",
    "no_offhours_point": "已增设误时投放点", "mixed_collection": "已约谈收运公司，要求分类收运",
    "other": "已处理",
}
ELSEWHERE = ("3号楼后门", "地下车库入口", "小区北门")
REOPEN_REASONS = ("还是满的", "没有修好，还在坏", "垃圾又堆起来了")


def _placeholders() -> tuple[str, str]:
    """A before and an after photo shared by the demo's reports (written once)."""
    before, after = "demo/before.jpg", "demo/after.jpg"
    if has_app_context():
        from PIL import Image

        root = Path(current_app.config.get("UPLOAD_DIR") or current_app.instance_path) / \
            "reports"
        for name, colour in ((before, (150, 110, 60)), (after, (80, 160, 90))):
            path = root / name
            if not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                Image.new("RGB", (480, 360), colour).save(path, "JPEG", quality=70)
    return before, after


def _accounts(demo: Demo, area_id: int, role: str) -> list[int]:
    return list(demo.session.execute(
        select(col(RoleGrant.account_id)).where(col(RoleGrant.area_id) == area_id,
                                                col(RoleGrant.role) == role)
        .order_by(col(RoleGrant.account_id))).scalars())


def _handling_hours(rng, hours: int) -> float:
    """How long a handling takes: lognormal around 45 % of the deadline (a tail runs over)."""
    return max(0.2, hours * 0.45 * math.exp(rng.gauss(0, 0.55)))


def add_reports(demo: Demo) -> None:
    """60 days of reports in every state, then escalate what was left overdue."""
    session = demo.session
    now = clock.now()
    before, after = _placeholders()
    made_any = False
    for slug, community in demo.communities.items():
        if session.execute(select(col(Report.id)).where(
                col(Report.community_id) == pk(community)).limit(1)).first() is not None:
            continue
        stations = list(session.execute(select(Station).where(
            col(Station.community_id) == pk(community)).order_by(col(Station.id))).scalars())
        residents = _accounts(demo, pk(community), "resident")
        stewards = _accounts(demo, pk(community), "steward")
        managers = _accounts(demo, pk(community), "manager")
        street = session.get(Area, community.parent_id) if community.parent_id else None
        street_admins = _accounts(demo, pk(street), "area_admin") if street else []
        if not stations or not (residents or stewards):
            continue
        rng = demo.rng_for("reports", slug)
        tz = ZoneInfo(community.timezone)
        today = clock.local_today(community.timezone, now)
        for back in range(demo.days, -1, -1):
            day = today - timedelta(days=back)
            for _n in range(sum(rng.random() < PER_DAY / 2 for _ in range(2))):
                at = datetime.combine(day, time(rng.randint(7, 20), rng.randint(0, 59)),
                                      tzinfo=tz).astimezone(now.tzinfo)
                if at >= now:
                    continue
                kind = rng.choices(list(KIND_WEIGHTS), list(KIND_WEIGHTS.values()))[0]
                # Today's reports wait for their handler.
                _one(demo, community, rng, at, now, kind, stations, residents, stewards,
                     managers, street, street_admins, before, after, back == 0)
                made_any = True
        # However the draws fell: one overflowing bin left overdue two days ago (escalated)
        # and one reported an hour ago, waiting for its chief.
        extra = [now - timedelta(days=2, hours=rng.randint(0, 6)), now - timedelta(hours=1)]
        for at in extra:
            _one(demo, community, rng, at, now, "overflow", stations, residents, stewards,
                 managers, street, street_admins, before, after, True)
            made_any = True
        session.flush()
    if made_any:
        _escalate_as_it_happened(demo, now)


def _one(demo: Demo, community: Area, rng, at: datetime, now: datetime, kind: str,
         stations: list[Station], residents: list[int], stewards: list[int],
         managers: list[int], street: Area | None, street_admins: list[int], before: str,
         after: str, overdue: bool) -> None:
    session = demo.session
    by_steward = bool(stewards) and (not residents or rng.random() < 0.35)
    reporter = rng.choice(stewards if by_steward else residents)
    station = None if rng.random() < 0.1 else rng.choice(stations)
    hours = rules.DEFAULT_HOURS[kind]
    level = rules.first_level(kind)
    route = street if level == "street" and street is not None else community
    level = route.level if route.level in ("community", "street") else "community"
    due = rules.deadline(at, hours)
    chief = station.chief_id if station is not None and level == "community" else None
    if level == "street":
        handler = street_admins[0] if street_admins else None
    else:
        handler = chief or (managers[0] if managers else None)
    report = Report(
        community_id=pk(community), station_id=station.id if station else None,
        place="" if station else rng.choice(ELSEWHERE), kind=kind,
        note=rng.choice(NOTES[kind]), photo=before, reporter_id=reporter,
        source="steward" if by_steward else "resident", status="assigned" if chief else "new",
        level=level, route_area_id=pk(route), assignee_id=chief, hours=hours, created_at=at,
        due_at=due, level_due_at=due)
    took = timedelta(hours=_handling_hours(rng, hours))
    handled = at + took
    if overdue or handler is None or handled >= now:
        # Still open: the latest ones (or the few left overdue, escalated below).
        if rng.random() < 0.5 and report.status == "assigned":
            report.status, report.started_at = "in_progress", at + took / 3
    else:
        report.status, report.handled_at, report.handled_by = "handled", handled, handler
        report.handle_note, report.after_photo = ANSWERS[kind], after
        report.started_at = at + took / 3
        report.assignee_id = report.assignee_id or handler
        settled = handled + timedelta(hours=rng.uniform(2, 30))
        if settled < now and rng.random() < 0.06:
            # Reopened once (not fixed), handled again later: judged by the second handling.
            again = settled + timedelta(hours=_handling_hours(rng, hours))
            report.reopened_at, report.reopen_count = settled, 1
            report.reopen_reason = rng.choice(REOPEN_REASONS)
            if again < now:
                report.handled_at = again
                settled = again + timedelta(hours=rng.uniform(2, 30))
            else:
                report.status, report.handled_at, report.handled_by = "reopened", None, None
                report.level_due_at = rules.deadline(settled, hours)
        if report.status == "handled" and settled < now and rng.random() < 0.85:
            report.status, report.confirmed_at = "confirmed", settled
    if station is not None:
        # The same problem while one is open (in any open state, as the service joins it):
        # a +1. Open means from its making to its handling (still open: no end), and both
        # ways round, as the days and the extra reports are not drawn in time order.
        ends = report.handled_at
        fresh = session.execute(select(Report).where(
            col(Report.station_id) == station.id, col(Report.kind) == kind,
            col(Report.handled_at).is_(None) | (col(Report.handled_at) > at),
            *(() if ends is None else (col(Report.created_at) < ends,)))
            .order_by(col(Report.created_at)).limit(1)).scalar_one_or_none()
        if fresh is not None:
            if fresh.reporter_id != reporter and session.execute(select(col(ReportPlus.id)).where(
                    col(ReportPlus.report_id) == fresh.id,
                    col(ReportPlus.account_id) == reporter)).first() is None:
                session.add(ReportPlus(report_id=pk(fresh), account_id=reporter, note="",
                                       at=max(at, fresh.created_at)))
                fresh.plus_count += 1
                session.add(fresh)
                session.flush()
            return
    session.add(report)
    session.flush()
    demo.created += 1
    if station is not None and rng.random() < 0.15:
        others = [a for a in residents if a != reporter][:3]
        for n, who in enumerate(others[:rng.randint(1, 2)]):
            session.add(ReportPlus(report_id=pk(report), account_id=who, note="",
                                   at=at + timedelta(minutes=20 * (n + 1))))
            report.plus_count += 1
        session.add(report)


def _escalate_as_it_happened(demo: Demo, now: datetime) -> None:
    """Run the escalation at the moments the scheduler would have found each open report
    overdue (oldest first), so reports left open climb to the street, then the district."""
    session = demo.session
    for _round in range(50):
        due = session.execute(
            select(col(Report.level_due_at)).where(col(Report.status).in_(rules.OPEN),
                                                   col(Report.level) != "district",
                                                   col(Report.level_due_at) < now)
            .order_by(col(Report.level_due_at)).limit(1)).scalar_one_or_none()
        if due is None:
            return
        moment = min(now, due + timedelta(minutes=10))
        with clock.freeze(moment):
            reports_services.escalate_overdue(session, now=moment)
