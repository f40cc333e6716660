"""Appeal input: the household's note, and the decider's outcome with its reason."""
from __future__ import annotations

from typing import Annotated, Literal

from flask_babel import lazy_gettext as _l
from pydantic import StringConstraints

from community.schemas import InputModel, Say

STATUS_LABELS = {"open": _l("Waiting for a decision"), "upheld": _l("Verdict upheld"),
                 "regraded": _l("Regraded to correct")}
OUTCOME_LABELS = {"uphold": _l("Uphold the verdict"), "regrade": _l("Regrade to correct")}


class AppealIn(InputModel):
    """A household member's appeal: why the verdict seems wrong."""

    note: Annotated[str, StringConstraints(min_length=1, max_length=500), Say(
        _l("Please say why you think the verdict is wrong."),
        {"string_too_long": _l("At most 500 characters.")})]


class AppealDecisionIn(InputModel):
    """The station chief's or manager's decision and the reason the household is told."""

    outcome: Annotated[Literal["uphold", "regrade"], Say(_l("Choose a decision."))]
    reason: Annotated[str, StringConstraints(min_length=1, max_length=200), Say(
        _l("Please give the reason for the decision: the household is told it."),
        {"string_too_long": _l("At most 200 characters.")})]
