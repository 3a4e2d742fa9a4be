"""The expert side: personal links, the questionnaire of the open round, saving answers.

Every function here reads or changes the session's objects and never commits; the views
commit once per request.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from surveyapp.extensions import db
from surveyapp.models import (
    Answer,
    InvitationToken,
    Item,
    PanelGroup,
    PanelMember,
    Response,
    ResponseState,
    Round,
    RoundState,
    Study,
    hash_token,
)
from surveyapp.stats import Settings, describe_item, shown_groups
from surveyapp.stats.frames import study_settings

# A raw token is 32 urlsafe characters; anything far longer is not worth hashing.
MAX_TOKEN_LENGTH = 200

DEFAULT_SCALE_LABELS = {
    5: (
        _l("Strongly disagree"),
        _l("Disagree"),
        _l("Neutral"),
        _l("Agree"),
        _l("Strongly agree"),
    ),
    7: (
        _l("Strongly disagree"),
        _l("Disagree"),
        _l("Somewhat disagree"),
        _l("Neutral"),
        _l("Somewhat agree"),
        _l("Agree"),
        _l("Strongly agree"),
    ),
    # Own wording for nine points: "strongly" here sits one step inside the end points.
    9: (
        _l("Disagree completely"),
        _l("Disagree strongly"),
        _l("Disagree"),
        _l("Disagree somewhat"),
        _l("Neutral"),
        _l("Agree somewhat"),
        _l("Agree"),
        _l("Agree strongly"),
        _l("Agree completely"),
    ),
}


class RoundClosedError(Exception):
    """Answers were sent for a round that no longer takes them."""


@dataclass(frozen=True)
class Rating:
    """A point on the scale, or the explicit "no opinion" (value None)."""

    value: int | None
    no_opinion: bool = False


@dataclass(frozen=True)
class AnswerInput:
    """What the expert sent for one item; a part left None stays as it was."""

    rating: Rating | None = None
    text: str | None = None
    rationale: str | None = None

    @property
    def is_empty(self) -> bool:
        return self.rating is None and not self.text and not self.rationale


@dataclass(frozen=True)
class ScalePoint:
    value: int
    label: str
    count: int
    share: float  # of the ratings, 0..1
    own: bool


@dataclass(frozen=True)
class GroupFeedback:
    """One panel group's ratings of an item, shown only where shown_groups allows it."""

    name: str
    n: int
    median: float | None
    q1: float | None
    q3: float | None
    iqr: float | None
    own: bool  # the expert's own group


@dataclass(frozen=True)
class Feedback:
    """The panel's answers to an item's predecessor in the previous round."""

    round_number: int
    points: tuple[ScalePoint, ...]
    n: int
    no_opinion: int
    median: float | None
    q1: float | None
    q3: float | None
    iqr: float | None
    own: Rating | None
    own_label: str | None
    rationales: tuple[str, ...]
    # Fewer experts answered than the study's smallest group shown: the panel's result and
    # rationales are left out (all figures empty), so that no colleague's answer shows.
    too_few: bool = False
    # Per panel group, when the study shows feedback by group and the anonymity rule allows.
    groups: tuple[GroupFeedback, ...] = ()

    def label_of(self, value: float | None) -> str | None:
        """Return the scale label of a whole-number figure such as the median."""
        if value is None or value != int(value):
            return None
        for point in self.points:
            if point.value == value:
                return point.label
        return None


@dataclass(frozen=True)
class ItemView:
    item: Item
    number: int
    labels: tuple[str, ...]
    answer: Answer | None
    feedback: Feedback | None

    @property
    def is_answered(self) -> bool:
        return is_answered(self.item, self.answer)


@dataclass(frozen=True)
class Questionnaire:
    """Everything the expert's page shows, loaded in a fixed number of queries."""

    member: PanelMember
    round: Round
    response: Response | None
    items: tuple[ItemView, ...]

    @property
    def study(self) -> Study:
        return self.round.study

    @property
    def answered(self) -> int:
        return sum(view.is_answered for view in self.items)

    @property
    def total(self) -> int:
        return len(self.items)

    @property
    def submitted(self) -> bool:
        return self.response is not None and self.response.state is ResponseState.SUBMITTED


