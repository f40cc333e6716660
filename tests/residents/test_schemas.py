"""The link request model: a card code is required, the link code may be left empty."""
from __future__ import annotations

import pytest
from flask import Flask
from flask_babel import force_locale

from community.areas.models import LINK_MODES
from community.areas.schemas import LINK_MODE_LABELS
from community.errors import InvalidInput
from community.residents.forms import LinkModeForm
from community.residents.schemas import LinkIn


def test_codes_are_trimmed_and_the_link_code_optional() -> None:
    assert LinkIn.parse(short_code=" AB12 CD34 ") == LinkIn(short_code="AB12 CD34", link_code="")
    assert LinkIn.parse(short_code="X", link_code=" 123456 ").link_code == "123456"


def test_missing_or_long_codes(app: Flask) -> None:
    with app.test_request_context(), force_locale("en"):
        with pytest.raises(InvalidInput) as err:
            LinkIn.parse(short_code=" ")
        assert str(err.value.details["fields"]["short_code"]) == (
            "Enter the code printed under the QR code.")
    with pytest.raises(InvalidInput) as err:
        LinkIn.parse(short_code="X", link_code="1" * 13)
    assert err.value.details["field"] == "link_code"


def test_the_link_mode_form_offers_every_mode_with_its_label() -> None:
    choices = LinkModeForm.link_mode.kwargs["choices"]
    assert [(c.value, c.label) for c in choices] == [
        (m, LINK_MODE_LABELS[m]) for m in LINK_MODES]
