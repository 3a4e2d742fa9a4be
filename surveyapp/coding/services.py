"""Between rounds: open answers become quotes for the anthology and statements to rate."""

from __future__ import annotations

from collections.abc import Sequence

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from surveyapp.anthology.validation import AnthologyError, check_quote
from surveyapp.audit import record_action
from surveyapp.extensions import db
from surveyapp.models import (
    Answer,
    Coordinator,
    Item,
    ItemKind,
    Quote,
    Response,
    ResponseState,
    Round,
    RoundState,
    Study,
    Theme,
)
from surveyapp.studies.services import StudyError, add_item, create_round


def open_items(study: Study) -> list[tuple[Item, int]]:
    """Return the open questions of the study with their number of written answers."""
    rows = db.session.execute(
        select(Item, func.count(Answer.id))
        .join(Round, Item.round_id == Round.id)
        .outerjoin(Answer, (Answer.item_id == Item.id) & (func.length(Answer.text) > 0))
        .where(Round.study_id == study.id, Item.kind == ItemKind.OPEN)
        .group_by(Item.id, Round.number)
        .order_by(Round.number, Item.position)
    ).all()
    return [(item, count) for item, count in rows]


def answers_to_code(item: Item) -> list[Answer]:
    """Return the written answers to an open question, with their quotes, oldest first.

    Answers of responses still in draft count too once the round is closed: the expert
    wrote them and they were saved.
    """
    query = (
        select(Answer)
        .join(Response)
        .where(Answer.item_id == item.id, func.length(Answer.text) > 0)
        .options(selectinload(Answer.response).selectinload(Response.member))
        .order_by(Answer.id)
    )
    if item.round.state is RoundState.OPEN:
        query = query.where(Response.state == ResponseState.SUBMITTED)
    return list(db.session.scalars(query))


def quotes_by_answer(answers: Sequence[Answer]) -> dict[int, Quote]:
    ids = [a.id for a in answers]
    if not ids:
        return {}
    quotes = db.session.scalars(select(Quote).where(Quote.answer_id.in_(ids)))
    return {quote.answer_id: quote for quote in quotes}


def save_quote(
    actor: Coordinator,
    answer: Answer,
    *,
    section: Theme,
    text: str,
    included: bool,
) -> Quote:
    """Make the answer a quote in a section, or update its quote; the text may be edited."""
    try:
        text = check_quote(text.strip(), "quote")
    except AnthologyError as error:
        raise StudyError(error.problem) from error
    quote = db.session.scalar(select(Quote).where(Quote.answer_id == answer.id))
    if quote is None:
        quote = Quote(answer=answer, group=answer.item.position)
        db.session.add(quote)
    quote.section = section
    quote.text = text
    quote.included = included
    record_action(
        actor,
        "quote.save",
        section.study,
        answer=answer.id,
        included=included,
        section=section.number,
    )
    return quote


def next_draft_round(actor: Coordinator, study: Study) -> Round:
    """Return the study's draft round, adding one after the last closed round if needed."""
    latest = study.rounds[-1] if study.rounds else None
    if latest is not None and latest.state is RoundState.DRAFT:
        return latest
    if latest is not None and latest.state is RoundState.OPEN:
        raise StudyError(_l("close the open round before preparing statements for the next one"))
    return create_round(actor, study)


def create_statement(
    actor: Coordinator,
    study: Study,
    *,
    text: str,
    section: Theme | None,
    scale_points: int,
    sources: Sequence[Answer],
) -> Item:
    """Add a statement to rate in the next round; it remembers the answers it came from."""
    if not sources:
        raise StudyError(_l("choose at least one answer the statement comes from"))
    round_ = next_draft_round(actor, study)
    return add_item(
        actor,
        round_,
        kind=ItemKind.LIKERT,
        text=text,
        section=section,
        scale_points=scale_points,
        sources=sources,
    )
