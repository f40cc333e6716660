"""Steward pages.

Two blueprints:
- `stewards` (/manage/stewards, desktop): the roster, a steward's page with approval,
  rejection, retirement and training, invitation links, and station chiefs.
- `steward_me` (phone): the invitation landing page /steward/join/<token>, applying in one's
  own community (/steward/apply) and the steward's profile with availability (/steward/profile).

The notification inbox is `community/inbox/views.py`.
"""
from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # stubs: WTForms 3.2

from community.db import get_session
from community.errors import Conflict, DomainError, InvalidInput
from community.i18n import safe_next
from community.rows import pk
from community.stations.forms import WEEKDAY_LABELS
from community.volunteers.stewards import queries, rules, services
from community.volunteers.stewards.forms import (
    INVITE_STATE_LABELS,
    STATUS_LABELS,
    TRAINING_LABELS,
    ApplyForm,
    AvailabilityForm,
    ChiefForm,
    InviteForm,
    RejectForm,
    TrainingForm,
)
from community.web import once
from community.web.args import int_arg
from community.web.context import actor, client_ip
from community.web.forms import errors_onto_form

bp = Blueprint("stewards", __name__, url_prefix="/manage/stewards")
me_bp = Blueprint("steward_me", __name__)


def _show_error(form: Any, exc: InvalidInput, default: Any) -> None:
    """A service refusal next to its field: its own words when it gave some, else generic."""
    errors_onto_form(form, exc, default=default, own_words=True)


def _labels() -> dict:
    return {"status_labels": STATUS_LABELS, "training_labels": TRAINING_LABELS,
            "invite_state_labels": INVITE_STATE_LABELS, "weekday_labels": WEEKDAY_LABELS}


# --- Manager: roster and a steward's page ---------------------------------------------------

@bp.get("")
@login_required
def index():
    """The roster: a community's stewards with status, phone, training, availability, posts."""
    filters = queries.RosterFilter(
        community_id=int_arg("community_id"), status=request.args.get("status", ""),
        training=request.args.get("training", ""), q=request.args.get("q", "")[:80],
        chiefs=request.args.get("chiefs") == "1")
    data = queries.roster(get_session(), actor=actor(), filters=filters,
                          page=int_arg("page") or 1, per_page=current_app.config["PAGE_SIZE"])
    return render_template("volunteers/stewards_roster.html", data=data,
                           slots_of=rules.slots_of, **_labels())


def _render_detail(steward_id: int, reject: RejectForm | None = None,
                   training: TrainingForm | None = None, code: int = 200):
    data = queries.steward_detail(get_session(), actor=actor(), steward_id=steward_id)
    if training is None:
        training = TrainingForm(formdata=None, training=data.steward.training,
                                trained_on=data.steward.trained_on)
    return render_template("volunteers/stewards_detail.html", data=data,
                           slots=rules.slots_of(data.steward),
                           reject=reject or RejectForm(formdata=None), training=training,
                           **_labels()), code


@bp.get("/<int:steward_id>")
@login_required
def detail(steward_id: int):
    """A steward: contact, application, training, availability and station chief posts."""
    return _render_detail(steward_id)


def _back(steward_id: int):
    return redirect(safe_next(request.form.get("next"),
                              url_for("stewards.detail", steward_id=steward_id)))


@bp.post("/<int:steward_id>/approve")
@login_required
def approve(steward_id: int):
    """Approve a pending application (grants the steward role in the community)."""
    session = get_session()
    steward = services.approve_steward(session, actor=actor(), steward_id=steward_id,
                                       ip=client_ip())
    flash(_("Steward approved."), "info")
    return _back(pk(steward))


@bp.post("/<int:steward_id>/reject")
@login_required
def reject(steward_id: int):
    """Reject a pending application with a reason."""
    session = get_session()
    form = RejectForm()
    if form.validate_on_submit():
        services.reject_steward(session, actor=actor(), steward_id=steward_id,
                                data=form.parsed, ip=client_ip())
        flash(_("Application rejected."), "info")
        return _back(steward_id)
    return _render_detail(steward_id, reject=form, code=422)


