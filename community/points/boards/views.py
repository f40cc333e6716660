"""Honour-board pages (红榜): the managers' printable board and the residents' phone board.

Two blueprints: `board` (/manage/board, desktop, scoped by points:read) and `resident_board`
(/me/board, the logged-in resident's own household only, no area in the URL).
"""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from community.db import get_session
from community.points.boards import queries
from community.points.boards import services as boards_services
from community.points.boards.schemas import OptOutIn
from community.web.args import int_arg
from community.web.context import actor, client_ip

bp = Blueprint("board", __name__, url_prefix="/manage/board")
resident_bp = Blueprint("resident_board", __name__, url_prefix="/me/board")


@bp.get("")
@login_required
def index():
    """A community's board and building ranking (printable); area admins also rank an area."""
    data = queries.manager_board(get_session(), actor=actor(),
                                 community_id=int_arg("community_id"),
                                 area_id=int_arg("area_id"),
                                 month_key=request.args.get("month", "")[:7])
    return render_template("points/board.html", data=data)


@resident_bp.get("")
@login_required
def mine():
    """My household's rank and the boards of my community, this month or last month."""
    data = queries.resident_board(get_session(), account_id=current_user.id,
                                  household_id=int_arg("household_id"),
                                  last_month=request.args.get("month") == "last")
    if data is None:
        return redirect(url_for("residents.home"))
    return render_template("points/board_resident.html", data=data)


@resident_bp.post("/opt-out")
@login_required
def opt_out():
    """Hide my household from the honour boards, or show it again (POST, CSRF)."""
    data = OptOutIn.parse(household_id=request.form.get("household_id", ""),
                          hide=request.form.get("hide", ""))  # refused: 422
    boards_services.set_honour_opt_out(get_session(), account_id=current_user.id, data=data,
                                       ip=client_ip())
    if data.hide:
        flash(_("Your household is hidden from the honour board. Only your household sees "
                "its rank."), "info")
    else:
        flash(_("Your household is shown on the honour board again."), "info")
    month = "last" if request.form.get("month") == "last" else None
    return redirect(url_for("resident_board.mine", household_id=data.household_id,
                            month=month))
