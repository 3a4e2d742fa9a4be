"""Deliver the outbox over SMTP, or into .eml files for the demo, each message at most once.

A worker first claims due messages (state SENDING, committed) and only then talks to the
mail server, so no two workers ever hold the same message. A message is resent only when
its own worker saw the attempt fail; a row left in SENDING (its worker died mid-send) may
have gone out and is reported, never resent on its own.
"""

from __future__ import annotations

import os
import smtplib
import ssl
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email import policy
from email.errors import MessageError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from surveyapp.extensions import db
from surveyapp.models import MailState, OutboxMessage, utcnow

FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=1)
# A claim older than this has outlived any send (SMTP timeouts are seconds): its worker died.
STUCK_AFTER = timedelta(minutes=15)


@dataclass(frozen=True)
class DeliveryReport:
    """What one delivery pass did; `stuck` counts rows left in SENDING by a dead worker."""

    sent: int = 0
    failed: int = 0
    retried: int = 0
    stuck: int = 0

    def __str__(self) -> str:
        text = f"sent {self.sent}, failed {self.failed}, retrying {self.retried}"
        if self.stuck:
            text += f", stuck {self.stuck} (not resent; see `surveyapp mail status`)"
        return text


@dataclass(frozen=True)
class OutboxStatus:
    counts: dict[MailState, int]
    due: int
    stuck: list[OutboxMessage] = field(default_factory=list)
    failed: list[OutboxMessage] = field(default_factory=list)


class TransportDown(Exception):
    """The mail server (or mail folder) cannot be reached: no message of this pass can go."""


class Rejected(Exception):
    """This message can never go: a malformed address, or the server refused it for good."""


class MessageFailed(Exception):
    """The server turned this message down for now (a 4xx answer); another try may work."""


def deliver_outbox(
    config: Mapping[str, Any],
    now_fn: Callable[[], datetime] = utcnow,
    limit: int = 100,
    should_stop: Callable[[], bool] | None = None,
) -> DeliveryReport:
    """Claim the due messages, send each once, and record what happened to it.

    A message that fails for now is tried again later, waiting 1, 2, 4 ... minutes (at most
    an hour) between tries, until MAIL_GIVE_UP_AFTER_HOURS after it was queued.
    """
    give_up_after = timedelta(hours=float(config["MAIL_GIVE_UP_AFTER_HOURS"]))
    transport = _transport(config)  # a configuration error stops us before anything is claimed
    sent = failed = retried = 0
    with Session(db.engine, expire_on_commit=False) as session:
        pending = _claim_due(session, now_fn(), limit)
        down: Down | None = None
        try:
            while pending:
                if should_stop is not None and should_stop():
                    break
                message = pending.pop(0)
                outcome = _deliver_one(message, transport, config, down, now_fn, give_up_after)
                if isinstance(outcome, TransportDown):
                    # Look again when this message is due again; the rest of the pass waits too.
                    down = Down(str(outcome), now_fn() + retry_delay(max(message.attempts, 1)))
                if message.state is MailState.SENT:
                    sent += 1
                elif message.state is MailState.FAILED:
                    failed += 1
                else:
                    retried += 1
                session.commit()
        except BaseException:
            session.rollback()  # the message in hand stays SENDING: it may have gone out
            raise
        finally:
            transport.close()
            # Claimed but never tried (stopped, or an unexpected error): safe to hand back.
            for message in pending:
                message.state = MailState.QUEUED
                message.claimed_at = None
            session.commit()
        stuck = session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.state == MailState.SENDING)
            .where(OutboxMessage.claimed_at < now_fn() - STUCK_AFTER)
        )
        session.commit()
    return DeliveryReport(sent=sent, failed=failed, retried=retried, stuck=stuck or 0)


def _claim_due(session: Session, now: datetime, limit: int) -> list[OutboxMessage]:
    """Mark due messages SENDING and commit, before any of them meets the mail server.

    On PostgreSQL, FOR UPDATE SKIP LOCKED lets several workers claim side by side without
    taking the same row; SQLite ignores the clause, and its BEGIN IMMEDIATE already lets
    only one writer in at a time.
    """
    messages = list(
        session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.state == MailState.QUEUED)
            .where(OutboxMessage.next_attempt_at <= now)
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    for message in messages:
        message.state = MailState.SENDING
        message.claimed_at = now
    session.commit()
    return messages


@dataclass(frozen=True)
class Down:
    """The mail server was unreachable during this pass: why, and when to look again."""

    error: str
    retry_at: datetime


