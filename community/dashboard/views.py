"""Dashboard pages (desktop) under /dashboard: the community manager's month with its exports,
an area's month (red and grey lists, compliant coverage, rating trend, tonnage rates), the
paged community ranking and the monthly tonnage form of area and city admins.

Reads go through `dashboard.queries`; the one write (a tonnage entry) through
`dashboard.services`.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from community import clock
from community.collection import queries as collection_queries
from community.dashboard import charts, command, digest, exports, queries, rules
from community.dashboard import services as dashboard_services
from community.dashboard.forms import SORT_LABELS, TONNAGE_LABELS, TonnageForm, parse_month
from community.dashboard.schemas import FIGURE_LABELS, TONNAGE_FIELDS
from community.db import get_session
from community.errors import Forbidden, InvalidInput
from community.inbox import texts as inbox_texts
from community.ratings import metrics
from community.ratings import texts as ratings_texts
from community.ratings.services import month_days
from community.ratings.standing import LEVEL_LABELS, METRIC_LABELS
from community.reports import queries as reports_queries
from community.rows import pk
from community.stations.forms import WEEKDAY_LABELS
from community.stations.schemas import CATEGORY_LABELS
from community.web import downloads
from community.web.args import int_arg
from community.web.context import actor, client_ip
from community.web.forms import errors_onto_form

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")

inbox_texts.register_resolver(digest.KINDS, digest.word)


def month_arg(name: str = "month") -> date | None:
    """An optional YYYY-MM query argument (junk is treated as absent)."""
    return parse_month(request.args.get(name, "")[:7])


def _labels() -> dict:
    return {"metric_labels": METRIC_LABELS, "level_labels": LEVEL_LABELS,
            "figure_labels": FIGURE_LABELS,
            "category_labels": CATEGORY_LABELS, "weekday_labels": WEEKDAY_LABELS,
            "tonnage_labels": TONNAGE_LABELS,
            "sort_labels": {**SORT_LABELS, **METRIC_LABELS},
            "status_label": ratings_texts.status_label,
            "recycling_rate": metrics.recycling_rate,
            "resource_utilization_rate": metrics.resource_utilization_rate}


@bp.get("/")
@login_required
def index():
    """Area and city admins land on their area's dashboard, managers on their community's."""
    who = actor()
    if who.has_any("area_admin", "city_admin"):
        return redirect(url_for("dashboard.area"))
    if who.has_any("manager"):
        return redirect(url_for("dashboard.community"))
    raise Forbidden(action=queries.READ)


# --- The community manager's dashboard -----------------------------------------------------

def _community() -> queries.CommunityDashboard:
    return queries.community_dashboard(get_session(), actor=actor(),
                                       community_id=int_arg("community_id"), month=month_arg())


@bp.get("/community")
@login_required
def community():
    """A community's month: headline figures with last month, trends and breakdowns."""
    data = _community()
    as_of = clock.now().astimezone(ZoneInfo(data.community.timezone)).strftime("%H:%M")
    # The reports' card: 按期处置率 of the month and last month, open and overdue reports now.
    reports_card = reports_queries.summary(get_session(), pk(data.community), data.month)
    # Coloured by the same rule and target (99 %) as every KPI card, never green by default.
    reports_figure = None if reports_card is None else queries.Figure(
        "on_time_rate", reports_card.rate.value, reports_card.previous.value,
        rules.targets(None, ["on_time_rate"])["on_time_rate"])
    return render_template("dashboard/community.html", data=data, as_of=as_of,
                           reports_card=reports_card, reports_figure=reports_figure,
                           chart_data=charts.manager_charts(
                               data, as_of=_("as of %(time)s", time=as_of)), **_labels())


def _export_name(data: queries.CommunityDashboard, ext: str) -> str:
    return f"dashboard-{data.community.id}-{data.month.strftime('%Y-%m')}.{ext}"


@bp.get("/community/export.csv")
@login_required
def community_csv():
    """The dashboard's figures as CSV (utf-8-sig for Excel)."""
    data = _community()
    return downloads.csv_file(b"".join(exports.csv_chunks(data)), _export_name(data, "csv"))


