"""Manager pages of drop stations: stations, windows and exceptions, devices, drops and exports.

Desktop pages under /manage/stations and /manage/drops (blueprint "stations"). Station chiefs
read and regrade the drops of their community; everything else needs a manager (or an
area/city admin).
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import login_required
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # stubs: WTForms 3.2

from community import clock
from community.areas import services as areas_services
from community.auth import policy
from community.db import get_session, writes
from community.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from community.i18n import safe_next
from community.rows import pk
from community.stations import exports, windows
from community.stations import reasons as reasons_service
from community.stations import services as stations_services
from community.stations import settings as scan_settings_service
from community.stations.forms import (
    WEEKDAY_LABELS,
    DeviceForm,
    ExceptionForm,
    ReasonTextsForm,
    RegradeForm,
    ScheduleForm,
    StationForm,
    format_ranges,
)
from community.stations.manage import queries as manage_queries
from community.stations.manage import services as manage_services
from community.stations.models import Device, MisdropReason
from community.stations.schemas import (
    CATEGORY_LABELS,
    QUALITY_LABELS,
    SOURCE_LABELS,
    STATION_STATUS_LABELS,
)
from community.web import downloads, once
from community.web.args import date_arg, int_arg
from community.web.context import actor, client_ip
from community.web.downloads import private_file, upload_root
from community.web.forms import errors_onto_form

bp = Blueprint("stations", __name__, url_prefix="/manage")

NO_STORE = "no-store"


def _local(moment: datetime | None, tz: str, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A UTC moment as local time of the community's zone (pages show local times)."""
    return clock.local(moment, tz).strftime(fmt) if moment else ""


def _labels() -> dict:
    return {"local": _local, "category_labels": CATEGORY_LABELS, "quality_labels": QUALITY_LABELS,
            "source_labels": SOURCE_LABELS, "status_labels": STATION_STATUS_LABELS,
            "weekday_labels": WEEKDAY_LABELS, "fmt_range": windows.fmt_range}


# --- Stations ------------------------------------------------------------------------------

@bp.get("/stations")
@login_required
def index():
    """One community's stations with chief, windows and status."""
    data = manage_queries.list_stations(get_session(), actor=actor(),
                                        community_id=int_arg("community_id"))
    return render_template("stations/index.html", data=data, **_labels())


def _chief_choices(form: StationForm, community_id: int) -> None:
    people = manage_queries.chief_candidates(get_session(), community_id)
    form.chief_id.choices = [SelectChoice(0, _("— none —"))] + [
        SelectChoice(a.id, f"{a.display_name} ({a.username or a.phone})") for a in people]


def _station_error(form: StationForm, exc: InvalidInput | Conflict) -> None:
    """Show a service's refusal next to the field it concerns."""
    errors_onto_form(form, exc, default=form.name,
                     conflict=_("A station with this name already exists in the community."))


@bp.route("/stations/new", methods=["GET", "POST"])
@login_required
def new():
    """Add a station; it starts with the default windows 07:00–09:00 and 18:00–20:00."""
    session = get_session()
    community = areas_services.community_for(session, actor=actor(),
                                             community_id=int_arg("community_id"),
                                             action="station:manage")
    form = StationForm()
    if request.method == "GET":
        form.categories.data = list(CATEGORY_LABELS)
    _chief_choices(form, pk(community))
    if form.validate_on_submit():
        try:
            station = manage_services.create_station(
                session, actor=actor(), community_id=pk(community),
                data=form.parsed, ip=client_ip())
        except (InvalidInput, Conflict) as exc:
            _station_error(form, exc)
        else:
            flash(_("Station %(name)s added with the default windows.", name=station.name),
                  "info")
            return redirect(url_for("stations.detail", station_id=station.id))
    status = 422 if form.errors else 200
    return render_template("stations/form.html", form=form, community=community,
                           station=None), status


