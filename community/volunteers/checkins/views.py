"""Check-in pages: the steward's check-in/out (phone, camera), the station code display
(tablet or the chief's phone), the chief's page with hand confirmation, the supervision log
(phone), and the managers' no-shows and shift detail (desktop).

Two blueprints: `checkin` under /steward (the people at the station) and `checkin_manage`
under /manage/checkins. The code key is derived here from the app's SECRET_KEY and passed to
the services, which never read configuration.
"""
from __future__ import annotations

import base64
import contextlib
from pathlib import Path

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Response as BaseResponse

from community.db import after_commit, get_session
from community.errors import DomainError, InvalidInput
from community.extensions import limiter
from community.households import qr
from community.i18n import safe_next
from community.images import PhotoInvalid, PhotoTooLarge
from community.volunteers.checkins import codes, queries, services
from community.volunteers.checkins.forms import SupervisionLogForm
from community.volunteers.schemas import (
    ASSIGNMENT_STATUS_LABELS,
    HOURS_STATUS_LABELS,
    INCIDENT_LABELS,
    METHOD_LABELS,
)
from community.waste import CATEGORY_LABELS, QUALITY_LABELS
from community.web.args import date_arg, int_arg
from community.web.context import actor, client_ip
from community.web.downloads import private_file, upload_root
from community.web.forms import errors_onto_form

bp = Blueprint("checkin", __name__, url_prefix="/steward")
manage_bp = Blueprint("checkin_manage", __name__, url_prefix="/manage/checkins")

NO_STORE = "no-store"
# 8 digits and two valid steps: a guess wins one time in 50 million; the limit keeps a
# script from trying more than a few hundred an hour per account.
CHECK_LIMIT = "20 per minute"
CODE_TEXT_MAX = 80


def _account_key() -> str:
    """Rate-limit key: the account (stations sit behind carrier NAT), else the address."""
    if current_user.is_authenticated:
        return f"checkin:{current_user.id}"
    return f"checkin-ip:{request.remote_addr}"


def code_key() -> bytes:
    """The station-code key, derived from the app's secret."""
    return codes.derive_key(current_app.config["SECRET_KEY"])


def photo_root() -> Path:
    """Where log photos live: <UPLOAD_DIR or instance>/supervision (next to drop photos)."""
    return upload_root("supervision")


def _labels() -> dict:
    return {"status_labels": ASSIGNMENT_STATUS_LABELS, "method_labels": METHOD_LABELS,
            "hours_labels": HOURS_STATUS_LABELS, "incident_labels": INCIDENT_LABELS,
            "category_labels": CATEGORY_LABELS, "quality_labels": QUALITY_LABELS,
            "format_digits": codes.format_digits}


def _no_store(body: str, status: int = 200) -> Response:
    resp = Response(body, status=status)
    resp.headers["Cache-Control"] = NO_STORE
    return resp


# --- The steward's check-in and check-out ------------------------------------------------

def _scanner_config(mode: str) -> dict:
    """What checkin.js needs: the scanner's .wasm and its messages in the user's language."""
    return {
        "mode": mode,
        "wasm": url_for("static", filename="vendor/zxing-wasm/zxing_reader.wasm"),
        "labels": {
            "camera_on": _("Stop camera"), "camera_off": _("Start camera"),
            "camera_error": _("The camera is not available. Type the station's code instead."),
            "scanner_loading": _("Loading the scanner…"),
            "bad_qr": _("This QR code is not a station code."),
            "bad_code": _("Enter the 8 digits shown under the station's QR code."),
            "checking": _("Checking the code…"),
        },
    }


def _render_check_page(*, error: str | None = None, status: int = 200) -> Response:
    page = queries.check_in_page(get_session(), actor=actor())
    return _no_store(render_template(
        "volunteers/checkin_page.html", page=page, error=error,
        config=_scanner_config(page.mode), **_labels()), status)


