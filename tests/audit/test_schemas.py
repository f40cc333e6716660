"""The audit codes: one StrEnum and one label table each."""
from __future__ import annotations

import pytest

from community.audit import schemas


@pytest.mark.parametrize(("labels", "enum"), [
    (schemas.ACTION_LABELS, schemas.Action),
    (schemas.TARGET_LABELS, schemas.Target),
])
def test_every_code_has_one_label(labels, enum) -> None:
    assert list(labels) == list(enum)
    assert all(type(code.value) is str for code in enum)
