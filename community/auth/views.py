"""Login, logout, password changes, the landing redirect by role, and account/role
management for admins."""
from __future__ import annotations

import math

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, logout_user

from community.areas.views import level_label
from community.auth import policy, sessions
from community.auth import services as auth_services
from community.auth.forms import (
    AccountForm,
    GrantForm,
    LoginForm,
    PasswordChangeForm,
    PasswordResetForm,
)
from community.auth.schemas import ROLE_LABELS
from community.db import get_session, keep_on_error
from community.errors import Conflict, InvalidInput
from community.i18n import safe_next
from community.rows import pk
from community.web.context import actor, client_ip, wants_json
from community.web.forms import errors_onto_form
from community.web.pagination import Page

bp = Blueprint("auth", __name__)

# Each role's first screen after login (issue 19): the endpoint of the highest role's page.
# A new role adds its line here (e.g. "collector": its pickup page); a role not listed lands
# on the resident's home.
LANDING = {
    "city_admin": "dashboard.area",       # the area command view (驾驶舱)
    "area_admin": "dashboard.area",       # street and district admins: the same, their area
    "manager": "dashboard.community",     # the community's dashboard
    "station_chief": "checkin.stations",  # the stations they run (code, today's stewards)
    "collector": "collection.day",        # the day's stations to visit (收运)
    "steward": "steward.scan",
    "resident": "residents.home",
}


# Endpoints an account that must change its password may still reach.
CHANGE_EXEMPT = frozenset({"auth.password_change", "auth.logout", "i18n.switch", "static"})
# Where the SMS way in lives, if installed (the owner's way round a password storm).
SMS_LOGIN_ENDPOINTS = ("phone.start",)


def login_key(login: str) -> str:
    """Throttle key of the account being tried (normalised so case and spaces don't evade it)."""
    return auth_services.normalize_phone(login.strip().lower())


def login_throttle():
    """This app's failed-login throttle (community.auth.throttle)."""
    return current_app.extensions["community.login_throttle"]


def wait_text(seconds: int) -> str:
    """A wait in the user's language: "30 seconds", "2 minutes" (rounded up)."""
    if seconds < 60:
        return _("1 second") if seconds == 1 else _("%(num)d seconds", num=seconds)
    minutes = math.ceil(seconds / 60)
    return _("1 minute") if minutes == 1 else _("%(num)d minutes", num=minutes)


