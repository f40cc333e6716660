"""What a form's success page shows after its redirect (Post/Redirect/Get).

A successful POST answers 303 to a GET page, so a reload never submits the form again and
the address bar shows a page, not the form's endpoint. What that page shows comes with it:
- `keep`/`take`: a small value shown ONCE, e.g. a token that is stored hashed (a device's,
  an invitation link's): kept in the signed session cookie of the account that made it
  (its own secret, never on the server in plain text) and removed when the page shows it;
- `stash`/`unstash`: a result too large for a cookie (a household import's rejected rows):
  a JSON file under <UPLOAD_DIR or instance>/results, named by a random key and readable by
  the account that made it only; files older than a day are removed when another is written.
"""
from __future__ import annotations

import json
import secrets
import time
from contextlib import suppress
from typing import Any

from flask import session

from community.web.downloads import upload_root

_SESSION_KEY = "_shown_once"
_RESULTS = "results"
_KEEP_SECONDS = 24 * 3600


def keep(kind: str, key: int | str, value: dict[str, Any]) -> None:
    """Keep `value` (JSON-able) for the page that shows it once."""
    kept = dict(session.get(_SESSION_KEY) or {})
    kept[f"{kind}:{key}"] = value
    session[_SESSION_KEY] = kept


def take(kind: str, key: int | str) -> dict[str, Any] | None:
    """The value kept for `kind` and `key`, removed from the session (None: shown already)."""
    kept = dict(session.get(_SESSION_KEY) or {})
    value = kept.pop(f"{kind}:{key}", None)
    if kept:
        session[_SESSION_KEY] = kept
    else:
        session.pop(_SESSION_KEY, None)
    return value


def stash(kind: str, account_id: int, data: dict[str, Any]) -> str:
    """Write a result for `account_id`'s next GET; returns its key (URL-safe)."""
    root = upload_root(_RESULTS)
    root.mkdir(parents=True, exist_ok=True)
    cutoff = time.time() - _KEEP_SECONDS
    for old in root.glob("*.json"):
        with suppress(OSError):  # another worker removed it meanwhile
            if old.stat().st_mtime < cutoff:
                old.unlink()
    key = secrets.token_urlsafe(16)
    body = {"kind": kind, "account_id": account_id, "data": data}
    (root / f"{key}.json").write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
    return key


def unstash(kind: str, account_id: int, key: str) -> dict[str, Any] | None:
    """A stashed result of `kind` written for `account_id` (None: unknown, expired, or
    someone else's)."""
    if not key or not all(c.isalnum() or c in "-_" for c in key) or len(key) > 64:
        return None
    try:
        body = json.loads((upload_root(_RESULTS) / f"{key}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if body.get("kind") != kind or body.get("account_id") != account_id:
        return None
    return dict(body["data"])
