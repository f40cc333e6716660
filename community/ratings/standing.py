"""A community's standing: its rating of a month (the latest rated one by default) and its rank
among the rated communities of its street that month. Residents see it on their home page;
the dashboards rank with the same order.

The order: level first (star, compliant, not compliant), then the headline metric —
kitchen-waste accuracy — highest first, a missing value last. Communities with insufficient
data have no quality rating, so they are not ranked. Ties share a rank.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlmodel import Session, col

from community.areas.models import Area
from community.ratings.models import Rating
from community.ratings.schemas import LEVEL_LABELS, METRIC_LABELS
from community.rows import table_of

__all__ = ["LEVEL_LABELS", "METRIC_LABELS"]  # re-exported for the dashboards

HEADLINE = "kitchen_accuracy"
# Higher is better; "insufficient" (0) is never ranked.
LEVEL_ORDER = {"star": 3, "compliant": 2, "not_compliant": 1, "insufficient": 0}
# Metrics where a lower value is the better one.
LOWER_IS_BETTER = frozenset({"out_of_window_rate"})
MISSING = -1.0  # sorts a missing headline value after every real one (rates are ≥ 0)


def level_order_expr() -> Any:
    """SQL: the rating level as its order number (star 3 … insufficient 0)."""
    return case(*[(col(Rating.level) == level, n) for level, n in LEVEL_ORDER.items()],
                else_=0)


def metric_expr(code: str) -> Any:
    """SQL: one stored metric of the rating as a float (NULL when not available)."""
    return table_of(Rating).c.metrics[code].as_float()


def headline_expr() -> Any:
    """SQL: the headline metric with a missing value as MISSING (so it sorts last)."""
    return func.coalesce(metric_expr(HEADLINE), MISSING)


@dataclass(frozen=True)
class Standing:
    """A community's rating of one month and its rank in its street (None: not ranked)."""

    community_id: int
    month: date
    level: str
    metrics: dict[str, float | None]
    rank: int | None
    ranked: int          # rated communities of the street ranked that month
    street: str | None   # the street's name

    @property
    def level_label(self) -> str:
        """The level in the user's language."""
        return str(LEVEL_LABELS.get(self.level, self.level))

    @property
    def headline(self) -> float | None:
        """The headline metric's value (kitchen-waste accuracy)."""
        return self.metrics.get(HEADLINE)


def standing(session: Session, community_id: int, *, month: date | None = None) -> Standing | None:
    """The community's rating of `month` (or its latest) and its rank in its street."""
    stmt = select(Rating).where(col(Rating.community_id) == community_id)
    if month is not None:
        stmt = stmt.where(col(Rating.month) == month)
    rating = session.execute(stmt.order_by(col(Rating.month).desc()).limit(1)).scalar()
    if rating is None:
        return None
    community = session.get(Area, community_id)
    street = session.get(Area, community.parent_id) if community and community.parent_id \
        else None
    rank: int | None = None
    ranked = 0
    if street is not None:
        mine = LEVEL_ORDER.get(rating.level, 0)
        value = rating.metrics.get(HEADLINE)
        value = MISSING if value is None else float(value)
        order = level_order_expr()
        better = or_(order > mine, and_(order == mine, headline_expr() > value))
        ahead, ranked = session.execute(
            select(func.coalesce(func.sum(case((better, 1), else_=0)), 0), func.count())
            .join(Area, col(Area.id) == Rating.community_id)
            .where(col(Area.parent_id) == street.id, col(Rating.month) == rating.month,
                   col(Rating.level) != "insufficient")).one()
        ranked = int(ranked)
        if rating.level != "insufficient":
            rank = int(ahead) + 1
    return Standing(community_id, rating.month, rating.level, dict(rating.metrics), rank,
                    ranked, street.name if street else None)
