"""Security headers on every response, with a strict Content-Security-Policy (no inline code),
and no caching of what a signed-in user or a device sees."""
from __future__ import annotations

from flask import Flask, Response, request
from flask_login import current_user

# Pages of a signed-in user carry personal data (balances, addresses, phone numbers): no
# browser or proxy keeps them (a shared phone's back button, a community PC's cache).
PERSONAL = "private, no-store"

CSP = "; ".join([
    "default-src 'self'",
    # wasm-unsafe-eval: the barcode scanner (zxing-wasm) compiles WebAssembly.
    "script-src 'self' 'wasm-unsafe-eval'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "media-src 'self' blob:",
    "connect-src 'self'",
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])


def register(app: Flask) -> None:
    """Add the headers after each request."""

    @app.after_request
    def _headers(resp: Response) -> Response:
        resp.headers.setdefault("Content-Security-Policy", CSP)
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("X-Frame-Options", "DENY")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        resp.headers.setdefault("Permissions-Policy", "camera=(self), geolocation=(self)")
        if request.endpoint != "static" and (
                request.path.startswith("/api/") or current_user.is_authenticated):
            resp.headers.setdefault("Cache-Control", PERSONAL)
        return resp
