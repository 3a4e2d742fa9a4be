"""The expert's questionnaire: personal link, answering, saving, submitting, feedback."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import event, func, select

from surveyapp.extensions import db
from surveyapp.models import (
    Answer,
    InvitationToken,
    PanelMember,
    Response,
    ResponseState,
    Round,
    RoundState,
    utcnow,
)
from surveyapp.questionnaire import services
from surveyapp.questionnaire.services import AnswerInput, Rating
from tests.builders import (
    csrf_token,
    likert,
    make_group,
    make_member,
    make_response,
    make_round,
    make_section,
    make_study,
)

LINK_PAGE = "This link does not open a questionnaire"
ENGLISH = {"Accept-Language": "en"}


def issue_link(member: PanelMember, **kw: Any) -> str:
    """Give the member a personal link token and return the raw token, as the email would."""
    invitation = member.token or InvitationToken(member=member, **kw)
    raw = invitation.reissue(utcnow())
    db.session.add(invitation)
    db.session.commit()
    return raw


def enter(client: FlaskClient, token: str) -> None:
    response = client.get(f"/q/{token}")
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.headers["Location"].endswith("/q/")


def post_form(
    client: FlaskClient, round_: Round, answers: dict[str, str], action: str = "draft"
) -> Any:
    data = {"csrf_token": csrf_token(client), "round_id": str(round_.id), "action": action}
    return client.post("/q/", data={**data, **answers})


def autosave(client: FlaskClient, round_: Round, fields: dict[str, str], **kw: Any) -> Any:
    headers = {"X-CSRFToken": csrf_token(client)}
    return client.post(
        "/q/autosave", json={"round_id": round_.id, "fields": fields}, headers=headers, **kw
    )


def stored() -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Every response and answer in the database, as plain rows."""
    responses = db.session.execute(
        select(
            Response.id,
            Response.member_id,
            Response.round_id,
            Response.state,
            Response.submitted_at,
            Response.updated_at,
        ).order_by(Response.id)
    ).all()
    answers = db.session.execute(
        select(
            Answer.response_id,
            Answer.item_id,
            Answer.value,
            Answer.no_opinion,
            Answer.text,
            Answer.rationale,
            Answer.updated_at,
        ).order_by(Answer.id)
    ).all()
    return [tuple(r) for r in responses], [tuple(a) for a in answers]


def the_response(member: PanelMember, round_: Round) -> Response:
    db.session.expire_all()
    return db.session.scalars(
        select(Response).where(Response.member_id == member.id, Response.round_id == round_.id)
    ).one()


def queries_of(request: Callable[[], Any]) -> tuple[list[str], Any]:
    """Run a request and return the SQL statements it sent, with its response."""
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        response = request()
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return statements, response


def without_csrf(html: str) -> str:
    return re.sub(r'<meta name="csrf-token" content="[^"]*">', "", html)


@pytest.fixture
def expert(app: Any) -> dict[str, Any]:
    """An English-speaking expert with a personal link to an open round of three items."""
    study = make_study()
    member = make_member(study, language="en")
    round_ = make_round(
        study,
        items=[
            likert("Exploitation moves online."),
            likert("Municipalities lack capacity.", ask_rationale=False),
            "Which bottlenecks do you see?",
        ],
        state=RoundState.OPEN,
    )
    rate, rate_plain, open_question = round_.items
    return {
        "study": study,
        "member": member,
        "round": round_,
        "rate": rate,
        "plain": rate_plain,
        "open": open_question,
        "token": issue_link(member),
    }


def full_answers(expert: dict[str, Any], **override: str) -> dict[str, str]:
    rate, plain, open_question = expert["rate"], expert["plain"], expert["open"]
    answers = {
        f"i{rate.id}": "4",
        f"i{rate.id}_rationale": "Seen in our cases.",
        f"i{plain.id}": "2",
        f"i{open_question.id}_text": "Too few shelters.",
    }
    answers.update(override)
    return answers


# The link ------------------------------------------------------------------------------