@bp.post("/<int:steward_id>/retire")
@login_required
def retire(steward_id: int):
    """Retire an approved steward (roles and station chief posts are removed)."""
    session = get_session()
    services.retire_steward(session, actor=actor(), steward_id=steward_id, ip=client_ip())
    flash(_("Steward retired."), "info")
    return _back(steward_id)


@bp.post("/<int:steward_id>/training")
@login_required
def training(steward_id: int):
    """Set the training status (and the date once trained)."""
    session = get_session()
    form = TrainingForm()
    if form.validate_on_submit():
        try:
            services.set_training(session, actor=actor(), steward_id=steward_id,
                                  data=form.parsed, ip=client_ip())
        except InvalidInput as exc:
            _show_error(form, exc, form.training)
        else:
            flash(_("Training status saved."), "info")
            return _back(steward_id)
    return _render_detail(steward_id, training=form, code=422)


# --- Manager: invitation links --------------------------------------------------------------

def _render_invites(form: InviteForm | None = None, code: int = 200):
    data = queries.list_invites(get_session(), actor=actor(),
                                community_id=int_arg("community_id"))
    return render_template("volunteers/stewards_invites.html", data=data,
                           form=form or InviteForm(formdata=None), **_labels()), code


@bp.get("/invites")
@login_required
def invites():
    """A community's invitation links (state, uses, expiry) and the form for a new one."""
    return _render_invites()


@bp.post("/invites")
@login_required
def create_invite():
    """Make an invitation link and show it once (only its hash is stored)."""
    session = get_session()
    community_id = int_arg("community_id")
    form = InviteForm()
    if community_id is None:
        raise InvalidInput(field="community_id")
    if form.validate_on_submit():
        invite, token = services.create_invite(
            session, actor=actor(), community_id=community_id, data=form.parsed,
            ip=client_ip())
        # Post/Redirect/Get: the link page is a GET of its own (a reload makes no second
        # link); the link waits for it in this account's session only.
        once.keep("steward_invite", pk(invite), {
            "link": url_for("steward_me.join", token=token, _external=True)})
        return redirect(url_for("stewards.invite_link", invite_id=pk(invite)), 303)
    return _render_invites(form, 422)


@bp.get("/invites/<int:invite_id>/link")
@login_required
def invite_link(invite_id: int):
    """An invitation link just made, shown ONCE (only its hash is stored); again: the list."""
    invite = queries.invite_for(get_session(), actor=actor(), invite_id=invite_id)
    shown = once.take("steward_invite", invite_id)
    if shown is None:
        flash(_("This link was shown once and cannot be displayed again. If it is lost, "
                "withdraw it and create a new one."), "warning")
        return redirect(url_for("stewards.invites", community_id=invite.community_id))
    resp = current_app.make_response(render_template(
        "volunteers/stewards_invite_link.html", invite=invite, link=shown["link"],
        community_id=invite.community_id))
    resp.headers["Cache-Control"] = "no-store"  # the link is shown once
    return resp


@bp.post("/invites/<int:invite_id>/revoke")
@login_required
def revoke_invite(invite_id: int):
    """Withdraw an invitation link at once."""
    session = get_session()
    invite = services.revoke_invite(session, actor=actor(), invite_id=invite_id, ip=client_ip())
    flash(_("Invitation link withdrawn."), "info")
    return redirect(url_for("stewards.invites", community_id=invite.community_id))


# --- Manager: station chiefs ----------------------------------------------------------------

@bp.get("/chiefs")
@login_required
def chiefs():
    """A community's stations with their chiefs; appoint or remove one."""
    data = queries.chief_board(get_session(), actor=actor(),
                               community_id=int_arg("community_id"))
    return render_template("volunteers/stewards_chiefs.html", data=data, form=ChiefForm(
        formdata=None), **_labels())


