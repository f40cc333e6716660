"""Manager pages of the points ledger (desktop), under /manage/points.

The overview of the reader's scope (points outstanding, households with points, twelve
local months), one household's ledger with the manual adjustment form, the community's
rule versions with the form to publish a new one, and the exports of entries and of the
monthly summary. Reads go through `points.queries`; writes through `points.services`.
"""
from __future__ import annotations

from datetime import date, datetime

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import login_required
from werkzeug.wrappers import Response as BaseResponse

from community import clock
from community.db import get_session, writes
from community.errors import Conflict
from community.points import exports, queries
from community.points import services as points_services
from community.points.forms import CATEGORY_LABELS, AdjustForm, RulesForm
from community.points.schemas import KIND_LABELS
from community.rows import pk
from community.web import downloads
from community.web.args import date_arg, int_arg
from community.web.context import actor, client_ip
from community.web.forms import errors_onto_form

bp = Blueprint("points", __name__, url_prefix="/manage/points")



def _local(moment: datetime | None, tz: str, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A UTC moment as local time of the community's zone (pages show local times)."""
    return clock.local(moment, tz).strftime(fmt) if moment else ""


def _labels() -> dict:
    return {"kind_labels": KIND_LABELS, "category_labels": CATEGORY_LABELS, "local": _local}


# --- Overview ------------------------------------------------------------------------------

@bp.get("")
@login_required
def index():
    """Points outstanding, households with points and the last twelve months of the scope."""
    data = queries.overview(get_session(), actor=actor(), community_id=int_arg("community_id"))
    day_from, day_to = queries.default_range(data.today)
    return render_template("points/index.html", data=data, day_from=day_from, day_to=day_to,
                           **_labels())


# --- One household's ledger ----------------------------------------------------------------

def _render_ledger(household_id: int, form: AdjustForm | None = None, code: int = 200):
    page = queries.ledger(get_session(), actor=actor(), household_id=household_id,
                          before=request.args.get("before", "")[:40] or None,
                          limit=current_app.config["PAGE_SIZE"])
    return render_template("points/household.html", page=page,
                           form=form or AdjustForm(formdata=None), **_labels()), code


@bp.get("/households/<int:household_id>")
@login_required
def household(household_id: int):
    """A household's balance and every entry, newest first, with the adjustment form."""
    return _render_ledger(household_id)


@bp.post("/households/<int:household_id>/adjust")
@login_required
def adjust(household_id: int):
    """Add or take points by hand with a reason; refused without a trace when not allowed."""
    session = get_session()
    form = AdjustForm()
    if form.validate_on_submit():
        try:
            entry = points_services.adjust(session, actor=actor(), household_id=household_id,
                                           data=form.parsed, ip=client_ip())
        except points_services.NotEnoughPoints as exc:
            errors_onto_form(form, exc, default=form.amount)
        else:
            flash(_("Adjustment of %(amount)s points saved.",
                    amount=f"{entry.amount:+d}"), "info")
            return redirect(url_for("points.household", household_id=household_id))
    return _render_ledger(household_id, form, 422)


# --- Rules ---------------------------------------------------------------------------------

def _render_rules(community_id: int | None, form: RulesForm | None = None, code: int = 200):
    page = queries.rules(get_session(), actor=actor(), community_id=community_id)
    if form is None:
        form = RulesForm(formdata=None)
        form.fill(page.current_params(), page.today)
    return render_template("points/rules.html", page=page, form=form, **_labels()), code


@bp.get("/rules")
@login_required
def rules():
    """A community's rule versions (values and dates) and the form to publish a new one."""
    return _render_rules(int_arg("community_id"))


@bp.post("/rules")
@login_required
def publish():
    """Publish a new version of the community's rules, in force from a date."""
    session = get_session()
    page = queries.rules(session, actor=actor(), community_id=int_arg("community_id"))
    form = RulesForm()
    form.min_day = page.today
    if form.validate_on_submit():
        try:
            row = points_services.publish_rules(
                session, actor=actor(), community_id=pk(page.community), data=form.parsed,
                ip=client_ip())
        except Conflict as exc:
            errors_onto_form(form, exc, default=form.effective_from,
                             conflict=_("Another manager published a version at the same "
                                        "time. Please check the versions and try again."))
        else:
            flash(_("Rules version %(version)s published, in force from %(day)s.",
                    version=row.version, day=row.effective_from.isoformat()), "info")
            return redirect(url_for("points.rules", community_id=page.community.id))
    return _render_rules(page.community.id, form, 422)


# --- Exports -------------------------------------------------------------------------------

def _start_export(fmt: str) -> tuple[queries.EntryExport | None, BaseResponse | None]:
    """Authorize, size and audit the export; on too many rows go back with a message."""
    session = get_session()
    try:
        export = queries.export_entries(session, actor=actor(),
                                        community_id=int_arg("community_id"),
                                        day_from=date_arg("day_from"), day_to=date_arg("day_to"),
                                        fmt=fmt, ip=client_ip())
    except queries.ExportTooLarge as exc:
        flash(str(exc.message), "error")
        return None, redirect(url_for("points.index", community_id=int_arg("community_id")))
    return export, None


def _filename(prefix: str, community_id: int | None, first: date, last: date, ext: str) -> str:
    return f"{prefix}-{community_id or 'all'}-{first.isoformat()}-{last.isoformat()}.{ext}"


@bp.get("/entries.csv")
@login_required
@writes  # its audit entry
def entries_csv():
    """A community's ledger entries of a date range as CSV (utf-8-sig for Excel), streamed."""
    export, back = _start_export("csv")
    if export is None:
        return back
    tz = export.community.timezone
    return downloads.streamed_csv(
        lambda s: exports.entries_csv(queries.export_rows(s, export), tz),
        _filename("points", export.community.id, export.day_from, export.day_to, "csv"))


@bp.get("/entries.xlsx")
@login_required
@writes  # its audit entry
def entries_xlsx():
    """A community's ledger entries of a date range as XLSX with local times."""
    export, back = _start_export("xlsx")
    if export is None:
        return back
    return downloads.streamed_xlsx(
        lambda s, out: exports.write_entries_xlsx(queries.export_rows(s, export),
                                                  export.community.timezone, out,
                                                  title=export.community.name),
        _filename("points", export.community.id, export.day_from, export.day_to, "xlsx"))


def _summary() -> tuple[queries.Overview, str, str]:
    data = queries.overview(get_session(), actor=actor(), community_id=int_arg("community_id"))
    community = data.scope.community
    title = community.name if community else _("All communities")
    months = data.months
    name = _filename("points-summary", community.id if community else None,
                     months[-1].month, data.today, "")
    return data, title, name.rstrip(".")


@bp.get("/summary.csv")
@login_required
def summary_csv():
    """The monthly summary of the scope as CSV (utf-8-sig)."""
    data, _title, name = _summary()
    return downloads.csv_file(b"".join(exports.summary_csv(data.months, data.total)),
                              f"{name}.csv")


@bp.get("/summary.xlsx")
@login_required
def summary_xlsx():
    """The monthly summary of the scope as XLSX."""
    data, title, name = _summary()
    return downloads.xlsx_file(
        lambda out: exports.write_summary_xlsx(data.months, data.total, out, title=title),
        f"{name}.xlsx")

