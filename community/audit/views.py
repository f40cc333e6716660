"""The audit log page: newest first, within the reader's scope, filtered by kind of action."""
from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import login_required

from community.audit import queries as audit_queries
from community.audit import sentences
from community.audit import services as audit_services
from community.audit.models import AuditEntry
from community.audit.schemas import (
    ACTION_LABELS,
    FILE_KEYS,
    FILE_LABEL,
    FILE_LABELS,
    FILE_LINKS,
    TARGET_LABELS,
    describe_detail,
)
from community.auth.schemas import ROLE_LABELS
from community.db import get_session
from community.web.context import actor

bp = Blueprint("audit", __name__, url_prefix="/admin/audit")
# A household member's role shares the "role" detail key with accounts' roles.
MEMBER_ROLES = {"head": _l("Household head"), "member": _l("Member")}


def _role(code: str) -> str:
    return str(ROLE_LABELS.get(code) or MEMBER_ROLES.get(code) or code)

# The filter offers action families (a prefix matches "household." and "households.").
ACTION_GROUPS = {
    "login": _l("Logins"),
    "account": _l("Accounts"),
    "role": _l("Roles"),
    "area": _l("Areas"),
    "community": _l("Community settings"),
    "household": _l("Households"),
    "card": _l("Cards"),
}


def _attached(entry: AuditEntry) -> tuple[str, str | None] | None:
    """An entry's attached file as (label, link) instead of its internal path."""
    if not any(k in (entry.detail or {}) for k in FILE_KEYS):
        return None
    link = FILE_LINKS.get(entry.action)
    return str(FILE_LABELS.get(entry.action, FILE_LABEL)), link(entry) if link else None


@bp.app_template_global()
def action_label(action: str) -> str:
    """Translated label of an audit action code, or the code when unknown."""
    return str(ACTION_LABELS.get(action, action))


@bp.app_template_global()
def target_label(target_type: str | None) -> str:
    """Translated label of an audit target type, or the type itself."""
    return str(TARGET_LABELS.get(target_type or "", target_type or ""))


@bp.app_template_global()
def audit_detail(detail: dict | None) -> list[str]:
    """An audit entry's detail as translated "label: value" texts (roles by their names)."""
    return describe_detail(detail or {}, role_label=_role)


@bp.get("/")
@login_required
def index():
    """Newest audit entries within scope; `action` filters by prefix, `before` pages back."""
    action = request.args.get("action", "").strip() or None
    before = request.args.get("before", type=int)
    limit = current_app.config["PAGE_SIZE"]
    # One extra row tells whether an "older" page exists.
    rows = audit_services.list_page(get_session(), actor=actor(), action=action,
                                    before_id=before, limit=limit + 1)
    older = rows[limit - 1].entry.id if len(rows) > limit else None
    rows = rows[:limit]
    names = audit_queries.target_names(get_session(), [
        (r.entry.target_type, r.entry.target_id) for r in rows])
    lines, files = {}, {}
    for r in rows:
        e = r.entry
        target = names.get((e.target_type or "", e.target_id or 0))
        # The readable line, and the details it did not tell.
        lines[e.id] = (sentences.line(e.action, e.detail, who=r.actor_name, target=target,
                                      target_type=e.target_type, target_id=e.target_id,
                                      role_label=_role),
                       {k: v for k, v in (e.detail or {}).items()
                        if k not in sentences.used_keys(e.action) and k not in FILE_KEYS})
        files[e.id] = _attached(e)
    return render_template("audit/index.html", rows=rows, action=action or "", lines=lines,
                           names=names, files=files,
                           groups=ACTION_GROUPS, older=older, before=before)
