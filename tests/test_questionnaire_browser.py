"""The expert's questionnaire in a real browser: keyboard, autosave, submit, accessibility."""

from __future__ import annotations

import re
import threading

import pytest
from axe_playwright_python.sync_playwright import Axe
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select

from surveyapp.extensions import db
from surveyapp.models import Response, ResponseState, RoundState
from tests.builders import (
    likert,
    make_group,
    make_member,
    make_response,
    make_round,
    make_section,
    make_study,
)
from tests.conftest import release_database
from tests.test_questionnaire import issue_link

pytestmark = pytest.mark.browser


def tab_to(page: Page, name: str, limit: int = 80) -> None:
    """Press Tab until the focus is on a control with the given name."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement && document.activeElement.name") == name:
            return
    raise AssertionError(f"Tab never reached {name}")


def no_violations(page: Page) -> None:
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()


def test_expert_answers_by_keyboard_autosaves_submits_and_finds_answers_kept(
    live_server: str, page: Page
) -> None:
    study = make_study(title="Trends en knelpunten")
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
    rate, plain, question = (item.id for item in round_.items)
    member_id, round_id = member.id, round_.id
    token = issue_link(member)
    release_database()

    page.goto(f"{live_server}/q/{token}")
    assert page.url == f"{live_server}/q/"
    expect(page.locator("h1")).to_have_text("Round 1")

    # Skip link, then through the page to the first scale; arrows choose a point.
    page.keyboard.press("Tab")
    expect(page.locator(".skip-link")).to_be_focused()
    page.keyboard.press("Enter")
    tab_to(page, f"i{rate}")
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    expect(page.locator(f"#i{rate}-4")).to_be_checked()
    page.keyboard.press("Tab")
    expect(page.locator(f"#i{rate}_rationale")).to_be_focused()
    page.keyboard.type("Seen in our cases.")
    page.keyboard.press("Tab")
    # From the first point, ArrowLeft wraps round to the last choice: "No opinion".
    page.keyboard.press("ArrowLeft")
    expect(page.locator(f"#i{plain}-none")).to_be_checked()
    tab_to(page, f"i{question}_text")
    page.keyboard.type("Too few shelters.")
    page.keyboard.press("Tab")

    status = page.locator("#save-status")
    expect(status).to_have_text(re.compile(r"^Saved at \d\d:\d\d$"))
    expect(page.locator("#progress-text")).to_have_text("Answered 3 of 3")
    saved = db.session.scalars(select(Response).where(Response.member_id == member_id)).one()
    assert saved.state is ResponseState.DRAFT
    assert sorted((a.item_id, a.value, a.no_opinion) for a in saved.answers) == [
        (rate, 4, False),
        (plain, None, True),
        (question, None, False),
    ]
    release_database()

    expect(page.get_by_role("button", name="Save draft")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Submit")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status").first).to_contain_text("your answers were submitted")

    page.reload()
    expect(page.locator(f"#i{rate}-4")).to_be_checked()
    expect(page.locator(f"#i{plain}-none")).to_be_checked()
    expect(page.locator(f"#i{rate}_rationale")).to_have_value("Seen in our cases.")
    expect(page.locator(f"#i{question}_text")).to_have_value("Too few shelters.")
    expect(page.get_by_text("You submitted your answers on")).to_be_visible()
    saved = db.session.scalars(
        select(Response).where(Response.member_id == member_id, Response.round_id == round_id)
    ).one()
    assert saved.state is ResponseState.SUBMITTED
    release_database()


def test_questionnaire_pages_have_no_accessibility_violations(live_server: str, page: Page) -> None:
    study = make_study(title="Trends en knelpunten", min_group_size=3, feedback_by_group=True)
    section = make_section(study, "1.3", "Beleid vs. uitvoering")
    gemeente, politie = make_group(study, "gemeente"), make_group(study, "politie")
    member = make_member(study, language="nl", group=gemeente)
    # Three ratings in each group, and one "no opinion" in gemeente.
    others = [make_member(study, group=politie if 2 <= n < 5 else gemeente) for n in range(6)]
    first = make_round(
        study,
        items=[likert("Beleid en uitvoering lopen uiteen.", section_id=section.id)],
        state=RoundState.CLOSED,
    )
    statement = first.items[0]
    make_response(member, first, {statement: 3})
    for other, value in zip(others, (2, 4, 4, 5, 3, None), strict=True):
        response = make_response(other, first, {statement: value})
        response.answers[0].rationale = f"Toelichting bij {value}"
    db.session.commit()
    make_round(
        study,
        items=[
            likert(
                "Beleid en uitvoering lopen uiteen.",
                previous_item_id=statement.id,
                section_id=section.id,
            ),
            likert("Gemeenten missen capaciteit.", scale_points=7, section_id=section.id),
            "Welke knelpunten ziet u?",
        ],
        state=RoundState.OPEN,
    )
    token = issue_link(member)
    release_database()

    page.goto(f"{live_server}/q/{token}")
    expect(page.locator(".feedback")).to_have_count(1)
    expect(page.locator(".feedback table.groups tbody tr")).to_have_count(2)
    assert page.get_attribute("html", "lang") == "nl"
    page.locator(".feedback summary").click()
    no_violations(page)

    # Reflow (WCAG 1.4.10): at 320 CSS pixels wide nothing needs sideways scrolling.
    page.set_viewport_size({"width": 320, "height": 800})
    wide = page.evaluate(
        """[...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > 321)
            .map(e => e.tagName + '.' + e.className)
            .slice(0, 8)"""
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= 320, wide
    page.set_viewport_size({"width": 1280, "height": 800})

    # The same page with errors: a submit while statements are still unrated.
    page.locator("button[value=submit]").click()
    expect(page.locator(".error-summary")).to_be_visible()
    no_violations(page)

    page.goto(f"{live_server}/q/no-such-link?lang=en")
    expect(page.locator("h1")).to_have_text("This link does not open a questionnaire")
    no_violations(page)


def open_round_of_two(live_server: str, page: Page) -> tuple[int, int, int]:
    """Open a round of a statement (with rationale) and an open question; return their ids."""
    study = make_study()
    member = make_member(study, language="en")
    round_ = make_round(
        study,
        items=[likert("Exploitation moves online."), "Which bottlenecks do you see?"],
        state=RoundState.OPEN,
    )
    rate, question = (item.id for item in round_.items)
    member_id = member.id
    token = issue_link(member)
    release_database()
    page.goto(f"{live_server}/q/{token}")
    return member_id, rate, question


def stored_answers(member_id: int) -> list[tuple[int, int | None, str | None, str | None]]:
    response = db.session.scalars(select(Response).where(Response.member_id == member_id)).one()
    rows = sorted((a.item_id, a.value, a.text, a.rationale) for a in response.answers)
    release_database()
    return rows


def test_autosave_keeps_the_valid_field_when_another_is_refused(
    live_server: str, page: Page
) -> None:
    member_id, rate, question = open_round_of_two(live_server, page)
    rationale = page.locator(f"#i{rate}_rationale")
    # Pasted past the limit (a browser need not enforce maxlength on every path).
    rationale.evaluate("element => element.removeAttribute('maxlength')")
    rationale.fill("x" * 5_001)
    page.locator(f"#i{question}_text").fill("Too few shelters.")
    page.locator(f"#i{question}_text").blur()

    status = page.locator("#save-status")
    expect(status).to_contain_text("except 1 answer")
    error = page.locator(f"#i{rate}_rationale-error")
    expect(error).to_have_text("Keep this under 5000 characters.")
    expect(rationale).to_have_attribute("aria-invalid", "true")
    expect(rationale).to_have_attribute("aria-describedby", f"i{rate}_rationale-error")
    assert stored_answers(member_id) == [(question, None, "Too few shelters.", None)]

    # The refused field goes again with the next save; corrected, it is saved too.
    rationale.fill("Seen in our cases.")
    rationale.blur()
    expect(status).to_have_text(re.compile(r"^Saved at \d\d:\d\d$"))
    expect(error).to_have_count(0)
    expect(rationale).not_to_have_attribute("aria-invalid", "true")
    assert stored_answers(member_id) == [
        (rate, None, None, "Seen in our cases."),
        (question, None, "Too few shelters.", None),
    ]

    page.reload()
    expect(page.locator(f"#i{question}_text")).to_have_value("Too few shelters.")
    expect(rationale).to_have_value("Seen in our cases.")


def test_submit_waits_for_an_autosave_on_its_way(app: Flask, live_server: str, page: Page) -> None:
    member_id, rate, question = open_round_of_two(live_server, page)
    # Hold the first autosave at the server until the test lets it go.
    held, release, seen = threading.Event(), threading.Event(), []
    inner = app.wsgi_app

    def slow_first_autosave(environ, start_response):  # type: ignore[no-untyped-def]
        path = environ["PATH_INFO"]
        seen.append((environ["REQUEST_METHOD"], path))
        if path == "/q/autosave" and not held.is_set():
            held.set()
            release.wait(timeout=10)
        return inner(environ, start_response)

    app.wsgi_app = slow_first_autosave  # type: ignore[method-assign]
    page.locator(f"#i{rate}-2").check()
    rationale = page.locator(f"#i{rate}_rationale")
    rationale.fill("Older.")
    page.locator(f"#i{question}_text").fill("Too few shelters.")
    rationale.blur()
    assert held.wait(timeout=10)

    page.locator(f"#i{rate}-5").check()
    rationale.fill("Newer.")
    page.get_by_role("button", name="Submit").click()
    page.wait_for_timeout(300)
    assert ("POST", "/q/") not in seen

    release.set()
    expect(page.get_by_role("status").first).to_contain_text("your answers were submitted")
    response = db.session.scalars(select(Response).where(Response.member_id == member_id)).one()
    assert response.state is ResponseState.SUBMITTED
    release_database()
    assert stored_answers(member_id) == [
        (rate, 5, None, "Newer."),
        (question, None, "Too few shelters.", None),
    ]
