"""The auth input models: login names normalised, a login name required, passwords kept as typed."""
from __future__ import annotations

import pytest
from flask import Flask
from flask_babel import force_locale

from community.auth.models import ROLES
from community.auth.schemas import (
    ROLE_LABELS,
    AccountGrantIn,
    AccountIn,
    GrantIn,
    LoginIn,
    PasswordIn,
    Role,
)
from community.errors import InvalidInput

GOOD = {"display_name": " 王小明 ", "password": "correct-horse"}


def _fields(err: pytest.ExceptionInfo[InvalidInput]) -> dict[str, str]:
    return {name: str(words) for name, words in err.value.details["fields"].items()}


def test_account_normalises_login_names_and_keeps_the_password() -> None:
    data = AccountIn.parse(GOOD, username=" WangXM ", phone="+86 138-0000-0009")
    assert (data.display_name, data.username, data.phone) == ("王小明", "wangxm", "13800000009")
    assert AccountIn.parse(GOOD, username="a.b", password=" spaced pw ").password == " spaced pw "
    # An empty box is no value, not an empty login name.
    assert AccountIn.parse(GOOD, username="", phone="13800000009").username is None


def test_account_needs_a_username_or_a_phone(app: Flask) -> None:
    with app.test_request_context():  # Chinese is the default language
        with pytest.raises(InvalidInput) as err:
            AccountIn.parse(GOOD, username=" ", phone="")
        assert err.value.details["field"] == "username"
        assert _fields(err) == {"username": "请填写用户名或手机号。"}


@pytest.mark.parametrize(("change", "field", "words"), [
    ({"username": "ab"}, "username", "Use 3 to 64 characters."),
    ({"username": "1abc"}, "username", "A username starts with a letter"),
    ({"phone": "12345"}, "phone", "Enter an 11-digit mobile number."),
    ({"password": "short"}, "password", "Use 10 to 128 characters."),
    ({"password": "        "}, "password", "This field is required."),
    ({"display_name": "名" * 81}, "display_name", "At most 80 characters."),
])
def test_account_field_words(app: Flask, change: dict, field: str, words: str) -> None:
    with app.test_request_context(), force_locale("en"):
        with pytest.raises(InvalidInput) as err:
            AccountIn.parse({**GOOD, "username": "wangxm", **change})
        assert err.value.details["field"] == field
        assert _fields(err)[field].startswith(words)


@pytest.mark.parametrize(("bad", "field"), [
    ({"role": "mayor", "area_id": 3}, "role"),
    ({"role": " ", "area_id": 3}, "role"),
    ({"role": "steward", "area_id": None}, "area_id"),
])
def test_grants_need_a_known_role_and_an_area(bad: dict, field: str) -> None:
    with pytest.raises(InvalidInput) as err:
        GrantIn.parse(bad)
    assert err.value.details["field"] == field


def test_an_account_with_a_role_carries_its_grant() -> None:
    assert GrantIn.parse(role="steward", area_id=3) == GrantIn(role="steward", area_id=3)
    data = AccountGrantIn.parse(GOOD, username="wangxm", role="manager", area_id=7)
    assert data.grant() == GrantIn(role="manager", area_id=7)


def test_login_and_password_reset() -> None:
    assert LoginIn.parse(login=" ManagerA ", password=" pw ") == LoginIn(login="ManagerA",
                                                                         password=" pw ")
    with pytest.raises(InvalidInput) as err:
        LoginIn.parse(login="", password="")
    assert set(err.value.details["fields"]) == {"login", "password"}
    with pytest.raises(InvalidInput):
        PasswordIn.parse(password="x" * 129)


def test_every_role_has_one_label() -> None:
    assert list(ROLE_LABELS) == list(Role)
    assert tuple(ROLE_LABELS) == ROLES  # plain strings equal their members, in the same order
    assert all(type(role) is str for role in ROLES)  # stored as plain strings
