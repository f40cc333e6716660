"""Alembic environment: SQLModel metadata, batch mode on SQLite, URL from the app config."""
from __future__ import annotations

from pathlib import Path

from alembic import context
from sqlalchemy import create_engine, pool
from sqlmodel import SQLModel

import community.models  # noqa: F401 - registers every table on SQLModel.metadata
from community import config as app_config

config = context.config
target_metadata = SQLModel.metadata


def render_item(type_: str, obj, autogen_context):
    """Render our UTCDateTime as the plain column type it stores (migrations stay pure SA)."""
    from community.types import UTCDateTime

    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if url:
        return url
    return app_config.load(Path(__file__).resolve().parent.parent / "instance")["DATABASE_URL"]


def run_offline() -> None:
    """Emit SQL without a connection."""
    url = _url()
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True,
                      render_as_batch=url.startswith("sqlite"), compare_type=True,
                      render_item=render_item)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    """Run against a live connection (one passed in by the caller, or a new engine)."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_engine(_url(), poolclass=pool.NullPool)
    with engine.connect() as conn:
        _run(conn)


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=connection.dialect.name == "sqlite", compare_type=True,
                      render_item=render_item)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
