"""The jobs in words: a short title per job (the jobs page shows it, not the job id) and
the counts a run reports ("accounts: 3" → "账户：3")."""
from __future__ import annotations

from typing import Any

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

# One per registered job (tests/audit/test_schemas.py keeps them equal to JOBS).
JOB_TITLES: dict[str, Any] = {
    "points.expire": _l("Expire old points"),
    "points.carry_forward": _l("Carry points into the next year"),
    "points.verify": _l("Check the points ledger"),
    "ratings.rollups": _l("Daily figures"),
    "ratings.refresh": _l("Refresh changed days"),
    "ratings.monthly": _l("Monthly ratings"),
    "volunteers.rotas": _l("Steward rotas"),
    "volunteers.close_shifts": _l("Close finished shifts"),
    "volunteers.reminders": _l("Shift reminders"),
    "dashboard.digest": _l("Daily digest for managers and chiefs"),
    "inbox.sms": _l("Send text messages"),
    "casework.cases": _l("Mis-drop cases"),
    "casework.nightly": _l("Nightly case check and audit sample"),
    "reports.escalate": _l("Escalate overdue reports"),
    "maintenance.clean_up": _l("Clean-up"),
    "maintenance.partitions": _l("Monthly partitions"),
}

COUNT_LABELS: dict[str, Any] = {
    "accounts": _l("accounts"), "entries": _l("entries"), "points": _l("points"),
    "drifted": _l("drifted accounts"), "created": _l("created"), "moved": _l("moved"),
    "updated": _l("updated"), "cancelled": _l("cancelled"), "kept": _l("kept"),
    "auto_checked_out": _l("checked out automatically"), "no_shows": _l("no-shows"),
    "closed": _l("closed"), "communities": _l("communities"), "days": _l("days"),
    "days_rebuilt": _l("days rebuilt"), "days_rolled_up": _l("days rolled up"),
    "devices": _l("device tokens forgotten"), "drawn": _l("audit samples drawn"),
    "drops": _l("drops"), "due": _l("due"), "escalated": _l("escalated"),
    "from_logs": _l("from supervision logs"), "levels_changed": _l("ratings changed"),
    "ratings_final": _l("ratings made final"), "request_ids": _l("request ids forgotten"),
    "sent": _l("sent"), "failed": _l("failed"), "skipped": _l("skipped"),
    "reminded": _l("reminded"), "opened": _l("opened"), "refunded": _l("refunded"),
    "digests": _l("digests sent"), "station_rows": _l("station rows"),
}


def job_title(name: str) -> str:
    """A job's title in the reader's language (the job id when it has none)."""
    return str(JOB_TITLES.get(name, name))


def counts_text(counts: dict[str, Any] | None) -> list[str]:
    """A run's counts as "label: value" texts."""
    return [gettext("%(label)s: %(value)s", label=str(COUNT_LABELS.get(k, k)), value=v)
            for k, v in (counts or {}).items()]
