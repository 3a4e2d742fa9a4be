"""Coordinator work on a study: creating it, its themes and panel, its rounds and items."""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from surveyapp.anthology.validation import AnthologyError, check_logo
from surveyapp.audit import record_action
from surveyapp.auth.services import find_coordinator
from surveyapp.extensions import db
from surveyapp.mail.services import queue_reminders, queue_round_invitations
from surveyapp.models import (
    SCALE_POINTS,
    Coordinator,
    InvitationToken,
    Item,
    ItemKind,
    OutboxMessage,
    PanelGroup,
    PanelMember,
    Response,
    ResponseState,
    Round,
    RoundState,
    Study,
    Theme,
    hash_token,
)
from surveyapp.models.panel import TOKEN_BYTES
from surveyapp.stats import parse_rule


class StudyError(ValueError):
    """A coordinator's request that cannot be carried out as given; nothing was changed."""


def visible_studies(coordinator: Coordinator) -> list[Study]:
    """Return the studies this coordinator works on, newest first."""
    return list(
        db.session.scalars(
            select(Study)
            .where(Study.coordinators.contains(coordinator))
            .order_by(Study.created_at.desc(), Study.id.desc())
        )
    )


def can_manage(coordinator: Coordinator, study: Study) -> bool:
    """Tell whether the coordinator works on this study.

    Admins manage accounts, not studies: the answers are sensitive, so an admin sees a study
    only when a coordinator of it shares it, like anyone else.
    """
    return coordinator in study.coordinators


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:60] or "study"


EDITABLE_FIELDS = ("title", "subtitle", "organisation", "language", "footer_text", "introduction")


def create_study(actor: Coordinator, title: str, **fields: str) -> Study:
    """Add a study owned by actor, with a unique slug made from its title."""
    base = slugify(title)
    taken = set(db.session.scalars(select(Study.slug).where(Study.slug.like(f"{base}%"))))
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    study = Study(slug=slug, title=title.strip(), **fields)
    study.coordinators.append(actor)
    db.session.add(study)
    db.session.flush()
    record_action(actor, "study.create", study, title=study.title)
    return study


def share_study(actor: Coordinator, study: Study, email: str) -> Coordinator:
    """Let another coordinator (an existing account) manage this study too."""
    colleague = find_coordinator(email)
    if colleague is None or not colleague.active:
        raise StudyError(_l("there is no active account for %(email)s", email=email.strip()))
    if colleague not in study.coordinators:
        study.coordinators.append(colleague)
        record_action(actor, "study.share", study, email=colleague.email)
    return colleague


def update_study(actor: Coordinator, study: Study, **fields: str) -> None:
    """Change the study's descriptive details; the slug stays, so links keep working."""
    for name, value in fields.items():
        if name not in EDITABLE_FIELDS:
            raise ValueError(f"{name} is not an editable detail of a study")
        setattr(study, name, value.strip())
    record_action(actor, "study.update", study, fields=sorted(fields))


MAX_LOGO_BYTES = 2 * 1024 * 1024


def set_logo(actor: Coordinator, study: Study, data: bytes | None) -> None:
    """Put a logo on the anthology's cover (PNG, JPEG or GIF), or take it off with None."""
    if data is not None:
        try:
            check_logo(data, "logo")
        except AnthologyError as error:
            raise StudyError(error.problem) from error
    study.logo = data
    record_action(actor, "study.logo", study, removed=data is None)


_THEME_LINE = re.compile(r"^\s*(\d+(?:\.\d+)?)\.?\s+(.+?)\s*$")


def parse_themes(text: str) -> list[tuple[str, str]]:
    """Parse lines like `1 Trends` and `1.3 Beleid vs. uitvoering` into (number, title)."""
    parsed: list[tuple[str, str]] = []
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        match = _THEME_LINE.match(line)
        if match is None:
            raise StudyError(
                _l("line %(n)d: expected a number and a title, like '1.3 Beleid'", n=line_no)
            )
        parsed.append((match.group(1), match.group(2)))
    return parsed


def add_themes(actor: Coordinator, study: Study, text: str) -> list[Theme]:
    """Add chapters (`1 Title`) and sections (`1.3 Title`); a section needs its chapter."""
    entries = parse_themes(text)
    existing = {theme.number: theme for theme in study.themes}
    seen: set[str] = set()
    for number, _title in entries:
        if number in existing or number in seen:
            raise StudyError(_l("theme %(number)s exists already", number=number))
        seen.add(number)
    added: list[Theme] = []
    position = max((theme.position for theme in study.themes), default=0)
    for number, title in entries:
        parent = None
        if "." in number:
            chapter_number = number.split(".")[0]
            parent = existing.get(chapter_number)
            if parent is None:
                raise StudyError(
                    _l(
                        "section %(number)s needs chapter %(chapter)s first",
                        number=number,
                        chapter=chapter_number,
                    )
                )
        position += 1
        theme = Theme(study=study, parent=parent, number=number, title=title, position=position)
        db.session.add(theme)
        existing[number] = theme
        added.append(theme)
    record_action(actor, "themes.add", study, numbers=[t.number for t in added])
    return added


