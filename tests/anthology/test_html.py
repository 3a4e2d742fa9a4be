"""The HTML twin: same quotes in the same order, self-contained, accessible (axe-core)."""

from __future__ import annotations

import itertools
import re
from html.parser import HTMLParser

import pytest

from surveyapp.anthology import AnthologyError, Chapter, QuoteGroup, Section, render_html

from .conftest import make_anthology, make_png

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


class _Outline(HTMLParser):
    """Collect the quotes, headings and landmarks of a page, in document order."""

    def __init__(self) -> None:
        super().__init__()
        self.quotes: list[str] = []
        self.headings: list[tuple[int, str]] = []
        self.tags: list[str] = []
        self.html_lang: str | None = None
        self._open: tuple[str, list[str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.tags.append(tag)
        if tag == "html":
            self.html_lang = attributes.get("lang")
        if tag == "li" and attributes.get("class") == "quote":
            self._open = ("quote", [])
        elif re.fullmatch(r"h[1-6]", tag):
            self._open = (tag, [])

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._open[1].append(data)

    def handle_endtag(self, tag: str) -> None:
        if self._open is None:
            return
        kind, parts = self._open
        if kind == "quote" and tag == "li":
            self.quotes.append("".join(parts))
            self._open = None
        elif kind == tag:
            self.headings.append((int(tag[1]), "".join(parts)))
            self._open = None


def _outline(html: str) -> _Outline:
    outline = _Outline()
    outline.feed(html)
    return outline


def test_seed_quotes_appear_in_the_source_order(seed_anthology, seed_data):
    outline = _outline(render_html(seed_anthology))
    expected = [
        quote for section in seed_data["sections"] for group in section["groups"] for quote in group
    ]
    assert outline.quotes == expected


def test_html_and_pdf_hold_the_same_quotes_in_the_same_order():
    anthology = make_anthology()
    quotes = [
        quote
        for chapter in anthology.chapters
        for section in chapter.sections
        for group in section.groups
        for quote in group.in_order()
    ]
    assert _outline(render_html(anthology)).quotes == quotes
    assert quotes[:3] == ["Beer.", "’t Is een aap.", "Zebra's komen laatst."]


def test_page_speaks_dutch_has_landmarks_and_an_unbroken_heading_hierarchy():
    outline = _outline(render_html(make_anthology()))
    assert outline.html_lang == "nl"
    for landmark in ("header", "nav", "main", "footer"):
        assert landmark in outline.tags
    levels = [level for level, _text in outline.headings]
    assert levels[0] == 1
    assert levels.count(1) == 1
    assert all(later - earlier <= 1 for earlier, later in itertools.pairwise(levels))
    texts = [text for _level, text in outline.headings]
    assert texts[:4] == ["Bloemlezing 2025", "Inhoud", "Inleiding", "1 Trends en knelpunten"]
    assert "1.3 Beleid vs. uitvoering" in texts


def test_page_is_self_contained():
    html = render_html(make_anthology(logo=make_png()))
    assert "<script" not in html
    assert "<link" not in html
    assert not re.search(r"""(src|href)=["'](?!data:|#)""", html)
    assert "url(" not in html
    assert 'src="data:image/png;base64,' in html


def test_text_is_escaped_not_interpreted():
    section = Section("1.1", "<b>Kop</b>", (QuoteGroup(("Een <script>alert(1)</script> & meer",)),))
    html = render_html(make_anthology(chapters=(Chapter("1", None, (section,)),)))
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; meer" in html
    assert _outline(html).quotes == ["Een <script>alert(1)</script> & meer"]


def test_english_anthology_is_labelled_english():
    html = render_html(make_anthology(language="en"))
    assert _outline(html).html_lang == "en"
    assert ">Contents<" in html


def test_invalid_tree_is_refused():
    with pytest.raises(AnthologyError, match=r"^logo: broken image"):
        render_html(make_anthology(logo=b"\x89PNG\r\n\x1a\nnot really"))


@pytest.mark.browser
@pytest.mark.parametrize("which", ["seed", "full"])
def test_page_passes_axe_core_in_chromium(which, seed_anthology):
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import sync_playwright

    anthology = seed_anthology if which == "seed" else make_anthology(logo=make_png())
    html = render_html(anthology)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page()
            page.route("**/*", lambda route: route.abort())  # the page must need nothing
            page.set_content(html)
            results = Axe().run(page)
        finally:
            browser.close()
    assert results.violations_count == 0, results.generate_report()
