"""The audit log page, filtered to the reader's scope."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import login_required

bp = Blueprint("audit", __name__, url_prefix="/admin/audit")


@bp.get("/")
@login_required
def index():
    """Newest audit entries within scope (TODO)."""
    return render_template("areas/tree.html")