def _sms_login_url() -> str | None:
    """The SMS login page's address, when that way in is installed."""
    endpoints = {rule.endpoint for rule in current_app.url_map.iter_rules()}
    found = next((e for e in SMS_LOGIN_ENDPOINTS if e in endpoints), None)
    return url_for(found) if found else None


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Show the login form; on valid credentials log in and go to the role's landing page.

    Failed attempts are counted per account and per address; past the free ones the next
    attempt must wait (the page says how long), so guessing stalls while the owner can still
    get in after the wait, or at once by SMS code.
    """
    if current_user.is_authenticated:
        return redirect(url_for("auth.index"))
    form = LoginForm()
    error, wait, status = None, 0, 200
    if form.validate_on_submit():
        throttled = current_app.config.get("RATELIMIT_ENABLED", True)
        keys = {"account": login_key(form.parsed.login), "address": client_ip()}
        wait = login_throttle().wait(keys) if throttled else 0
        if wait:
            status = 429
        else:
            session = get_session()
            try:
                account = auth_services.authenticate(session, data=form.parsed, ip=client_ip())
            except auth_services.LoginFailed as exc:
                keep_on_error()  # the 401 still stores the audit entry of the failure
                error, status = str(exc.message), 401
                wait = login_throttle().failed(keys) if throttled else 0
            else:
                if throttled:
                    login_throttle().succeeded(keys["account"])
                role = policy.highest_role(auth_services.load_actor(session, pk(account)).grants)
                sessions.start(account, staff=role not in (None, "resident"),
                               remember=form.parsed.remember)
                if account.password_must_change:
                    return redirect(url_for("auth.password_change"))
                return redirect(safe_next(request.args.get("next"), url_for("auth.index")))
    return render_template("auth/login.html", form=form, error=error,
                           wait=wait_text(wait) if wait else None,
                           sms_url=_sms_login_url()), status


@bp.post("/logout")
@login_required
def logout():
    """Log out everywhere (POST with CSRF, so a link on another site cannot log a user out).

    The account's session generation moves on, so a copy of this cookie (or a session on
    another device) stops working too; the browser is told to drop what it stored.
    """
    auth_services.end_sessions(get_session(), current_user.id)
    logout_user()
    flash(_("You have logged out."), "info")
    resp = redirect(url_for("auth.login"))
    # Not "storage": a steward's unsent offline drops wait there for the next login.
    resp.headers["Clear-Site-Data"] = '"cache"'
    return resp


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def password_change():
    """Change one's own password: the current one, the new one twice. Other sessions end;
    this one carries on."""
    form = PasswordChangeForm()
    form.login_names = (current_user.username, current_user.phone)
    form.has_password = auth_services.has_password(current_user)
    if form.validate_on_submit():
        try:
            account = auth_services.change_password(get_session(), account_id=current_user.id,
                                                    data=form.parsed, ip=client_ip())
        except auth_services.WrongCurrentPassword as err:
            errors_onto_form(form, err, default=form.current_password)
        else:
            sessions.renew(account)
            flash(_("Your password was changed. Your other sessions have ended."), "success")
            return redirect(url_for("auth.index"))
    status = 422 if request.method == "POST" else 200
    return render_template("auth/password_change.html", form=form,
                           forced=current_user.password_must_change,
                           has_password=form.has_password), status


@bp.before_app_request
def _forced_password_change() -> ResponseReturnValue | None:
    """While an admin-set password is unchanged, every page leads to the change page."""
    if request.endpoint in CHANGE_EXEMPT or request.endpoint is None:
        return None
    if not current_user.is_authenticated or not current_user.password_must_change:
        return None
    if wants_json():
        return jsonify({"error": "password_change_required",
                        "message": _("Change your password first.")}), 403
    return redirect(url_for("auth.password_change"))


@bp.get("/")
@login_required
def index():
    """Send each user to the page of their highest role."""
    role = policy.highest_role(actor().grants)
    return redirect(url_for(LANDING.get(role or "resident", "residents.home")))


# --- Account and role management ----------------------------------------------------------

# Messages for a service's InvalidInput / Conflict, by the field it names (the input's own
# rules are worded by the input models).
INVALID = {
    "area_id": _l("This role cannot be given in this area."),
}
TAKEN = {
    "username": _l("This username is already taken."),
    "phone": _l("This phone number already has an account."),
}


@bp.app_template_global()
def role_label(role: str) -> str:
    """Translated label of a role code (manager → 社区管理员 ...)."""
    return str(ROLE_LABELS.get(role, role))


@bp.app_template_filter("mask_phone")
def _mask_phone(phone: str | None) -> str:
    return auth_services.mask_phone(phone)


def _fill_choices(form: AccountForm | GrantForm, options: auth_services.GrantOptions) -> None:
    """Offer only the roles and areas the actor may grant; each area option lists its roles."""
    form.role.choices = [("", _("Choose…"))] + [(r, role_label(r)) for r in options.roles]
    form.area_id.choices = [("", _("Choose…"), {})] + [
        (pk(a), f"{a.name} · {level_label(a.level)}",
         {"data-roles": " ".join(options.roles_by_area[pk(a)])})
        for a in options.areas
    ]


def _show_error(form: AccountForm | GrantForm | PasswordResetForm,
                err: InvalidInput | Conflict) -> None:
    """Put a service's field error next to the field it names (or on the first field)."""
    name = err.details.get("field") or ""
    messages = TAKEN if isinstance(err, Conflict) else INVALID
    errors_onto_form(form, err, default=next(iter(form)),
                     text=str(messages.get(name, err.message)))


@bp.get("/admin/accounts")
@login_required
def accounts():
    """Accounts holding a role inside the reader's scope, searched and paginated."""
    query = request.args.get("q", "").strip()
    page_no = max(1, request.args.get("page", 1, type=int) or 1)
    per_page = current_app.config["PAGE_SIZE"]
    rows, total = auth_services.list_accounts(get_session(), actor=actor(), query=query,
                                              page=page_no, per_page=per_page)
    page = Page(items=rows, page=page_no, per_page=per_page, total=total)
    return render_template("auth/accounts.html", page=page, query=query)


