"""Between rounds: open answers become quotes and statements that remember their sources."""

from sqlalchemy import func, select

from surveyapp.extensions import db
from surveyapp.models import Item, ItemKind, Quote, RoundState
from surveyapp.publishing.services import gather_anthology
from tests.builders import (
    csrf_token,
    login,
    make_coordinator,
    make_member,
    make_quote,
    make_response,
    make_round,
    make_section,
    make_study,
)


def _closed_round_with_answers(
    texts=("Veel beleid, weinig uitvoering.", "Te weinig capaciteit bij de politie."),
):
    """A closed round with one open question in section 1.3 and an answer per text."""
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
        make_response(make_member(study), round_, {question: text}).answers[0] for text in texts
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


def _quoted_answers(client, texts):
    """A closed round whose answers are all quotes in one section: one group, as coded."""
    coordinator, study, section, question, answers = _closed_round_with_answers(texts)
    login(client, coordinator)
    for answer in answers:
        _quote(client, study, question, answer, section)
    return study, section, question, answers


def _quote(client, study, question, answer, section):
    _post(
        client,
        f"/studies/{study.id}/coding/items/{question.id}/quotes",
        answer_id=answer.id,
        section=section.id,
        text=answer.text,
        included="y",
    )


def _printed_group(study):
    db.session.expire_all()
    (chapter,) = gather_anthology(study).chapters
    (section,) = chapter.sections
    (group,) = section.groups
    return group.order, group.in_order()


def _quote_of(answer):
    return db.session.scalar(select(Quote).where(Quote.answer_id == answer.id))


def test_the_coordinator_puts_a_group_of_quotes_in_order_and_back(client, app):
    veel, te, aanpak = (
        "Veel beleid, weinig uitvoering.",
        "Te weinig capaciteit bij de politie.",
        "Aanpak verschilt per gemeente.",
    )
    study, section, question, answers = _quoted_answers(client, (veel, te, aanpak))
    page_url = f"/studies/{study.id}/coding/items/{question.id}"
    assert _printed_group(study) == ("alphabetical", [aanpak, te, veel])

    def move(answer, direction):
        quote_id = _quote_of(answer).id
        response = _post(client, f"{page_url}/quotes/{quote_id}/move", direction=direction)
        assert response.status_code == 302
        assert response.location.endswith(f"#order-quote-{quote_id}")

    move(answers[0], "up")  # "Veel ..." was last
    assert _printed_group(study) == ("given", [aanpak, veel, te])
    move(answers[0], "up")
    assert _printed_group(study) == ("given", [veel, aanpak, te])
    move(answers[0], "up")  # already first: nothing changes
    move(answers[2], "down")
    assert _printed_group(study) == ("given", [veel, te, aanpak])
    # Every quote of the group has its own place: the order is total.
    assert sorted(q.position for q in db.session.scalars(select(Quote))) == [1, 2, 3]

    page = client.get(page_url + "?lang=en").get_data(as_text=True)
    order = page[page.index('id="quote-order"') :]
    assert order.index(veel) < order.index(te) < order.index(aanpak)
    assert "In your order." in order
    assert "Back to alphabetical order" in order

    # A quote that joins an ordered group comes last, whatever its text.
    (late,) = make_response(
        make_member(study), question.round, {question: "Alles gaat goed."}
    ).answers
    _quote(client, study, question, late, section)
    assert _printed_group(study) == ("given", [veel, te, aanpak, "Alles gaat goed."])

    response = _post(
        client, f"{page_url}/quote-order/{section.id}/{question.position}/alphabetical"
    )
    assert response.status_code == 302
    assert _printed_group(study) == ("alphabetical", [aanpak, "Alles gaat goed.", te, veel])
    assert all(q.position is None for q in db.session.scalars(select(Quote)))
    page = client.get(page_url + "?lang=en").get_data(as_text=True)
    assert "In alphabetical order (the default)." in page
    assert "Back to alphabetical order" not in page


def test_moving_a_quote_needs_a_valid_form_and_a_quote_of_this_study(client, app):
    study, _section, question, answers = _quoted_answers(client, ("Beta.", "Alfa."))
    page_url = f"/studies/{study.id}/coding/items/{question.id}"
    quote = _quote_of(answers[0])

    no_csrf = client.post(f"{page_url}/quotes/{quote.id}/move", data={"direction": "up"})
    assert no_csrf.status_code == 400
    sideways = _post(client, f"{page_url}/quotes/{quote.id}/move", direction="sideways")
    assert sideways.status_code == 400
    db.session.expire_all()
    assert _quote_of(answers[0]).position is None

    other = make_study()
    other_round = make_round(other, state=RoundState.CLOSED)
    (other_answer,) = make_response(
        make_member(other), other_round, {other_round.items[0]: "Gamma."}
    ).answers
    foreign = make_quote(other_answer, make_section(other))
    response = _post(client, f"{page_url}/quotes/{foreign.id}/move", direction="up")
    assert response.status_code == 404
