"""Names of the things audit entries are about, for the log's readable lines: a household
by its address, a drop as "<address> 的<category>投放", a station, an account or a reward by
its name (one query per target type on a page; reads only)."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlmodel import Session, col

from community.areas.models import Area
from community.auth.models import Account
from community.households import services as households_services
from community.households.models import Household
from community.points.models import RewardItem
from community.stations.models import Drop, Station
from community.waste import CATEGORY_LABELS

DROP_NAME = _l("the %(category)s drop of %(address)s")
ANONYMOUS_DROP = _l("an unidentified %(category)s drop")


def target_names(session: Session, targets: Iterable[tuple[str | None, int | None]]
                 ) -> dict[tuple[str, int], str]:
    """(target type, id) → the target's name, for the types that have one."""
    wanted: dict[str, set[int]] = {}
    for kind, ident in targets:
        if kind and ident is not None:
            wanted.setdefault(kind, set()).add(ident)
    out: dict[tuple[str, int], str] = {}
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
