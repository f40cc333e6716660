"""Resident pages (phone first): home, card QR, joining a household, its members; the
managers' side of membership.

Two blueprints: `residents` (/me, the resident's own things, no area in the URL) and
`residents_admin` (/manage/links: pending requests, a household's members, join slips,
removing members and disabling accounts, the community's join-request setting).
"""
from __future__ import annotations

import json
from io import BytesIO

from flask import (
    Blueprint,
    Response,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user

from community import clock
from community.areas import services as areas_services
from community.db import get_session, keep_on_error
from community.errors import CardRevoked, CardUnknown, Forbidden, InvalidInput, NotFound
from community.extensions import limiter
from community.households import codes, qr
from community.households import services as households_services
from community.households.schemas import normalize_part
from community.i18n import safe_next
from community.inbox import services as notifications
from community.points import explain as points_explain
from community.residents import queries as residents_queries
from community.residents import services as residents_services
from community.residents import slips as slips_pdf_module
from community.residents.forms import (
    CloseAccountForm,
    JoinCodeForm,
    JoinRequestsForm,
    LinkForm,
    NoticesForm,
)
from community.residents.schemas import VIA_LABELS
from community.rows import pk
from community.stations import queries as stations_queries
from community.stations.appeals.schemas import STATUS_LABELS as APPEAL_LABELS
from community.waste import CATEGORY_LABELS, QUALITY_LABELS
from community.web import once
from community.web.context import actor, client_ip
from community.web.forms import required

bp = Blueprint("residents", __name__, url_prefix="/me")
admin_bp = Blueprint("residents_admin", __name__, url_prefix="/manage/links")

LINK_LIMIT = "10 per hour"
# Join codes: failures only count (a family joining is never slowed down by its own success).
JOIN_LIMIT = "10 per hour"


def _account_key() -> str:
    """Rate-limit key: the account (residents share carrier NAT addresses), else the address."""
    if current_user.is_authenticated:
        return f"link:{current_user.id}"
    return f"link-ip:{request.remote_addr}"


def _join_key() -> str:
    """Join-code failures are counted per account (else per address)."""
    if current_user.is_authenticated:
        return f"join:{current_user.id}"
    return f"join-ip:{request.remote_addr}"


def _failed(response: Response) -> bool:
    """Only refused attempts count toward the join limits."""
    return response.status_code >= 400


def _outcome_message(outcome: residents_services.LinkOutcome) -> tuple[str, str]:
    address = households_services.address_label(outcome.household)
    return {
        "joined": (_("You have joined %(address)s.", address=address), "info"),
        "already_linked": (_("Your account is already linked to %(address)s.", address=address),
                           "info"),
        "pending": (_("Your request was sent. The community manager will approve it soon."),
                    "info"),
    }[outcome.result]


@bp.get("/")
@login_required
def home():
    """The resident's household, card QR, points and link status."""
    session = get_session()
    data = residents_services.resident_home(session, current_user.id)
    # Only the communities of the resident's own households: no area comes from the request.
    stations = stations_queries.stations_for_residents(
        session, community_ids=sorted({pk(h.community) for h in data.households}))
    return render_template("residents/home.html", data=data, stations=stations,
                           format_code=codes.format_code)


@bp.get("/account")
@login_required
def account():
    """The resident's own account: notification channels, download their data, close it."""
    return render_template("residents/account.html", form=CloseAccountForm(formdata=None),
                           **_notices_page())


def _notices_page(form: NoticesForm | None = None) -> dict:
    session = get_session()
    if form is None:
        form = NoticesForm(formdata=None, data={
            "sms": notifications.sms_opted_in(session, current_user.id)})
    return {"notices_form": form, "has_phone": bool(current_user.phone)}


@bp.post("/notices")
@login_required
def notices():
    """Turn text messages on or off (on only with a phone number on the account)."""
    form = NoticesForm()
    if not form.validate_on_submit():
        return render_template("residents/account.html", form=CloseAccountForm(formdata=None),
                               **_notices_page(form)), 422
    if form.parsed.sms and not current_user.phone:
        form.sms.errors = [_("Text messages need a phone number on your account.")]
        return render_template("residents/account.html", form=CloseAccountForm(formdata=None),
                               **_notices_page(form)), 422
    notifications.set_sms(get_session(), account_id=current_user.id, on=form.parsed.sms)
    flash(_("Text messages turned on.") if form.parsed.sms else _("Text messages turned off."),
          "info")
    return redirect(url_for("residents.account"))


@bp.get("/data.json")
@login_required
def my_data():
    """Everything the platform keeps about the resident and their households, as JSON."""
    body = json.dumps(residents_queries.my_data(get_session(), current_user.id),
                      ensure_ascii=False, indent=2)
    resp = make_response(body)
    resp.mimetype = "application/json"
    resp.headers["Content-Disposition"] = 'attachment; filename="my-data.json"'
    resp.headers["Cache-Control"] = "private, no-store"
    return resp


@bp.post("/close")
@login_required
def close():
    """Close the resident's own account (注销) after a deliberate confirmation."""
    form = CloseAccountForm()
    if form.validate_on_submit():
        residents_services.close_own_account(get_session(), account_id=current_user.id,
                                             data=form.parsed, ip=client_ip())
        logout_user()
        flash(_("Your account is closed. Your households keep their records."), "info")
        return redirect(url_for("auth.login"))
    return render_template("residents/account.html", form=form, **_notices_page()), 422


@bp.get("/points")
@login_required
def points():
    """The household's points balance and history with the reason of each entry."""
    data = residents_services.my_points(
        get_session(), current_user.id, request.args.get("household_id", type=int),
        request.args.get("before", "")[:40] or None, lang=str(get_locale() or "zh"))
    if data is None:
        return redirect(url_for("residents.home"))
    return render_template("residents/points.html", data=data, category_labels=CATEGORY_LABELS,
                           quality_labels=QUALITY_LABELS, appeal_labels=APPEAL_LABELS)


@bp.get("/points/rules")
@login_required
def points_rules():
    """How points work in my household's community: its rule version in force today."""
    households = residents_services.my_households(get_session(), current_user.id)
    if not households:
        return redirect(url_for("residents.home"))
    wanted = request.args.get("household_id", type=int)
    current = next((h for h in households if h.household.id == wanted), households[0])
    page = points_explain.how_points_work(
        get_session(), community_id=pk(current.community),
        on=clock.local_today(current.community.timezone))
    return render_template("residents/points_rules.html", page=page, current=current)


@bp.route("/join", methods=["GET", "POST"])
@limiter.limit(JOIN_LIMIT, key_func=_join_key, methods=["POST"], deduct_when=_failed)
@login_required
def join():
    """Join a household with the one-time code of its join slip (the slip's QR fills it in)."""
    form = JoinCodeForm()
    status = 200
    if request.method == "GET":
        form.code.data = request.args.get("code", "")[:30]
        form.community_id.data = str(request.args.get("community", type=int) or "")
    if form.validate_on_submit():
        try:
            outcome = residents_services.redeem_join_code(
                get_session(), account_id=current_user.id, data=form.parsed, ip=client_ip())
        except (residents_services.JoinRefused, residents_services.HouseholdInactive) as exc:
            keep_on_error()  # the refusal still stores its audit entry
            form.code.errors = [*form.code.errors, str(exc.message)]
            status = exc.status
        else:
            flash(*_outcome_message(outcome))
            return redirect(url_for("residents.home"))
    elif request.method == "POST":
        status = 422
    return _no_store(render_template("residents/join.html", form=form), status)


@bp.route("/join/i/<token>", methods=["GET", "POST"])
@limiter.limit(JOIN_LIMIT, key_func=_join_key, methods=["POST"], deduct_when=_failed)
@login_required
def invitation(token: str):
    """An invitation link: who invites to which household, and the button to accept it."""
    session = get_session()
    token = token[:64]
    if request.method == "POST":
        try:
            outcome = residents_services.accept_invitation(
                session, account_id=current_user.id, token=token, ip=client_ip())
        except (residents_services.JoinRefused, residents_services.HouseholdInactive) as exc:
            keep_on_error()
            return _no_store(render_template("residents/invitation.html", view=None,
                                             error=str(exc.message)), exc.status)
        flash(*_outcome_message(outcome))
        return redirect(url_for("residents.home"))
    try:
        view = residents_services.invitation_view(session, token=token)
    except (residents_services.JoinRefused, residents_services.HouseholdInactive) as exc:
        return _no_store(render_template("residents/invitation.html", view=None,
                                         error=str(exc.message)), exc.status)
    member = households_services.member_household(session, current_user.id,
                                                  pk(view.household))
    return _no_store(render_template("residents/invitation.html", view=view, error=None,
                                     already=member is not None), 200)


@bp.route("/link", methods=["GET", "POST"])
@limiter.limit(LINK_LIMIT, key_func=_account_key, methods=["POST"])
@login_required
def link():
    """Ask the community manager to approve the account into the household of a card."""
    form = LinkForm()
    status = 200
    if form.validate_on_submit():
        session = get_session()
        try:
            outcome = residents_services.request_join(
                session, account_id=current_user.id, data=form.parsed, ip=client_ip())
        except (CardUnknown, CardRevoked, residents_services.HouseholdInactive,
                residents_services.RequestsClosed) as exc:
            form.short_code.errors = [*form.short_code.errors, str(exc.message)]
            status = exc.status
        else:
            flash(*_outcome_message(outcome))
            return redirect(url_for("residents.home"))
    elif request.method == "POST":
        status = 422
    return render_template("residents/link.html", form=form), status


def _no_store(body: str, status: int) -> Response:
    """A personal page: never kept in shared or back-button caches."""
    resp = make_response(body, status)
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.get("/household/<int:household_id>")
@login_required
def household(household_id: int):
    """One of the resident's households: its members; the head invites and removes."""
    data = residents_services.my_household_members(
        get_session(), account_id=current_user.id, household_id=household_id)
    return _no_store(render_template("residents/household.html", data=data,
                                     via_labels=VIA_LABELS), 200)


@bp.post("/household/<int:household_id>/invite")
@login_required
def invite(household_id: int):
    """The head makes a one-time invitation: shown once, as a QR and a link."""
    inv, token = residents_services.create_invitation(
        get_session(), account_id=current_user.id, household_id=household_id, ip=client_ip())
    # Post/Redirect/Get: the QR and link are a GET page of their own (a reload makes no
    # second invitation); the token waits for it in this account's session only.
    once.keep("household_invitation", pk(inv), {"token": token})
    return redirect(url_for("residents.invitation_shown", household_id=household_id,
                            invitation_id=pk(inv)), 303)


@bp.get("/household/<int:household_id>/invite/<int:invitation_id>")
@login_required
def invitation_shown(household_id: int, invitation_id: int):
    """An invitation just made, shown ONCE as a QR and a link; again: the household page."""
    inv, address = residents_services.head_invitation(
        get_session(), account_id=current_user.id, invitation_id=invitation_id)
    if inv.household_id != household_id:
        raise NotFound()
    shown = once.take("household_invitation", invitation_id)
    if shown is None:
        flash(_("This invitation was shown once and cannot be displayed again. If it is "
                "lost, withdraw it and make a new one."), "warning")
        return redirect(url_for("residents.household", household_id=household_id))
    link_url = url_for("residents.invitation", token=shown["token"], _external=True)
    return _no_store(render_template(
        "residents/invite.html", link_url=link_url, qr_svg=qr.render_svg_element(link_url),
        invitation=inv, address=address, household_id=household_id), 200)


@bp.post("/invitations/<int:invitation_id>/revoke")
@login_required
def revoke_invitation(invitation_id: int):
    """The head withdraws an unused invitation."""
    inv = residents_services.revoke_invitation(
        get_session(), account_id=current_user.id, invitation_id=invitation_id, ip=client_ip())
    flash(_("Invitation withdrawn."), "info")
    return redirect(url_for("residents.household", household_id=inv.household_id))


@bp.post("/members/<int:member_id>/remove")
@login_required
def remove_member(member_id: int):
    """The head removes a member (or a member leaves); access ends at once."""
    member = residents_services.remove_member(get_session(), actor=actor(), member_id=member_id,
                                              ip=client_ip())
    if member.account_id == current_user.id:
        flash(_("You have left the household."), "info")
        return redirect(url_for("residents.home"))
    flash(_("Member removed."), "info")
    return redirect(url_for("residents.household", household_id=member.household_id))


def _card_response(body: bytes, mimetype: str) -> Response:
    resp = Response(body, mimetype=mimetype)
    # The QR is the household's scoring identity: never keep it in shared or back-button caches.
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.get("/card.svg")
@login_required
def card_svg():
    """The QR of the resident's own household card, as SVG."""
    card = residents_services.my_card(get_session(), current_user.id,
                                      request.args.get("household_id", type=int))
    return _card_response(qr.render_svg(card.token), "image/svg+xml")


@bp.get("/card.png")
@login_required
def card_png():
    """The QR of the resident's own household card, as PNG (for saving to the phone)."""
    card = residents_services.my_card(get_session(), current_user.id,
                                      request.args.get("household_id", type=int))
    return _card_response(qr.render_png(card.token, box_size=12), "image/png")


# --- Manager side -------------------------------------------------------------------------


@admin_bp.get("")
@login_required
def index():
    """Pending link requests of one community in scope, its join settings and join slips."""
    session = get_session()
    who = actor()
    communities = areas_services.communities_for(session, who, "member:approve")
    community_id = request.args.get("community_id", type=int)
    if community_id is None:
        if not communities:
            raise Forbidden(action="member:approve")
        community_id = pk(communities[0])
    links = residents_services.pending_links(session, actor=who, community_id=community_id)
    community = areas_services.get_area(session, community_id)
    requests_form = JoinRequestsForm(community_id=str(community.id),
                                     join_requests=community.join_requests)
    return render_template("residents/links.html", links=links, community=community,
                           communities=communities, requests_form=requests_form)


@admin_bp.get("/households/<int:household_id>")
@login_required
def manage_household(household_id: int):
    """A household's members, head, requests and join slips, for its manager."""
    data = residents_services.manager_household_members(get_session(), actor=actor(),
                                                        household_id=household_id)
    return _no_store(render_template("residents/manage_household.html", data=data,
                                     via_labels=VIA_LABELS), 200)


@admin_bp.post("/slips.pdf")
@login_required
def slips_pdf():
    """New join slips (PDF) for one household, some households, or a building; voids older."""
    try:
        community_id = int(request.form.get("community_id", ""))
        ids = [int(x) for x in request.form.getlist("household_id")] or None
    except ValueError:
        raise InvalidInput(field="household_id") from None
    building = normalize_part("building", request.form.get("building", "")[:20]) or None
    if ids is None and building is None and request.form.get("all") != "1":
        raise InvalidInput(field="building")
    session = get_session()
    slips = residents_services.issue_join_slips(
        session, actor=actor(), community_id=community_id, household_ids=ids,
        building=building, ip=client_ip())
    printed = [slips_pdf_module.PrintedSlip(
        code=s.code, address=s.address, community=s.community, expires_on=s.expires_on,
        url=url_for("residents.join", code=codes.format_join_code(s.code), _external=True))
        for s in slips]
    title = " · ".join(p for p in (_("Join slips"), slips[0].community if slips else "",
                                   f"{building}栋" if building else "") if p)
    resp = send_file(BytesIO(slips_pdf_module.render_slips(printed, title=title)),
                     mimetype="application/pdf", as_attachment=True,
                     download_name=f"join-slips-{community_id}.pdf")
    resp.headers["Cache-Control"] = "no-store"  # the slips are the households' secrets
    return resp


@admin_bp.post("/members/<int:member_id>/remove")
@login_required
def manager_remove(member_id: int):
    """A manager removes a member from a household; access ends at once."""
    member = residents_services.remove_member(get_session(), actor=actor(), member_id=member_id,
                                              ip=client_ip())
    flash(_("Member removed."), "info")
    return redirect(url_for("residents_admin.manage_household", household_id=member.household_id))


@admin_bp.post("/accounts/<int:account_id>/disable")
@login_required
def disable(account_id: int):
    """A manager disables a resident account: it cannot log in and its sessions end."""
    residents_services.disable_account(get_session(), actor=actor(), account_id=account_id,
                                       ip=client_ip())
    flash(_("Account disabled."), "warning")
    return redirect(safe_next(request.form.get("next"), url_for("residents_admin.index")))


def _decide(member_id: int, approve: bool):
    session = get_session()
    residents_services.decide_link(session, actor=actor(), member_id=member_id, approve=approve,
                                   ip=client_ip())
    flash(_("Request approved.") if approve else _("Request rejected."), "info")
    return redirect(safe_next(request.form.get("next"), url_for("residents_admin.index")))


@admin_bp.post("/<int:member_id>/approve")
@login_required
def approve(member_id: int):
    """Approve a pending link request."""
    return _decide(member_id, True)


@admin_bp.post("/<int:member_id>/reject")
@login_required
def reject(member_id: int):
    """Reject a pending link request."""
    return _decide(member_id, False)


@admin_bp.post("/requests")
@login_required
def requests_setting():
    """Set whether residents may ask for approval without an invitation or join slip."""
    form = JoinRequestsForm()
    if not form.validate_on_submit():
        raise InvalidInput(field="join_requests")
    try:
        community_id = int(required(form.community_id.data))
    except (TypeError, ValueError):
        raise InvalidInput(field="community_id") from None
    session = get_session()
    areas_services.set_join_requests(session, actor=actor(), community_id=community_id,
                                     data=form.parsed, ip=client_ip())
    flash(_("Setting saved."), "info")
    return redirect(url_for("residents_admin.index", community_id=community_id))
