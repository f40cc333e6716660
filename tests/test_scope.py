"""Every page and endpoint refuses a manager from another community (see tests/scope.py)."""
from __future__ import annotations

import pytest
from flask import Flask
from sqlmodel import Session

from tests import builders, scope
from tests.snapshot import every_table

scope.load_all()
SKIP = ("audit_entry",)  # refusals are audited


def test_every_route_has_scope_cases(app: Flask) -> None:
    """A new endpoint without foreign-access cases fails here."""
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    missing = sorted(endpoints - set(scope.CASES) - scope.EXEMPT)
    assert not missing, f"endpoints without scope cases (tests/<module>/scope_cases.py): {missing}"


@pytest.mark.parametrize("endpoint", sorted(scope.CASES))
def test_foreign_manager_is_refused(client, session: Session, world: builders.World,
                                    endpoint: str) -> None:
    """Manager of B tries every case against A: refused (or A's data absent), nothing changes."""
    cases = scope.CASES[endpoint](world)
    assert cases, f"{endpoint}: no cases"
    builders.login(client, world.manager_b)
    before = every_table(session, skip=SKIP)
    for case in cases:
        kwargs = {"data": case.data} if case.data is not None else {}
        if case.json is not None:
            kwargs = {"json": case.json}
        resp = client.open(case.url, method=case.method, **kwargs)
        assert resp.status_code in case.expect, (endpoint, case.url, resp.status_code)
        body = resp.get_data(as_text=True)
        for text in case.absent:
            assert text not in body, (endpoint, case.url, text)
    assert every_table(session, skip=SKIP) == before, f"{endpoint}: data changed"
