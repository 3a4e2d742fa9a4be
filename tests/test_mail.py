"""Mail: invitations and reminders with a personal link, delivered over real SMTP at most once."""

from __future__ import annotations

import os
import re
import signal
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select

from surveyapp.cli import cli
from surveyapp.extensions import db
from surveyapp.mail.delivery import DeliveryReport, deliver_outbox, retry_delay, run_worker
from surveyapp.mail.services import RoundNotOpen, queue_reminders, queue_round_invitations
from surveyapp.models import (
    InvitationToken,
    MailState,
    OutboxMessage,
    PanelMember,
    Round,
    RoundState,
    Study,
    hash_token,
    utcnow,
)
from surveyapp.publishing.services import gather_anthology
from surveyapp.studies.services import open_round as open_round_for_answers
from surveyapp.studies.services import round_progress, send_reminders
from tests.builders import (
    login,
    make_coordinator,
    make_member,
    make_response,
    make_round,
    make_study,
)
from tests.smtp_support import HOST, SmtpServer, free_port, smtp_server

BASE_URL = "http://testserver"
LINK = re.compile(r"http://testserver/q/([A-Za-z0-9_-]+)")
T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def smtp(app: Flask) -> Iterator[SmtpServer]:
    """A real SMTP server on loopback, with the app configured to deliver to it."""
    with smtp_server() as server:
        app.config.update(
            MAIL_BACKEND="smtp", SMTP_HOST=HOST, SMTP_PORT=server.port, SMTP_TIMEOUT=5.0
        )
        yield server


def open_round(study: Study, closes_at: datetime | None = None) -> Round:
    round_ = make_round(study, state=RoundState.OPEN)
    round_.closes_at = closes_at
    db.session.commit()
    return round_


def invite(round_: Round, now: datetime = T0) -> list[OutboxMessage]:
    messages = queue_round_invitations(round_, BASE_URL, now)
    db.session.commit()
    return messages


def deliver(app: Flask, **kw: object) -> DeliveryReport:
    db.session.commit()  # end the test's own transaction: on SQLite it holds the write lock
    return deliver_outbox(app.config, **kw)  # type: ignore[arg-type]


def outbox() -> list[OutboxMessage]:
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def token_of(link_text: str) -> str:
    tokens = LINK.findall(link_text)
    assert len(tokens) == 1, link_text
    return tokens[0]


def test_members_receive_their_personal_link_over_smtp(app, smtp, client):
    study = make_study(title="Trends en knelpunten in de aanpak van mensenhandel")
    members = [make_member(study), make_member(study, language="en"), make_member(study)]
    round_ = open_round(study)

    invite(round_)
    report = deliver(app)

    assert report == DeliveryReport(sent=3, failed=0, retried=0)
    assert len(smtp.inbox.received) == 3
    for member in members:
        (mail,) = smtp.inbox.to(member.email)
        message = mail.message
        assert message["To"] == member.email
        assert message["From"] == app.config["MAIL_SENDER"]
        assert message["Message-ID"]
        assert study.title in message["Subject"]
        token = token_of(mail.text)
        db.session.refresh(member)
        assert member.token is not None
        assert hash_token(token) == member.token.token_hash
        assert member.token.is_valid(T0)  # the clock the mail was queued with
        # The link leads into the questionnaire blueprint's URL space.
        assert client.application.url_map.bind("testserver").test(f"/q/{token}") is not None
        others = [other.email for other in members if other is not member]
        assert not any(address.encode() in mail.raw for address in others)
    sent = outbox()
    assert [m.state for m in sent] == [MailState.SENT] * 3
    assert all(m.body is None and m.sent_at is not None for m in sent)


def test_sending_again_sends_nothing(app, smtp):
    study = make_study()
    make_member(study)
    make_member(study)
    invite(open_round(study))

    assert deliver(app).sent == 2
    assert deliver(app) == DeliveryReport()
    assert len(smtp.inbox.received) == 2


def smtp_down(app: Flask) -> None:
    """Point the app at a closed port on loopback: every connection is refused."""
    app.config.update(MAIL_BACKEND="smtp", SMTP_HOST=HOST, SMTP_PORT=free_port())