def scale_labels(points: int, custom: Sequence[str] | None = None) -> tuple[str, ...]:
    """Return the labels of a scale: the item's own if it has a full set, else the defaults."""
    if custom and len(custom) == points:
        return tuple(custom)
    defaults = DEFAULT_SCALE_LABELS.get(points)
    if defaults is None:
        return tuple(str(value) for value in range(1, points + 1))
    return tuple(str(label) for label in defaults)


def item_labels(item: Item) -> tuple[str, ...]:
    return scale_labels(item.scale_points or 5, item.scale_labels) if item.is_rating else ()


def is_answered(item: Item, answer: Answer | None) -> bool:
    if answer is None:
        return False
    if item.is_rating:
        return answer.value is not None or answer.no_opinion
    return bool(answer.text and answer.text.strip())


def resolve_link(token: str, now: datetime) -> InvitationToken | None:
    """Return the invitation behind a personal link if it opens a round now, else None."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    invitation = db.session.scalars(
        select(InvitationToken)
        .join(InvitationToken.member)
        .options(contains_eager(InvitationToken.member))
        .where(InvitationToken.token_hash == hash_token(token))
    ).first()
    if invitation is None or not invitation.is_valid(now):
        return None
    if find_open_round(invitation.member.study_id, now) is None:
        return None
    return invitation


def load_member(member_id: object, token_id: object, now: datetime) -> PanelMember | None:
    """Return the member of a session if the link that opened it still grants access."""
    if not isinstance(member_id, int) or not isinstance(token_id, int):
        return None
    invitation = db.session.scalars(
        select(InvitationToken)
        .join(InvitationToken.member)
        .options(contains_eager(InvitationToken.member))
        .where(InvitationToken.id == token_id, InvitationToken.member_id == member_id)
    ).first()
    if invitation is None or not invitation.is_valid(now):
        return None
    return invitation.member


def find_open_round(study_id: int, now: datetime) -> Round | None:
    """Return the study's round that takes answers now (the latest open one), if any.

    An open round whose closing time has passed takes no more answers, even before it is
    closed formally.
    """
    round_ = db.session.scalars(
        select(Round)
        .join(Round.study)
        .options(contains_eager(Round.study))
        .where(Round.study_id == study_id, Round.state == RoundState.OPEN)
        .order_by(Round.number.desc())
        .limit(1)
    ).first()
    if round_ is None or not takes_answers(round_, now):
        return None
    return round_


def takes_answers(round_: Round, now: datetime) -> bool:
    """Return whether the round is open and its closing time, if it has one, is still ahead."""
    return round_.is_open and (round_.closes_at is None or now < round_.closes_at)


def list_items(round_: Round) -> list[Item]:
    """Return the round's items in order, with their sections."""
    return list(
        db.session.scalars(
            select(Item)
            .where(Item.round_id == round_.id)
            .options(joinedload(Item.section))
            .order_by(Item.position, Item.id)
        )
    )


def find_response(member_id: int, round_id: int, *, lock: bool = False) -> Response | None:
    """Return the member's response in the round with its answers, if there is one.

    With lock, the response row stays locked until the commit (PostgreSQL; SQLite locks the
    whole database from BEGIN) and is read afresh, so saves of one response queue up.
    """
    query = (
        select(Response)
        .where(Response.member_id == member_id, Response.round_id == round_id)
        .options(selectinload(Response.answers))
    )
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return db.session.scalars(query).first()


def load_questionnaire(member: PanelMember, round_: Round) -> Questionnaire:
    """Load the round's items, the member's answers and last round's feedback."""
    items = list_items(round_)
    response = find_response(member.id, round_.id)
    answers = {answer.item_id: answer for answer in response.answers} if response else {}
    feedback = previous_feedback(member, round_.study, items)
    views = tuple(
        ItemView(
            item=item,
            number=number,
            labels=item_labels(item),
            answer=answers.get(item.id),
            feedback=feedback.get(item.id),
        )
        for number, item in enumerate(items, start=1)
    )
    return Questionnaire(member=member, round=round_, response=response, items=views)


