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
    # Flask's documented way to add middleware; mypy forbids assigning to a method.
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1)  # type: ignore[method-assign]

    _init_extensions(app)
    from community import cli, db, i18n
    from community.web import errors, filters, security

    db.init_app(app)
    i18n.init_app(app)
    _register_blueprints(app)
    errors.register(app)
    security.register(app)
    filters.register(app)
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
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in first.")
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def _load(user_id: str):
        from sqlalchemy.exc import SQLAlchemyError

        from community.auth.models import Account
        from community.db import get_session

        try:
            account = get_session().get(Account, int(user_id))
        except SQLAlchemyError:  # e.g. schema not migrated: show the error page, not a crash
            return None
        return account if account and account.active else None


def _register_blueprints(app: Flask) -> None:
    from community.areas.views import bp as areas_bp
    from community.audit.views import bp as audit_bp
    from community.auth.views import bp as auth_bp
    from community.households.views import bp as households_bp
    from community.points.views import bp as points_bp
    from community.residents.views import admin_bp as residents_admin_bp
    from community.residents.views import bp as residents_bp
    from community.stations.manage.views import bp as stations_bp

    for bp in (auth_bp, areas_bp, audit_bp, households_bp, residents_bp, residents_admin_bp,
               stations_bp, points_bp):
        app.register_blueprint(bp)
    from community.stations.views import bp as steward_bp

    app.register_blueprint(steward_bp)
    from community.scheduler.views import bp as jobs_bp

    app.register_blueprint(jobs_bp)
    from community.stations.api import bp as api_bp

    app.register_blueprint(api_bp)
    from community.points.boards.views import bp as board_bp
    from community.points.boards.views import resident_bp as resident_board_bp

    app.register_blueprint(board_bp)
    app.register_blueprint(resident_board_bp)
    from community.points.rewards.views import bp as rewards_bp
    from community.points.rewards.views import pickup_bp
    from community.points.rewards.views import resident_bp as resident_rewards_bp

    app.register_blueprint(rewards_bp)
    app.register_blueprint(pickup_bp)
    app.register_blueprint(resident_rewards_bp)
    from community.volunteers.checkins import views as checkin_views
    from community.volunteers.hours import views as hours_views
    from community.volunteers.inbox import views as inbox_views
    from community.volunteers.shifts import views as shift_views
    from community.volunteers.stewards import views as steward_views

    for bp in (steward_views.bp, steward_views.me_bp, inbox_views.bp,
               hours_views.bp, hours_views.me_bp, hours_views.public_bp,
               shift_views.bp, shift_views.manage_bp,
               checkin_views.bp, checkin_views.manage_bp):
        app.register_blueprint(bp)
    from community.ratings.views import bp as ratings_bp

    app.register_blueprint(ratings_bp)
    from community.dashboard.views import bp as dashboard_bp

    app.register_blueprint(dashboard_bp)
