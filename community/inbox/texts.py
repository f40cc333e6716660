"""Notifications in words, in the reader's language.

Messages are stored as a kind plus parameters, never as translated text: `render` turns them
into the reader's language when the inbox is shown (`MESSAGES` maps kind → lazy template,
and is also the list of kinds `services.notify` accepts). Code parameters (`category`,
`quality`) are worded from their label tables; what lives in another module's tables (a
mis-drop reason and its how-to text, which the city edits) is looked up at read time by a
resolver that module registers (`register_resolver`), since the inbox sits below them all.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlmodel import Session

from community.inbox.models import Notification
from community.waste import CATEGORY_LABELS, QUALITY_LABELS

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
    # The mis-drop loop (residents): what, where, when and why; the how-to and photo are
    # shown under it by the stations resolver.
    "drop_incorrect": _l("Your drop of %(category)s at %(station)s on %(at)s was recorded "
                         "as not sorted correctly: %(reason)s."),
    "drop_regraded": _l("Your drop of %(category)s at %(station)s on %(at)s was regraded "
                        "to %(quality)s: %(note)s"),
    "appeal_upheld": _l("Your appeal about your drop of %(category)s on %(at)s was "
                        "reviewed and the verdict stands: %(note)s"),
    "appeal_regraded": _l("Your appeal about your drop of %(category)s on %(at)s was "
                          "accepted: it now counts as %(quality)s. %(note)s"),
    # Casework (stewards): an education task assigned (the task is worded at read time).
    "case_task": _l("A repeat mis-drop case needs your help: %(household)s, %(task)s, "
                    "by %(due)s."),
    # Reports (随手拍): the kind is worded at read time by the reports' resolver.
    "report_assigned": _l("A report needs handling: %(kind)s at %(place)s, by %(due)s."),
    "report_escalated": _l("An overdue report was escalated to you: %(kind)s at %(place)s "
                           "(%(community)s), due %(due)s."),
    "report_handled": _l("Your report (%(kind)s at %(place)s) was handled: %(note)s Please "
                         "confirm the fix or reopen the report."),
    "report_reopened": _l("A report was reopened: %(kind)s at %(place)s: %(reason)s"),
    # The daily digest (community.dashboard.digest): what waits for a manager or a chief;
    # its items (hours to approve only when some wait) are worded by the digest's resolver.
    "daily_digest": _l("Today in %(community)s. %(items)s."),
    "chief_digest": _l("Today at your stations in %(community)s. %(items)s."),
    # Good news.
    "streak_bonus": _l("Well done! %(days)s days of correct sorting in a row: %(points)s "
                       "bonus points."),
    "reward_ready": _l("Your reward %(item)s is ready for pickup. Show the pickup code "
                       "%(code)s at the station."),
    # A "reward ready" message whose redemption was cancelled later (its resolver says so).
    "reward_cancelled": _l("Your reward %(item)s is no longer waiting for you: the "
                           "redemption was cancelled and its points were given back."),
    "reward_handed_over": _l("You picked up your reward %(item)s. Thank you for sorting "
                             "your waste!"),
}
UNKNOWN_KIND = _l("You have a new notification.")
# Parameters holding an ISO time, shown as local "MM-DD HH:MM" in the offset they were stored in.
TIME_PARAMS = frozenset({"starts_at", "at"})
# Parameters holding a code, worded from its label table in the reader's language.
CODE_PARAMS: dict[str, Mapping[str, Any]] = {"category": CATEGORY_LABELS,
                                             "quality": QUALITY_LABELS}

# kind → resolver(session, notifications) → {notification id: extra parameters, in the
# current language}; the extras override the stored ones when worded and are given to the
# inbox page (e.g. "howto", "photo_url", "appeal_url").
Resolver = Callable[[Session, list[Notification]], dict[int, dict[str, Any]]]
RESOLVERS: dict[str, Resolver] = {}


def register_resolver(kinds: Sequence[str], resolver: Resolver) -> None:
    """Let a module above the inbox word its own parameters at read time."""
    for kind in kinds:
        RESOLVERS[kind] = resolver


def resolve(session: Session, notes: Sequence[Notification]) -> dict[int, dict[str, Any]]:
    """The extra parameters of each notification that has a resolver (one call per kind)."""
    out: dict[int, dict[str, Any]] = {}
    by_kind: dict[str, list[Notification]] = {}
    for note in notes:
        if note.kind in RESOLVERS:
            by_kind.setdefault(note.kind, []).append(note)
    for kind, group in by_kind.items():
        out |= RESOLVERS[kind](session, group)
    return out


class _Params(dict):
    """Template parameters where a missing one shows as "?" instead of breaking the inbox."""

    def __missing__(self, key: str) -> str:
        return "?"


def _show_time(value: Any) -> Any:
    try:
        return datetime.fromisoformat(str(value)).strftime("%m-%d %H:%M")
    except ValueError:
        return value


def _show(key: str, value: Any) -> Any:
    if key in TIME_PARAMS:
        return _show_time(value)
    if key in CODE_PARAMS and value in CODE_PARAMS[key]:
        return str(CODE_PARAMS[key][value])
    return value


def render(kind: str, params: Mapping[str, Any],
           extra: Mapping[str, Any] | None = None) -> str:
    """The message text in the current language (call inside a request or app context)."""
    # A resolver may word a message by its subject's state now ("as_kind").
    template = MESSAGES.get(str((extra or {}).get("as_kind") or kind))
    if template is None:
        return str(UNKNOWN_KIND)
    values = _Params({k: _show(k, v) for k, v in {**params, **(extra or {})}.items()})
    return str(template) % values
