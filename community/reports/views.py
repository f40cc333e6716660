"""Report pages under /reports: a resident's or steward's report from the phone (camera
capture), "my reports" with the answer and confirm / reopen, one report (its handler adds a
note and an after-photo), the handlers' board (chiefs and managers), the street and district
overdue list, and the city's deadlines.

Every read goes through `reports.queries`, every write through `reports.services`; each
route checks its scope there (another community's report is not found, a foreign manager or
resident is refused).
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlmodel import Session
from werkzeug.datastructures import FileStorage

from community import clock
from community.areas import services as areas_services
from community.areas.models import Area
from community.audit import schemas as audit_schemas
from community.audit.models import AuditEntry
from community.auth import policy
from community.db import get_session
from community.errors import DomainError, Forbidden, NotFound
from community.inbox import texts as inbox_texts
from community.inbox.models import Notification
from community.reports import queries, rules, services
from community.reports.forms import (
    ELSEWHERE,
    DeadlinesForm,
    HandleForm,
    ReopenForm,
    ReportForm,
    photo_given,
)
from community.reports.schemas import KIND_LABELS, LEVEL_LABELS, SOURCE_LABELS, STATUS_LABELS
from community.rows import pk
from community.web.args import int_arg
from community.web.context import actor, client_ip
from community.web.downloads import private_file, upload_root
from community.web.forms import errors_onto_form

bp = Blueprint("reports", __name__, url_prefix="/reports")


def _word_kind(session: Session, notes: list[Notification]) -> dict[int, dict[str, Any]]:
    """The inbox shows a report's kind as its label in the reader's language."""
    return {pk(n): {"kind": str(KIND_LABELS.get(str(n.params.get("kind")), "?"))}
            for n in notes}


inbox_texts.register_resolver(
    ["report_assigned", "report_escalated", "report_handled", "report_reopened"], _word_kind)


def _audit_photo(entry: AuditEntry) -> str | None:
    """Where the photo a report's audit entry names opens (its route decides who sees it)."""
    path = str((entry.detail or {}).get("photo") or "")
    if entry.target_type != "report" or entry.target_id is None or not path:
        return None
    if entry.action == "report.joined":
        plus = re.search(r"-plus(\d+)-", path)  # photos.relative_path's tag
        return url_for("reports.plus_photo", report_id=entry.target_id,
                       plus_id=int(plus.group(1))) if plus else None
    return url_for("reports.photo", report_id=entry.target_id,
                   which="after" if entry.action == "report.handled" else "before")


audit_schemas.register_file_link(["report.filed", "report.joined", "report.handled"],
                                 _audit_photo)


def photo_root() -> Path:
    """Where report photos live: <UPLOAD_DIR or instance>/reports."""
    return upload_root("reports")


def _labels() -> dict[str, Any]:
    return {"kind_labels": KIND_LABELS, "status_labels": STATUS_LABELS,
            "level_labels": LEVEL_LABELS, "source_labels": SOURCE_LABELS}


def _upload(name: str = "photo") -> bytes | None:
    f = request.files.get(name)
    return f.read() if isinstance(f, FileStorage) and f.filename else None


def _put_error(form: Any, exc: DomainError) -> None:
    """A refusal next to its field (the photo's, the station's), or at the top."""
    if exc.status in (403, 404):
        raise exc
    if not errors_onto_form(form, exc, own_words=True):
        flash(str(exc.message), "error")


# --- Reporting ----------------------------------------------------------------------------

def _filing_community(session: Session) -> Area:
    chosen = request.form.get("community_id") if request.method == "POST" else None
    wanted = int(chosen) if chosen and chosen.isdigit() else int_arg("community_id")
    return areas_services.community_for(session, actor=actor(), community_id=wanted,
                                        action="report:file")


