"""The scope test helper: every route is proven closed to a manager of another community.

Each module registers, in `tests/<module>/scope_cases.py`, a function per endpoint
that returns the requests a manager of community B might try against community A's
data (World from tests/builders.py). `tests/test_scope.py` then checks that
- every route of the app has cases or is listed in EXEMPT (so no endpoint is forgotten);
- each case is refused (403/404), or, for a list page, answers without A's data;
- nothing in the database changed (every table but the audit log is compared).
"""
from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tests.builders import World


@dataclass
class Case:
    """One foreign request. `absent`: strings the response must not contain (list pages)."""

    method: str
    url: str
    data: dict | None = None
    expect: tuple[int, ...] = (403, 404)
    absent: list[str] = field(default_factory=list)
    json: dict | None = None


CaseFn = Callable[[World], list[Case]]
CASES: dict[str, CaseFn] = {}

# Routes that are not scoped to an area by nature.
EXEMPT = {
    "static",
    "auth.login",
    "auth.logout",
    "auth.index",
    "i18n.switch",
}


def foreign(endpoint: str) -> Callable[[CaseFn], CaseFn]:
    """Register the foreign-access cases of an endpoint."""

    def deco(fn: CaseFn) -> CaseFn:
        CASES[endpoint] = fn
        return fn

    return deco


def exempt(*endpoints: str) -> None:
    """Declare endpoints with no area scope (e.g. a resident's own pages, tested elsewhere)."""
    EXEMPT.update(endpoints)


def load_all() -> None:
    """Import every tests/<module>/scope_cases.py so their cases register."""
    root = Path(__file__).parent
    for info in pkgutil.iter_modules([str(root)]):
        if info.ispkg and (root / info.name / "scope_cases.py").exists():
            importlib.import_module(f"tests.{info.name}.scope_cases")
