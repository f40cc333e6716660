"""Hours pages: the manager's approval list, correction page, hours report with exports and
certificates (desktop, /manage/volunteers/hours); the steward's own hours and points
(phone, /steward/hours); the public certificate check (/verify/hours/<token>).

Three blueprints: `hours` (managers, steward:manage), `my_hours` (the logged-in steward's
own records, no one else's id is accepted) and `hours_public` (no login: it shows only what
a signed token names, recomputed from the database, with the name masked).
"""
from __future__ import annotations

from datetime import date

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from community import clock
from community.db import get_session, writes
from community.errors import InvalidInput, NotFound
from community.i18n import safe_next
from community.volunteers.hours import certificate, exports, queries, services
from community.volunteers.hours import rules as hours_rules
from community.volunteers.hours.forms import (
    CHECK_METHOD_LABELS,
    HOURS_STATUS_LABELS,
    STEWARD_STATUS_LABELS,
    ApproveForm,
)
from community.volunteers.hours.schemas import BulkApproveIn
from community.web import downloads
from community.web.args import date_arg, int_arg
from community.web.context import actor, client_ip
from community.web.forms import errors_onto_form

bp = Blueprint("hours", __name__, url_prefix="/manage/volunteers/hours")
me_bp = Blueprint("my_hours", __name__, url_prefix="/steward/hours")
public_bp = Blueprint("hours_public", __name__)

