"""Builders for anthology tests; the seed page comes from ../shared/seed beside the clone."""

from __future__ import annotations

import datetime
import io
import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from surveyapp.anthology import (
    Anthology,
    Chapter,
    Methods,
    PanelGroup,
    QuoteGroup,
    RoundFigure,
    RoundResponse,
    Section,
    StatementResult,
    load_anthology,
    render_pdf,
)

SEED = Path(__file__).parents[2].parent / "shared" / "seed" / "source-page.json"


@pytest.fixture(scope="session")
def seed_data() -> dict[str, Any]:
    return json.loads(SEED.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def seed_anthology() -> Anthology:
    return load_anthology(SEED)


@pytest.fixture(scope="session")
def seed_pdf(seed_anthology: Anthology) -> bytes:
    return render_pdf(seed_anthology)


def make_png(width: int = 40, height: int = 20) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (31, 95, 168)).save(buffer, format="PNG")
    return buffer.getvalue()


def make_result(**overrides: Any) -> StatementResult:
    values: dict[str, Any] = {
        "section": "1.3 Beleid vs. uitvoering",
        "text": "Gemeenten hebben te weinig zicht op arbeidsuitbuiting.",
        "scale_labels": ("zeer oneens", "oneens", "neutraal", "eens", "zeer eens"),
        "distribution": (1, 2, 3, 8, 6),
        "n": 20,
        "no_opinion": 2,
        "median": 4.0,
        "iqr": 1.0,
        "percent_agreement": 70.0,
        "consensus": "in",
        "history": (
            RoundFigure(round=2, n=22, median=3.0, iqr=2.0, percent_agreement=55.0),
            RoundFigure(round=3, n=20, median=4.0, iqr=1.0, percent_agreement=70.0),
        ),
    }
    values.update(overrides)
    return StatementResult(**values)


def make_methods(**overrides: Any) -> Methods:
    values: dict[str, Any] = {
        "panel": (PanelGroup("Gemeenten", 12), PanelGroup("Politie en OM", 8)),
        "rounds": (
            RoundResponse(number=1, invited=40, responded=30, attrition=None, retired=0),
            RoundResponse(number=2, invited=30, responded=24, attrition=20.0, retired=5),
        ),
        "consensus_rule": "Consensus bij ten minste 70% (on)eens en een IQR van ten hoogste 1.",
        "rule_fixed_at": "1 maart 2025",
        "stop_rules": "Een stelling met consensus gaat niet mee naar de volgende ronde.",
        "quantile_method": "Hyndman-Fan type 7",
    }
    values.update(overrides)
    return Methods(**values)


def make_anthology(**overrides: Any) -> Anthology:
    values: dict[str, Any] = {
        "title": "Bloemlezing 2025",
        "subtitle": "Trends en knelpunten in de aanpak van mensenhandel",
        "organisation": "Programma Samen tegen Mensenhandel",
        "date": datetime.date(2025, 11, 29),
        "author": "Programmabureau",
        "introduction": (
            "Deze bloemlezing bundelt *letterlijke* citaten.\n\n- eerste punt\n- tweede"
        ),
        "chapters": (
            Chapter(
                number="1",
                title="Trends en knelpunten",
                sections=(
                    Section(
                        number="1.1",
                        title="Signalen",
                        groups=(
                            QuoteGroup(("Zebra's komen laatst.", "’t Is een aap.", "Beer.")),
                            QuoteGroup(
                                ("Tweede groep, gegeven volgorde.", "Als laatste."), "given"
                            ),
                        ),
                    ),
                ),
            ),
        ),
        "results": (make_result(),),
        "methods": make_methods(),
    }
    values.update(overrides)
    return Anthology(**values)
