"""The anthology as plain, frozen data: what the PDF and HTML renderers take."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

from surveyapp.anthology.collation import dutch_sorted

Order = Literal["alphabetical", "given"]
ConsensusClass = Literal["in", "out", "none"]


@dataclass(frozen=True)
class QuoteGroup:
    """Quotes set apart as one block; sorted with Dutch collation unless order is "given"."""

    quotes: tuple[str, ...]
    order: Order = "alphabetical"

    def in_order(self) -> list[str]:
        """Return the quotes as printed: Dutch alphabetical order unless the order is given."""
        return list(self.quotes) if self.order == "given" else dutch_sorted(self.quotes)


@dataclass(frozen=True)
class Section:
    """A numbered section ("1.3") with an optional title and its groups of quotes."""

    number: str
    title: str | None
    groups: tuple[QuoteGroup, ...]

    @property
    def heading(self) -> str:
        """Return the printed heading: number and title, or the number alone."""
        return f"{self.number} {self.title}" if self.title else self.number


@dataclass(frozen=True)
class Chapter:
    """A numbered chapter ("1") holding sections; a chapter without title prints its number."""

    number: str
    title: str | None
    sections: tuple[Section, ...]

    @property
    def heading(self) -> str:
        """Return the printed heading: number and title, or the number alone."""
        return f"{self.number} {self.title}" if self.title else self.number


class RoundFigure(NamedTuple):
    """One statement's figures in one rating round."""

    round: int
    n: int
    median: float
    iqr: float
    percent_agreement: float


@dataclass(frozen=True)
class StatementResult:
    """One statement of the rating rounds with its last distribution and its history.

    distribution holds a count per scale label, in scale order; no_opinion answers are
    counted apart and are never part of n, the median, IQR or agreement.
    """

    section: str
    text: str
    scale_labels: tuple[str, ...]
    distribution: tuple[int, ...]
    n: int
    median: float
    iqr: float
    percent_agreement: float
    consensus: ConsensusClass
    no_opinion: int = 0
    history: tuple[RoundFigure, ...] = ()


class PanelGroup(NamedTuple):
    """A panel group and how many experts it holds."""

    group: str
    size: int


@dataclass(frozen=True)
class RoundResponse:
    """Invitations and responses in one round; rates are percentages (0-100)."""

    number: int
    invited: int
    responded: int
    response_rate: float | None = None
    attrition: float | None = None
    retired: int = 0

    @property
    def rate(self) -> float:
        """Return the response rate, computed when not given."""
        if self.response_rate is not None:
            return self.response_rate
        return 100.0 * self.responded / self.invited if self.invited else 0.0


@dataclass(frozen=True)
class Methods:
    """What the methods appendix reports about how the study was run."""

    panel: tuple[PanelGroup, ...] = ()
    rounds: tuple[RoundResponse, ...] = ()
    consensus_rule: str | None = None
    rule_fixed_at: str | None = None
    stop_rules: str | None = None
    quantile_method: str | None = None


@dataclass(frozen=True)
class Anthology:
    """The whole anthology: cover, introduction, chapters of quotes, results and methods.

    introduction is plain text: paragraphs separated by blank lines, *emphasis*, **strong**,
    and lines starting with "- " forming a list.
    """

    title: str
    chapters: tuple[Chapter, ...] = ()
    subtitle: str | None = None
    organisation: str | None = None
    date: datetime.date | None = None
    logo: bytes | None = field(default=None, repr=False)
    footer: str | None = None
    language: str = "nl"
    author: str | None = None
    introduction: str = ""
    results: tuple[StatementResult, ...] = ()
    methods: Methods | None = None

    @property
    def footer_text(self) -> str:
        """Return the running footer: the footer text, else the title."""
        return self.footer or self.title
