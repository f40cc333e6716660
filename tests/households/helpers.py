"""Small helpers shared by the household page tests.

Each read helper ends its transaction: on SQLite the fixture session's reads begin IMMEDIATE,
and an open one would lock the app's requests out until the busy timeout. Nothing here expires
the World's objects either: touching an expired one would silently begin a new transaction.
"""
from __future__ import annotations

import io

from flask.testing import FlaskClient
from sqlmodel import Session, func, select

from community.audit.models import AuditEntry
from community.auth import services as auth_services
from community.auth.policy import Actor
from community.households.models import Card, Household


def actor_of(session: Session, account) -> Actor:
    """The policy actor of an account, as the views build it."""
    actor = auth_services.load_actor(session, account.id)
    session.commit()
    return actor


def read(session: Session, stmt) -> list:
    """Run a select with fresh values for already-loaded objects, then end the transaction."""
    rows = list(session.exec(stmt.execution_options(populate_existing=True)))
    session.commit()
    return rows


def count_households(session: Session, community_id: int) -> int:
    """Households registered in a community (fresh read)."""
    n = session.exec(select(func.count()).select_from(Household)
                     .where(Household.community_id == community_id)).one()
    session.commit()
    return n


def active_cards(session: Session, community_id: int) -> int:
    """Active cards of a community's households."""
    n = session.exec(
        select(func.count()).select_from(Card).join(Household, Household.id == Card.household_id)
        .where(Household.community_id == community_id, Card.status == "active")
    ).one()
    session.commit()
    return n


def audits(session: Session, action: str) -> list[AuditEntry]:
    """Audit entries of one action, oldest first."""
    entries = list(session.exec(select(AuditEntry).where(AuditEntry.action == action)
                                .order_by(AuditEntry.id)))
    session.commit()
    return entries


def upload(client: FlaskClient, community_id: int, data: bytes, name: str = "list.csv",
           follow: bool = True):
    """POST a file to the import page; by default follow a success's redirect to the result
    page (Post/Redirect/Get: `follow=False` answers the POST's own response)."""
    return client.post("/manage/households/import",
                       data={"community_id": str(community_id), "file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data", follow_redirects=follow)


def english(client: FlaskClient, next_url: str = "/manage/households") -> None:
    """Switch the client's interface to English."""
    client.post("/lang", data={"lang": "en", "next": next_url})
