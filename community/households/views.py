"""Community manager pages: household registry, import, card actions and card files."""
from __future__ import annotations

from dataclasses import asdict
from io import BytesIO

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import login_required
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # stubs: WTForms 3.2

from community.areas import services as areas_services
from community.db import end_reads, get_session, writes
from community.errors import Conflict, Forbidden, InvalidInput, NotFound
from community.households import importer, qr, sheets
from community.households import services as hh_services
from community.households.codes import format_code
from community.households.forms import CARD_LABELS, HouseholdForm, ImportForm
from community.households.schemas import STATUS_LABELS
from community.i18n import safe_next
from community.rows import pk
from community.web import once
from community.web.args import int_arg
from community.web.context import actor, client_ip
from community.web.forms import errors_onto_form

bp = Blueprint("households", __name__, url_prefix="/manage")

NO_STORE = "no-store"


def _back(community_id: int) -> str:
    """Where an action returns to: the page it came from (same site) or the community's list."""
    return safe_next(request.form.get("next") or request.args.get("next"),
                     url_for("households.index", community_id=community_id))


@bp.get("/households")
@login_required
def index():
    """The manager's landing page: one community's households, searched, filtered and paged."""
    status = request.args.get("status", "")
    card = request.args.get("card", "")
    registry = hh_services.list_households(
        get_session(), actor=actor(), community_id=int_arg("community_id"),
        q=request.args.get("q", "")[:60], building=request.args.get("building", "")[:20],
        status=status if status in STATUS_LABELS else "",
        card=card if card in CARD_LABELS else "",
        page=int_arg("page") or 1, per_page=current_app.config["PAGE_SIZE"],
    )
    return render_template(
        "households/index.html", registry=registry, status_labels=STATUS_LABELS,
        card_labels=CARD_LABELS, label=hh_services.address_label, format_code=format_code,
    )


def _apply_domain_error(form: HouseholdForm, exc: InvalidInput | Conflict) -> None:
    """Show a service's refusal next to the field it concerns."""
    errors_onto_form(form, exc, default=form.room,
                     conflict=_("A household at this address already exists."))


@bp.route("/households/new", methods=["GET", "POST"])
@login_required
def new():
    """Register a household in a community; it gets its first card at once."""
    session = get_session()
    community = areas_services.community_for(session, actor=actor(),
                                             community_id=int_arg("community_id"),
                                             action="household:write")
    form = HouseholdForm()
    if form.validate_on_submit():
        try:
            hh = hh_services.create_household(
                session, actor=actor(), community_id=pk(community), data=form.parsed,
                ip=client_ip())
        except (InvalidInput, Conflict) as exc:
            _apply_domain_error(form, exc)
        else:
            flash(_("Household %(label)s registered and given a card.",
                    label=hh_services.address_label(hh)), "info")
            return redirect(url_for("households.index", community_id=community.id))
    status = 422 if form.errors else 200
    return render_template("households/form.html", form=form, community=community,
                           household=None), status


@bp.route("/households/<int:household_id>/edit", methods=["GET", "POST"])
@login_required
def edit(household_id: int):
    """Change a household's address, member count or status."""
    session = get_session()
    hh = hh_services.household_for(session, actor=actor(), household_id=household_id)
    form = HouseholdForm(obj=hh)
    if form.validate_on_submit():
        try:
            hh = hh_services.update_household(
                session, actor=actor(), household_id=household_id, data=form.parsed,
                ip=client_ip())
        except (InvalidInput, Conflict) as exc:
            _apply_domain_error(form, exc)
        else:
            flash(_("Household %(label)s saved.", label=hh_services.address_label(hh)), "info")
            return redirect(url_for("households.index", community_id=hh.community_id))
    community = hh_services.household_area(session, hh)
    status = 422 if form.errors else 200
    return render_template("households/form.html", form=form, community=community,
                           household=hh, label=hh_services.address_label(hh)), status


@bp.route("/households/import", methods=["GET", "POST"])
@login_required
def import_():
    """Upload a CSV/XLSX household list; show the counts and the rejected rows."""
    session = get_session()
    communities = areas_services.communities_for(session, actor(), "household:import")
    if not communities:
        raise Forbidden(action="household:import")
    form = ImportForm()
    form.community_id.choices = [SelectChoice(str(c.id), c.name) for c in communities]
    if request.method == "GET":
        wanted = int_arg("community_id")
        if wanted is not None:
            # Same answer as a POST for a foreign community: 403, not a silently swapped picker.
            areas_services.community_for(session, actor=actor(), community_id=wanted,
                                      action="household:import")
            form.community_id.data = wanted
    error = None
    if form.validate_on_submit():
        upload = form.file.data
        filename = upload.filename or ""
        # Parse first, holding no transaction: the file is bounded before it is parsed
        # (`importer`), and even a slow parse must not keep scans and logins waiting.
        end_reads()
        try:
            parsed = importer.parse(filename, upload.read(importer.MAX_FILE_BYTES + 1))
            result = hh_services.import_households(
                session, actor=actor(), community_id=form.community_id.data,
                filename=filename, parsed=parsed, ip=client_ip(),
            )
        except importer.ImportFileError as exc:
            error = str(exc.message)
        else:
            # Post/Redirect/Get: the result is a page of its own (a reload imports nothing).
            key = once.stash(IMPORT_RESULT, actor().account_id or 0, {
                "community_id": pk(result.community), "filename": result.filename,
                "created": result.created, "updated": result.updated,
                "unchanged": result.unchanged,
                "rejected": [asdict(r) for r in result.rejected]})
            return redirect(url_for("households.import_result", key=key), 303)
    status = 422 if (error or form.errors) else 200
    return render_template("households/import.html", form=form, error=error), status


