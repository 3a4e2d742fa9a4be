"""The PDF, read back: content, layout like the source page, navigation, fonts, metadata."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pdfplumber
import pypdf
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from surveyapp.anthology import (
    AnthologyError,
    Chapter,
    QuoteGroup,
    Section,
    render_pdf,
)

from .conftest import SEED, make_anthology, make_png, make_result
from .pdf_reading import LEFT, RIGHT, Block, joins_to, read_blocks

FOOTER = "bloemlezing - programma samen tegen mensenhandel"


def _expected_sequence(seed_data: dict) -> list[tuple[str, str, int]]:
    """(kind, text, group index) for each heading and quote of the seed, in source order."""
    sequence = []
    for section in seed_data["sections"]:
        title = section["title"]
        heading = f"{section['number']} {title}" if title else section["number"]
        sequence.append(("heading", heading, -1))
        for index, group in enumerate(section["groups"]):
            sequence.extend(("quote", quote, index) for quote in group)
    return sequence


def _body_blocks(pdf: bytes, first_heading: str) -> list[Block]:
    blocks = read_blocks(pdf)
    start = next(
        index
        for index, block in enumerate(blocks)
        if block.bold and " ".join(block.text_lines) == first_heading
    )
    return blocks[start:]


def test_seed_reads_back_word_for_word_in_order_under_its_headings(seed_pdf, seed_data):
    expected = _expected_sequence(seed_data)
    blocks = _body_blocks(seed_pdf, expected[0][1])

    assert len(blocks) == len(expected)
    for block, (kind, text, _group) in zip(blocks, expected, strict=True):
        if kind == "heading":
            assert block.bold
            assert " ".join(block.text_lines) == text
        else:
            assert not block.bold
            assert joins_to(block.text_lines, text), (block.text_lines, text)


def test_seed_quotes_each_stay_inside_one_column(seed_pdf, seed_data):
    expected = _expected_sequence(seed_data)
    blocks = _body_blocks(seed_pdf, expected[0][1])
    columns_used = set()
    for block in blocks:
        left, right = LEFT if block.column == "left" else RIGHT
        assert left - 0.5 <= block.x0
        assert block.x1 <= right + 0.5
        columns_used.add((block.page, block.column))
    # Like the source, the text runs on from the left column into the right one.
    assert len(columns_used) >= 2


def test_seed_groups_are_set_apart_by_space(seed_pdf, seed_data):
    expected = _expected_sequence(seed_data)
    blocks = _body_blocks(seed_pdf, expected[0][1])
    within, between = [], []
    for index in range(1, len(expected)):
        (kind, _text, group), previous, block = expected[index], expected[index - 1], blocks[index]
        if kind != "quote" or previous[0] != "quote" or block.gap_before is None:
            continue
        (between if group != previous[2] else within).append(block.gap_before)
    assert between
    assert within
    assert min(between) > max(within) + 5


def test_seed_hyphenates_dutch_words_at_line_ends(seed_pdf, seed_data):
    quotes = [
        quote for section in seed_data["sections"] for group in section["groups"] for quote in group
    ]
    blocks = _body_blocks(seed_pdf, "1.2")
    added = [
        line
        for block in blocks
        for line in block.text_lines[:-1]
        if line.endswith("-") and not any(line.split()[-1] in quote.split() for quote in quotes)
    ]
    assert added, "no line end was hyphenated"
    for line in added:
        assert line.split()[-1][:-1].isalpha()


def test_footer_and_page_number_on_every_page_after_the_cover(seed_pdf):
    with pdfplumber.open(io.BytesIO(seed_pdf)) as document:
        assert len(document.pages) >= 3
        for number, page in enumerate(document.pages, start=1):
            foot = page.crop((0, page.height - 50, page.width, page.height)).extract_text()
            if number == 1:
                assert FOOTER not in foot
            else:
                assert foot.split() == [*FOOTER.split(), str(number)]


def _outline(pdf: bytes) -> list[tuple[int, str, int]]:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    entries = []

    def walk(items, level: int) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item, level + 1)
            else:
                entries.append((level, item.title, reader.get_destination_page_number(item) + 1))

    walk(reader.outline, 0)
    return entries


def _bold_lines(pdf: bytes, page_number: int) -> list[str]:
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        words = document.pages[page_number - 1].extract_words(extra_attrs=["fontname"])
    lines: dict[int, list[str]] = {}
    for word in sorted(words, key=lambda w: (round(w["top"]), w["x0"])):
        if "Bold" in word["fontname"]:
            lines.setdefault(round(word["top"]), []).append(word["text"])
    return [" ".join(line) for line in lines.values()]


def test_bookmarks_cover_every_chapter_and_section_and_point_to_their_heading():
    anthology = make_anthology()
    pdf = render_pdf(anthology)
    outline = _outline(pdf)
    titles = [title for _level, title, _page in outline]
    assert titles == [
        "Inhoud",
        "Inleiding",
        "1 Trends en knelpunten",
        "1.1 Signalen",
        "Resultaten",
        "1.3 Beleid vs. uitvoering",
        "Verantwoording",
        "Panel",
        "Respons per ronde",
        "Consensusregel",
        "Stopregels",
        "Kwantielmethode",
    ]
    assert [level for level, _title, _page in outline] == [0, 0, 0, 1, 0, 1, 0, 1, 1, 1, 1, 1]
    for _level, title, page in outline:
        assert title in _bold_lines(pdf, page), (title, page)


def test_seed_bookmarks_point_to_the_seed_headings(seed_pdf):
    outline = _outline(seed_pdf)
    assert [title for _level, title, _page in outline] == [
        "Inhoud",
        "1",
        "1.2",
        "1.3 Beleid vs. uitvoering",
    ]
    for _level, title, page in outline:
        assert title in _bold_lines(seed_pdf, page)


def test_contents_lists_every_heading_with_its_page_number():
    anthology = make_anthology()
    pdf = render_pdf(anthology)
    outline = _outline(pdf)
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        contents = document.pages[1].extract_text().splitlines()
    assert contents[0] == "Inhoud"
    listed = {}
    for line in contents[1:]:
        title, _, page = line.rstrip().rpartition(" ")
        listed[title.rstrip(" .")] = int(page)
    for _level, title, page in outline[1:]:
        assert listed[title] == page, title


def _fonts(pdf: bytes) -> list[tuple[str, bool]]:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    found = {}

    def scan(resources) -> None:
        if not resources:
            return
        resources = resources.get_object()
        for font in (resources.get("/Font") or {}).values():
            font = font.get_object()
            described = font
            if font.get("/Subtype") == "/Type0":
                described = font["/DescendantFonts"][0].get_object()
            descriptor = described.get("/FontDescriptor")
            descriptor = descriptor.get_object() if descriptor else {}
            embedded = any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3"))
            found[font["/BaseFont"]] = embedded
        for xobject in (resources.get("/XObject") or {}).values():
            scan(xobject.get_object().get("/Resources"))

    for page in reader.pages:
        scan(page.get("/Resources"))
    return sorted(found.items())


@pytest.mark.parametrize("which", ["seed", "full"])
def test_every_font_is_embedded(which, seed_pdf):
    pdf = seed_pdf if which == "seed" else render_pdf(make_anthology(logo=make_png()))
    fonts = _fonts(pdf)
    assert fonts
    assert all(embedded for _name, embedded in fonts), fonts
    assert not any(
        base in name for name, _ in fonts for base in ("Helvetica", "Times", "Courier", "Symbol")
    )


def test_metadata_names_title_author_and_dutch_language():
    pdf = render_pdf(make_anthology())
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert reader.metadata.title == "Bloemlezing 2025"
    assert reader.metadata.author == "Programmabureau"
    assert reader.trailer["/Root"]["/Lang"] == "nl-NL"
    assert reader.metadata["/CreationDate"].startswith("D:20251129")


def test_the_same_input_gives_the_same_bytes(seed_anthology, seed_pdf):
    assert render_pdf(seed_anthology) == seed_pdf
    assert render_pdf(make_anthology(logo=make_png())) == render_pdf(
        make_anthology(logo=make_png())
    )


def test_builds_in_separate_processes_are_byte_identical(tmp_path):
    script = (
        "import sys; from surveyapp.anthology import load_anthology, render_pdf; "
        "sys.stdout.buffer.write(render_pdf(load_anthology(sys.argv[1])))"
    )
    root = Path(__file__).parents[2]
    outputs = []
    for seed in ("1", "2"):
        environment = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(root)}
        environment.pop("SOURCE_DATE_EPOCH", None)
        if seed == "2":
            environment["SOURCE_DATE_EPOCH"] = "1700000000"  # must not leak into the file
        outputs.append(
            subprocess.run(
                [sys.executable, "-c", script, str(SEED)],
                capture_output=True,
                check=True,
                env=environment,
                cwd=tmp_path,
            ).stdout
        )
    assert outputs[0] == outputs[1]
    assert outputs[0].startswith(b"%PDF")


def test_cover_results_and_methods_are_printed():
    pdf = render_pdf(make_anthology(logo=make_png()))
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        cover = document.pages[0]
        assert cover.images
        text = [_flat(page.extract_text()) for page in document.pages]
    assert "Bloemlezing 2025" in text[0]
    assert "Trends en knelpunten in de aanpak van mensenhandel" in text[0]
    assert "Programma Samen tegen Mensenhandel" in text[0]
    assert "29 november 2025" in text[0]
    everything = "\n".join(text)
    assert "Deze bloemlezing bundelt letterlijke citaten." in everything
    assert "Gemeenten hebben te weinig zicht op arbeidsuitbuiting." in everything
    assert "mediaan 4 · IQR 1 · overeenstemming 70% · consensus (eens)" in everything
    assert "geen mening: 2" in everything
    assert "ronde 2: 3 (IQR 2, 55%) → ronde 3: 4 (IQR 1, 70%)" in everything
    assert "Hyndman-Fan type 7" in everything
    assert "Politie en OM 8" in everything
    assert "Totaal 20" in everything


def _flat(text: str) -> str:
    """Join the lines of a page, rejoining words hyphenated at a line end."""
    return re.sub(r"(?<=[a-zë])-\n(?=[a-z])", "", text).replace("\n", " ")


def test_groups_are_sorted_the_dutch_way_unless_the_order_is_given():
    pdf = render_pdf(make_anthology())
    blocks = _body_blocks(pdf, "1.1 Signalen")
    texts = [" ".join(block.text_lines) for block in blocks[1:6]]
    assert texts == [
        "Beer.",
        "’t Is een aap.",
        "Zebra's komen laatst.",
        "Tweede groep, gegeven volgorde.",
        "Als laatste.",
    ]


def test_a_quote_taller_than_a_column_still_renders_in_full():
    words = [f"woord{index}" for index in range(1800)]
    giant = " ".join(words)
    section = Section("1.1", "Lang", (QuoteGroup(("Kort citaat.", giant, "Zoveel.")),))
    pdf = render_pdf(
        make_anthology(chapters=(Chapter("1", None, (section,)),), results=(), methods=None)
    )
    blocks = _body_blocks(pdf, "1.1 Lang")
    read = " ".join(" ".join(block.text_lines) for block in blocks[1:])
    assert read == " ".join(["Kort citaat.", giant, "Zoveel."])
    assert len({(block.page, block.column) for block in blocks}) >= 3


def test_progress_is_reported_up_to_the_total(seed_anthology):
    calls: list[tuple[int, int]] = []
    render_pdf(seed_anthology, progress=lambda done, total: calls.append((done, total)))
    assert calls
    assert calls[-1][0] == calls[-1][1]
    dones = [done for done, _ in calls]
    assert dones == sorted(dones)
    assert all(0 <= done <= total for done, total in calls)


def test_an_invalid_tree_is_refused_with_its_place():
    section = Section("1.1", None, (QuoteGroup(("Goed.", "  ")),))
    with pytest.raises(
        AnthologyError,
        match=r"^chapters\[0\]\.sections\[0\]\.groups\[0\]\.quotes\[1\]: empty quote$",
    ):
        render_pdf(make_anthology(chapters=(Chapter("1", None, (section,)),)))


def test_results_headings_stay_with_their_first_statement():
    results = tuple(
        make_result(section=f"1.{index // 3 + 1} Thema", text=f"Stelling {index} " + "lang " * 30)
        for index in range(60)
    )
    pdf = render_pdf(make_anthology(results=results, methods=None))
    headings = {f"1.{number} Thema" for number in range(1, 21)}
    blocks = read_blocks(pdf)
    found = 0
    for position, block in enumerate(blocks):
        if block.page > 3 and " ".join(block.text_lines) in headings:
            found += 1
            following = blocks[position + 1]
            assert (following.page, following.column) == (block.page, block.column)
    assert found == len(headings)


quote_text = st.lists(
    st.sampled_from(
        [
            "de",
            "het",
            "een",
            "mensenhandel",
            "slachtoffers",
            "uitbuiting",
            "gemeenten",
            "zorg",
            "signalen",
            "aanpak",
            "politie",
            "hulpverlening",
            "kwetsbaarheid",
        ]
    ),
    min_size=1,
    max_size=70,
).map(lambda words: " ".join(words).capitalize() + ".")


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.lists(st.lists(quote_text, min_size=1, max_size=6), min_size=1, max_size=3),
        min_size=2,
        max_size=9,
    )
)
def test_headings_keep_with_their_first_quote_and_quotes_never_split(sections):
    chapter = Chapter(
        "1",
        "Proef",
        tuple(
            Section(
                f"1.{index + 1}",
                f"Kop {index + 1}",
                tuple(QuoteGroup(tuple(g), "given") for g in groups),
            )
            for index, groups in enumerate(sections)
        ),
    )
    pdf = render_pdf(make_anthology(chapters=(chapter,), results=(), methods=None))
    blocks = _body_blocks(pdf, "1.1 Kop 1")
    expected = []
    for index, groups in enumerate(sections):
        expected.append(("heading", f"1.{index + 1} Kop {index + 1}"))
        expected.extend(("quote", quote) for group in groups for quote in group)
    assert len(blocks) == len(expected)
    for position, (block, (kind, text)) in enumerate(zip(blocks, expected, strict=True)):
        if kind == "heading":
            assert " ".join(block.text_lines) == text
            following = blocks[position + 1]
            assert (following.page, following.column) == (block.page, block.column)
        else:
            assert joins_to(block.text_lines, text), (block.text_lines, text)
