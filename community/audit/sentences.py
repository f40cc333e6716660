"""An audit entry as one readable line, e.g. "张三 将 1栋101室 的厨余垃圾投放 由 错误 改为 正确，
原因：看照片" instead of `drop.regraded` and "from_quality: incorrect".

`SENTENCES` words the common actions with their detail values (coded values in words,
see `schemas.detail_value`); every other action reads "<who>: <action label> · <target>".
The details a sentence used are not repeated in the list beside it.
"""
from __future__ import annotations

import re
from typing import Any

from flask_babel import lazy_gettext as _l

from community.audit.schemas import ACTION_LABELS, TARGET_LABELS, detail_value

# Placeholders: who (the actor), target (the target's name, e.g. an address), and any
# detail key of the entry. A sentence whose detail keys are missing falls back to the
# generic line.
SENTENCES: dict[str, Any] = {
    "drop.regraded": _l("%(who)s changed %(target)s from %(from_quality)s to %(to_quality)s"),
    "drop.voided": _l("%(who)s undid %(target)s (%(points)s points taken back)"),
    "drop.appealed": _l("%(who)s appealed against the verdict on %(target)s"),
    "drop.appeal_decided": _l("%(who)s decided the appeal on %(target)s: %(outcome)s"),
    "drops.exported": _l("%(who)s exported %(rows)s drops (%(day_from)s to %(day_to)s) as "
                         "%(fmt)s"),
    "points.adjusted": _l("%(who)s changed the points of %(target)s by %(amount)s"),
    "points.exported": _l("%(who)s exported %(rows)s points entries as %(fmt)s"),
    "points.rules_published": _l("%(who)s published points rules version %(version)s, in "
                                 "force from %(effective_from)s"),
    "login.ok": _l("%(who)s signed in"),
    "login.failed": _l("A sign-in as %(login)s failed"),
    "household.created": _l("%(who)s added the household %(target)s"),
    "household.joined": _l("%(who)s joined the household %(target)s (%(via)s)"),
    "household.link_requested": _l("%(who)s asked to join the household %(target)s"),
    "household.link_approved": _l("%(who)s approved a request to join %(target)s"),
    "household.link_rejected": _l("%(who)s turned down a request to join %(target)s"),
    "household.member_removed": _l("%(who)s removed a member from %(target)s"),
    "household.join_slips_printed": _l("%(who)s printed %(count)s join slips for %(target)s"),
    "household.updated": _l("%(who)s edited the household %(target)s"),
    "card.issued": _l("%(who)s issued a card for %(target)s"),
    "card.reissued": _l("%(who)s reissued the card of %(target)s"),
    "card.revoked": _l("%(who)s revoked the card of %(target)s"),
    "reward.saved": _l("%(who)s saved the reward %(name)s (%(cost)s points, %(stock)s left)"),
    "reward.cancelled": _l("%(who)s cancelled %(target)s"),
    "role.granted": _l("%(who)s gave %(target)s the role %(role)s"),
    "role.revoked": _l("%(who)s took the role %(role)s from %(target)s"),
    "station.created": _l("%(who)s created the station %(target)s"),
    "station.updated": _l("%(who)s edited the station %(target)s"),
    "tonnage.saved": _l("%(who)s recorded tonnage for %(day)s"),
    "report.filed": _l("%(who)s reported %(target)s"),
    "report.joined": _l("%(who)s added +1 to %(target)s"),
    "casework.verdict_audited": _l("%(who)s spot-checked %(target)s: %(agrees)s"),
}
# Details a sentence tells through its target's name (e.g. a report's kind and station).
TOLD_BY_TARGET: dict[str, set[str]] = {
    "report.filed": {"kind", "station_id"},
    "report.joined": {"kind", "station_id"},
    "casework.verdict_audited": {"drop_id"},
}
# Values a sentence words its own way (the detail list keeps "agrees with the steward: yes").
SENTENCE_VALUES: dict[str, dict[Any, Any]] = {
    "agrees": {True: _l("the same verdict"), False: _l("a different verdict")},
}
WITH_REASON = _l("%(sentence)s, reason: %(reason)s")
GENERIC = _l("%(who)s: %(action)s")
GENERIC_TARGET = _l("%(who)s: %(action)s · %(target)s")
SYSTEM = _l("The system")
_KEYS = re.compile(r"%\((\w+)\)s")


def used_keys_of(text: str) -> set[str]:
    """The placeholders of a sentence."""
    return set(_KEYS.findall(text))


def used_keys(action: str) -> set[str]:
    """The detail keys an action's sentence tells (and the reason, told after it)."""
    template = SENTENCES.get(action)
    keys = used_keys_of(str(template) if template is not None else "") | {"reason"}
    return (keys | TOLD_BY_TARGET.get(action, set())) - {"who", "target"}


def line(action: str, detail: dict[str, Any] | None, *, who: str | None,
         target: str | None, target_type: str | None = None, target_id: int | None = None,
         role_label: Any = str) -> str:
    """The entry in one sentence, in the reader's language."""
    detail = detail or {}
    who_text = who or str(SYSTEM)
    target_text = target or (f"{TARGET_LABELS.get(target_type or '', target_type)} #{target_id}"
                             if target_type else "")
    values = {k: (str(role_label(v)) if k == "role" else
                  str(SENTENCE_VALUES[k][v]) if isinstance(v, bool) and k in SENTENCE_VALUES else
                  detail_value(k, v))
              for k, v in detail.items()}
    template = SENTENCES.get(action)
    sentence = None
    if template is not None:
        try:
            sentence = str(template) % ({"who": who_text, "target": target_text} | values)
        except (KeyError, ValueError, TypeError):
            sentence = None  # an entry recorded before its sentence named this detail
    if sentence is None:
        label = str(ACTION_LABELS.get(action, action))
        sentence = (str(GENERIC_TARGET) % {"who": who_text, "action": label,
                                           "target": target_text} if target_text
                    else str(GENERIC) % {"who": who_text, "action": label})
    reason = detail.get("reason")
    if reason:
        sentence = str(WITH_REASON) % {"sentence": sentence, "reason": str(reason)}
    return sentence
