"""The service worker that lets a phone page reload offline (the steward's scan page, the
collector's pickup page): one script, `static/js/sw.js`, served per page with its config."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

from flask import Response, current_app, url_for


def _version(script: bytes, precached: Sequence[str]) -> str:
    """Changes whenever the worker or a pre-cached file changes, so phones pick up updates."""
    digest = hashlib.sha256(script)
    static = Path(current_app.static_folder or "")
    for name in precached:
        path = static / name
        stat = path.stat() if path.exists() else None
        digest.update(f"{name}:{stat.st_mtime_ns if stat else 0}:{stat.st_size if stat else 0}"
                      .encode())
    return digest.hexdigest()[:16]


def service_worker(page_endpoint: str, precached: Sequence[str], *, prefix: str = "",
                   pages: Sequence[str] = ()) -> Response:
    """`sw.js` for the page at `page_endpoint`, pre-caching the page and the `precached`
    static files, its scope the page's folder. `prefix` names its caches, so two pages'
    workers on one phone never delete each other's; `pages` are the endpoints of other pages
    in its scope kept for offline the same way (network first)."""
    script = (Path(current_app.static_folder or "") / "js" / "sw.js").read_bytes()
    page = url_for(page_endpoint)
    config: dict[str, object] = {
        "version": _version(script, precached), "page": page,
        "precache": [page] + [url_for("static", filename=f) for f in precached]}
    if prefix:
        config["prefix"] = prefix
    if pages:
        config["pages"] = [url_for(p) for p in pages]
    body = b"self.SW_CONFIG = " + json.dumps(config).encode() + b";\n" + script
    resp = Response(body, mimetype="application/javascript")
    resp.headers["Service-Worker-Allowed"] = page.rsplit("/", 1)[0] + "/"
    # Never cached: a phone must see a new worker (and so new page assets) on its next visit.
    resp.headers["Cache-Control"] = "no-cache, no-store, must-revalidate"
    return resp
