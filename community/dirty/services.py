"""Mark days dirty (writers, in their own transaction) and claim them (the ratings refresh).

Marking is one upsert per write, rows in key order: it adds to the cause's count and takes
the row's lock until the writer commits. That lock is what makes claiming safe: a claim
(DELETE … RETURNING) waits for every writer still holding a mark of the day, so a drop
committed after a claim always leaves a new mark behind, and a rebuild that starts after
the claim sees every drop whose mark it took. Writers touching several days lock them in
the same (sorted) order, so they never deadlock with one another.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from sqlalchemy import delete, select, tuple_
from sqlmodel import Session

from community import clock
from community.dirty.models import DirtyDay
from community.rows import dialect_insert, table_of

Cause = Literal["drops", "regrades", "households", "presence", "schedule", "collections"]
CAUSES: tuple[Cause, ...] = ("drops", "regrades", "households", "presence", "schedule",
                             "collections")


def mark(session: Session, cause: Cause, counts: Mapping[tuple[int, date], int], *,
         now: datetime | None = None) -> None:
    """Mark each (community id, local day) dirty, adding `count` to the cause; flushes."""
    if not counts:
        return
    now = now or clock.now()
    table = table_of(DirtyDay)
    rows = [{"community_id": c, "local_date": d, "marked_at": now,
             **{k: (n if k == cause else 0) for k in CAUSES}}
            for (c, d), n in sorted(counts.items())]
    insert = dialect_insert(session, table)
    session.execute(insert.on_conflict_do_update(
        index_elements=["community_id", "local_date"],
        set_={cause: table.c[cause] + insert.excluded[cause],
              "marked_at": insert.excluded.marked_at}), rows)


@dataclass(frozen=True)
class Claimed:
    """A dirty day taken for rebuilding, with what made it dirty."""

    community_id: int
    local_date: date
    counts: Mapping[str, int]


def pending(session: Session, *, before: date, limit: int,
            on: date | None = None) -> list[tuple[int, date]]:
    """Up to `limit` dirty (community, day) keys before `before` (or of day `on` only),
    oldest first."""
    t = table_of(DirtyDay)
    which = t.c.local_date == on if on is not None else t.c.local_date < before
    return [(c, d) for c, d in session.execute(
        select(t.c.community_id, t.c.local_date).where(which)
        .order_by(t.c.local_date, t.c.community_id).limit(limit)).all()]


def claim(session: Session, keys: list[tuple[int, date]]) -> list[Claimed]:
    """Take the marks of these keys (deleted in the caller's transaction; gone on commit)."""
    if not keys:
        return []
    t = table_of(DirtyDay)
    match = tuple_(t.c.community_id, t.c.local_date).in_(keys)  # row values: both dialects
    rows = session.execute(delete(t).where(match).returning(
        t.c.community_id, t.c.local_date, *[t.c[k] for k in CAUSES])).all()
    return sorted((Claimed(r[0], r[1], dict(zip(CAUSES, r[2:], strict=True))) for r in rows),
                  key=lambda c: (c.local_date, c.community_id))
