"""The area input models: a trimmed name of 1 to 80 characters; the join-requests switch."""
from __future__ import annotations

import pytest

from community.areas import models, schemas
from community.areas.schemas import AreaIn, JoinRequestsIn
from community.errors import InvalidInput


def test_area_name_is_trimmed_and_bounded() -> None:
    assert AreaIn.parse(name=" 玉龙社区 ").name == "玉龙社区"
    assert AreaIn.parse(name="名" * 80).name == "名" * 80
    for bad in ("", "   ", "名" * 81):
        with pytest.raises(InvalidInput) as err:
            AreaIn.parse(name=bad)
        assert err.value.details["field"] == "name"


def test_join_requests_is_a_switch_off_when_absent() -> None:
    assert JoinRequestsIn.parse(join_requests=True).join_requests is True
    assert JoinRequestsIn.parse().join_requests is False
    with pytest.raises(InvalidInput) as err:
        JoinRequestsIn.parse(join_requests="maybe")
    assert err.value.details["field"] == "join_requests"


@pytest.mark.parametrize(("labels", "enum", "codes"), [
    (schemas.LEVEL_LABELS, schemas.AreaLevel, models.LEVELS),
])
def test_every_code_has_one_label(labels, enum, codes) -> None:
    assert list(labels) == list(enum)
    assert codes == tuple(labels)  # plain strings equal their members, in the same order
    assert all(type(code) is str for code in codes)  # stored as plain strings
