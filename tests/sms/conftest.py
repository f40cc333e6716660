"""A log capture that works with `-p no:logging` (the suite's usual flag): the records of the
`community.sms` logger."""
from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest


class Records(logging.Handler):
    """Keeps every record it handles."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    @property
    def text(self) -> str:
        """All messages, one per line."""
        return "\n".join(r.getMessage() for r in self.records)


@pytest.fixture
def sms_log() -> Iterator[Records]:
    """What the SMS providers logged during the test."""
    logger = logging.getLogger("community.sms")
    handler, level = Records(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)
