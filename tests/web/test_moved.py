"""Old URLs of moved pages answer 308 to the same place under the new prefix (posters, bookmarks
and offline queues keep working), with the method, the body and the query string kept."""
from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from community.web import moved

# (old URL, where it must lead): every prefix of the table, itself and below it.
CASES = [
    ("/volunteer/shifts", "/steward/shifts"),
    ("/volunteer/shifts/open?week=2", "/steward/shifts/open?week=2"),
    ("/volunteer/calendar/abc123.ics", "/steward/calendar/abc123.ics"),
    ("/volunteer/join/tok-EN_9", "/steward/join/tok-EN_9"),
    ("/volunteer/apply", "/steward/apply"),
    ("/volunteer", "/steward"),
    ("/me/steward", "/steward/profile"),
    ("/me/steward/4/availability/0/delete", "/steward/profile/4/availability/0/delete"),
    ("/me/steward/hours", "/steward/hours"),
    ("/me/steward/hours/certificate.pdf?day_from=2026-10-01&steward_id=3",
     "/steward/hours/certificate.pdf?day_from=2026-10-01&steward_id=3"),
]


@pytest.mark.parametrize(("old", "new"), CASES)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_old_url_redirects_permanently(client: FlaskClient, old: str, new: str,
                                       method: str) -> None:
    resp = client.open(old, method=method, data={"x": "1"} if method == "POST" else None)
    assert resp.status_code == 308
    assert resp.headers["Location"] in (new, f"http://localhost{new}")


def test_every_prefix_has_cases() -> None:
    """A prefix added to the table without a case here fails."""
    for old in moved.MOVED:
        assert any(url.split("?")[0] == old for url, _ in CASES), old


@pytest.mark.parametrize("old", sorted(moved.MOVED))
def test_new_place_exists(app: Flask, old: str) -> None:
    """Each new prefix has pages (a move to nowhere would redirect to a 404)."""
    new = moved.MOVED[old]
    assert any(r.rule.startswith(new + "/") or r.rule == new
               for r in app.url_map.iter_rules() if not r.endpoint.startswith("moved."))


def test_lookalike_paths_are_not_moved(client: FlaskClient) -> None:
    assert client.get("/me/stewardship").status_code == 404
    assert client.get("/volunteers").status_code == 404


def test_redirect_follows_to_the_page(client: FlaskClient) -> None:
    """Logged out, the old join link ends on the login form via the new URL."""
    resp = client.get("/volunteer/join/some-token")
    assert resp.status_code == 308
    nxt = client.get(resp.headers["Location"])
    assert nxt.status_code == 302
    assert "/login" in nxt.headers["Location"]
