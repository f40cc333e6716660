"""The base of every input model (`StationIn`, `RewardIn` …): the one place a field rule lives.

Each use case takes one strict pydantic model. HTML forms (`web.forms.ModelForm`), the JSON
API and the services' own callers all go through `InputModel.parse`, which turns pydantic's
errors into an `InvalidInput` naming every bad field with a message in the user's language.
A field may carry its own wording with `Say(...)` in its `Annotated` metadata; otherwise a
short phrase per pydantic error type is used.
"""
from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Annotated, Any, Self

from flask_babel import lazy_gettext as _l
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, InitErrorDetails, PydanticCustomError

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
    "string_nul": _l("Contains a character that is not allowed (NUL)."),
    "int_range": _l("Out of the allowed range."),
    "date_range": _l("The date must be between the years 2000 and 2100."),
}
# Errors about the bytes or the range of a value, not its meaning: a field's own wording
# (`Say(message)`, e.g. "Please enter the name.") would mislead, so only `by_type` overrides.
GENERIC_ONLY = frozenset({"string_nul", "int_range", "date_range"})
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
        if not isinstance(meta, Say):
            continue
        words = (meta.by_type.get(item["type"]) if item["type"] in GENERIC_ONLY
                 else meta.for_type(item["type"]))
        if words is not None:
            return words
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


# --- Bounds every input shares: what the database can store ---------------------------------
# Integer columns are PostgreSQL `integer` (ids, counts, points); the few `bigint` ids (drops,
# ledger entries) name `BigId`. Dates and times outside these years are typing errors or
# attacks, and far ones overflow date arithmetic (9999-12-31 + 1 day).
INT_MAX = 2**31 - 1
BIGINT_MAX = 2**63 - 1
EARLIEST_YEAR, LATEST_YEAR = 2000, 2100
NO_NUL = "^[^\\u0000]*$"  # the JSON-schema words for "no NUL character" (ECMA-262 regex)

Id = Annotated[int, Field(ge=1, le=INT_MAX)]
BigId = Annotated[int, Field(ge=1, le=BIGINT_MAX)]


def _in_years(value: date) -> date:
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise PydanticCustomError("date_range", "year out of range")
    return value


# The same in the JSON schema: RFC 3339 with an offset, years 2000–2100 (so a generated client
# cannot send what is refused). A whole pattern, not just the year: generators make values
# from it, where a prefix pattern beside `format` leaves them guessing. It spells out the years
# of EARLIEST_YEAR and LATEST_YEAR (tests/fuzz/test_hostile.py keeps them together).
DATETIME_PATTERN = (
    r"^(20[0-9]{2}|2100)-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
    r"T([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?"
    r"(Z|[+-](0[0-9]|1[0-4]):[0-5][0-9])$")

# An aware date and time within the sane years, checked before any arithmetic (its year is
# read as sent, so 9999-12-31T23:59:59-14:00 never reaches astimezone()).
SaneDatetime = Annotated[AwareDatetime, AfterValidator(_in_years), Field(
    description=f"ISO 8601 with a time-zone offset, years {EARLIEST_YEAR}–{LATEST_YEAR}.",
    json_schema_extra={"pattern": DATETIME_PATTERN})]


def _check_value(value: Any, *, big: bool = False) -> None:
    """Refuse a NUL in text, an integer outside the column type (`big`: bigint), a date
    outside the sane years; lists are checked item by item."""
    if isinstance(value, str):
        if "\x00" in value:
            raise PydanticCustomError("string_nul", "contains NUL")
    elif isinstance(value, bool):
        return
    elif isinstance(value, int):
        if not -(BIGINT_MAX if big else INT_MAX) - 1 <= value <= (BIGINT_MAX if big else INT_MAX):
            raise PydanticCustomError("int_range", "out of range")
    elif isinstance(value, date):  # datetime too
        _in_years(value)
    elif isinstance(value, list | tuple | set | frozenset):
        # Not into dicts: a batch's raw items are validated one by one, each on its own.
        for part in value:
            _check_value(part, big=big)


def _widen(node: Any) -> None:
    """Write the shared bounds into a JSON schema, so a generated client cannot send what
    `_check` refuses: no NUL in free text, integers within the column type."""
    if isinstance(node, list):
        for part in node:
            _widen(part)
        return
    if not isinstance(node, dict):
        return
    kind = node.get("type")
    if kind == "string" and not {"pattern", "format", "enum", "const"} & node.keys():
        node["pattern"] = NO_NUL
    elif kind == "integer":
        node.setdefault("minimum", -INT_MAX - 1)
        node.setdefault("maximum", INT_MAX)
    for key, part in node.items():
        if key not in ("$defs", "definitions") and isinstance(part, dict | list):
            _widen(part)


@functools.cache
def _big_field(model: type[BaseModel], name: str) -> bool:
    """Whether a field of `model` allows bigint values (its `le` above `integer`). Cached:
    every field of every input item asks it (a 100-drop batch: 600 times)."""
    field_info = model.model_fields.get(name)
    limit = max((getattr(m, "le", None) or 0 for m in
                 (field_info.metadata if field_info else ())), default=0)
    return limit > INT_MAX


class Bounded(BaseModel):
    """The shared bounds of every input model (forms, the JSON API, services' callers): text
    without NUL (PostgreSQL cannot store it), integers within the database's `integer` (wider
    only where the field says `le=BIGINT_MAX`), dates within the sane years — checked once,
    here, for every field, and stated in the model's JSON schema."""

    @field_validator("*", mode="after")
    @classmethod
    def _bounded(cls, value: Any, info: ValidationInfo) -> Any:
        _check_value(value, big=_big_field(cls, info.field_name or ""))
        return value

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: CoreSchema,
                                     handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        schema = handler.resolve_ref_schema(handler(core_schema))
        _widen(schema.get("properties", {}))
        return schema


class InputModel(Bounded):
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
