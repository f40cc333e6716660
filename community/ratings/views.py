"""Rating pages (desktop), under /manage/ratings.

The ratings of the reader's communities for a month (counts per level, compliant coverage,
a filterable list), one community's rating explained check by check with what the next
level still needs and its monthly history, and the city admin's policy page: versions of
an area's policy, the draft editor with every threshold, the simulator and publishing.
Reads go through `ratings.queries`; publishing through `ratings.services`.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from community.db import get_session
from community.errors import Conflict, InvalidInput
from community.ratings import queries, services, texts
from community.ratings.forms import PolicyForm, SimulationForm, parse_month
from community.ratings.metrics import METRICS
from community.rows import pk
from community.web.args import int_arg
from community.web.context import actor, client_ip
from community.web.forms import errors_onto_form

bp = Blueprint("ratings", __name__, url_prefix="/manage/ratings")

# The metrics the month's list shows in columns (the community page shows them all).
LIST_METRICS = ("scan_rate", "accuracy", "participation", "out_of_window_rate",
                "steward_coverage")


def _render(template: str, code: int = 200, **values: object):
    return render_template(template, metric_codes=METRICS, list_metrics=LIST_METRICS,
                           unrated=queries.UNRATED, **texts.context(), **values), code


@bp.get("")
@login_required
def index():
    """The ratings of the reader's communities for one month, with counts and a filter."""
    data = queries.overview(get_session(), actor=actor(),
                            month=parse_month(request.args.get("month")),
                            level=request.args.get("level") or None,
                            page=int_arg("page") or 1,
                            per_page=current_app.config["PAGE_SIZE"])
    return _render("ratings/index.html", data=data)


@bp.get("/communities/<int:community_id>")
@login_required
def community(community_id: int):
    """One community's rating of a month, explained, and its history of months."""
    data = queries.community_ratings(get_session(), actor=actor(), community_id=community_id,
                                     month=parse_month(request.args.get("month")))
    return _render("ratings/community.html", data=data)


# --- The policy page -----------------------------------------------------------------------

def _policy_form(page: queries.PolicyPage) -> PolicyForm:
    form = PolicyForm(formdata=None)
    form.fill(page.in_force.policy, page.this_month,
              services.add_months(page.this_month, -1))
    return form


@bp.get("/policy")
@login_required
def policy():
    """An area's rating policy: in force, versions, and the draft editor with the simulator;
    with a draft in the query (the simulator's redirect), that draft simulated."""
    session = get_session()
    if "simulate_month" in request.args:
        form = SimulationForm(formdata=request.args, meta={"csrf": False})
        if form.validate():
            page = queries.policy_page(session, actor=actor(), area_id=int_arg("area_id"),
                                       draft=form.parsed)
            return _render("ratings/policy.html", page=page, form=form)
        page = queries.policy_page(session, actor=actor(), area_id=int_arg("area_id"))
        return _render("ratings/policy.html", 422, page=page, form=form)
    page = queries.policy_page(session, actor=actor(), area_id=int_arg("area_id"))
    return _render("ratings/policy.html", page=page, form=_policy_form(page))


@bp.post("/policy/simulate")
@login_required
def simulate():
    """Simulate a draft on a month's figures; stores nothing. Post/Redirect/Get: a valid
    draft goes to the policy page's address with the draft in its query (a page that can
    be reloaded, bookmarked and shared), which shows the simulation."""
    session = get_session()
    form = SimulationForm()
    page = queries.policy_page(session, actor=actor(), area_id=int_arg("area_id"))
    if form.validate_on_submit():
        draft: dict[str, Any] = {k: v for k, v in request.form.to_dict(flat=False).items()
                                 if k != "csrf_token"}
        return redirect(url_for("ratings.policy", area_id=pk(page.area), **draft,
                                _anchor="simulation"), 303)
    return _render("ratings/policy.html", 422, page=page, form=form)


@bp.post("/policy")
@login_required
def publish():
    """Publish the draft as the area's next policy version, in force from a month."""
    session = get_session()
    page = queries.policy_page(session, actor=actor(), area_id=int_arg("area_id"))
    form = PolicyForm()
    if form.validate_on_submit():
        try:
            row = services.publish_policy(session, actor=actor(), area_id=pk(page.area),
                                          data=form.parsed, ip=client_ip())
        except (InvalidInput, Conflict) as exc:  # a month already rated; a race
            errors_onto_form(form, exc, default=form.field_for(str(exc.details.get("field"))),
                             own_words=True,
                             conflict=_("Another admin published a version at the same "
                                        "time. Please check the versions and try again."))
        else:
            flash(_("Rating policy version %(version)s published, in force from %(month)s.",
                    version=row.version, month=f"{row.effective_month:%Y-%m}"), "info")
            return redirect(url_for("ratings.policy", area_id=page.area.id))
    return _render("ratings/policy.html", 422, page=page, form=form)
