"""Between rounds: open answers become quotes for the anthology and statements to rate."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from surveyapp.anthology.collation import dutch_sort_key
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
from surveyapp.studies.services import StudyError, add_item, next_draft_round


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
    group = answer.item.position if quote is None else quote.group
    position = None if quote is None else quote.position
    if quote is None or quote.section_id != section.id:
        # A group in the coordinator's own order takes a newcomer at its end.
        others = [q for q in group_quotes(section.id, group) if q is not quote]
        positions = [q.position for q in others if q.position is not None]
        position = max(positions) + 1 if positions else None
    if quote is None:
        quote = Quote(answer=answer, group=group)
        db.session.add(quote)
    quote.section = section
    quote.position = position
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


@dataclass(frozen=True)
class QuoteGroupOrder:
    """The quotes of one group in a section, in the order the anthology prints them."""

    section: Theme
    group: int
    quotes: list[Quote]

    @property
    def given(self) -> bool:
        """Whether the coordinator put the group in order (else it is alphabetical)."""
        return any(quote.position is not None for quote in self.quotes)


def group_quotes(section_id: int, group: int) -> list[Quote]:
    """Return the quotes of a group in a section, included or not, in their printed order.

    As in the anthology: the coordinator's order once any quote has a position, else Dutch
    alphabetical order.
    """
    quotes = list(
        db.session.scalars(
            select(Quote).where(Quote.section_id == section_id, Quote.group == group)
        )
    )
    if any(quote.position is not None for quote in quotes):
        return sorted(quotes, key=lambda q: (q.position is None, q.position or 0, q.id))
    return sorted(quotes, key=lambda q: (dutch_sort_key(q.text), q.id))


def quote_groups(quotes: Sequence[Quote]) -> list[QuoteGroupOrder]:
    """Return every group the given quotes stand in, whole, ordered by section and group."""
    places = {(quote.section_id, quote.group): quote.section for quote in quotes}
    return [
        QuoteGroupOrder(section, group, group_quotes(section_id, group))
        for (section_id, group), section in sorted(
            places.items(),
            key=lambda place: (_number_key(place[1].number), place[0][1]),
        )
    ]


def _number_key(number: str) -> tuple[int | str, ...]:
    return tuple(int(part) if part.isdigit() else part for part in number.split("."))


def move_quote(actor: Coordinator, quote: Quote, direction: Literal["up", "down"]) -> bool:
    """Move a quote one place up or down in its group; return False if it is already at the end.

    Every quote of the group gets a position, so the order the coordinator sees is the
    order the anthology prints, whole.
    """
    quotes = group_quotes(quote.section_id, quote.group)
    here = quotes.index(quote)
    there = here - 1 if direction == "up" else here + 1
    if not 0 <= there < len(quotes):
        return False
    quotes[here], quotes[there] = quotes[there], quotes[here]
    for position, each in enumerate(quotes, start=1):
        each.position = position
    record_action(
        actor,
        "quote.move",
        quote.section.study,
        quote=quote.id,
        direction=direction,
        section=quote.section.number,
        group=quote.group,
    )
    return True


def reset_quote_order(actor: Coordinator, section: Theme, group: int) -> None:
    """Put a group back in alphabetical order: forget the positions of all its quotes."""
    for quote in group_quotes(section.id, group):
        quote.position = None
    record_action(actor, "quote.order_reset", section.study, section=section.number, group=group)


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
