"""Privacy at the edges: signed-in pages and API answers are never cached, and database
errors never carry the values they were given (issue 14, part 8)."""
from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, StatementError
from sqlmodel import Session

from tests import builders


def test_signed_in_pages_and_the_api_are_not_cached(client, session: Session,
                                                    world: builders.World) -> None:
    # Before signing in: the login page and static files may be cached as usual.
    assert "no-store" not in client.get("/login").headers.get("Cache-Control", "")
    assert "no-store" not in client.get("/static/css/app.css").headers.get("Cache-Control", "")
    builders.login(client, world.manager_a)
    for url in ("/manage/households", "/dashboard/community", "/api/v1/stations"):
        resp = client.get(url, follow_redirects=True)
        assert resp.status_code == 200, url
        assert resp.headers["Cache-Control"] == "private, no-store", url
    static = client.get("/static/css/app.css")
    assert "no-store" not in static.headers.get("Cache-Control", "")


def test_database_errors_do_not_carry_parameter_values(session: Session) -> None:
    secret = "13912345678-secret-value"
    with pytest.raises((DBAPIError, StatementError)) as err:
        session.execute(text("SELECT * FROM no_such_table WHERE x = :x"), {"x": secret})
    session.rollback()
    assert secret not in str(err.value)
    assert "hidden due to hide_parameters" in str(err.value)
