"""Language choice (zh default, en) and the switch endpoint.

Catalogs live in `community/translations/zh` (named `zh`, not `zh_CN`: Flask-Babel
would not find the latter) and `community/translations/en`.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    current_app,
    has_request_context,
    redirect,
    request,
    session,
)
from flask_login import current_user

from community.auth import services as auth_services
from community.db import get_session

bp = Blueprint("i18n", __name__)


def select_locale() -> str:
    """Explicit choice in this browser, else the account's saved choice, else the default (zh).

    Outside a request (CLI commands, jobs) there is no browser nor user: the default.
    """
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = session.get("lang")
    languages: tuple[str, ...] = current_app.config["LANGUAGES"]
    if chosen in languages:
        return chosen
    if current_user and current_user.is_authenticated and current_user.locale:
        return current_user.locale
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def safe_next(target: str | None, default: str = "/") -> str:
    """Only allow same-site relative redirects."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


@bp.post("/lang")
def switch():
    """Switch the interface language and go back where the user was."""
    lang = request.form.get("lang", "")
    if lang in current_app.config["LANGUAGES"]:
        session["lang"] = lang
        if current_user.is_authenticated:
            auth_services.set_locale(get_session(), account_id=current_user.id, locale=lang)
    return redirect(safe_next(request.form.get("next")))


def init_app(app: Flask) -> None:
    """Register the blueprint."""
    app.register_blueprint(bp)
