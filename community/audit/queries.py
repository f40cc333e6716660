"""Names of the things audit entries are about, for the log's readable lines: a household
by its address, a drop as "<address> 的<category>投放", a report as "<kind>（<station>）", a
verdict spot-check as "<steward> 对 <drop> 的判定", a station, an account or a reward by
its name (one query per target type on a page; reads only)."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlmodel import Session, col

from community.areas.models import Area
from community.auth.models import Account
from community.casework.models import VerdictAudit
from community.households import services as households_services
from community.households.models import Household
from community.points.models import RewardItem
from community.reports.models import Report
from community.reports.schemas import KIND_LABELS
from community.stations.models import Drop, Station
from community.waste import CATEGORY_LABELS

DROP_NAME = _l("the %(category)s drop of %(address)s")
ANONYMOUS_DROP = _l("an unidentified %(category)s drop")
REPORT_NAME = _l("%(kind)s at %(place)s")
VERDICT_NAME = _l("%(steward)s's verdict on %(drop)s")


def target_names(session: Session, targets: Iterable[tuple[str | None, int | None]]
                 ) -> dict[tuple[str, int], str]:
    """(target type, id) → the target's name, for the types that have one."""
    wanted: dict[str, set[int]] = {}
    for kind, ident in targets:
        if kind and ident is not None:
            wanted.setdefault(kind, set()).add(ident)
    out: dict[tuple[str, int], str] = {}
    verdicts: list[Any] = []
    if ids := wanted.get("verdict_audit"):
        verdicts = list(session.execute(
            select(col(VerdictAudit.id), col(VerdictAudit.drop_id), col(Account.display_name))
            .join(Account, col(Account.id) == VerdictAudit.steward_id)
            .where(col(VerdictAudit.id).in_(ids))).all())
        # A spot-check is named by the drop it re-graded: look those drops up below.
        wanted.setdefault("drop", set()).update(drop_id for _, drop_id, _ in verdicts)
    if ids := wanted.get("report"):
        reports: Any = session.execute(
            select(col(Report.id), col(Report.kind), col(Report.place), col(Station.name))
            .outerjoin(Station, col(Station.id) == Report.station_id)
            .where(col(Report.id).in_(ids))).all()
        for report_id, kind, place, station in reports:
            out["report", report_id] = str(REPORT_NAME) % {
                "kind": str(KIND_LABELS.get(kind, kind)), "place": station or place or "—"}
    if ids := wanted.get("household"):
        for hh in session.execute(select(Household).where(col(Household.id).in_(ids))).scalars():
            out["household", int(hh.id or 0)] = households_services.address_label(hh)
    if ids := wanted.get("drop"):
        rows: Any = session.execute(
            select(col(Drop.id), col(Drop.category), Household)
            .outerjoin(Household, col(Household.id) == Drop.household_id)
            .where(col(Drop.id).in_(ids))).all()
        for drop_id, category, hh in rows:
            label = str(CATEGORY_LABELS.get(category, category))
            out["drop", drop_id] = (
                str(DROP_NAME) % {"category": label,
                                  "address": households_services.address_label(hh)}
                if hh is not None else str(ANONYMOUS_DROP) % {"category": label})
    for verdict_id, drop_id, steward in verdicts:
        if ("drop", drop_id) in out:
            out["verdict_audit", verdict_id] = str(VERDICT_NAME) % {
                "steward": steward, "drop": out["drop", drop_id]}
    named = (("area", col(Area.id), col(Area.name)),
             ("station", col(Station.id), col(Station.name)),
             ("account", col(Account.id), col(Account.display_name)),
             ("reward_item", col(RewardItem.id), col(RewardItem.name)))
    for kind, id_col, name_col in named:
        if ids := wanted.get(kind):
            for ident, text in session.execute(select(id_col, name_col)
                                               .where(id_col.in_(ids))).all():
                out[kind, ident] = str(text)
    return out
