"""Collection pages (blueprint "collection"): the collector's day and pickup page (phone,
offline-capable), the pickup batch API the page's queue sends to, and the managers' pages
(the stations' collection QR sheet, pickup windows, the month's figures).

Views parse → call one service or query → render or answer JSON; the request's one commit
point commits. The pickup page talks only to `/collector/api/collections` (JSON, an
X-CSRFToken header): pickups are queued in IndexedDB first and synced, so one recorded
offline is never lost or stored twice.
"""
from __future__ import annotations

import hashlib
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from flask_wtf.csrf import CSRFError, validate_csrf
from pydantic import ValidationError
from werkzeug.exceptions import UnsupportedMediaType
from wtforms import ValidationError as CsrfInvalid

from community import clock
from community.areas import services as areas_services
from community.areas.models import Area
from community.auth import policy
from community.collection import openapi as collection_openapi
from community.collection import queries, rules, services
from community.collection.schemas import (
    BINS_RULE,
    CONTAMINATED_RULE,
    KG_NEEDED,
    KG_NEGATIVE,
    KG_RULE,
    CollectionBatchIn,
    CollectionBatchOut,
    PickupWindowsIn,
    StationFoundOut,
)
from community.db import get_session
from community.errors import Forbidden, InvalidInput, NotFound
from community.households import qr
from community.rows import pk
from community.stations import openapi as stations_openapi
from community.stations.forms import WEEKDAY_LABELS
from community.stations.models import CATEGORIES, Station
from community.stations.schemas import CATEGORY_LABELS
from community.web import offline
from community.web.args import int_arg, month_arg
from community.web.context import actor
from community.web.downloads import upload_root
from community.web.errors import validation_fields

bp = Blueprint("collection", __name__)

MAX_BATCH_BYTES = collection_openapi.MAX_BATCH_BYTES
API_BATCH = collection_openapi.BATCH_PATH
API_CSRF = "/api/v1/csrf"
API_STATION = collection_openapi.STATION_PATH
# The pickup API in the JSON API's OpenAPI document (/api/v1/openapi.json, /api/docs).
stations_openapi.register(collection_openapi.PART)
# Static files the service worker pre-caches so the page works with no network at all.
PRECACHED_STATIC = (
    "css/app.css",
    "js/collect.js",
    "js/confirm-panel.js",
    "js/scan-queue.js",
    "js/qr-camera.js",
    "vendor/zxing-wasm/reader.js",
    "vendor/zxing-wasm/zxing_reader.wasm",
)

UI_STRINGS = {
    "queued": _l("Saved on this phone; it will be sent when online."),
    "recorded": _l("Pickup recorded"),
    "replayed": _l("Already recorded"),
    "syncing": _l("Sending…"),
    "synced": _l("All pickups sent."),
    "offline": _l("Offline: pickups are kept on this phone."),
    "online": _l("Online"),
    "server_error": _l("The server did not accept the pickups now; they stay queued."),
    "login_again": _l("Your login has expired. Log in again to send the queued pickups."),
    "no_station": _l("Scan the station's collection QR first."),
    "unknown_station": _l("This code is not one of your stations. Check it, or scan again."),
    "bad_code": _l("A collection code is the 8 characters under the station's QR, e.g. "
                   "ABCD-2345."),
    "station_set": _l("Station"),
    "nothing": _l("Enter the bins and kg of at least one category."),
    "photo_needed": _l("Take a photo of the contamination."),
    # The server's own field rules (schemas.LineIn), checked on the page before queueing.
    "kg_negative": KG_NEGATIVE,
    "kg_rule": KG_RULE,
    "kg_needed": KG_NEEDED,
    # A second pickup of the same station and category within 30 minutes: collect.js asks
    # in the page's panel (collect.html #repeat-panel), naming the categories collected again.
    "repeat": _l("This station's %(categories)s was already collected at %(time)s, less than "
                 "%(minutes)s minutes ago."),
    "repeat_cancelled": _l("Not recorded: the earlier pickup stands."),
    "list_sep": _l(", "),
    "bins_rule": BINS_RULE,
    "contaminated_rule": CONTAMINATED_RULE,
    "fix_fields": _l("Not saved: correct the marked fields."),
    "refused": _l("Refused"),
    "edit": _l("Edit and resend"),
    "discard": _l("Discard"),
    "failed": _l("Not recorded"),
    "camera_error": _l("The camera is not available. Type the code or take a photo."),
    "camera_on": _l("Stop camera"),
    "camera_off": _l("Start camera"),
    "no_qr": _l("No QR code found in the photo. Try again closer, or type the code."),
    "scanner_loading": _l("Loading the scanner…"),
}


def _require_collector() -> policy.Actor:
    who = actor()
    if not policy.offers(who, "collection:record"):
        raise Forbidden(action="collection:record")
    return who


def _photo_root() -> Path:
    """Where collection photos live: <UPLOAD_DIR or instance>/collection."""
    return upload_root("collection")


def _today() -> date:
    # Collectors of one city share its zone; the default zone names the day before any area.
    return clock.now().astimezone(ZoneInfo("Asia/Shanghai")).date()