def test_smtp_down_is_retried_with_backoff_until_given_up(app):
    smtp_down(app)
    study = make_study()
    make_member(study)
    invite(open_round(study))

    assert deliver(app, now_fn=lambda: T0) == DeliveryReport(retried=1)
    (message,) = outbox()
    assert message.state is MailState.QUEUED
    assert message.attempts == 1
    assert "ConnectionRefused" in (message.last_error or "")
    assert message.next_attempt_at == T0 + timedelta(minutes=1)

    assert deliver(app, now_fn=lambda: T0 + timedelta(seconds=30)) == DeliveryReport()
    assert deliver(app, now_fn=lambda: T0 + timedelta(minutes=1)) == DeliveryReport(retried=1)
    db.session.refresh(message)
    assert message.attempts == 2
    assert message.next_attempt_at == T0 + timedelta(minutes=3)

    # Not the number of attempts ends it, but time: just before 48 hours it is still queued.
    just_before = T0 + timedelta(hours=48) - timedelta(seconds=1)
    assert deliver(app, now_fn=lambda: just_before) == DeliveryReport(retried=1)
    db.session.refresh(message)
    assert message.state is MailState.QUEUED
    assert message.attempts == 3
    assert message.next_attempt_at == T0 + timedelta(hours=48)  # the last try, on time

    at_the_end = T0 + timedelta(hours=48)
    assert deliver(app, now_fn=lambda: at_the_end) == DeliveryReport(failed=1)
    db.session.refresh(message)
    assert message.state is MailState.FAILED
    assert message.attempts == 4
    assert message.last_error
    assert message.body is None  # a mail that will never go keeps no working link around
    assert deliver(app, now_fn=lambda: T0 + timedelta(days=3)) == DeliveryReport()


def test_only_the_mail_that_was_tried_is_charged_an_attempt(app):
    smtp_down(app)
    study = make_study()
    for _ in range(3):
        make_member(study)
    invite(open_round(study))

    # The first mail finds the server down; the pass skips the rest without trying them.
    assert deliver(app, now_fn=lambda: T0) == DeliveryReport(retried=3)
    assert [m.attempts for m in outbox()] == [1, 0, 0]
    assert all(m.state is MailState.QUEUED for m in outbox())
    # All of them look again when the tried one does.
    assert {m.next_attempt_at for m in outbox()} == {T0 + timedelta(minutes=1)}


def test_a_quarter_hour_outage_loses_no_invitation(app, smtp):
    study = make_study()
    members = [make_member(study) for _ in range(5)]
    invite(open_round(study))
    server_port = smtp.port
    app.config["SMTP_PORT"] = free_port()

    def pass_at(minutes: int) -> DeliveryReport:
        now = T0 + timedelta(minutes=minutes)
        return deliver(app, now_fn=lambda: now)

    minutes = 0
    while minutes <= 15:  # a worker passing every minute while the server is away
        assert pass_at(minutes).failed == 0
        minutes += 1
    assert [m.state for m in outbox()] == [MailState.QUEUED] * 5

    app.config["SMTP_PORT"] = server_port  # the server is back
    while minutes <= 120 and len(smtp.inbox.received) < 5:
        assert pass_at(minutes).failed == 0
        minutes += 1

    assert [m.state for m in outbox()] == [MailState.SENT] * 5
    for member in members:
        assert len(smtp.inbox.to(member.email)) == 1
    assert minutes <= 17 + 60  # within the longest wait (an hour) after the server came back


def test_mail_never_tried_is_still_given_up_in_time(app):
    smtp_down(app)
    study = make_study()
    make_member(study)
    make_member(study)
    invite(open_round(study))
    assert deliver(app, now_fn=lambda: T0) == DeliveryReport(retried=2)

    assert deliver(app, now_fn=lambda: T0 + timedelta(hours=48)) == DeliveryReport(failed=2)
    tried, skipped = outbox()
    assert (tried.state, tried.attempts) == (MailState.FAILED, 2)
    assert (skipped.state, skipped.attempts) == (MailState.FAILED, 0)
    assert "unreachable" in (skipped.last_error or "")
    assert tried.body is None
    assert skipped.body is None


