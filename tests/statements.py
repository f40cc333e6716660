"""Recording the statements an engine sends while a block runs (for tests that check what
the app asks of the database: scope, rows read, statement counts)."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Engine

T = TypeVar("T")


@contextmanager
def statements_sent(engine: Engine, keep: Callable[[str, Any, Any], T]) -> Iterator[list[T]]:
    """`keep(statement, parameters, execution context)` of every statement `engine` sends
    inside the block, in order (read as it is sent, while the context is live)."""
    seen: list[T] = []

    def hook(_conn: Any, _cursor: Any, statement: str, params: Any, context: Any,
             _many: bool) -> None:
        seen.append(keep(statement, params, context))

    event.listen(engine, "before_cursor_execute", hook)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", hook)
