"""The JSON form: the seed reads as it is; every bad input is refused naming its place."""

from __future__ import annotations

import base64
import copy
import datetime
import json

import pytest

from surveyapp.anthology import AnthologyError, load_anthology

from .conftest import make_png


def test_seed_reads_as_it_is(seed_anthology, seed_data):
    assert seed_anthology.title == seed_data["document_title"]
    assert seed_anthology.footer_text == seed_data["running_footer"]
    assert [chapter.number for chapter in seed_anthology.chapters] == ["1"]
    chapter = seed_anthology.chapters[0]
    assert chapter.title is None
    assert [section.heading for section in chapter.sections] == ["1.2", "1.3 Beleid vs. uitvoering"]
    assert [list(group.quotes) for group in chapter.sections[0].groups] == seed_data["sections"][0][
        "groups"
    ]


def _full(seed_data, tmp_path):
    data = copy.deepcopy(seed_data)
    (tmp_path / "logo.png").write_bytes(make_png())
    data.update(
        {
            "subtitle": "Trends en knelpunten",
            "organisation": "Programma Samen tegen Mensenhandel",
            "author": "Programmabureau",
            "date": "2025-11-29",
            "language": "nl",
            "logo": "logo.png",
            "introduction": "Eerste alinea.\n\n- een punt",
            "chapters": [{"number": "1", "title": "Trends en knelpunten"}],
            "results": [
                {
                    "section": "1.3 Beleid vs. uitvoering",
                    "text": "Stelling.",
                    "scale_labels": ["oneens", "neutraal", "eens"],
                    "distribution": [1, 2, 7],
                    "no_opinion": 1,
                    "median": 3,
                    "iqr": 1,
                    "percent_agreement": 70,
                    "consensus": "in",
                    "history": [
                        {"round": 2, "n": 10, "median": 2, "iqr": 1, "percent_agreement": 40}
                    ],
                }
            ],
            "methods": {
                "panel": [{"group": "Gemeenten", "size": 12}],
                "rounds": [{"number": 1, "invited": 20, "responded": 15}],
                "consensus_rule": "70% eens",
                "rule_fixed_at": "1 maart 2025",
                "stop_rules": "Na consensus",
                "quantile_method": "type 7",
            },
        }
    )
    data["sections"][0]["groups"][1] = {
        "order": "given",
        "quotes": data["sections"][0]["groups"][1],
    }
    return data


def test_every_documented_part_is_read(seed_data, tmp_path):
    path = tmp_path / "volledig.json"
    path.write_text(json.dumps(_full(seed_data, tmp_path)), encoding="utf-8")
    anthology = load_anthology(path)
    assert anthology.date == datetime.date(2025, 11, 29)
    assert anthology.logo == make_png()
    assert anthology.chapters[0].heading == "1 Trends en knelpunten"
    assert anthology.chapters[0].sections[0].groups[1].order == "given"
    assert anthology.results[0].n == 10
    assert anthology.results[0].history[0].median == 2
    assert anthology.methods.panel[0] == ("Gemeenten", 12)
    assert anthology.methods.rounds[0].rate == 75


def test_a_logo_may_be_a_data_uri(seed_data):
    data = copy.deepcopy(seed_data)
    data["logo"] = "data:image/png;base64," + base64.b64encode(make_png()).decode()
    assert load_anthology(data).logo == make_png()


def test_sections_of_several_chapters_are_grouped_by_number(seed_data):
    data = copy.deepcopy(seed_data)
    data["sections"].append({"number": "2.1", "title": "Aanpak", "groups": [["Citaat."]]})
    data["sections"].append({"number": "1.4", "title": None, "groups": []})
    chapters = load_anthology(data).chapters
    assert [(c.number, [s.number for s in c.sections]) for c in chapters] == [
        ("1", ["1.2", "1.3", "1.4"]),
        ("2", ["2.1"]),
    ]


def _break(data, change):
    broken = copy.deepcopy(data)
    change(broken)
    return broken