def test_a_retried_mail_goes_out_once_the_server_is_back(app, smtp):
    study = make_study()
    member = make_member(study)
    invite(open_round(study))
    app.config["SMTP_PORT"] = free_port()
    assert deliver(app, now_fn=lambda: T0).retried == 1

    app.config["SMTP_PORT"] = smtp.port
    assert deliver(app, now_fn=lambda: T0 + timedelta(minutes=1)).sent == 1
    assert len(smtp.inbox.to(member.email)) == 1


def test_a_refused_mailbox_fails_at_once_and_the_others_still_go(app, smtp):
    study = make_study()
    gone = make_member(study, email="gone@example.org")
    make_member(study)
    smtp.inbox.reject.add(gone.email)
    invite(open_round(study))

    assert deliver(app) == DeliveryReport(sent=1, failed=1)
    failed = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.state == MailState.FAILED)
    ).one()
    assert failed.member_id == gone.id
    assert failed.attempts == 1
    assert "550" in (failed.last_error or "")


def test_retry_delay_doubles_from_one_minute_up_to_an_hour():
    assert [retry_delay(n) for n in (1, 2, 3, 4)] == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert retry_delay(7) == timedelta(hours=1)
    assert retry_delay(100_000) == timedelta(hours=1)


def test_each_member_gets_mail_in_their_own_language(app):
    study = make_study(title="Mensenhandel")
    dutch = make_member(study, language="nl")
    english = make_member(study, language="en")
    round_ = open_round(study, closes_at=datetime(2031, 3, 12, 16, 0, tzinfo=UTC))

    by_member = {m.member_id: m for m in invite(round_)}

    nl_body = by_member[dutch.id].body or ""
    en_body = by_member[english.id].body or ""
    assert "12 maart 2031" in nl_body
    assert "17:00" in nl_body  # Amsterdam time, not UTC
    assert "March 12, 2031" in en_body
    assert "maart" not in en_body
    for body in (nl_body, en_body):
        assert "Mensenhandel" in body
        assert " 1 " in body  # the round number


def test_a_new_mail_makes_the_old_link_stop_working(app):
    study = make_study()
    member = make_member(study, language="en")
    round_ = open_round(study)
    (first,) = invite(round_)
    old_token = token_of(first.body or "")

    (reminder,) = queue_reminders(round_, BASE_URL, T0 + timedelta(days=3))
    db.session.commit()
    new_token = token_of(reminder.body or "")

    token = db.session.scalars(select(InvitationToken)).one()
    assert token.member_id == member.id
    assert token.token_hash == hash_token(new_token)
    assert token.token_hash != hash_token(old_token)
    # The unsent invitation carried the dead link: it never goes, only the reminder does.
    assert [(m.kind, m.state) for m in outbox()] == [
        ("invitation", MailState.SUPERSEDED),
        ("reminder", MailState.QUEUED),
    ]
    assert outbox()[0].body is None  # no dead (or any) link kept around
    assert "replaces any link you received earlier" in (reminder.body or "")


def test_reminders_before_delivery_keep_the_invitations_counted(app, smtp, client):
    coordinator = make_coordinator()
    study = make_study(coordinator)
    members = [make_member(study, language="en") for _ in range(3)]
    round_ = make_round(study)
    assert open_round_for_answers(coordinator, round_, BASE_URL, T0) == 3
    db.session.commit()

    # The coordinator reminds the panel before the worker delivered the invitations.
    assert send_reminders(coordinator, round_, BASE_URL, T0 + timedelta(minutes=5)) == 3
    db.session.commit()

    kinds = [(m.kind, m.state) for m in outbox()]
    assert kinds.count(("invitation", MailState.SUPERSEDED)) == 3
    assert kinds.count(("reminder", MailState.QUEUED)) == 3
    assert round_progress(round_).invited == 3
    (methods_round,) = gather_anthology(study).methods.rounds
    assert methods_round.invited == 3
    login(client, coordinator)
    page = client.get(f"/studies/{study.id}?lang=en").get_data(as_text=True)
    assert "0 of 3 submitted" in page

    assert deliver(app) == DeliveryReport(sent=3)
    for member in members:
        (mail,) = smtp.inbox.to(member.email)  # only the newest mail goes out
        assert mail.message["Subject"].startswith("Reminder:")
        db.session.refresh(member)
        assert hash_token(token_of(mail.text)) == member.token.token_hash
    assert round_progress(round_).invited == 3


