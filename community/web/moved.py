"""URLs that moved: old prefixes answer 308 Permanent Redirect to their new place.

Join links are printed on posters, phones keep bookmarks and offline queues replay requests,
so an old URL must keep working. 308 (not 301) keeps the method and the body of a POST; the
query string is kept too. The table is the one place a move is recorded.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import Flask
from werkzeug.routing import MapAdapter

# old prefix -> new prefix. A prefix matches itself and everything below it ("/me/steward"
# matches "/me/steward/1/availability", never "/me/stewards"); the longest prefix wins.
MOVED: dict[str, str] = {
    # One URL space for the steward's phone pages (scan, pickup and check-in were there already).
    "/volunteer": "/steward",  # shifts, calendar feed, join/<token>, apply
    "/me/steward/hours": "/steward/hours",
    "/me/steward": "/steward/profile",
}

# Every method: an offline queue may replay a POST against an old URL.
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]


def endpoint(old: str) -> str:
    """The endpoint name of the redirect rules of an old prefix ("moved./me/steward")."""
    return f"moved.{old}"


def _target(new: str):
    def redirect_to(adapter: MapAdapter, rest: str = "") -> str:
        # Raised while matching, before any view or hook runs (no login or CSRF on the way).
        path = new + ("/" + quote(rest, safe="!$&'()*+,/:;=@") if rest else "")
        return adapter.make_redirect_url(path, adapter.query_args)

    return redirect_to


def register(app: Flask) -> None:
    """Add the redirect rules of every moved prefix (the prefix itself and anything below it)."""
    for old, new in MOVED.items():
        options: dict[str, Any] = {"endpoint": endpoint(old), "redirect_to": _target(new),
                                   "methods": METHODS}
        app.add_url_rule(old, **options)
        app.add_url_rule(f"{old}/<path:rest>", **options)
