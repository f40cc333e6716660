"""Pure rules of the scan page's safety nets: repeats within the duplicate window and the
steward's undo (void) of their own recent scans. No database, no Flask.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

# The same household and category again within this time of another (not voided) drop of
# theirs is a repeat: stored and counted, never scored a second time (DOMAIN.md "The mis-drop
# loop"; the scan page asks "record again?" first).
DUPLICATE_WINDOW = timedelta(minutes=10)
# A steward may undo (void) their own scan this long after it happened.
VOID_WINDOW = timedelta(minutes=5)


def repeat_of(earlier: Iterable[tuple[int, datetime]], at: datetime,
              window: timedelta = DUPLICATE_WINDOW) -> int | None:
    """The drop (id, happened_at) a new drop at `at` repeats: the nearest within `window`
    either side (a drop synced late may repeat one made after it), else None. Ties: the
    smaller id, so the answer does not depend on the order given."""
    best: tuple[timedelta, int] | None = None
    for drop_id, then in earlier:
        gap = abs(then - at)
        if gap <= window and (best is None or (gap, drop_id) < best):
            best = (gap, drop_id)
    return best[1] if best else None


VoidRefusal = str  # "void_not_yours" | "void_too_late"


def void_refusal(*, recorded_by: int | None, actor_id: int | None, happened_at: datetime,
                 now: datetime, window: timedelta = VOID_WINDOW) -> VoidRefusal | None:
    """Why a steward may not void this drop (an error code), or None when they may.

    Only the account that recorded the drop may void it, and only within `window` of the
    scan (the drop's device time; a drop stamped in the future counts from now).
    """
    if actor_id is None or recorded_by != actor_id:
        return "void_not_yours"
    if now - happened_at > window:
        return "void_too_late"
    return None


def void_closed_at(happened_at: datetime, window: timedelta = VOID_WINDOW) -> datetime:
    """A moment by which the scan can no longer be undone (`void_refusal` says too late from
    just after `happened_at + window`; a second later, to be clear of the boundary). An
    incorrect verdict's message is held back until then, so an undone scan tells nobody."""
    return happened_at + window + timedelta(seconds=1)


__all__ = ["DUPLICATE_WINDOW", "VOID_WINDOW", "repeat_of", "void_closed_at", "void_refusal"]