@bp.get("/community/export.xlsx")
@login_required
def community_xlsx():
    """The dashboard's figures as XLSX."""
    data = _community()
    return downloads.xlsx_file(lambda out: exports.write_xlsx(data, out),
                               _export_name(data, "xlsx"))


# --- Areas ---------------------------------------------------------------------------------

@bp.get("/area")
@login_required
def area():
    """The area command view (驾驶舱): the area's figures against their targets, the ranking
    below it, trends, the worst and most improved, the stations map; then the red and grey
    lists, compliant coverage by district and street, the rating levels and tonnage rates."""
    session = get_session()
    data = queries.area_dashboard(session, actor=actor(), area_id=int_arg("area_id"),
                                  month=month_arg())
    view = command.command_view(session, area=data.area, month=data.month, today=data.today)
    # The ratings section's coverage card: the KPI card's target and colour rule, so the same
    # 57.1 % never reads green below and red above.
    coverage_target = rules.targets(None, ["compliant_coverage"])["compliant_coverage"]
    coverage_status = rules.kpi_status(data.compliant_coverage, coverage_target)
    return render_template("dashboard/area.html", data=data, view=view,
                           coverage_target=coverage_target, coverage_status=coverage_status,
                           chart_data=charts.command_charts(data, view), **_labels())


@bp.get("/ranking")
@login_required
def ranking():
    """An area's communities ranked for a month (by level or one metric), paged."""
    data = queries.ranking(get_session(), actor=actor(), area_id=int_arg("area_id"),
                           month=month_arg(), sort=request.args.get("sort", "level")[:24],
                           page=int_arg("page") or 1,
                           per_page=current_app.config["PAGE_SIZE"])
    return render_template("dashboard/ranking.html", data=data, **_labels())


@bp.route("/tonnage", methods=["GET", "POST"])
@login_required
def tonnage():
    """An area's monthly tonnages (area and city admins), with the resulting rates."""
    session = get_session()
    page = queries.tonnage_page(session, actor=actor(), area_id=int_arg("area_id"),
                                month=month_arg())
    form = TonnageForm()
    # The collectors' kg of the month (community/collection), shown as a source and used to
    # pre-fill R and K of a month not entered yet; the admin edits before saving.
    collected = collection_queries.area_month_kg(session, page.area, *month_days(page.month))
    prefill = {"recyclables": collected["recyclable"], "kitchen": collected["kitchen"]}
    if request.method == "GET":
        form.month.data = page.month.strftime("%Y-%m")
        for name, field in zip(TONNAGE_FIELDS, form.tonnage_fields(), strict=True):
            if page.entry:
                field.data = str(getattr(page.entry, name))
            elif prefill.get(name):
                field.data = str((prefill[name] / 1000).quantize(Decimal("0.01")))
            else:
                field.data = ""
    elif form.validate_on_submit():
        month = form.parsed.month
        try:
            saved = dashboard_services.save_tonnage(
                session, actor=actor(), area_id=pk(page.area), data=form.parsed,
                ip=client_ip())
        except InvalidInput as exc:
            field = exc.details.get("field")
            if field == "month":
                form.month.errors = [*form.month.errors,
                                     _("Tonnages can be entered for this month or earlier.")]
            else:
                errors_onto_form(form, exc, default=form.recyclables)
        else:
            if saved.created:
                flash(_("Tonnages of %(area)s for %(month)s saved.", area=page.area.name,
                        month=month.strftime("%Y-%m")), "info")
            else:
                flash(_("Tonnages of %(area)s for %(month)s updated.", area=page.area.name,
                        month=month.strftime("%Y-%m")), "info")
            return redirect(url_for("dashboard.tonnage", area_id=page.area.id,
                                    month=month.strftime("%Y-%m")))
    status = 422 if form.errors else 200
    return render_template("dashboard/tonnage.html", page=page, form=form,
                           collected=collected if any(collected.values()) else None,
                           prefilled=page.entry is None and any(prefill.values()),
                           **_labels()), status
