"""The phone sign-in pages: number → code → logged in (a new number signs up a resident).

Step 1 (`/login/phone`) sends a code and keeps the number in the signed session cookie; step 2
(`/login/phone/code`) checks the code. Both answer the same whether or not the number has an
account. `/auth/dev-sms` shows the development provider's latest codes, and answers only in
demo/debug mode (`SMS_DEV_PAGE=1` with `SMS_PROVIDER=dev`).
"""
from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from community.auth import services as auth_services
from community.auth import sessions
from community.auth import views as auth_views
from community.auth.phone import services as phone_services
from community.auth.phone.codes import Limits
from community.auth.phone.forms import CodeForm, PhoneForm, ResendForm
from community.auth.phone.schemas import PhoneIn
from community.auth.services import mask_phone
from community.db import get_session, keep_on_error
from community.errors import DomainError, InvalidInput
from community.i18n import safe_next
from community.rows import pk
from community.sms import provider as sms_provider
from community.web.context import client_ip

bp = Blueprint("phone", __name__)

PHONE_KEY = "sms_phone"  # the number of step 1, in the signed session cookie
# A refused code is still stored: the try it used (and its audit entry) must count.
KEEP_ON_REFUSAL = (phone_services.CodeWrong, phone_services.TooManyTries,
                   phone_services.AccountDisabled)


def _limits() -> Limits:
    cfg = current_app.config
    return Limits(per_phone_per_day=cfg["SMS_CODES_PER_PHONE_PER_DAY"],
                  per_address_per_day=cfg["SMS_CODES_PER_ADDRESS_PER_DAY"])


def _send(phone: str) -> None:
    """Send a code to `phone` (raises the services' and the provider's refusals)."""
    phone_services.request_code(
        get_session(), data=PhoneIn(phone=phone), sender=sms_provider.sender(),
        secret=current_app.config["SECRET_KEY"], ip=client_ip(), limits=_limits(),
        tz=current_app.config["TIMEZONE"])
    session[PHONE_KEY] = phone
    flash(_("We sent a 6-digit code to %(phone)s. It is valid for 5 minutes.",
            phone=mask_phone(phone)), "info")


@bp.route("/login/phone", methods=["GET", "POST"])
def start():
    """Step 1: the mobile number; a code is sent to it."""
    if current_user.is_authenticated:
        return redirect(url_for("auth.index"))
    form = PhoneForm()
    status = 200
    if form.validate_on_submit():
        try:
            _send(form.parsed.phone)
        except DomainError as exc:
            form.phone.errors = [*form.phone.errors, str(exc.message)]
            status = exc.status
        else:
            return redirect(url_for("phone.verify", next=request.args.get("next")))
    elif request.method == "POST":
        status = 422
    return render_template("auth/phone.html", form=form), status


@bp.route("/login/phone/code", methods=["GET", "POST"])
def verify():
    """Step 2: the code; a right one logs in (or signs up) the number's account."""
    if current_user.is_authenticated:
        return redirect(url_for("auth.index"))
    phone = session.get(PHONE_KEY)
    if not phone:
        return redirect(url_for("phone.start"))
    form = CodeForm()
    status, error = 200, None
    if form.validate_on_submit():
        try:
            outcome = phone_services.verify_code(
                get_session(), phone=phone, data=form.parsed,
                secret=current_app.config["SECRET_KEY"], ip=client_ip(), limits=_limits())
        except InvalidInput:  # a number from an old cookie that no longer validates
            session.pop(PHONE_KEY, None)
            return redirect(url_for("phone.start"))
        except DomainError as exc:
            if isinstance(exc, KEEP_ON_REFUSAL):
                keep_on_error()
            if isinstance(exc, phone_services.AccountDisabled):
                error = str(exc.message)
            else:
                form.code.errors = [*form.code.errors, str(exc.message)]
            status = exc.status
        else:
            grants = auth_services.load_actor(get_session(), pk(outcome.account)).grants
            # A fresh session (new cookie content and CSRF token); the number of step 1 goes.
            sessions.start(outcome.account, staff=any(g.role != "resident" for g in grants),
                           remember=form.parsed.remember)
            # The owner proved the phone: a password storm on the account stops delaying them.
            for name in (outcome.account.phone, outcome.account.username):
                if name:
                    auth_views.login_throttle().succeeded(auth_views.login_key(name))
            if outcome.created:
                flash(_("Welcome! Your account was created. Join your household to see its "
                        "points."), "success")
                return redirect(url_for("residents.home"))
            return redirect(safe_next(request.args.get("next"), url_for("auth.index")))
    elif request.method == "POST":
        status = 422
    return render_template("auth/phone_code.html", form=form, resend=ResendForm(),
                           phone=mask_phone(phone), error=error), status


@bp.post("/login/phone/resend")
def resend():
    """Send a new code to the number of step 1 (after the cool-down)."""
    phone = session.get(PHONE_KEY)
    if not phone:
        return redirect(url_for("phone.start"))
    form = ResendForm()
    if form.validate_on_submit():
        try:
            _send(phone)
        except InvalidInput:
            session.pop(PHONE_KEY, None)
            return redirect(url_for("phone.start"))
        except DomainError as exc:
            return render_template("auth/phone_code.html", form=CodeForm(formdata=None),
                                   resend=form, phone=mask_phone(phone),
                                   error=str(exc.message)), exc.status
    return redirect(url_for("phone.verify", next=request.args.get("next")))


@bp.get("/auth/dev-sms")
def dev_sms():
    """The development provider's latest codes (demo/debug mode only; 404 otherwise)."""
    outbox = sms_provider.dev_outbox()
    if outbox is None:
        abort(404)
    resp = make_response(render_template("auth/dev_sms.html", sent=outbox.latest()))
    resp.headers["Cache-Control"] = "no-store"
    return resp
