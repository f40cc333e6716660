"""Template filters and globals shared by all pages."""
from __future__ import annotations

from datetime import datetime

from flask import Flask, current_app, request
from flask_babel import get_locale

from community.clock import local


def register(app: Flask) -> None:
    """Install filters and context."""

    @app.template_filter("localtime")
    def _localtime(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
        if value is None:
            return ""
        return local(value, current_app.config["TIMEZONE"]).strftime(fmt)

    @app.context_processor
    def _ctx() -> dict:
        from community.auth.policy import Actor
        from community.web.context import actor

        try:
            who = actor()
        except Exception:  # noqa: BLE001 - error pages must render even when the DB is down
            who = Actor(None, [])
        return {"lang": str(get_locale()), "actor": who,
                "request_path": request.full_path.rstrip("?")}
