"""The job history page for city admins: each job's schedule, last run and next run,
recent runs and failures with their errors."""
from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from flask_login import login_required
from sqlalchemy.exc import SQLAlchemyError

from community.auth import policy
from community.db import get_session
from community.errors import Forbidden
from community.scheduler import history
from community.web.context import actor

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
        runs=history.recent_runs(session, failed_only=failed_only), failed_only=failed_only)


@bp.app_context_processor
def _failing_badge() -> dict:
    """`failing_jobs()` for the city admin's navigation: jobs whose latest run failed."""

    def failing_jobs() -> int:
        try:
            return history.failing_jobs(get_session())
        except SQLAlchemyError:  # error pages must render even when the database is down
            return 0

    return {"failing_jobs": failing_jobs}
