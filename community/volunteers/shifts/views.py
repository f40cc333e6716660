"""Shift pages: the steward's phone pages and private calendar feed, the managers' rota.

Two blueprints:
- `shifts` (/steward/...): "My shifts", open shifts to sign up for, sign-up and cancel, the
  calendar link and its feed (/steward/calendar/<key>.ics: no login, the key is the secret).
  Nothing here takes an area from the request: a steward only ever sees their own rows and
  the shifts of the communities where they are an approved steward.
- `rota` (/manage/rota/...): desktop pages for managers (steward:manage): generate, the
  roster by day, one shift with assign/unassign/needed, the coverage calendar, at-risk list.
"""
from __future__ import annotations

from datetime import datetime

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # stubs: WTForms 3.2

from community import clock
from community.areas import services as areas_services
from community.db import get_session, writes
from community.i18n import safe_next
from community.rows import pk
from community.stations.forms import WEEKDAY_LABELS
from community.volunteers.shifts import ical, queries, rules, services
from community.volunteers.shifts.forms import (
    ASSIGNMENT_LABELS,
    SHIFT_STATUS_LABELS,
    STATE_LABELS,
    AssignForm,
    GenerateForm,
    NeededForm,
)
from community.web.args import date_arg, int_arg
from community.web.context import actor, client_ip
from community.web.forms import errors_onto_form

bp = Blueprint("shifts", __name__, url_prefix="/steward")
manage_bp = Blueprint("rota", __name__, url_prefix="/manage/rota")

# Refusals a steward or manager gets as a message on the page they came from; NotFound and
# Forbidden still go to the error page.
REFUSALS = (services.SignupClosed, services.ShiftFull, services.OverlappingShift,
            services.AlreadySignedUp, services.ShiftCancelled, services.ShiftOver,
            services.NotSignedUp, services.AlreadyCheckedIn, services.StewardNotApproved,
            services.NeededBelowSignups)


def _labels() -> dict:
    return {"state_labels": STATE_LABELS, "assignment_labels": ASSIGNMENT_LABELS,
            "shift_status_labels": SHIFT_STATUS_LABELS, "weekday_labels": WEEKDAY_LABELS,
            "local": _local, "cutoff_hours": rules.CUTOFF_HOURS}


def _local(moment: datetime, tz: str, fmt: str = "%H:%M") -> str:
    """A stored UTC moment in the community's local time."""
    return clock.local(moment, tz).strftime(fmt)


def _back(default: str) -> str:
    return safe_next(request.form.get("next"), default)


# --- Steward pages (phone) ----------------------------------------------------------------

@bp.get("/shifts")
@login_required
@writes  # the calendar keys, made on the first visit
def mine():
    """My shifts: upcoming first, then recent, each with its status; the calendar link."""
    session = get_session()
    services.calendar_keys(session, account_id=current_user.id)  # made on the first visit
    data = queries.my_shifts(session, account_id=current_user.id, now=clock.now())
    return render_template("volunteers/shifts_mine.html", data=data, **_labels())


@bp.get("/shifts/open")
@login_required
def open_list():
    """Open shifts of the steward's communities for the next two weeks, with free places."""
    # A malformed filter value is no filter (a plain GET form on a phone).
    data = queries.open_shifts(get_session(), account_id=current_user.id, now=clock.now(),
                               station_id=request.args.get("station_id", type=int),
                               free_only=request.args.get("free") == "1",
                               fits_only=request.args.get("fits") == "1")
    return render_template("volunteers/shifts_open.html", data=data, **_labels())


@bp.post("/shifts/<int:shift_id>/sign-up")
@login_required
def sign_up(shift_id: int):
    """Take a place on a shift (refused after the cut-off, when full or overlapping)."""
    session = get_session()
    try:
        services.sign_up(session, actor=actor(), shift_id=shift_id)
    except REFUSALS as exc:
        flash(str(exc.message), "error")
    else:
        flash(_("You are signed up for the shift."), "info")
    return redirect(_back(url_for("shifts.open_list")))


@bp.post("/shifts/<int:shift_id>/cancel")
@login_required
def cancel(shift_id: int):
    """Give up a place on a shift (until the cut-off)."""
    session = get_session()
    try:
        services.cancel_signup(session, actor=actor(), shift_id=shift_id)
    except REFUSALS as exc:
        flash(str(exc.message), "error")
    else:
        flash(_("Your place on the shift is cancelled."), "info")
    return redirect(_back(url_for("shifts.mine")))


@bp.post("/calendar/<int:steward_id>/new-link")
@login_required
def new_calendar_link(steward_id: int):
    """Make a new private calendar link; the old one stops working."""
    session = get_session()
    services.new_calendar_key(session, actor=actor(), steward_id=steward_id)
    flash(_("A new calendar link was made. The old link no longer works: subscribe again "
            "with the new one."), "warning")
    return redirect(url_for("shifts.mine"))


@bp.get("/calendar/<key>.ics")
def calendar(key: str):
    """The steward's shifts as an iCalendar feed (no login: the key in the URL is the secret)."""
    now = clock.now()
    feed = queries.calendar_feed(get_session(), key=key, now=now)
    events = [ical.Event(
        uid=ical.uid(e.shift.id, feed.steward.id),
        starts_at=e.shift.starts_at, ends_at=e.shift.ends_at,
        summary=_("Steward shift: %(station)s", station=e.station_name),
        location=e.location or e.station_name, cancelled=e.cancelled,
        modified=e.shift.updated_at) for e in feed.events]
    body = ical.render(events, name=_("Steward shifts · %(community)s",
                                      community=feed.community.name), now=now)
    resp = Response(body, mimetype="text/calendar")
    resp.headers["Content-Type"] = "text/calendar; charset=utf-8"
    resp.headers["Content-Disposition"] = f"inline; filename=shifts-{feed.steward.id}.ics"
    # A private link: no shared caches, and no leaking of the key through the referrer.
    resp.headers["Cache-Control"] = "private, no-store"
    resp.headers["X-Robots-Tag"] = "noindex"
    return resp


