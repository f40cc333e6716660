"""The notification inbox (phone): /me/inbox, opening and marking messages read, and the
unread count shown in the navigation bar.

One blueprint, `inbox`; an account only ever sees and marks its own messages.
"""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.exc import SQLAlchemyError

from community.db import get_session
from community.i18n import safe_next
from community.inbox import queries, services, texts
from community.web.args import int_arg

bp = Blueprint("inbox", __name__, url_prefix="/me/inbox")


@bp.get("", endpoint="index")
@login_required
def inbox_index():
    """The account's notifications, newest first; unread ones are marked."""
    page = queries.inbox_page(get_session(), account_id=current_user.id,
                              page=int_arg("page") or 1)
    return render_template("inbox/index.html", page=page, render=texts.render,
                           extras=texts.resolve(get_session(), page.items))


@bp.post("/<int:notification_id>/open")
@login_required
def open_message(notification_id: int):
    """Mark one notification read and go where it points (or back to the inbox)."""
    session = get_session()
    note = services.mark_read(session, account_id=current_user.id,
                              notification_id=notification_id)
    if request.form.get("go") == "1" and note.link:
        return redirect(safe_next(note.link, url_for("inbox.index")))
    return redirect(url_for("inbox.index"))


@bp.post("/read-all")
@login_required
def read_all():
    """Mark every notification read."""
    session = get_session()
    services.mark_all_read(session, account_id=current_user.id)
    flash(_("All notifications marked as read."), "info")
    return redirect(url_for("inbox.index"))


@bp.app_context_processor
def _unread_badge() -> dict:
    """`inbox_unread()` for the navigation bar: one small count query, only when called."""

    def inbox_unread() -> int:
        if not current_user.is_authenticated:
            return 0
        try:
            return queries.unread_count(get_session(), current_user.id)
        except SQLAlchemyError:  # error pages must render even when the database is down
            return 0

    return {"inbox_unread": inbox_unread}