@bp.get("/check-in", endpoint="page")
@login_required
def check_page():
    """签到: the steward's shift now, the camera scanner and the 8-digit fallback."""
    return _render_check_page()


def _check(service, message) -> BaseResponse:
    """Run check-in or check-out with the posted code; a refusal re-renders the page."""
    text = request.form.get("code", "")[:CODE_TEXT_MAX]
    session = get_session()
    try:
        row = service(session, actor=actor(), key=code_key(), text=text)
    except services.CODE_REFUSALS as exc:
        return _render_check_page(error=str(exc.message), status=exc.status)
    moment = row.local(row.assignment.checked_out_at or row.assignment.checked_in_at)
    flash(message(row.station_name, f"{moment:%H:%M}"), "info")
    return redirect(url_for("checkin.page"))


@bp.post("/check-in")
@limiter.limit(CHECK_LIMIT, key_func=_account_key, methods=["POST"])
@login_required
def check_in():
    """Check in with a scanned QR text or the typed 8 digits."""
    return _check(services.check_in, lambda station, time: _(
        "Checked in at %(station)s at %(time)s.", station=station, time=time))


@bp.post("/check-out")
@limiter.limit(CHECK_LIMIT, key_func=_account_key, methods=["POST"])
@login_required
def check_out():
    """Check out the same way; the minutes are recorded for approval."""
    return _check(services.check_out, lambda station, time: _(
        "Checked out of %(station)s at %(time)s.", station=station, time=time))


# --- Station code display and the chief's page -------------------------------------------

def _code_payload(view: queries.CodeView) -> dict:
    png = qr.render_png(view.code.text, box_size=8)
    return {"station_id": view.station.id, "digits": codes.format_digits(view.code.digits),
            "text": view.code.text, "step": view.code.step, "expires_in": view.seconds_left,
            "qr": "data:image/png;base64," + base64.b64encode(png).decode()}


@bp.get("/stations/<int:station_id>/code")
@login_required
def station_code(station_id: int):
    """The station's rotating QR code, full screen, refreshed by station-code.js."""
    view = queries.station_code(get_session(), actor=actor(), station_id=station_id,
                                key=code_key())
    config = {"url": url_for("checkin.station_code_json", station_id=station_id),
              "step": codes.STEP_SECONDS,
              "labels": {"seconds": _("Changes in %(n)s s"),
                         "offline": _("Cannot reach the server: this code may be out of date."),
                         "logged_out": _("You are no longer logged in. Log in again to show "
                                         "the code.")}}
    return _no_store(render_template("volunteers/station_code.html", view=view,
                                     payload=_code_payload(view), config=config))


@bp.get("/stations/<int:station_id>/code.json")
@login_required
def station_code_json(station_id: int):
    """The current code as JSON: QR image, digits and seconds until it changes."""
    view = queries.station_code(get_session(), actor=actor(), station_id=station_id,
                                key=code_key())
    resp = jsonify(_code_payload(view))
    resp.headers["Cache-Control"] = NO_STORE
    return resp


@bp.get("/stations")
@login_required
def stations():
    """The stations whose code and attendance the actor runs (chief, or manager)."""
    data = queries.runnable_stations(get_session(), actor=actor(),
                                     community_id=int_arg("community_id"))
    return render_template("volunteers/checkin_stations.html", data=data)


@bp.get("/stations/<int:station_id>")
@login_required
def chief(station_id: int):
    """The chief's page: today's shifts of the station, who is in, confirm by hand."""
    data = queries.station_today(get_session(), actor=actor(), station_id=station_id)
    return _no_store(render_template("volunteers/checkin_chief.html", data=data, **_labels()))


