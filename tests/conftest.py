"""Fixtures: an app on a fresh database per test (SQLite, or PostgreSQL when asked)."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from playwright.sync_api import Browser, Page, sync_playwright
from sqlalchemy import create_engine, text
from werkzeug.serving import make_server

from surveyapp.app import create_app
from surveyapp.extensions import db
from surveyapp.models import Base

# Set by the test command for the PostgreSQL pass, e.g. postgresql+psycopg://...@127.0.0.1:5433/x
POSTGRES_URL = os.environ.get("SURVEYAPP_TEST_DATABASE_URL", "")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that touches the application database, so both engines can run them."""
    for item in items:
        if "app" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.db)


@pytest.fixture(scope="session")
def postgres_schema() -> Iterator[str]:
    """Create the schema once on the test PostgreSQL; each test then truncates its tables."""
    if not POSTGRES_URL:
        yield ""
        return
    engine = create_engine(POSTGRES_URL)
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    engine.dispose()
    yield POSTGRES_URL


def _truncate_all(url: str) -> None:
    engine = create_engine(url)
    names = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


class IsolatedClient(FlaskClient):
    """A test client whose every request runs in an app context of its own, as in production.

    The test's app context stays pushed for builders and assertions; without this, Flask
    would reuse it for the requests and share `g` and the database session with them.
    The test's own transaction ends first: on SQLite every transaction holds the write
    lock (BEGIN IMMEDIATE), and afterwards the test reads what the request wrote.
    """

    def open(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        db.session.commit()
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def app(tmp_path: Path, postgres_schema: str) -> Iterator[Flask]:
    """An application on a database of its own, with an app context pushed for the test."""
    url = postgres_schema or f"sqlite:///{tmp_path / 'test.sqlite3'}"
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key",
            "DATABASE_URL": url,
            "REPORTS_DIR": str(tmp_path / "reports"),
            "MAIL_BACKEND": "file",
            "MAIL_FILE_DIR": str(tmp_path / "mail"),
            "BASE_URL": "http://testserver",
            "RATELIMIT_ENABLED": True,
        }
    )
    app.test_client_class = IsolatedClient
    with app.app_context():
        if not postgres_schema:
            db.create_all()
        try:
            yield app
        finally:
            db.session.remove()
            db.engine.dispose()
    if postgres_schema:
        _truncate_all(postgres_schema)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


# --- a real browser against a live server ---------------------------------------------

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """Serve the test app on a free loopback port; return its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def release_database() -> None:
    """End the test's transaction before a browser acts on the live server.

    SQLite takes its write lock when a transaction begins; the test thread must hold none
    while the server's threads write.
    """
    db.session.remove()