@bp.route("/stations/<int:station_id>/edit", methods=["GET", "POST"])
@login_required
def edit(station_id: int):
    """Change a station's name, place, bins, chief, status or grace minutes."""
    session = get_session()
    station, community = manage_queries.station_for(session, actor=actor(),
                                                    station_id=station_id)
    form = StationForm(obj=station)
    if request.method == "GET":
        form.categories.data = station.category_list()
        form.chief_id.data = station.chief_id or 0
    _chief_choices(form, pk(community))
    if form.validate_on_submit():
        try:
            station = manage_services.update_station(
                session, actor=actor(), station_id=station_id, data=form.parsed,
                ip=client_ip())
        except (InvalidInput, Conflict) as exc:
            _station_error(form, exc)
        else:
            flash(_("Station %(name)s saved.", name=station.name), "info")
            return redirect(url_for("stations.detail", station_id=station.id))
    status = 422 if form.errors else 200
    return render_template("stations/form.html", form=form, community=community,
                           station=station), status


@bp.post("/stations/<int:station_id>/status")
@login_required
def status(station_id: int):
    """Suspend a station (its scans are refused) or reopen it."""
    session = get_session()
    station = manage_services.set_station_status(
        session, actor=actor(), station_id=station_id, status=request.form.get("status", ""),
        ip=client_ip())
    if station.status == "open":
        flash(_("Station %(name)s is open again.", name=station.name), "info")
    else:
        flash(_("Station %(name)s is suspended.", name=station.name), "warning")
    return redirect(safe_next(request.form.get("next"),
                              url_for("stations.detail", station_id=station_id)))


def _render_detail(station_id: int, schedule: ScheduleForm | None = None,
                   exception: ExceptionForm | None = None, code: int = 200):
    page = manage_queries.station_page(get_session(), actor=actor(), station_id=station_id)
    if schedule is None:
        schedule = ScheduleForm(formdata=None)
        for d, f in enumerate(schedule.day_fields()):
            f.data = format_ranges(page.weekly.get(d, []))
    exception = exception or ExceptionForm(formdata=None)
    return render_template("stations/detail.html", page=page, schedule=schedule,
                           exception=exception, **_labels()), code


@bp.get("/stations/<int:station_id>")
@login_required
def detail(station_id: int):
    """A station: its fields, the weekly schedule editor and the date exceptions."""
    return _render_detail(station_id)


@bp.post("/stations/<int:station_id>/schedule")
@login_required
def schedule(station_id: int):
    """Save the weekly windows (several ranges per weekday; overlaps are refused)."""
    session = get_session()
    form = ScheduleForm()
    if form.validate_on_submit():
        try:
            manage_services.set_weekly_windows(session, actor=actor(), station_id=station_id,
                                               week=form.parsed, ip=client_ip())
        except manage_services.WindowsOverlap as exc:
            errors_onto_form(form, exc, default=form.weekday_0,
                             text=_("These time ranges overlap: %(ranges)s.",
                                    ranges=exc.details.get("ranges", "")))
        except InvalidInput as exc:
            errors_onto_form(form, exc, default=form.weekday_0, text=str(exc.message))
        else:
            flash(_("Weekly windows saved."), "info")
            return redirect(url_for("stations.detail", station_id=station_id))
    return _render_detail(station_id, schedule=form, code=422)


@bp.post("/stations/<int:station_id>/exceptions")
@login_required
def add_exception(station_id: int):
    """Close the station on a date, or give it special hours that day."""
    session = get_session()
    form = ExceptionForm()
    if form.validate_on_submit():
        try:
            manage_services.add_exception(session, actor=actor(), station_id=station_id,
                                          data=form.parsed, ip=client_ip())
        except manage_services.WindowsOverlap as exc:
            form.start.errors = [*form.start.errors, _("These time ranges overlap: %(ranges)s.",
                                                       ranges=exc.details.get("ranges", ""))]
        except (InvalidInput, Conflict) as exc:
            errors_onto_form(form, exc, default=form.day, text=str(exc.message))
        else:
            flash(_("Exception for %(day)s saved.", day=form.parsed.day.isoformat()), "info")
            return redirect(url_for("stations.detail", station_id=station_id))
    return _render_detail(station_id, exception=form, code=422)


