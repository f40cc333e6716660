"""The stations codes: one StrEnum and one label table each, and the API's Literals agree."""
from __future__ import annotations

from typing import get_args

import pytest

from community.stations import schemas
from community.stations.models import CATEGORIES, QUALITIES, SOURCES, STATION_STATUSES


@pytest.mark.parametrize(("literal", "enum"), [
    (schemas.CategoryCode, schemas.Category),
    (schemas.QualityCode, schemas.Quality),
    (schemas.SourceCode, schemas.Source),
    (schemas.StationStatusCode, schemas.StationStatus),
])
def test_api_literals_are_the_enum_codes(literal, enum) -> None:
    assert get_args(literal) == tuple(e.value for e in enum)


@pytest.mark.parametrize(("labels", "enum", "codes"), [
    (schemas.CATEGORY_LABELS, schemas.Category, CATEGORIES),
    (schemas.QUALITY_LABELS, schemas.Quality, QUALITIES),
    (schemas.SOURCE_LABELS, schemas.Source, SOURCES),
    (schemas.STATION_STATUS_LABELS, schemas.StationStatus, STATION_STATUSES),
])
def test_every_code_has_one_label(labels, enum, codes) -> None:
    assert list(labels) == list(enum)
    assert codes == tuple(labels)  # plain strings equal their members, in the same order
    assert all(type(code) is str for code in codes)  # stored as plain strings