@bp.post("/assignments/<int:assignment_id>/confirm")
@login_required
def confirm(assignment_id: int):
    """Confirm by hand that the steward is at the station (instead of the code)."""
    session = get_session()
    back = safe_next(request.form.get("next"), url_for("checkin.stations"))
    try:
        row = services.confirm_presence(session, actor=actor(), assignment_id=assignment_id,
                                        ip=client_ip())
    except (services.ConfirmNotNow, services.AlreadyCheckedIn, services.ShiftClosed) as exc:
        flash(str(exc.message), "error")
        return redirect(back)
    flash(_("Presence confirmed at %(time)s.",
            time=f"{row.local(row.assignment.checked_in_at):%H:%M}"), "info")
    return redirect(back)


# --- Supervision log ---------------------------------------------------------------------

LOG_REFUSALS = (InvalidInput, PhotoInvalid, PhotoTooLarge, services.LogLocked,
                services.LogNotOpen)


def _show_log_error(form: SupervisionLogForm, exc: DomainError) -> None:
    """Put a refusal next to the field it concerns, or flash it."""
    if isinstance(exc, PhotoInvalid | PhotoTooLarge | services.TooManyPhotos):
        form.photos.errors = [*form.photos.errors, str(exc.message)]
        return
    if type(exc) is not InvalidInput or not errors_onto_form(form, exc):
        flash(str(exc.message), "error")


def _fill(form: SupervisionLogForm, log) -> None:
    if log is None:
        return
    form.residents_guided.data = log.residents_guided
    form.drops_corrected.data = log.drops_corrected
    for code in INCIDENT_LABELS:
        getattr(form, f"incident_{code}").data = log.incidents.get(code, 0)
    form.note.data = log.note


@bp.route("/assignments/<int:assignment_id>/log", methods=["GET", "POST"])
@login_required
def log(assignment_id: int):
    """The steward's log of a shift (editable until the hours are approved); others read it."""
    session = get_session()
    form = SupervisionLogForm()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            uploads = [f.read() for f in request.files.getlist("photos")
                       if isinstance(f, FileStorage) and f.filename]
            try:
                saved = services.save_log(session, actor=actor(), assignment_id=assignment_id,
                                          data=form.parsed, photos=uploads,
                                          photo_dir=photo_root())
            except LOG_REFUSALS as exc:
                _show_log_error(form, exc)
                status = exc.status
            else:
                root, removed = photo_root(), list(saved.removed)

                def forget_removed_photos() -> None:
                    for relative in removed:  # only once the log is saved for good
                        with contextlib.suppress(OSError):  # already gone: nothing to clean
                            (root / relative).unlink()

                after_commit(forget_removed_photos)
                flash(_("Log saved."), "info")
                return redirect(url_for("checkin.log", assignment_id=assignment_id))
        else:
            status = 422
    page = queries.log_page(session, actor=actor(), assignment_id=assignment_id)
    if request.method == "GET":
        _fill(form, page.ctx.log)
    return _no_store(render_template("volunteers/log.html", page=page, form=form, **_labels()),
                     status)


@bp.get("/assignments/<int:assignment_id>/log/photos/<name>")
@login_required
def log_photo(assignment_id: int, name: str):
    """One photo of a log, for its steward and the community's chiefs and managers."""
    path = queries.log_photo(get_session(), actor=actor(), assignment_id=assignment_id,
                             name=name)
    return private_file("supervision", path)


# --- Managers ----------------------------------------------------------------------------

@manage_bp.get("/no-shows")
@login_required
def no_shows():
    """A community's no-shows for one week, optionally one station."""
    data = queries.list_no_shows(
        get_session(), actor=actor(), community_id=int_arg("community_id"),
        week=date_arg("week"), station_id=int_arg("station_id"),
        page=int_arg("page") or 1, per_page=current_app.config["PAGE_SIZE"])
    return render_template("volunteers/checkin_no_shows.html", data=data, **_labels())


@manage_bp.get("/shifts/<int:shift_id>")
@login_required
def shift(shift_id: int):
    """A shift: its stewards' actual times and methods, their logs and linked drops."""
    data = queries.shift_detail(get_session(), actor=actor(), shift_id=shift_id)
    return render_template("volunteers/checkin_shift.html", data=data, **_labels())