def tag_hash(token: str) -> str:
    """What the page knows of a station's tag: a hash, so it can name a scanned station
    offline without holding the tokens themselves (the sticker stays the proof of presence)."""
    return hashlib.sha256(token.encode()).hexdigest()[:20]


# --- The collector's pages (phone) ---------------------------------------------------------

@bp.get("/collector/")
@login_required
def day():
    """The collector's day: the stations to visit, their pickup windows, done or not."""
    who = _require_collector()
    today = _today()
    stops = queries.collector_day(get_session(), actor=who, day=today)
    return render_template("collection/day.html", stops=stops, day=today,
                           done=sum(s.done for s in stops), title=_("Today's pickups"))


@bp.get("/collector/collect")
@login_required
def collect():
    """The pickup page: scan (or type) the station's collection QR, then per category the
    bins, kg and contamination with a photo; queued offline and synced."""
    who = _require_collector()
    session = get_session()
    stations = queries.collector_stations(session, actor=who)
    tags = queries.station_tags(session, [s.id for s in stations])
    codes = queries.station_codes(session, [s.id for s in stations])
    known = {s.id: {"id": s.id, "name": s.name, "community": s.community_name,
                    "categories": s.categories} for s in stations if s.id in tags}
    # Each station under the hash of its QR's token and of its short code (typed offline).
    by_hash = {tag_hash(tags[sid]): info for sid, info in known.items()}
    by_hash.update({tag_hash(codes[sid]): info for sid, info in known.items() if sid in codes})
    # The pickups of the last REPEAT_MINUTES at these stations (anyone's, from any phone):
    # the page asks before recording the same station and category again.
    since = clock.now() - timedelta(minutes=rules.REPEAT_MINUTES)
    recent = [{"station": str(sid), "category": cat, "at": int(at.timestamp() * 1000)}
              for sid, cat, at in queries.recent_pickups(session, known, since)]
    config = {
        "stations": by_hash,
        "recent": recent,
        "repeat_minutes": rules.REPEAT_MINUTES,
        "prefix": rules.TAG_PREFIX,
        "code_alphabet": rules.CODE_ALPHABET,
        "urls": {"batch": API_BATCH, "csrf": API_CSRF, "station": API_STATION,
                 "sw": url_for("collection.service_worker"), "scope": "/collector/",
                 "wasm": url_for("static", filename="vendor/zxing-wasm/zxing_reader.wasm")},
        "labels": {"ui": {k: str(v) for k, v in UI_STRINGS.items()},
                   "categories": {c: str(CATEGORY_LABELS[c]) for c in CATEGORIES}},
    }
    return render_template("collection/collect.html", config=config,
                           categories=[(c, CATEGORY_LABELS[c]) for c in CATEGORIES],
                           title=_("Record a pickup"))


@bp.get("/collector/sw.js")
def service_worker():
    """The pickup page's service worker (the steward's sw.js with its own cache prefix), served
    from /collector/ so its scope may be /collector/: the page, and the day list it links
    to, reload offline."""
    return offline.service_worker("collection.collect", PRECACHED_STATIC, prefix="collector-",
                                  pages=("collection.day",))


@bp.post(API_BATCH)
@login_required
def record_batch():
    """Record a phone's queued pickups: one result per item (stored, replayed or refused with
    an error code); a refused item leaves nothing behind."""
    who = actor()
    if current_app.config.get("WTF_CSRF_ENABLED", True):
        try:
            validate_csrf(request.headers.get("X-CSRFToken"))
        except CsrfInvalid as exc:
            raise CSRFError(str(exc)) from None
    if request.mimetype != "application/json":
        raise UnsupportedMediaType()
    request.max_content_length = MAX_BATCH_BYTES
    try:
        batch = CollectionBatchIn.model_validate_json(request.get_data(cache=False))
    except ValidationError as err:
        raise InvalidInput(fields=validation_fields(err)) from None
    if not policy.offers(who, "collection:record"):
        raise Forbidden(action="collection:record")
    results = services.record_batch(get_session(), actor=who, raw_items=batch.collections,
                                    photo_dir=_photo_root())
    return jsonify(CollectionBatchOut(results=results).model_dump(mode="json")), 200


@bp.get(API_STATION)
@login_required
def find_station():
    """The station a scanned or typed collection code names (JSON), so the pickup page can
    say whether a code it does not know is unknown or outside the collector's area."""
    text = request.args.get("code", "")[:collection_openapi.MAX_CODE_TEXT]
    station = services.find_station(get_session(), actor=actor(), text=text)
    return jsonify(StationFoundOut(id=pk(station), name=station.name).model_dump()), 200


@bp.get("/collection/lines/<int:line_id>/photo")
@login_required
def line_photo(line_id: int):
    """A contamination photo, for its community's readers and the area's collectors."""
    path = services.photo_path(get_session(), actor=actor(), line_id=line_id)
    root = _photo_root().resolve()
    full = (root / path).resolve()
    if root not in full.parents or not full.is_file():
        raise NotFound()
    resp = send_file(full)
    resp.headers["Cache-Control"] = "private, max-age=3600"
    return resp


