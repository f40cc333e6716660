"""What the inbox shows: one page of an account's notifications and the unread badge."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, func, or_
from sqlmodel import Session, col, select

from community import clock
from community.inbox.models import Notification
from community.web.pagination import Page, paginate


def visible(now: datetime) -> ColumnElement[bool]:
    """Notifications shown by `now` (not held back any longer: `Notification.visible_after`)."""
    return or_(col(Notification.visible_after).is_(None),
               col(Notification.visible_after) <= now)


UNREAD_CAP = 100  # the badge shows "99+" beyond this; counting further would cost for nothing


def inbox_page(session: Session, *, account_id: int, page: int = 1,
               per_page: int = 30, now: datetime | None = None) -> Page:
    """One page of the account's notifications shown by now (not held back), newest first
    (items: Notification)."""
    stmt = (select(Notification).where(col(Notification.account_id) == account_id,
                                       visible(now or clock.now()))
            .order_by(col(Notification.id).desc()))
    return paginate(session, stmt, page=page, per_page=per_page)


def unread_count(session: Session, account_id: int, now: datetime | None = None) -> int:
    """Unread notifications of an account shown by now, counted up to UNREAD_CAP (one small
    query)."""
    capped = (select(Notification.id).where(col(Notification.account_id) == account_id,
                                           col(Notification.read_at).is_(None),
                                           visible(now or clock.now()))
              .limit(UNREAD_CAP).subquery())
    return session.execute(select(func.count()).select_from(capped)).scalar_one()
