"""Between rounds: open answers become quotes and statements that remember their sources."""

from sqlalchemy import func, select

from surveyapp.extensions import db
from surveyapp.models import Item, ItemKind, Quote, RoundState
from tests.builders import (
    csrf_token,
    login,
    make_coordinator,
    make_member,
    make_response,
    make_round,
    make_section,
    make_study,
)


def _closed_round_with_answers():
    coordinator = make_coordinator()
    study = make_study(coordinator)
    section = make_section(study, "1.3", "Beleid vs. uitvoering")
    round_ = make_round(
        study,
        items=[{"kind": ItemKind.OPEN, "text": "Welke knelpunten?", "section": section}],
        state=RoundState.CLOSED,
    )
    question = round_.items[0]
    answers = [
        make_response(make_member(study), round_, {question: text}).answers[0]
        for text in ("Veel beleid, weinig uitvoering.", "Te weinig capaciteit bij de politie.")
    ]
    return coordinator, study, section, question, answers


def _post(client, url, **data):
    client.get("/")
    return client.post(url + "?lang=en", data={"csrf_token": csrf_token(client), **data})


def test_the_coding_page_lists_answers_without_identifying_experts(client, app):
    coordinator, study, _section, question, _answers = _closed_round_with_answers()
    login(client, coordinator)
    page = client.get(f"/studies/{study.id}/coding/items/{question.id}?lang=en").get_data(
        as_text=True
    )
    assert "Veel beleid, weinig uitvoering." in page
    assert "Te weinig capaciteit bij de politie." in page
    for member in study.members:
        assert member.email not in page


def test_an_answer_becomes_an_edited_quote_in_a_section(client, app):
    coordinator, study, section, question, answers = _closed_round_with_answers()
    login(client, coordinator)
    _post(
        client,
        f"/studies/{study.id}/coding/items/{question.id}/quotes",
        answer_id=answers[0].id,
        section=section.id,
        text="Veel beleid, weinig uitvoering",
        included="y",
    )
    quote = db.session.scalar(select(Quote))
    assert (quote.text, quote.section_id, quote.included) == (
        "Veel beleid, weinig uitvoering",
        section.id,
        True,
    )
    # Saving again updates the same quote: leave it out of the anthology.
    _post(
        client,
        f"/studies/{study.id}/coding/items/{question.id}/quotes",
        answer_id=answers[0].id,
        section=section.id,
        text="Veel beleid, weinig uitvoering",
    )
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Quote)) == 1
    assert db.session.scalar(select(Quote)).included is False


def test_an_empty_quote_is_refused(client, app):
    coordinator, study, section, question, answers = _closed_round_with_answers()
    login(client, coordinator)
    response = _post(
        client,
        f"/studies/{study.id}/coding/items/{question.id}/quotes",
        answer_id=answers[0].id,
        section=section.id,
        text="  ",
        included="y",
    )
    page = client.get(
        response.location + "&lang=en" if "?" in response.location else response.location
    ).get_data(as_text=True)
    assert "The quote was not saved" in page
    assert db.session.scalar(select(func.count()).select_from(Quote)) == 0


def test_a_statement_for_the_next_round_remembers_its_answers(client, app):
    coordinator, study, section, question, answers = _closed_round_with_answers()
    login(client, coordinator)
    _post(
        client,
        f"/studies/{study.id}/coding/items/{question.id}/statements",
        text="Beleid wordt onvoldoende uitgevoerd.",
        section=section.id,
        scale_points=5,
        sources=[a.id for a in answers],
    )
    statement = db.session.scalar(select(Item).where(Item.kind == ItemKind.LIKERT))
    assert statement.round.number == 2
    assert statement.round.state is RoundState.DRAFT
    assert statement.scale_points == 5
    assert sorted(a.id for a in statement.sources) == sorted(a.id for a in answers)


def test_a_statement_without_sources_is_refused(client, app):
    coordinator, study, section, question, _answers = _closed_round_with_answers()
    login(client, coordinator)
    response = _post(
        client,
        f"/studies/{study.id}/coding/items/{question.id}/statements",
        text="Iets zonder herkomst.",
        section=section.id,
        scale_points=5,
    )
    assert response.status_code == 400
    assert "choose at least one answer" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Item)) == 1


def test_a_quote_with_a_control_character_is_refused(client, app):
    coordinator, study, section, question, answers = _closed_round_with_answers()
    login(client, coordinator)
    response = _post(
        client,
        f"/studies/{study.id}/coding/items/{question.id}/quotes",
        answer_id=answers[0].id,
        section=section.id,
        text="bel\x07",
        included="y",
    )
    page = client.get(response.location + "?lang=en").get_data(as_text=True)
    assert "control character" in page
    assert db.session.scalar(select(func.count()).select_from(Quote)) == 0


def test_the_coding_index_lists_open_questions_with_their_answer_counts(client, app):
    coordinator, study, _section, _question, _answers = _closed_round_with_answers()
    login(client, coordinator)
    page = client.get(f"/studies/{study.id}/coding/?lang=en").get_data(as_text=True)
    assert "Welke knelpunten?" in page
    assert '<td class="num">2</td>' in page
