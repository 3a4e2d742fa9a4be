"""Per-item figures within one round, computed on the counts per scale point.

Every figure of a rating item is a function of its distribution (the count of valid answers
per scale point), so the engine works on a matrix of counts, one row per item and round, and
computes all rows at once. ``describe_item`` is the same engine on a single row.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, fields

import numpy as np

from surveyapp.stats.consensus import ConsensusRule, classify, parse_rule

DEFAULT_RULE = "agreement>=75,iqr<=1"
WILCOXON_ZERO_METHODS = ("wilcox", "pratt", "zsplit")

# numpy names of the supported quantile methods -> (alpha, beta) of Hyndman & Fan (1996);
# None marks the methods that round the linear (type 7) position instead of interpolating
QUANTILE_METHODS: dict[str, tuple[float, float] | None] = {
    "linear": (1.0, 1.0),  # type 7: R, Excel, numpy and pandas default
    "weibull": (0.0, 0.0),  # type 6: SPSS, Minitab
    "hazen": (0.5, 0.5),  # type 5
    "interpolated_inverted_cdf": (0.0, 1.0),  # type 4
    "median_unbiased": (1 / 3, 1 / 3),  # type 8, recommended by Hyndman & Fan
    "normal_unbiased": (3 / 8, 3 / 8),  # type 9
    "lower": None,
    "higher": None,
    "midpoint": None,
    "nearest": None,
}


def default_bands(scale_min: int, scale_max: int) -> tuple[tuple[int, int], tuple[int, int]]:
    """Return the agreement and disagreement bands: the top two and the bottom two points.

    Scales of two or three points get the top and the bottom point, so the bands never meet.
    """
    width = 1 if scale_max - scale_min >= 3 else 0
    return (scale_max - width, scale_max), (scale_min, scale_min + width)


def is_nine_point(scale_min: int, scale_max: int) -> bool:
    """Tell whether the scale is the 1-9 scale of the RAND/UCLA method and the 70/15 rule."""
    return (scale_min, scale_max) == (1, 9)


@dataclass(frozen=True)
class Settings:
    """The study's statistical settings, fixed before round 1 and printed with the results.

    ``agree`` and ``disagree`` default to the top two and bottom two points of the scale.
    ``rule`` may be given as a rule string; it is parsed on construction.
    """

    scale_min: int = 1
    scale_max: int = 5
    agree: tuple[int, int] | None = None
    disagree: tuple[int, int] | None = None
    quantile: str = "linear"
    rule: ConsensusRule = field(default_factory=lambda: parse_rule(DEFAULT_RULE))
    stability_threshold: float = 15.0
    min_group_size: int = 5
    retire_stable: bool = True
    round_cap: int | None = None
    wilcoxon_zero_method: str = "wilcox"

    def __post_init__(self) -> None:
        if isinstance(self.rule, str):
            object.__setattr__(self, "rule", parse_rule(self.rule))
        if not isinstance(self.rule, ConsensusRule):
            raise TypeError("rule must be a ConsensusRule or a rule string")
        if int(self.scale_min) != self.scale_min or int(self.scale_max) != self.scale_max:
            raise ValueError("scale end points must be whole numbers")
        if self.scale_max <= self.scale_min:
            raise ValueError(f"scale {self.scale_min}-{self.scale_max}: the top must be higher")
        if self.agree is None or self.disagree is None:
            agree, disagree = default_bands(self.scale_min, self.scale_max)
            object.__setattr__(self, "agree", tuple(self.agree or agree))
            object.__setattr__(self, "disagree", tuple(self.disagree or disagree))
        for name in ("agree", "disagree"):
            low, high = band = tuple(getattr(self, name))
            object.__setattr__(self, name, band)
            if not self.scale_min <= low <= high <= self.scale_max:
                raise ValueError(
                    f"{name} band {low}-{high} must lie within the scale "
                    f"{self.scale_min}-{self.scale_max}"
                )
        if max(self.agree[0], self.disagree[0]) <= min(self.agree[1], self.disagree[1]):
            raise ValueError("the agree and disagree bands overlap")
        if self.quantile not in QUANTILE_METHODS:
            raise ValueError(
                f"unknown quantile method {self.quantile!r}; one of {', '.join(QUANTILE_METHODS)}"
            )
        if self.rule.needs_nine_point_scale and not is_nine_point(self.scale_min, self.scale_max):
            raise ValueError(f"rule {self.rule} uses measures defined on the 1-9 scale only")
        if not 0 <= self.stability_threshold <= 100:
            raise ValueError("stability threshold is a percentage between 0 and 100")
        if self.min_group_size < 1:
            raise ValueError("minimum group size must be at least 1")
        if self.round_cap is not None and self.round_cap < 1:
            raise ValueError("round cap must be at least 1")
        if self.wilcoxon_zero_method not in WILCOXON_ZERO_METHODS:
            raise ValueError(f"wilcoxon_zero_method must be one of {WILCOXON_ZERO_METHODS}")

    @property
    def points(self) -> int:
        return self.scale_max - self.scale_min + 1

    def to_dict(self) -> dict[str, object]:
        return {
            "scale": [self.scale_min, self.scale_max],
            "agree": list(self.agree),
            "disagree": list(self.disagree),
            "quantile": self.quantile,
            "rule": str(self.rule),
            "stability_threshold": self.stability_threshold,
            "min_group_size": self.min_group_size,
            "retire_stable": self.retire_stable,
            "round_cap": self.round_cap,
            "wilcoxon_zero_method": self.wilcoxon_zero_method,
        }


@dataclass(frozen=True)
class ItemStats:
    """Figures for one item in one round; None where a figure is undefined."""

    n: int
    no_opinion: int
    distribution: tuple[int, ...]
    median: float | None
    q1: float | None
    q3: float | None
    iqr: float | None
    mean: float | None
    sd: float | None
    cv: float | None
    percent_agreement: float | None
    percent_disagreement: float | None
    rule_70_15: bool
    rand_p30: float | None
    rand_p70: float | None
    rand_ipr: float | None
    rand_ipras: float | None
    rand_di: float | None
    rand_class: str | None
    tastle_wierman: float | None
    leik_d: float | None
    van_der_eijk_a: float | None
    rwg: float | None
    consensus: str

    def to_dict(self) -> dict[str, object]:
        result = asdict(self)
        result["distribution"] = list(self.distribution)
        return result


ITEM_FIELDS = tuple(f.name for f in fields(ItemStats))
RAND_CLASSES = ("inappropriate", "uncertain", "appropriate")


def quantiles_from_counts(
    counts: np.ndarray, points: np.ndarray, probabilities: Sequence[float], method: str
) -> np.ndarray:
    """Return quantiles (rows x probabilities) of each row's values, given as counts per point.

    Matches ``numpy.quantile(values, probabilities, method=method)`` on the expanded values;
    rows without values give NaN.
    """
    counts = np.asarray(counts, dtype=np.int64)
    n = counts.sum(axis=1)
    size = np.maximum(n, 1).astype(float)[:, None]
    q = np.asarray(probabilities, dtype=float)[None, :]
    parameters = QUANTILE_METHODS[method]
    if parameters is None:
        position = (size - 1) * q
        if method == "lower":
            position = np.floor(position)
        elif method == "higher":
            position = np.ceil(position)
        elif method == "nearest":
            position = np.rint(position)  # numpy rounds half to even here too
        else:  # midpoint
            position = 0.5 * (np.floor(position) + np.ceil(position))
    elif method == "linear":
        position = (size - 1) * q  # numpy's form, which avoids rounding noise
    else:
        alpha, beta = parameters
        position = size * q + (alpha + q * (1 - alpha - beta)) - 1
    below = np.floor(position)
    gamma = position - below
    last = size - 1
    low_index = np.clip(below, 0, last)
    high_index = np.clip(below + 1, 0, last)
    above = position >= last
    low_index = np.where(above, last, low_index)
    high_index = np.where(above, last, high_index)
    cumulative = np.cumsum(counts, axis=1)
    low = points[_order_statistic(cumulative, low_index)]
    high = points[_order_statistic(cumulative, high_index)]
    difference = high - low
    # numpy's lerp, written the same way so both give identical floats
    result = np.where(gamma >= 0.5, high - difference * (1 - gamma), low + difference * gamma)
    result[n == 0] = np.nan
    return result


def _order_statistic(cumulative: np.ndarray, index: np.ndarray) -> np.ndarray:
    """Index of the scale point holding the given 0-based order statistic of each row."""
    return (
        (cumulative[:, None, :] <= index[:, :, None]).sum(axis=2).clip(max=cumulative.shape[1] - 1)
    )


def tastle_wierman(counts: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Tastle & Wierman (2007) consensus per row; the width is the scale's, not the answers'."""
    counts = np.asarray(counts, dtype=float)
    n = counts.sum(axis=1)
    p = counts / np.maximum(n, 1)[:, None]
    mean = (p * points).sum(axis=1)  # not a matrix product: same floats for 1 row or many
    width = points[-1] - points[0]
    # empty categories are skipped; log2(1) = 0 does that without a division warning
    distance = np.where(counts > 0, 1 - np.abs(points[None, :] - mean[:, None]) / width, 1.0)
    result = 1 + (p * np.log2(distance)).sum(axis=1)
    result[n == 0] = np.nan
    return result


