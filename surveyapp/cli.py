"""The `surveyapp` command: Flask's commands over create_app, plus the project's own."""

from __future__ import annotations

import re
import signal
import threading
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, NoAppException, with_appcontext
from flask_babel import force_locale
from sqlalchemy import or_, select
from werkzeug.serving import WSGIRequestHandler, run_simple

from surveyapp.anthology.command import anthology_group
from surveyapp.app import InsecureConfiguration, create_app
from surveyapp.auth.services import AccountError, create_coordinator
from surveyapp.demo.services import DEMO_EMAIL, DEMO_PASSWORD, demo_exists, load_demo
from surveyapp.exports.services import (
    pseudonym_key,
    ratings_table,
    study_workbook,
    to_csv,
    to_sav,
)
from surveyapp.extensions import db
from surveyapp.mail.delivery import (
    STUCK_AFTER,
    DeliveryReport,
    deliver_outbox,
    outbox_status,
    requeue_stuck,
    run_worker,
)
from surveyapp.models import Study, utcnow
from surveyapp.publishing.services import gather_anthology, write_anthology
from surveyapp.stats.command import stats_command
from surveyapp.worker import run_once, start_background_worker, work_until


def create_app_for_cli() -> Flask:
    """Build the app for a command; a refused configuration reads as one line, not a trace."""
    try:
        return create_app()
    except InsecureConfiguration as error:
        raise NoAppException(str(error)) from error


cli = FlaskGroup(create_app=create_app_for_cli, help="Run and manage surveyapp Delphi studies.")


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
    if password_file is not None:
        password = password_file.read_text(encoding="utf-8").strip()
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        create_coordinator(email, password, is_admin=admin)
    except AccountError as error:
        with force_locale("en"):  # the command line speaks English throughout
            raise click.ClickException(str(error)) from error
    db.session.commit()
    click.echo(f"Coordinator {email.strip().lower()} created.")


# --- serving ----------------------------------------------------------------------------


PERSONAL_LINK = re.compile(r"/q/[A-Za-z0-9_-]+")


def redact_links(line: str) -> str:
    """Replace personal link tokens in a logged request line: logs must not hold them."""
    return PERSONAL_LINK.sub("/q/[link]", line)


