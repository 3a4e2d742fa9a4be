"""Load the demo study through the same services a coordinator uses; the caller commits."""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import resources
from typing import Any

from sqlalchemy import select

from surveyapp.auth.services import create_coordinator, find_coordinator
from surveyapp.coding.services import create_statement, save_quote
from surveyapp.extensions import db
from surveyapp.models import (
    Answer,
    Coordinator,
    ItemKind,
    MailState,
    OutboxMessage,
    PanelMember,
    Response,
    Round,
    Study,
)
from surveyapp.results.services import prepare_next_round, study_results
from surveyapp.studies import services as studies

DEMO_SLUG = "trends-en-knelpunten-in-de-aanpak-van-mensenhandel"
DEMO_EMAIL = "demo@example.org"
DEMO_PASSWORD = "delphi-demo-2026"  # noqa: S105 - a published demo login, for local use only
SEED = 2026


@dataclass(frozen=True)
class DemoStudy:
    study: Study
    coordinator_email: str
    coordinator_password: str
    expert_link: str


def demo_exists() -> bool:
    return db.session.scalar(select(Study.id).where(Study.slug == DEMO_SLUG)) is not None


def load_content() -> dict[str, Any]:
    return json.loads(resources.files(__package__).joinpath("study.json").read_text("utf-8"))


def load_demo(base_url: str, now: datetime) -> DemoStudy:
    """Create the demo: two closed rounds with answers, quotes and ratings, and an open third."""
    content = load_content()
    rng = random.Random(SEED)  # noqa: S311 - made-up demo data, reproducible on purpose
    coordinator = find_coordinator(DEMO_EMAIL) or create_coordinator(DEMO_EMAIL, DEMO_PASSWORD)
    db.session.flush()

    study = studies.create_study(
        coordinator,
        content["title"],
        subtitle=content["subtitle"],
        organisation=content["organisation"],
        language="nl",
        footer_text=content["footer"],
        introduction=content["introduction"],
    )
    studies.set_rules(
        coordinator,
        study,
        consensus_rule="agreement>=75,iqr<=1",
        round_cap=3,
        min_group_size=5,
        retire_stable=True,
    )
    lines = []
    for chapter in content["chapters"]:
        lines.append(f"{chapter['number']} {chapter['title']}")
        lines += [f"{s['number']} {s['title']}" for s in chapter["sections"]]
    studies.add_themes(coordinator, study, "\n".join(lines))
    db.session.flush()
    sections = {theme.number: theme for theme in study.themes}

    counter = 0
    for group, size in content["groups"].items():
        emails = []
        for _ in range(size):
            counter += 1
            emails.append(f"expert{counter:02d}@demo.example.org")
        studies.add_panel_members(coordinator, study, "\n".join(emails), group, "nl")
    db.session.flush()
    members = sorted(study.members, key=lambda m: m.email)
    groups = sorted({m.group.name for m in members if m.group})

    # Round 1: open questions, answered and closed two months ago.
    round1 = studies.create_round(
        coordinator,
        study,
        "Verkenning",
        "Welke trends en knelpunten ziet u in uw werk? Antwoord in een paar zinnen per thema.",
    )
    for question in content["questions"]:
        studies.add_item(
            coordinator,
            round1,
            kind=ItemKind.OPEN,
            text=question["text"],
            section=sections[question["section"]],
        )
    _open(coordinator, round1, base_url, now - timedelta(days=70))
    responders = rng.sample(members, k=len(members) - 3)
    responses = {m.id: Response(member=m, round=round1) for m in responders}
    for item in round1.items:
        for text in content["answers"][item.section.number]:
            member = rng.choice(responders)
            response = responses[member.id]
            existing = next((a for a in response.answers if a.item is item), None)
            if existing is not None:
                existing.text = f"{existing.text} {text}"
            else:
                response.answers.append(Answer(item=item, text=text))
    for response in responses.values():
        db.session.add(response)
        response.submit(now - timedelta(days=rng.randint(56, 69)))
    studies.close_round(coordinator, round1, now - timedelta(days=55))
    db.session.flush()

    # Between rounds: most answers become quotes, grouped per panel group.
    answers_by_section: dict[str, list[Answer]] = {}
    for response in responses.values():
        for answer in response.answers:
            section = answer.item.section
            answers_by_section.setdefault(section.number, []).append(answer)
            if rng.random() < 0.85:
                quote = save_quote(
                    coordinator, answer, section=section, text=answer.text or "", included=True
                )
                group_name = response.member.group.name if response.member.group else ""
                quote.group = groups.index(group_name) + 1 if group_name in groups else 1

    # Round 2: statements that grew out of the answers, rated by the panel.
    for statement in content["statements"]:
        pool = answers_by_section[statement["section"]]
        create_statement(
            coordinator,
            study,
            text=statement["text"],
            section=sections[statement["section"]],
            scale_points=5,
            sources=rng.sample(pool, k=min(2, len(pool))),
        )
    round2 = study.rounds[-1]
    round2.title = "Stellingen"
    round2.introduction = "Geef per stelling aan in hoeverre u het ermee eens bent."
    _open(coordinator, round2, base_url, now - timedelta(days=45))
    means = {s["text"]: s["means"] for s in content["statements"]}
    rated = rng.sample(members, k=len(members) - 4)
    for member in rated:
        response = Response(member=member, round=round2)
        for item in round2.items:
            response.answers.append(_rating(rng, item, means[item.text], member, None))
        db.session.add(response)
        response.submit(now - timedelta(days=rng.randint(31, 44)))
    studies.close_round(coordinator, round2, now - timedelta(days=30))
    db.session.flush()

    # Round 3: the statements not yet retired, open now; some experts have answered.
    round3 = studies.create_round(
        coordinator,
        study,
        "Herbeoordeling",
        "Over deze stellingen was het panel het in ronde 2 nog niet eens. Bij elke stelling"
        " ziet u hoe het panel toen antwoordde en uw eigen antwoord. U kunt uw oordeel"
        " herzien of handhaven.",
    )
    prepare_next_round(coordinator, study_results(study), study)
    _open(coordinator, round3, base_url, now - timedelta(days=5), mark_sent=False)
    previous = {
        (a.response.member_id, a.item_id): a.value
        for a in db.session.scalars(select(Answer).join(Response).where(Response.round == round2))
    }
    for member in rng.sample(rated, k=len(rated) // 2):
        response = Response(member=member, round=round3)
        for item in round3.items:
            before = previous.get((member.id, item.previous_item_id))
            response.answers.append(_rating(rng, item, means[item.text], member, before))
        db.session.add(response)
        response.submit(now - timedelta(days=rng.randint(1, 4)))
    db.session.flush()

    waiting = next(m for m in members if m.id not in {r.member_id for r in _responses(round3)})
    return DemoStudy(study, DEMO_EMAIL, DEMO_PASSWORD, _link_in_outbox(waiting, round3))


def _open(
    actor: Coordinator, round_: Round, base_url: str, at: datetime, *, mark_sent: bool = True
) -> None:
    studies.open_round(actor, round_, base_url, at)
    db.session.flush()
    if mark_sent:  # rounds in the past: their invitations went out long ago
        for message in db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.round_id == round_.id)
        ):
            message.state, message.sent_at, message.body = MailState.SENT, at, None