@bp.route("/admin/accounts/new", methods=["GET", "POST"])
@login_required
def account_new():
    """Create an account with one role in one area of the reader's scope."""
    session = get_session()
    options = auth_services.grant_options(session, actor=actor())
    form = AccountForm()
    _fill_choices(form, options)
    if form.validate_on_submit():
        try:
            account = auth_services.create_account_with_role(
                session, actor=actor(), data=form.parsed, ip=client_ip())
        except (InvalidInput, Conflict) as err:
            _show_error(form, err)
        else:
            flash(_("Account %(name)s created.", name=account.display_name), "success")
            return redirect(url_for("auth.account_detail", account_id=account.id))
    return render_template("auth/account_new.html", form=form), (
        422 if request.method == "POST" else 200)


def _render_detail(account_id: int, *, grant_form: GrantForm | None = None,
                   password_form: PasswordResetForm | None = None, status: int = 200):
    """The account page: in-scope roles, the add-role form and the password reset form."""
    session = get_session()
    row = auth_services.get_account(session, actor=actor(), account_id=account_id)
    options = auth_services.grant_options(session, actor=actor())
    grant_form = grant_form or GrantForm(formdata=None)
    _fill_choices(grant_form, options)
    password_form = password_form or PasswordResetForm(formdata=None)
    return render_template("auth/account_detail.html", row=row, grant_form=grant_form,
                           password_form=password_form, can_grant=bool(options.roles)), status


@bp.get("/admin/accounts/<int:account_id>")
@login_required
def account_detail(account_id: int):
    """One account in the reader's scope."""
    return _render_detail(account_id)


@bp.post("/admin/accounts/<int:account_id>/grants")
@login_required
def grant_add(account_id: int):
    """Give the account another role (audited as role.granted)."""
    form = GrantForm()
    if form.validate_on_submit():
        session = get_session()
        try:
            auth_services.add_role(session, actor=actor(), account_id=account_id,
                                   data=form.parsed, ip=client_ip())
        except InvalidInput as err:
            _show_error(form, err)
        else:
            flash(_("Role added."), "success")
            return redirect(url_for("auth.account_detail", account_id=account_id))
    return _render_detail(account_id, grant_form=form, status=422)


@bp.post("/admin/grants/<int:grant_id>/revoke")
@login_required
def grant_revoke(grant_id: int):
    """Take a role away (audited as role.revoked)."""
    session = get_session()
    auth_services.revoke_role(session, actor=actor(), grant_id=grant_id, ip=client_ip())
    flash(_("Role removed."), "success")
    return redirect(safe_next(request.form.get("next"), url_for("auth.accounts")))


@bp.post("/admin/accounts/<int:account_id>/password")
@login_required
def password_reset(account_id: int):
    """Set a new password for an account the reader outranks (audited)."""
    session = get_session()
    target = auth_services.get_account(session, actor=actor(), account_id=account_id).account
    form = PasswordResetForm()
    form.login_names = (target.username, target.phone)
    if form.validate_on_submit():
        try:
            auth_services.reset_password(session, actor=actor(), account_id=account_id,
                                         data=form.parsed, ip=client_ip())
        except InvalidInput as err:
            _show_error(form, err)
        else:
            flash(_("The password was reset and the account's sessions ended. Tell the person "
                    "the new password in person; they must change it when they log in."),
                  "success")
            return redirect(url_for("auth.account_detail", account_id=account_id))
    return _render_detail(account_id, password_form=form, status=422)


@bp.post("/admin/accounts/<int:account_id>/active")
@login_required
def account_active(account_id: int):
    """Disable an account (its sessions end at once) or enable it again (audited)."""
    choice = request.form.get("active")
    if choice not in ("0", "1"):
        abort(400)
    active = choice == "1"
    auth_services.set_account_active(get_session(), actor=actor(), account_id=account_id,
                                     active=active, ip=client_ip())
    flash(_("The account was enabled.") if active
          else _("The account was disabled and its sessions ended."), "success")
    return redirect(url_for("auth.account_detail", account_id=account_id))
