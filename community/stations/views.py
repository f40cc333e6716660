"""The steward's scan page (phone, offline-capable) and its service worker (blueprint "steward").

The page is rendered once with everything it needs (stations, translated labels, the CSRF
token) and then talks only to the JSON API under /api/v1: drops are queued in IndexedDB
first and synced in batches, so a scan made offline is never lost or stored twice.
The managers' pages are in `stations.manage.views`.
"""
from __future__ import annotations

from datetime import datetime

from flask import Blueprint, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlmodel import Session

from community import clock
from community.db import get_session
from community.stations import duty, queries, reasons
from community.stations import rules as scan_rules
from community.stations import settings as scan_settings
from community.stations.models import CATEGORIES, QUALITIES
from community.stations.schemas import CATEGORY_LABELS, QUALITY_LABELS
from community.web import offline
from community.web.context import actor

bp = Blueprint("steward", __name__, url_prefix="/steward")

# The API the page talks to (community/stations/api.py); plain paths so the page still
# renders, and the queue keeps working, whatever else is registered.
API_BATCH = "/api/v1/drops/batch"
API_CSRF = "/api/v1/csrf"
API_VOID = "/api/v1/drops/{client_id}/void"
API_PHOTO = "/api/v1/drops/{client_id}/photo"

# Static files the service worker pre-caches so the page works with no network at all.
PRECACHED_STATIC = (
    "css/app.css",
    "js/scan.js",
    "js/scan-queue.js",
    "js/qr-camera.js",
    "js/confirm-panel.js",
    "vendor/zxing-wasm/reader.js",
    "vendor/zxing-wasm/zxing_reader.wasm",
)

WARNING_LABELS = {
    "out_of_window": _l("Out-of-window drop"),
    "recent_duplicate": _l("Same household and category a few minutes ago"),
}
# Headlines for the API's error codes; the API's own message is shown below them.
ERROR_LABELS = {
    "card_revoked": _l("This card is revoked"),
    "card_unknown": _l("Unknown card"),
    "station_unknown": _l("Unknown station"),
    "station_suspended": _l("Station suspended"),
    "category_not_accepted": _l("No bin for this category"),
    "time_in_future": _l("Time in the future"),
    "time_too_old": _l("Too old to record"),
    "forbidden": _l("Not allowed at this station"),
    "invalid": _l("Invalid data"),
    "reason_unknown": _l("Unknown reason"),
    "reason_needs_note": _l("A note is needed"),
    "reason_not_incorrect": _l("Only an incorrect drop has a reason"),
    "void_too_late": _l("Too late to undo"),
    "void_not_yours": _l("Not your scan"),
}
# Messages scan.js shows by itself (offline, camera, queue).
UI_STRINGS = {
    "queued": _l("Saved on this phone; it will be sent when online."),
    "recorded": _l("Recorded"),
    "replayed": _l("Already recorded"),
    "tally": _l("Anonymous tally"),
    "points": _l("Points"),
    "syncing": _l("Sending…"),
    "synced": _l("All drops sent."),
    "offline": _l("Offline: drops are kept on this phone."),
    "online": _l("Online"),
    "server_error": _l("The server did not accept the drops now; they stay queued."),
    "login_again": _l("Your login has expired. Log in again to send the queued drops."),
    "no_station": _l("Choose a station first."),
    "camera_error": _l("The camera is not available. Type the code or take a photo."),
    "camera_on": _l("Stop camera"),
    "camera_off": _l("Start camera"),
    "no_qr": _l("No QR code found in the photo. Try again closer, or type the code."),
    "bad_qr": _l("This QR code is not a household card."),
    "bad_code": _l("Enter the 8-character code, e.g. ABCD-EFGH."),
    "failed": _l("Not recorded"),
    "scanner_loading": _l("Loading the scanner…"),
    "choose_reason": _l("Choose why the drop is incorrect first."),
    "note_needed": _l("Write in the note what was wrong."),
    "repeat_text": _l("This card was recorded for this category %(minutes)s min ago. A repeat "
                      "is kept but earns no points."),
    "repeat_named": _l("%(household)s was recorded for this category %(minutes)s min ago. A "
                       "repeat is kept but earns no points."),
    "undo": _l("Undo"),
    "undone": _l("Undone"),
    "undone_points": _l("Undone; points taken back: %(points)s"),
    "undo_offline": _l("Undo needs a connection: this scan was already sent."),
    "photo_added": _l("Photo added"),
    "repeat": _l("Repeat: no points"),
    # A new scan closed an unanswered "record again?" (scan.js closeOpenQuestion).
    "repeat_dropped_named": _l("Not recorded again: %(household)s (the next card came before "
                               "“Record again?” was answered)."),
    "repeat_dropped": _l("The earlier card was not recorded again (the next card came before "
                         "“Record again?” was answered)."),
}


