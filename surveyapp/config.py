"""Configuration defaults, overridden by instance/config.py and then SURVEYAPP_* variables."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

DEFAULT_SECRET_KEY = "dev-only-insecure-key"  # noqa: S105 - refused outside debug and testing

SECRET_KEY = DEFAULT_SECRET_KEY
DATABASE_URL = ""  # empty: SQLite file in the instance folder
REPORTS_DIR = ""  # empty: reports/ beside the instance folder
BASE_URL = "http://127.0.0.1:5000"
PROXIES = 0  # behind a reverse proxy: how many proxies set X-Forwarded-* headers
BABEL_DEFAULT_LOCALE = "nl"
LANGUAGES = ("nl", "en")

MAIL_SENDER = "Delphi-studie <delphi@localhost>"
MAIL_BACKEND = "smtp"  # "smtp" or "file"
MAIL_FILE_DIR = ""  # with the file backend: where .eml files go (default instance/mail)
SMTP_HOST = "localhost"
SMTP_PORT = 25
SMTP_USERNAME = ""
SMTP_PASSWORD = ""
SMTP_STARTTLS = False
SMTP_TIMEOUT = 30.0

MAX_CONTENT_LENGTH = 8 * 1024 * 1024  # the largest request body: a logo, or a long form

LOGIN_RATE_LIMIT = "10 per minute"
RATELIMIT_STORAGE_URI = "memory://"
RATELIMIT_HEADERS_ENABLED = True

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = None  # None: secure when BASE_URL is https
SESSION_COOKIE_SAMESITE = "Lax"
WTF_CSRF_TIME_LIMIT = None  # an expert may keep a questionnaire open for hours


def from_environment(environ: Mapping[str, str]) -> dict[str, Any]:
    """Read SURVEYAPP_* variables, typed like the default of the same name.

    A setting whose default is a number or a boolean is parsed as JSON (`587`, `true`), and
    so is one whose default is None (an optional number or switch) when it parses; every
    other value stays the text it is, so a numeric password stays a password.
    """
    settings: dict[str, Any] = {}
    for name, raw in environ.items():
        if not name.startswith("SURVEYAPP_") or name == "SURVEYAPP_CONFIG":
            continue
        key = name.removeprefix("SURVEYAPP_")
        default = globals().get(key)
        if default is None and key in globals():  # an optional number or switch: JSON if it parses
            try:
                value = json.loads(raw)
            except ValueError:
                value = raw
            settings[key] = value if isinstance(value, (bool, int, float)) else raw
        elif isinstance(default, (bool, int, float)):
            try:
                value = json.loads(raw)
            except ValueError as error:
                raise ValueError(f"{name} must be a {type(default).__name__}: {raw!r}") from error
            if not isinstance(value, (bool, int, float)):
                raise ValueError(f"{name} must be a {type(default).__name__}: {raw!r}")
            settings[key] = value
        else:
            settings[key] = raw
    return settings


def environment() -> dict[str, Any]:
    """Return the SURVEYAPP_* settings of this process."""
    return from_environment(os.environ)


# A mail that cannot go out is tried again 1, 2, 4 ... minutes later (at most an hour
# apart) and given up this many hours after it was queued.
MAIL_GIVE_UP_AFTER_HOURS = 48

# A personal link stops working this many days after the mail that carried it was queued.
TOKEN_LIFETIME_DAYS = 120
