"""What the inbox shows: one page of an account's notifications and the unread badge."""
from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, col, select

from community.inbox.models import Notification
from community.web.pagination import Page, paginate

UNREAD_CAP = 100  # the badge shows "99+" beyond this; counting further would cost for nothing


def inbox_page(session: Session, *, account_id: int, page: int = 1,
               per_page: int = 30) -> Page:
    """One page of the account's notifications, newest first (items: Notification)."""
    stmt = (select(Notification).where(col(Notification.account_id) == account_id)
            .order_by(col(Notification.id).desc()))
    return paginate(session, stmt, page=page, per_page=per_page)


def unread_count(session: Session, account_id: int) -> int:
    """Unread notifications of an account, counted up to UNREAD_CAP (one small query)."""
    capped = (select(Notification.id).where(col(Notification.account_id) == account_id,
                                           col(Notification.read_at).is_(None))
              .limit(UNREAD_CAP).subquery())
    return session.execute(select(func.count()).select_from(capped)).scalar_one()