NO_STORE = "no-store"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _local(moment, tz: str, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A UTC moment as local time of the community's zone (pages show local times)."""
    return clock.local(moment, tz).strftime(fmt) if moment else ""


def _labels() -> dict:
    return {"local": _local, "fmt_hours": hours_rules.format_hours,
            "hours_status_labels": HOURS_STATUS_LABELS,
            "steward_status_labels": STEWARD_STATUS_LABELS,
            "check_method_labels": CHECK_METHOD_LABELS}


def _secret() -> str:
    return current_app.config["SECRET_KEY"]


def _pdf(data: queries.CertificateData) -> Response:
    """The certificate PDF of `data`, its QR pointing at this site's verification page."""
    token = certificate.sign_claim(_secret(), certificate.Claim(data.steward_id, data.day_from,
                                                                data.day_to))
    cert = certificate.Certificate(
        name=data.name, community=data.community, day_from=data.day_from, day_to=data.day_to,
        shifts=[certificate.CertificateShift(d, s, m) for d, s, m in data.shifts],
        total_minutes=data.total_minutes, issued_on=data.issued_on,
        verify_url=url_for("hours_public.verify", token=token, _external=True))
    resp = Response(certificate.render_certificate(cert), mimetype="application/pdf")
    name = f"hours-{data.steward_id}-{data.day_from.isoformat()}-{data.day_to.isoformat()}.pdf"
    resp.headers["Content-Disposition"] = f"inline; filename={name}"
    resp.headers["Cache-Control"] = NO_STORE
    return resp


# --- Manager: approval ----------------------------------------------------------------------

@bp.get("")
@login_required
def pending():
    """A community's hours waiting for approval, oldest shift first, with bulk approval."""
    data = queries.pending_hours(get_session(), actor=actor(), community_id=int_arg("community_id"),
                                 page=int_arg("page") or 1,
                                 per_page=current_app.config["PAGE_SIZE"])
    return render_template("volunteers/hours_pending.html", data=data, **_labels())


def _render_detail(assignment_id: int, form: ApproveForm | None = None, code: int = 200):
    row, community = queries.assignment_hours(get_session(), actor=actor(),
                                              assignment_id=assignment_id)
    form = form or ApproveForm(formdata=None)
    return render_template("volunteers/hours_detail.html", row=row, community=community,
                           form=form, **_labels()), code


@bp.get("/<int:assignment_id>")
@login_required
def detail(assignment_id: int):
    """One assignment's hours: approve as recorded, or correct the minutes with a reason."""
    return _render_detail(assignment_id)


@bp.post("/<int:assignment_id>/approve")
@login_required
def approve(assignment_id: int):
    """Approve one assignment's hours (minutes empty: as recorded) and credit the points."""
    session = get_session()
    form = ApproveForm()
    if form.validate_on_submit():
        try:
            done = services.approve_hours(session, actor=actor(), assignment_id=assignment_id,
                                          data=form.parsed, ip=client_ip())
        except (services.HoursAlreadyApproved, services.HoursNotPending) as exc:
            flash(str(exc.message), "error")
            return _render_detail(assignment_id, code=exc.status)
        except InvalidInput as exc:
            errors_onto_form(form, exc, default=form.minutes)
        else:
            flash(_("Approved %(hours)s hours; %(points)s points credited to the steward.",
                    hours=hours_rules.format_hours(done.minutes), points=done.points), "info")
            return redirect(safe_next(request.form.get("next"),
                                      url_for("hours.detail", assignment_id=assignment_id)))
    return _render_detail(assignment_id, form, 422)


@bp.post("/approve")
@login_required
def approve_many():
    """Approve the selected assignments' hours as recorded, in one transaction."""
    session = get_session()
    community_id = request.form.get("community_id", type=int)
    if community_id is None:
        raise NotFound()
    ids = [int(x) for x in request.form.getlist("ids") if x.isdigit()]
    back = url_for("hours.pending", community_id=community_id)
    if not ids:
        queries.pending_hours(session, actor=actor(), community_id=community_id)  # authorize
        flash(_("Select at least one shift to approve."), "warning")
        return redirect(back)
    result = services.approve_many(session, actor=actor(), community_id=community_id,
                                   data=BulkApproveIn.parse(ids=ids), ip=client_ip())
    flash(_("%(n)s shifts approved; %(points)s points credited.", n=len(result.approved),
            points=result.points), "info")
    if result.skipped:
        flash(_("%(n)s selected shifts were skipped: already approved or without recorded "
                "minutes.", n=len(result.skipped)), "warning")
    return redirect(back)


# --- Manager: report, exports, certificates -------------------------------------------------

def _report_period() -> tuple[date | None, date | None]:
    """The period from ?month=YYYY-MM, else ?day_from&day_to, else the current month."""
    month = hours_rules.parse_month(request.args.get("month"))
    if month:
        return month
    first, last = date_arg("day_from"), date_arg("day_to")
    if first is None and last is None:
        return queries.default_period(get_session(), actor=actor(),
                                      community_id=int_arg("community_id"))
    return first, last


@bp.get("/report")
@login_required
def report():
    """Per steward for a month or period: shifts, no-shows, approved and pending hours, points."""
    session = get_session()
    first, last = _report_period()
    try:
        data = queries.hours_report(session, actor=actor(), community_id=int_arg("community_id"),
                                    day_from=first, day_to=last)
    except queries.PeriodInvalid as exc:
        flash(str(exc.message), "error")
        first, last = queries.default_period(session, actor=actor(),
                                             community_id=int_arg("community_id"))
        data = queries.hours_report(session, actor=actor(), community_id=int_arg("community_id"),
                                    day_from=first, day_to=last)
    return render_template("volunteers/hours_report.html", data=data, **_labels())


def _export(fmt: str) -> queries.HoursReport:
    session = get_session()
    first, last = _report_period()
    data = services.export_report(session, actor=actor(), community_id=int_arg("community_id"),
                                  day_from=first, day_to=last, fmt=fmt, ip=client_ip())
    return data


def _filename(data: queries.HoursReport, ext: str) -> str:
    return (f"steward-hours-{data.community.id}-{data.day_from.isoformat()}-"
            f"{data.day_to.isoformat()}.{ext}")


@bp.get("/report.csv")
@login_required
@writes  # its audit entry
def report_csv():
    """The hours report as CSV (utf-8-sig for Excel)."""
    data = _export("csv")
    return downloads.csv_file(exports.report_csv(data), _filename(data, "csv"))


@bp.get("/report.xlsx")
@login_required
@writes  # its audit entry
def report_xlsx():
    """The hours report as XLSX."""
    data = _export("xlsx")
    return downloads.xlsx_file(lambda out: exports.write_report_xlsx(data, out),
                               _filename(data, "xlsx"))


@bp.get("/stewards/<int:steward_id>/certificate.pdf")
@login_required
def certificate_pdf(steward_id: int):
    """A steward's certificate of approved hours for ?day_from&day_to (PDF with a QR)."""
    data = queries.steward_certificate(get_session(), actor=actor(), steward_id=steward_id,
                                       day_from=date_arg("day_from"), day_to=date_arg("day_to"))
    return _pdf(data)


# --- The steward's own page -----------------------------------------------------------------

@me_bp.get("")
@login_required
def index():
    """My hours this month, this year and in all, pending hours, my points (积分银行)."""
    data = queries.my_hours(get_session(), account_id=current_user.id,
                            steward_id=int_arg("steward_id"),
                            before=request.args.get("before", "")[:40] or None)
    return render_template("volunteers/hours_mine.html", data=data, **_labels())


@me_bp.get("/certificate.pdf")
@login_required
def certificate_mine():
    """My certificate of approved hours for ?day_from&day_to (PDF with a QR)."""
    session = get_session()
    try:
        data = queries.my_certificate(session, account_id=current_user.id,
                                      steward_id=int_arg("steward_id"),
                                      day_from=date_arg("day_from"), day_to=date_arg("day_to"))
    except queries.PeriodInvalid as exc:
        flash(str(exc.message), "error")
        return redirect(url_for("my_hours.index", steward_id=int_arg("steward_id")))
    return _pdf(data)


# --- The public check -----------------------------------------------------------------------

@public_bp.get("/verify/hours/<token>")
def verify(token: str):
    """Check a certificate: the community, a masked name, the period and the approved hours
    recomputed now; a forged or edited token gets a clear "not valid"."""
    claim = certificate.read_claim(_secret(), token[:500])
    result = None
    if claim is not None:
        result = queries.verify_certificate(get_session(), steward_id=claim.steward_id,
                                            day_from=claim.day_from, day_to=claim.day_to)
    resp = Response(render_template("volunteers/verify_hours.html", result=result,
                                    fmt_hours=hours_rules.format_hours),
                    status=200 if result else 404)
    resp.headers["Cache-Control"] = NO_STORE
    return resp
