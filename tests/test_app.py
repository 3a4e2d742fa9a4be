"""The application factory: configuration layers and the refusal to run insecurely."""

import pytest

from surveyapp.app import InsecureConfiguration, create_app


def test_refuses_default_secret_key_in_production(monkeypatch):
    monkeypatch.delenv("SURVEYAPP_SECRET_KEY", raising=False)
    with pytest.raises(InsecureConfiguration, match="SURVEYAPP_SECRET_KEY"):
        create_app({"DEBUG": False, "TESTING": False})


def test_environment_overrides_defaults(monkeypatch, tmp_path):
    monkeypatch.setenv("SURVEYAPP_SECRET_KEY", "from-the-environment")
    monkeypatch.setenv("SURVEYAPP_BASE_URL", "https://delphi.example.nl")
    monkeypatch.setenv("SURVEYAPP_SMTP_PORT", "2525")
    monkeypatch.setenv("SURVEYAPP_DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    app = create_app()
    assert app.config["SECRET_KEY"] == "from-the-environment"
    assert app.config["BASE_URL"] == "https://delphi.example.nl"
    assert app.config["SMTP_PORT"] == 2525
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("x.db")


def test_postgres_urls_use_psycopg3(monkeypatch):
    monkeypatch.setenv("SURVEYAPP_DATABASE_URL", "postgresql://u:p@localhost/delphi")
    app = create_app({"TESTING": True})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u:p@localhost/delphi"


def test_instance_config_file_is_read(monkeypatch, tmp_path):
    config = tmp_path / "alt.py"
    config.write_text("BASE_URL = 'https://from-instance.example'\n")
    monkeypatch.setenv("SURVEYAPP_CONFIG", str(config))
    app = create_app({"TESTING": True})
    assert app.config["BASE_URL"] == "https://from-instance.example"


def test_numeric_looking_secrets_stay_text(monkeypatch):
    monkeypatch.setenv("SURVEYAPP_SMTP_PASSWORD", "123456789012")
    monkeypatch.setenv("SURVEYAPP_SECRET_KEY", "4242")
    monkeypatch.setenv("SURVEYAPP_SMTP_STARTTLS", "true")
    app = create_app({"TESTING": True})
    assert app.config["SMTP_PASSWORD"] == "123456789012"
    assert app.config["SECRET_KEY"] == "4242"
    assert app.config["SMTP_STARTTLS"] is True


def test_a_setting_of_the_wrong_kind_is_named(monkeypatch):
    monkeypatch.setenv("SURVEYAPP_SMTP_PORT", "twenty-five")
    with pytest.raises(ValueError, match="SURVEYAPP_SMTP_PORT must be a int"):
        create_app({"TESTING": True})


def test_the_session_cookie_is_secure_behind_https(monkeypatch):
    monkeypatch.setenv("SURVEYAPP_BASE_URL", "https://delphi.example.nl")
    assert create_app({"TESTING": True}).config["SESSION_COOKIE_SECURE"] is True
    monkeypatch.setenv("SURVEYAPP_BASE_URL", "http://127.0.0.1:5000")
    assert create_app({"TESTING": True}).config["SESSION_COOKIE_SECURE"] is False


def test_an_optional_switch_reads_as_a_boolean(monkeypatch):
    monkeypatch.setenv("SURVEYAPP_BASE_URL", "https://delphi.example.nl")
    monkeypatch.setenv("SURVEYAPP_SESSION_COOKIE_SECURE", "false")  # e.g. TLS ends elsewhere
    monkeypatch.setenv("SURVEYAPP_WTF_CSRF_TIME_LIMIT", "3600")
    app = create_app({"TESTING": True})
    assert app.config["SESSION_COOKIE_SECURE"] is False
    assert app.config["WTF_CSRF_TIME_LIMIT"] == 3600
