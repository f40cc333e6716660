"""Scaffolding of the data-migration tests: a migration's revision pair, found by its file
name, and an empty database of this test's backend to migrate step by step."""
from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from community.db import make_engine
from tests.conftest import _pg_admin, _pg_database, _run_database, drop_at_end, no_commit_wait

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


_MADE: set[str] = set()  # this worker's migration database, once created


@pytest.fixture
def empty_url(backend: str, tmp_path: Path, worker: str) -> Iterator[str]:
    """An empty database of this test's backend. On PostgreSQL the worker's own migration
    database: created by its first test, emptied for each later one (its schema dropped and
    made again, with the types, sequences and alembic's version table in it), dropped when
    the worker ends. Each DROP DATABASE waits for a checkpoint of the whole server (2-5 s
    under load); a schema is dropped without one."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrate.db'}"
        return
    name = _run_database(f"migrate_{worker}")
    if name in _MADE:
        engine = make_engine(_pg_database(name))
        try:
            with engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        finally:
            engine.dispose()
    else:
        _pg_admin([f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
                   f'CREATE DATABASE "{name}"', no_commit_wait(name)])
        _MADE.add(name)
        drop_at_end(name)
    yield _pg_database(name)
