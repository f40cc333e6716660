"""The input-model base: one place per field rule, errors in the user's language, onto forms."""
from __future__ import annotations

from typing import Annotated

import pytest
from flask import Flask
from flask_babel import lazy_gettext as _l
from pydantic import Field, StringConstraints, model_validator
from wtforms import IntegerField, StringField
from wtforms.validators import Optional

from community.errors import InvalidInput
from community.schemas import InputModel, Say, fail
from community.web.forms import ModelForm


class PairIn(InputModel):
    name: Annotated[str, StringConstraints(min_length=1, max_length=5),
                    Say(_l("Please enter the station's name."),
                        {"string_too_long": _l("At most 80 characters.")})]
    count: Annotated[int, Field(ge=0, le=9)] = 0

    @model_validator(mode="after")
    def _not_both_empty(self) -> PairIn:
        if self.name == "x" and self.count == 0:
            raise fail("count", _l("Please enter the grace minutes."))
        return self


class PairForm(ModelForm[PairIn]):
    model = PairIn
    name = StringField("name")
    count = IntegerField("count", validators=[Optional()])


def test_parse_strips_text_and_keeps_defaults() -> None:
    assert PairIn.parse(name="  ab ") == PairIn(name="ab", count=0)


def test_parse_names_every_bad_field_in_the_users_language(app: Flask) -> None:
    with app.test_request_context():  # Chinese is the default language
        with pytest.raises(InvalidInput) as err:
            PairIn.parse(name=" ", count=10)
        fields = {k: str(v) for k, v in err.value.details["fields"].items()}
    assert err.value.details["field"] == "name"
    assert fields == {"name": "请输入投放点名称。", "count": "超出允许范围。"}


def test_words_by_error_type_cross_field_rules_and_unknown_fields(app: Flask) -> None:
    with app.test_request_context():
        with pytest.raises(InvalidInput) as err:
            PairIn.parse(name="abcdef")
        assert str(err.value.details["fields"]["name"]) == "最多 80 个字。"
        with pytest.raises(InvalidInput) as err:
            PairIn.parse(name="x")
        assert str(err.value.details["fields"]["count"]) == str(
            _l("Please enter the grace minutes."))
        with pytest.raises(InvalidInput) as err:
            PairIn.parse(name="ab", color="red")
        assert err.value.details["field"] == "color"


def test_model_form_runs_the_models_rules_onto_its_fields(app: Flask) -> None:
    app.config["WTF_CSRF_ENABLED"] = False
    with app.test_request_context(method="POST", data={"name": "", "count": "3"}):
        form = PairForm()
        assert form.name.flags.required  # the model requires it: the page shows it
        assert not form.validate()
        assert [str(e) for e in form.name.errors] == ["请输入投放点名称。"]
    with app.test_request_context(method="POST", data={"name": "ok", "count": "3"}):
        form = PairForm()
        assert form.validate()
        assert form.parsed == PairIn(name="ok", count=3)
    with app.test_request_context(method="POST", data={"name": "ok", "count": "many"}):
        form = PairForm()
        assert not form.validate()  # WTForms could not read a number: the model never ran
        assert form.count.errors
