"""The steward's wallet pages (blueprint "steward_wallet", phone first): balance, the
community's catalog with Redeem buttons, their redemptions with the pickup code."""
from __future__ import annotations

import secrets

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from community.db import get_session
from community.households.qr import render_png
from community.points import services as points_services
from community.points.rewards import queries as reward_queries
from community.points.rewards import services as rewards
from community.points.rewards.schemas import CLIENT_ID_MAX
from community.points.schemas import REDEMPTION_STATUS_LABELS
from community.volunteers.wallet import services
from community.web.args import int_arg
from community.web.context import actor

bp = Blueprint("steward_wallet", __name__, url_prefix="/steward/wallet")
NO_STORE = "no-store"


def _labels() -> dict:
    return {"status_labels": REDEMPTION_STATUS_LABELS,
            "format_pickup": reward_queries.format_pickup}


@bp.get("")
@login_required
def index():
    """My steward points and what they buy in my community."""
    data = services.wallet(get_session(), actor=actor(), community_id=int_arg("community_id"))
    if data is None:
        raise services.NotASteward()
    client_ids = {item.id: secrets.token_urlsafe(18) for item in data.items}
    resp = Response(render_template("volunteers/wallet.html", data=data, client_ids=client_ids,
                                    title=_("Spend my steward points"), **_labels()))
    resp.headers["Cache-Control"] = NO_STORE
    return resp


@bp.post("/redeem")
@login_required
def redeem():
    """Redeem one item with my steward points; the pickup code is shown next."""
    reward_id = request.form.get("reward_id", "")
    community_id = request.form.get("community_id", "")
    back = url_for("steward_wallet.index",
                   community_id=int(community_id) if community_id.isdigit() else None)
    if not (reward_id.isascii() and reward_id.isdigit()) or len(reward_id) > 9:
        flash(_("Choose a reward from the list."), "error")
        return redirect(back)
    try:
        red = services.redeem(get_session(), actor=actor(), reward_id=int(reward_id),
                              client_id=request.form.get("client_id", "").strip()[
                                  :CLIENT_ID_MAX] or None)
    except points_services.NotEnoughPoints as exc:
        flash(_("Not enough points: this reward costs %(cost)s points and your balance is "
                "%(balance)s.", cost=exc.details.get("cost", "?"),
                balance=exc.details.get("balance", "?")), "error")
        return redirect(back)
    except (rewards.OutOfStock, rewards.RewardUnavailable, rewards.RewardNotOffered) as exc:
        flash(str(exc.message), "error")
        return redirect(back)
    flash(_("Redeemed. Show this code at the drop station to pick up your reward."), "info")
    return redirect(url_for("steward_wallet.redemption", redemption_id=red.id))


def _mine(redemption_id: int) -> rewards.RedemptionRow:
    session = get_session()
    return rewards.my_redemption(session, actor=actor(), redemption_id=redemption_id,
                                 steward_ids=services.my_steward_ids(session,
                                                                     actor().account_id))


@bp.get("/redemptions/<int:redemption_id>")
@login_required
def redemption(redemption_id: int):
    """One of my steward redemptions: its pickup QR and code, and a Cancel button."""
    resp = Response(render_template("volunteers/wallet_redemption.html",
                                    row=_mine(redemption_id), title=_("My reward"),
                                    **_labels()))
    resp.headers["Cache-Control"] = NO_STORE
    return resp


@bp.get("/redemptions/<int:redemption_id>/qr.png")
@login_required
def pickup_qr(redemption_id: int):
    """The pickup QR of one of my steward redemptions."""
    resp = Response(render_png(_mine(redemption_id).redemption.pickup_code, box_size=10),
                    mimetype="image/png")
    resp.headers["Cache-Control"] = NO_STORE
    return resp


@bp.post("/redemptions/<int:redemption_id>/cancel")
@login_required
def cancel(redemption_id: int):
    """Cancel my reserved steward redemption: the points come back."""
    session = get_session()
    rewards.cancel_redemption(session, actor=actor(), redemption_id=redemption_id,
                              steward_ids=services.my_steward_ids(session, actor().account_id))
    flash(_("Cancelled; the points were returned."), "info")
    return redirect(url_for("steward_wallet.redemption", redemption_id=redemption_id))