def sections_of(study: Study) -> list[Theme]:
    """Return the study's sections in their numbered order."""
    return sorted(
        (theme for theme in study.themes if not theme.is_chapter), key=lambda t: t.sort_key
    )


@dataclass(frozen=True)
class PanelImport:
    added: int
    already_there: int


def add_panel_members(
    actor: Coordinator, study: Study, emails_text: str, group_name: str, language: str
) -> PanelImport:
    """Add the pasted addresses (one per line, or separated by commas or semicolons).

    Any invalid address refuses the whole paste, naming it; addresses already on the panel
    are counted and left as they are.
    """
    raw = [part.strip() for part in re.split(r"[\s,;]+", emails_text) if part.strip()]
    if not raw:
        raise StudyError(_l("paste at least one email address"))
    emails: list[str] = []
    bad: list[str] = []
    for address in raw:
        try:
            emails.append(validate_email(address, check_deliverability=False).normalized.lower())
        except EmailNotValidError:
            bad.append(address)
    if bad:
        raise StudyError(_l("not an email address: %(list)s", list=", ".join(bad[:5])))
    group = None
    if group_name.strip():
        group = db.session.scalar(
            select(PanelGroup).where(
                PanelGroup.study_id == study.id, PanelGroup.name == group_name.strip()
            )
        )
        if group is None:
            group = PanelGroup(study=study, name=group_name.strip())
            db.session.add(group)
    present = set(
        db.session.scalars(select(PanelMember.email).where(PanelMember.study_id == study.id))
    )
    added = 0
    for email in dict.fromkeys(emails):
        if email in present:
            continue
        db.session.add(PanelMember(study=study, email=email, group=group, language=language))
        added += 1
    record_action(actor, "panel.add", study, added=added, group=group_name.strip())
    return PanelImport(added=added, already_there=len(set(emails)) - added)


def set_rules(actor: Coordinator, study: Study, **rules: object) -> None:
    """Change the consensus and stop rules; refused (RuleFixedError) once round 1 opened."""
    rule = rules.get("consensus_rule")
    if isinstance(rule, str):
        rules["consensus_rule"] = str(parse_rule(rule))
    study.set_rules(**rules)
    record_action(actor, "rules.set", study, **{k: str(v) for k, v in rules.items()})


def set_feedback_by_group(actor: Coordinator, study: Study, on: bool) -> None:
    """Show the feedback per panel group or not; no rule, so also after round 1 opened."""
    if study.feedback_by_group != on:
        study.feedback_by_group = on
        record_action(actor, "feedback.by_group", study, on=str(on))


def create_round(
    actor: Coordinator, study: Study, title: str = "", introduction: str = ""
) -> Round:
    """Add the next round of the study as a draft."""
    if study.rounds and study.rounds[-1].state is not RoundState.CLOSED:
        raise StudyError(_l("close the current round before adding the next one"))
    if len(study.rounds) >= study.round_cap:
        raise StudyError(_l("the study's round cap (%(n)d) is reached", n=study.round_cap))
    round_ = Round(
        study=study,
        number=len(study.rounds) + 1,
        title=title.strip(),
        introduction=introduction.strip(),
    )
    db.session.add(round_)
    db.session.flush()
    record_action(actor, "round.create", study, round=round_.number)
    return round_


def next_draft_round(actor: Coordinator, study: Study) -> Round:
    """Return the study's draft round, adding one after the last closed round if needed.

    Statements made while coding and statements carried forward both go there.
    """
    latest = study.rounds[-1] if study.rounds else None
    if latest is not None and latest.state is RoundState.DRAFT:
        return latest
    if latest is not None and latest.state is RoundState.OPEN:
        raise StudyError(_l("close the open round before preparing statements for the next one"))
    return create_round(actor, study)


def add_item(
    actor: Coordinator,
    round_: Round,
    *,
    kind: ItemKind,
    text: str,
    section: Theme | None = None,
    scale_points: int | None = None,
    sources: Iterable[object] = (),
    previous_item: Item | None = None,
    scale_labels: list[str] | None = None,
    ask_rationale: bool = True,
) -> Item:
    """Add a question or statement at the end of a draft round."""
    if round_.state is not RoundState.DRAFT:
        raise StudyError(_l("items can only be added while the round is a draft"))
    if not text.strip():
        raise StudyError(_l("an item needs a text"))
    if kind is ItemKind.LIKERT and scale_points not in SCALE_POINTS:
        raise StudyError(_l("a rating scale has 5, 7 or 9 points"))
    item = Item(
        kind=kind,
        text=text.strip(),
        section=section,
        scale_points=scale_points if kind is ItemKind.LIKERT else None,
        position=len(round_.items) + 1,
        previous_item=previous_item,
        scale_labels=scale_labels if kind is ItemKind.LIKERT else None,
        ask_rationale=ask_rationale,
    )
    item.sources.extend(sources)  # type: ignore[arg-type]
    round_.items.append(item)
    record_action(actor, "item.add", round_.study, round=round_.number, kind=kind.value)
    return item


