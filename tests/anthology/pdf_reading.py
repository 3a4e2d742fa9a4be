"""Read a rendered anthology back into blocks of text per page and column."""

from __future__ import annotations

import io
import itertools
from dataclasses import dataclass, field

import pdfplumber

from surveyapp.anthology.pdf import COLUMN_WIDTH, GUTTER, MARGIN_BOTTOM, MARGIN_X, PAGE_HEIGHT

LEFT = (MARGIN_X, MARGIN_X + COLUMN_WIDTH)
RIGHT = (MARGIN_X + COLUMN_WIDTH + GUTTER, MARGIN_X + 2 * COLUMN_WIDTH + GUTTER)
# Lines of one paragraph follow each other by the leading (at most 13 pt in body text);
# a larger step means a new paragraph.
PARAGRAPH_STEP = 14.0


@dataclass
class Line:
    text: str
    top: float
    bottom: float
    x0: float
    x1: float
    bold: bool


@dataclass
class Block:
    """Consecutive lines of one paragraph in one column of one page."""

    page: int
    column: str
    lines: list[Line] = field(default_factory=list)
    gap_before: float | None = None

    @property
    def bold(self) -> bool:
        return all(line.bold for line in self.lines)

    @property
    def x0(self) -> float:
        return min(line.x0 for line in self.lines)

    @property
    def x1(self) -> float:
        return max(line.x1 for line in self.lines)

    @property
    def text_lines(self) -> list[str]:
        return [line.text for line in self.lines]


def read_blocks(pdf: bytes, first_page: int = 1) -> list[Block]:
    """Return the body blocks in reading order: page by page, left column, then right."""
    blocks: list[Block] = []
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        for number, page in enumerate(document.pages, start=1):
            if number < first_page:
                continue
            words = page.extract_words(extra_attrs=["fontname"], keep_blank_chars=False)
            body = [word for word in words if word["bottom"] < PAGE_HEIGHT - MARGIN_BOTTOM + 1]
            for column, (left, _right) in (("left", LEFT), ("right", RIGHT)):
                in_column = [
                    word
                    for word in body
                    if (word["x0"] < RIGHT[0] - 1) == (column == "left") and word["x0"] >= left - 1
                ]
                blocks.extend(_blocks(number, column, _lines(in_column)))
    return blocks


def _lines(words: list[dict]) -> list[Line]:
    lines: list[Line] = []
    for word in sorted(words, key=lambda w: (round(w["top"]), w["x0"])):
        if lines and abs(lines[-1].top - word["top"]) < 2:
            line = lines[-1]
            line.text += " " + word["text"]
            line.x1 = max(line.x1, word["x1"])
            line.bold = line.bold and "Bold" in word["fontname"]
        else:
            lines.append(
                Line(
                    word["text"],
                    word["top"],
                    word["bottom"],
                    word["x0"],
                    word["x1"],
                    "Bold" in word["fontname"],
                )
            )
    return lines


def _blocks(page: int, column: str, lines: list[Line]) -> list[Block]:
    blocks: list[Block] = []
    for line in lines:
        previous = blocks[-1].lines[-1] if blocks else None
        step = line.top - previous.top if previous else None
        if previous is None or step > PARAGRAPH_STEP or line.bold != previous.bold:
            blocks.append(Block(page, column, gap_before=step))
        blocks[-1].lines.append(line)
    return blocks


def joins_to(lines: list[str], expected: str) -> bool:
    """Tell whether lines read as expected once hyphenated line ends are joined.

    A line ending in "-" is either a break the hyphenation added (join without the hyphen)
    or a hyphen of the text itself, as in "wet- en regelgeving"; both readings are tried.
    ReportLab breaks lines only at spaces and at the breaks hyphenation adds.
    """
    target = " ".join(expected.split())
    ends = [index for index, line in enumerate(lines[:-1]) if line.endswith("-")]
    for added in itertools.product((True, False), repeat=len(ends)):
        hyphen_added = dict(zip(ends, added, strict=True))
        text = lines[0]
        for index, line in enumerate(lines[1:]):
            text = text[:-1] + line if hyphen_added.get(index) else f"{text} {line}"
        if text == target:
            return True
    return False
