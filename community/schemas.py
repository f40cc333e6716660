"""The base of every input model (`StationIn`, `RewardIn` …): the one place a field rule lives.

Each use case takes one strict pydantic model. HTML forms (`web.forms.ModelForm`), the JSON
API and the services' own callers all go through `InputModel.parse`, which turns pydantic's
errors into an `InvalidInput` naming every bad field with a message in the user's language.
A field may carry its own wording with `Say(...)` in its `Annotated` metadata; otherwise a
short phrase per pydantic error type is used.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Self

from flask_babel import lazy_gettext as _l
from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

from community.errors import InvalidInput

# Short phrases for pydantic's error types, so field errors read in the user's language.
ERROR_PHRASES: dict[str, Any] = {
    "missing": _l("This field is required."),
    "extra_forbidden": _l("Unknown field."),
    "bool_type": _l("Must be true or false."),
    "int_type": _l("Must be a whole number."),
    "int_parsing": _l("Must be a whole number."),
    "int_from_float": _l("Must be a whole number."),
    "string_type": _l("Must be text."),
    "decimal_type": _l("Must be a number."),
    "decimal_parsing": _l("Must be a number."),
    "float_type": _l("Must be a number."),
    "float_parsing": _l("Must be a number."),
    "list_type": _l("Must be a list."),
    "dict_type": _l("Must be an object."),
    "model_type": _l("Must be an object."),
    "model_attributes_type": _l("Must be an object."),
    "datetime_type": _l("Must be a date and time in ISO 8601 format."),
    "datetime_parsing": _l("Must be a date and time in ISO 8601 format."),
    "datetime_from_date_parsing": _l("Must be a date and time in ISO 8601 format."),
    "timezone_aware": _l("The time must include a time-zone offset, e.g. +08:00."),
    "string_too_long": _l("Too long."),
    "string_too_short": _l("Too short."),
    "string_pattern_mismatch": _l("Contains characters that are not allowed."),
    "too_long": _l("Too many items."),
    "too_short": _l("Too few items."),
    "greater_than": _l("Out of the allowed range."),
    "greater_than_equal": _l("Out of the allowed range."),
    "less_than": _l("Out of the allowed range."),
    "less_than_equal": _l("Out of the allowed range."),
    "decimal_max_digits": _l("Too many digits."),
    "decimal_max_places": _l("Too many decimal places."),
    "decimal_whole_digits": _l("Too many digits."),
    "literal_error": _l("Not one of the allowed values."),
    "enum": _l("Not one of the allowed values."),
    "json_invalid": _l("The body is not valid JSON."),
}
FALLBACK = _l("Invalid value.")
# The error type of a rule raised by a model's own validator (`fail`): its message is final.
RULE = "rule"


@dataclass(frozen=True)
class Say:
    """A field's own wording when it fails: `message` for any error, `by_type` per error type.

    Put it in the field's metadata: `name: Annotated[str, StringConstraints(...), Say(_l(...))]`.
    """

    message: Any = None
    by_type: Mapping[str, Any] = field(default_factory=dict)

    def for_type(self, error_type: str) -> Any:
        """The words for one pydantic error type (None: use the generic phrase)."""
        return self.by_type.get(error_type, self.message)


def fail(field_name: str, message: Any, value: Any = None) -> ValidationError:
    """An error naming one field, for a model's own cross-field validator to raise.

    `raise fail("longitude", _l("Enter both latitude and longitude, or neither."))`
    """
    return ValidationError.from_exception_data("input", [InitErrorDetails(
        type=PydanticCustomError(RULE, "{text}", {"text": message}),
        loc=(field_name,), input=value)])


def _words(model: type[BaseModel] | None, item: Mapping[str, Any]) -> Any:
    """The words for one error: lazy (translated, and safe in HTML like every `_l` text)."""
    if item["type"] == RULE:
        return item["ctx"]["text"]
    loc = item["loc"]
    info = model.model_fields.get(str(loc[0])) if model is not None and loc else None
    for meta in info.metadata if info is not None else ():
        if isinstance(meta, Say) and meta.for_type(item["type"]) is not None:
            return meta.for_type(item["type"])
    return ERROR_PHRASES.get(item["type"], FALLBACK)


def field_errors(err: ValidationError, model: type[BaseModel] | None = None, *,
                 nested: bool = True) -> dict[str, Any]:
    """{field: message in the user's language (lazy)}, the first error per field.

    `nested`: name the exact place ("drops.3.card"); otherwise the top-level field ("drops").
    """
    fields: dict[str, Any] = {}
    for item in err.errors(include_url=False, include_input=False):
        loc = item["loc"] if nested else item["loc"][:1]
        name = ".".join(str(part) for part in loc) or "body"
        fields.setdefault(name, _words(model, item))
    return fields


class InputModel(BaseModel):
    """Strict input of one use case: unknown fields refused, text stripped, frozen once valid."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    @classmethod
    def parse(cls, data: Mapping[str, Any] | None = None, **values: Any) -> Self:
        """Validate `data` (and/or keyword values); raise `InvalidInput` naming every bad field.

        `details["field"]` is the first bad field, `details["fields"]` maps each to its message.
        """
        try:
            return cls.model_validate({**(data or {}), **values})
        except ValidationError as err:
            fields = field_errors(err, cls, nested=False)
            raise InvalidInput(field=next(iter(fields)), fields=fields) from None