class RedactingRequestHandler(WSGIRequestHandler):
    """The development server's request log, without the tokens personal links carry."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        self.requestline = redact_links(self.requestline)
        super().log_request(code, size)


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@with_appcontext
def serve_command(host: str, port: int) -> None:
    """Serve the app with the development server (use gunicorn in production)."""
    app = current_app._get_current_object()
    stop = start_background_worker(app)  # mail and anthology builds, outside the requests
    click.echo(f"Serving on http://{host}:{port}/ (Ctrl+C stops)")
    try:
        run_simple(host, port, app, threaded=True, request_handler=RedactingRequestHandler)
    finally:
        stop.set()


@cli.command("worker")
@click.option("--interval", default=5.0, show_default=True, help="Seconds between passes.")
@click.option("--once", is_flag=True, help="Do what is due now, then stop.")
@with_appcontext
def worker_command(interval: float, once: bool) -> None:
    """Deliver queued mail and build queued anthologies (run beside gunicorn)."""
    app = current_app._get_current_object()
    if once:
        run_once(app)
        return
    stop = threading.Event()
    handlers = {n: signal.signal(n, lambda *_: stop.set()) for n in (signal.SIGINT, signal.SIGTERM)}
    click.echo(f"Working every {interval:g} s: mail and anthology builds; Ctrl+C stops.")
    try:
        work_until(app, stop, interval)
    finally:
        for number, handler in handlers.items():
            signal.signal(number, handler)


# --- mail -------------------------------------------------------------------------------


@cli.group("mail")
def mail_group() -> None:
    """Deliver queued email and inspect the outbox."""


@mail_group.command("send")
@click.option("--worker", is_flag=True, help="Keep running and deliver mail as it becomes due.")
@click.option(
    "--interval",
    default=10.0,
    show_default=True,
    type=click.FloatRange(min=0.1),
    help="Seconds between passes in worker mode.",
)
@click.option(
    "--limit", default=100, show_default=True, type=click.IntRange(min=1), help="Mails per pass."
)
@with_appcontext
def mail_send_command(worker: bool, interval: float, limit: int) -> None:
    """Deliver the mail that is due (once, or as a worker until Ctrl+C)."""
    config = current_app.config
    if not worker:
        try:
            click.echo(str(deliver_outbox(config, limit=limit)))
        except ValueError as error:
            raise click.ClickException(str(error)) from error
        return

    stop = threading.Event()
    last_stuck = 0

    def report(outcome: DeliveryReport) -> None:
        nonlocal last_stuck
        if outcome.sent or outcome.failed or outcome.retried or outcome.stuck != last_stuck:
            click.echo(str(outcome))
        last_stuck = outcome.stuck

    def error(problem: Exception) -> None:
        click.echo(f"database unavailable, trying again: {problem}", err=True)

    previous = {
        number: signal.signal(number, lambda *_: stop.set())
        for number in (signal.SIGINT, signal.SIGTERM)
    }
    click.echo(f"Delivering mail every {interval:g} s; Ctrl+C stops after the current message.")
    try:
        run_worker(config, interval, stop, on_report=report, on_error=error, limit=limit)
    except ValueError as problem:
        raise click.ClickException(str(problem)) from problem
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    click.echo("Mail worker stopped.")


@mail_group.command("status")
@with_appcontext
def mail_status_command() -> None:
    """Count the outbox per state and list stuck and failed mails."""
    status = outbox_status(db.session, utcnow())
    db.session.rollback()
    click.echo(
        ", ".join(f"{state.value} {count}" for state, count in status.counts.items())
        + f" (due now {status.due})"
    )
    if status.stuck:
        minutes = int(STUCK_AFTER.total_seconds() // 60)
        click.echo(
            f"Stuck in sending for over {minutes} minutes (the worker stopped mid-send; "
            "the mail may have gone out, so it is not resent on its own):"
        )
        for message in status.stuck:
            click.echo(
                f"  #{message.id} {message.kind}, claimed {message.claimed_at:%Y-%m-%d %H:%M} UTC"
            )
        click.echo("Check the mail server's log; `surveyapp mail requeue ID` sends one again.")
    if status.failed:
        click.echo("Failed (a new invitation or reminder sends a fresh link):")
        for message in status.failed:
            tried = f"after {message.attempts} attempts" if message.attempts else "never reached"
            click.echo(f"  #{message.id} {message.kind}, {tried}: {message.last_error}")


@mail_group.command("requeue")
@click.argument("message_ids", nargs=-1, required=True, type=int)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def mail_requeue_command(message_ids: tuple[int, ...], yes: bool) -> None:
    """Queue stuck mails again, once you know they did not go out."""
    if not yes:
        click.confirm(
            "A stuck mail may already have been delivered; send it again anyway?", abort=True
        )
    requeued = requeue_stuck(db.session, message_ids, utcnow())
    db.session.commit()
    skipped = sorted(set(message_ids) - set(requeued))
    click.echo(
        f"requeued {len(requeued)}" + (f"; not stuck, left alone: {skipped}" if skipped else "")
    )


# --- demo -------------------------------------------------------------------------------


@cli.command("demo")
@with_appcontext
def demo_command() -> None:
    """Load the demo study (once) and build its anthology into the reports folder."""
    login = f"Coordinator login: {DEMO_EMAIL} / {DEMO_PASSWORD}"
    if demo_exists():
        click.echo("The demo study is already there; nothing was changed.")
        click.echo(login)
        click.echo("The expert link was printed when the demo was loaded.")
        return
    click.echo("Loading the demo study…")
    demo = load_demo(current_app.config["BASE_URL"], utcnow())
    db.session.commit()
    out = Path(current_app.config["REPORTS_DIR"]) / "demo-bloemlezing.pdf"
    anthology = gather_anthology(demo.study)
    db.session.rollback()  # the anthology is plain data now; rendering holds no database lock
    write_anthology(anthology, out, out.with_suffix(".html"))
    click.echo(f"Demo study loaded: {demo.study.title}")
    click.echo(login)
    click.echo(f"Expert link (round 3 is open): {demo.expert_link}")
    click.echo(f"Anthology: {out} and {out.with_suffix('.html')}")


# --- statistics and exports --------------------------------------------------------------

cli.add_command(stats_command)


@cli.command("export")
@click.argument("study")
@click.option(
    "--format",
    "file_format",
    type=click.Choice(["csv", "xlsx", "sav"]),
    default="csv",
    show_default=True,
    help="csv: ratings for `surveyapp stats`; xlsx: everything with codebook; sav: SPSS.",
)
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def export_command(study: str, file_format: str, out: Path) -> None:
    """Export STUDY (its id or slug) with pseudonyms only: no emails, ids or tokens."""
    found = find_study(study)
    key = pseudonym_key(current_app.secret_key)
    if file_format == "csv":
        data = to_csv(ratings_table(found, key=key))
    elif file_format == "xlsx":
        data = study_workbook(found, key=key)
    else:
        data = to_sav(found, key=key)
    db.session.rollback()  # reading is done; hold no lock while writing the file
    out.write_bytes(data)
    click.echo(f"Written: {out}")


def find_study(number_or_slug: str) -> Study:
    """Return the study with this number or slug, or stop the command with a clear message."""
    number = int(number_or_slug) if number_or_slug.isdigit() else -1
    found = db.session.scalar(
        select(Study).where(or_(Study.slug == number_or_slug, Study.id == number))
    )
    if found is None:
        raise click.ClickException(f"no study {number_or_slug!r}; give its number or its slug")
    return found


# --- anthology --------------------------------------------------------------------------

cli.add_command(anthology_group)


@anthology_group.command("build")
@click.argument("study")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--html", "html", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def anthology_build_command(study: str, out: Path, html: Path | None) -> None:
    """Build the anthology of STUDY (its id or slug) from its included quotes and results."""
    found = find_study(study)
    anthology = gather_anthology(found)
    db.session.rollback()  # the anthology is plain data now; rendering holds no database lock
    with click.progressbar(length=100, label="Building the anthology") as bar:

        def progress(done: int, total: int) -> None:
            bar.update(100 * done // max(total, 1) - bar.pos)

        write_anthology(anthology, out, html, progress)
    click.echo(f"Written: {out}" + (f" and {html}" if html else ""))
