"""The schedule editor's range parsing (pure, no database)."""
from __future__ import annotations

from datetime import time

import pytest

from community.stations.forms import parse_ranges

T = time


@pytest.mark.parametrize(("text", "expected"), [
    ("07:00-09:00, 18:00-20:00", [(T(7), T(9)), (T(18), T(20))]),
    ("7:00 - 9:30，18:00~20:00", [(T(7), T(9, 30)), (T(18), T(20))]),
    ("22:00-01:00", [(T(22), T(1))]),
    ("22:00-24:00", [(T(22), T(0))]),
    ("", []),
    ("  ", []),
])
def test_parse_ranges(text: str, expected: list) -> None:
    assert parse_ranges(text) == expected


@pytest.mark.parametrize("text", ["7-9", "07:00", "25:00-26:00", "07:60-08:00", "abc",
                                  "07:00-09:00 x"])
def test_parse_ranges_refuses_junk(text: str) -> None:
    with pytest.raises(ValueError, match=r"."):
        parse_ranges(text)
