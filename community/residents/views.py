"""Resident pages (phone first): home, card QR, linking to a household; managers' link requests.

Two blueprints: `residents` (/me, the resident's own things, no area in the URL) and
`residents_admin` (/manage/links, a manager's pending requests and the community link mode).
"""
from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from community.areas import services as areas_services
from community.areas.schemas import LINK_MODE_LABELS
from community.db import get_session, keep_on_error
from community.errors import CardRevoked, CardUnknown, Forbidden, InvalidInput
from community.extensions import limiter
from community.households import codes, qr
from community.households import services as households_services
from community.i18n import safe_next
from community.residents import services as residents_services
from community.residents.forms import LinkForm, LinkModeForm
from community.rows import pk
from community.stations import queries as stations_queries
from community.web.context import actor, client_ip
from community.web.forms import required

bp = Blueprint("residents", __name__, url_prefix="/me")
admin_bp = Blueprint("residents_admin", __name__, url_prefix="/manage/links")

LINK_LIMIT = "10 per hour"


def _account_key() -> str:
    """Rate-limit key: the account (residents share carrier NAT addresses), else the address."""
    if current_user.is_authenticated:
        return f"link:{current_user.id}"
    return f"link-ip:{request.remote_addr}"


def _outcome_message(outcome: residents_services.LinkOutcome) -> tuple[str, str]:
    address = households_services.address_label(outcome.household)
    return {
        "linked": (_("Your account is now linked to %(address)s.", address=address), "info"),
        "already_linked": (_("Your account is already linked to %(address)s.", address=address),
                           "info"),
        "pending": (_("Your request was sent. The community manager will approve it soon."),
                    "info"),
        "code_used": (_("This card's link code has already been used, so your request was sent "
                        "to the community manager for approval."), "warning"),
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


@bp.get("/points")
@login_required
def points():
    """The household's points balance and history with the reason of each entry."""
    data = residents_services.my_points(
        get_session(), current_user.id, request.args.get("household_id", type=int),
        request.args.get("before", type=int))
    if data is None:
        return redirect(url_for("residents.home"))
    return render_template("residents/points.html", data=data)


@bp.route("/link", methods=["GET", "POST"])
@limiter.limit(LINK_LIMIT, key_func=_account_key, methods=["POST"])
@login_required
def link():
    """Link the account to a household with the codes printed on its card."""
    form = LinkForm()
    status = 200
    if form.validate_on_submit():
        session = get_session()
        try:
            outcome = residents_services.link_household(
                session, account_id=current_user.id, data=form.parsed, ip=client_ip())
        except (CardUnknown, CardRevoked, residents_services.HouseholdInactive) as exc:
            form.short_code.errors = [*form.short_code.errors, str(exc.message)]
            status = exc.status
        except (residents_services.LinkCodeWrong, residents_services.LinkCodeRequired) as exc:
            keep_on_error()  # the refusal still stores the audit entry of a wrong code
            form.link_code.errors = [*form.link_code.errors, str(exc.message)]
            status = exc.status
        else:
            flash(*_outcome_message(outcome))
            return redirect(url_for("residents.home"))
    elif request.method == "POST":
        status = 422
    return render_template("residents/link.html", form=form), status


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
    """Pending link requests of one community in scope, and its link mode."""
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
    mode_form = LinkModeForm(community_id=str(community.id), link_mode=community.link_mode)
    return render_template("residents/links.html", links=links, community=community,
                           communities=communities, mode_form=mode_form,
                           mode_label=LINK_MODE_LABELS.get(community.link_mode, ""))


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


@admin_bp.post("/mode")
@login_required
def mode():
    """Set how residents of a community link: card link code or manager approval."""
    form = LinkModeForm()
    if not form.validate_on_submit():
        raise InvalidInput(field="link_mode")
    try:
        community_id = int(required(form.community_id.data))
    except (TypeError, ValueError):
        raise InvalidInput(field="community_id") from None
    session = get_session()
    areas_services.set_link_mode(session, actor=actor(), community_id=community_id,
                                 data=form.parsed, ip=client_ip())
    flash(_("Link mode saved."), "info")
    return redirect(url_for("residents_admin.index", community_id=community_id))
