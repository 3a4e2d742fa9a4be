"""Read the JSON form of an anthology (docs/anthology-format.md) into the dataclass tree."""

from __future__ import annotations

import base64
import binascii
import datetime
import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

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
from surveyapp.anthology.validation import (
    CONSENSUS_CLASSES,
    LANGUAGES,
    ORDERS,
    AnthologyError,
    check_choice,
    check_count,
    check_figure,
    check_logo,
    check_number,
    check_quote,
    check_text,
    check_unique_numbers,
    kind_of,
    validate,
)

T = TypeVar("T")

# Free text a file may carry for its readers; the anthology ignores it.
FREE_TEXT_KEYS = frozenset({"about", "note", "layout"})


class _Fields:
    """The keys of one JSON object, read one by one; keys nobody read are an error."""

    def __init__(self, value: object, place: str) -> None:
        if not isinstance(value, Mapping):
            raise AnthologyError(place, f"expected an object, got {kind_of(value)}")
        self.data: Mapping[str, Any] = value
        self.place = place
        self.read: set[str] = set(FREE_TEXT_KEYS)

    def at(self, key: str) -> str:
        return f"{self.place}.{key}" if self.place else key

    def required(self, key: str, check: Callable[[Any, str], T]) -> T:
        self.read.add(key)
        if key not in self.data or self.data[key] is None:
            raise AnthologyError(self.at(key), "required field missing")
        return check(self.data[key], self.at(key))

    def optional(self, key: str, check: Callable[[Any, str], T], default: Any = None) -> Any:
        self.read.add(key)
        if self.data.get(key) is None:
            return default
        return check(self.data[key], self.at(key))

    def finish(self) -> None:
        unknown = sorted(str(key) for key in self.data if key not in self.read)
        if unknown:
            raise AnthologyError(self.at(unknown[0]), "unknown key")


def load_anthology(source: str | os.PathLike[str] | Mapping[str, Any]) -> Anthology:
    """Read an anthology from a JSON file or an already decoded mapping.

    A logo given as a file name is read relative to the JSON file (or the working
    directory for a mapping). Raises AnthologyError naming the place of the first problem.
    """
    if isinstance(source, Mapping):
        data: object = source
        base = Path.cwd()
    else:
        path = Path(source)
        base = path.parent
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as error:
            raise AnthologyError(str(path), f"cannot read ({error.strerror})") from None
        except UnicodeDecodeError:
            raise AnthologyError(str(path), "not UTF-8 text") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise AnthologyError(
                f"{path.name} line {error.lineno} column {error.colno}",
                f"invalid JSON: {error.msg}",
            ) from None
    anthology = _anthology(data, base)
    validate(anthology)
    return anthology


def _anthology(data: object, base: Path) -> Anthology:
    fields = _Fields(data, "")
    title = fields.required("document_title", check_text)
    footer = fields.optional("running_footer", check_text)
    subtitle = fields.optional("subtitle", check_text)
    organisation = fields.optional("organisation", check_text)
    author = fields.optional("author", check_text)
    date = fields.optional("date", _date)
    language = fields.optional("language", _choice(LANGUAGES), "nl")
    logo = fields.optional("logo", lambda value, place: _logo(value, place, base))
    introduction = fields.optional(
        "introduction", lambda v, p: check_text(v, p, multiline=True, required=False), ""
    )
    titles = fields.optional("chapters", _chapter_titles, {})
    sections = fields.required("sections", _list(_section))
    results = fields.optional("results", _list(_result), ())
    methods = fields.optional("methods", _methods)
    fields.finish()

    check_unique_numbers(
        ((f"sections[{index}].number", section.number) for index, section in enumerate(sections)),
        "section",
    )
    return Anthology(
        title=title,
        subtitle=subtitle,
        organisation=organisation,
        date=date,
        logo=logo,
        footer=footer,
        language=language,
        author=author,
        introduction=introduction,
        chapters=group_into_chapters(sections, titles),
        results=results,
        methods=methods,
    )


def group_into_chapters(
    sections: tuple[Section, ...], titles: Mapping[str, str | None] | None = None
) -> tuple[Chapter, ...]:
    """Gather sections into chapters by the first part of their number ("1.3" -> "1").

    Chapters come in the order of their first section; sections keep their given order.
    """
    titles = titles or {}
    members: dict[str, list[Section]] = {}
    for section in sections:
        members.setdefault(section.number.split(".")[0], []).append(section)
    for number in titles:
        members.setdefault(number, [])
    return tuple(
        Chapter(number=number, title=titles.get(number), sections=tuple(chapter_sections))
        for number, chapter_sections in members.items()
    )


def _chapter_titles(value: object, place: str) -> dict[str, str | None]:
    titles: dict[str, str | None] = {}
    for index, item in enumerate(_items(value, place)):
        fields = _Fields(item, f"{place}[{index}]")
        number = fields.required("number", check_number)
        if "." in number:
            raise AnthologyError(fields.at("number"), f"a chapter number has no dot: {number!r}")
        if number in titles:
            raise AnthologyError(fields.at("number"), f"chapter {number} given twice")
        titles[number] = fields.optional("title", check_text)
        fields.finish()
    return titles


