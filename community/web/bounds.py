"""Bounds on what a URL may carry, in one place: ids within the database's integer types and
no NUL character anywhere in the path or the query string.

`<int:…>` in every route is the bounded converter below (an id past PostgreSQL `integer` is a
404 like any unknown id, never a database error); `<bigint:…>` names the few `bigint` ids
(drops). A NUL in a path segment is a 404, in a query argument a 400 (`BadQuery`, saying
which search or filter value to change): PostgreSQL text cannot hold it, and no page has a use
for it.
"""
from __future__ import annotations

from typing import Any

from flask import Flask, Request, abort, request
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.routing import IntegerConverter, Map

from community.errors import DomainError
from community.schemas import BIGINT_MAX, INT_MAX


class IdConverter(IntegerConverter):
    """A non-negative integer no larger than PostgreSQL `integer` (2³¹−1)."""

    def __init__(self, url_map: Map, fixed_digits: int = 0, min: int | None = None,  # noqa: A002
                 max: int | None = INT_MAX, signed: bool = False) -> None:  # noqa: A002
        super().__init__(url_map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


class BigIdConverter(IdConverter):
    """A non-negative integer no larger than PostgreSQL `bigint` (2⁶³−1)."""

    def __init__(self, url_map: Map, fixed_digits: int = 0, min: int | None = None,  # noqa: A002
                 max: int | None = BIGINT_MAX, signed: bool = False) -> None:  # noqa: A002
        super().__init__(url_map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def _in_range(value: Any) -> bool:
    return not isinstance(value, int) or -INT_MAX - 1 <= value <= INT_MAX


class BoundedArgs(ImmutableMultiDict):
    """Query and form values where `get(name, type=int)` treats an integer past PostgreSQL
    `integer` like any other junk: the default (as werkzeug does for "abc")."""

    # werkzeug types get() with overloads; one plain signature covers them all here.
    def get(self, key: Any, default: Any = None,  # type: ignore[override]
            type: Any = None) -> Any:  # noqa: A002
        """The value, converted by `type`; an out-of-range integer gives `default`."""
        value = super().get(key, default=default, type=type)
        return value if _in_range(value) else default

    def getlist(self, key: Any, type: Any = None) -> list[Any]:  # noqa: A002
        """The values, converted by `type`; out-of-range integers are left out."""
        return [v for v in super().getlist(key, type=type) if _in_range(v)]


class BoundedRequest(Request):
    """The app's request: bounded integers in `args` and `form`."""

    parameter_storage_class = BoundedArgs


def install_converters(app: Flask) -> None:
    """Bound `<int:…>` and add `<bigint:…>` (before any blueprint adds its rules), and read
    integer query and form arguments within bounds."""
    app.url_map.converters["int"] = IdConverter
    app.url_map.converters["bigint"] = BigIdConverter
    app.request_class = BoundedRequest


class BadQuery(DomainError):
    """A search or filter value in the address that no page can use (a NUL character)."""

    code, status = "bad_query", 400
    message = _l("A search or filter value contains a character that is not allowed (a NUL "
                 "character). Remove it from the search box or the address and search again.")


def _has_nul(values: Any) -> bool:
    return any(isinstance(v, str) and "\x00" in v for v in values)


def register(app: Flask) -> None:
    """Refuse a NUL in the path (404) or the query string (400) before any view runs."""

    @app.before_request
    def _no_nul() -> None:
        if "\x00" in request.path or _has_nul((request.view_args or {}).values()):
            abort(404)
        for key in request.args:
            if _has_nul([key, *request.args.getlist(key)]):
                raise BadQuery(field=key.replace("\x00", "") or "q")