def open_round(actor: Coordinator, round_: Round, base_url: str, now: datetime) -> int:
    """Open the round, fix the study's rules, and queue one invitation per member."""
    if not round_.study.members:
        raise StudyError(_l("add panel members before opening a round"))
    if round_.closes_at is not None and round_.closes_at <= now:
        raise StudyError(_l("its closing time has passed; set a later one first"))
    round_.open(now)
    round_.study.fix_rules(now)
    messages = queue_round_invitations(round_, base_url, now)
    record_action(actor, "round.open", round_.study, round=round_.number, invited=len(messages))
    return len(messages)


def set_close_time(
    actor: Coordinator, round_: Round, closes_at: datetime | None, now: datetime
) -> None:
    """Set (or clear) when the round closes by itself; never in the past."""
    if round_.state is RoundState.CLOSED:
        raise StudyError(_l("the round is closed already"))
    if closes_at is not None and closes_at <= now:
        raise StudyError(_l("the closing time must lie in the future"))
    round_.closes_at = closes_at
    record_action(
        actor,
        "round.close_time",
        round_.study,
        round=round_.number,
        closes_at=closes_at.isoformat() if closes_at else None,
    )


def close_due_rounds(now: datetime) -> list[Round]:
    """Close every open round whose closing time has come (the worker calls this)."""
    due = list(
        db.session.scalars(
            select(Round).where(
                Round.state == RoundState.OPEN, Round.closes_at.is_not(None), Round.closes_at <= now
            )
        )
    )
    for round_ in due:
        round_.close(now)
        record_action(None, "round.close", round_.study, round=round_.number, automatic=True)
    return due


def close_round(actor: Coordinator, round_: Round, now: datetime) -> None:
    round_.close(now)
    record_action(actor, "round.close", round_.study, round=round_.number)


def send_reminders(actor: Coordinator, round_: Round, base_url: str, now: datetime) -> int:
    """Queue a reminder, with a fresh link, to each member who has not submitted yet."""
    if round_.state is not RoundState.OPEN or (
        round_.closes_at is not None and round_.closes_at <= now
    ):
        raise StudyError(_l("reminders go out only while the round is open"))
    messages = queue_reminders(round_, base_url, now)
    record_action(actor, "round.remind", round_.study, round=round_.number, sent=len(messages))
    return len(messages)


def revoke_member(actor: Coordinator, member: PanelMember, now: datetime) -> None:
    """End a member's access for good: the link stops working and no more mail goes out."""
    if member.token is None:
        member.token = InvitationToken(token_hash=hash_token(secrets.token_urlsafe(TOKEN_BYTES)))
    member.token.revoke(now)
    record_action(actor, "panel.revoke", member.study, member=member.id)


@dataclass(frozen=True)
class MemberRow:
    member: PanelMember
    link: str  # "none" (never mailed), "active" or "revoked"
    submitted: int  # rounds this member submitted


def panel_overview(study: Study) -> list[MemberRow]:
    """List the panel with each member's link state and number of submitted rounds."""
    submitted = dict(
        db.session.execute(
            select(Response.member_id, func.count())
            .join(PanelMember, Response.member_id == PanelMember.id)
            .where(PanelMember.study_id == study.id, Response.state == ResponseState.SUBMITTED)
            .group_by(Response.member_id)
        ).all()
    )
    members = db.session.scalars(
        select(PanelMember)
        .where(PanelMember.study_id == study.id)
        .options(selectinload(PanelMember.token), selectinload(PanelMember.group))
        .order_by(PanelMember.email)
    )
    return [
        MemberRow(
            member=m,
            link="none" if m.token is None else ("revoked" if m.token.revoked_at else "active"),
            submitted=submitted.get(m.id, 0),
        )
        for m in members
    ]


@dataclass(frozen=True)
class RoundProgress:
    invited: int
    started: int
    submitted: int

    @property
    def percent_submitted(self) -> int:
        return round(100 * self.submitted / self.invited) if self.invited else 0


def round_progress(round_: Round) -> RoundProgress:
    """Count invitations, started and submitted responses for a round."""
    counts = dict(
        db.session.execute(
            select(Response.state, func.count())
            .where(Response.round_id == round_.id)
            .group_by(Response.state)
        ).all()
    )
    invited = db.session.scalar(
        select(func.count(func.distinct(OutboxMessage.member_id))).where(
            OutboxMessage.round_id == round_.id, OutboxMessage.kind == "invitation"
        )
    )
    submitted = counts.get(ResponseState.SUBMITTED, 0)
    return RoundProgress(
        invited=invited or 0,
        started=submitted + counts.get(ResponseState.DRAFT, 0),
        submitted=submitted,
    )
