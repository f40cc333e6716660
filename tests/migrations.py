"""Scaffolding of the data-migration tests: a migration's revision pair, found by its file
name, and an empty database of this test's backend to migrate step by step."""
from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import _pg_admin, _pg_database, _run_database

VERSIONS = Path(__file__).resolve().parents[1] / "migrations" / "versions"


def revisions(name_part: str) -> tuple[str, str]:
    """(revision, down_revision) of the one migration whose file name ends in
    `_<name_part>.py`: upgrade to the second, insert old-shaped rows, then to the first."""
    [path] = VERSIONS.glob(f"*_{name_part}.py")
    spec = importlib.util.spec_from_file_location(f"migration_{name_part}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.revision, module.down_revision


@pytest.fixture
def empty_url(backend: str, tmp_path: Path, worker: str) -> Iterator[str]:
    """An empty database of this test's backend (its own PostgreSQL database, dropped after)."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrate.db'}"
        return
    name = _run_database(f"migrate_{worker}")
    _pg_admin([f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"'])
    yield _pg_database(name)
    _pg_admin([f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'])
