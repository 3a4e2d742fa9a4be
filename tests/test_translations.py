"""The Dutch catalog: complete, compiled, placeholders intact, and actually used."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po
from jinja2 import Environment, nodes

from surveyapp.mail.services import queue_round_invitations
from surveyapp.models import RoundState
from surveyapp.studies.views import STATE_LABELS
from tests.builders import (
    likert,
    login,
    make_coordinator,
    make_member,
    make_response,
    make_round,
    make_study,
)
from tests.test_questionnaire import enter, issue_link

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "surveyapp" / "translations"
PO = TRANSLATIONS / "nl" / "LC_MESSAGES" / "messages.po"
MO = PO.with_suffix(".mo")
TEMPLATES = ROOT / "surveyapp" / "templates"
# The extraction of docs/translations.md (pybabel extract ... -o POT .), run from the root.
EXTRACT = ("extract", "-F", "babel.cfg", "-k", "_l", "-k", "lazy_gettext")
GETTEXT_NAMES = {"_", "gettext", "ngettext", "_l", "lazy_gettext", "lazy_ngettext"}

# A %-placeholder (%(name)s, %d, %%), a bare % (fatal in a template string: Jinja formats
# every translation), or a {{ }} / {name} placeholder.
PLACEHOLDER = re.compile(
    r"%(?:\([^)]*\))?[#0 +-]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa%]|%|\{\{.*?\}\}|\{[^{}]*\}"
)


def read_catalog(path: Path) -> Catalog:
    with path.open("rb") as f:
        return read_po(f)


def messages(catalog: Catalog) -> list[Message]:
    return [message for message in catalog if message.id]


def forms(message: Message) -> list[tuple[str, str]]:
    """Pair every msgstr with the msgid it translates: [0] the singular, the rest the plural."""
    if isinstance(message.id, tuple):
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        return [(message.id[min(n, 1)], string) for n, string in enumerate(strings)]
    return [(message.id, message.string)]


def label(message: Message) -> str:
    return message.id[0] if isinstance(message.id, tuple) else message.id


@pytest.fixture(scope="module")
def dutch() -> Catalog:
    return read_catalog(PO)


# The catalog --------------------------------------------------------------------------------------


def test_every_extracted_message_has_a_dutch_translation(tmp_path, dutch):
    """Fails when strings changed without extract + update + translate (docs/translations.md)."""
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "-q", *EXTRACT, "-o", str(pot), "."],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    extracted = messages(read_catalog(pot))
    assert len(extracted) > 200  # the extraction found the app's strings at all

    missing, fuzzy, empty = [], [], []
    for message in extracted:
        translation = dutch.get(message.id)
        if translation is None:
            missing.append(label(message))
        elif translation.fuzzy:
            fuzzy.append(label(message))
        else:
            strings = [string for _, string in forms(translation)]
            expected = dutch.num_plurals if translation.pluralizable else 1
            if len(strings) != expected or not all(strings):
                empty.append(label(message))
    assert not missing, f"not in the Dutch catalog: {missing}"
    assert not fuzzy, f"fuzzy in the Dutch catalog (check and drop the flag): {fuzzy}"
    assert not empty, f"untranslated in the Dutch catalog: {empty}"


def test_the_compiled_catalog_is_up_to_date_with_the_po(dutch):
    """Fails when the .po changed without `pybabel compile -d surveyapp/translations`."""
    fresh = BytesIO()
    write_mo(fresh, dutch)
    fresh.seek(0)
    with MO.open("rb") as f:
        committed = read_mo(f)

    def entries(catalog: Catalog) -> dict[object, object]:
        # read_mo gives a plural's msgid and msgstr as lists.
        def hashable(value: object) -> object:
            return tuple(value) if isinstance(value, list) else value

        return {hashable(m.id): hashable(m.string) for m in messages(catalog)}

    assert entries(committed) == entries(read_mo(fresh))
    assert committed.plural_forms == dutch.plural_forms


def test_placeholders_are_the_same_in_msgid_and_msgstr(dutch):
    wrong = [
        (msgid, msgstr)
        for message in messages(dutch)
        for msgid, msgstr in forms(message)
        if Counter(PLACEHOLDER.findall(msgid)) != Counter(PLACEHOLDER.findall(msgstr))
    ]
    assert not wrong
    # Babel's own checks: python-format flags, plural forms.
    problems = [(label(message), errors) for message, errors in dutch.check()]
    assert not problems


def test_dutch_plurals_have_two_forms(dutch):
    assert dutch.num_plurals == 2
    plurals = [message for message in messages(dutch) if message.pluralizable]
    assert plurals
    for message in plurals:
        singular, plural = message.string
        assert singular != plural, message.id


def test_templates_translate_only_literal_strings():
    """_(variable) is never extracted: name every label in Python, as STATE_LABELS does."""
    env = Environment(extensions=["jinja2.ext.i18n"], autoescape=True)
    dynamic = []
    for path in sorted([*TEMPLATES.rglob("*.html"), *TEMPLATES.rglob("*.txt")]):
        tree = env.parse(path.read_text(encoding="utf-8"))
        for call in tree.find_all(nodes.Call):
            named = isinstance(call.node, nodes.Name) and call.node.name in GETTEXT_NAMES
            if named and not (call.args and isinstance(call.args[0], nodes.Const)):
                dynamic.append(f"{path.relative_to(ROOT)}:{call.lineno}")
    assert not dynamic


def test_every_round_state_has_a_translated_label(dutch):
    assert set(STATE_LABELS) == set(RoundState)
    for state in RoundState:
        assert dutch.get(state.value) is not None, state
        assert dutch[state.value].string


# The catalog in use -------------------------------------------------------------------------------


def test_the_login_page_is_dutch_by_default_and_english_on_request(client):
    dutch_page = client.get("/login").get_data(as_text=True)
    assert "Inloggen als coördinator" in dutch_page
    assert ">Inloggen</button>" in dutch_page
    assert "Log in" not in dutch_page

    english_page = client.get("/login?lang=en").get_data(as_text=True)
    assert ">Log in</button>" in english_page
    assert "Inloggen" not in english_page


def test_round_states_are_translated_on_the_coordinators_pages(client, app):
    coordinator = make_coordinator()
    study = make_study(coordinator)
    make_round(study, state=RoundState.CLOSED)
    make_round(study)
    login(client, coordinator)

    page = client.get(f"/studies/{study.id}").get_data(as_text=True)
    assert '<span class="badge closed">gesloten</span>' in page
    assert '<span class="badge draft">concept</span>' in page
    english = client.get(f"/studies/{study.id}?lang=en").get_data(as_text=True)
    assert '<span class="badge draft">draft</span>' in english


def test_the_questionnaire_of_a_dutch_member_is_dutch(client, app):
    study = make_study(min_group_size=2)  # the panel of two ratings is shown
    member = make_member(study, language="nl")
    other = make_member(study, language="nl")
    silent = make_member(study, language="nl")
    first = make_round(study, items=[likert("Opvang is vol.")], state=RoundState.CLOSED)
    statement = first.items[0]
    make_response(member, first, {statement: 4})
    make_response(other, first, {statement: 2})
    make_response(silent, first, {statement: None})
    make_round(
        study,
        items=[likert("Opvang is vol.", previous_item_id=statement.id), "Welke knelpunten?"],
        state=RoundState.OPEN,
    )

    enter(client, issue_link(member))
    html = client.get("/q/").get_data(as_text=True)
    assert '<html lang="nl">' in html
    for dutch_text in (
        "Ronde 2",
        "Stelling 1",
        "Vraag 2",
        "Helemaal oneens",
        "Geen mening",
        "Opslaan als concept",
        "Versturen",
        "Uitkomst van het panel in ronde 1",
        "Uw antwoord in ronde 1: 4 (Eens).",
        "Oordelen van het panel (2 deskundigen)",  # ngettext, plural
        "<dd>1 deskundige</dd>",  # ngettext, singular
        "<span data-answered>0</span> van <span data-total>2</span> beantwoord",
    ):
        assert dutch_text in html, dutch_text
    for english_text in ("Strongly disagree", "No opinion", "Save draft", "Panel result"):
        assert english_text not in html, english_text


def test_an_invitation_to_a_dutch_member_is_dutch(app):
    study = make_study(title="Mensenhandel")
    dutch_member = make_member(study, language="nl")
    english_member = make_member(study, language="en")
    round_ = make_round(study, items=[likert("Opvang is vol.")], state=RoundState.OPEN)
    round_.closes_at = datetime(2031, 3, 12, 16, 0, tzinfo=UTC)

    now = datetime(2031, 3, 1, 9, 0, tzinfo=UTC)
    mails = {m.member_id: m for m in queue_round_invitations(round_, "http://testserver", now)}

    dutch_mail = mails[dutch_member.id]
    assert dutch_mail.subject == "Uitnodiging: ronde 1 van Mensenhandel"
    body = dutch_mail.body or ""
    for dutch_text in (
        "Beste panellid,",
        "U bent uitgenodigd om deel te nemen aan ronde 1 van de Delphi-studie ‘Mensenhandel’.",
        "De ronde sluit op woensdag 12 maart 2031 om 17:00.",
        "Open de vragenlijst met uw persoonlijke link:",
        "Deze link is persoonlijk",
        "Met vriendelijke groet,",
    ):
        assert dutch_text in body, dutch_text
    english_mail = mails[english_member.id]
    assert english_mail.subject == "Invitation: round 1 of Mensenhandel"
    assert "Dear panel member," in (english_mail.body or "")
