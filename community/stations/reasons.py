"""Mis-drop reasons (错误原因): the list a steward picks from after an incorrect verdict.

City-wide defaults (`community_id` NULL, seeded by the migration that made the table) plus
each community's own, added by its manager. A drop stores the reason's stable `code`;
labels and how-to-sort-it-right texts are read in the reader's language (zh or en).
Readers above stations (residents, notifications, dashboards) use `reasons_for` and
`describe`; the scan page gets the active list with `scan_reasons`.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlmodel import Session, col

from community import clock
from community.areas import services as areas_services
from community.areas.models import Area
from community.audit import services as audit
from community.auth import policy
from community.errors import DomainError, Forbidden, InvalidInput, NotFound
from community.stations.models import MisdropReason

OTHER = "other"  # the reason that needs a note saying what
# The English words of the city's built-in reasons (as the migration that made the table
# seeded them): a reader of English sees these where a reason's own English text is missing
# (blank, or a copy of the Chinese, as a label typed in Chinese only is stored).
BUILTIN_EN: dict[str, tuple[str, str]] = {
    "kitchen_plastic_bag": (
        "Kitchen waste mixed with plastic bags",
        "Open the bag: pour the kitchen waste into the kitchen bin and put the empty plastic "
        "bag into the residual waste bin."),
    "residual_in_kitchen": (
        "Residual waste mixed into kitchen waste",
        "Tissues, large bones, shells and disposable tableware are residual waste; keep them "
        "out of the kitchen bin."),
    "recyclable_dirty": (
        "Recyclables dirty",
        "Keep recyclables clean and dry: empty and rinse bottles and cans, keep paper free of "
        "grease."),
    "hazardous_mixed": (
        "Hazardous waste not put out separately",
        "Batteries, lamps, medicines and paint are hazardous: put them in the hazardous bin on "
        "their own; wrap lamps so they do not break."),
    "bulky_mixed": (
        "Bulky or renovation waste mixed in",
        "Book a collection for furniture and renovation waste or take it to the marked area; "
        "never put it into the everyday bins."),
    OTHER: ("Other", ""),
}



class ReasonUnknown(DomainError):
    code, status, message = "reason_unknown", 422, _l(
        "Choose a reason from the list for an incorrect drop.")


class ReasonNeedsNote(DomainError):
    code, status, message = "reason_needs_note", 422, _l(
        "Say in the note what was wrong (reason “Other”).")


class ReasonDuplicate(DomainError):
    code, status, message = "reason_duplicate", 422, _l(
        "There is already an active reason with this label in this community (or among "
        "the city's defaults).")


class ReasonNotIncorrect(DomainError):
    code, status, message = "reason_not_incorrect", 422, _l(
        "Only an incorrect drop carries a reason.")


@dataclass(frozen=True)
class Reason:
    """One reason in the reader's language."""

    code: str
    label: str
    howto: str
    needs_note: bool
    active: bool
    community_id: int | None  # None: a city-wide default


def _lang(lang: str | None) -> str:
    return "en" if (lang or "").lower().startswith("en") else "zh"


def _english(own: str, chinese: str, builtin: str) -> str:
    """English text: the reason's own (unless blank or a copy of the Chinese), else the
    built-in reason's, else the Chinese (all there is)."""
    if own.strip() and own.strip() != chinese.strip():
        return own
    return builtin or chinese or own


def label_for(row: MisdropReason, lang: str | None) -> str:
    """A reason's label in the reader's language (English: see `_english`)."""
    if _lang(lang) == "zh":
        return row.label_zh or row.label_en
    return _english(row.label_en, row.label_zh, BUILTIN_EN.get(row.code, ("", ""))[0])


def _reason(row: MisdropReason, lang: str | None) -> Reason:
    if _lang(lang) == "en":
        howto = _english(row.howto_en, row.howto_zh, BUILTIN_EN.get(row.code, ("", ""))[1])
    else:
        howto = row.howto_zh or row.howto_en
    return Reason(row.code, label_for(row, lang), howto, row.needs_note, row.active,
                  row.community_id)


