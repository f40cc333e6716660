"""Login, logout, the landing redirect by role, and account/role management for admins."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user

from community.areas.views import level_label
from community.auth import policy
from community.auth import services as auth_services
from community.auth.forms import AccountForm, GrantForm, LoginForm, PasswordResetForm
from community.auth.schemas import ROLE_LABELS
from community.db import get_session, keep_on_error
from community.errors import Conflict, InvalidInput
from community.extensions import limiter
from community.i18n import safe_next
from community.rows import pk
from community.web.context import actor, client_ip
from community.web.forms import errors_onto_form
from community.web.pagination import Page

bp = Blueprint("auth", __name__)

LANDING = {
    "city_admin": "areas.tree",
    "area_admin": "households.index",
    "manager": "households.index",
    "station_chief": "steward.scan",
    "steward": "steward.scan",
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
            account = auth_services.authenticate(session, data=form.parsed, ip=client_ip())
        except auth_services.LoginFailed as exc:
            keep_on_error()  # the 401 still stores the audit entry of the failure
            error = str(exc.message)
        else:
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
    form = PasswordResetForm()
    if form.validate_on_submit():
        session = get_session()
        try:
            auth_services.reset_password(session, actor=actor(), account_id=account_id,
                                         data=form.parsed, ip=client_ip())
        except InvalidInput as err:
            _show_error(form, err)
        else:
            flash(_("The password was reset. Tell the person the new password in person."),
                  "success")
            return redirect(url_for("auth.account_detail", account_id=account_id))
    return _render_detail(account_id, password_form=form, status=422)
