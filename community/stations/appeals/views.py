"""Appeal pages: the household's (phone: /me/drops/<id>/appeal, the drop's photo) and the
deciders' queue (/manage/appeals, station chiefs and managers of the community).

Registers the inbox resolver of the verdict messages (`notices.details`) when imported.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from flask import (
    Blueprint,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from community.db import get_session
from community.errors import DomainError
from community.inbox import texts as inbox_texts
from community.stations import notices
from community.stations.appeals import queries, services
from community.stations.appeals.forms import AppealForm, DecisionForm
from community.stations.appeals.schemas import OUTCOME_LABELS, STATUS_LABELS
from community.stations.schemas import CATEGORY_LABELS, QUALITY_LABELS
from community.web.args import int_arg
from community.web.context import actor, client_ip
from community.web.downloads import private_file, upload_root
from community.web.forms import errors_onto_form

bp = Blueprint("appeals", __name__)
inbox_texts.register_resolver(notices.VERDICT_KINDS, notices.details)


def _lang() -> str:
    return str(get_locale() or "zh")


def _labels() -> dict:
    return {"category_labels": CATEGORY_LABELS, "quality_labels": QUALITY_LABELS,
            "status_labels": STATUS_LABELS, "outcome_labels": OUTCOME_LABELS,
            "local": queries.local}


def _photo_root() -> Path:
    # Where the drop API stores photos (as the managers' photo page reads them).
    return upload_root("photos")


@bp.route("/me/drops/<bigint:drop_id>/appeal", methods=["GET", "POST"])
@login_required
def file(drop_id: int):
    """One of the household's drops with its verdict, and the appeal form while allowed."""
    session = get_session()
    view = queries.my_verdict(session, account_id=current_user.id, drop_id=drop_id,
                              lang=_lang())
    form = AppealForm(formdata=None if request.method == "GET" else request.form)
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                services.file_appeal(session, actor=actor(), drop_id=drop_id,
                                     data=form.parsed, ip=client_ip())
            except DomainError as exc:
                errors_onto_form(form, exc, default=form.note)
            else:
                flash(_("Your appeal was sent. You will get a message with the decision."),
                      "info")
                return redirect(url_for("appeals.file", drop_id=drop_id))
        return render_template("stations/appeal.html", v=view, form=form, **_labels()), 422
    return render_template("stations/appeal.html", v=view, form=form, **_labels())


@bp.get("/me/drops/<bigint:drop_id>/photo")
@login_required
def photo(drop_id: int):
    """The photo of one of the household's own drops (nobody else's)."""
    path = queries.my_photo(get_session(), account_id=current_user.id, drop_id=drop_id)
    return private_file("photos", path, cache="private, no-store")


@bp.get("/manage/appeals")
@login_required
def queue():
    """A community's appeals to decide (or decided ones), with photo, reason and notes."""
    data = queries.queue(get_session(), actor=actor(), community_id=int_arg("community_id"),
                         status=request.args.get("status", "open"), lang=_lang())
    return render_template("stations/appeals.html", data=data, forms={}, **_labels())


@bp.post("/manage/appeals/<int:appeal_id>/decide")
@login_required
def decide(appeal_id: int):
    """Uphold the verdict or regrade the drop to correct, with a reason."""
    session = get_session()
    form = DecisionForm()
    if form.validate_on_submit():
        try:
            appeal = services.decide_appeal(session, actor=actor(), appeal_id=appeal_id,
                                            data=form.parsed, ip=client_ip())
        except DomainError as exc:
            if exc.status in (403, 404):
                raise
            errors_onto_form(form, exc, default=form.reason, own_words=True)
        else:
            flash(_("Appeal decided: %(outcome)s.", outcome=STATUS_LABELS[appeal.status]),
                  "info")
            return redirect(url_for("appeals.queue", community_id=appeal.community_id))
    # This one appeal with its form and its error at the top of the page (nothing was
    # stored): on a phone the queue is long and the error would sit far below the fold.
    community_id = services.appeal_community(session, actor=actor(), appeal_id=appeal_id)
    data = queries.queue(session, actor=actor(), community_id=community_id, lang=_lang())
    data = replace(data, rows=[r for r in data.rows if r.appeal.id == appeal_id])
    errors = [str(e) for e in (*form.reason.errors, *form.outcome.errors)]
    return render_template("stations/appeals.html", data=data, forms={appeal_id: form},
                           only=appeal_id, top_errors=errors, **_labels()), 422