@bp.post("/stations/exceptions/<int:exception_id>/delete")
@login_required
def remove_exception(exception_id: int):
    """Remove a date exception; the weekly windows apply again that day."""
    session = get_session()
    exc = manage_services.remove_exception(session, actor=actor(), exception_id=exception_id,
                                           ip=client_ip())
    flash(_("Exception for %(day)s removed.", day=exc.day.isoformat()), "info")
    return redirect(url_for("stations.detail", station_id=exc.station_id))


# --- Devices -------------------------------------------------------------------------------

def _render_devices(community_id: int | None, form: DeviceForm | None = None, code: int = 200):
    data = manage_queries.list_devices(get_session(), actor=actor(), community_id=community_id)
    form = form or DeviceForm(formdata=None)
    form.station_id.choices = [SelectChoice(0, _("— any station —"))] + [
        SelectChoice(s.id, s.name) for s in data.stations]
    return render_template("stations/devices.html", data=data, form=form), code


@bp.get("/stations/devices")
@login_required
def devices():
    """A community's kiosks, smart bins and scales, with the form to issue a new token."""
    return _render_devices(int_arg("community_id"))


@bp.post("/stations/devices")
@login_required
def issue_device():
    """Issue a device token and show it ONCE (it is stored hashed)."""
    session = get_session()
    community_id = int_arg("community_id")
    form = DeviceForm()
    if form.validate_on_submit():
        community = areas_services.community_for(session, actor=actor(),
                                                    community_id=community_id,
                                                    action="device:manage")
        try:
            device, token = stations_services.issue_device(
                session, actor=actor(), community_id=pk(community), data=form.parsed,
                ip=client_ip())
        except InvalidInput as exc:
            errors_onto_form(form, exc, default=form.name)
        else:
            # Post/Redirect/Get: the token page is a GET of its own (a reload issues no
            # second device); the token waits for it in this account's session only.
            once.keep("device_token", pk(device), {"token": token})
            return redirect(url_for("stations.device_token", device_id=pk(device)), 303)
    return _render_devices(community_id, form, 422)


@bp.get("/stations/devices/<int:device_id>/token")
@login_required
def device_token(device_id: int):
    """A device token just issued, shown ONCE (it is stored hashed); again: back to the list."""
    session = get_session()
    device = session.get(Device, device_id)
    if device is None:
        raise NotFound()
    community = areas_services.community_for(session, actor=actor(),
                                             community_id=device.community_id,
                                             action="device:manage")
    shown = once.take("device_token", device_id)
    if shown is None:
        flash(_("This token was shown once and cannot be displayed again. If it is lost, "
                "revoke the device and issue a new token."), "warning")
        return redirect(url_for("stations.devices", community_id=device.community_id))
    resp = Response(render_template("stations/device_token.html", device=device,
                                    token=shown["token"], community=community))
    resp.headers["Cache-Control"] = NO_STORE  # the token is shown once, never cached
    return resp


@bp.post("/stations/devices/<int:device_id>/revoke")
@login_required
def revoke_device(device_id: int):
    """Revoke a device token at once."""
    session = get_session()
    device = stations_services.revoke_device(session, actor=actor(), device_id=device_id,
                                             ip=client_ip())
    flash(_("Device %(name)s revoked; its token no longer works.", name=device.name), "warning")
    return redirect(url_for("stations.devices", community_id=device.community_id))


# --- Drops ---------------------------------------------------------------------------------

def _filters() -> manage_queries.DropFilter:
    """The drop filters from the query string (unknown values are ignored)."""
    args = request.args
    return manage_queries.DropFilter(
        community_id=int_arg("community_id"), station_id=int_arg("station_id"),
        day_from=date_arg("day_from"), day_to=date_arg("day_to"),
        category=args.get("category", "")[:12], quality=args.get("quality", "")[:10],
        window=args.get("window", "")[:4], kind=args.get("kind", "")[:10],
        q=args.get("q", "")[:60],
    )