def reason_rows(session: Session, community_id: int, *,
                active_only: bool = True) -> list[MisdropReason]:
    """The city-wide defaults and the community's own reasons, in list order.

    A community's own reason with the code of a default replaces that default for it.
    """
    conds = [or_(col(MisdropReason.community_id).is_(None),
                 col(MisdropReason.community_id) == community_id)]
    rows = list(session.execute(
        select(MisdropReason).where(*conds)
        .order_by(col(MisdropReason.position), col(MisdropReason.id))).scalars())
    own = {r.code for r in rows if r.community_id is not None}
    rows = [r for r in rows if r.community_id is not None or r.code not in own]
    return [r for r in rows if r.active] if active_only else rows


def reasons_for(session: Session, community_id: int, *, lang: str | None = None,
                active_only: bool = True) -> list[Reason]:
    """The reasons a community's stewards pick from, in the reader's language."""
    return [_reason(r, lang) for r in reason_rows(session, community_id,
                                                   active_only=active_only)]


def describe(session: Session, community_id: int, codes: set[str], *,
             lang: str | None = None) -> dict[str, Reason]:
    """Code → reason (inactive ones too: old drops keep their reason), for display."""
    if not codes:
        return {}
    return {r.code: r for r in reasons_for(session, community_id, lang=lang,
                                            active_only=False) if r.code in codes}


def check_reason(active: Sequence[MisdropReason], *, quality: str, code: str | None,
                 note: str | None) -> None:
    """Raise unless `code` (with `note`) is an acceptable reason for a drop of `quality`,
    given the community's active reasons (`reason_rows`). Pure.

    Only an incorrect drop carries a reason, an active one of its community; the reason
    "other" (`needs_note`) needs a note saying what.
    """
    if code is None:
        return
    if quality != "incorrect":
        raise ReasonNotIncorrect(field="reason_code")
    reason = next((r for r in active if r.code == code and r.active), None)
    if reason is None:
        raise ReasonUnknown(field="reason_code")
    if reason.needs_note and not (note or "").strip():
        raise ReasonNeedsNote(field="note")


def _norm(label: str) -> str:
    return " ".join(label.split()).casefold()


def duplicate_field(active: Sequence[MisdropReason], *, label_zh: str, label_en: str,
                    exclude_id: int | None = None) -> str | None:
    """The label field (label_zh or label_en) that repeats the label of another reason in
    `active` (a community's active reasons with the city's defaults), or None. Pure."""
    zh, en = _norm(label_zh), _norm(label_en)
    for r in active:
        if r.id == exclude_id or not r.active:
            continue
        if zh and zh in (_norm(r.label_zh), _norm(r.label_en)):
            return "label_zh"
        if en and en in (_norm(r.label_en), _norm(r.label_zh)):
            return "label_en"
    return None


def _check_unique(session: Session, community_id: int | None, *, label_zh: str, label_en: str,
                  exclude_id: int | None = None) -> None:
    if community_id is None:  # a city default: against the other defaults
        active = [r for r in session.execute(select(MisdropReason).where(
            col(MisdropReason.community_id).is_(None))).scalars() if r.active]
    else:
        active = reason_rows(session, community_id)
    found = duplicate_field(active, label_zh=label_zh, label_en=label_en,
                            exclude_id=exclude_id)
    if found:
        raise ReasonDuplicate(field=found)