@bp.post("/chiefs/<int:station_id>")
@login_required
def appoint_chief(station_id: int):
    """Appoint an approved steward as the station's chief."""
    session = get_session()
    form = ChiefForm()
    if not form.validate_on_submit():
        raise InvalidInput(field="steward_id")
    station = services.appoint_chief(session, actor=actor(), station_id=station_id,
                                     steward_id=form.steward_id.data, ip=client_ip())
    flash(_("Station chief of %(station)s appointed.", station=station.name), "info")
    return redirect(url_for("stewards.chiefs", community_id=station.community_id))


@bp.post("/chiefs/<int:station_id>/remove")
@login_required
def remove_chief(station_id: int):
    """Leave the station without a chief."""
    session = get_session()
    station = services.remove_chief(session, actor=actor(), station_id=station_id,
                                    ip=client_ip())
    flash(_("Station chief of %(station)s removed.", station=station.name), "info")
    return redirect(url_for("stewards.chiefs", community_id=station.community_id))


# --- Phone: joining, applying, the profile --------------------------------------------------

@me_bp.route("/steward/join/<token>", methods=["GET", "POST"])
@login_required
def join(token: str):
    """An invitation link: show the community, and sign up as a pending steward on confirm."""
    session = get_session()
    try:
        _invite, community = services.check_invite(session, token=token)
        if request.method == "POST":
            services.join_by_invite(session, account_id=current_user.id, token=token,
                                    ip=client_ip())
            flash(_("Thank you! Your application was sent to the community manager."), "info")
            return redirect(url_for("steward_me.profile"))
    except DomainError as exc:
        page = render_template("volunteers/stewards_join.html", community=None, token=token,
                               error=str(exc.message))
        return page, exc.status
    resp = current_app.make_response(render_template(
        "volunteers/stewards_join.html", community=community, token=token, error=None))
    resp.headers["Referrer-Policy"] = "no-referrer"  # keep the token out of other sites' logs
    return resp


@me_bp.route("/steward/apply", methods=["GET", "POST"])
@login_required
def apply():
    """Apply to be a steward of a community the account lives or works in."""
    session = get_session()
    home = queries.my_profile(session, current_user.id)
    form = ApplyForm()
    form.community_id.choices = [SelectChoice(a.id, a.name) for a in home.can_apply]
    status = 200
    if form.validate_on_submit():
        try:
            services.apply_as_steward(session, account_id=current_user.id,
                                      community_id=form.community_id.data, ip=client_ip())
        except (services.NotMember, Conflict) as exc:
            form.community_id.errors = [*form.community_id.errors, str(exc.message)]
            status = exc.status
        else:
            flash(_("Thank you! Your application was sent to the community manager."), "info")
            return redirect(url_for("steward_me.profile"))
    elif request.method == "POST":
        status = 422
    return render_template("volunteers/stewards_apply.html", form=form, home=home), status


def _render_profile(form: AvailabilityForm | None = None, form_for: int | None = None,
                    code: int = 200):
    home = queries.my_profile(get_session(), current_user.id)
    return render_template("volunteers/stewards_profile.html", home=home, form=form,
                           form_for=form_for, blank=AvailabilityForm(formdata=None),
                           **_labels()), code


@me_bp.get("/steward/profile")
@login_required
def profile():
    """The steward's own profile: status, phone, training, weekly availability, posts."""
    return _render_profile()


@me_bp.post("/steward/profile/<int:steward_id>/availability")
@login_required
def add_availability(steward_id: int):
    """Add a weekly range the steward can usually help."""
    session = get_session()
    form = AvailabilityForm()
    if form.validate_on_submit():
        try:
            services.add_availability(session, account_id=current_user.id,
                                      steward_id=steward_id, data=form.parsed)
        except InvalidInput as exc:
            _show_error(form, exc, form.start)
        else:
            flash(_("Availability saved."), "info")
            return redirect(url_for("steward_me.profile"))
    return _render_profile(form, steward_id, 422)


@me_bp.post("/steward/profile/<int:steward_id>/availability/<int:index>/delete")
@login_required
def remove_availability(steward_id: int, index: int):
    """Remove one weekly range."""
    session = get_session()
    services.remove_availability(session, account_id=current_user.id, steward_id=steward_id,
                                 index=index)
    flash(_("Availability removed."), "info")
    return redirect(url_for("steward_me.profile"))