def test_a_link_stops_working_after_its_lifetime(app, client):
    study = make_study()
    member = make_member(study, language="en")
    round_ = open_round(study)
    lifetime = timedelta(days=app.config["TOKEN_LIFETIME_DAYS"])
    issued = utcnow() - lifetime - timedelta(minutes=1)

    (old,) = invite(round_, now=issued)
    db.session.refresh(member)
    assert member.token.expires_at == issued + lifetime

    unknown = client.get("/q/" + "x" * 32)
    expired = client.get(f"/q/{token_of(old.body or '')}")
    assert expired.status_code == unknown.status_code == 404
    assert expired.get_data() == unknown.get_data()

    # An expired link is no revocation: the next mail brings a fresh link that works.
    (reminder,) = queue_reminders(round_, BASE_URL, utcnow())
    db.session.commit()
    response = client.get(f"/q/{token_of(reminder.body or '')}")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/q/")


def test_revoked_members_get_no_mail(app):
    study = make_study()
    kept = make_member(study)
    revoked = make_member(study)
    round_ = open_round(study)
    invite(round_)
    revoked.token.revoke(T0)
    revoked_hash = revoked.token.token_hash
    db.session.commit()

    messages = queue_reminders(round_, BASE_URL, T0 + timedelta(days=1))
    db.session.commit()

    assert [m.member_id for m in messages] == [kept.id]
    db.session.refresh(revoked)
    assert revoked.token.token_hash == revoked_hash
    assert not revoked.token.is_valid(utcnow())


def test_reminders_go_only_to_members_who_have_not_submitted(app):
    study = make_study()
    done, drafting, silent = (make_member(study, language="en") for _ in range(3))
    round_ = open_round(study)
    item = round_.items[0]
    make_response(done, round_, {item: "Meer uitbuiting via online platforms."})
    make_response(drafting, round_, {item: "Half af"}, submitted=False)

    messages = queue_reminders(round_, BASE_URL, T0)
    db.session.commit()

    assert sorted(m.member_id for m in messages) == sorted([drafting.id, silent.id])
    assert {m.kind for m in messages} == {"reminder"}
    assert all("not yet received your answers" in (m.body or "") for m in messages)


def test_queued_mail_is_part_of_the_callers_transaction(app):
    study = make_study()
    make_member(study)
    make_member(study)
    round_ = open_round(study)

    messages = queue_round_invitations(round_, BASE_URL, T0)
    assert len(messages) == 2
    db.session.rollback()  # the caller's transaction fails: neither mail nor link may remain

    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    assert db.session.scalar(select(func.count()).select_from(InvitationToken)) == 0


def test_a_round_that_is_not_open_gets_no_mail(app):
    study = make_study()
    make_member(study)
    draft = make_round(study)

    with pytest.raises(RoundNotOpen, match="draft"):
        queue_round_invitations(draft, BASE_URL, T0)
    db.session.rollback()
    assert outbox() == []


def test_file_backend_writes_one_eml_per_mail(app):
    study = make_study()
    members = [make_member(study), make_member(study, language="en")]
    invite(open_round(study))

    assert deliver(app).sent == 2

    files = sorted(Path(app.config["MAIL_FILE_DIR"]).glob("*.eml"))
    assert len(files) == 2
    received = {}
    for path in files:
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        received[message["To"]] = message.get_content()
    assert set(received) == {m.email for m in members}
    for member in members:
        db.session.refresh(member)
        assert hash_token(token_of(received[member.email])) == member.token.token_hash
    assert all(m.body is None for m in outbox())


