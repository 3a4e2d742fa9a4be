"""The `surveyapp` command line: creating coordinator accounts."""

from __future__ import annotations

from pathlib import Path

from flask.testing import FlaskCliRunner
from sqlalchemy import func, select

from surveyapp.auth.services import authenticate
from surveyapp.cli import cli
from surveyapp.extensions import db
from surveyapp.models import Coordinator

# The commands live on the `surveyapp` group; the runner hands it the test app.
PASSWORD = "a long enough passphrase"


def password_file(tmp_path: Path, password: str = PASSWORD) -> str:
    path = tmp_path / "password.txt"
    path.write_text(password + "\n", encoding="utf-8")
    return str(path)


def coordinator_count() -> int:
    db.session.rollback()  # see what the command committed, not a stale snapshot
    return db.session.scalar(select(func.count()).select_from(Coordinator)) or 0


def test_creates_a_coordinator_from_a_password_file(runner: FlaskCliRunner, tmp_path: Path):
    result = runner.invoke(
        cli,
        args=["create-coordinator", "Anna@Example.org", "--password-file", password_file(tmp_path)],
    )

    assert result.exit_code == 0, result.output
    assert "Coordinator anna@example.org created." in result.output
    coordinator = authenticate("anna@example.org", PASSWORD)  # the file's newline is not in it
    assert coordinator is not None
    assert not coordinator.is_admin


def test_admin_flag_makes_an_admin(runner: FlaskCliRunner):
    result = runner.invoke(
        cli,
        args=["create-coordinator", "root@example.org", "--admin"],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )

    assert result.exit_code == 0, result.output
    coordinator = authenticate("root@example.org", PASSWORD)
    assert coordinator is not None
    assert coordinator.is_admin


def test_refuses_a_duplicate_with_a_clear_message(runner: FlaskCliRunner, tmp_path: Path):
    args = ["create-coordinator", "anna@example.org", "--password-file", password_file(tmp_path)]
    assert runner.invoke(cli, args=args).exit_code == 0

    result = runner.invoke(cli, args=[*args[:1], "ANNA@example.org", *args[2:]])

    assert result.exit_code == 1
    assert "Error: an account for anna@example.org exists already" in result.output
    assert coordinator_count() == 1


def test_refuses_a_short_password(runner: FlaskCliRunner, tmp_path: Path):
    result = runner.invoke(
        cli,
        args=[
            "create-coordinator",
            "anna@example.org",
            "--password-file",
            password_file(tmp_path, "short"),
        ],
    )

    assert result.exit_code == 1
    assert "Error: the password needs at least 12 characters" in result.output
    assert coordinator_count() == 0


def test_refuses_an_address_without_at_sign(runner: FlaskCliRunner, tmp_path: Path):
    result = runner.invoke(
        cli, args=["create-coordinator", "anna", "--password-file", password_file(tmp_path)]
    )

    assert result.exit_code == 1
    assert "is not an email address" in result.output
    assert coordinator_count() == 0


def test_asks_for_the_password_twice(runner: FlaskCliRunner):
    result = runner.invoke(
        cli, args=["create-coordinator", "anna@example.org"], input=f"{PASSWORD}\n{PASSWORD}\n"
    )

    assert result.exit_code == 0, result.output
    assert result.output.count("Password") == 1
    assert "Repeat for confirmation" in result.output
    assert authenticate("anna@example.org", PASSWORD) is not None


def test_asks_again_when_the_two_passwords_differ(runner: FlaskCliRunner):
    other = "another long passphrase"
    result = runner.invoke(
        cli,
        args=["create-coordinator", "anna@example.org"],
        input=f"{PASSWORD}\n{other}\n{other}\n{other}\n",
    )

    assert result.exit_code == 0, result.output
    assert "Error: The two entered values do not match." in result.output
    assert authenticate("anna@example.org", other) is not None
    assert authenticate("anna@example.org", PASSWORD) is None


def test_gives_up_without_a_password(runner: FlaskCliRunner):
    result = runner.invoke(cli, args=["create-coordinator", "anna@example.org"], input="")

    assert result.exit_code == 1
    assert coordinator_count() == 0


def test_missing_password_file_is_a_usage_error(runner: FlaskCliRunner, tmp_path: Path):
    result = runner.invoke(
        cli,
        args=["create-coordinator", "anna@example.org", "--password-file", str(tmp_path / "nope")],
    )

    assert result.exit_code == 2
    assert "does not exist" in result.output
    assert coordinator_count() == 0


def test_commands_without_a_secret_key_say_so_in_one_line(monkeypatch):
    from click.testing import CliRunner

    from surveyapp.cli import cli

    monkeypatch.delenv("SURVEYAPP_SECRET_KEY", raising=False)
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    result = CliRunner().invoke(cli, ["create-coordinator", "x@example.org"])
    assert result.exit_code != 0
    assert "SURVEYAPP_SECRET_KEY is not set" in result.output
    assert "Traceback" not in result.output


def test_request_logs_never_hold_a_personal_link():
    from surveyapp.cli import redact_links

    line = "GET /q/LrONKxcsOhwZaukOpI_9TKFu_A2YS5Jf?lang=en HTTP/1.1"
    assert redact_links(line) == "GET /q/[link]?lang=en HTTP/1.1"
    assert redact_links("GET /q/ HTTP/1.1") == "GET /q/ HTTP/1.1"
