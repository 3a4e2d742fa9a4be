"""The coordinator's pages in a real browser: axe-core (WCAG 2.1 AA), reflow, keyboard.

Every page a coordinator sees is checked in English and in Dutch (the Dutch wording is
longer), on the demo study so that tables, quotes and results are realistically full.
Each page is checked with axe at desktop width and again at 320 CSS pixels, where nothing
may need sideways scrolling except a wide data table inside its own scrolling box
(WCAG 1.4.10). On every page, Tab reaches each visible control, with a visible focus.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from flask import Flask
from PIL import Image
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from surveyapp.demo.services import DEMO_EMAIL, DEMO_PASSWORD, load_demo
from surveyapp.extensions import db
from surveyapp.models import AnthologyBuild, BuildState, Coordinator, Item, Quote, utcnow
from surveyapp.worker import run_next_build
from tests.builders import (
    PASSWORD,
    likert,
    make_coordinator,
    make_member,
    make_round,
    make_section,
    make_study,
)
from tests.conftest import release_database

pytestmark = pytest.mark.browser

AXE = Axe()

# Controls Tab should reach; the visible ones are counted on each page.
TABBABLE = (
    "a[href], button, input:not([type=hidden]), select, textarea, summary,"
    " [tabindex]:not([tabindex='-1'])"
)


@dataclass
class Demo:
    study_id: int
    draft_study_id: int
    open_item_id: int


@pytest.fixture
def demo(app: Flask, live_server: str) -> Demo:
    """The demo study (two closed rounds, an open third), plus a fresh study with a draft round.

    The demo coordinator is made an admin, to see the accounts page.
    """
    loaded = load_demo(live_server, utcnow())
    db.session.commit()
    coordinator = db.session.scalar(select(Coordinator).where(Coordinator.email == DEMO_EMAIL))
    coordinator.is_admin = True
    draft = make_study(coordinator, title="Nieuwe verkenning onder gemeenten en zorgpartners")
    section = make_section(draft, "1.1", "Signalering in de wijk")
    make_member(draft, language="en")
    make_round(
        draft,
        items=[
            "Welke signalen van uitbuiting ziet u in uw werk?",
            likert("Gemeenten missen capaciteit.", section_id=section.id),
        ],
    )
    # The open question with the most quotes: its page shows the quote-order controls.
    counts: dict[int, int] = {}
    for quote in db.session.scalars(select(Quote)):
        counts[quote.answer.item_id] = counts.get(quote.answer.item_id, 0) + 1
    open_item_id = max(counts, key=lambda item_id: counts[item_id])
    assert db.session.get(Item, open_item_id).round.study_id == loaded.study.id
    result = Demo(loaded.study.id, draft.id, open_item_id)
    release_database()
    return result


def log_in(page: Page, base: str, lang: str, email: str, password: str) -> None:
    page.goto(f"{base}/login?lang={lang}")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(password)
    page.locator("input[name=password]").press("Enter")
    expect(page.locator(".flash-error")).to_have_count(0)
    expect(page).not_to_have_url(re.compile("/login"))


class Checker:
    """Runs every check on a page and gathers the failures, so one run reports them all."""

    def __init__(self, page: Page, lang: str) -> None:
        self.page = page
        self.lang = lang
        self.failures: list[str] = []

    def __call__(self, label: str) -> None:
        page = self.page
        page.wait_for_load_state("load")
        assert page.get_attribute("html", "lang") == self.lang, label
        self._axe(f"{label} (1280 px)")
        self._unique_ids(label)
        self._keyboard(label)
        page.set_viewport_size({"width": 320, "height": 800})
        try:
            self._reflow(label)
            self._axe(f"{label} (320 px)")
        finally:
            page.set_viewport_size({"width": 1280, "height": 800})

    def _axe(self, label: str) -> None:
        results = AXE.run(self.page)
        if results.violations_count:
            self.failures.append(f"--- {label}: {self.page.url}\n{results.generate_report()}")

    def _unique_ids(self, label: str) -> None:
        """Many forms on one page must not repeat an id (each form's CSRF field, say)."""
        twice = self.page.evaluate(
            """() => {
                const ids = [...document.querySelectorAll('[id]')].map(e => e.id);
                return [...new Set(ids.filter((id, i) => ids.indexOf(id) !== i))];
            }"""
        )
        if twice:
            self.failures.append(f"--- {label}: ids used more than once: {twice[:8]}")

    def _reflow(self, label: str) -> None:
        """At 320 px nothing sticks out, but a table inside a box that scrolls by itself."""
        wide = self.page.evaluate(
            """() => {
                const out = [];
                for (const e of document.querySelectorAll('body *')) {
                    if (e.closest('.table-scroll')) continue;
                    if (e.getBoundingClientRect().right > 321) {
                        out.push(e.tagName + '.' + e.className + ' ' + (e.id || ''));
                    }
                }
                const boxes = [...document.querySelectorAll('.table-scroll')]
                    .filter(b => b.getBoundingClientRect().right > 321)
                    .map(b => 'box ' + b.className);
                return out.concat(boxes, [document.documentElement.scrollWidth]);
            }"""
        )
        width = wide.pop()
        if width > 320 or wide:
            self.failures.append(f"--- {label}: sideways scrolling at 320 px ({width}): {wide[:8]}")

    def _keyboard(self, label: str) -> None:
        """Tab from the top reaches every visible control once, each with a visible focus."""
        page = self.page
        expected = page.evaluate(
            """sel => {
                const radios = new Set();  // Tab stops once in a group of radios
                return [...document.querySelectorAll(sel)]
                    .filter(e => !e.disabled && e.checkVisibility({visibilityProperty: true}))
                    .filter(e => e.type !== 'radio' || !radios.has(e.name) && radios.add(e.name))
                    .length;
            }""",
            TABBABLE,
        )
        # Start from the top of the document.
        page.evaluate(
            """() => { const a = document.createElement('span'); a.tabIndex = -1;
                document.body.prepend(a); a.focus(); a.remove(); }"""
        )
        seen: list[int] = []
        unmarked: list[str] = []
        for _ in range(3 * expected + 10):
            page.keyboard.press("Tab")
            info = page.evaluate(
                """() => {
                    const e = document.activeElement;
                    if (!e || e === document.body) return null;
                    const s = getComputedStyle(e);
                    const ring = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2;
                    const key = [...document.querySelectorAll('*')].indexOf(e);
                    const text = (e.textContent || e.name || '').trim().slice(0, 40);
                    return {key, ring, name: e.tagName + ' ' + text};
                }"""
            )
            if info is not None and seen and info["key"] == seen[-1]:
                continue  # the parts of one date-time control
            if info is None or info["key"] in seen:
                break
            seen.append(info["key"])
            if not info["ring"]:
                unmarked.append(info["name"])
        if len(seen) != expected:
            self.failures.append(
                f"--- {label}: Tab reached {len(seen)} of {expected} visible controls"
            )
        if unmarked:
            self.failures.append(f"--- {label}: focus not visible on {unmarked[:8]}")

    def assert_clean(self) -> None:
        assert not self.failures, "\n".join(self.failures)


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (120, 40), (11, 83, 148)).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_login_empty_list_new_study_and_error_pages_pass_axe(
    app: Flask, live_server: str, browser: Browser, lang: str
) -> None:
    coordinator = make_coordinator()
    email = coordinator.email
    release_database()
    page = browser.new_context(locale="en-GB").new_page()
    page.set_default_timeout(10_000)
    check = Checker(page, lang)
    base = live_server

    page.goto(f"{base}/login?lang={lang}")
    check("login")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill("not the password at all")
    page.locator("button[type=submit]").last.click()
    expect(page.locator(".flash-error, .error-summary, .error").first).to_be_visible()
    check("login with an error")

    # An expired form: the CSRF token no longer matches.
    page.goto(f"{base}/login")
    page.locator("input[name=csrf_token]").evaluate("e => e.value = 'expired'")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("button[type=submit]").last.click()
    expired = {"en": "This form has expired", "nl": "Dit formulier is verlopen"}
    expect(page.locator("h1")).to_have_text(expired[lang])
    check("expired form")

    log_in(page, base, lang, email, PASSWORD)
    expect(page.locator(".empty")).to_be_visible()
    check("studies list, empty")

    page.locator(".actions a.button").click()
    check("new study")
    page.locator("main form[novalidate] button[type=submit]").click()
    expect(page.locator(".error-summary")).to_be_visible()
    check("new study with errors")

    not_found = {"en": "Page not found", "nl": "Pagina niet gevonden"}
    page.goto(f"{base}/studies/9999")
    expect(page.locator("h1")).to_have_text(not_found[lang])
    check("404, logged in")
    page.goto(f"{base}/no-such-page")
    check("404")

    page.context.close()
    check.assert_clean()


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_every_study_page_passes_axe_on_the_demo_study(
    app: Flask, live_server: str, browser: Browser, demo: Demo, lang: str
) -> None:
    page = browser.new_context(locale="en-GB").new_page()
    page.set_default_timeout(10_000)
    check = Checker(page, lang)
    base = live_server
    study = f"{base}/studies/{demo.study_id}"
    draft = f"{base}/studies/{demo.draft_study_id}"
    log_in(page, base, lang, DEMO_EMAIL, DEMO_PASSWORD)

    expect(page.locator("table tbody tr")).to_have_count(2)
    check("studies list, full")
    page.goto(study)
    check("study page")
    page.goto(draft)
    check("study page, new study")

    page.goto(f"{study}/edit")
    check("details")
    page.locator("input[type=file]").set_input_files(
        {"name": "logo.png", "mimeType": "image/png", "buffer": png()}
    )
    page.locator("input[type=file]").locator("xpath=ancestor::form").locator("button").click()
    expect(page.locator("img")).to_be_visible()
    check("details with a logo")
    page.locator("input[name=title]").fill("")
    page.locator("input[name=title]").locator("xpath=ancestor::form").locator(
        "button[type=submit]"
    ).click()
    expect(page.locator(".error-summary")).to_be_visible()
    check("details with errors")

    page.goto(f"{study}/panel")
    check("panel")
    page.locator("main form[novalidate] button[type=submit]").click()
    expect(page.locator(".error-summary")).to_be_visible()
    check("panel with errors")

    page.goto(f"{draft}/rules")
    check("rules before fixing")
    page.locator("input[name=consensus_rule], textarea[name=consensus_rule]").fill("nonsense>=")
    page.locator("main form[novalidate] button[type=submit]").click()
    expect(page.locator(".error-summary")).to_be_visible()
    check("rules with errors")
    page.goto(f"{study}/rules")
    check("rules after fixing")

    page.goto(f"{draft}/rounds/1")
    check("round, draft")
    page.locator("main form[novalidate] button[type=submit]").click()
    expect(page.locator(".error-summary")).to_be_visible()
    check("round, draft, item with errors")
    page.goto(f"{study}/rounds/3")
    check("round, open")
    page.goto(f"{study}/rounds/1")
    check("round, closed")

    page.goto(f"{study}/coding/")
    check("coding index")
    page.goto(f"{study}/coding/items/{demo.open_item_id}")
    expect(page.locator(".quote-order button").first).to_be_visible()
    check("coding item")
    page.locator(".quote-order button[value=down]").first.click()
    expect(page.locator(".quote-order").first).to_be_visible()
    check("coding item, quotes in own order")
    page.locator("#statement ~ form button[type=submit]").last.click()
    expect(page.locator(".error-summary")).to_be_visible()
    check("coding item, statement with errors")

    page.goto(f"{study}/results/")
    check("results")
    page.locator("details").evaluate_all("all => all.forEach(d => d.open = true)")
    check("results, details open")

    page.goto(f"{study}/anthology/")
    check("anthology, no build")
    page.locator("main form button[type=submit]").click()
    expect(page.locator("progress")).to_be_visible()
    check("anthology, queued")
    done = run_next_build(Path(app.config["REPORTS_DIR"]))
    assert done is not None
    assert done.state is BuildState.DONE, done.error
    release_database()
    page.goto(f"{study}/anthology/")
    expect(page.locator("#build-status a")).to_have_count(3)
    check("anthology, done")
    running = AnthologyBuild(
        study_id=demo.study_id,
        state=BuildState.RUNNING,
        progress_done=3,
        progress_total=10,
        started_at=utcnow(),
    )
    db.session.add(running)
    db.session.commit()
    running_id = running.id
    release_database()
    page.goto(f"{study}/anthology/")
    expect(page.locator("progress")).to_be_visible()
    check("anthology, running")
    failed = db.session.get(AnthologyBuild, running_id)
    failed.state = BuildState.FAILED
    failed.error = "RuntimeError: no fonts"
    db.session.commit()
    release_database()
    page.goto(f"{study}/anthology/")
    expect(page.locator("#build-status [role=alert]")).to_be_visible()
    check("anthology, failed")

    page.goto(f"{base}/accounts")
    check("accounts")
    page.locator("main form[novalidate] button[type=submit]").click()
    expect(page.locator(".error-summary")).to_be_visible()
    check("accounts with errors")

    page.goto(f"{study}/rounds/99")
    check("404 inside a study")

    page.context.close()
    check.assert_clean()


