"""The join input models: a card code for a request; a well-formed join code from a slip."""
from __future__ import annotations

import pytest
from flask import Flask
from flask_babel import force_locale

from community.errors import InvalidInput
from community.residents.forms import JoinCodeForm
from community.residents.schemas import JoinCodeIn, LinkIn


def test_the_card_code_is_trimmed() -> None:
    assert LinkIn.parse(short_code=" AB12 CD34 ") == LinkIn(short_code="AB12 CD34")


def test_missing_card_code(app: Flask) -> None:
    with app.test_request_context(), force_locale("en"):
        with pytest.raises(InvalidInput) as err:
            LinkIn.parse(short_code=" ")
        assert str(err.value.details["fields"]["short_code"]) == (
            "Enter the code printed under the QR code.")
    with pytest.raises(InvalidInput) as err:
        LinkIn.parse(short_code="X", link_code="123456")  # the card has no link code any more
    assert err.value.details["field"] == "link_code"


def test_join_codes_are_normalised_as_typed() -> None:
    assert JoinCodeIn.parse(code=" abcd-efgh jkmn ").code == "ABCDEFGHJKMN"
    assert JoinCodeIn.parse(code="ABCDEFGHJKMN", community_id=3).community_id == 3


@pytest.mark.parametrize("bad", ["", "ABCD-EFGH", "ABCD-EFGH-JKM0", "ABCD-EFGH-JKMNP",
                                 "X" * 31])
def test_malformed_join_codes_are_refused_in_both_languages(app: Flask, bad: str) -> None:
    for locale, words in (("en", "Enter the 12-character join code"), ("zh", "12 位加入码")):
        with app.test_request_context(), force_locale(locale):
            with pytest.raises(InvalidInput) as err:
                JoinCodeIn.parse(code=bad)
            assert err.value.details["field"] == "code"
            assert words in str(err.value.details["fields"]["code"])


def test_the_join_form_takes_the_community_only_when_numeric(app: Flask) -> None:
    with app.test_request_context(method="POST", data={"code": "ABCDEFGHJKMN",
                                                       "community_id": "x"}):
        form = JoinCodeForm(meta={"csrf": False})
        assert form.validate()
        assert form.parsed.community_id is None
