"""Dutch alphabetical order and Dutch hyphenation."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from surveyapp.anthology.collation import dutch_sort_key, dutch_sorted
from surveyapp.anthology.hyphenation import dutch_hyphenator, hyphenate


def test_case_and_accents_do_not_decide_the_order():
    assert dutch_sorted(["Zorg", "één keer", "eerste", "Ëlla", "apen"]) == [
        "apen",
        "één keer",
        "eerste",
        "Ëlla",
        "Zorg",
    ]


def test_the_elided_article_is_skipped():
    assert dutch_sorted(["Zon.", "’t Is lastig.", "Het is lastig.", "'s Avonds.", "Jeugd."]) == [
        "'s Avonds.",
        "Het is lastig.",
        "’t Is lastig.",
        "Jeugd.",
        "Zon.",
    ]


def test_numbers_sort_by_value_and_before_words():
    assert dutch_sorted(["In 2024 meer", "In 100 zaken", "In 9 zaken", "In de zaken"]) == [
        "In 9 zaken",
        "In 100 zaken",
        "In 2024 meer",
        "In de zaken",
    ]


def test_words_compare_one_by_one():
    assert dutch_sorted(["Eris", "Er is", "Er-is"]) == ["Er is", "Er-is", "Eris"]


@given(st.lists(st.text(min_size=1, max_size=30), max_size=12))
def test_order_is_total_and_repeatable(texts):
    once = dutch_sorted(texts)
    assert dutch_sorted(list(reversed(texts))) == once
    assert dutch_sorted(once) == once


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz ", min_size=1, max_size=30))
def test_upper_case_and_accents_share_the_primary_key(text):
    accented = text.replace("e", "é").replace("i", "ï")
    assert dutch_sort_key(text.upper())[0] == dutch_sort_key(accented)[0] == dutch_sort_key(text)[0]


def test_dutch_words_break_where_dutch_breaks_them():
    assert hyphenate("slachtoffers") == "slacht-of-fers"
    assert hyphenate("strafrechtelijk") == "straf-rech-te-lijk"
    assert hyphenate("oriëntatiepunten") == "ori-ën-ta-tie-pun-ten"
    assert ("slacht", "offers") in dutch_hyphenator("slachtoffers")
    assert dutch_hyphenator("slachtoffers") is dutch_hyphenator("slachtoffers")
