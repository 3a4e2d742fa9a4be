"""The `surveyapp` command: Flask's commands over create_app, plus the project's own."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import FlaskGroup, with_appcontext

from surveyapp import create_app

cli = FlaskGroup(create_app=create_app, help="Run and manage surveyapp Delphi studies.")


# --- accounts ---------------------------------------------------------------------------


@cli.command("create-coordinator")
@click.argument("email")
@click.option("--admin", is_flag=True, help="Also let this account manage coordinators.")
@click.option(
    "--password-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Read the password from this file instead of asking for it.",
)
@with_appcontext
def create_coordinator_command(email: str, admin: bool, password_file: Path | None) -> None:
    """Create a coordinator account that logs in with EMAIL."""
    from surveyapp.auth.services import AccountError, create_coordinator
    from surveyapp.extensions import db

    if password_file is not None:
        password = password_file.read_text(encoding="utf-8").strip()
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        create_coordinator(email, password, is_admin=admin)
    except AccountError as error:
        raise click.ClickException(str(error)) from error
    db.session.commit()
    click.echo(f"Coordinator {email.strip().lower()} created.")


# --- serving ----------------------------------------------------------------------------


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@with_appcontext
def serve_command(host: str, port: int) -> None:
    """Serve the app with the development server (use gunicorn in production)."""
    from flask import current_app
    from werkzeug.serving import run_simple

    click.echo(f"Serving on http://{host}:{port}/ (Ctrl+C stops)")
    run_simple(host, port, current_app._get_current_object(), threaded=True)


# --- mail -------------------------------------------------------------------------------


# --- demo -------------------------------------------------------------------------------


# --- statistics -------------------------------------------------------------------------


# --- anthology --------------------------------------------------------------------------
