"""The anthology ("bloemlezing"): a PDF laid out like the source document and an HTML twin.

A pure core: it takes a frozen dataclass tree (or its JSON form) and returns bytes or text;
it imports neither Flask nor the database.
"""

from surveyapp.anthology.html import render_html
from surveyapp.anthology.loading import group_into_chapters, load_anthology
from surveyapp.anthology.model import (
    Anthology,
    Chapter,
    Methods,
    PanelGroup,
    QuoteGroup,
    RoundFigure,
    RoundResponse,
    Section,
    StatementResult,
)
from surveyapp.anthology.pdf import render_pdf
from surveyapp.anthology.validation import AnthologyError, validate

__all__ = [
    "Anthology",
    "AnthologyError",
    "Chapter",
    "Methods",
    "PanelGroup",
    "QuoteGroup",
    "RoundFigure",
    "RoundResponse",
    "Section",
    "StatementResult",
    "group_into_chapters",
    "load_anthology",
    "render_html",
    "render_pdf",
    "validate",
]
