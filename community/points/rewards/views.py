"""Rewards pages: the residents' catalog and pickup QR (phone), the stewards' pickup desk
(phone, camera scanner), and the managers' catalog and redemptions (desktop).

Three blueprints: `resident_rewards` (/me/rewards, the logged-in resident's own households,
no area in the URL), `pickup` (/steward/pickup, scan or type a pickup code, hand the item
over) and `rewards` (/manage/rewards, scoped by rewards:manage).
"""
from __future__ import annotations

import secrets
from pathlib import Path

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
from flask_login import login_required
from sqlmodel import Session
from werkzeug.datastructures import FileStorage

from community.areas import services as areas_services
from community.db import get_session
from community.errors import DomainError, InvalidInput
from community.households import qr
from community.i18n import safe_next
from community.images import PhotoInvalid, PhotoTooLarge
from community.inbox import texts as inbox_texts
from community.points import services as ledger
from community.points.models import REDEMPTION_STATUSES
from community.points.rewards import queries
from community.points.rewards import services as rewards
from community.points.rewards.forms import CancelForm, RewardItemForm
from community.points.rewards.schemas import (
    AUDIENCE_LABELS,
    CLIENT_ID_MAX,
    LIMIT_PERIOD_LABELS,
    RedeemIn,
)
from community.points.schemas import ITEM_STATUS_LABELS, REDEMPTION_STATUS_LABELS
from community.rows import pk
from community.web.args import int_arg
from community.web.context import actor, client_ip
from community.web.downloads import private_file, upload_root
from community.web.forms import errors_onto_form

resident_bp = Blueprint("resident_rewards", __name__, url_prefix="/me/rewards")
pickup_bp = Blueprint("pickup", __name__, url_prefix="/steward/pickup")
bp = Blueprint("rewards", __name__, url_prefix="/manage/rewards")
inbox_texts.register_resolver(["reward_ready"], queries.reward_note_states)

NO_STORE = "no-store"


def _labels() -> dict:
    return {"status_labels": REDEMPTION_STATUS_LABELS, "item_status_labels": ITEM_STATUS_LABELS,
            "limit_labels": LIMIT_PERIOD_LABELS,
            "format_pickup": queries.format_pickup, "audience_labels": AUDIENCE_LABELS}


def picture_root() -> Path:
    """Where reward pictures live: <UPLOAD_DIR or instance>/rewards (next to drop photos)."""
    return upload_root("rewards")


def _picture(path: str) -> Response:
    return private_file("rewards", path)


# --- Residents ------------------------------------------------------------------------------

@resident_bp.get("", endpoint="index")
@login_required
def my_catalog():
    """The rewards catalog of my household's community, with my balance and Redeem buttons."""
    shop = queries.resident_shop(get_session(), actor=actor(),
                                 household_id=int_arg("household_id"))
    if shop is None:
        return redirect(url_for("residents.home"))
    # Redeem opens the confirm step, which makes the request id (a double tap redeems once).
    resp = Response(render_template("points/rewards_catalog.html", shop=shop, **_labels()))
    resp.headers["Cache-Control"] = NO_STORE  # balance and stock change with every redemption
    return resp


@resident_bp.get("/<int:reward_id>/confirm", endpoint="confirm")
@login_required
def confirm(reward_id: int):
    """The confirm step before spending: the cost, the balance now and after, the limit."""
    shop = queries.resident_shop(get_session(), actor=actor(),
                                 household_id=int_arg("household_id"))
    if shop is None:
        return redirect(url_for("residents.home"))
    row = queries.confirm_row(shop, reward_id)
    resp = Response(render_template(
        "points/rewards_confirm.html", shop=shop, row=row,
        client_id=secrets.token_urlsafe(18),  # made here: a double tap redeems once
        **_labels()))
    resp.headers["Cache-Control"] = NO_STORE
    return resp


def _refusal(exc: DomainError) -> str:
    """A redemption refusal in words the resident understands."""
    if isinstance(exc, ledger.NotEnoughPoints):
        return _("Not enough points: this reward costs %(cost)s points and your balance is "
                 "%(balance)s.", cost=exc.details.get("cost", "?"),
                 balance=exc.details.get("balance", "?"))
    return str(exc.message)


@resident_bp.post("/redeem")
@login_required
def redeem():
    """Redeem one item: the points are taken at once and the pickup QR is shown."""
    # A tampered or missing id is invalid input (422); an over-long request id is cut.
    data = RedeemIn.parse(
        household_id=request.form.get("household_id", ""),
        reward_id=request.form.get("reward_id", ""),
        client_id=request.form.get("client_id", "").strip()[:CLIENT_ID_MAX] or None)
    household_id = data.household_id
    session = get_session()
    try:
        red = rewards.redeem_reward(session, actor=actor(), data=data)
    except (ledger.NotEnoughPoints, rewards.OutOfStock, rewards.RewardUnavailable,
            rewards.HouseholdLimitReached, rewards.RewardNotOffered) as exc:
        flash(_refusal(exc), "error")
        return redirect(url_for("resident_rewards.index", household_id=household_id))
    flash(_("Redeemed. Show this QR code at the drop station to pick up your reward."), "info")
    return redirect(url_for("resident_rewards.redemption", redemption_id=red.id))


