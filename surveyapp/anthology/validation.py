"""Check an anthology before it is rendered; every complaint names its place."""

from __future__ import annotations

import io
import math
import re
import unicodedata
from collections.abc import Iterable

from surveyapp.anthology.model import Anthology, StatementResult
from surveyapp.anthology.typefaces import first_missing

LANGUAGES = ("nl", "en")
ORDERS = ("alphabetical", "given")
CONSENSUS_CLASSES = ("in", "out", "none")
MAX_LOGO_PIXELS = 25_000_000  # a cover logo needs far fewer; more only costs memory
LOGO_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif"}

# Line and paragraph separators and surrogates are as unprintable as C0/C1 controls.
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})
_MULTILINE_ALLOWED = frozenset("\n\r\t")
_NUMBER = re.compile(r"[0-9A-Za-z]+(\.[0-9A-Za-z]+)*")


class AnthologyError(ValueError):
    """An anthology that cannot be rendered; the message names the place first."""

    def __init__(self, place: str, problem: str) -> None:
        super().__init__(f"{place}: {problem}" if place else problem)
        self.place = place
        self.problem = problem


def check_text(value: object, place: str, *, multiline: bool = False, required: bool = True) -> str:
    """Return value if it is printable text; raise AnthologyError otherwise."""
    if not isinstance(value, str):
        raise AnthologyError(place, f"expected text, got {kind_of(value)}")
    if required and not value.strip():
        raise AnthologyError(place, "empty text" if "quote" not in place else "empty quote")
    for index, char in enumerate(value):
        if multiline and char in _MULTILINE_ALLOWED:
            continue
        if unicodedata.category(char) in _FORBIDDEN_CATEGORIES:
            raise AnthologyError(
                place, f"control character U+{ord(char):04X} at position {index + 1}"
            )
    missing = first_missing(value)
    if missing is not None:
        raise AnthologyError(
            place, f"character {missing!r} (U+{ord(missing):04X}) is not in the embedded font"
        )
    return value


def check_quote(value: object, place: str) -> str:
    """Return value if it is a printable, non-empty quote."""
    if isinstance(value, str) and not value.strip():
        raise AnthologyError(place, "empty quote")
    return check_text(value, place)


def check_number(value: object, place: str) -> str:
    """Return value if it is a chapter or section number such as "1" or "1.3"."""
    check_text(value, place)
    assert isinstance(value, str)
    if not _NUMBER.fullmatch(value):
        raise AnthologyError(place, f"not a number like 1 or 1.3: {value!r}")
    return value


def check_count(value: object, place: str) -> int:
    """Return value if it is a whole number of zero or more."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise AnthologyError(place, f"expected a whole number, got {kind_of(value)}")
    if value < 0:
        raise AnthologyError(place, f"must not be negative: {value}")
    return value


def check_figure(value: object, place: str, *, percent: bool = False) -> float:
    """Return value if it is a finite number (a percentage from 0 to 100 when percent)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise AnthologyError(place, f"expected a number, got {kind_of(value)}")
    if not math.isfinite(value):
        raise AnthologyError(place, f"not a finite number: {value}")
    if percent and not 0 <= value <= 100:
        raise AnthologyError(place, f"a percentage must lie between 0 and 100: {value}")
    return float(value)


def check_choice(value: object, place: str, choices: Iterable[str]) -> str:
    """Return value if it is one of choices."""
    choices = tuple(choices)
    if value not in choices:
        raise AnthologyError(place, f"expected one of {', '.join(choices)}, got {value!r}")
    return value  # type: ignore[return-value]


