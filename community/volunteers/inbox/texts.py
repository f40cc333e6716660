"""Notifications in words, in the reader's language.

Messages are stored as a kind plus parameters, never as translated text: `render` turns them
into the reader's language when the inbox is shown (`MESSAGES` maps kind → lazy template,
and is also the list of kinds `services.notify` accepts).
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l

# kind → template in the reader's language; parameters are filled in at display time.
MESSAGES: dict[str, Any] = {
    "shift_reminder": _l("Reminder: your shift at %(station)s starts at %(starts_at)s."),
    "steward_approved": _l("You are now a steward of %(community)s. Thank you for volunteering!"),
    "steward_rejected": _l("Your steward application for %(community)s was not accepted: "
                           "%(reason)s"),
    "steward_retired": _l("You are no longer an active steward of %(community)s. Thank you "
                          "for your service!"),
    "chief_appointed": _l("You are now the station chief of %(station)s."),
    "chief_removed": _l("You are no longer the station chief of %(station)s."),
    "hours_approved": _l("Your volunteer hours were approved: %(minutes)s minutes, "
                         "%(points)s points credited."),
}
UNKNOWN_KIND = _l("You have a new notification.")
# Parameters holding an ISO time, shown as local "MM-DD HH:MM" in the offset they were stored in.
TIME_PARAMS = frozenset({"starts_at"})


class _Params(dict):
    """Template parameters where a missing one shows as "?" instead of breaking the inbox."""

    def __missing__(self, key: str) -> str:
        return "?"


def _show_time(value: Any) -> Any:
    try:
        return datetime.fromisoformat(str(value)).strftime("%m-%d %H:%M")
    except ValueError:
        return value


def render(kind: str, params: Mapping[str, Any]) -> str:
    """The message text in the current language (call inside a request or app context)."""
    template = MESSAGES.get(kind)
    if template is None:
        return str(UNKNOWN_KIND)
    values = _Params({k: _show_time(v) if k in TIME_PARAMS else v for k, v in params.items()})
    return str(template) % values
