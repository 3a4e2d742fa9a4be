"""The HTML twin: one self-contained, accessible page with the same content as the PDF."""

from __future__ import annotations

import base64
import functools
import io
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import jinja2
from PIL import Image

from surveyapp.anthology.charts import (
    AXIS_COLOUR,
    BAR_COLOUR,
    TEXT_COLOUR,
    BarChart,
    bar_chart,
)
from surveyapp.anthology.markup import parse_blocks
from surveyapp.anthology.model import Anthology, StatementResult
from surveyapp.anthology.validation import LOGO_FORMATS, validate
from surveyapp.anthology.wording import Wording

CHART_WIDTH = 340.0
CHART_SCALE = 2.0


@dataclass(frozen=True)
class _Statement:
    id: str
    result: StatementResult
    chart: BarChart
    chart_summary: str
    figures: tuple[str, ...]


@dataclass(frozen=True)
class _ResultSection:
    id: str
    heading: str
    statements: tuple[_Statement, ...]


def render_html(anthology: Anthology) -> str:
    """Return the anthology as one HTML page: inline CSS, inline SVG charts, no requests."""
    validate(anthology)
    words = Wording(anthology.language)
    template = _environment().get_template("anthology.html")
    return template.render(
        anthology=anthology,
        words=words,
        date=words.date(anthology.date) if anthology.date else None,
        logo=_logo_uri(anthology.logo) if anthology.logo else None,
        introduction=parse_blocks(anthology.introduction),
        parse=parse_blocks,
        chapters=[
            {
                "id": f"hoofdstuk-{_slug(chapter.number)}",
                "heading": chapter.heading,
                "sections": [
                    {
                        "id": f"paragraaf-{_slug(section.number)}",
                        "heading": section.heading,
                        "groups": [group.in_order() for group in section.groups if group.quotes],
                    }
                    for section in chapter.sections
                ],
            }
            for chapter in anthology.chapters
        ],
        results=_result_sections(anthology.results, words),
        chart_style={
            "bar": BAR_COLOUR,
            "axis": AXIS_COLOUR,
            "text": TEXT_COLOUR,
        },
        methods=anthology.methods,
    )


@functools.cache
def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).with_name("templates")),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters["nfc"] = lambda text: unicodedata.normalize("NFC", text)
    return environment


def _result_sections(results: tuple[StatementResult, ...], words: Wording) -> list[_ResultSection]:
    sections: list[tuple[str, list[_Statement]]] = []
    for index, result in enumerate(results):
        if not sections or sections[-1][0] != result.section:
            sections.append((result.section, []))
        sections[-1][1].append(_statement(index, result, words))
    return [
        _ResultSection(f"resultaten-{index + 1}", heading, tuple(statements))
        for index, (heading, statements) in enumerate(sections)
    ]


def _statement(index: int, result: StatementResult, words: Wording) -> _Statement:
    figures = [
        f"{words['n']} = {result.n}",
        f"{words['median']} {words.number(result.median)}",
        f"{words['iqr']} {words.number(result.iqr)}",
        f"{words['agreement']} {words.percent(result.percent_agreement)}",
        words.consensus(result.consensus),
    ]
    if result.no_opinion:
        figures.insert(1, f"{words['no_opinion']}: {result.no_opinion}")
    summary = ", ".join(
        f"{label} {count}"
        for label, count in zip(result.scale_labels, result.distribution, strict=True)
    )
    return _Statement(
        id=f"stelling-{index + 1}",
        result=result,
        chart=bar_chart(result, CHART_WIDTH, scale=CHART_SCALE),
        chart_summary=f"{words['distribution']}: {summary}",
        figures=tuple(figures),
    )


def _logo_uri(data: bytes) -> str:
    with Image.open(io.BytesIO(data)) as image:
        mime = LOGO_FORMATS[image.format or ""]
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _slug(number: str) -> str:
    return re.sub(r"[^0-9A-Za-z]+", "-", number)