def _filed_words(filed: services.Filed) -> str:
    """What a filing did, told as it is: a repeat of one's own report or +1 adds nothing."""
    status = str(STATUS_LABELS.get(filed.report.status, filed.report.status))
    if filed.how == "own":
        return _("You already reported this problem and it is still open (status: "
                 "%(status)s): nothing was added, and your new photo was not kept.",
                 status=status)
    if filed.how == "again":
        if filed.photo_kept:
            return _("You have already added +1 to this report (status: %(status)s). Your "
                     "new photo was added to your +1.", status=status)
        return _("You have already added +1 to this report (status: %(status)s): nothing "
                 "was added, and your new photo was not kept (your +1 keeps its first "
                 "photo).", status=status)
    if filed.how == "plus":
        return _("This problem was already reported: your report was added to it (+1).")
    return _("Thank you: your report was sent.")


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    """Report a problem from the phone: where, what, a photo (camera), a note."""
    session = get_session()
    community = _filing_community(session)
    form = ReportForm() if request.method == "POST" else ReportForm(
        formdata=None, community_id=pk(community),
        station_id=str(int_arg("station_id") or ""))
    form.station_id.choices = [("", _("Choose…")), *[
        (str(i), n) for i, n in queries.stations_of(session, pk(community))],
        (ELSEWHERE, _("Somewhere else in the community"))]
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                filed = services.file_report(session, actor=actor(), data=form.parsed,
                                             photo=_upload(), photo_dir=photo_root(),
                                             ip=client_ip())
            except DomainError as exc:
                _put_error(form, exc)
                status = exc.status
            else:
                flash(_filed_words(filed), "info")
                return redirect(url_for("reports.detail", report_id=pk(filed.report)))
        else:
            status = 422
    # A browser never sends a file back: a refused form that had a photo says to choose it
    # again, next to the (now empty) photo field.
    return render_template("reports/new.html", form=form, community=community,
                           photo_again=request.method == "POST" and photo_given(form.photo),
                           **_labels()), status


@bp.get("/mine")
@login_required
def mine():
    """My reports (made or joined) with their status and the handler's answer."""
    if not policy.offers(actor(), "report:file"):
        abort(403)
    rows = queries.mine(get_session(), current_user.id, clock.now())
    return render_template("reports/mine.html", rows=rows, **_labels())


# --- One report ---------------------------------------------------------------------------

def _render_detail(report_id: int, *, handle_form: HandleForm | None = None,
                   reopen_form: ReopenForm | None = None, code: int = 200,
                   photo_again: bool = False):
    session = get_session()
    who = actor()
    report = services.get_report(session, actor=who, report_id=report_id)
    # What the reporter and each joiner gave is left out here for a reader who may not see
    # it (a resident who joined), not just hidden by the template.
    page = queries.detail(session, report, clock.now(),
                          sees_given=services.may_see_given(session, who, report),
                          sees_all_pluses=services.may_see_all_photos(session, who, report),
                          account_id=who.account_id)
    return render_template(
        "reports/detail.html", row=page.row, r=report, given=page.given, pluses=page.pluses,
        can_handle=services.may_handle(session, who, report),
        is_reporter=who.account_id is not None and report.reporter_id == who.account_id,
        has_joined=any(p.account_id == who.account_id for p in page.pluses),
        handle_form=handle_form or HandleForm(formdata=None),
        reopen_form=reopen_form or ReopenForm(formdata=None),
        refusal=rules.refusal, photo_again=photo_again, **_labels()), code


@bp.get("/<int:report_id>")
@login_required
def detail(report_id: int):
    """One report: what, where, when, the photos, its state and what one may do with it."""
    return _render_detail(report_id)


@bp.get("/<int:report_id>/photo/<any(before, after):which>")
@login_required
def photo(report_id: int, which: str):
    """A report's photo: the reporter's for the reporter and the report's handlers, the
    after-photo for whoever may see the report."""
    path = services.report_photo(get_session(), actor=actor(), report_id=report_id,
                                 which=which)
    return private_file("reports", path)


@bp.get("/<int:report_id>/plus/<int:plus_id>/photo")
@login_required
def plus_photo(report_id: int, plus_id: int):
    """The photo of a +1, for the report's handlers and the person who took it."""
    path = services.plus_photo(get_session(), actor=actor(), report_id=report_id,
                               plus_id=plus_id)
    return private_file("reports", path)


def _simple(report_id: int, action: str, done: str):
    session = get_session()  # CSRF: checked for every POST by the app (CSRFProtect)
    try:
        getattr(services, action)(session, actor=actor(), report_id=report_id, ip=client_ip())
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        flash(str(exc.message), "error")
        return _render_detail(report_id, code=exc.status)
    flash(done, "info")
    return redirect(url_for("reports.detail", report_id=report_id))


@bp.post("/<int:report_id>/start")
@login_required
def start(report_id: int):
    """The handler takes the report on."""
    return _simple(report_id, "start", _("You are handling this report."))


@bp.post("/<int:report_id>/confirm")
@login_required
def confirm(report_id: int):
    """The reporter confirms the fix."""
    return _simple(report_id, "confirm", _("Thank you: the report is closed."))


@bp.post("/<int:report_id>/handle")
@login_required
def handle(report_id: int):
    """The handler records what was done, with the after-photo."""
    form = HandleForm()
    code = 422
    if form.validate_on_submit():
        try:
            services.handle(get_session(), actor=actor(), report_id=report_id,
                            data=form.parsed, photo=_upload(), photo_dir=photo_root(),
                            ip=client_ip())
        except DomainError as exc:
            _put_error(form, exc)
            code = exc.status
        else:
            flash(_("Handled: the reporter is asked to confirm."), "info")
            return redirect(url_for("reports.detail", report_id=report_id))
    return _render_detail(report_id, handle_form=form, code=code,
                          photo_again=photo_given(form.photo))