def _deliver_one(
    message: OutboxMessage,
    transport: SmtpTransport | FileTransport,
    config: Mapping[str, Any],
    down: Down | None,
    now_fn: Callable[[], datetime],
    give_up_after: timedelta,
) -> Exception | None:
    """Send one claimed message and set its new state; return the failure, if any."""
    if down is not None:
        # The server was unreachable a moment ago; a timeout per message would stall the pass.
        # This message was not tried, so it is not charged an attempt.
        _defer_untried(message, down, now_fn(), give_up_after)
        return None
    if message.body is None:
        _record_failure(message, "nothing to send: the body is gone", now_fn(), None)
        return None
    try:
        email = build_email(message, config, now_fn())
        transport.send(email, f"{now_fn():%Y%m%dT%H%M%S}-{message.id}")
    except Rejected as error:
        _record_failure(message, str(error), now_fn(), None)
        return error
    except (TransportDown, MessageFailed) as error:
        _record_failure(message, str(error), now_fn(), give_up_after)
        return error
    now = now_fn()
    message.state = MailState.SENT
    message.sent_at = now
    message.claimed_at = None
    message.body = None  # the personal link now lives only in the member's mailbox
    return None


def _give_up_at(message: OutboxMessage, give_up_after: timedelta) -> datetime:
    """The last moment to try the message: a failure from then on is final."""
    return message.created_at + give_up_after


def _record_failure(
    message: OutboxMessage, error: str, now: datetime, give_up_after: timedelta | None
) -> None:
    """Count a failed try of this message; without give_up_after the failure is final."""
    message.attempts += 1
    message.last_error = error[:2000]
    message.claimed_at = None
    if give_up_after is None or now >= _give_up_at(message, give_up_after):
        _give_up(message)
    else:
        message.state = MailState.QUEUED
        # The last try falls on the moment of giving up, not up to an hour after it.
        message.next_attempt_at = min(
            now + retry_delay(message.attempts), _give_up_at(message, give_up_after)
        )


def _defer_untried(
    message: OutboxMessage, down: Down, now: datetime, give_up_after: timedelta
) -> None:
    """Hand back a message the pass skipped because the server was down; count no attempt."""
    message.claimed_at = None
    if now >= _give_up_at(message, give_up_after):
        message.last_error = f"given up while the mail server was unreachable: {down.error}"[:2000]
        _give_up(message)
    else:
        message.state = MailState.QUEUED
        message.next_attempt_at = min(down.retry_at, _give_up_at(message, give_up_after))


def _give_up(message: OutboxMessage) -> None:
    message.state = MailState.FAILED
    message.body = None  # it will never be sent: keep no working link in the database


def retry_delay(attempts: int) -> timedelta:
    """Return the wait after the given number of failed attempts: 1, 2, 4 ... minutes, up to 1 h."""
    doublings = min(max(attempts - 1, 0), 16)  # 2**16 minutes is past the cap already
    return min(FIRST_RETRY * 2**doublings, LONGEST_RETRY)


def build_email(message: OutboxMessage, config: Mapping[str, Any], now: datetime) -> EmailMessage:
    """Return the message as a UTF-8 plain-text email; Rejected if its address is unusable."""
    sender = config["MAIL_SENDER"]
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    email = EmailMessage(policy=policy.SMTP)
    email["From"] = sender
    try:
        email["To"] = Address(addr_spec=message.to_address)
    except (ValueError, IndexError, MessageError) as error:
        raise Rejected(f"unusable address: {error}") from error
    email["Subject"] = message.subject
    email["Date"] = format_datetime(now)
    email["Message-ID"] = make_msgid(idstring=f"outbox{message.id}", domain=domain)
    email["Auto-Submitted"] = "auto-generated"  # RFC 3834: out-of-office replies stay away
    # Quoted-printable keeps the body 7-bit clean on any relay; clients decode it.
    email.set_content(message.body or "", charset="utf-8", cte="quoted-printable")
    return email


def _transport(config: Mapping[str, Any]) -> SmtpTransport | FileTransport:
    """Return the configured transport; ValueError for a setting no message could go out with."""
    sender = config["MAIL_SENDER"]
    try:
        EmailMessage(policy=policy.SMTP)["From"] = sender
    except (ValueError, IndexError, MessageError) as error:
        raise ValueError(f"MAIL_SENDER {sender!r} is not a usable address: {error}") from error
    if "@" not in parseaddr(sender)[1]:
        raise ValueError(f"MAIL_SENDER {sender!r} has no email address in it")
    if config["MAIL_BACKEND"] == "file":
        folder = config.get("MAIL_FILE_DIR") or Path(current_app.instance_path) / "mail"
        return FileTransport(Path(folder))
    if config["MAIL_BACKEND"] == "smtp":
        return SmtpTransport(config)
    raise ValueError(f"MAIL_BACKEND must be 'smtp' or 'file', not {config['MAIL_BACKEND']!r}")