def test_link_opens_the_round_and_leaves_the_address_bar(client, expert):
    response = client.get(f"/q/{expert['token']}")
    assert response.status_code == 302
    assert expert["token"] not in response.headers["Location"]

    page = client.get("/q/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Exploitation moves online." in html
    assert "Which bottlenecks do you see?" in html
    assert "Answered <span data-answered>0</span> of <span data-total>3</span>" in html
    assert '<html lang="en">' in html
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "no-referrer"


def test_page_speaks_the_members_language(client, app):
    study = make_study()
    member = make_member(study, language="nl")
    make_round(study, items=[likert("Stelling")], state=RoundState.OPEN)
    enter(client, issue_link(member))
    html = client.get("/q/", headers=ENGLISH).get_data(as_text=True)
    assert '<html lang="nl">' in html


def test_likert_item_offers_labelled_scale_and_no_opinion_unselected(client, expert):
    enter(client, expert["token"])
    html = client.get("/q/").get_data(as_text=True)
    rate_id = expert["rate"].id
    for label in ("Strongly disagree", "Disagree", "Neutral", "Agree", "Strongly agree"):
        assert label in html
    assert f'<fieldset id="i{rate_id}"' in html
    assert f'<label for="i{rate_id}-none" class="no-opinion">' in html
    assert "checked" not in html
    assert f'<label for="i{rate_id}_rationale">' in html
    assert f'id="i{expert["plain"].id}_rationale"' not in html


def test_custom_scale_labels_are_shown(client, app):
    study = make_study()
    member = make_member(study, language="en")
    labels = ["Never", "Rarely", "Sometimes", "Often", "Always"]
    make_round(study, items=[likert("How often?", scale_labels=labels)], state=RoundState.OPEN)
    enter(client, issue_link(member))
    html = client.get("/q/").get_data(as_text=True)
    assert all(label in html for label in labels)
    assert "Strongly agree" not in html


def test_unknown_revoked_expired_and_closed_links_get_one_identical_page(client, app):
    now = utcnow()
    study = make_study()
    make_round(study, items=[likert("A")], state=RoundState.OPEN)
    revoked = make_member(study, language="en")
    revoked_token = issue_link(revoked)
    revoked.token.revoke(now)
    expired = make_member(study, language="en")
    expired_token = issue_link(expired, expires_at=now - timedelta(minutes=1))
    closed_study = make_study()
    make_round(closed_study, items=[likert("A")], state=RoundState.CLOSED)
    make_round(closed_study, items=[likert("B")], state=RoundState.DRAFT)
    closed_token = issue_link(make_member(closed_study, language="en"))
    db.session.commit()

    pages = []
    for token in ("no-such-token", revoked_token, expired_token, closed_token, "x" * 5000):
        response = client.get(f"/q/{token}", headers=ENGLISH)
        pages.append((response.status_code, without_csrf(response.get_data(as_text=True))))
    assert len(set(pages)) == 1
    status, html = pages[0]
    assert status == 404
    assert LINK_PAGE in html
    assert "newer one" in html
    assert "contact the coordinator" in html
    assert client.get("/q/", headers=ENGLISH).status_code == 404


def test_revoking_ends_an_open_session_at_once(client, expert):
    enter(client, expert["token"])
    assert client.get("/q/").status_code == 200
    expert["member"].token.revoke(utcnow())
    db.session.commit()
    before = stored()

    page = client.get("/q/")
    assert page.status_code == 404
    assert LINK_PAGE in page.get_data(as_text=True)
    assert autosave(client, expert["round"], {f"i{expert['rate'].id}": "3"}).status_code == 403
    assert stored() == before


def test_a_newer_link_replaces_the_old_one_but_keeps_the_session(client, expert):
    enter(client, expert["token"])
    newer = issue_link(expert["member"])
    assert client.get("/q/").status_code == 200
    assert client.get(f"/q/{expert['token']}").status_code == 404
    enter(client, newer)


def test_get_never_changes_answers(client, expert):
    make_response(expert["member"], expert["round"], {expert["rate"]: 2}, submitted=False)
    before = stored()
    enter(client, expert["token"])
    client.get("/q/")
    client.get("/q/?lang=nl")
    client.get("/q/autosave")
    assert stored() == before


def test_get_without_answers_creates_no_response(client, expert):
    enter(client, expert["token"])
    client.get("/q/")
    assert stored() == ([], [])


# Saving and submitting -------------------------------------------------------------------


def test_draft_is_saved_and_shown_when_the_expert_comes_back(app, client, expert):
    enter(client, expert["token"])
    client.get("/q/")
    response = post_form(client, expert["round"], full_answers(expert))
    assert response.status_code == 302
    assert "saved at" in client.get("/q/").get_data(as_text=True)

    saved = the_response(expert["member"], expert["round"])
    assert saved.state is ResponseState.DRAFT
    assert saved.submitted_at is None
    by_item = {answer.item_id: answer for answer in saved.answers}
    assert by_item[expert["rate"].id].value == 4
    assert by_item[expert["rate"].id].rationale == "Seen in our cases."
    assert by_item[expert["open"].id].text == "Too few shelters."

    later = app.test_client()
    enter(later, expert["token"])
    html = later.get("/q/").get_data(as_text=True)
    assert re.search(rf'id="i{expert["rate"].id}-4"[^>]*value="4" checked', html)
    assert "Seen in our cases.</textarea>" in html
    assert "Too few shelters.</textarea>" in html
    assert "Answered <span data-answered>3</span> of <span data-total>3</span>" in html


def test_submit_marks_the_response_submitted(client, expert):
    enter(client, expert["token"])
    client.get("/q/")
    response = post_form(client, expert["round"], full_answers(expert), action="submit")
    assert response.status_code == 302
    html = client.get("/q/").get_data(as_text=True)
    assert "your answers were submitted" in html
    assert "You submitted your answers on" in html
    saved = the_response(expert["member"], expert["round"])
    assert saved.state is ResponseState.SUBMITTED
    assert saved.submitted_at is not None


def test_submit_with_unrated_statement_keeps_a_draft_and_says_what_is_missing(client, expert):
    enter(client, expert["token"])
    client.get("/q/")
    answers = full_answers(expert)
    del answers[f"i{expert['plain'].id}"]
    response = post_form(client, expert["round"], answers, action="submit")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Not submitted yet: 1 statement still needs a rating" in html
    plain_id = expert["plain"].id
    assert f'aria-describedby="i{plain_id}-error"' in html
    saved = the_response(expert["member"], expert["round"])
    assert saved.state is ResponseState.DRAFT
    assert {a.item_id for a in saved.answers} == {expert["rate"].id, expert["open"].id}


def test_second_submit_is_harmless(client, expert):
    enter(client, expert["token"])
    client.get("/q/")
    post_form(client, expert["round"], full_answers(expert), action="submit")
    first = the_response(expert["member"], expert["round"]).submitted_at
    _, answers_before = stored()

    assert (
        post_form(client, expert["round"], full_answers(expert), action="submit").status_code == 302
    )
    responses, answers_after = stored()
    assert len(responses) == 1
    assert responses[0][3] is ResponseState.SUBMITTED
    assert responses[0][4] == first
    # The answers keep every value; only their time moves, so no slower save undoes them.
    assert [a[:-1] for a in answers_after] == [a[:-1] for a in answers_before]


def test_submitted_answers_can_be_revised_until_the_round_closes(client, expert):
    enter(client, expert["token"])
    client.get("/q/")
    post_form(client, expert["round"], full_answers(expert), action="submit")
    first = the_response(expert["member"], expert["round"])
    submitted_at, updated_at = first.submitted_at, first.updated_at

    revised = full_answers(expert, **{f"i{expert['rate'].id}": "1"})
    assert post_form(client, expert["round"], revised).status_code == 302
    again = the_response(expert["member"], expert["round"])
    assert again.state is ResponseState.SUBMITTED
    assert again.submitted_at == submitted_at
    assert again.updated_at > updated_at
    assert {a.item_id: a.value for a in again.answers}[expert["rate"].id] == 1


def test_no_opinion_is_stored_apart_from_ratings(client, expert):
    enter(client, expert["token"])
    client.get("/q/")
    post_form(client, expert["round"], full_answers(expert, **{f"i{expert['rate'].id}": "none"}))
    answer = next(
        a
        for a in the_response(expert["member"], expert["round"]).answers
        if a.item_id == expert["rate"].id
    )
    assert answer.no_opinion is True
    assert answer.value is None
    html = client.get("/q/").get_data(as_text=True)
    assert re.search(rf'id="i{expert["rate"].id}-none"[^>]*checked', html)


# Bad input ------------------------------------------------------------------------------


def test_answering_a_closed_round_is_refused_and_keeps_earlier_answers(client, expert):
    enter(client, expert["token"])
    client.get("/q/")
    post_form(client, expert["round"], full_answers(expert))
    expert["round"].close(utcnow())
    db.session.commit()
    before = stored()

    response = post_form(
        client, expert["round"], full_answers(expert, **{f"i{expert['rate'].id}": "1"})
    )
    assert response.status_code == 409
    assert "This round is closed; your earlier answers were kept." in response.get_data(
        as_text=True
    )
    saved = autosave(client, expert["round"], {f"i{expert['rate'].id}": "1"})
    assert saved.status_code == 409
    assert saved.get_json()["error"] == "This round is closed; your earlier answers were kept."
    assert stored() == before


def test_a_round_past_its_closing_time_is_closed_for_answering(client, expert):
    enter(client, expert["token"])
    client.get("/q/")
    post_form(client, expert["round"], full_answers(expert))
    expert["round"].closes_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    before = stored()

    page = client.get("/q/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "This round is closed; your earlier answers were kept." in html
    assert 'id="questionnaire"' not in html

    changed = full_answers(expert, **{f"i{expert['rate'].id}": "1"})
    for action in ("draft", "submit"):
        response = post_form(client, expert["round"], changed, action=action)
        assert response.status_code == 409
        assert "This round is closed; your earlier answers were kept." in response.get_data(
            as_text=True
        )
    saved = autosave(client, expert["round"], {f"i{expert['rate'].id}": "1"})
    assert saved.status_code == 409
    assert saved.get_json()["error"] == "This round is closed; your earlier answers were kept."
    assert stored() == before
    with pytest.raises(services.RoundClosedError):
        services.save_answers(
            expert["member"],
            expert["round"],
            {expert["rate"].id: AnswerInput(rating=Rating(1))},
            utcnow(),
        )


def test_a_round_before_its_closing_time_takes_answers(client, expert):
    expert["round"].closes_at = utcnow() + timedelta(hours=1)
    db.session.commit()
    enter(client, expert["token"])
    assert "This round closes on" in client.get("/q/").get_data(as_text=True)
    assert post_form(client, expert["round"], full_answers(expert)).status_code == 302
    assert autosave(client, expert["round"], {f"i{expert['rate'].id}": "1"}).status_code == 200
    answers = {a.item_id: a.value for a in the_response(expert["member"], expert["round"]).answers}
    assert answers[expert["rate"].id] == 1


def test_answers_for_a_round_that_closed_while_the_next_opened_are_refused(client, expert):
    enter(client, expert["token"])
    client.get("/q/")
    expert["round"].close(utcnow())
    make_round(expert["study"], items=[likert("Next")], state=RoundState.OPEN)
    response = post_form(client, expert["round"], full_answers(expert))
    assert response.status_code == 409
    assert stored() == ([], [])


@pytest.mark.parametrize("value", ["6", "0", "-1", "abc", "3.5", ""])
def test_value_outside_the_scale_is_refused_and_nothing_changes(client, expert, value):
    make_response(expert["member"], expert["round"], {expert["rate"]: 2}, submitted=False)
    enter(client, expert["token"])
    client.get("/q/")
    before = stored()

    response = post_form(
        client, expert["round"], full_answers(expert, **{f"i{expert['rate'].id}": value})
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Choose one of the points on the scale" in html
    assert f'aria-describedby="i{expert["rate"].id}-error"' in html

    saved = autosave(client, expert["round"], {f"i{expert['rate'].id}": value})
    assert saved.status_code == 400
    assert "Not saved" in saved.get_json()["error"]
    assert stored() == before


def test_unknown_item_is_refused_and_nothing_changes(client, expert):
    other_study = make_study()
    foreign = make_round(other_study, items=[likert("Elsewhere")], state=RoundState.OPEN).items[0]
    enter(client, expert["token"])
    client.get("/q/")
    before = stored()

    for field in ("i999999", f"i{foreign.id}", f"i{expert['plain'].id}_rationale"):
        response = post_form(client, expert["round"], full_answers(expert, **{field: "3"}))
        assert response.status_code == 400
        assert "This questionnaire has no question" in response.get_data(as_text=True)
        saved = autosave(client, expert["round"], {field: "3"})
        assert saved.status_code == 400
        assert "no question" in saved.get_json()["error"]
    assert stored() == before


def test_missing_csrf_token_is_refused_and_nothing_changes(client, expert):
    enter(client, expert["token"])
    client.get("/q/")
    data = {"round_id": str(expert["round"].id), "action": "submit", **full_answers(expert)}
    response = client.post("/q/", data=data)
    assert response.status_code == 400
    assert "Nothing was changed" in response.get_data(as_text=True)

    fields = {f"i{expert['rate'].id}": "3"}
    saved = client.post("/q/autosave", json={"round_id": expert["round"].id, "fields": fields})
    assert saved.status_code == 400
    assert "Nothing was changed" in saved.get_json()["error"]
    assert stored() == ([], [])


def test_autosave_refuses_unreadable_payloads(client, expert):
    enter(client, expert["token"])
    client.get("/q/")
    headers = {"X-CSRFToken": csrf_token(client)}
    for payload in ([1, 2], {"round_id": expert["round"].id, "fields": {"i1": 3}}, {"fields": "x"}):
        assert client.post("/q/autosave", json=payload, headers=headers).status_code == 400
    assert stored() == ([], [])


def test_without_a_session_nothing_is_saved(client, expert):
    client.get("/q/")
    assert post_form(client, expert["round"], full_answers(expert)).status_code == 404
    assert autosave(client, expert["round"], {f"i{expert['rate'].id}": "3"}).status_code == 403
    assert stored() == ([], [])


# Autosave -------------------------------------------------------------------------------


def test_autosave_is_an_idempotent_upsert(client, expert):
    enter(client, expert["token"])
    client.get("/q/")
    fields = {f"i{expert['rate'].id}": "5", f"i{expert['open'].id}_text": "Loverboys online."}
    first = autosave(client, expert["round"], fields)
    assert first.status_code == 200
    body = first.get_json()
    assert body["message"].startswith("Saved at ")
    assert (body["answered"], body["total"]) == (2, 3)
    after_first = stored()

    assert autosave(client, expert["round"], fields).status_code == 200
    assert stored() == after_first
    responses, answers = after_first
    assert len(responses) == 1
    assert responses[0][3] is ResponseState.DRAFT
    assert sorted((a[1], a[2], a[4]) for a in answers) == sorted(
        [(expert["rate"].id, 5, None), (expert["open"].id, None, "Loverboys online.")]
    )


def test_autosave_changes_only_the_fields_it_sends(client, expert):
    enter(client, expert["token"])
    client.get("/q/")
    rate = expert["rate"].id
    autosave(client, expert["round"], {f"i{rate}": "5", f"i{rate}_rationale": "Because."})
    autosave(client, expert["round"], {f"i{rate}_rationale": "Because of X."})
    answer = the_response(expert["member"], expert["round"]).answers[0]
    assert (answer.value, answer.rationale) == (5, "Because of X.")


def test_autosave_keeps_the_valid_fields_and_names_the_invalid_ones(client, expert):
    enter(client, expert["token"])
    client.get("/q/")
    rate, question = expert["rate"].id, expert["open"].id
    fields = {
        f"i{rate}": "4",
        f"i{rate}_rationale": "x" * 5_001,
        f"i{question}_text": "Too few shelters.",
    }
    response = autosave(client, expert["round"], fields)
    body = response.get_json()
    assert response.status_code == 400
    assert sorted(body["saved"]) == sorted([f"i{rate}", f"i{question}_text"])
    assert body["errors"] == {f"i{rate}_rationale": ["Keep this under 5000 characters."]}
    assert body["error"].startswith("Saved at ")
    assert "except 1 answer" in body["error"]
    assert (body["answered"], body["total"]) == (2, 3)
    _, answers = stored()
    assert sorted((a[1], a[2], a[4], a[5]) for a in answers) == sorted(
        [(rate, 4, None, None), (question, None, "Too few shelters.", None)]
    )


def test_concurrent_first_saves_end_in_one_response(app, expert):
    # Two tabs of one expert save their first answers at the same moment.
    clients = [app.test_client(), app.test_client()]
    for client in clients:
        enter(client, expert["token"])
        client.get("/q/")
    round_id, rate, question = expert["round"].id, expert["rate"].id, expert["open"].id
    requests = [
        (clients[0], csrf_token(clients[0]), {f"i{rate}": "4"}),
        (clients[1], csrf_token(clients[1]), {f"i{question}_text": "Shelters."}),
    ]
    db.session.commit()  # the threads must find the database unlocked
    start = threading.Barrier(len(requests))
    statuses: list[int] = []

    def save(client: FlaskClient, token: str, fields: dict[str, str]) -> None:
        with app.app_context():
            start.wait(timeout=5)
            response = client.post(
                "/q/autosave",
                json={"round_id": round_id, "fields": fields},
                headers={"X-CSRFToken": token},
            )
            statuses.append(response.status_code)

    threads = [threading.Thread(target=save, args=request) for request in requests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert statuses == [200, 200]
    responses, answers = stored()
    assert len(responses) == 1
    assert sorted((a[1], a[2], a[4]) for a in answers) == sorted(
        [(rate, 4, None), (question, None, "Shelters.")]
    )


def test_a_submit_of_the_stored_value_still_beats_an_older_autosave(app, expert):
    """The expert changes 3 to 4 (autosave on its way), back to 3, and submits: 3 stays."""
    member, round_, rate = expert["member"], expert["round"], expert["rate"].id
    began = utcnow()
    services.save_answers(member, round_, {rate: AnswerInput(rating=Rating(3))}, began)
    db.session.commit()
    services.save_answers(
        member,
        round_,
        {rate: AnswerInput(rating=Rating(3))},
        began + timedelta(seconds=6),
        submit=True,
    )
    db.session.commit()
    services.save_answers(  # the slow autosave that began before the submit
        member, round_, {rate: AnswerInput(rating=Rating(4))}, began + timedelta(seconds=5)
    )
    db.session.commit()
    assert [a.value for a in the_response(member, round_).answers] == [3]


def test_an_autosave_that_lands_after_a_submit_does_not_undo_it(app, expert):
    member, round_, rate = expert["member"], expert["round"], expert["rate"].id
    began = utcnow()
    services.save_answers(
        member, round_, {rate: AnswerInput(rating=Rating(3), rationale="First.")}, began
    )
    db.session.commit()
    # An autosave with older text begins; a submit with newer answers begins after it and
    # commits first; then the slow autosave is saved.
    autosave_began = began + timedelta(seconds=5)
    submit_began = began + timedelta(seconds=6)
    services.save_answers(
        member,
        round_,
        {rate: AnswerInput(rating=Rating(5), rationale="Newer.")},
        submit_began,
        submit=True,
    )
    db.session.commit()
    services.save_answers(
        member, round_, {rate: AnswerInput(rating=Rating(4), rationale="Older.")}, autosave_began
    )
    db.session.commit()

    saved = the_response(member, round_)
    assert saved.state is ResponseState.SUBMITTED
    assert [(a.value, a.rationale) for a in saved.answers] == [(5, "Newer.")]

    # A save that begins later still changes the answer.
    services.save_answers(
        member, round_, {rate: AnswerInput(rationale="Later.")}, began + timedelta(seconds=7)
    )
    db.session.commit()
    assert [(a.value, a.rationale) for a in the_response(member, round_).answers] == [(5, "Later.")]


# Feedback from the previous round -----------------------------------------------------------


@pytest.fixture
def second_round(app: Any) -> dict[str, Any]:
    """Round 1 closed with ratings and rationales, round 2 open carrying its statement on."""
    study = make_study(min_group_size=3)
    member = make_member(study, email="me@example.org", language="en")
    others = [make_member(study, email=f"other{n}@example.org") for n in range(5)]
    first = make_round(study, items=[likert("Shelters are full.")], state=RoundState.CLOSED)
    statement = first.items[0]
    own = make_response(member, first, {statement: 3})
    own.answers[0].rationale = "MY OWN REASON"
    for other, value in zip(others, (2, 4, 4, 5, None), strict=True):
        response = make_response(other, first, {statement: value})
        response.answers[0].rationale = f"Reason of someone who chose {value}"
    # A draft that was never submitted does not count.
    late = make_member(study, email="late@example.org")
    make_response(late, first, {statement: 1}, submitted=False)
    second = make_round(
        study,
        items=[likert("Shelters are full.", previous_item_id=statement.id), likert("New one")],
        state=RoundState.OPEN,
    )
    tokens = [issue_link(m) for m in [*others, late]]
    return {"member": member, "round": second, "token": issue_link(member), "others": tokens}


def test_feedback_shows_last_rounds_distribution_median_iqr_and_own_answer(client, second_round):
    enter(client, second_round["token"])
    html = client.get("/q/").get_data(as_text=True)
    assert "Panel result in round 1" in html
    assert "Ratings of the panel (5 experts)" in html
    rows = re.findall(
        r'<th scope="row">(\d) ([^<]+?)(?: <strong>\(your answer\)</strong>)?</th>\s*'
        r'<td class="num">(\d+)</td>.*?</span> ([\d%]+)</td>',
        html,
        flags=re.S,
    )
    assert [(v, c, p) for v, _, c, p in rows] == [
        ("1", "0", "0%"),
        ("2", "1", "20%"),
        ("3", "1", "20%"),
        ("4", "2", "40%"),
        ("5", "1", "20%"),
    ]
    assert "<dt>Median</dt>\n    <dd>4 (Agree)</dd>" in html
    assert "from 3 to 4 (interquartile range 1)" in html
    assert "<dd>1 expert</dd>" in html  # the "no opinion", not counted as a rating
    assert "Your answer in round 1: 3 (Neutral)." in html
    assert "3 Neutral <strong>(your answer)</strong>" in html
    assert html.count('class="feedback"') == 1


def test_feedback_shows_others_rationales_without_authors(client, second_round):
    enter(client, second_round["token"])
    html = client.get("/q/").get_data(as_text=True)
    assert "Explanations of other experts (5)" in html
    for value in (2, 4, 5, None):
        assert f"Reason of someone who chose {value}" in html
    assert "MY OWN REASON" not in html
    for secret in ("@example.org", second_round["token"], *second_round["others"]):
        assert secret not in html
    hashes = db.session.scalars(select(InvitationToken.token_hash)).all()
    assert not any(token_hash in html for token_hash in hashes)


def small_panel(others: tuple[int | None, ...]) -> str:
    """Round 1 closed with the member's 3 and the others' answers; round 2 open."""
    study = make_study(min_group_size=3)
    member = make_member(study, language="en")
    first = make_round(study, items=[likert("Shelters are full.")], state=RoundState.CLOSED)
    statement = first.items[0]
    own = make_response(member, first, {statement: 3})
    own.answers[0].rationale = "MY OWN REASON"
    for value in others:
        response = make_response(make_member(study), first, {statement: value})
        response.answers[0].rationale = f"Reason of someone who chose {value}"
    db.session.commit()
    make_round(
        study,
        items=[likert("Shelters are full.", previous_item_id=statement.id)],
        state=RoundState.OPEN,
    )
    return issue_link(member)


@pytest.mark.parametrize("others", [(), (5,), (None,)])
def test_feedback_of_too_small_a_panel_shows_only_the_own_answer(client, app, others):
    token = small_panel(others)
    enter(client, token)
    html = client.get("/q/").get_data(as_text=True)
    assert "Panel result in round 1" in html
    assert "Your answer in round 1: 3 (Neutral)." in html
    assert "Too few experts answered this statement in round 1 to show the panel" in html
    for shown in ("Ratings of the panel", "Median", "No opinion</dt>", "Explanations of other"):
        assert shown not in html
    assert "Reason of someone" not in html
    assert "MY OWN REASON" not in html


def test_no_opinion_does_not_count_towards_the_smallest_panel_shown(client, app):
    # Two ratings and a "no opinion": a reader could still unpick the one other rating.
    enter(client, small_panel((5, None)))
    assert "Too few experts answered" in client.get("/q/").get_data(as_text=True)


def test_a_panel_of_enough_ratings_is_shown(client, app):
    enter(client, small_panel((5, 4)))
    html = client.get("/q/").get_data(as_text=True)
    assert "Too few experts answered" not in html
    assert "Ratings of the panel (3 experts)" in html


def grouped_panel(
    groups: dict[str, tuple[int | None, ...]], *, by_group: bool = True, own: str | None = None
) -> str:
    """Round 1 closed with each group's answers (smallest group shown 5); round 2 open.

    The member is the first expert of the group `own` (or of the first group).
    """
    study = make_study(min_group_size=5, feedback_by_group=by_group)
    first = make_round(study, items=[likert("Shelters are full.")], state=RoundState.CLOSED)
    statement = first.items[0]
    member = None
    for name, values in groups.items():
        group = make_group(study, name)
        for value in values:
            expert_ = make_member(study, group=group, language="en")
            response = make_response(expert_, first, {statement: value})
            response.answers[0].rationale = f"Reason for {value}"
            if member is None and name == (own or next(iter(groups))):
                member = expert_
    db.session.commit()
    make_round(
        study,
        items=[likert("Shelters are full.", previous_item_id=statement.id)],
        state=RoundState.OPEN,
    )
    assert member is not None
    return issue_link(member)


GROUP_ROW = (
    r'<th scope="row"><span lang="nl">{name}</span>(?P<own> <strong>\(your group\)</strong>)?</th>'
    r'\s*<td class="num">(?P<n>\d+)</td>\s*<td class="num">(?P<median>[^<]+)</td>'
    r"\s*<td>(?P<range>[^<]+)</td>"
)


def group_row(html: str, name: str) -> dict[str, str | None] | None:
    match = re.search(GROUP_ROW.format(name=name), html)
    return match.groupdict() if match else None


def test_feedback_by_group_shows_each_groups_median(client, app):
    enter(client, grouped_panel({"gemeente": (4, 4, 5, 4, 3), "politie": (1, 2, 2, None, 2, 3)}))
    html = client.get("/q/").get_data(as_text=True)
    assert "Ratings per panel group" in html
    assert group_row(html, "gemeente") == {
        "own": " <strong>(your group)</strong>",
        "n": "5",
        "median": "4",
        "range": "from 4 to 4 (interquartile range 0)",
    }
    assert group_row(html, "politie") == {
        "own": None,
        "n": "5",  # ratings; the "no opinion" counts towards the group's size only
        "median": "2",
        "range": "from 2 to 2 (interquartile range 0)",
    }
    # Rationales stay one list without authors or groups.
    assert "Explanations of other experts (10)" in html
    assert html.count("<details") == 1


def test_feedback_by_group_shows_no_group_a_reader_could_work_out(client, app):
    # With one group of 5 named, the other 2 would be the panel minus that group.
    enter(client, grouped_panel({"gemeente": (4, 4, 5, 4, 3), "politie": (1, 2)}))
    html = client.get("/q/").get_data(as_text=True)
    assert "Ratings of the panel (7 experts)" in html
    assert "Ratings per panel group" not in html
    assert "gemeente" not in html
    assert "politie" not in html


def test_feedback_by_group_counts_ratings_not_no_opinion(client, app):
    # Five in "politie", but one said "no opinion": four ratings are too few to name, and
    # naming both other groups would give them away, so only one of those is named.
    panel = {"gemeente": (4,) * 5, "politie": (2, 2, 3, 1, None), "zorg": (5,) * 5}
    enter(client, grouped_panel(panel, own="zorg"))
    html = client.get("/q/").get_data(as_text=True)
    assert group_row(html, "zorg") is not None
    assert group_row(html, "gemeente") is None
    assert "politie" not in html


def test_feedback_by_group_names_the_own_group_only_if_it_is_shown(client, app):
    panel = {"gemeente": (4,) * 5, "politie": (2,) * 5, "rechtspraak": (3, 3), "zorg": (1,) * 3}
    enter(client, grouped_panel(panel, own="rechtspraak"))
    html = client.get("/q/").get_data(as_text=True)
    assert group_row(html, "gemeente")["own"] is None  # type: ignore[index]
    assert group_row(html, "politie")["own"] is None  # type: ignore[index]
    assert "your group" not in html
    assert "rechtspraak" not in html
    assert "zorg" not in html


def test_feedback_is_not_split_by_group_when_the_study_does_not_ask(client, app):
    enter(client, grouped_panel({"gemeente": (4,) * 5, "politie": (2,) * 5}, by_group=False))
    html = client.get("/q/").get_data(as_text=True)
    assert "Ratings of the panel (10 experts)" in html
    assert "Ratings per panel group" not in html
    assert "gemeente" not in html


@pytest.mark.parametrize("by_group", [False, True])
def test_feedback_page_query_count_does_not_grow_with_items(app, client, by_group):
    counts = []
    for size in (5, 50):
        study = make_study(feedback_by_group=by_group)
        section = make_section(study, "1.1", "Trends")
        group = make_group(study, "gemeente") if by_group else None
        member = make_member(study, language="en", group=group)
        panel = [member, *(make_member(study, group=group) for _ in range(4))]
        first = make_round(
            study,
            items=[likert(f"Statement {n}", section_id=section.id) for n in range(size)],
            state=RoundState.CLOSED,
        )
        for position, expert_ in enumerate(panel):
            response = make_response(
                expert_, first, {item: 1 + (position + n) % 5 for n, item in enumerate(first.items)}
            )
            for answer in response.answers:
                answer.rationale = f"Because {answer.item_id}"
        second = make_round(
            study,
            items=[
                likert(f"Statement {n}", previous_item_id=item.id, section_id=section.id)
                for n, item in enumerate(first.items)
            ]
            + ["What else?"],
            state=RoundState.OPEN,
        )
        make_response(member, second, dict.fromkeys(second.items[::2], 3), submitted=False)
        enter(client, issue_link(member))
        db.session.remove()  # nothing cached from building the data

        statements, page = queries_of(lambda: client.get("/q/"))
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert html.count('class="feedback"') == size
        assert html.count("Ratings per panel group") == (size if by_group else 0)
        counts.append(len(statements))
    assert counts[0] == counts[1], counts
    assert counts[1] < 15, counts


def test_total_answers_count_matches_the_database(client, expert):
    # The progress shown after an autosave agrees with what a fresh page load reports.
    enter(client, expert["token"])
    client.get("/q/")
    body = autosave(client, expert["round"], {f"i{expert['plain'].id}": "none"}).get_json()
    assert body["answered"] == 1
    count = db.session.scalar(select(func.count(Answer.id)))
    assert count == 1


def test_seven_point_scale_takes_seven_and_refuses_eight(client, app):
    study = make_study()
    member = make_member(study, language="en")
    round_ = make_round(study, items=[likert("Seven", scale_points=7)], state=RoundState.OPEN)
    item = round_.items[0]
    enter(client, issue_link(member))
    html = client.get("/q/").get_data(as_text=True)
    assert "Somewhat agree" in html
    assert f'id="i{item.id}-7"' in html
    assert autosave(client, round_, {f"i{item.id}": "8"}).status_code == 400
    assert stored() == ([], [])
    assert autosave(client, round_, {f"i{item.id}": "7"}).status_code == 200
    assert the_response(member, round_).answers[0].value == 7


def test_a_rationale_that_fits_the_box_is_saved_whatever_its_line_breaks(client, expert):
    # 2,500 lines of one letter: 4,999 characters as the box counts them, but 7,498 as a
    # browser posts them (CR LF); the limit is 5,000.
    rationale = "\r\n".join(["x"] * 2_500)
    enter(client, expert["token"])
    client.get("/q/")
    reply = post_form(
        client,
        expert["round"],
        full_answers(expert, **{f"i{expert['rate'].id}_rationale": rationale}),
    )
    assert reply.status_code == 302, reply.get_data(as_text=True)[-2000:]
    answer = next(
        a
        for a in the_response(expert["member"], expert["round"]).answers
        if a.item_id == expert["rate"].id
    )
    assert answer.rationale == "\n".join(["x"] * 2_500)
