"""Login, logout and the landing redirect by role."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from community.auth import policy
from community.auth import services as auth_services
from community.auth.forms import LoginForm
from community.db import get_session
from community.extensions import limiter
from community.i18n import safe_next
from community.web.context import actor, client_ip

bp = Blueprint("auth", __name__)

LANDING = {
    "city_admin": "areas.tree",
    "area_admin": "households.index",
    "manager": "households.index",
    "station_chief": "residents.home",
    "steward": "residents.home",
    "resident": "residents.home",
}


def _login_key() -> str:
    """Rate-limit key for the account being tried (normalised so case and spaces don't evade it)."""
    login = (request.form.get("login") or "").strip().lower()
    return "login:" + auth_services.normalize_phone(login)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"], methods=["POST"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"], methods=["POST"],
               key_func=_login_key)
def login():
    """Show the login form; on valid credentials log in and go to the role's landing page."""
    if current_user.is_authenticated:
        return redirect(url_for("auth.index"))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        session = get_session()
        try:
            account = auth_services.authenticate(
                session, login=form.login.data, password=form.password.data, ip=client_ip()
            )
        except auth_services.LoginFailed as exc:
            session.commit()  # keep the audit entry of the failure
            error = str(exc.message)
        else:
            session.commit()
            login_user(account)
            return redirect(safe_next(request.args.get("next"), url_for("auth.index")))
    return render_template("auth/login.html", form=form, error=error), (401 if error else 200)


@bp.post("/logout")
@login_required
def logout():
    """Log out (POST with CSRF, so a link on another site cannot log a user out)."""
    logout_user()
    flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.get("/")
@login_required
def index():
    """Send each user to the page of their highest role."""
    role = policy.highest_role(actor().grants)
    return redirect(url_for(LANDING.get(role or "resident", "residents.home")))