def previous_feedback(
    member: PanelMember, study: Study, items: Sequence[Item]
) -> dict[int, Feedback]:
    """Return, per rating item, the submitted answers to its predecessor, summarised.

    Two queries whatever the number of items: the predecessors, then all their answers
    with each author's panel group.
    """
    lineage = {
        item.previous_item_id: item.id for item in items if item.is_rating and item.previous_item_id
    }
    if not lineage:
        return {}
    previous_items = db.session.scalars(
        select(Item).where(Item.id.in_(lineage)).options(joinedload(Item.round))
    ).all()
    rows = db.session.execute(
        select(
            Answer.item_id,
            Response.member_id,
            Answer.value,
            Answer.no_opinion,
            Answer.rationale,
            PanelGroup.id,
            PanelGroup.name,
        )
        .join(Answer.response)
        .join(Response.member)
        .outerjoin(PanelMember.group)
        .where(Answer.item_id.in_(lineage), Response.state == ResponseState.SUBMITTED)
    ).all()
    by_item: dict[int, list[AnswerRow]] = defaultdict(list)
    for item_id, member_id, value, no_opinion, rationale, group_id, group in rows:
        by_item[item_id].append(AnswerRow(member_id, value, no_opinion, rationale, group_id, group))

    feedback = {}
    for previous in previous_items:
        if not previous.is_rating:
            continue
        feedback[lineage[previous.id]] = summarise_item(
            previous, study, member, by_item.get(previous.id, [])
        )
    return feedback


class AnswerRow(NamedTuple):
    """One submitted answer to a previous round's item, with its author's panel group."""

    member_id: int
    value: int | None
    no_opinion: bool
    rationale: str | None
    group_id: int | None
    group: str | None


def summarise_item(
    previous: Item,
    study: Study,
    member: PanelMember,
    answers: Sequence[AnswerRow],
) -> Feedback:
    """Summarise one item's answers for the member's feedback."""
    member_id = member.id
    points = previous.scale_points or 5
    labels = scale_labels(points, previous.scale_labels)
    values: list[float | None] = []
    own: Rating | None = None
    rationales: list[str] = []
    for author, value, no_opinion, rationale, _group_id, _group in answers:
        if value is not None or no_opinion:
            values.append(None if no_opinion else value)
            if author == member_id:
                own = Rating(value=None if no_opinion else value, no_opinion=no_opinion)
        if author != member_id and rationale and rationale.strip():
            rationales.append(rationale.strip())
    own_label = None
    if own is not None and own.value is not None:
        own_label = labels[own.value - 1]
    if sum(value is not None for value in values) < study.min_group_size:
        # "No opinion" answers do not hide anyone: count the ratings a reader could unpick.
        return Feedback(
            round_number=previous.round.number,
            points=(),
            n=0,
            no_opinion=0,
            median=None,
            q1=None,
            q3=None,
            iqr=None,
            own=own,
            own_label=own_label,
            rationales=(),
            too_few=True,
        )
    settings = study_settings(study, points)
    stats = describe_item(values, settings)
    scale = tuple(
        ScalePoint(
            value=value,
            label=label,
            count=count,
            share=count / stats.n if stats.n else 0.0,
            own=own is not None and own.value == value,
        )
        for value, label, count in zip(
            range(1, points + 1), labels, stats.distribution, strict=True
        )
    )
    return Feedback(
        round_number=previous.round.number,
        points=scale,
        n=stats.n,
        no_opinion=stats.no_opinion,
        median=stats.median,
        q1=stats.q1,
        q3=stats.q3,
        iqr=stats.iqr,
        own=own,
        own_label=own_label,
        # Sorted, so that neither the order of submission nor of ids hints at an author.
        rationales=tuple(sorted(rationales, key=str.casefold)),
        groups=summarise_groups(answers, member, settings) if study.feedback_by_group else (),
    )