def tab_until(page: Page, selector: str, limit: int = 80) -> None:
    """Press Tab until the focus is on the first element that matches the selector."""
    target = page.locator(selector).first
    for _ in range(limit):
        page.keyboard.press("Tab")
        if target.evaluate("e => e === document.activeElement"):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_round_and_results_pages_are_operated_by_keyboard(
    app: Flask, live_server: str, page: Page, demo: Demo
) -> None:
    log_in(page, live_server, "en", DEMO_EMAIL, DEMO_PASSWORD)

    # The round page's main action: skip to the content, Tab to it, press Enter.
    page.goto(f"{live_server}/studies/{demo.draft_study_id}/rounds/1")
    page.keyboard.press("Tab")
    expect(page.locator(".skip-link")).to_be_focused()
    page.keyboard.press("Enter")
    opener = page.get_by_role("button", name=re.compile(r"^Open round and invite the panel \(1\)"))
    tab_until(page, "form[action$='/open'] button")
    expect(opener).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("1 invitation is queued")
    expect(page.locator("h1 .badge")).to_have_class(re.compile(r"\bopen\b"))

    # Results on a phone: a wide table scrolls by the arrow keys; Enter opens a <details>.
    page.set_viewport_size({"width": 320, "height": 800})
    page.goto(f"{live_server}/studies/{demo.study_id}/results/")
    box = page.locator("section .table-scroll").first
    assert box.evaluate("e => e.scrollWidth > e.clientWidth"), "the table fits: nothing to test"
    tab_until(page, "section .table-scroll")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    expect(box).not_to_have_js_property("scrollLeft", 0)
    tab_until(page, "section summary")
    page.keyboard.press("Enter")
    expect(page.locator("section details").first).to_have_attribute("open", "")
    expect(page.locator("section details .table-scroll").first).to_be_visible()