def _labels() -> dict[str, dict[str, str]]:
    """Every label the page's script needs, in the user's language."""
    return {
        "categories": {c: str(CATEGORY_LABELS[c]) for c in CATEGORIES},
        "qualities": {q: str(QUALITY_LABELS[q]) for q in QUALITIES},
        "warnings": {k: str(v) for k, v in WARNING_LABELS.items()},
        "errors": {k: str(v) for k, v in ERROR_LABELS.items()},
        "ui": {k: str(v) for k, v in UI_STRINGS.items()},
    }


@bp.get("/scan")
@login_required
def scan():
    """The scan page: pick a station, a category and a quality, then scan cards."""
    session = get_session()
    acting = actor()
    now = clock.now()
    stations = queries.scan_stations(session, actor=acting)
    communities = {s.community_id for s in stations}
    lang = str(get_locale() or "zh")
    config = {
        "account": current_user.id,
        # The server's clock (ms): the page's undo timers count in it (a phone's clock drifts).
        "server_now": int(now.timestamp() * 1000),
        "preselect": _preselect(session, stations, now),
        # The steward's own scans they may still undo: listed with their undo buttons after a
        # reload, not only on the page that made them.
        "recent": [{"client_id": r.client_id, "station_id": r.station_id,
                    "category": r.category, "quality": r.quality,
                    "happened_at": int(r.happened_at.timestamp() * 1000),
                    "void_until": int(r.void_until.timestamp() * 1000),
                    "household_label": r.household_label, "points": r.points,
                    "repeat": r.repeat, "voided": r.voided}
                   for r in queries.recent_scans(session, actor=acting,
                                                 community_ids=sorted(communities), now=now)],
        "stations": [{"id": s.id, "name": s.name, "location": s.location,
                      "community": s.community_name, "community_id": s.community_id,
                      "categories": s.categories}
                     for s in stations],
        # Per community: the quality the page returns to after each scan, and the reasons
        # an incorrect verdict picks from.
        "default_quality": {str(c): q for c, q in
                            scan_settings.default_qualities(session, communities).items()},
        "reasons": {str(c): [{"code": r.code, "label": r.label, "needs_note": r.needs_note}
                             for r in reasons.reasons_for(session, c, lang=lang)]
                    for c in sorted(communities)},
        "duplicate_minutes": int(scan_rules.DUPLICATE_WINDOW.total_seconds() // 60),
        "void_minutes": int(scan_rules.VOID_WINDOW.total_seconds() // 60),
        "urls": {
            "batch": API_BATCH,
            "csrf": API_CSRF,
            "void": API_VOID,
            "photo": API_PHOTO,
            "sw": url_for("steward.service_worker"),
            "scope": url_for("steward.scan").rsplit("/", 1)[0] + "/",
            "wasm": url_for("static", filename="vendor/zxing-wasm/zxing_reader.wasm"),
        },
        "labels": _labels(),
    }
    return render_template(
        "stations/scan.html", stations=stations, config=config,
        categories=[(c, CATEGORY_LABELS[c]) for c in CATEGORIES],
        qualities=[(q, QUALITY_LABELS[q]) for q in QUALITIES],
        title=_("Scan drops"),
    )


def _preselect(session: Session, stations: list[queries.ScanStation],
               now: datetime) -> int | None:
    """The station the page starts on: that of the steward's current (else next) shift, or
    the only one there is; None leaves it to the phone's last choice."""
    ids = {s.id for s in stations}
    shift = duty.shift_station(session, current_user.id, now) if current_user.id else None
    if shift in ids:
        return shift
    return stations[0].id if len(stations) == 1 else None


@bp.get("/sw.js")
def service_worker():
    """The service worker, served from /steward/ so its scope may be /steward/."""
    return offline.service_worker("steward.scan", PRECACHED_STATIC)
