"""Small helpers shared by the station page tests (each read ends its transaction)."""
from __future__ import annotations

from flask.testing import FlaskClient
from sqlmodel import Session


def read(session: Session, stmt) -> list:
    """Run a select with fresh values, then end the transaction (SQLite must not stay locked)."""
    rows = list(session.exec(stmt.execution_options(populate_existing=True)))
    session.commit()
    return rows


def english(client: FlaskClient, next_url: str = "/") -> None:
    """Switch the client's interface to English."""
    client.post("/lang", data={"lang": "en", "next": next_url})