def _filter_args(f: manage_queries.DropFilter) -> dict:
    """The resolved filter as query arguments (for export links and redirects)."""
    out = {"community_id": f.community_id, "station_id": f.station_id,
           "day_from": f.day_from.isoformat() if f.day_from else None,
           "day_to": f.day_to.isoformat() if f.day_to else None, "category": f.category,
           "quality": f.quality, "window": f.window, "kind": f.kind, "q": f.q}
    return {k: v for k, v in out.items() if v}


@bp.get("/drops")
@login_required
def drops():
    """A community's drops, filtered and paged, newest first."""
    data = manage_queries.list_drops(
        get_session(), actor=actor(), filters=_filters(), page=int_arg("page") or 1,
        per_page=current_app.config["PAGE_SIZE"])
    return render_template("stations/drops.html", data=data, f=data.filters,
                           filter_args=_filter_args(data.filters), **_labels())


def _start_export(fmt: str):
    """Authorize and size the export; on too many rows go back to the list with a message."""
    session = get_session()
    try:
        export = manage_services.export_drops(session, actor=actor(), filters=_filters(),
                                              fmt=fmt, ip=client_ip())
    except manage_services.ExportTooLarge as exc:
        flash(str(exc.message), "error")
        args: dict[str, Any] = request.args.to_dict()  # url_for's keyword values
        return None, redirect(url_for("stations.drops", **args))
    return export, None


def _filename(export: manage_queries.DropExport, ext: str) -> str:
    f = export.filters
    return f"drops-{export.community.id}-{f.day_from}-{f.day_to}.{ext}"


@bp.get("/drops/export.csv")
@login_required
@writes  # its audit entry
def export_csv():
    """The filtered drops as CSV (utf-8-sig for Excel), streamed."""
    export, back = _start_export("csv")
    if export is None:
        return back
    tz = export.community.timezone
    return downloads.streamed_csv(
        lambda s: exports.csv_chunks(manage_queries.export_rows(s, export), tz),
        _filename(export, "csv"))


@bp.get("/drops/export.xlsx")
@login_required
@writes  # its audit entry
def export_xlsx():
    """The filtered drops as XLSX with local times."""
    export, back = _start_export("xlsx")
    if export is None:
        return back
    return downloads.streamed_xlsx(
        lambda s, out: exports.write_xlsx(manage_queries.export_rows(s, export),
                                          export.community.timezone, out,
                                          title=export.community.name),
        _filename(export, "xlsx"))


@bp.get("/drops/<bigint:drop_id>")
@login_required
def drop(drop_id: int):
    """One drop: its facts, its photo, its regrade history and the regrade form."""
    session = get_session()
    detail = manage_queries.drop_detail(session, actor=actor(), drop_id=drop_id,
                                        lang=str(get_locale() or "zh"))
    form = _regrade_choices(session, RegradeForm(formdata=None), detail)
    return render_template("stations/drop.html", d=detail, form=form, **_labels())


def _regrade_choices(session: Any, form: RegradeForm,
                     detail: manage_queries.DropDetail) -> RegradeForm:
    """The qualities a drop can change to, and its community's active mis-drop reasons (a
    regrade to incorrect names one, unless the drop keeps the steward's)."""
    form.quality.choices = [SelectChoice(k, v) for k, v in QUALITY_LABELS.items()
                            if k != detail.drop.quality]
    keep = _("— keep the steward's reason —") if detail.drop.reason_code else "—"
    form.reason_code.choices = [SelectChoice("", keep)] + [
        SelectChoice(r.code, r.label) for r in reasons_service.reasons_for(
            session, detail.drop.community_id, lang=str(get_locale() or "zh"))]
    return form


