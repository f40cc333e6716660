"""errors_onto_form: the one helper that puts a service's refusal on a form field."""
from __future__ import annotations

from types import SimpleNamespace

from flask import Flask

from community.errors import Conflict, InvalidInput, NotFound
from community.web.forms import errors_onto_form


def _form() -> SimpleNamespace:
    return SimpleNamespace(name=SimpleNamespace(errors=[]), room=SimpleNamespace(errors=[]))


def test_named_field_gets_a_generic_message_for_a_plain_invalid_input(app: Flask) -> None:
    form = _form()
    with app.test_request_context():
        assert errors_onto_form(form, InvalidInput("own words", field="room"), default=form.name)
    assert len(form.room.errors) == 1
    assert form.room.errors[0] != "own words"
    assert form.name.errors == []


def test_own_words_keep_a_custom_message(app: Flask) -> None:
    form = _form()
    with app.test_request_context():
        errors_onto_form(form, InvalidInput("own words", field="room"), own_words=True)
    assert form.room.errors == ["own words"]


def test_conflict_text_goes_on_the_default(app: Flask) -> None:
    form = _form()
    with app.test_request_context():
        errors_onto_form(form, Conflict(field="room"), default=form.name, conflict="taken")
    assert form.name.errors == ["taken"]
    assert form.room.errors == []


def test_given_text_and_the_default_when_no_field_is_named(app: Flask) -> None:
    form = _form()
    with app.test_request_context():
        errors_onto_form(form, InvalidInput(field="nope"), default=form.name, text="exact")
    assert form.name.errors == ["exact"]


def test_no_field_and_no_default_shows_nothing(app: Flask) -> None:
    form = _form()
    with app.test_request_context():
        assert not errors_onto_form(form, NotFound())
    assert form.name.errors == []
    assert form.room.errors == []
