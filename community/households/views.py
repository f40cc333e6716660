"""Community manager pages: household registry, import, cards and card sheets."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import login_required

bp = Blueprint("households", __name__, url_prefix="/manage")


@bp.get("/households")
@login_required
def index():
    """Household list (TODO)."""
    return render_template("areas/tree.html")
