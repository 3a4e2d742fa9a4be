"""Engine set-up per database: SQLite's pragmas and write locking, PostgreSQL's driver."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Column, DateTime, Engine, event
from sqlalchemy.types import TypeEngine

from surveyapp.models.base import UTCDateTime


def database_url(configured: str, instance_path: str) -> str:
    """Return the SQLAlchemy URL: the configured one, or SQLite in the instance folder."""
    if not configured:
        return f"sqlite:///{Path(instance_path) / 'surveyapp.sqlite3'}"
    for prefix in ("postgres://", "postgresql://"):
        if configured.startswith(prefix):
            return "postgresql+psycopg://" + configured.removeprefix(prefix)
    return configured


def configure_sqlite(engine: Engine) -> None:
    """Turn on foreign keys, WAL and a busy timeout, and take the write lock at BEGIN.

    pysqlite's own transaction handling is switched off so that every transaction starts
    with BEGIN IMMEDIATE: two writers then queue on the busy timeout instead of failing
    when a read lock cannot be upgraded.
    """
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA busy_timeout = 10000")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):  # type: ignore[no-untyped-def]
        connection.exec_driver_sql("BEGIN IMMEDIATE")


# --- Alembic: how the models' own column types appear in migrations ----------------------------


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Write the models' UTC timestamp type as the plain column type it stores."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def compare_type(
    context: Any,
    inspected_column: Column[Any],
    metadata_column: Column[Any],
    inspected_type: TypeEngine[Any],
    metadata_type: TypeEngine[Any],
) -> bool | None:
    """Compare a UTC timestamp column as the DateTime(timezone=True) it is migrated as."""
    if not isinstance(metadata_type, UTCDateTime):
        return None  # alembic's own comparison
    stored = Column(metadata_column.name, DateTime(timezone=True))
    return context.impl.compare_type(inspected_column, stored)
