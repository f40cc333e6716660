"""Casework pages under /casework: the manager's board (desktop, usable on a phone), a case
with its task, the steward's tasks (phone), the blind audit, the case rules.

Every read goes through `casework.queries`, every write through `casework.services`; the
blind audit page never renders the original verdict, reason, note or recorder of a drop
not yet graded by this page's auditor (`queries.audit_card` leaves them out).
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from community import clock
from community.areas import services as areas_services
from community.areas.models import Area
from community.auth import policy
from community.casework import queries, services
from community.casework.forms import AssignForm, CaseRulesForm, GradeForm, TaskForm
from community.casework.models import VerdictAudit
from community.casework.schemas import (
    FLAG_LABELS,
    KAPPA_NA_LABELS,
    STATUS_LABELS,
    TASK_LABELS,
    VERDICT_LABELS,
)
from community.db import get_session
from community.errors import InvalidInput, NotFound
from community.inbox import texts as inbox_texts
from community.inbox.models import Notification
from community.rows import pk
from community.waste import CATEGORY_LABELS
from community.web.args import int_arg
from community.web.context import actor, client_ip
from community.web.forms import errors_onto_form

bp = Blueprint("casework", __name__, url_prefix="/casework")


def _word_task(session: Session, notes: list[Notification]) -> dict[int, dict[str, Any]]:
    """The inbox shows a case task's code as its label in the reader's language."""
    return {pk(n): {"task": str(TASK_LABELS.get(str(n.params.get("task")), "?"))} for n in notes}


inbox_texts.register_resolver(["case_task"], _word_task)


@bp.app_context_processor
def _task_badge() -> dict[str, Any]:
    """`case_tasks_open()` for the navigation bar: counted only when a steward's bar asks."""

    def case_tasks_open() -> int:
        if not current_user.is_authenticated:
            return 0
        try:
            return queries.open_task_count(get_session(), current_user.id)
        except SQLAlchemyError:  # error pages must render even when the database is down
            return 0

    return {"case_tasks_open": case_tasks_open}


def _lang() -> str:
    return str(get_locale() or "zh")


