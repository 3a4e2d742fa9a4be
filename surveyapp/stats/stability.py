"""Per-item figures between two consecutive rounds.

The distribution change (Scheibe et al. 1975) compares all valid answers of each round; every
paired figure uses the experts who gave a valid rating in both rounds. The engine works on
arrays of pairs labelled by a group number (one group per item and pair of rounds), so a
whole study is computed at once; ``compare_rounds`` is the same engine on one group.

Stated conventions:
- Wilcoxon signed-rank: normal approximation with tie correction and without continuity
  correction (scipy's ``method="asymptotic", correction=False``); zero differences are handled
  by ``Settings.wilcoxon_zero_method``: "wilcox" drops them (Wilcoxon 1945, the default),
  "pratt" ranks then drops them (Pratt 1959), "zsplit" splits their ranks between the signs.
  No non-zero difference leaves the test undefined (null).
- McNemar on agree / not agree: exact two-sided binomial test on the discordant pairs;
  no discordant pair gives p = 1.
- Bowker's symmetry test on the bands (disagree, neutral, agree): chi-square over the
  off-diagonal pairs that occur; undefined when no expert changed band.
- Weighted kappa (Cohen 1968, used between rounds by Holey et al. 2007): all k scale points
  in the table, disagreement weights |i-j|/(k-1) (linear) or their squares (quadratic).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import asdict, dataclass, fields

import numpy as np
from scipy import special

from surveyapp.stats.measures import Settings, counts_of, item_measures

CONTRACT_FIELDS = (
    "n_paired",
    "distribution_change_pct",
    "pct_changed",
    "pct_band_changed",
    "mean_abs_change",
    "wilcoxon_p",
    "mcnemar_p",
    "kappa_linear",
    "kappa_quadratic",
    "spearman_rho",
    "delta_iqr",
    "delta_cv",
    "stable",
)


@dataclass(frozen=True)
class Stability:
    """Movement of one item between two consecutive rounds; None where undefined.

    ``attrition`` counts experts with a valid rating in the earlier round but none in the
    later one; ``mean_movement_to_median`` is positive when experts moved toward the earlier
    round's median (convergence).
    """

    n_paired: int
    distribution_change_pct: float | None
    pct_changed: float | None
    pct_band_changed: float | None
    mean_abs_change: float | None
    wilcoxon_p: float | None
    mcnemar_p: float | None
    kappa_linear: float | None
    kappa_quadratic: float | None
    spearman_rho: float | None
    delta_iqr: float | None
    delta_cv: float | None
    stable: bool
    attrition: int
    mean_movement_to_median: float | None
    bowker_p: float | None

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


STABILITY_FIELDS = tuple(f.name for f in fields(Stability))


def distribution_change(before_counts: np.ndarray, after_counts: np.ndarray) -> np.ndarray:
    """Scheibe et al. (1975): half the summed absolute change in category shares, in percent."""
    before = np.asarray(before_counts, dtype=float)
    after = np.asarray(after_counts, dtype=float)
    n_before, n_after = before.sum(axis=1), after.sum(axis=1)
    defined = (n_before > 0) & (n_after > 0)
    share_before = before / np.maximum(n_before, 1)[:, None]
    share_after = after / np.maximum(n_after, 1)[:, None]
    change = 50 * np.abs(share_after - share_before).sum(axis=1)
    return np.where(defined, change, np.nan)


def _per_group(groups: np.ndarray, weights: np.ndarray, size: int) -> np.ndarray:
    return np.bincount(groups, weights=weights, minlength=size)


def _table(groups: np.ndarray, categories: np.ndarray, size: int, k: int) -> np.ndarray:
    """Count pairs per group and category: a (groups x k) matrix."""
    return np.bincount(groups * k + categories, minlength=size * k).reshape(size, k)


def _midranks(table: np.ndarray) -> np.ndarray:
    """Mid-rank of each category within each row of a count table."""
    below = np.cumsum(table, axis=1) - table
    return below + (table + 1) / 2


def _safe_divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    return np.divide(
        numerator,
        denominator,
        out=np.full(np.shape(numerator), np.nan),
        where=denominator > 0,
    )


def wilcoxon_p(differences_by_size: np.ndarray, zero_method: str) -> np.ndarray:
    """Two-sided Wilcoxon signed-rank p from signed difference counts per group.

    ``differences_by_size`` is (groups x 2 x k): [:, 0, m] counts differences of -m, [:, 1, m]
    differences of +m; the zero differences are counted at [:, 0, 0].
    """
    negative = differences_by_size[:, 0, 1:].astype(float)
    positive = differences_by_size[:, 1, 1:].astype(float)
    zeros = differences_by_size[:, 0, 0].astype(float)
    ties = negative + positive
    below = np.cumsum(ties, axis=1) - ties
    nonzero = ties.sum(axis=1)
    if zero_method == "wilcox":
        ranks = below + (ties + 1) / 2
        count = nonzero
        tie_sum = (ties**3 - ties).sum(axis=1)
        plus = (positive * ranks).sum(axis=1)
    else:
        ranks = zeros[:, None] + below + (ties + 1) / 2
        count = nonzero + zeros
        plus = (positive * ranks).sum(axis=1)
        tie_sum = (ties**3 - ties).sum(axis=1)
        if zero_method == "zsplit":
            tie_sum += zeros**3 - zeros
            plus += zeros * (zeros + 1) / 4  # half the zeros' rank sum
    mean = count * (count + 1) / 4
    variance = count * (count + 1) * (2 * count + 1)
    if zero_method == "pratt":
        mean -= zeros * (zeros + 1) / 4
        variance -= zeros * (zeros + 1) * (2 * zeros + 1)
    variance = (variance - tie_sum / 2) / 24
    defined = variance > 0
    z = _safe_divide(np.abs(plus - mean), np.sqrt(np.where(defined, variance, 0)))
    return np.minimum(1.0, 2 * special.ndtr(-z))


def bowker_p(band_table: np.ndarray) -> np.ndarray:
    """Bowker's symmetry test on (groups x b x b) tables; NaN when no pair changed band."""
    upper = np.triu_indices(band_table.shape[1], k=1)
    above = band_table[:, upper[0], upper[1]].astype(float)
    below = band_table[:, upper[1], upper[0]].astype(float)
    discordant = above + below
    squared = (above - below) ** 2
    statistic = np.divide(squared, discordant, out=np.zeros_like(squared), where=discordant > 0)
    statistic = statistic.sum(axis=1)
    freedom = (discordant > 0).sum(axis=1)
    return np.where(freedom > 0, special.chdtrc(np.maximum(freedom, 1), statistic), np.nan)


