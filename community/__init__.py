"""社区垃圾分类参与平台 — community garbage-sorting platform (三定一督).

`create_app` wires config → extensions → db → i18n → blueprints → errors → cli,
and does no database work (pre-fork servers would share connections).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Application factory."""
    app = Flask(
        __name__,
        instance_path=str(ROOT / "instance"),
        static_folder=str(ROOT / "static"),
        template_folder=str(ROOT / "templates"),
    )
    from community import config

    app.config.from_mapping(config.load(Path(app.instance_path)))
    if test_config:
        app.config.from_mapping(test_config)
    proxies = int(app.config.get("TRUSTED_PROXIES", 0))
    if proxies > 0:
        # Only then is X-Forwarded-For believed: without a proxy of ours in front, anyone can
        # send it (and pick the address the login throttle counts). Flask's documented way
        # to add middleware; mypy forbids assigning to a method.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies)

    _init_extensions(app)
    from community import cli, db, i18n
    from community.sms import provider as sms_provider
    from community.web import bounds, errors, filters, moved, nav, security

    bounds.install_converters(app)  # before the blueprints add their rules
    db.init_app(app)
    i18n.init_app(app)
    sms_provider.init_app(app)
    _register_blueprints(app)
    _register_duty()
    moved.register(app)
    errors.register(app)
    bounds.register(app)
    security.register(app)
    filters.register(app)
    nav.register(app)
    cli.register(app)
    return app


def _init_extensions(app: Flask) -> None:
    from flask_babel import lazy_gettext as _l

    from community.extensions import babel, csrf, limiter, login_manager
    from community.i18n import select_locale

    babel.init_app(app, locale_selector=select_locale,
                   default_translation_directories=str(Path(__file__).parent / "translations"))
    csrf.init_app(app)
    limiter.init_app(app)
    _init_login_throttle(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in first.")
    # Flask-Login's own protection hashes the client address with the user agent: a phone
    # moving from Wi-Fi to mobile data got a new address and was logged out mid-shift.
    # `auth.sessions.check` binds the session to the browser (user agent) instead.
    login_manager.session_protection = None

    @login_manager.user_loader
    def _load(user_id: str):
        from sqlalchemy.exc import SQLAlchemyError

        from community.auth import sessions
        from community.auth.models import Account
        from community.db import primary_session
        from community.web.errors import is_busy, is_outage

        try:  # the primary even on replica pages: a logout or a disabling counts at once
            account = primary_session().get(Account, int(user_id))
        except SQLAlchemyError as err:  # e.g. schema not migrated: show the error page
            if is_outage(err) or is_busy(err):
                raise  # the database is down or busy: 503, not "please log in"
            return None
        if account is None or not sessions.check(account):
            return None
        return account

    @login_manager.unauthorized_handler
    def _unauthorized():
        """Pages send the visitor to the login page (saying why a session ended); JSON
        clients get a 401."""
        from flask import abort, flash, redirect, request, url_for

        from community.auth import sessions
        from community.web.context import wants_json

        if wants_json():
            abort(401)
        flash(str(sessions.ENDED_MESSAGES.get(sessions.ended_reason() or "",
                                              login_manager.login_message)), "info")
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def _init_login_throttle(app: Flask) -> None:
    """The failed-login counters, in the storage RATELIMIT_STORAGE_URI names."""
    from community.auth.throttle import LoginThrottle, Rule

    config = app.config
    uri = config["RATELIMIT_STORAGE_URI"]
    delay = {"base": config["LOGIN_DELAY_SECONDS"], "cap": config["LOGIN_DELAY_MAX_SECONDS"],
             "window": config["LOGIN_FAILURE_WINDOW_SECONDS"]}
    app.extensions["community.login_throttle"] = LoginThrottle.from_uri(
        uri, prefix=f"{config['RATELIMIT_KEY_PREFIX']}:",
        account=Rule(free=config["LOGIN_FREE_FAILURES_PER_ACCOUNT"], **delay),
        address=Rule(free=config["LOGIN_FREE_FAILURES_PER_ADDRESS"], **delay),
        # Said by the first login a worker serves (not by every CLI command).
        local_warning=uri.startswith("memory://") and not (app.debug or app.testing))


def _register_duty() -> None:
    """Stewards record drops only on a checked-in shift: stations asks volunteers (above it)."""
    from community.stations import duty
    from community.volunteers.checkins import queries as checkins_queries

    duty.register(checkins_queries.duty_posts, checkins_queries.shift_station)


def _register_blueprints(app: Flask) -> None:
    """Every blueprint, registered one way (views are imported here, never at import time)."""
    from community.areas import views as areas
    from community.audit import views as audit
    from community.auth import views as auth
    from community.auth.phone import views as phone
    from community.casework import views as casework
    from community.collection import views as collection
    from community.dashboard import views as dashboard
    from community.households import views as households
    from community.inbox import views as inbox
    from community.points import views as points
    from community.points.boards import views as boards
    from community.points.rewards import views as rewards
    from community.ratings import views as ratings
    from community.reports import views as reports
    from community.residents import views as residents
    from community.scheduler import views as jobs
    from community.stations import api
    from community.stations import views as stations
    from community.stations.appeals import views as appeals
    from community.stations.manage import views as manage_stations
    from community.volunteers.checkins import views as checkins
    from community.volunteers.hours import views as hours
    from community.volunteers.shifts import views as shifts
    from community.volunteers.stewards import views as stewards
    from community.volunteers.wallet import views as wallet
    from community.web import icons

    for bp in (auth.bp, areas.bp, audit.bp, households.bp, residents.bp, residents.admin_bp,
               manage_stations.bp, points.bp, stations.bp, jobs.bp, api.bp, phone.bp, icons.bp,
               boards.bp, boards.resident_bp, rewards.bp, rewards.pickup_bp, rewards.resident_bp,
               stewards.bp, stewards.me_bp, inbox.bp, hours.bp, hours.me_bp, hours.public_bp,
               shifts.bp, shifts.manage_bp, checkins.bp, checkins.manage_bp,
               ratings.bp, dashboard.bp, casework.bp, appeals.bp, wallet.bp,
               reports.bp, collection.bp):
        app.register_blueprint(bp)