def leik_d(counts: np.ndarray) -> np.ndarray:
    """Leik's (1966) ordinal dispersion D: 0 all in one category, 1 split between the ends."""
    counts = np.asarray(counts, dtype=float)
    n = counts.sum(axis=1)
    cumulative = np.cumsum(counts, axis=1)[:, :-1] / np.maximum(n, 1)[:, None]
    folded = np.where(cumulative <= 0.5, cumulative, 1 - cumulative)
    result = 2 * folded.sum(axis=1) / (counts.shape[1] - 1)
    result[n == 0] = np.nan
    return result


def van_der_eijk_a(counts: np.ndarray) -> np.ndarray:
    """Van der Eijk's (2001) agreement A by layered decomposition of each frequency vector."""
    remaining = np.asarray(counts, dtype=float).copy()
    n = remaining.sum(axis=1)
    total = np.zeros(len(remaining))
    while True:
        filled = remaining > 0
        if not filled.any():
            break
        smallest = np.where(filled, remaining, np.inf).min(axis=1)
        smallest[~np.isfinite(smallest)] = 0
        layer_size = smallest * filled.sum(axis=1)
        total += layer_size * _pattern_agreement(filled)
        remaining = np.where(filled, remaining - smallest[:, None], 0)
    return np.divide(total, n, out=np.full(len(n), np.nan), where=n > 0)