def summarise_groups(
    answers: Sequence[AnswerRow], member: PanelMember, settings: Settings
) -> tuple[GroupFeedback, ...]:
    """Return the figures of each panel group that the anonymity rule lets the page name.

    Only experts who gave a rating count towards shown_groups, as for the whole panel's
    result: a group of five of whom four said "no opinion" would show one person's rating.
    Rationales are never split by group.
    """
    answered = [a for a in answers if a.value is not None and not a.no_opinion]
    shown = shown_groups({str(a.member_id): a.group for a in answered}, settings.min_group_size)
    groups = []
    for name in sorted(shown, key=str.casefold):
        part = [a for a in answered if a.group == name]
        stats = describe_item([None if a.no_opinion else a.value for a in part], settings)
        groups.append(
            GroupFeedback(
                name=name,
                n=stats.n,
                median=stats.median,
                q1=stats.q1,
                q3=stats.q3,
                iqr=stats.iqr,
                own=member.group_id is not None and part[0].group_id == member.group_id,
            )
        )
    return tuple(groups)


def save_answers(
    member: PanelMember,
    round_: Round,
    answers: Mapping[int, AnswerInput],
    now: datetime,
    *,
    submit: bool = False,
) -> Response:
    """Upsert the member's answers in the round, and submit the response when asked.

    `now` is the moment the request began. Saving the same answers twice leaves the same
    state (nothing is touched the second time); submitting twice keeps the moment of the
    first submit. An answer changed by a request that began after this one is newer than
    what this one carries: it is left as it is, so a slow autosave that finishes after a
    submit cannot undo it.
    """
    if not takes_answers(round_, now):
        raise RoundClosedError(f"round {round_.number} takes no answers now")
    items = {item.id: item for item in list_items(round_)}
    for item_id, given in answers.items():
        check_answer(items.get(item_id), given)

    response = find_response(member.id, round_.id, lock=True)
    if response is None:
        response = Response(member_id=member.id, round_id=round_.id, created_at=now, updated_at=now)
        db.session.add(response)
    stored = {answer.item_id: answer for answer in response.answers}
    changed = False
    for item_id, given in answers.items():
        answer = stored.get(item_id)
        if answer is None:
            if given.is_empty:
                continue
            answer = Answer(item_id=item_id, updated_at=now)
            response.answers.append(answer)
        elif answer.updated_at > now:
            continue  # changed by a later request
        if apply_answer(answer, given):
            answer.updated_at = now
            changed = True
        elif submit:
            # Submitted as it stands: a slower autosave that began earlier must not undo it,
            # even when this value equals what was stored before that autosave.
            answer.updated_at = max(answer.updated_at, now)
    if changed:
        response.updated_at = now
    if submit:
        response.submit(now)
    return response


def check_answer(item: Item | None, given: AnswerInput) -> None:
    """Refuse an answer the item cannot take (the views check first; this guards the data)."""
    if item is None:
        raise ValueError("unknown item")
    rating = given.rating
    if rating is not None:
        if not item.is_rating:
            raise ValueError(f"item {item.id} takes no rating")
        if rating.no_opinion != (rating.value is None):
            raise ValueError("a rating is either a point of the scale or no opinion")
        if rating.value is not None and not 1 <= rating.value <= (item.scale_points or 5):
            raise ValueError(f"{rating.value} is outside the scale of item {item.id}")
    if given.rationale is not None and not item.is_rating:
        raise ValueError(f"item {item.id} takes no rationale")


def apply_answer(answer: Answer, given: AnswerInput) -> bool:
    """Write the given parts onto the answer; return whether anything changed."""
    new = {}
    if given.rating is not None:
        new["value"] = given.rating.value
        new["no_opinion"] = given.rating.no_opinion
    if given.text is not None:
        new["text"] = given.text.strip() or None
    if given.rationale is not None:
        new["rationale"] = given.rationale.strip() or None
    changed = False
    for name, value in new.items():
        if getattr(answer, name) != value:
            setattr(answer, name, value)
            changed = True
    return changed
