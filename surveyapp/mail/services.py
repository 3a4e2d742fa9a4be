"""Queue invitation and reminder emails, each with a fresh personal link."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app, render_template
from flask_babel import force_locale, gettext
from sqlalchemy import exists, select, update
from sqlalchemy.orm import selectinload

from surveyapp.config import LANGUAGES
from surveyapp.extensions import db
from surveyapp.models import (
    InvitationToken,
    MailState,
    OutboxMessage,
    PanelMember,
    Response,
    ResponseState,
    Round,
)


class RoundNotOpen(ValueError):
    """Mail was asked for a round that experts cannot answer: it is not open."""


def queue_round_invitations(round_: Round, base_url: str, now: datetime) -> list[OutboxMessage]:
    """Queue an invitation with a fresh personal link for every member of the round's study."""
    return _queue(round_, _members(round_, only_unsubmitted=False), "invitation", base_url, now)


def queue_reminders(round_: Round, base_url: str, now: datetime) -> list[OutboxMessage]:
    """Queue a reminder with a fresh personal link for every member who has not submitted."""
    return _queue(round_, _members(round_, only_unsubmitted=True), "reminder", base_url, now)


def _members(round_: Round, *, only_unsubmitted: bool) -> list[PanelMember]:
    query = (
        select(PanelMember)
        .where(PanelMember.study_id == round_.study_id)
        .options(selectinload(PanelMember.token))
        .order_by(PanelMember.id)
    )
    if only_unsubmitted:
        submitted = (
            select(Response.id)
            .where(Response.member_id == PanelMember.id)
            .where(Response.round_id == round_.id)
            .where(Response.state == ResponseState.SUBMITTED)
        )
        query = query.where(~exists(submitted))
    return list(db.session.scalars(query))


def _queue(
    round_: Round, members: list[PanelMember], kind: str, base_url: str, now: datetime
) -> list[OutboxMessage]:
    if not round_.is_open:
        raise RoundNotOpen(
            f"round {round_.number} is {round_.state.value}: open it before sending {kind}s"
        )
    base_url = base_url.rstrip("/")
    lifetime = timedelta(days=float(current_app.config["TOKEN_LIFETIME_DAYS"]))
    messages = []
    for member in members:
        if member.token is not None and member.token.revoked_at is not None:
            continue  # revoked: this member is out of the panel (an expired link is renewed)
        token = _issue_token(member, now, lifetime)
        # The new token makes the link in any not-yet-sent mail dead: those mails never go.
        # Their rows stay, marked superseded, so that the invitations still count.
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.member_id == member.id)
            .where(OutboxMessage.study_id == round_.study_id)
            .where(OutboxMessage.state == MailState.QUEUED)
            .values(state=MailState.SUPERSEDED, body=None)
        )
        subject, body = render_message(kind, member, round_, f"{base_url}/q/{token}")
        message = OutboxMessage(
            kind=kind,
            study_id=round_.study_id,
            member_id=member.id,
            round_id=round_.id,
            to_address=member.email,
            subject=subject,
            body=body,
            next_attempt_at=now,
            created_at=now,
        )
        db.session.add(message)
        messages.append(message)
    return messages


def _issue_token(member: PanelMember, now: datetime, lifetime: timedelta) -> str:
    """Return a fresh raw token for the member, valid for `lifetime`; only its hash is kept."""
    if member.token is not None:
        return member.token.reissue(now, lifetime)
    token = InvitationToken()
    raw = token.reissue(now, lifetime)  # the hash is set before the row can be flushed
    member.token = token
    return raw


def render_message(kind: str, member: PanelMember, round_: Round, link: str) -> tuple[str, str]:
    """Return the subject and plain-text body of a mail, in the member's own language."""
    language = member.language if member.language in LANGUAGES else LANGUAGES[0]
    study = round_.study
    with force_locale(language):
        subjects = {
            "invitation": gettext(
                "Invitation: round %(number)s of %(title)s", number=round_.number, title=study.title
            ),
            "reminder": gettext(
                "Reminder: round %(number)s of %(title)s", number=round_.number, title=study.title
            ),
        }
        body = render_template(
            f"mail/{kind}.txt",
            study=study,
            round=round_,
            link=link,
            closes_at=round_.closes_at,
        )
    # A title pasted with a line break must not break the Subject header.
    return " ".join(subjects[kind].split()), _tidy(body)


def _tidy(text: str) -> str:
    """Strip trailing spaces and collapse the blank lines that template blocks leave behind."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    tidy: list[str] = []
    for line in lines:
        if line or (tidy and tidy[-1]):
            tidy.append(line)
    return "\n".join(tidy) + "\n"