class SmtpTransport:
    """One SMTP connection per pass, opened at the first message."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = config
        self.connection: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        config = self.config
        try:
            connection = smtplib.SMTP(
                config["SMTP_HOST"], int(config["SMTP_PORT"]), timeout=float(config["SMTP_TIMEOUT"])
            )
        except OSError as error:
            raise TransportDown(_describe(error)) from error
        try:
            if config["SMTP_STARTTLS"]:
                connection.starttls(context=ssl.create_default_context())
            if config["SMTP_USERNAME"]:
                connection.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"])
        except (OSError, RuntimeError) as error:  # smtplib.SMTPException is an OSError
            connection.close()
            raise TransportDown(_describe(error)) from error
        return connection

    def send(self, email: EmailMessage, name: str) -> None:
        if self.connection is None:
            self.connection = self._connect()
        try:
            self.connection.send_message(email)
        except smtplib.SMTPRecipientsRefused as error:
            answers = list(error.recipients.values())
            text = "; ".join(f"SMTP {code}: {_text(reply)}" for code, reply in answers)
            if answers and all(code >= 500 for code, _ in answers):
                raise Rejected(text) from error
            raise MessageFailed(text) from error
        except smtplib.SMTPNotSupportedError as error:
            raise Rejected(_describe(error)) from error  # e.g. a non-ASCII address, no SMTPUTF8
        except smtplib.SMTPResponseException as error:
            # The server answered: this message failed, the connection still works.
            raise MessageFailed(_describe(error)) from error
        except OSError as error:
            self.connection.close()
            self.connection = None
            raise TransportDown(_describe(error)) from error

    def close(self) -> None:
        if self.connection is None:
            return
        try:
            self.connection.quit()
        except OSError:
            self.connection.close()
        self.connection = None


class FileTransport:
    """Write each message as an .eml file into a folder: the demo's mailbox."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, email: EmailMessage, name: str) -> None:
        try:
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            path = self.folder / f"{name}.eml"
            partial = path.with_suffix(".eml.partial")
            partial.write_bytes(email.as_bytes())
            os.replace(partial, path)  # readers never see half a message
        except OSError as error:
            raise TransportDown(_describe(error)) from error

    def close(self) -> None:
        pass


def _describe(error: BaseException) -> str:
    if isinstance(error, smtplib.SMTPResponseException):
        return f"SMTP {error.smtp_code}: {_text(error.smtp_error)}"
    return f"{type(error).__name__}: {error}"


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply


def run_worker(
    config: Mapping[str, Any],
    interval: float,
    stop: threading.Event,
    on_report: Callable[[DeliveryReport], None],
    on_error: Callable[[Exception], None],
    limit: int = 100,
) -> None:
    """Deliver what is due, wait `interval` seconds, and again, until `stop` is set."""
    while not stop.is_set():
        try:
            report = deliver_outbox(config, limit=limit, should_stop=stop.is_set)
        except OperationalError as error:
            # The database is briefly away (restart, lock timeout): try again next round.
            on_error(error)
            stop.wait(interval)
            continue
        on_report(report)
        if report.sent + report.failed + report.retried < limit:
            stop.wait(interval)


def outbox_status(session: Session, now: datetime) -> OutboxStatus:
    """Count the outbox per state and list the stuck and the failed messages."""
    counts = dict.fromkeys(MailState, 0)
    for state, count in session.execute(
        select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state)
    ):
        counts[state] = count
    due = session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.state == MailState.QUEUED)
        .where(OutboxMessage.next_attempt_at <= now)
    )
    stuck = session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.state == MailState.SENDING)
        .where(OutboxMessage.claimed_at < now - STUCK_AFTER)
        .order_by(OutboxMessage.id)
    )
    failed = session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.state == MailState.FAILED)
        .order_by(OutboxMessage.id)
    )
    return OutboxStatus(counts=counts, due=due or 0, stuck=list(stuck), failed=list(failed))


def requeue_stuck(session: Session, message_ids: Sequence[int], now: datetime) -> list[int]:
    """Hand stuck SENDING messages back to the queue; return the ids that were stuck."""
    messages = session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.id.in_(message_ids))
        .where(OutboxMessage.state == MailState.SENDING)
        .where(OutboxMessage.claimed_at < now - STUCK_AFTER)
    )
    requeued = []
    for message in messages:
        message.state = MailState.QUEUED
        message.claimed_at = None
        message.next_attempt_at = now
        requeued.append(message.id)
    return sorted(requeued)
