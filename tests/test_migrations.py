"""The migrations build exactly the schema the models describe, and can be undone."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import flask_migrate
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from sqlalchemy import Column, MetaData, String, create_engine, inspect, make_url, text

from surveyapp.app import create_app
from surveyapp.database import compare_type, render_item
from surveyapp.extensions import db
from surveyapp.models import Base
from surveyapp.models.base import UTCDateTime
from tests.conftest import POSTGRES_URL

# Both passes of the test command: SQLite, and PostgreSQL when SURVEYAPP_TEST_DATABASE_URL is set.
pytestmark = pytest.mark.db


@pytest.fixture
def empty_database_url(tmp_path: Path) -> Iterator[str]:
    """An empty database of its own, apart from the schema conftest.py creates with create_all."""
    if not POSTGRES_URL:
        yield f"sqlite:///{tmp_path / 'migrated.sqlite3'}"
        return
    name = f"surveyapp_migrations_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def migrated_app(empty_database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """An app on the empty database, nothing created yet: the migrations do that."""
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key",
            "DATABASE_URL": empty_database_url,
            "REPORTS_DIR": str(tmp_path / "reports"),
        }
    )
    with app.app_context():
        try:
            yield app
        finally:
            db.session.remove()
            db.engine.dispose()


def schema_differences(app: Flask, metadata: MetaData = Base.metadata) -> list[Any]:
    """Compare the database with the models the way `surveyapp db migrate` would."""
    options = dict(app.extensions["migrate"].configure_args)
    # env.py adds its hooks to these arguments when it runs (here: at the upgrade).
    assert options["compare_type"] is compare_type
    assert options["render_item"] is render_item
    options.pop("process_revision_directives", None)
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts=options)
        return compare_metadata(context, metadata)


def table_names() -> set[str]:
    return set(inspect(db.engine).get_table_names()) - {"alembic_version"}


def test_upgrade_builds_the_schema_the_models_describe(migrated_app: Flask) -> None:
    flask_migrate.upgrade()

    assert table_names() == set(Base.metadata.tables)
    assert schema_differences(migrated_app) == []


def test_comparison_sees_a_model_the_migrations_lack(migrated_app: Flask) -> None:
    """Guard the test above against passing vacuously: drift in the models must show."""
    flask_migrate.upgrade()
    drifted = MetaData(naming_convention=Base.metadata.naming_convention)
    for table in Base.metadata.tables.values():
        table.to_metadata(drifted)
    drifted.tables["studies"].append_column(Column("nickname", String(40), nullable=True))
    drifted.tables["studies"].c.title.type = UTCDateTime()  # compared by our hook
    drifted.tables["coordinators"].c.created_at.type = String(30)  # by alembic's own

    differences = schema_differences(migrated_app, drifted)

    found = sorted(
        (diff[0][0], diff[0][2], diff[0][3]) if isinstance(diff, list) else (diff[0], diff[2], "")
        for diff in differences
    )
    assert found == [
        ("add_column", "studies", ""),
        ("modify_type", "coordinators", "created_at"),
        ("modify_type", "studies", "title"),
    ], differences


def test_downgrade_to_base_and_upgrade_again(migrated_app: Flask) -> None:
    flask_migrate.upgrade()

    flask_migrate.downgrade(revision="base")
    assert table_names() == set()

    flask_migrate.upgrade()
    assert table_names() == set(Base.metadata.tables)
    assert schema_differences(migrated_app) == []


def test_cli_db_upgrade_builds_an_empty_database(migrated_app: Flask) -> None:
    result = migrated_app.test_cli_runner().invoke(args=["db", "upgrade"])

    assert result.exit_code == 0, result.output
    assert table_names() == set(Base.metadata.tables)