def _rating(
    rng: random.Random,
    item: Any,
    means: dict[str, float],
    member: PanelMember,
    before: int | None,
) -> Answer:
    if rng.random() < 0.05:
        return Answer(item=item, no_opinion=True)
    mean = means.get(member.group.name if member.group else "", 3.0)
    value = rng.gauss(mean, 0.8)
    if before is not None:  # the panel converges: a revision stays near the first answer
        value = before + 0.5 * (value - before) if rng.random() < 0.7 else float(before)
    rationale = None
    if rng.random() < 0.15:
        rationale = rng.choice(RATIONALES)
    return Answer(item=item, value=min(5, max(1, round(value))), rationale=rationale)


def _responses(round_: Round) -> list[Response]:
    return list(db.session.scalars(select(Response).where(Response.round_id == round_.id)))


def _link_in_outbox(member: PanelMember, round_: Round) -> str:
    body = db.session.scalar(
        select(OutboxMessage.body).where(
            OutboxMessage.member_id == member.id, OutboxMessage.round_id == round_.id
        )
    )
    match = re.search(r"https?://\S+/q/\S+", body or "")
    if match is None:
        raise RuntimeError("the demo invitation holds no personal link")
    return match.group(0)


RATIONALES = (
    "In onze regio zien we dit dagelijks terug in de casuïstiek.",
    "Dit verschilt sterk per gemeente, dus lastig om in het algemeen te zeggen.",
    "Zonder extra capaciteit blijft dit een papieren afspraak.",
    "Wij merken hier in de praktijk weinig van.",
    "De cijfers van vorig jaar wijzen wel die kant op.",
    "Het probleem is eerder de samenwerking dan het beleid zelf.",
)