IMPORT_RESULT = "households.import"


@bp.get("/households/import/result/<key>")
@login_required
def import_result(key: str):
    """The counts and rejected rows of an import this account just made (its own only)."""
    data = once.unstash(IMPORT_RESULT, actor().account_id or 0, key[:64])
    if data is None:
        raise NotFound()
    community = areas_services.community_for(get_session(), actor=actor(),
                                             community_id=data["community_id"],
                                             action="household:import")
    result = hh_services.ImportResult(
        filename=data["filename"], community=community, created=data["created"],
        updated=data["updated"], unchanged=data["unchanged"],
        rejected=[importer.Rejected(**r) for r in data["rejected"]])
    return render_template("households/import_result.html", result=result,
                           labels=importer.field_labels())


@bp.get("/households/import/template.csv")
@login_required
def import_template():
    """The import template (Chinese headers, UTF-8 with BOM for Excel)."""
    if not areas_services.communities_for(get_session(), actor(), "household:import"):
        raise Forbidden(action="household:import")
    resp = Response(importer.template_csv(), mimetype="text/csv")
    resp.headers["Content-Disposition"] = "attachment; filename=households-template.csv"
    return resp


@bp.post("/households/<int:household_id>/card/revoke")
@login_required
def revoke_card(household_id: int):
    """Revoke the active card without a replacement; its token and code stop working at once."""
    session = get_session()
    card = hh_services.revoke_card(session, actor=actor(), household_id=household_id,
                                   ip=client_ip())
    hh = hh_services.get_household(session, household_id)
    flash(_("Card %(code)s of %(label)s revoked.", code=format_code(card.short_code),
            label=hh_services.address_label(hh)), "warning")
    return redirect(_back(hh.community_id))


@bp.post("/households/<int:household_id>/card/reissue")
@login_required
def reissue_card(household_id: int):
    """Replace the card: the old one stops working, the new one is ready to print."""
    session = get_session()
    card = hh_services.reissue_card(session, actor=actor(), household_id=household_id,
                                    ip=client_ip())
    hh = hh_services.get_household(session, household_id)
    flash(_("New card %(code)s issued for %(label)s; the old card no longer works.",
            code=format_code(card.short_code), label=hh_services.address_label(hh)), "info")
    return redirect(_back(hh.community_id))


def _card_file(household_id: int, fmt: str) -> Response:
    session = get_session()
    card = hh_services.card_for_export(session, actor=actor(), household_id=household_id,
                                       fmt=fmt, ip=client_ip())
    if fmt == "png":
        resp = Response(qr.render_png(card.token), mimetype="image/png")
    else:
        resp = Response(qr.render_svg(card.token), mimetype="image/svg+xml")
    resp.headers["Content-Disposition"] = f"inline; filename=card-{card.short_code}.{fmt}"
    resp.headers["Cache-Control"] = NO_STORE  # the image is the card's secret token
    return resp


@bp.get("/households/<int:household_id>/card.png")
@login_required
@writes  # its audit entry
def card_png(household_id: int):
    """The active card's QR code as PNG (content: the card token)."""
    return _card_file(household_id, "png")


@bp.get("/households/<int:household_id>/card.svg")
@login_required
@writes  # its audit entry
def card_svg(household_id: int):
    """The active card's QR code as SVG (content: the card token)."""
    return _card_file(household_id, "svg")


@bp.get("/households/cards.pdf")
@login_required
def cards_pdf():
    """A4 sheets of the active cards of a community, or of one building."""
    session = get_session()
    building = request.args.get("building", "").strip()[:20] or None
    community_id = int_arg("community_id")
    if community_id is None:
        raise InvalidInput(field="community_id")
    cards = hh_services.sheet_cards(session, actor=actor(), community_id=community_id,
                                    building=building)
    community = cards[0].community if cards else ""
    title = " · ".join(p for p in (_("Household cards"), community,
                                   f"{building}栋" if building else "") if p)
    name = f"cards-{community_id}" + (f"-{building}" if building else "") + ".pdf"
    # Rendering takes ~22 ms a card (11 s for 500): not inside a transaction holding SQLite's
    # write lock, which every scan needs. The reads end here; the audit entry is then written
    # in a write transaction of its own, stored by the one commit point only if the PDF was made.
    end_reads(then_write=True)
    pdf = sheets.render_sheet(cards, title=title)
    hh_services.record_sheets_printed(session, actor=actor(), community_id=community_id,
                                      count=len(cards), building=building, ip=client_ip())
    resp = send_file(BytesIO(pdf), mimetype="application/pdf", as_attachment=True,
                     download_name=name)
    resp.headers["Cache-Control"] = NO_STORE  # printed sheets carry every token
    return resp