def add_reason(session: Session, *, actor: policy.Actor, community_id: int, label_zh: str,
               label_en: str = "", howto_zh: str = "", howto_en: str = "",
               now: datetime | None = None) -> MisdropReason:
    """A manager adds a reason of their community's own (after the defaults in the list)."""
    area = areas_services.get_community(session, community_id)
    policy.require(actor, "community:settings", area)
    label_zh, label_en = label_zh.strip(), label_en.strip()
    if not label_zh or len(label_zh) > 40:
        raise InvalidInput(field="label_zh")
    if len(label_en) > 60:
        raise InvalidInput(field="label_en")
    if len(howto_zh) > 500 or len(howto_en) > 800:
        raise InvalidInput(field="howto_zh")
    _check_unique(session, community_id, label_zh=label_zh, label_en=label_en)
    count, top = session.execute(
        select(func.count(), func.max(MisdropReason.position)).where(
            or_(col(MisdropReason.community_id).is_(None),
                col(MisdropReason.community_id) == community_id))).one()
    own = session.execute(select(func.count()).where(
        col(MisdropReason.community_id) == community_id)).scalar_one()
    reason = MisdropReason(
        community_id=community_id, code=f"c{community_id}_{own + 1}"[:32],
        label_zh=label_zh, label_en=label_en or label_zh, howto_zh=howto_zh.strip(),
        howto_en=howto_en.strip(), position=int(top or 0) + 10 if count else 10,
        created_by=actor.account_id, created_at=now or clock.now())
    session.add(reason)
    session.flush()
    audit.record(session, actor_id=actor.account_id, action="reason.added", area=area,
                 target_type="misdrop_reason", target_id=reason.id, code=reason.code)
    return reason


def _own_reason(session: Session, actor: policy.Actor,
                reason_id: int) -> tuple[MisdropReason, Area | None]:
    """A reason and its community, for its editor: the city's defaults by a city admin
    (area None), a community's own by its manager."""
    reason = session.get(MisdropReason, reason_id)
    if reason is None:
        raise NotFound()
    area = None
    if reason.community_id is None:
        if not policy.offers(actor, "reasons:city"):
            raise Forbidden(action="reasons:city")
    else:
        area = areas_services.get_community(session, reason.community_id)
        policy.require(actor, "community:settings", area)
    return reason, area


def set_active(session: Session, *, actor: policy.Actor, reason_id: int, active: bool,
               ip: str | None = None) -> MisdropReason:
    """A manager deactivates (or restores) a reason of the community's own: stewards no
    longer pick it; old drops keep it. The city's defaults stay the city admin's."""
    reason, area = _own_reason(session, actor, reason_id)
    if reason.community_id is None:
        raise Forbidden(action="reasons:city")
    if active and not reason.active:
        _check_unique(session, reason.community_id, label_zh=reason.label_zh,
                      label_en=reason.label_en, exclude_id=reason.id)
    reason.active = active
    session.add(reason)
    session.flush()
    audit.record(session, actor_id=actor.account_id,
                 action="reason.activated" if active else "reason.deactivated", area=area,
                 target_type="misdrop_reason", target_id=reason.id, ip=ip, code=reason.code)
    return reason


def edit_texts(session: Session, *, actor: policy.Actor, reason_id: int, label_zh: str,
               label_en: str, howto_zh: str, howto_en: str,
               ip: str | None = None) -> MisdropReason:
    """Edit a reason's labels and how-to-sort-it-right texts (its code never changes, so old
    drops and messages show the new words): the city's defaults by a city admin, a
    community's own by its manager. Lengths are checked by `ReasonTextsIn`."""
    reason, area = _own_reason(session, actor, reason_id)
    if reason.active:
        _check_unique(session, reason.community_id, label_zh=label_zh, label_en=label_en,
                      exclude_id=reason.id)
    reason.label_zh, reason.label_en = label_zh, label_en or label_zh
    reason.howto_zh, reason.howto_en = howto_zh, howto_en
    session.add(reason)
    session.flush()
    audit.record(session, actor_id=actor.account_id, action="reason.edited", area=area,
                 target_type="misdrop_reason", target_id=reason.id, ip=ip, code=reason.code)
    return reason


__all__ = ["BUILTIN_EN", "OTHER", "Reason", "ReasonDuplicate", "ReasonNeedsNote",
           "ReasonNotIncorrect", "ReasonUnknown", "add_reason", "check_reason", "describe",
           "duplicate_field", "edit_texts", "label_for", "reason_rows", "reasons_for",
           "set_active"]