def test_a_row_stuck_in_sending_is_reported_not_resent(app, smtp, runner: FlaskCliRunner):
    study = make_study()
    member = make_member(study)
    (message,) = invite(open_round(study))
    message.state = MailState.SENDING  # its worker died after claiming it
    message.claimed_at = utcnow() - timedelta(hours=1)
    db.session.commit()

    assert deliver(app) == DeliveryReport(stuck=1)
    assert smtp.inbox.received == []
    db.session.refresh(message)
    assert message.state is MailState.SENDING

    status = runner.invoke(cli, ["mail", "status"])
    assert status.exit_code == 0, status.output
    assert "sending 1" in status.output
    assert f"#{message.id} invitation" in status.output

    # Only an operator who knows it did not go out sends it again.
    requeue = runner.invoke(cli, ["mail", "requeue", str(message.id), "--yes"])
    assert requeue.exit_code == 0, requeue.output
    assert deliver(app).sent == 1
    assert len(smtp.inbox.to(member.email)) == 1


def test_dutch_characters_survive_in_headers_and_body(app, smtp):
    title = "Één aanpak: knelpunten bij ketensamenwerking (Zoë, café)"
    study = make_study(title=title)
    member = make_member(study, language="en")
    invite(open_round(study))
    deliver(app)

    (mail,) = smtp.inbox.to(member.email)
    header_block = mail.raw.split(b"\r\n\r\n", 1)[0]
    assert header_block.isascii()  # encoded words, as RFC 2047 wants
    message = mail.message
    assert message["Subject"] == f"Invitation: round 1 of {title}"
    assert message.get_content_charset() == "utf-8"
    assert title in mail.text


def test_cli_sends_what_is_due_and_reports_status(app, runner: FlaskCliRunner):
    study = make_study()
    make_member(study)
    make_member(study)
    invite(open_round(study))
    db.session.commit()

    result = runner.invoke(cli, ["mail", "send"])
    assert result.exit_code == 0, result.output
    assert "sent 2, failed 0, retrying 0" in result.output

    status = runner.invoke(cli, ["mail", "status"])
    assert "queued 0, sending 0, sent 2, failed 0" in status.output


def test_worker_delivers_and_stops_cleanly_on_ctrl_c(app, runner: FlaskCliRunner):
    study = make_study()
    make_member(study)
    invite(open_round(study))
    db.session.commit()
    mail_dir = Path(app.config["MAIL_FILE_DIR"])

    def press_ctrl_c_once_mail_went_out() -> None:
        for _ in range(500):
            if list(mail_dir.glob("*.eml")):
                break
            threading.Event().wait(0.01)
        os.kill(os.getpid(), signal.SIGINT)

    presser = threading.Thread(target=press_ctrl_c_once_mail_went_out)
    presser.start()
    result = runner.invoke(cli, ["mail", "send", "--worker", "--interval", "0.1"])
    presser.join()

    assert result.exit_code == 0, result.output
    assert "sent 1" in result.output
    assert "Mail worker stopped." in result.output
    assert [m.state for m in outbox()] == [MailState.SENT]


def test_several_workers_never_send_the_same_mail(app, smtp):
    study = make_study()
    members = [make_member(study) for _ in range(12)]
    invite(open_round(study))
    db.session.commit()

    def work() -> None:
        with app.app_context():
            while deliver_outbox(app.config, limit=2) != DeliveryReport():
                pass

    workers = [threading.Thread(target=work) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert sorted(r for mail in smtp.inbox.received for r in mail.rcpt_tos) == sorted(
        m.email for m in members
    )
    assert [m.state for m in outbox()] == [MailState.SENT] * 12


def test_run_worker_stops_when_asked(app):
    study = make_study()
    make_member(study)
    invite(open_round(study))
    db.session.commit()
    stop = threading.Event()
    reports: list[DeliveryReport] = []

    def on_report(report: DeliveryReport) -> None:
        reports.append(report)
        stop.set()

    run_worker(app.config, 60.0, stop, on_report=on_report, on_error=pytest.fail)

    assert reports == [DeliveryReport(sent=1)]
    assert db.session.scalars(select(PanelMember)).one().token is not None