def _section(value: object, place: str) -> Section:
    fields = _Fields(value, place)
    number = fields.required("number", check_number)
    title = fields.optional("title", check_text)
    groups = fields.required("groups", _list(_group))
    fields.finish()
    return Section(number=number, title=title, groups=groups)


def _group(value: object, place: str) -> QuoteGroup:
    if isinstance(value, list):
        return QuoteGroup(quotes=_quotes(value, place))
    fields = _Fields(value, place)
    quotes = fields.required("quotes", _quotes)
    order = fields.optional("order", _choice(ORDERS), "alphabetical")
    fields.finish()
    return QuoteGroup(quotes=quotes, order=order)


def _quotes(value: object, place: str) -> tuple[str, ...]:
    return tuple(
        check_quote(item, f"{place}[{index}]") for index, item in enumerate(_items(value, place))
    )


def _result(value: object, place: str) -> StatementResult:
    fields = _Fields(value, place)
    section = fields.required("section", check_text)
    text = fields.required("text", check_text)
    labels = fields.required("scale_labels", _list(check_text))
    distribution = fields.required("distribution", _list(check_count))
    n = fields.optional("n", check_count, sum(distribution))
    result = StatementResult(
        section=section,
        text=text,
        scale_labels=labels,
        distribution=distribution,
        n=n,
        no_opinion=fields.optional("no_opinion", check_count, 0),
        median=fields.required("median", check_figure),
        iqr=fields.required("iqr", check_figure),
        percent_agreement=fields.required("percent_agreement", _percent),
        consensus=fields.required("consensus", _choice(CONSENSUS_CLASSES)),
        history=fields.optional("history", _list(_round_figure), ()),
    )
    fields.finish()
    return result


def _round_figure(value: object, place: str) -> RoundFigure:
    fields = _Fields(value, place)
    figure = RoundFigure(
        round=fields.required("round", check_count),
        n=fields.required("n", check_count),
        median=fields.required("median", check_figure),
        iqr=fields.required("iqr", check_figure),
        percent_agreement=fields.required("percent_agreement", _percent),
    )
    fields.finish()
    return figure


def _methods(value: object, place: str) -> Methods:
    fields = _Fields(value, place)
    methods = Methods(
        panel=fields.optional("panel", _list(_panel_group), ()),
        rounds=fields.optional("rounds", _list(_round_response), ()),
        consensus_rule=fields.optional("consensus_rule", _multiline),
        rule_fixed_at=fields.optional("rule_fixed_at", check_text),
        stop_rules=fields.optional("stop_rules", _multiline),
        quantile_method=fields.optional("quantile_method", check_text),
    )
    fields.finish()
    return methods


def _panel_group(value: object, place: str) -> PanelGroup:
    fields = _Fields(value, place)
    group = PanelGroup(
        group=fields.required("group", check_text), size=fields.required("size", check_count)
    )
    fields.finish()
    return group


def _round_response(value: object, place: str) -> RoundResponse:
    fields = _Fields(value, place)
    response = RoundResponse(
        number=fields.required("number", check_count),
        invited=fields.required("invited", check_count),
        responded=fields.required("responded", check_count),
        response_rate=fields.optional("response_rate", _percent),
        attrition=fields.optional("attrition", _percent),
        retired=fields.optional("retired", check_count, 0),
    )
    fields.finish()
    return response


def _date(value: object, place: str) -> datetime.date:
    check_text(value, place)
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError:
        raise AnthologyError(place, f"expected a date like 2025-11-29, got {value!r}") from None


def _logo(value: object, place: str, base: Path) -> bytes:
    check_text(value, place)
    assert isinstance(value, str)
    if value.startswith("data:"):
        header, _, payload = value.partition(",")
        if not header.endswith(";base64"):
            raise AnthologyError(place, "a data URI logo must be base64 encoded")
        try:
            data = base64.b64decode(payload, validate=True)
        except binascii.Error:
            raise AnthologyError(place, "broken image (invalid base64)") from None
    else:
        try:
            data = (base / value).read_bytes()
        except OSError as error:
            raise AnthologyError(place, f"cannot read {value} ({error.strerror})") from None
    return check_logo(data, place)


def _multiline(value: object, place: str) -> str:
    return check_text(value, place, multiline=True)


def _percent(value: object, place: str) -> float:
    return check_figure(value, place, percent=True)


def _choice(choices: tuple[str, ...]) -> Callable[[Any, str], str]:
    return lambda value, place: check_choice(value, place, choices)


def _list(check: Callable[[Any, str], T]) -> Callable[[Any, str], tuple[T, ...]]:
    def read(value: object, place: str) -> tuple[T, ...]:
        return tuple(
            check(item, f"{place}[{index}]") for index, item in enumerate(_items(value, place))
        )

    return read


def _items(value: object, place: str) -> list[Any]:
    if not isinstance(value, list):
        raise AnthologyError(place, f"expected a list, got {kind_of(value)}")
    return value
