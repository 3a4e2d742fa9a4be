"""Builders for test data: each makes one thing with sensible defaults and commits it."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from typing import Any

from flask.testing import FlaskClient

from surveyapp.auth.services import hash_password
from surveyapp.extensions import db
from surveyapp.models import (
    Answer,
    Coordinator,
    Item,
    ItemKind,
    PanelGroup,
    PanelMember,
    Quote,
    Response,
    ResponseState,
    Round,
    RoundState,
    Study,
    Theme,
    utcnow,
)

PASSWORD = "correct horse battery"
_counter = itertools.count(1)


def make_coordinator(email: str | None = None, password: str = PASSWORD, **kw: Any) -> Coordinator:
    coordinator = Coordinator(
        email=email or f"coordinator{next(_counter)}@example.org",
        password_hash=hash_password(password),
        **kw,
    )
    db.session.add(coordinator)
    db.session.commit()
    return coordinator


def login(client: FlaskClient, coordinator: Coordinator, password: str = PASSWORD) -> None:
    """Log a coordinator in through the real login form."""
    client.get("/login")
    token = _csrf_token(client)
    response = client.post(
        "/login", data={"email": coordinator.email, "password": password, "csrf_token": token}
    )
    assert response.status_code == 302, response.get_data(as_text=True)


def _csrf_token(client: FlaskClient) -> str:
    with client.session_transaction() as session:
        raw = session.get("csrf_token")
    from flask import current_app
    from itsdangerous import URLSafeTimedSerializer

    serializer = URLSafeTimedSerializer(current_app.secret_key, salt="wtf-csrf-token")
    return serializer.dumps(raw)


def csrf_token(client: FlaskClient) -> str:
    """Return a valid CSRF token for the client's session (after it has fetched a form)."""
    return _csrf_token(client)


def make_study(coordinator: Coordinator | None = None, **kw: Any) -> Study:
    n = next(_counter)
    study = Study(slug=kw.pop("slug", f"study-{n}"), title=kw.pop("title", f"Study {n}"), **kw)
    if coordinator is not None:
        study.coordinators.append(coordinator)
    db.session.add(study)
    db.session.commit()
    return study


def make_section(study: Study, number: str = "1.1", title: str = "Trends") -> Theme:
    chapter_number = number.split(".")[0]
    chapter = next((t for t in study.themes if t.number == chapter_number), None)
    if chapter is None:
        chapter = Theme(study=study, number=chapter_number, title=f"Chapter {chapter_number}")
        db.session.add(chapter)
    section = Theme(study=study, parent=chapter, number=number, title=title)
    db.session.add(section)
    db.session.commit()
    return section


def make_group(study: Study, name: str = "gemeente") -> PanelGroup:
    group = PanelGroup(study=study, name=name)
    db.session.add(group)
    db.session.commit()
    return group


def make_member(
    study: Study, email: str | None = None, group: PanelGroup | None = None, language: str = "nl"
) -> PanelMember:
    member = PanelMember(
        study=study,
        email=email or f"expert{next(_counter)}@example.org",
        group=group,
        language=language,
    )
    db.session.add(member)
    db.session.commit()
    return member


def make_round(
    study: Study,
    *,
    items: Iterable[Mapping[str, Any] | str] = ("Which trends do you see?",),
    state: RoundState = RoundState.DRAFT,
    number: int | None = None,
) -> Round:
    """Make a round; items given as text are open questions, mappings are Item fields."""
    round_ = Round(study=study, number=number or len(study.rounds) + 1, state=state)
    for position, spec in enumerate(items, start=1):
        fields = {"kind": ItemKind.OPEN, "text": spec} if isinstance(spec, str) else dict(spec)
        fields.setdefault("position", position)
        if fields.get("kind") is ItemKind.LIKERT:
            fields.setdefault("scale_points", 5)
        round_.items.append(Item(**fields))
    if state is not RoundState.DRAFT:
        round_.opened_at = utcnow()
        study.fix_rules(round_.opened_at)
    if state is RoundState.CLOSED:
        round_.closed_at = utcnow()
    db.session.add(round_)
    db.session.commit()
    return round_


def likert(text: str, **kw: Any) -> dict[str, Any]:
    """An item spec for make_round: a statement rated on a 5-point scale."""
    return {"kind": ItemKind.LIKERT, "text": text, "scale_points": 5, **kw}


def make_response(
    member: PanelMember,
    round_: Round,
    answers: Mapping[Item, Any],
    *,
    submitted: bool = True,
) -> Response:
    """Make a response; an answer is an int rating, None for "no opinion", or a text."""
    response = Response(member=member, round=round_)
    for item, value in answers.items():
        answer = Answer(item=item)
        if isinstance(value, str):
            answer.text = value
        elif value is None:
            answer.no_opinion = True
        else:
            answer.value = value
        response.answers.append(answer)
    if submitted:
        response.submit(utcnow())
    else:
        response.state = ResponseState.DRAFT
    db.session.add(response)
    db.session.commit()
    return response


def make_quote(answer: Answer, section: Theme, text: str | None = None, **kw: Any) -> Quote:
    quote = Quote(answer=answer, section=section, text=text or answer.text or "", **kw)
    db.session.add(quote)
    db.session.commit()
    return quote