@bp.post("/drops/<bigint:drop_id>/regrade")
@login_required
def regrade(drop_id: int):
    """Change a drop's quality with a reason (managers and station chiefs)."""
    session = get_session()
    form = RegradeForm()
    if not form.validate_on_submit():
        if form.errors.keys() <= {"reason", "reason_code"}:  # the page again, saying why
            detail = manage_queries.drop_detail(session, actor=actor(), drop_id=drop_id,
                                                lang=str(get_locale() or "zh"))
            return render_template("stations/drop.html", d=detail,
                                   form=_regrade_choices(session, form, detail),
                                   **_labels()), 422
        raise InvalidInput(field="quality")
    try:
        change = stations_services.regrade_drop(session, actor=actor(), drop_id=drop_id,
                                                data=form.parsed, ip=client_ip())
    except (InvalidInput, stations_services.DropVoided, reasons_service.ReasonUnknown,
            reasons_service.ReasonNeedsNote, reasons_service.ReasonNotIncorrect) as exc:
        flash(str(exc.message), "error")
    else:
        flash(_("Quality changed from %(old)s to %(new)s.",
                old=QUALITY_LABELS[change.from_quality], new=QUALITY_LABELS[change.to_quality]),
              "info")
    return redirect(url_for("stations.drop", drop_id=drop_id))


def photo_root() -> Path:
    """Where drop photos live (as the API stores them): <UPLOAD_DIR or instance>/photos."""
    return upload_root("photos")


@bp.get("/drops/<bigint:drop_id>/photo")
@login_required
def photo(drop_id: int):
    """A drop's photo, for readers of the drop's community only."""
    path = manage_queries.drop_photo(get_session(), actor=actor(), drop_id=drop_id)
    return private_file("photos", path, cache="private, no-store")



# --- Scan settings and mis-drop reasons ----------------------------------------------------

def _scan_settings_page(session, community, *, add_form: Any = None,
                        edit_forms: dict[int, Any] | None = None) -> str:
    lang = str(get_locale() or "zh")
    rows = reasons_service.reason_rows(session, pk(community), active_only=False)
    forms = dict(edit_forms or {})
    for r in rows:  # the community's own reasons are edited here (the city's by its admin)
        if r.community_id is not None and r.id not in forms:
            forms[pk(r)] = ReasonTextsForm(formdata=None, prefix=f"r{r.id}", data={
                "label_zh": r.label_zh, "label_en": r.label_en, "howto_zh": r.howto_zh,
                "howto_en": r.howto_en})
    return render_template(
        "stations/scan_settings.html", community=community,
        communities=areas_services.communities_for(session, actor(), "community:settings"),
        default_quality=scan_settings_service.default_qualities(session, [pk(community)])[
            pk(community)],
        qualities=[(q, QUALITY_LABELS[q]) for q in scan_settings_service.DEFAULT_QUALITIES],
        reasons=list(zip(reasons_service.reasons_for(session, pk(community), lang=lang,
                                                     active_only=False), rows, strict=True)),
        edit_forms=forms, add_form=add_form or ReasonTextsForm(formdata=None))


@bp.get("/stations/scan-settings")
@login_required
def scan_settings():
    """The community's scan page settings and its mis-drop reasons (community:settings)."""
    session = get_session()
    community = areas_services.community_for(session, actor=actor(),
                                             community_id=int_arg("community_id"),
                                             action="community:settings")
    return _scan_settings_page(session, community)


@bp.post("/stations/scan-settings")
@login_required
def save_scan_settings():
    """Set the quality the scan page returns to after each scan."""
    community_id = int_arg("community_id") or 0
    scan_settings_service.set_default_quality(
        get_session(), actor=actor(), community_id=community_id,
        quality=request.form.get("default_quality", ""))
    flash(_("Saved."), "success")
    return redirect(url_for("stations.scan_settings", community_id=community_id))


