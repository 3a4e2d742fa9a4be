"""The application factory: configuration layers, extensions, blueprints; no I/O."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, current_app, has_request_context, request, session
from flask_babel import get_locale
from werkzeug.middleware.proxy_fix import ProxyFix

from surveyapp import (
    auth,
    coding,
    errors,
    exports,
    publishing,
    questionnaire,
    results,
    studies,
)
from surveyapp import config as default_config
from surveyapp.auth.services import load_coordinator
from surveyapp.database import configure_sqlite, database_url
from surveyapp.extensions import babel, csrf, db, limiter, login_manager, migrate
from surveyapp.models.base import DISPLAY_ZONE

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


class InsecureConfiguration(RuntimeError):
    """The app was asked to run in production with a setting that is only safe in development."""


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Create the application: defaults, then instance/config.py, then SURVEYAPP_* variables."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_object(default_config)
    app.config.from_pyfile(os.environ.get("SURVEYAPP_CONFIG", "config.py"), silent=True)
    app.config.update(default_config.environment())
    if test_config is not None:
        app.config.update(test_config)

    if not (app.debug or app.testing) and app.config["SECRET_KEY"] == default_config.SECRET_KEY:
        raise InsecureConfiguration(
            "SURVEYAPP_SECRET_KEY is not set: refusing to start with the development key"
        )
    app.config["SQLALCHEMY_DATABASE_URI"] = database_url(
        app.config["DATABASE_URL"], app.instance_path
    )
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_pre_ping": True}
    if app.config["SESSION_COOKIE_SECURE"] is None:
        app.config["SESSION_COOKIE_SECURE"] = app.config["BASE_URL"].startswith("https:")
    app.config["REPORTS_DIR"] = app.config["REPORTS_DIR"] or str(
        Path(app.instance_path).parent / "reports"
    )
    app.config["MAIL_FILE_DIR"] = app.config["MAIL_FILE_DIR"] or str(
        Path(app.instance_path) / "mail"
    )

    db.init_app(app)
    with app.app_context():
        configure_sqlite(db.engine)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message_category = "info"
    babel.init_app(app, locale_selector=select_locale, timezone_selector=lambda: DISPLAY_ZONE.key)
    app.jinja_env.globals["current_locale"] = lambda: str(get_locale())

    app.register_blueprint(auth.bp)
    app.register_blueprint(studies.bp)
    app.register_blueprint(questionnaire.bp)
    app.register_blueprint(coding.bp)
    app.register_blueprint(publishing.bp)
    app.register_blueprint(results.bp)
    app.register_blueprint(exports.bp)
    login_manager.user_loader(load_coordinator)
    errors.init_app(app)
    if app.config["PROXIES"]:
        proxies = app.config["PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    return app


def select_locale() -> str:
    """Pick the interface language: the visitor's choice, the expert's, then the browser's."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # mail and builds pick their language explicitly
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = request.args.get("lang")
    if chosen in languages:
        session["lang"] = chosen
        return chosen
    if session.get("lang") in languages:
        return session["lang"]
    return (
        request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]
    )
