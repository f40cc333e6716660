"""Request helpers every view uses: the acting user's policy Actor and the client address."""
from __future__ import annotations

from flask import g, request
from flask_login import current_user

from community.auth import policy
from community.auth import services as auth_services
from community.db import primary_session


def actor() -> policy.Actor:
    """The logged-in account's Actor, loaded once per request (anonymous: no grants)."""
    if "actor" not in g:
        if current_user.is_authenticated:
            # The primary even on replica pages: a revoked role counts at once.
            g.actor = auth_services.load_actor(primary_session(), current_user.id)
        else:
            g.actor = policy.Actor(None, [])
    return g.actor


def client_ip() -> str | None:
    """The client's address as seen by the app (ProxyFix sets it behind a proxy)."""
    return request.remote_addr


def wants_json() -> bool:
    """API paths (the drop API, the collector's pickup API) and clients that prefer JSON get
    JSON errors."""
    if request.path.startswith(("/api/", "/collector/api/")):
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes[
        "text/html"
    ]