def _local(moment: Any, tz: str, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return clock.local(moment, tz).strftime(fmt) if moment else ""


def _labels() -> dict[str, Any]:
    return {"task_labels": TASK_LABELS, "status_labels": STATUS_LABELS,
            "verdict_labels": VERDICT_LABELS, "flag_labels": FLAG_LABELS,
            "kappa_na_labels": KAPPA_NA_LABELS,
            "category_labels": CATEGORY_LABELS, "local": _local}


def _community(action: str) -> Area:
    return areas_services.community_for(get_session(), actor=actor(),
                                        community_id=int_arg("community_id"), action=action)


def _reason_charts(board: queries.Board) -> dict[str, Any]:
    """Stacked bars of the mis-drop reasons by local hour and by station (ECharts data for
    static/js/dashboard.js)."""
    r = board.reasons
    codes = r.codes()

    def name(code: str) -> str:
        return r.labels.get(code, code) if code else _("No reason given")

    hours = sorted(r.by_hour)
    stations = sorted(r.by_station, key=lambda s: -sum(r.by_station[s].values()))
    return {"locale": _lang(), "labels": {"na": _("n/a")}, "charts": {
        "reason_hours": {"kind": "bar", "percent": False, "yName": _("Incorrect drops"),
                         "x": [f"{h:02d}:00" for h in hours],
                         "series": [{"name": name(c), "stack": "r",
                                     "data": [r.by_hour[h][c] for h in hours]} for c in codes]},
        "reason_stations": {"kind": "bar", "percent": False, "yName": _("Incorrect drops"),
                            "x": stations,
                            "series": [{"name": name(c), "stack": "r",
                                        "data": [r.by_station[s][c] for s in stations]}
                                       for c in codes]},
    }}


@bp.get("")
@login_required
def board():
    """Open cases and overdue tasks, appeals, audits to grade, calibration, reasons."""
    session = get_session()
    community = _community("case:read")
    who = actor()
    data = queries.board(session, community, now=clock.now(), lang=_lang(),
                         show_watchlist=policy.allowed(who, "case:watchlist", community),
                         auditor_id=who.account_id)
    communities = areas_services.communities_for(session, who, "case:read")
    return render_template("casework/board.html", data=data, communities=communities,
                           chart_data=_reason_charts(data),
                           can_audit=policy.allowed(who, "verdict:audit", community),
                           can_rules=policy.allowed(who, "rules:manage", community),
                           **_labels())


@bp.get("/tasks")
@login_required
def tasks():
    """The open cases assigned to me (a steward's phone page)."""
    who = actor()
    if not policy.offers(who, "case:act"):
        abort(403)
    rows = queries.my_tasks(get_session(), who.account_id or 0, clock.now())
    return render_template("casework/tasks.html", rows=rows, **_labels())


def _render_case(case_id: int, task_form: TaskForm | None = None,
                 assign_form: AssignForm | None = None, code: int = 200):
    session = get_session()
    case, area = services.get_case(session, actor=actor(), case_id=case_id, action="case:act")
    today = clock.local_today(area.timezone)
    (row,) = queries.case_rows(session, [case], today, area.timezone)
    can_manage = policy.allowed(actor(), "case:manage", area)
    choices = queries.assignable(session, pk(area))
    if task_form is None:
        task_form = TaskForm(formdata=None, task=case.task)
    if assign_form is None:
        assign_form = AssignForm(formdata=None, assignee_id=case.assignee_id, task=case.task,
                                 due_on=case.due_on)
    assign_form.assignee_id.choices = choices
    return render_template("casework/case.html", case=case, row=row, area=area,
                           task_form=task_form, assign_form=assign_form,
                           can_manage=can_manage, today=today,
                           can_act=case.assignee_id == actor().account_id or can_manage,
                           **_labels()), code


@bp.get("/cases/<int:case_id>")
@login_required
def case(case_id: int):
    """One case: household, strikes, progress, the task and who does it by when."""
    return _render_case(case_id)


@bp.post("/cases/<int:case_id>/task")
@login_required
def record_task(case_id: int):
    """The steward records what was done."""
    form = TaskForm()
    if form.validate_on_submit():
        try:
            services.record_task(get_session(), actor=actor(), case_id=case_id,
                                 data=form.parsed, ip=client_ip())
        except services.CaseClosed as exc:
            errors_onto_form(form, exc, default=form.note)
        else:
            flash(_("Thank you: the task is recorded."), "info")
            return redirect(url_for("casework.case", case_id=case_id))
    return _render_case(case_id, task_form=form, code=422)


@bp.post("/cases/<int:case_id>/assign")
@login_required
def assign(case_id: int):
    """Assign or reassign the task (managers and station chiefs)."""
    session = get_session()
    _case, area = services.get_case(session, actor=actor(), case_id=case_id,
                                    action="case:manage")
    form = AssignForm()
    form.assignee_id.choices = queries.assignable(session, pk(area))
    if form.validate_on_submit():
        try:
            services.assign(session, actor=actor(), case_id=case_id, data=form.parsed,
                            ip=client_ip())
        except (services.CaseClosed, InvalidInput) as exc:
            errors_onto_form(form, exc, default=form.assignee_id)
        else:
            flash(_("The task is assigned."), "info")
            return redirect(url_for("casework.case", case_id=case_id))
    return _render_case(case_id, assign_form=form, code=422)


# --- Verdict audits ------------------------------------------------------------------------

@bp.get("/audits")
@login_required
def audits():
    """The next sampled verdict to grade, blind (no verdict, reason, note or recorder)."""
    session = get_session()
    community = _community("verdict:audit")
    pending = queries.pending_for(session, pk(community), actor().account_id, limit=1)
    card = queries.audit_card(session, pending[0], community, _lang()) if pending else None
    return render_template("casework/audit.html", community=community, card=card,
                           form=GradeForm(formdata=None), revealed=False,
                           week=queries.week_of(clock.local_today(community.timezone))
                           - timedelta(days=7), **_labels())


@bp.get("/audits/<int:audit_id>")
@login_required
def audit(audit_id: int):
    """A graded verdict revealed: the auditor's and the recorder's verdicts side by side."""
    session = get_session()
    row = session.get(VerdictAudit, audit_id)
    if row is None:
        raise NotFound()
    community = areas_services.community_for(session, actor=actor(),
                                             community_id=row.community_id,
                                             action="verdict:audit")
    if row.verdict is None:  # never reveal before grading
        return redirect(url_for("casework.audits", community_id=pk(community)))
    return render_template("casework/audit.html", community=community,
                           card=queries.audit_card(session, row, community, _lang()),
                           form=None, revealed=True, week=row.week, **_labels())


@bp.post("/audits/<int:audit_id>")
@login_required
def grade(audit_id: int):
    """Record the blind verdict, then reveal the original."""
    form = GradeForm()
    if not form.validate_on_submit():
        flash(_("Choose correct, incorrect or cannot tell."), "error")
        return redirect(url_for("casework.audits")), 303
    services.grade(get_session(), actor=actor(), audit_id=audit_id, data=form.parsed,
                   ip=client_ip())
    return redirect(url_for("casework.audit", audit_id=audit_id))


@bp.post("/audits/draw")
@login_required
def draw():
    """Draw last week's sample now (the job does it every Monday)."""
    community = _community("verdict:audit")
    week = queries.week_of(clock.local_today(community.timezone)) - timedelta(days=7)
    n = services.draw_for(get_session(), actor=actor(), community_id=pk(community), week=week)
    flash(_("%(n)s verdicts drawn for the audit of the week of %(week)s.", n=n,
            week=week.isoformat()), "info")
    return redirect(url_for("casework.audits", community_id=pk(community)))


# --- Rules ---------------------------------------------------------------------------------

def _render_rules(community: Area, form: CaseRulesForm | None = None, code: int = 200):
    session = get_session()
    today = clock.local_today(community.timezone)
    versions = queries.versions(session, pk(community))
    in_force = queries.rules_in_force(session, pk(community))(today)
    if form is None:
        form = CaseRulesForm(formdata=None)
        form.fill(in_force, today)
    return render_template("casework/rules.html", community=community, versions=versions,
                           in_force=in_force, form=form, today=today,
                           can_manage=policy.allowed(actor(), "rules:manage", community),
                           **_labels()), code


@bp.get("/rules")
@login_required
def rules():
    """The community's case-rule versions and the form to publish a new one."""
    return _render_rules(_community("case:read"))


@bp.post("/rules")
@login_required
def publish():
    """Publish a new version of the case rules, in force from a date (not in the past)."""
    community = _community("rules:manage")
    form = CaseRulesForm()
    if form.validate_on_submit():
        if form.parsed.effective_from < clock.local_today(community.timezone):
            form.effective_from.errors = [_("Choose today or a later date.")]
        else:
            services.publish_rules(get_session(), actor=actor(), community_id=pk(community),
                                   data=form.parsed, ip=client_ip())
            flash(_("The new case rules are published."), "info")
            return redirect(url_for("casework.rules", community_id=pk(community)))
    return _render_rules(community, form, 422)
