"""Resident pages (phone first): home, card QR, link to a household."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import login_required

bp = Blueprint("residents", __name__, url_prefix="/me")


@bp.get("/")
@login_required
def home():
    """Resident home (TODO)."""
    return render_template("areas/tree.html")
