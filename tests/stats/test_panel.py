"""Panel-wide agreement: Kendall's W, Krippendorff's ordinal alpha, Fleiss' kappa."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from surveyapp.stats import fleiss_kappa, kendall_w, krippendorff_alpha_ordinal

NAN = np.nan

# Krippendorff (2011), "Computing Krippendorff's alpha-reliability", section C: 4 observers,
# 12 units, values 1-5, NaN where an observer gave no value. Rows are units.
KRIPPENDORFF_2011 = np.array(
    [
        [1, 1, NAN, 1],
        [2, 2, 3, 2],
        [3, 3, 3, 3],
        [3, 3, 3, 3],
        [2, 2, 2, 2],
        [1, 2, 3, 4],
        [4, 4, 4, 4],
        [1, 1, 2, 1],
        [2, 2, 2, 2],
        [NAN, 5, 5, 5],
        [NAN, NAN, 1, 1],
        [NAN, NAN, 3, NAN],
    ]
)

# The anxiety ratings of the R package irr: 20 subjects rated by 3 raters on 1-6, with ties.
ANXIETY = np.array(
    [
        [3, 3, 2], [3, 6, 1], [3, 4, 4], [4, 6, 4], [5, 2, 3], [5, 4, 2], [2, 2, 1],
        [3, 4, 6], [5, 3, 1], [2, 3, 1], [2, 2, 1], [6, 3, 2], [1, 3, 3], [5, 3, 3],
        [2, 2, 1], [2, 2, 1], [1, 1, 3], [2, 3, 3], [4, 3, 2], [3, 4, 2],
    ]
)  # fmt: skip

# Fleiss (1971), Psychological Bulletin 76:378: 30 patients, 6 psychiatrists, 5 diagnoses
# (the diagnoses data of irr), one string of diagnoses per patient.
FLEISS_1971 = [
    "444444", "222555", "233335", "555555", "222444", "113333", "333355", "113334", "114444",
    "555555", "144444", "124444", "222333", "144444", "224445", "333335", "111455", "111112",
    "224444", "133555", "555555", "244444", "224555", "114444", "144445", "222224", "111155",
    "224444", "133333", "555555",
]  # fmt: skip


def test_krippendorff_ordinal_alpha_matches_the_2011_worked_example():
    """Krippendorff (2011): alpha = 0.815 with the ordinal metric (0.743 nominal)."""
    assert round(krippendorff_alpha_ordinal(KRIPPENDORFF_2011), 3) == 0.815


def test_krippendorff_alpha_end_points():
    perfect = np.array([[1, 1, 1], [2, 2, 2], [5, 5, NAN]])
    assert krippendorff_alpha_ordinal(perfect) == 1
    assert krippendorff_alpha_ordinal(np.array([[3, 3], [3, 3]])) is None  # no variation
    assert krippendorff_alpha_ordinal(np.array([[1, NAN], [NAN, 2]])) is None  # nothing pairable


def test_kendall_w_with_ties_matches_irr():
    """irr::kendall(anxiety, correct = TRUE): Wt = 0.54, chisq(19) = 30.8, p = 0.0429."""
    result = kendall_w(ANXIETY.T)
    assert round(result.w, 2) == 0.54
    assert round(result.chi2, 1) == 30.8
    assert result.df == 19
    assert round(result.p, 4) == 0.0429
    assert (result.raters, result.objects) == (3, 20)


def test_kendall_w_equals_friedman_chi_square_from_scipy():
    """Friedman's chi-square (tie-corrected in scipy) is m (n - 1) W."""
    result = kendall_w(ANXIETY.T)
    friedman = stats.friedmanchisquare(*ANXIETY.T.T)
    assert result.chi2 == pytest.approx(friedman.statistic)
    assert result.p == pytest.approx(friedman.pvalue)


def test_kendall_w_perfect_agreement_and_f_test():
    """Identical rankings give W = 1; the F test is then undefined. Siegel & Castellan (1988):
    F = (m - 1) W / (1 - W)."""
    same = np.tile(np.arange(1, 6), (4, 1))
    assert kendall_w(same).w == 1
    assert kendall_w(same).f is None
    reversed_pair = np.array([[1, 2, 3, 4], [4, 3, 2, 1]])
    assert kendall_w(reversed_pair).w == 0
    mixed = kendall_w(np.array([[1, 2, 3, 4], [1, 3, 2, 4], [2, 1, 3, 4]]))
    assert mixed.f == pytest.approx(2 * mixed.w / (1 - mixed.w))


def test_kendall_w_all_tied_is_undefined():
    result = kendall_w(np.ones((3, 4)))
    assert result.w is None
    assert result.p is None


@settings(deadline=None)  # timings vary on a busy machine; no flaky deadlines
@given(
    st.integers(2, 6).flatmap(
        lambda n: st.lists(st.permutations(range(1, n + 1)), min_size=2, max_size=8)
    )
)
def test_kendall_w_lies_between_0_and_1(rankings):
    result = kendall_w(np.array(rankings))
    assert -1e-12 <= result.w <= 1 + 1e-12


def test_fleiss_kappa_matches_wikipedia_worked_example():
    """Wikipedia, "Fleiss' kappa", worked example: 10 subjects, 14 raters: kappa = 0.210."""
    table = np.array(
        [
            [0, 0, 0, 0, 14],
            [0, 2, 6, 4, 2],
            [0, 0, 3, 5, 6],
            [0, 3, 9, 2, 0],
            [2, 2, 8, 1, 1],
            [7, 7, 0, 0, 0],
            [3, 2, 6, 3, 0],
            [2, 5, 3, 2, 2],
            [6, 5, 2, 1, 0],
            [0, 2, 2, 3, 7],
        ]
    )
    assert round(fleiss_kappa(table), 3) == 0.210


def test_fleiss_kappa_matches_fleiss_1971():
    """Fleiss (1971): kappa = 0.430 for the diagnoses of 30 patients by 6 psychiatrists."""
    table = np.array([[row.count(str(c)) for c in range(1, 6)] for row in FLEISS_1971])
    assert round(fleiss_kappa(table), 3) == 0.430


def test_fleiss_kappa_needs_equal_raters():
    with pytest.raises(ValueError, match="same number"):
        fleiss_kappa(np.array([[2, 1], [1, 1]]))
