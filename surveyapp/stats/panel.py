"""Panel-wide figures within one round: Kendall's W, Krippendorff's ordinal alpha, Fleiss' kappa.

These measure the agreement of the panel across items; they never give a verdict on one item.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy import special, stats


@dataclass(frozen=True)
class KendallW:
    """Kendall's coefficient of concordance with its chi-square and F tests."""

    w: float | None
    chi2: float | None
    df: int
    p: float | None
    f: float | None
    raters: int
    objects: int

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def _none_if_nan(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


def kendall_w(ratings: np.ndarray) -> KendallW:
    """Kendall's W for m raters (rows) ranking n objects (columns), corrected for ties.

    Each rater's values are turned into mid-ranks, so tied ranks and raw scores both work.
    W = 12 S / (m^2 (n^3 - n) - m sum T), T = sum (t^3 - t) over each rater's ties;
    chi2 = m (n - 1) W with n - 1 degrees of freedom; F = (m - 1) W / (1 - W).
    """
    ratings = np.asarray(ratings, dtype=float)
    if ratings.ndim != 2 or np.isnan(ratings).any():
        raise ValueError("Kendall's W needs a complete raters x objects matrix")
    m, n = ratings.shape
    if m < 2 or n < 2:
        return KendallW(None, None, max(n - 1, 0), None, None, m, n)
    ranks = stats.rankdata(ratings, axis=1, method="average")
    rank_sums = ranks.sum(axis=0)
    s = float(((rank_sums - rank_sums.mean()) ** 2).sum())
    denominator = m**2 * (n**3 - n) - m * _tie_sum(ratings)
    if denominator <= 0:  # every rater tied every object: no ranking at all
        return KendallW(None, None, n - 1, None, None, m, n)
    w = 12 * s / denominator
    chi2 = m * (n - 1) * w
    p = float(special.chdtrc(n - 1, chi2))
    f = (m - 1) * w / (1 - w) if w < 1 else math.nan
    return KendallW(w, chi2, n - 1, p, _none_if_nan(f), m, n)


def _tie_sum(ratings: np.ndarray) -> float:
    """Sum over raters and tie groups of t^3 - t, via sum over values of (t^2 - 1)."""
    ordered = np.sort(ratings, axis=1)
    m, n = ordered.shape
    starts = np.ones((m, n), dtype=bool)
    starts[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    run = np.cumsum(starts.ravel()) - 1  # one number per tie group, across all raters
    sizes = np.bincount(run).astype(float)
    return float((sizes**3 - sizes).sum())


def alpha_ordinal_from_counts(counts: np.ndarray) -> float | None:
    """Krippendorff's alpha, ordinal metric, from a units x categories count matrix.

    Units with fewer than two values are not pairable and are left out. The coincidence
    matrix is o_ck = sum_u n_uc (n_uk - [c = k]) / (m_u - 1); the ordinal distance is
    (sum_{g=c..k} n_g - (n_c + n_k) / 2)^2 (Krippendorff 2011, "Computing Krippendorff's
    alpha-reliability"). Categories must be in their order.
    """
    counts = np.asarray(counts, dtype=float)
    pairable = counts.sum(axis=1)
    counts = counts[pairable >= 2]
    if len(counts) == 0:
        return None
    weights = counts / (counts.sum(axis=1) - 1)[:, None]
    coincidences = weights.T @ counts - np.diag(weights.sum(axis=0))
    marginals = coincidences.sum(axis=1)
    total = marginals.sum()
    cumulative = np.cumsum(marginals)
    # sum of n_g for g from c to k, for c <= k: cumulative[k] - cumulative[c] + n_c
    between = cumulative[None, :] - cumulative[:, None] + marginals[:, None]
    distance = (between - (marginals[:, None] + marginals[None, :]) / 2) ** 2
    distance = np.triu(distance) + np.triu(distance, 1).T
    observed = (coincidences * distance).sum()
    expected = (np.outer(marginals, marginals) * distance).sum() / (total - 1)
    if expected <= 0:
        return None
    return float(1 - observed / expected)


def krippendorff_alpha_ordinal(data: np.ndarray) -> float | None:
    """Krippendorff's ordinal alpha of a units x coders matrix; NaN marks a missing value."""
    data = np.asarray(data, dtype=float)
    present = ~np.isnan(data)
    values, codes = np.unique(data[present], return_inverse=True)
    units = np.nonzero(present)[0]
    counts = np.zeros((data.shape[0], len(values)))
    np.add.at(counts, (units, codes), 1)
    return alpha_ordinal_from_counts(counts)


def fleiss_kappa(counts: np.ndarray) -> float | None:
    """Fleiss' (1971) kappa for nominal ratings: subjects x categories counts, equal raters."""
    counts = np.asarray(counts, dtype=float)
    raters = counts.sum(axis=1)
    if len(counts) == 0 or not np.all(raters == raters[0]) or raters[0] < 2:
        raise ValueError("Fleiss' kappa needs the same number (at least 2) of raters per subject")
    r = raters[0]
    shares = counts.sum(axis=0) / counts.sum()
    agreement = ((counts * (counts - 1)).sum(axis=1) / (r * (r - 1))).mean()
    chance = (shares**2).sum()
    if chance >= 1:
        return None
    return float((agreement - chance) / (1 - chance))
