"""The login session in Flask's signed cookie: started at login, checked on every request.

A session carries, besides Flask-Login's user id, the account's session generation at login
(`_gen`), when it logged in (`_login_at`), when it was last used (`_seen_at`), whether it is a
staff session and whether the resident asked to be remembered. The user loader calls `check`
on every request: a generation bumped since (logout, password change or reset, disabling,
removal from a household), an idle gap or an age beyond the limits ends the session.

The session is bound to the browser it was started in (`_ua`, a digest of its user agent), not
to the network address: a cookie copied into another browser ends, while a phone that moves
from Wi-Fi to mobile data (a new address) stays logged in. Flask-Login's "strong" protection
hashed both and logged stewards out at every network change, so it is off.

Limits (community/config.py): staff are logged out after SESSION_IDLE_MINUTES without activity
and SESSION_MAX_HOURS after login; residents likewise, except that a resident who ticked
"remember me" stays logged in for RESIDENT_REMEMBER_DAYS without activity (and at most
RESIDENT_MAX_DAYS after login).
"""
from __future__ import annotations

from datetime import timedelta
from hashlib import sha256
from typing import Any

from flask import current_app, g, request, session
from flask_babel import lazy_gettext as _l
from flask_login import login_user

from community import clock
from community.auth.models import Account

GENERATION, LOGIN_AT, SEEN_AT, STAFF, REMEMBER, AGENT = (
    "_gen", "_login_at", "_seen_at", "_staff", "_rem", "_ua")
# What the login page says after a session ended, by `ended_reason`.
ENDED_MESSAGES: dict[str, Any] = {
    "idle": _l("You were logged out after a period without activity. Please log in again."),
    "expired": _l("Your session reached its time limit. Please log in again."),
    "ended": _l("Your session has ended (you logged out elsewhere, or your password or "
                "access changed). Please log in again."),
    "browser": _l("For your safety, a session started in another browser cannot be used "
                  "here. Please log in again."),
}
# What survives the fresh start at login: the visitor's language choice, nothing else.
KEPT_AT_LOGIN = ("lang",)
# A request within this many seconds of the last recorded one does not rewrite the cookie.
SEEN_GRANULARITY = 60


def start(account: Account, *, staff: bool, remember: bool) -> None:
    """Log `account` in on a fresh session: a new cookie content and a new CSRF token.

    Flask's cookie session has no server-side id; clearing it drops everything the old
    cookie carried (a planted session, the old CSRF token), and Flask-WTF makes a new token.
    """
    kept = {key: session[key] for key in KEPT_AT_LOGIN if key in session}
    session.clear()
    session.update(kept)
    now = int(clock.now().timestamp())
    remembered = remember and not staff
    login_user(account, remember=False, fresh=True)
    session[GENERATION] = account.session_generation
    session[LOGIN_AT] = now
    session[SEEN_AT] = now
    session[STAFF] = staff
    session[REMEMBER] = remembered
    session[AGENT] = _agent()
    # A remembered resident's cookie outlives the browser; everyone else's ends with it.
    session.permanent = remembered


def renew(account: Account) -> None:
    """Carry on the current session under the account's new generation (after the user
    changed their own password, which ended every other session)."""
    session[GENERATION] = account.session_generation


def _agent() -> str:
    """A short digest of the browser's user agent (the cookie is signed, not encrypted)."""
    return sha256(request.headers.get("User-Agent", "").encode()).hexdigest()[:16]


def _limits(staff: bool, remember: bool) -> tuple[timedelta, timedelta]:
    """(idle limit, absolute limit) for a session."""
    config = current_app.config
    if remember and not staff:
        return (timedelta(days=config["RESIDENT_REMEMBER_DAYS"]),
                timedelta(days=config["RESIDENT_MAX_DAYS"]))
    return (timedelta(minutes=config["SESSION_IDLE_MINUTES"]),
            timedelta(hours=config["SESSION_MAX_HOURS"]))


def check(account: Account) -> bool:
    """Is this request's session still good for `account`? Ends it (and says why) if not."""
    if session.get(GENERATION) != account.session_generation or not account.active:
        return _end("ended")
    if session.get(AGENT) != _agent():  # a copied cookie, or one from before the binding
        return _end("browser")
    now = int(clock.now().timestamp())
    login_at, seen_at = session.get(LOGIN_AT), session.get(SEEN_AT)
    if not isinstance(login_at, int) or not isinstance(seen_at, int):
        return _end("ended")
    idle, absolute = _limits(bool(session.get(STAFF)), bool(session.get(REMEMBER)))
    if now - seen_at > idle.total_seconds():
        return _end("idle")
    if now - login_at > absolute.total_seconds():
        return _end("expired")
    if now - seen_at >= SEEN_GRANULARITY:
        session[SEEN_AT] = now
    return True


def _end(reason: str) -> bool:
    """Forget the session's login and remember why, for the login page's message."""
    for key in ("_user_id", "_fresh", "_id", GENERATION, LOGIN_AT, SEEN_AT, STAFF, REMEMBER,
                AGENT):
        session.pop(key, None)
    g.session_ended = reason
    return False


def ended_reason() -> str | None:
    """Why this request's session was ended ("idle", "expired", "ended", "browser"), if it
    was."""
    return g.get("session_ended")