def _set(path, value):
    def change(data):
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


def _delete(path):
    def change(data):
        target = data
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return change


CASES = {
    "empty quote": (
        _set(["sections", 1, "groups", 0, 3], "  "),
        "sections[1].groups[0][3]: empty quote",
    ),
    "control character": (
        _set(["sections", 0, "groups", 2, 0], "Intenties\x07 zijn er."),
        "sections[0].groups[2][0]: control character U+0007 at position 10",
    ),
    "newline in a quote": (
        _set(["sections", 0, "groups", 3, 0], "Veel\nminderjarige"),
        "sections[0].groups[3][0]: control character U+000A at position 5",
    ),
    "duplicate section": (
        _set(["sections", 1, "number"], "1.2"),
        "sections[1].number: section 1.2 given twice (first at sections[0].number)",
    ),
    "missing title": (_delete(["document_title"]), "document_title: required field missing"),
    "missing groups": (
        _delete(["sections", 0, "groups"]),
        "sections[0].groups: required field missing",
    ),
    "missing number": (
        _delete(["sections", 1, "number"]),
        "sections[1].number: required field missing",
    ),
    "unknown key": (_set(["sections", 1, "titel"], "x"), "sections[1].titel: unknown key"),
    "unknown top-level key": (_set(["footer"], "x"), "footer: unknown key"),
    "quote not text": (
        _set(["sections", 0, "groups", 0, 1], 42),
        "sections[0].groups[0][1]: expected text",
    ),
    "broken image": (
        _set(
            ["logo"],
            "data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\nkapot").decode(),
        ),
        "logo: broken image",
    ),
    "missing image": (_set(["logo"], "nergens.png"), "logo: cannot read nergens.png"),
    "bad date": (_set(["date"], "29-11-2025"), "date: expected a date like 2025-11-29"),
    "bad order": (
        _set(["sections", 0, "groups", 1], {"order": "random", "quotes": ["a"]}),
        "sections[0].groups[1].order: expected one of alphabetical, given",
    ),
    "unprintable character": (
        _set(["sections", 0, "groups", 3, 0], "Prima 🙂"),
        "sections[0].groups[3][0]: character '🙂' (U+1F642) is not in the embedded font",
    ),
    "bad section number": (
        _set(["sections", 0, "number"], "1 .2"),
        "sections[0].number: not a number",
    ),
    "unknown language": (_set(["language"], "de"), "language: expected one of nl, en"),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_invalid_input_is_refused_naming_the_place(case, seed_data):
    change, message = CASES[case]
    with pytest.raises(AnthologyError) as raised:
        load_anthology(_break(seed_data, change))
    assert str(raised.value).startswith(message)


def test_result_figures_must_agree(seed_data):
    result = {
        "section": "1.3",
        "text": "Stelling.",
        "scale_labels": ["oneens", "eens"],
        "distribution": [1, 2],
        "n": 4,
        "median": 2,
        "iqr": 0,
        "percent_agreement": 101,
        "consensus": "in",
    }
    data = _break(seed_data, _set(["results"], [result]))
    with pytest.raises(AnthologyError, match=r"^results\[0\]\.percent_agreement: a percentage"):
        load_anthology(data)
    result["percent_agreement"] = 50
    with pytest.raises(
        AnthologyError, match=r"^results\[0\]\.n: n is 4 but the distribution adds up to 3"
    ):
        load_anthology(_break(seed_data, _set(["results"], [result])))


def test_invalid_json_names_line_and_column(tmp_path):
    path = tmp_path / "kapot.json"
    path.write_text('{"document_title": "x",\n "sections": [}', encoding="utf-8")
    with pytest.raises(AnthologyError, match=r"^kapot\.json line 2 column 15: invalid JSON"):
        load_anthology(path)


def test_free_text_keys_are_ignored_anywhere(seed_data):
    data = _break(seed_data, _set(["sections", 0, "about"], "vrije tekst"))
    assert load_anthology(data).chapters[0].sections[0].number == "1.2"
