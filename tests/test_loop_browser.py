"""The whole Delphi loop in a real browser, with the invitation going through a real SMTP server.

A coordinator logs in, creates a study with a section, a panel and a round, and opens it;
the worker delivers the invitation over SMTP; the expert follows the emailed link, answers,
submits, comes back through the same link and finds the answers kept.
"""

from __future__ import annotations

import re

import pytest
from flask import Flask
from playwright.sync_api import Browser, expect
from sqlalchemy import select

from surveyapp.extensions import db
from surveyapp.mail.delivery import deliver_outbox
from surveyapp.models import Answer, Response, ResponseState, RoundState, Study
from tests.builders import PASSWORD, make_coordinator
from tests.conftest import release_database
from tests.smtp_support import smtp_server

pytestmark = pytest.mark.browser

EXPERT = "expert@example.org"


def test_coordinator_opens_a_round_and_the_expert_answers_through_the_emailed_link(
    app: Flask, live_server: str, browser: Browser
) -> None:
    coordinator = make_coordinator()
    email = coordinator.email
    release_database()
    coordinator_tab = browser.new_context(locale="en-GB").new_page()
    coordinator_tab.set_default_timeout(10_000)
    go = coordinator_tab

    # Coordinator: log in, create a study with a chapter and a section.
    go.goto(f"{live_server}/login?lang=en")
    go.get_by_label("Email address").fill(email)
    go.get_by_label("Password").fill(PASSWORD)
    go.get_by_label("Password").press("Enter")
    expect(go.locator("h1")).to_have_text("Your studies")
    expect(go.get_by_text("No studies yet")).to_be_visible()
    go.get_by_role("link", name="New study").click()
    go.get_by_label("Title", exact=True).fill("Trends en knelpunten")
    go.get_by_role("button", name="Create study").click()
    expect(go.locator("h1")).to_have_text("Trends en knelpunten")
    go.get_by_label("Chapters and sections, one per line").fill(
        "1 Trends\n1.3 Beleid vs. uitvoering"
    )
    go.get_by_role("button", name="Add themes").click()
    expect(go.get_by_text("1.3 Beleid vs. uitvoering", exact=True)).to_be_visible()

    # The panel: one expert, in a group, mailed in English.
    go.get_by_role("link", name=re.compile("^Panel")).click()
    go.get_by_label("Email addresses").fill(EXPERT)
    go.get_by_label("Panel group").fill("zorg")
    go.get_by_label("Language of the emails").select_option("en")
    go.get_by_role("button", name="Add to panel").click()
    expect(go.get_by_text("1 member added")).to_be_visible()
    go.get_by_role("link", name="Trends en knelpunten").click()

    # A round with an open question and a statement; then open it.
    go.get_by_role("button", name="Add round 1").click()
    expect(go.locator("h1")).to_contain_text("Round 1")
    go.get_by_label("Question or statement").fill("Which trends do you see?")
    go.get_by_label("Section").select_option(label="1.3 Beleid vs. uitvoering")
    go.get_by_role("button", name="Add item").click()
    go.get_by_label("Statement to rate").check()
    go.get_by_label("Question or statement").fill("Municipalities lack capacity.")
    go.get_by_role("button", name="Add item").click()
    expect(go.locator("ol li")).to_have_count(2)
    go.get_by_role("button", name=re.compile("Open round and invite the panel")).click()
    expect(go.get_by_text("1 invitation is queued")).to_be_visible()

    # The worker delivers the invitation to a real SMTP server.
    with smtp_server() as smtp:
        app.config.update(MAIL_BACKEND="smtp", SMTP_HOST="127.0.0.1", SMTP_PORT=smtp.port)
        app.config["BASE_URL"] = live_server
        report = deliver_outbox(app.config)
        assert report.sent == 1
        [mail] = smtp.inbox.to(EXPERT)
    # The link was issued when the round opened, so it carries the BASE_URL of that moment.
    path = re.search(r"https?://\S+?(/q/[\w-]+)", mail.text).group(1)

    # Expert: a fresh browser, no password; the link opens the round.
    expert_tab = browser.new_context(locale="en-GB").new_page()
    expert_tab.set_default_timeout(10_000)
    expert_tab.goto(live_server + path)
    expect(expert_tab.get_by_text("Which trends do you see?")).to_be_visible()
    expert_tab.get_by_role("textbox").first.fill("Meer criminele uitbuiting van jongeren.")
    expert_tab.get_by_role("radio", name="4 Agree", exact=True).check()
    expert_tab.get_by_role("button", name="Submit").click()
    expect(expert_tab.get_by_text("You submitted your answers")).to_be_visible()

    # Later, back through the emailed link: the answers are there.
    expert_tab.context.clear_cookies()
    expert_tab.goto(live_server + path)
    expect(expert_tab.get_by_role("textbox").first).to_have_value(
        "Meer criminele uitbuiting van jongeren."
    )
    expect(expert_tab.get_by_role("radio", name="4 Agree", exact=True)).to_be_checked()

    study = db.session.scalar(select(Study))
    assert study.rounds[0].state is RoundState.OPEN
    response = db.session.scalar(select(Response))
    assert response.state is ResponseState.SUBMITTED
    answers = {a.item.text: (a.value, a.text) for a in db.session.scalars(select(Answer))}
    assert answers == {
        "Which trends do you see?": (None, "Meer criminele uitbuiting van jongeren."),
        "Municipalities lack capacity.": (4, None),
    }
    release_database()