# --- Manager pages (desktop) --------------------------------------------------------------

def _render_roster(form: GenerateForm | None = None, code: int = 200):
    data = queries.roster(get_session(), actor=actor(), community_id=int_arg("community_id"),
                          week=date_arg("week"), station_id=int_arg("station_id"),
                          now=clock.now())
    form = form or GenerateForm(formdata=None)
    return render_template("volunteers/shifts_roster.html", data=data, form=form,
                           **_labels()), code


@manage_bp.get("")
@login_required
def index():
    """The roster: one week of shifts by day and station, with their stewards."""
    return _render_roster()


@manage_bp.post("/generate")
@login_required
def generate():
    """Generate (or bring up to date) the community's shifts for the next weeks."""
    session = get_session()
    form = GenerateForm()
    community_id = int_arg("community_id")
    if form.validate_on_submit():
        community = areas_services.community_for(session, actor=actor(),
                                                 community_id=community_id,
                                                 action="steward:manage")
        report = services.generate_shifts(session, actor=actor(), community_id=pk(community),
                                          data=form.parsed, ip=client_ip())
        flash(_("Shifts generated: %(created)s new, %(updated)s changed, %(cancelled)s "
                "cancelled, %(kept)s unchanged.", created=report.created,
                updated=report.updated, cancelled=report.cancelled, kept=report.kept),
              "info")
        if report.held:
            flash(_("%(held)s shifts with stewards on them no longer match the schedule; "
                    "they were left as they are. Change them by hand.", held=report.held),
                  "warning")
        return redirect(url_for("rota.index", community_id=community.id))
    return _render_roster(form, 422)


def _render_shift(shift_id: int, assign: AssignForm | None = None,
                  needed: NeededForm | None = None, code: int = 200):
    d = queries.shift_detail(get_session(), actor=actor(), shift_id=shift_id,
                             now=clock.now())
    assign = assign or AssignForm(formdata=None)
    assign.steward_id.choices = [SelectChoice(s.id, name) for s, name in d.candidates]
    needed = needed or NeededForm(formdata=None, needed=d.shift.needed)
    return render_template("volunteers/shifts_detail.html", d=d, assign=assign,
                           needed_form=needed, **_labels()), code


@manage_bp.get("/shifts/<int:shift_id>")
@login_required
def shift(shift_id: int):
    """One shift: its stewards, assign and unassign, how many it needs."""
    return _render_shift(shift_id)


@manage_bp.post("/shifts/<int:shift_id>/assign")
@login_required
def assign(shift_id: int):
    """Put an approved steward on the shift (the sign-up cut-off does not bind managers)."""
    session = get_session()
    form = AssignForm()
    if form.validate_on_submit():
        try:
            services.assign(session, actor=actor(), shift_id=shift_id, data=form.parsed,
                            ip=client_ip())
        except REFUSALS as exc:
            errors_onto_form(form, exc, default=form.steward_id)
        else:
            flash(_("Steward assigned."), "info")
            return redirect(url_for("rota.shift", shift_id=shift_id))
    return _render_shift(shift_id, assign=form, code=422)


@manage_bp.post("/assignments/<int:assignment_id>/unassign")
@login_required
def unassign(assignment_id: int):
    """Take a steward off a shift that is not over."""
    session = get_session()
    try:
        row = services.unassign(session, actor=actor(), assignment_id=assignment_id,
                                ip=client_ip())
    except REFUSALS as exc:
        flash(str(exc.message), "error")
        return redirect(_back(url_for("rota.index")))
    flash(_("Steward taken off the shift."), "info")
    return redirect(url_for("rota.shift", shift_id=row.shift_id))


@manage_bp.post("/shifts/<int:shift_id>/needed")
@login_required
def needed(shift_id: int):
    """Change how many stewards the shift needs."""
    session = get_session()
    form = NeededForm()
    if form.validate_on_submit():
        try:
            services.set_needed(session, actor=actor(), shift_id=shift_id, data=form.parsed,
                                ip=client_ip())
        except REFUSALS as exc:
            errors_onto_form(form, exc, default=form.needed)
        else:
            flash(_("Stewards needed: %(n)s.", n=form.parsed.needed), "info")
            return redirect(url_for("rota.shift", shift_id=shift_id))
    return _render_shift(shift_id, needed=form, code=422)


@manage_bp.get("/coverage")
@login_required
def coverage():
    """The coverage calendar: stations by days of a week, each window staffed or not."""
    data = queries.coverage_week(get_session(), actor=actor(),
                                 community_id=int_arg("community_id"),
                                 week=date_arg("week"), now=clock.now())
    return render_template("volunteers/coverage.html", data=data, **_labels())


@manage_bp.get("/at-risk")
@login_required
def at_risk():
    """Open shifts in the next 48 hours with fewer stewards signed up than needed."""
    data = queries.at_risk(get_session(), actor=actor(),
                           community_id=int_arg("community_id"), now=clock.now())
    return render_template("volunteers/shifts_at_risk.html", data=data, **_labels())
