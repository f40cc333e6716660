"""The job history page for city admins: each job's schedule, last run and next run,
recent runs and failures with their errors."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from sqlalchemy.exc import SQLAlchemyError

from community.audit import services as audit
from community.auth import policy
from community.db import commit_unit, get_engine, get_session
from community.errors import Forbidden, NotFound
from community.scheduler import history, labels, manual
from community.scheduler.periods import key_label
from community.scheduler.registry import JOBS
from community.web.context import actor, client_ip

OUTCOME_LABELS = {"succeeded": _l("succeeded"), "failed": _l("failed"),
                  "skipped": _l("skipped (already done)")}

bp = Blueprint("jobs", __name__, url_prefix="/admin/jobs")


@bp.get("/")
@login_required
def index():
    """Jobs, their next run, and the latest runs (or only failures with ?failed=1)."""
    if not policy.scopes(actor(), "jobs:read"):
        raise Forbidden(action="jobs:read")
    failed_only = request.args.get("failed") == "1"
    session = get_session()
    return render_template(
        "scheduler/index.html",
        jobs=history.job_rows(session, current_app.config["TIMEZONE"]),
        runs=history.recent_runs(session, failed_only=failed_only), failed_only=failed_only,
        can_run=bool(policy.scopes(actor(), "jobs:run")), job_title=labels.job_title,
        counts_text=labels.counts_text)


@bp.post("/<name>/run")
@login_required
def run(name: str):
    """Run now: the job's due periods, in this request, through the exactly-once claim."""
    if not policy.scopes(actor(), "jobs:run"):
        raise Forbidden(action="jobs:run")
    if name not in JOBS:
        raise NotFound()
    # The runner works in sessions of its own: end this request's transaction first (on
    # SQLite it holds the write lock the runner's claim needs).
    commit_unit()
    outcomes = manual.run_now(get_engine(), name, current_app.config["TIMEZONE"])
    audit.record(get_session(), actor_id=actor().account_id, action="job.run_by_hand",
                 ip=client_ip(), job=name, outcomes=", ".join(
                     f"{key_label(k)} {OUTCOME_LABELS[v]}" for k, v in outcomes.items()) or "—")
    title = labels.job_title(name)
    if not outcomes:
        flash(_("%(job)s: nothing was due; its latest period has already run.", job=title),
              "info")
    else:
        flash(_("%(job)s: %(outcomes)s", job=title, outcomes=", ".join(
            f"{key_label(k)} {OUTCOME_LABELS[v]}" for k, v in outcomes.items())),
            "error" if "failed" in outcomes.values() else "info")
    return redirect(url_for("jobs.index"))


@bp.app_template_filter("period_label")
def period_label(key: str) -> str:
    """A job run's period key in local date and time, without the ISO "T"."""
    return key_label(key)


@bp.app_context_processor
def _failing_badge() -> dict:
    """`failing_jobs()` for the city admin's navigation: jobs whose latest run failed."""

    def failing_jobs() -> int:
        try:
            return history.failing_jobs(get_session())
        except SQLAlchemyError:  # error pages must render even when the database is down
            return 0

    return {"failing_jobs": failing_jobs}