@bp.post("/stations/reasons")
@login_required
def add_reason():
    """Add a mis-drop reason of the community's own (a label already in use is refused)."""
    session = get_session()
    community = areas_services.community_for(session, actor=actor(),
                                             community_id=int_arg("community_id"),
                                             action="community:settings")
    form = ReasonTextsForm()
    if form.validate_on_submit():
        try:
            reasons_service.add_reason(session, actor=actor(), community_id=pk(community),
                                       **form.parsed.model_dump())
        except DomainError as exc:
            if exc.status in (403, 404):
                raise
            errors_onto_form(form, exc, default=form.label_zh, own_words=True)
        else:
            flash(_("Reason added."), "success")
            return redirect(url_for("stations.scan_settings", community_id=pk(community)))
    return _scan_settings_page(session, community, add_form=form), 422


@bp.post("/stations/reasons/<int:reason_id>/active")
@login_required
def set_reason_active(reason_id: int):
    """Deactivate (or restore) a reason of the community's own."""
    session = get_session()
    active = request.form.get("active") == "1"
    reason: MisdropReason | None
    try:
        reason = reasons_service.set_active(session, actor=actor(), reason_id=reason_id,
                                            active=active, ip=client_ip())
    except reasons_service.ReasonDuplicate as exc:  # refused before any change
        flash(str(exc.message), "error")
        reason = session.get(MisdropReason, reason_id)
    else:
        flash(_("Reason restored.") if active else _("Reason deactivated."), "success")
    community_id = reason.community_id if reason else None
    return redirect(url_for("stations.scan_settings", community_id=community_id)
                    + f"#reason-{reason_id}")


# --- The city's mis-drop reasons: labels and how-to texts -----------------------------------

def _reason_forms(session) -> list[tuple[Any, ReasonTextsForm, str]]:
    """The city's reasons, each with its form and its label in the reader's language."""
    lang = str(get_locale() or "zh")
    rows = [r for r in reasons_service.reason_rows(session, 0, active_only=False)
            if r.community_id is None]
    return [(r, ReasonTextsForm(formdata=None, prefix=f"r{r.id}", data={
        "label_zh": r.label_zh, "label_en": r.label_en, "howto_zh": r.howto_zh,
        "howto_en": r.howto_en}), reasons_service.label_for(r, lang)) for r in rows]


@bp.get("/reasons")
@login_required
def city_reasons():
    """The city-wide mis-drop reasons with their bilingual labels and how-to texts (city admin)."""
    if not policy.offers(actor(), "reasons:city"):
        raise Forbidden(action="reasons:city")
    return render_template("stations/reasons.html", rows=_reason_forms(get_session()))


@bp.post("/reasons/<int:reason_id>")
@login_required
def edit_reason(reason_id: int):
    """Save one reason's words (the city's by a city admin, a community's by its manager)."""
    session = get_session()
    form = ReasonTextsForm(prefix=f"r{reason_id}")
    reason = session.get(MisdropReason, reason_id)
    if reason is None:
        raise NotFound()
    if form.validate_on_submit():
        try:
            reasons_service.edit_texts(session, actor=actor(), reason_id=reason_id,
                                       ip=client_ip(), **form.parsed.model_dump())
        except DomainError as exc:
            if exc.status in (403, 404):
                raise
            errors_onto_form(form, exc, default=form.label_zh, own_words=True)
        else:
            flash(_("Saved."), "success")
            if reason.community_id is not None:  # back to the community's page (a manager's)
                return redirect(url_for("stations.scan_settings",
                                        community_id=reason.community_id)
                                + f"#reason-{reason_id}")
            return redirect(url_for("stations.city_reasons") + f"#reason-{reason_id}")
    if reason.community_id is not None:
        community = areas_services.community_for(session, actor=actor(),
                                                 community_id=reason.community_id,
                                                 action="community:settings")
        return _scan_settings_page(session, community, edit_forms={reason_id: form}), 422
    if not policy.offers(actor(), "reasons:city"):
        raise Forbidden(action="reasons:city")
    rows = [(r, form if r.id == reason_id else f, label)
            for r, f, label in _reason_forms(session)]
    return render_template("stations/reasons.html", rows=rows), 422