def logo_type(data: bytes) -> str:
    """Return the media type of a logo that passed check_logo."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        return LOGO_FORMATS[image.format or ""]


def check_logo(data: object, place: str) -> bytes:
    """Return data if it is a PNG, JPEG or GIF image that decodes completely."""
    from PIL import Image, UnidentifiedImageError

    if not isinstance(data, bytes) or not data:
        raise AnthologyError(place, "no image data")
    try:
        with Image.open(io.BytesIO(data)) as image:
            image_format = image.format
            width, height = image.size
            if width * height <= MAX_LOGO_PIXELS:  # checked before decoding a pixel
                image.load()
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        OSError,
        SyntaxError,
        ValueError,
    ) as error:
        raise AnthologyError(place, f"broken image ({error})") from None
    if width * height > MAX_LOGO_PIXELS:
        raise AnthologyError(place, f"image too large ({width} × {height} pixels)")
    if image_format not in LOGO_FORMATS:
        raise AnthologyError(place, f"image must be PNG, JPEG or GIF, not {image_format}")
    return data


def check_unique_numbers(numbers: Iterable[tuple[str, str]], what: str) -> None:
    """Raise AnthologyError at the second place that uses an already used number."""
    seen: dict[str, str] = {}
    for place, number in numbers:
        if number in seen:
            raise AnthologyError(place, f"{what} {number} given twice (first at {seen[number]})")
        seen[number] = place


def check_result(result: StatementResult, place: str) -> None:
    """Check one statement result for consistent figures."""
    check_text(result.section, f"{place}.section")
    check_text(result.text, f"{place}.text")
    for index, label in enumerate(result.scale_labels):
        check_text(label, f"{place}.scale_labels[{index}]")
    if len(result.scale_labels) < 2:
        raise AnthologyError(f"{place}.scale_labels", "a scale needs at least two labels")
    if len(result.distribution) != len(result.scale_labels):
        raise AnthologyError(
            f"{place}.distribution",
            f"{len(result.distribution)} counts for {len(result.scale_labels)} scale labels",
        )
    for index, count in enumerate(result.distribution):
        check_count(count, f"{place}.distribution[{index}]")
    check_count(result.n, f"{place}.n")
    check_count(result.no_opinion, f"{place}.no_opinion")
    if sum(result.distribution) != result.n:
        raise AnthologyError(
            f"{place}.n",
            f"n is {result.n} but the distribution adds up to {sum(result.distribution)}",
        )
    check_figure(result.median, f"{place}.median")
    check_figure(result.iqr, f"{place}.iqr")
    check_figure(result.percent_agreement, f"{place}.percent_agreement", percent=True)
    check_choice(result.consensus, f"{place}.consensus", CONSENSUS_CLASSES)
    for index, figure in enumerate(result.history):
        where = f"{place}.history[{index}]"
        check_count(figure.round, f"{where}.round")
        check_count(figure.n, f"{where}.n")
        check_figure(figure.median, f"{where}.median")
        check_figure(figure.iqr, f"{where}.iqr")
        check_figure(figure.percent_agreement, f"{where}.percent_agreement", percent=True)


def validate(anthology: Anthology) -> None:
    """Raise AnthologyError naming the first place where anthology cannot be rendered."""
    check_text(anthology.title, "title")
    for name in ("subtitle", "organisation", "footer", "author"):
        value = getattr(anthology, name)
        if value is not None:
            check_text(value, name)
    check_text(anthology.introduction, "introduction", multiline=True, required=False)
    check_choice(anthology.language, "language", LANGUAGES)
    if anthology.logo is not None:
        check_logo(anthology.logo, "logo")

    check_unique_numbers(
        ((f"chapters[{c}].number", chapter.number) for c, chapter in enumerate(anthology.chapters)),
        "chapter",
    )
    sections = []
    for c, chapter in enumerate(anthology.chapters):
        place = f"chapters[{c}]"
        check_number(chapter.number, f"{place}.number")
        if chapter.title is not None:
            check_text(chapter.title, f"{place}.title")
        for s, section in enumerate(chapter.sections):
            where = f"{place}.sections[{s}]"
            check_number(section.number, f"{where}.number")
            if section.title is not None:
                check_text(section.title, f"{where}.title")
            sections.append((f"{where}.number", section.number))
            for g, group in enumerate(section.groups):
                check_choice(group.order, f"{where}.groups[{g}].order", ORDERS)
                for q, quote in enumerate(group.quotes):
                    check_quote(quote, f"{where}.groups[{g}].quotes[{q}]")
    check_unique_numbers(sections, "section")

    for index, result in enumerate(anthology.results):
        check_result(result, f"results[{index}]")

    methods = anthology.methods
    if methods is not None:
        for index, (group, size) in enumerate(methods.panel):
            check_text(group, f"methods.panel[{index}].group")
            check_count(size, f"methods.panel[{index}].size")
        for index, round_ in enumerate(methods.rounds):
            where = f"methods.rounds[{index}]"
            check_count(round_.number, f"{where}.number")
            check_count(round_.invited, f"{where}.invited")
            check_count(round_.responded, f"{where}.responded")
            check_count(round_.retired, f"{where}.retired")
            if round_.response_rate is not None:
                check_figure(round_.response_rate, f"{where}.response_rate", percent=True)
            if round_.attrition is not None:
                check_figure(round_.attrition, f"{where}.attrition", percent=True)
        for name in ("consensus_rule", "rule_fixed_at", "stop_rules", "quantile_method"):
            value = getattr(methods, name)
            if value is not None:
                check_text(value, f"methods.{name}", multiline=True)


def kind_of(value: object) -> str:
    """Name the JSON kind of value for a message."""
    if value is None:
        return "null"
    return {
        bool: "true/false",
        int: "a number",
        float: "a number",
        str: "text",
        list: "a list",
        dict: "an object",
    }.get(type(value), type(value).__name__)