@bp.get("/<int:report_id>/handle")
@login_required
def handle_page(report_id: int):
    """A refused handling leaves the browser on this URL: reloading it shows the report."""
    return redirect(url_for("reports.detail", report_id=report_id))


@bp.post("/<int:report_id>/reopen")
@login_required
def reopen(report_id: int):
    """The reporter says the problem is not fixed (once, with a reason)."""
    form = ReopenForm()
    code = 422
    if form.validate_on_submit():
        try:
            services.reopen(get_session(), actor=actor(), report_id=report_id,
                            data=form.parsed, ip=client_ip())
        except DomainError as exc:
            _put_error(form, exc)
            code = exc.status
        else:
            flash(_("The report is open again; the handler is told."), "info")
            return redirect(url_for("reports.detail", report_id=report_id))
    return _render_detail(report_id, reopen_form=form, code=code)


# --- Boards -------------------------------------------------------------------------------

def _chart(board: queries.Board) -> dict[str, Any]:
    """Reports by kind and week (stacked bars; ECharts data for static/js/dashboard.js)."""
    return {"locale": str(get_locale() or "zh"), "labels": {"na": _("n/a")},
            "charts": {"report_weeks": {
                "kind": "bar", "percent": False, "yName": _("Reports"),
                "x": [m.strftime("%m-%d") for m in board.weeks],
                "series": [{"name": str(KIND_LABELS[k]), "stack": "k", "data": v}
                           for k, v in board.weekly.items()]}}}


@bp.get("/board")
@login_required
def board():
    """The community's reports: filters, counts by kind and station, oldest first, overdue in
    red, the on-time rate, reports by kind and week (chiefs and managers)."""
    session = get_session()
    who = actor()
    community = areas_services.community_for(session, actor=who,
                                             community_id=int_arg("community_id"),
                                             action="report:read")
    status = request.args.get("status", "open")
    status = status if status in queries.STATUS_FILTERS else "open"
    kind = request.args.get("kind") or None
    data = queries.board(session, community, now=clock.now(), status=status,
                         kind=kind if kind in rules.KINDS else None,
                         station_id=int_arg("station_id"))
    return render_template(
        "reports/board.html", data=data, status=status, kind=kind,
        station_id=int_arg("station_id"), stations=queries.stations_of(session, pk(community)),
        communities=areas_services.communities_for(session, who, "report:read"),
        filters=queries.STATUS_FILTERS, chart_data=_chart(data), **_labels())


@bp.get("/overdue")
@login_required
def overdue():
    """A street's or district's overdue reports (oldest deadline first) and the on-time rate
    of the area and of each area below it (street and district admins)."""
    session = get_session()
    who = actor()
    areas = areas_services.areas_in_scopes(session, policy.scopes(who, "report:area"))
    wanted = int_arg("area_id")
    if wanted is not None:
        area = session.get(Area, wanted)
        if area is None:
            raise NotFound()
        policy.require(who, "report:area", area)
    elif areas:
        area = areas[0]
    else:
        raise Forbidden(action="report:area")
    data = queries.area_overdue(session, area, now=clock.now(),
                                only_overdue=request.args.get("all") != "1")
    choices = [a for a in areas if a.level != "community"]
    return render_template("reports/overdue.html", data=data, choices=choices,
                           show_all=request.args.get("all") == "1", **_labels())


# --- Deadlines ----------------------------------------------------------------------------

def _city(session: Session) -> Area:
    cities = areas_services.areas_in_scopes(session, policy.scopes(actor(), "report:deadlines"),
                                            level="city")
    if not cities:
        raise Forbidden(action="report:deadlines")
    return cities[0]


@bp.route("/deadlines", methods=["GET", "POST"])
@login_required
def deadlines():
    """The city's deadline per kind (hours) and its versions; publishing a new one."""
    session = get_session()
    city = _city(session)
    form = DeadlinesForm() if request.method == "POST" else DeadlinesForm(formdata=None)
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            row = services.publish_deadlines(session, actor=actor(), city_id=pk(city),
                                             data=form.parsed, ip=client_ip())
            flash(_("Deadlines version %(v)s published: reports made from now on use them.",
                    v=row.version), "info")
            return redirect(url_for("reports.deadlines"))
        status = 422
    versions = queries.deadline_versions(session, pk(city))
    if request.method == "GET":
        form.fill(dict(versions[0].hours) if versions else {})
    return render_template("reports/deadlines.html", city=city, form=form, versions=versions,
                           defaults=rules.DEFAULT_HOURS, **_labels()), status
