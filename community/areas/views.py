"""Area tree and account/role management pages (city and area admins, managers)."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import login_required

bp = Blueprint("areas", __name__, url_prefix="/admin")


@bp.get("/areas")
@login_required
def tree():
    """The area tree (TODO: helper builds management)."""
    return render_template("areas/tree.html")


@bp.get("/accounts")
@login_required
def accounts():
    """Accounts and roles within scope (TODO)."""
    return render_template("areas/tree.html")
