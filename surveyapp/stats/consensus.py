"""Consensus rules: parse a rule string and class items as consensus in, out or none.

A rule is a comma-separated list of criteria that must all hold, for example
``agreement>=75,iqr<=1``, or the keyword ``70/15``. "Consensus in" means the rule holds on
the agreement side; "consensus out" means the mirrored rule holds: an agreement criterion is
read on the disagreement band, a median or mean threshold is reflected through the middle of
the scale, and the 70/15 rule swaps its bands. Measures of spread and consensus (IQR, Tastle &
Wierman, rWG, ...) have no side and read the same in both directions.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np


class RuleError(ValueError):
    """A consensus rule string that cannot be understood."""


@dataclass(frozen=True)
class _Measure:
    column: str
    mirror_column: str
    reflect: bool  # True for location measures, mirrored through the middle of the scale
    low: float
    high: float


# key in a rule -> the per-item figure it reads; mirrored for consensus out
MEASURES: Mapping[str, _Measure] = {
    "agreement": _Measure("percent_agreement", "percent_disagreement", False, 0, 100),
    "disagreement": _Measure("percent_disagreement", "percent_agreement", False, 0, 100),
    "iqr": _Measure("iqr", "iqr", False, 0, math.inf),
    "median": _Measure("median", "median", True, -math.inf, math.inf),
    "mean": _Measure("mean", "mean", True, -math.inf, math.inf),
    "sd": _Measure("sd", "sd", False, 0, math.inf),
    "cv": _Measure("cv", "cv", False, 0, math.inf),
    "tastle_wierman": _Measure("tastle_wierman", "tastle_wierman", False, 0, 1),
    "rwg": _Measure("rwg", "rwg", False, 0, 1),
    "leik": _Measure("leik_consensus", "leik_consensus", False, 0, 1),
    "van_der_eijk": _Measure("van_der_eijk_a", "van_der_eijk_a", False, -1, 1),
    "di": _Measure("rand_di", "rand_di", False, 0, math.inf),
}

KEYWORD_70_15 = "70/15"

# measures that only exist on a 1-9 scale
NINE_POINT_KEYS = frozenset({KEYWORD_70_15, "di"})

_OPERATORS = {
    ">=": np.greater_equal,
    "<=": np.less_equal,
    ">": np.greater,
    "<": np.less,
}
_FLIPPED = {">=": "<=", "<=": ">=", ">": "<", "<": ">"}
_CRITERION = re.compile(r"^([a-z_]+)\s*(>=|<=|>|<)\s*([-+]?(?:\d+\.?\d*|\.\d+))$")


@dataclass(frozen=True)
class Criterion:
    """One condition of a rule: a measure compared with a threshold, or the 70/15 keyword."""

    key: str
    operator: str = ""
    threshold: float = math.nan

    def __str__(self) -> str:
        if self.key == KEYWORD_70_15:
            return KEYWORD_70_15
        return f"{self.key}{self.operator}{_format_number(self.threshold)}"


@dataclass(frozen=True)
class ConsensusRule:
    """Criteria that must all hold for an item to reach consensus."""

    criteria: tuple[Criterion, ...]

    def __str__(self) -> str:
        return ",".join(str(criterion) for criterion in self.criteria)

    @property
    def keys(self) -> frozenset[str]:
        return frozenset(criterion.key for criterion in self.criteria)

    @property
    def needs_nine_point_scale(self) -> bool:
        return bool(self.keys & NINE_POINT_KEYS)


def _format_number(value: float) -> str:
    return str(int(value)) if value.is_integer() else repr(value)


def parse_rule(text: str) -> ConsensusRule:
    """Parse a rule such as ``agreement>=75,iqr<=1`` or ``70/15``."""
    if not isinstance(text, str) or not text.strip():
        raise RuleError("a consensus rule needs at least one criterion, e.g. agreement>=75")
    criteria = []
    for part in text.split(","):
        part = part.strip().lower()
        if not part:
            raise RuleError(f"empty criterion in rule {text!r}")
        if part == KEYWORD_70_15:
            criteria.append(Criterion(KEYWORD_70_15))
            continue
        match = _CRITERION.match(part)
        if match is None:
            raise RuleError(
                f"cannot read criterion {part!r}: write measure, operator, number, "
                "e.g. agreement>=75 (operators: >=, <=, >, <)"
            )
        key, operator, number = match.groups()
        measure = MEASURES.get(key)
        if measure is None:
            known = ", ".join([*MEASURES, KEYWORD_70_15])
            raise RuleError(f"unknown measure {key!r} in {part!r}; known: {known}")
        threshold = float(number)
        if not measure.low <= threshold <= measure.high:
            raise RuleError(
                f"threshold {number} for {key} is outside its range "
                f"{_format_number(float(measure.low))} to {_format_number(float(measure.high))}"
            )
        criteria.append(Criterion(key, operator, threshold))
    return ConsensusRule(tuple(criteria))


def _holds(
    criterion: Criterion,
    columns: Mapping[str, np.ndarray],
    *,
    mirrored: bool,
    scale_min: float,
    scale_max: float,
) -> np.ndarray:
    """Evaluate one criterion for every row; an undefined figure never satisfies it."""
    if criterion.key == KEYWORD_70_15:
        upper, lower = columns["percent_7_9"], columns["percent_1_3"]
        if mirrored:
            upper, lower = lower, upper
        return (upper >= 70) & (lower < 15)
    measure = MEASURES[criterion.key]
    values = columns[measure.mirror_column if mirrored else measure.column]
    operator, threshold = criterion.operator, criterion.threshold
    if mirrored and measure.reflect:
        operator = _FLIPPED[operator]
        threshold = scale_min + scale_max - threshold
    return _OPERATORS[operator](values, threshold)


def classify(
    rule: ConsensusRule,
    columns: Mapping[str, np.ndarray],
    *,
    scale_min: float,
    scale_max: float,
    agree: tuple[int, int] | None,
    disagree: tuple[int, int] | None,
) -> np.ndarray:
    """Class each row as "in", "out" or "none".

    When both the rule and its mirror hold (a rule without a side, such as ``iqr<=1``), the
    median decides: inside the agreement band is "in", inside the disagreement band "out",
    anywhere else (the neutral middle) "none".
    """
    size = len(columns["median"])
    holds_in = np.ones(size, dtype=bool)
    holds_out = np.ones(size, dtype=bool)
    for criterion in rule.criteria:
        bounds = {"scale_min": scale_min, "scale_max": scale_max}
        holds_in &= _holds(criterion, columns, mirrored=False, **bounds)
        holds_out &= _holds(criterion, columns, mirrored=True, **bounds)
    median = columns["median"]
    in_agree = _in_band(median, agree)
    in_disagree = _in_band(median, disagree)
    both = holds_in & holds_out
    is_in = (holds_in & ~holds_out) | (both & in_agree)
    is_out = (holds_out & ~holds_in) | (both & in_disagree)
    result = np.full(size, "none", dtype=object)
    result[is_in] = "in"
    result[is_out] = "out"
    return result


def _in_band(values: np.ndarray, band: tuple[int, int] | None) -> np.ndarray:
    if band is None:
        return np.zeros(len(values), dtype=bool)
    return (values >= band[0]) & (values <= band[1])