@resident_bp.get("/redemptions", endpoint="redemptions")
@login_required
def my_redemptions():
    """My household's redemptions, newest first, with their status in words."""
    data = queries.resident_redemptions(get_session(), actor=actor(),
                                        household_id=int_arg("household_id"))
    if data is None:
        return redirect(url_for("residents.home"))
    return render_template("points/rewards_mine.html", data=data, **_labels())


@resident_bp.get("/redemptions/<int:redemption_id>")
@login_required
def redemption(redemption_id: int):
    """One of my redemptions: the pickup QR and code while reserved, and a Cancel button."""
    row = rewards.my_redemption(get_session(), actor=actor(), redemption_id=redemption_id)
    resp = Response(render_template("points/rewards_redemption.html", row=row, **_labels()))
    resp.headers["Cache-Control"] = NO_STORE  # the pickup code is a secret
    return resp


@resident_bp.get("/redemptions/<int:redemption_id>/qr.png")
@login_required
def pickup_qr(redemption_id: int):
    """The pickup QR of one of my redemptions (its content is the pickup code)."""
    row = rewards.my_redemption(get_session(), actor=actor(), redemption_id=redemption_id)
    resp = Response(qr.render_png(row.redemption.pickup_code, box_size=10),
                    mimetype="image/png")
    resp.headers["Cache-Control"] = NO_STORE
    return resp


@resident_bp.post("/redemptions/<int:redemption_id>/cancel")
@login_required
def cancel(redemption_id: int):
    """Cancel my reserved redemption: the points come back and the item returns to stock."""
    session = get_session()
    try:
        rewards.cancel_redemption(session, actor=actor(), redemption_id=redemption_id,
                                  ip=client_ip())
    except (rewards.PickupUsed, rewards.RedemptionCancelled) as exc:
        flash(str(exc.message), "error")
    else:
        flash(_("Redemption cancelled; your points are back."), "info")
    return redirect(url_for("resident_rewards.redemption", redemption_id=redemption_id))


@resident_bp.get("/items/<int:item_id>/picture", endpoint="picture")
@login_required
def member_picture(item_id: int):
    """An item's picture, for members of households of the item's community only."""
    return _picture(queries.member_picture(get_session(), account_id=actor().account_id,
                                           item_id=item_id))


# --- Stewards: the pickup desk --------------------------------------------------------------

PICKUP_REFUSALS = (rewards.PickupUnknown, rewards.PickupForeign, rewards.PickupUsed,
                   rewards.RedemptionCancelled)


def _pickup_config() -> dict:
    """What pickup.js needs: the scanner's .wasm and its messages in the user's language."""
    return {
        "wasm": url_for("static", filename="vendor/zxing-wasm/zxing_reader.wasm"),
        "labels": {
            "camera_on": _("Stop camera"), "camera_off": _("Start camera"),
            "camera_error": _("The camera is not available. Type the code instead."),
            "scanner_loading": _("Loading the scanner…"),
            "bad_qr": _("This QR code is not a reward pickup code."),
            "bad_code": _("Enter the 10-character pickup code, e.g. ABCDE-FGHJK."),
            "looking_up": _("Looking up the code…"),
        },
    }


def _render_pickup(session: Session, code: str, *, error: str | None = None,
                   status: int = 200):
    """The pickup page for a code (or none); an unknown or foreign code shows its message."""
    pickup = None
    try:
        pickup = queries.pickup_desk(session, actor=actor(), code=code)
    except (rewards.PickupUnknown, rewards.PickupForeign) as exc:
        error, status = error or str(exc.message), exc.status if status == 200 else status
    resp = Response(render_template(
        "points/pickup.html", code=code, pickup=pickup, error=error,
        config=_pickup_config(), **_labels()), status=status)
    resp.headers["Cache-Control"] = NO_STORE
    return resp


@pickup_bp.get("", endpoint="index")
@login_required
def desk():
    """Scan (camera) or type a pickup code; with ?code=, the item, address and status."""
    return _render_pickup(get_session(), request.args.get("code", "").strip()[:40])


@pickup_bp.post("/hand-over")
@login_required
def hand_over():
    """Hand the reserved item over (once); used, cancelled or foreign codes are refused."""
    code = request.form.get("code", "").strip()[:40]
    session = get_session()
    try:
        done = rewards.hand_over(session, actor=actor(), code=code)
    except PICKUP_REFUSALS as exc:
        return _render_pickup(session, code, error=str(exc.message), status=exc.status)
    flash(_("Handed over: %(item)s to %(address)s.", item=done.item_name, address=done.address),
          "info")
    return redirect(url_for("pickup.index", code=done.redemption.pickup_code))


