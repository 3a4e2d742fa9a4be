"""The embedded typeface, DejaVu Sans Condensed from fonts/, and the characters it covers."""

from __future__ import annotations

import functools
from pathlib import Path

from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

FONT_DIR = Path(__file__).with_name("fonts")

REGULAR = "AnthologySans"
BOLD = "AnthologySans-Bold"
ITALIC = "AnthologySans-Oblique"
BOLD_ITALIC = "AnthologySans-BoldOblique"

_FILES = {
    REGULAR: "DejaVuSansCondensed.ttf",
    BOLD: "DejaVuSansCondensed-Bold.ttf",
    ITALIC: "DejaVuSansCondensed-Oblique.ttf",
    BOLD_ITALIC: "DejaVuSansCondensed-BoldOblique.ttf",
}


@functools.cache
def register() -> None:
    """Register the four faces with ReportLab once, as one family for <b> and <i>."""
    for name, filename in _FILES.items():
        pdfmetrics.registerFont(TTFont(name, FONT_DIR / filename))
    addMapping(REGULAR, 0, 0, REGULAR)
    addMapping(REGULAR, 1, 0, BOLD)
    addMapping(REGULAR, 0, 1, ITALIC)
    addMapping(REGULAR, 1, 1, BOLD_ITALIC)


@functools.cache
def _covered() -> frozenset[int]:
    register()
    faces = [pdfmetrics.getFont(name).face for name in _FILES]
    return frozenset.intersection(*(frozenset(face.charToGlyph) for face in faces))


def first_missing(text: str) -> str | None:
    """Return the first character of text that the typeface cannot draw, if any."""
    covered = _covered()
    for char in text:
        if ord(char) not in covered and char not in "\n\r\t":
            return char
    return None