# --- The managers' pages (desktop) ---------------------------------------------------------

def _community(action: str):
    return areas_services.community_for(get_session(), actor=actor(),
                                        community_id=int_arg("community_id"), action=action)


def _month() -> date:
    """The month asked for (junk or a year out of range: this month)."""
    return month_arg("month") or _today().replace(day=1)


@bp.get("/collection/")
@login_required
def figures():
    """A community's month of collection: per station the pickups, punctuality, kg, and
    contaminated bins (收运端检出), with a chart of contamination by station."""
    area = _community("collection:read")
    session = get_session()
    first = _month()
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    rows = queries.period_figures(session, [area.id or 0], first, last, now=clock.now())
    most = max((r.contaminated_total for r in rows), default=0)
    communities = areas_services.communities_for(session, actor(), "collection:read")
    lines = queries.contaminated_lines(session, area.id or 0, first, last)
    return render_template("collection/figures.html", area=area, rows=rows, month=first,
                           lines=lines, zone=ZoneInfo(area.timezone),
                           most=most, communities=communities, categories=CATEGORIES,
                           category_labels=CATEGORY_LABELS,
                           prev=(first - timedelta(days=1)).replace(day=1),
                           next=(last + timedelta(days=1)),
                           title=_("Collection"))


@bp.get("/collection/tags")
@login_required
def tags():
    """The community's stations with their collection QR codes, to print and stick up."""
    area = _community("collection:manage")
    session = get_session()
    stations = queries.community_stations(session, area.id or 0)
    found = queries.station_tags(session, [s.id or 0 for s in stations])
    ranges = queries.pickup_ranges_now(session, [s.id or 0 for s in stations], _today())
    codes = [(s, qr.render_svg_element(rules.tag_text(found[s.id or 0]))
              if s.id in found else None, ranges.get(s.id or 0, [])) for s in stations]
    return render_template("collection/tags.html", area=area, codes=codes,
                           missing=sum(1 for _s, svg, _r in codes if svg is None),
                           tag_texts={sid: rules.tag_text(t) for sid, t in found.items()},
                           short_codes={sid: rules.format_code(c) for sid, c in
                                        queries.station_codes(session, list(found)).items()},
                           weekday_labels=WEEKDAY_LABELS, title=_("Collection QR codes"))


@bp.post("/collection/tags")
@login_required
def make_tags():
    """Make the collection QR codes of the community's stations that have none yet."""
    area = _community("collection:manage")
    session = get_session()
    who = actor()
    for s in queries.community_stations(session, area.id or 0):
        services.issue_tag(session, actor=who, station_id=s.id or 0)
    flash(_("Collection QR codes are ready to print."), "success")
    return redirect(url_for("collection.tags", community_id=area.id))


@bp.post("/collection/stations/<int:station_id>/tag")
@login_required
def reissue_tag(station_id: int):
    """Print a new collection QR for a station; the old sticker stops working."""
    session = get_session()
    services.issue_tag(session, actor=actor(), station_id=station_id, reissue=True)
    station = session.get(Station, station_id)
    flash(_("A new collection QR was made. Print it and replace the old sticker."), "success")
    return redirect(url_for("collection.tags", community_id=station.community_id if station
                            else None))


@bp.route("/collection/stations/<int:station_id>/pickup", methods=["GET", "POST"])
@login_required
def pickup_windows(station_id: int):
    """A station's pickup windows from a day on (a new version; past days keep theirs)."""
    session = get_session()
    station = session.get(Station, station_id)
    area = session.get(Area, station.community_id) if station else None
    if station is None or area is None:
        raise NotFound()
    policy.require(actor(), "collection:manage", area)
    errors: dict[str, str] = {}
    form = {"ranges": "06:00-07:00, 19:00-20:00", "effective_from": _today().isoformat(),
            "weekdays": [str(d) for d in range(7)]}
    if request.method == "POST":
        form = {"ranges": request.form.get("ranges", ""),
                "effective_from": request.form.get("effective_from", ""),
                "weekdays": request.form.getlist("weekdays")}
        try:
            data = PickupWindowsIn.parse(ranges=form["ranges"],
                                         effective_from=form["effective_from"],
                                         weekdays=[int(d) for d in form["weekdays"]
                                                   if d.isdigit() and len(d) == 1])
            services.set_pickup_windows(session, actor=actor(), station_id=station_id,
                                        data=data)
        except InvalidInput as err:
            errors = {k: str(v) for k, v in err.details.get("fields", {}).items()}
        except services.EffectiveInPast as err:
            errors = {"effective_from": str(err.message)}
        if not errors:
            flash(_("Pickup windows saved."), "success")
            return redirect(url_for("collection.tags", community_id=station.community_id))
    current = queries.pickup_ranges_now(session, [station_id], _today()).get(station_id, [])
    return render_template("collection/pickup.html", station=station, area=area, form=form,
                           errors=errors, current=current, weekday_labels=WEEKDAY_LABELS,
                           title=_("Pickup windows")), (422 if errors else 200)