def _pattern_agreement(pattern: np.ndarray) -> np.ndarray:
    """Agreement A of binary patterns (non-empty categories), van der Eijk (2001) eq. 2-3.

    Triples of categories i < j < l are counted in O(K) per row: 101 triples (TDU) have an
    empty middle with filled categories on both sides; 110 and 011 triples (TU) have an empty
    end beyond two filled categories.
    """
    k = pattern.shape[1]
    filled = pattern.astype(float)
    empty = 1 - filled
    s = filled.sum(axis=1)
    left = np.cumsum(filled, axis=1) - filled  # filled categories before each position
    right = s[:, None] - left - filled  # filled categories after it
    tdu = (empty * left * right).sum(axis=1)
    tu = (empty * (left * (left - 1) / 2 + right * (right - 1) / 2)).sum(axis=1)
    if k < 3:
        unimodality = np.ones(len(pattern))
    else:
        denominator = (k - 2) * (tu + tdu)
        numerator = (k - 2) * tu - (k - 1) * tdu
        unimodality = np.divide(
            numerator, denominator, out=np.ones(len(pattern)), where=denominator > 0
        )
    return unimodality * (1 - (s - 1) / (k - 1))


def item_measures(
    counts: np.ndarray, no_opinion: np.ndarray, settings: Settings, *, bands: bool = True
) -> dict[str, np.ndarray]:
    """Compute every per-item figure for each row of a (rows x scale points) count matrix.

    Returns one array per ItemStats field (NaN where undefined; booleans and classes as
    floats and codes, converted by ``item_stats_rows``) plus helper columns for the rule.
    ``bands=False`` (ranking items) leaves the band-based figures undefined.
    """
    counts = np.asarray(counts, dtype=np.int64)
    rows, k = counts.shape
    points = np.arange(settings.scale_min, settings.scale_max + 1, dtype=float)
    n = counts.sum(axis=1)
    empty = n == 0
    single = n < 2
    share = counts / np.maximum(n, 1)[:, None]

    mean = (share * points).sum(axis=1)  # not a matrix product: same floats for 1 row or many
    mean[empty] = np.nan
    deviation = points[None, :] - np.nan_to_num(mean)[:, None]
    variance = (counts * deviation**2).sum(axis=1) / np.maximum(n - 1, 1)
    variance[single] = np.nan
    sd = np.sqrt(variance)
    cv = np.divide(sd, mean, out=np.full(rows, np.nan), where=~single & (mean != 0))

    q1, median, q3 = quantiles_from_counts(counts, points, (0.25, 0.5, 0.75), settings.quantile).T
    columns: dict[str, np.ndarray] = {
        "n": n,
        "no_opinion": np.asarray(no_opinion, dtype=np.int64),
        "distribution": counts,
        "median": median,
        "q1": q1,
        "q3": q3,
        "iqr": q3 - q1,
        "mean": mean,
        "sd": sd,
        "cv": cv,
    }

    def percent_between(low: int, high: int) -> np.ndarray:
        inside = share[:, low - settings.scale_min : high - settings.scale_min + 1].sum(axis=1)
        return np.where(empty, np.nan, 100 * inside)

    undefined = np.full(rows, np.nan)
    if bands:
        columns["percent_agreement"] = percent_between(*settings.agree)
        columns["percent_disagreement"] = percent_between(*settings.disagree)
    else:
        columns["percent_agreement"] = columns["percent_disagreement"] = undefined

    nine_point = bands and is_nine_point(settings.scale_min, settings.scale_max)
    if nine_point:
        top, bottom = percent_between(7, 9), percent_between(1, 3)
        rule_70_15 = np.where(empty, 0.0, (top >= 70) & (bottom < 15))
        p30, p70 = quantiles_from_counts(counts, points, (0.3, 0.7), settings.quantile).T
        ipr = p70 - p30
        ipras = 2.35 + 1.5 * np.abs(5 - (p30 + p70) / 2)
        di = ipr / ipras
        without_disagreement = di <= 1
        rand_class = np.where(empty, np.nan, 1.0)  # uncertain
        rand_class[without_disagreement & (median >= 7)] = 2  # appropriate
        rand_class[without_disagreement & (median <= 3)] = 0  # inappropriate
    else:
        top = bottom = p30 = p70 = ipr = ipras = di = rand_class = undefined
        # The rule is defined on 1-9 scales only; elsewhere it is simply not met. The JSON
        # contract keeps it a boolean everywhere.
        rule_70_15 = np.zeros(rows)
    columns.update(
        rule_70_15=rule_70_15,
        rand_p30=p30,
        rand_p70=p70,
        rand_ipr=ipr,
        rand_ipras=ipras,
        rand_di=di,
        rand_class=rand_class,
        tastle_wierman=tastle_wierman(counts, points),
        leik_d=leik_d(counts),
        van_der_eijk_a=van_der_eijk_a(counts),
    )
    uniform_variance = (k**2 - 1) / 12
    columns["rwg"] = 1 - np.minimum(variance, uniform_variance) / uniform_variance
    columns["leik_consensus"] = 1 - columns["leik_d"]
    columns["percent_7_9"], columns["percent_1_3"] = top, bottom
    columns["consensus"] = classify(
        settings.rule,
        columns,
        scale_min=settings.scale_min,
        scale_max=settings.scale_max,
        agree=settings.agree if bands else None,
        disagree=settings.disagree if bands else None,
    )
    return columns


