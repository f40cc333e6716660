"""The hours pages' input models: the one place the field rules of an approval live.

`ApproveIn` approves one assignment's hours as recorded (no minutes) or corrected (minutes
and a reason); `BulkApproveIn` names the assignments of a bulk approval. Whether a reason is
needed depends on the recorded minutes, so `services.approve_hours` decides that.

A refused approval names its kind (`MinutesOutOfRange`, `CorrectionReasonRequired`), as the
API and the callers expect; the words per field are the model's.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Self

from flask_babel import lazy_gettext as _l
from pydantic import Field, StringConstraints

from community.errors import InvalidInput
from community.schemas import InputModel, Say
from community.volunteers.hours.rules import MAX_MINUTES

MAX_REASON = 200
MAX_BULK = 200  # assignments one bulk approval may name

MINUTES_RANGE = _l("Enter the minutes as a whole number from 0 to 1440.")


class MinutesOutOfRange(InvalidInput):
    """Corrected minutes must be a whole number from 0 to 1440."""

    code, message = "minutes_out_of_range", MINUTES_RANGE


class CorrectionReasonRequired(InvalidInput):
    """A correction of the recorded minutes needs a reason (the steward will see it)."""

    code, message = "correction_reason_required", _l(
        "Please give a reason for correcting the minutes (at most 200 characters).")


class ApproveIn(InputModel):
    """Approve as recorded (`minutes` None), or correct the minutes with a reason."""

    minutes: Annotated[int | None, Field(strict=True, ge=0, le=MAX_MINUTES),
                       Say(MINUTES_RANGE)] = None
    reason: Annotated[str, StringConstraints(max_length=MAX_REASON), Say(
        None, {"string_too_long": _l("At most 200 characters.")})] = ""

    @classmethod
    def parse(cls, data: Mapping[str, Any] | None = None, **values: Any) -> Self:
        """As `InputModel.parse`, the refusal named by its first bad field."""
        try:
            return super().parse(data, **values)
        except InvalidInput as exc:
            refusal = _REFUSALS.get(str(exc.details.get("field")))
            if refusal is None:
                raise
            raise refusal(**exc.details) from None


_REFUSALS: dict[str, type[InvalidInput]] = {
    "minutes": MinutesOutOfRange, "reason": CorrectionReasonRequired}

AS_RECORDED = ApproveIn()


class BulkApproveIn(InputModel):
    """The assignments a bulk approval names (each approved as recorded)."""

    ids: Annotated[list[Annotated[int, Field(strict=True)]],
                   Field(min_length=1, max_length=MAX_BULK)]
