""""How points work" for residents: the community's rule version in force, in sentences.

Generated from the same `RuleSet` the scoring uses (`points.services.current_rules`), so
the page cannot drift from the rules: a manager who publishes a new version changes the
page on its first day. Counts go through `ngettext` (English "1 point", "2 points").
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select
from sqlmodel import Session, col

from community.points import services as points_services
from community.points.models import PointsRuleSet
from community.points.rules import RuleSet
from community.waste import CATEGORY_LABELS


@dataclass(frozen=True)
class HowPointsWork:
    """The rules in force on a day, as a resident reads them."""

    version: int | None  # None: the city's defaults (no version published)
    effective_from: date | None
    earn: list[tuple[str, str]]  # (category label, "2 points") per category
    sentences: list[str]


def _points(n: int) -> str:
    return ngettext("%(num)d point", "%(num)d points", n)


def sentences(rules: RuleSet) -> list[str]:
    """The rules after the per-category points, one plain sentence each (pure; translated)."""
    out = [
        _("A drop the steward did not grade earns as a correct one.") if rules.ungraded_earns
        else _("A drop earns points only when the steward grades it correct."),
        _("Drops outside the drop-off times earn no points; they are still recorded."),
        ngettext("Your household earns at most %(num)d point a day from drops.",
                 "Your household earns at most %(num)d points a day from drops.",
                 rules.daily_cap),
        ngettext("Sort correctly on %(num)d day in a row and get a bonus of %(bonus)s; "
                 "every further block of %(num)d day earns it again.",
                 "Sort correctly on %(num)d days in a row and get a bonus of %(bonus)s; "
                 "every further block of %(num)d days earns it again.",
                 rules.streak_days, bonus=_points(rules.streak_bonus)),
        ngettext("A wrongly sorted drop earns nothing and counts as a strike. Each time "
                 "your household reaches %(num)d strike within %(days)s days, it loses "
                 "%(penalty)s; a balance never goes below zero.",
                 "A wrongly sorted drop earns nothing and counts as a strike. Each time "
                 "your household reaches %(num)d strikes within %(days)s days, "
                 "it loses %(penalty)s; a balance never goes below zero.",
                 rules.strike_limit, days=rules.strike_window_days,
                 penalty=_points(rules.strike_penalty)),
        ngettext("Points earned in a calendar year expire at the end of the following year.",
                 "Points earned in a calendar year expire %(num)d years after the end of "
                 "that year.", rules.expiry_years),
        _("Spend points on rewards; the oldest points are spent first. A steward can "
          "correct a grade; a correction adds a new entry and never rewrites your history."),
    ]
    return out


def how_points_work(session: Session, *, community_id: int, on: date) -> HowPointsWork:
    """The community's rules in force on a local day, with their version and start date."""
    rules = points_services.current_rules(session, community_id, on)
    row = session.execute(
        select(PointsRuleSet).where(col(PointsRuleSet.community_id) == community_id,
                                    col(PointsRuleSet.effective_from) <= on)
        .order_by(col(PointsRuleSet.effective_from).desc(), col(PointsRuleSet.version).desc())
        .limit(1)).scalar_one_or_none()
    earn = [(str(label), _points(rules.points.get(code, 0)))
            for code, label in CATEGORY_LABELS.items()]
    return HowPointsWork(row.version if row else None, row.effective_from if row else None,
                         earn, sentences(rules))