def _float_or_none(values: np.ndarray) -> list[float | None]:
    return [None if math.isnan(value) else value for value in values.tolist()]


def item_stats_rows(columns: dict[str, np.ndarray]) -> list[ItemStats]:
    """Turn the engine's column arrays into ItemStats objects, NaN becoming None."""
    converted: dict[str, Iterable[object]] = {}
    for name in ITEM_FIELDS:
        values = columns[name]
        if name in ("n", "no_opinion", "consensus"):
            converted[name] = values.tolist()
        elif name == "distribution":
            converted[name] = map(tuple, values.tolist())
        elif name == "rule_70_15":
            converted[name] = [bool(v) for v in values.tolist()]
        elif name == "rand_class":
            converted[name] = [
                None if v is None else RAND_CLASSES[int(v)] for v in _float_or_none(values)
            ]
        else:
            converted[name] = _float_or_none(values)
    return [ItemStats(*row) for row in zip(*converted.values(), strict=True)]


def counts_of(values: Sequence[float | None], settings: Settings) -> tuple[np.ndarray, int]:
    """Count valid answers per scale point; None and NaN are "no opinion"."""
    numbers = np.array([math.nan if v is None else float(v) for v in values], dtype=float)
    valid = numbers[~np.isnan(numbers)]
    off_scale = (valid < settings.scale_min) | (valid > settings.scale_max)
    if off_scale.any() or (valid != np.round(valid)).any():
        bad = valid[off_scale | (valid != np.round(valid))][0]
        raise ValueError(
            f"value {bad:g} is not a point of the scale {settings.scale_min}-{settings.scale_max}"
        )
    index = valid.astype(np.int64) - settings.scale_min
    counts = np.bincount(index, minlength=settings.points)
    return counts, int(len(numbers) - len(valid))


def describe_item(values: Sequence[float | None], settings: Settings) -> ItemStats:
    """Compute the figures of one item in one round from its answers (None = no opinion)."""
    counts, no_opinion = counts_of(values, settings)
    columns = item_measures(counts[None, :], np.array([no_opinion]), settings)
    return item_stats_rows(columns)[0]
