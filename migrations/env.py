"""Alembic environment: SQLModel metadata, batch mode on SQLite, URL from the app config."""
from __future__ import annotations

import re
from pathlib import Path

from alembic import context
from sqlalchemy import create_engine, make_url, pool
from sqlmodel import SQLModel

import community.models  # noqa: F401 - registers every table on SQLModel.metadata
from community import config as app_config
from community.partitions import TABLES as PARTITIONED

config = context.config
target_metadata = SQLModel.metadata


def render_item(type_: str, obj, autogen_context):
    """Render our UTCDateTime as the plain column type it stores (migrations stay pure SA)."""
    from community.types import UTCDateTime

    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


# A partition of drop_record or ledger_entry: drop_record_202612, ledger_entry_default.
_PARTITION = re.compile(rf"^({'|'.join(PARTITIONED)})_(\d{{6}}|default)$")


def include_object(obj, name: str | None, type_: str, reflected: bool, compare_to) -> bool:
    """What autogenerate (and `flask db check`) compares. On PostgreSQL the monthly partitions
    of the partitioned tables are made by the scheduler, not by migrations (they and their
    indexes are left out), and foreign keys pointing at a partitioned table do not exist there
    (the models keep them for SQLite and for reading: see community/partitions.py)."""
    if type_ == "table" and reflected and name and _PARTITION.match(name):
        return False
    if type_ == "index" and reflected and _PARTITION.match(getattr(obj.table, "name", "")):
        return False
    return not (type_ == "foreign_key_constraint" and not reflected
                and obj.referred_table.name in PARTITIONED and _dialect() == "postgresql")


def _dialect() -> str:
    connection = config.attributes.get("connection")
    if connection is not None:
        return str(connection.dialect.name)
    return make_url(_url()).get_backend_name()


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
                      render_item=render_item, include_object=include_object)
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
                      render_item=render_item, include_object=include_object)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
