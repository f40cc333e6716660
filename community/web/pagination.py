"""Offset pagination for list pages (page numbers, page size from config)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session


@dataclass
class Page:
    """One page of results plus what the template needs to draw the pager."""

    items: list[Any]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def paginate(session: Session, stmt: Any, *, page: int, per_page: int) -> Page:
    """Run `stmt` for one page; the count uses the same filters."""
    page = max(1, page)
    count = select(func.count()).select_from(stmt.order_by(None).subquery())
    total = session.execute(count).scalar_one()
    items = list(session.exec(stmt.limit(per_page).offset((page - 1) * per_page)))
    return Page(items=items, page=page, per_page=per_page, total=total)