def weighted_kappas(
    groups: np.ndarray,
    before: np.ndarray,
    after: np.ndarray,
    rows_before: np.ndarray,
    rows_after: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Linear and quadratic weighted kappa per group, in exact integer sums.

    kappa = 1 - n sum_pairs w(b, a) / sum_ij w_ij r_i c_j with w = |i - j| or (i - j)^2;
    the scale width that normalises the weights cancels. The expected sums come from the
    marginal counts r and c without a k x k table, so long rank scales stay cheap.
    """
    size, k = rows_before.shape
    n = rows_before.sum(axis=1)
    index = np.arange(k)
    distance = np.abs(after - before)
    observed_linear = np.bincount(groups, weights=distance, minlength=size)
    observed_quadratic = np.bincount(groups, weights=distance**2, minlength=size)

    def moments(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return (rows * index).sum(axis=1), (rows * index**2).sum(axis=1)

    first_before, second_before = moments(rows_before)
    first_after, second_after = moments(rows_after)
    expected_quadratic = second_before * n + n * second_after - 2 * first_before * first_after
    # sum_i |i - j| r_i for every j, from the counts and index sums below and above j
    count_below = np.cumsum(rows_before, axis=1) - rows_before
    index_below = np.cumsum(rows_before * index, axis=1) - rows_before * index
    count_above = n[:, None] - count_below - rows_before
    index_above = first_before[:, None] - index_below - rows_before * index
    to_each = index * count_below - index_below + index_above - index * count_above
    expected_linear = (to_each * rows_after).sum(axis=1)
    paired = n > 0

    def kappa(observed: np.ndarray, expected: np.ndarray) -> np.ndarray:
        return np.where(paired, 1 - _safe_divide(observed * n, expected.astype(float)), np.nan)

    return kappa(observed_linear, expected_linear), kappa(observed_quadratic, expected_quadratic)


def stability_measures(
    before: Mapping[str, np.ndarray],
    after: Mapping[str, np.ndarray],
    pair_group: np.ndarray,
    rating_before: np.ndarray,
    rating_after: np.ndarray,
    settings: Settings,
    *,
    bands: bool = True,
) -> dict[str, np.ndarray]:
    """Compute every between-round figure, one row per group.

    ``before`` and ``after`` are item_measures() columns of the two rounds (row g of both is
    group g); ``pair_group``, ``rating_before`` and ``rating_after`` list the paired experts,
    their ratings as 0-based scale indexes.
    """
    size = len(before["n"])
    k = settings.points
    groups = np.asarray(pair_group, dtype=np.int64)
    b = np.asarray(rating_before, dtype=np.int64)
    a = np.asarray(rating_after, dtype=np.int64)
    n_paired = np.bincount(groups, minlength=size)
    paired = n_paired > 0
    n = np.maximum(n_paired, 1).astype(float)

    def share(flags: np.ndarray) -> np.ndarray:
        return np.where(paired, 100 * _per_group(groups, flags.astype(float), size) / n, np.nan)

    def average(values: np.ndarray) -> np.ndarray:
        return np.where(paired, _per_group(groups, values.astype(float), size) / n, np.nan)

    difference = a - b
    columns: dict[str, np.ndarray] = {
        "n_paired": n_paired,
        "distribution_change_pct": distribution_change(
            before["distribution"], after["distribution"]
        ),
        "pct_changed": share(difference != 0),
        "mean_abs_change": average(np.abs(difference)),
    }

    if bands:
        agree_low, agree_high = (x - settings.scale_min for x in settings.agree)
        disagree_low, disagree_high = (x - settings.scale_min for x in settings.disagree)

        def band(rating: np.ndarray) -> np.ndarray:
            code = np.ones_like(rating)  # neutral
            code[(rating >= agree_low) & (rating <= agree_high)] = 2
            code[(rating >= disagree_low) & (rating <= disagree_high)] = 0
            return code

        band_before, band_after = band(b), band(a)
        columns["pct_band_changed"] = share(band_before != band_after)
        agree_before, agree_after = band_before == 2, band_after == 2
        left = np.bincount(groups[agree_before & ~agree_after], minlength=size)
        joined = np.bincount(groups[~agree_before & agree_after], minlength=size)
        discordant = left + joined
        mcnemar = np.minimum(1.0, 2 * special.bdtr(np.minimum(left, joined), discordant, 0.5))
        columns["mcnemar_p"] = np.where(paired, mcnemar, np.nan)
        band_table = _table(groups, band_before * 3 + band_after, size, 9).reshape(size, 3, 3)
        columns["bowker_p"] = np.where(paired, bowker_p(band_table), np.nan)
    else:
        columns["pct_band_changed"] = columns["mcnemar_p"] = np.full(size, np.nan)
        columns["bowker_p"] = np.full(size, np.nan)

    signed = _table(groups, (difference > 0) * k + np.abs(difference), size, 2 * k)
    columns["wilcoxon_p"] = wilcoxon_p(signed.reshape(size, 2, k), settings.wilcoxon_zero_method)

    rows_before = _table(groups, b, size, k).astype(float)
    rows_after = _table(groups, a, size, k).astype(float)
    columns["kappa_linear"], columns["kappa_quadratic"] = weighted_kappas(
        groups, b, a, rows_before.astype(np.int64), rows_after.astype(np.int64)
    )

    # Spearman rho: Pearson correlation of mid-ranks within each group, centred exactly
    centre = (n_paired + 1) / 2
    rank_before = _midranks(rows_before) - centre[:, None]
    rank_after = _midranks(rows_after) - centre[:, None]
    products = _per_group(groups, rank_before[groups, b] * rank_after[groups, a], size)
    spread_before = (rows_before * rank_before**2).sum(axis=1)
    spread_after = (rows_after * rank_after**2).sum(axis=1)
    columns["spearman_rho"] = _safe_divide(products, np.sqrt(spread_before * spread_after))

    columns["delta_iqr"] = after["iqr"] - before["iqr"]
    columns["delta_cv"] = after["cv"] - before["cv"]
    change = columns["distribution_change_pct"]
    # Without valid answers there is no distribution to call stable: the contract keeps
    # `stable` a boolean, so an undefined change is "not stable".
    columns["stable"] = np.where(np.isnan(change), 0.0, change <= settings.stability_threshold)
    columns["attrition"] = before["n"] - n_paired
    median_index = before["median"] - settings.scale_min
    toward = np.abs(b - median_index[groups]) - np.abs(a - median_index[groups])
    columns["mean_movement_to_median"] = average(toward)
    return columns


def stability_rows(columns: Mapping[str, np.ndarray]) -> list[Stability]:
    """Turn the engine's column arrays into Stability objects, NaN becoming None."""
    converted = []
    for name in STABILITY_FIELDS:
        values = columns[name].tolist()
        if name in ("n_paired", "attrition"):
            converted.append(values)
        elif name == "stable":
            converted.append([bool(v) for v in values])
        else:
            converted.append([None if math.isnan(v) else v for v in values])
    return [Stability(*row) for row in zip(*converted, strict=True)]


def compare_rounds(
    before: Mapping[Hashable, float | None],
    after: Mapping[Hashable, float | None],
    settings: Settings,
) -> Stability:
    """Measure how one item moved between two rounds; keys are experts, None no opinion."""
    columns_before = _round_columns(before.values(), settings)
    columns_after = _round_columns(after.values(), settings)
    paired = [
        (before[expert], after[expert])
        for expert in before.keys() & after.keys()
        if _is_rating(before[expert]) and _is_rating(after[expert])
    ]
    ratings = np.array(paired, dtype=float).reshape(-1, 2) - settings.scale_min
    columns = stability_measures(
        columns_before,
        columns_after,
        np.zeros(len(ratings), dtype=np.int64),
        ratings[:, 0].astype(np.int64),
        ratings[:, 1].astype(np.int64),
        settings,
    )
    return stability_rows(columns)[0]


def _is_rating(value: float | None) -> bool:
    return value is not None and not math.isnan(value)


def _round_columns(values: Iterable[float | None], settings: Settings) -> dict[str, np.ndarray]:
    counts, no_opinion = counts_of(list(values), settings)
    return item_measures(counts[None, :], np.array([no_opinion]), settings)