# --- Managers -------------------------------------------------------------------------------

@bp.get("")
@login_required
def catalog():
    """A community's rewards catalog: cost, stock left, reserved, handed over, status."""
    data = queries.manager_catalog(get_session(), actor=actor(),
                                   community_id=int_arg("community_id"))
    return render_template("points/rewards_manage.html", data=data, **_labels())


def _save(form: RewardItemForm, community_id: int, item_id: int | None = None):
    """Save the item and, when one was chosen, its picture: together or not at all."""
    session = get_session()
    upload = form.picture_file.data
    try:
        item = rewards.save_item(session, actor=actor(), community_id=community_id,
                                 item_id=item_id, data=form.parsed, ip=client_ip())
        if isinstance(upload, FileStorage) and upload.filename:
            rewards.set_item_picture(session, actor=actor(), item_id=pk(item),
                                     data=upload.read(), picture_dir=picture_root())
    except (PhotoInvalid, PhotoTooLarge) as exc:
        errors_onto_form(form, exc, default=form.picture_file)
        return None
    flash(_("Reward %(name)s saved.", name=item.name), "info")
    return redirect(url_for("rewards.catalog", community_id=community_id))


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    """Add a catalog item (with an optional picture)."""
    community = areas_services.community_for(get_session(), actor=actor(),
                                             community_id=int_arg("community_id"),
                                             action="rewards:manage")
    form = RewardItemForm()
    if form.validate_on_submit():
        done = _save(form, pk(community))
        if done is not None:
            return done
    status = 422 if form.errors else 200
    return render_template("points/rewards_form.html", form=form, community=community,
                           item=None), status


@bp.route("/items/<int:item_id>/edit", methods=["GET", "POST"])
@login_required
def edit(item_id: int):
    """Change an item's name, description, cost, stock, dates or picture."""
    item = rewards.manage_item(get_session(), actor=actor(), item_id=item_id)
    community = areas_services.get_area(get_session(), item.community_id)
    form = RewardItemForm(obj=item)
    if form.validate_on_submit():
        done = _save(form, item.community_id, item_id)
        if done is not None:
            return done
    status = 422 if form.errors else 200
    return render_template("points/rewards_form.html", form=form, community=community,
                           item=item), status


@bp.post("/items/<int:item_id>/status")
@login_required
def status(item_id: int):
    """Retire an item (no new redemptions) or put it on offer again."""
    session = get_session()
    item = rewards.set_item_status(session, actor=actor(), item_id=item_id,
                                   status=request.form.get("status", ""), ip=client_ip())
    if item.status == "retired":
        flash(_("Reward %(name)s retired: it can no longer be redeemed.", name=item.name),
              "warning")
    else:
        flash(_("Reward %(name)s is on offer again.", name=item.name), "info")
    return redirect(url_for("rewards.catalog", community_id=item.community_id))


@bp.get("/items/<int:item_id>/picture")
@login_required
def picture(item_id: int):
    """An item's picture, for those who manage or hand over its community's rewards."""
    return _picture(queries.manager_picture(get_session(), actor=actor(), item_id=item_id))


@bp.get("/redemptions")
@login_required
def redemptions():
    """A community's redemptions, newest first, filtered by status, paged by "older"."""
    status_arg = request.args.get("status", "")
    data = queries.manager_redemptions(
        get_session(), actor=actor(), community_id=int_arg("community_id"),
        status=status_arg if status_arg in REDEMPTION_STATUSES else "",
        before_id=int_arg("before"), limit=current_app.config["PAGE_SIZE"])
    return render_template("points/rewards_redemptions.html", data=data, **_labels())


@bp.post("/redemptions/<int:redemption_id>/cancel")
@login_required
def cancel_redemption(redemption_id: int):
    """Cancel a household's reserved redemption with a reason; its points are refunded."""
    session = get_session()
    form = CancelForm()  # the reason's length is CancelIn's; the service requires one
    back = safe_next(request.form.get("next"), url_for("rewards.redemptions"))
    no_reason = _("Give a reason for the cancellation (up to 200 characters): the household "
                  "sees it with the redemption.")
    if not form.validate_on_submit():
        flash(no_reason, "error")
        return redirect(back)
    try:
        red = rewards.cancel_redemption(session, actor=actor(), redemption_id=redemption_id,
                                        data=form.parsed, ip=client_ip())
    except InvalidInput:  # a manager must give one
        flash(no_reason, "error")
        return redirect(back)
    except (rewards.PickupUsed, rewards.RedemptionCancelled) as exc:
        flash(str(exc.message), "error")
        return redirect(back)
    flash(_("Redemption cancelled; %(points)s points refunded to the household.",
            points=red.cost), "info")
    return redirect(back)
