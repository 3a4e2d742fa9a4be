"""Movement of an item between two rounds, against definitions, scipy and published values."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from surveyapp.stats import Settings, compare_rounds, describe_item
from surveyapp.stats.analysis import should_retire, study_finished

FIVE = Settings()


def experts(values):
    return {f"e{number}": value for number, value in enumerate(values)}


paired_rounds = st.integers(1, 40).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(1, 5), min_size=n, max_size=n),
        st.lists(st.integers(1, 5), min_size=n, max_size=n),
    )
)


def test_scheibe_distribution_change_by_definition():
    """Scheibe, Skutsch & Schofer (1975): half the summed absolute change of the shares.

    Shares .2 .3 .5 -> .1 .2 .6 .1 change by .1 in four categories: 20 %, above 15 %.
    """
    before = [2, 2, 3, 3, 3, 4, 4, 4, 4, 4]
    after = [2, 3, 3, 4, 4, 4, 4, 4, 4, 5]
    change = compare_rounds(experts(before), experts(after), FIVE)
    assert change.distribution_change_pct == pytest.approx(20)
    assert change.stable is False
    assert compare_rounds(experts(before), experts(after), Settings(stability_threshold=20)).stable


def test_scheibe_uses_all_valid_answers_of_each_round_and_pairs_use_both():
    before = {"a": 4, "b": 4, "c": 2, "d": None}
    after = {"a": 4, "b": 5, "e": 2, "d": 3}
    change = compare_rounds(before, after, FIVE)
    # shares 1/3, 0, 2/3, 0 (three answers) against 1/4 each on 2-5 (four answers)
    assert change.distribution_change_pct == pytest.approx(50)
    assert change.n_paired == 2  # a and b; d had no opinion, c left, e joined
    assert change.attrition == 1  # c
    assert change.pct_changed == 50
    assert change.pct_band_changed == 0  # 4 -> 5 stays in the agreement band
    assert change.mean_abs_change == 0.5


def test_movement_toward_the_previous_median():
    """Convergence is movement toward the median of the earlier round (here 3)."""
    change = compare_rounds(experts([1, 3, 3, 5, 5]), experts([2, 3, 3, 4, 5]), FIVE)
    assert change.mean_movement_to_median == pytest.approx((1 + 0 + 0 + 1 + 0) / 5)
    assert change.delta_iqr == pytest.approx(describe_item([2, 3, 3, 4, 5], FIVE).iqr - 2)


@pytest.mark.parametrize("zero_method", ["wilcox", "pratt", "zsplit"])
@settings(deadline=None)  # timings vary on a busy machine; no flaky deadlines
@given(rounds=paired_rounds)
def test_wilcoxon_equals_scipy_asymptotic(zero_method, rounds):
    before, after = rounds
    change = compare_rounds(
        experts(before), experts(after), Settings(wilcoxon_zero_method=zero_method)
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy warns on samples it cannot test
        expected = stats.wilcoxon(
            after, before, zero_method=zero_method, method="asymptotic", correction=False
        ).pvalue
    if math.isnan(expected):
        assert change.wilcoxon_p is None
    else:
        assert change.wilcoxon_p == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_wilcoxon_is_undefined_when_nobody_moved():
    change = compare_rounds(experts([4, 4, 5]), experts([4, 4, 5]), FIVE)
    assert change.wilcoxon_p is None
    assert change.mcnemar_p == 1
    assert change.bowker_p is None


@settings(deadline=None)  # timings vary on a busy machine; no flaky deadlines
@given(rounds=paired_rounds)
def test_spearman_equals_scipy(rounds):
    before, after = rounds
    change = compare_rounds(experts(before), experts(after), FIVE)
    if len(set(before)) < 2 or len(set(after)) < 2:
        assert change.spearman_rho is None
    else:
        assert change.spearman_rho == pytest.approx(stats.spearmanr(before, after).statistic)


def test_weighted_kappa_quadratic_matches_irr_kappa2():
    """R package irr, kappa2(anxiety[, 1:2], "squared") = 0.297 (anxiety data of irr)."""
    rater1 = [3, 3, 3, 4, 5, 5, 2, 3, 5, 2, 2, 6, 1, 5, 2, 2, 1, 2, 4, 3]
    rater2 = [3, 6, 4, 6, 2, 4, 2, 4, 3, 3, 2, 3, 3, 3, 2, 2, 1, 3, 3, 4]
    change = compare_rounds(experts(rater1), experts(rater2), Settings(scale_min=1, scale_max=6))
    assert round(change.kappa_quadratic, 3) == 0.297


def _kappa_by_definition(before, after, k, power):
    """Cohen (1968) with disagreement weights, all k categories in the table."""
    observed = np.zeros((k, k))
    for b, a in zip(before, after, strict=True):
        observed[b - 1, a - 1] += 1
    observed /= observed.sum()
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0))
    i, j = np.indices((k, k))
    weights = (np.abs(i - j) / (k - 1)) ** power
    return 1 - (weights * observed).sum() / (weights * expected).sum()


@settings(deadline=None)  # timings vary on a busy machine; no flaky deadlines
@given(rounds=paired_rounds)
def test_weighted_kappa_by_definition(rounds):
    before, after = rounds
    change = compare_rounds(experts(before), experts(after), FIVE)
    if len(set(before)) == 1 and set(before) == set(after):
        assert change.kappa_linear is None  # no expected disagreement: undefined
        return
    assert change.kappa_linear == pytest.approx(_kappa_by_definition(before, after, 5, 1))
    assert change.kappa_quadratic == pytest.approx(_kappa_by_definition(before, after, 5, 2))


@settings(deadline=None)  # timings vary on a busy machine; no flaky deadlines
@given(rounds=paired_rounds)
def test_mcnemar_equals_scipy_binomial_test(rounds):
    before, after = rounds
    change = compare_rounds(experts(before), experts(after), FIVE)
    left = sum(b >= 4 and a < 4 for b, a in zip(before, after, strict=True))
    joined = sum(b < 4 and a >= 4 for b, a in zip(before, after, strict=True))
    if left + joined == 0:
        assert change.mcnemar_p == 1
    else:
        expected = stats.binomtest(left, left + joined, 0.5).pvalue
        assert change.mcnemar_p == pytest.approx(expected)


def test_bowker_symmetry_test_by_definition_with_scipy_chi2():
    """Bowker (1948): sum (n_ij - n_ji)^2 / (n_ij + n_ji) over the band pairs that occur."""
    before = [1, 1, 1, 3, 3, 5, 5, 5, 5, 3]
    after = [3, 3, 5, 5, 5, 5, 5, 3, 5, 1]
    # bands: disagree->neutral 2, disagree->agree 1, neutral->agree 2, agree->neutral 1,
    # neutral->disagree 1
    statistic = (2 - 1) ** 2 / 3 + (1 - 0) ** 2 / 1 + (2 - 1) ** 2 / 3
    change = compare_rounds(experts(before), experts(after), FIVE)
    assert change.bowker_p == pytest.approx(stats.chi2.sf(statistic, 3))


@settings(deadline=None)  # timings vary on a busy machine; no flaky deadlines
@given(st.lists(st.one_of(st.none(), st.integers(1, 5)), max_size=30))
def test_identical_rounds_are_stable_with_no_change(values):
    change = compare_rounds(experts(values), experts(values), FIVE)
    if all(v is None for v in values):
        assert change.distribution_change_pct is None
        assert change.stable is False  # nothing to call stable
        return
    assert change.distribution_change_pct == 0
    assert change.stable is True
    assert change.pct_changed == 0
    assert change.mean_abs_change == 0
    assert change.delta_iqr == 0
    assert change.attrition == 0


@settings(deadline=None)  # timings vary on a busy machine; no flaky deadlines
@given(rounds=paired_rounds, data=st.data())
def test_figures_do_not_depend_on_expert_names_or_order(rounds, data):
    before, after = rounds
    names = data.draw(st.permutations([f"x{n}" for n in range(len(before))]))
    renamed_before = dict(zip(names, before, strict=True))
    renamed_after = dict(zip(names, after, strict=True))
    shuffled_after = dict(reversed(list(renamed_after.items())))
    assert compare_rounds(renamed_before, shuffled_after, FIVE) == compare_rounds(
        experts(before), experts(after), FIVE
    )


@settings(deadline=None)  # timings vary on a busy machine; no flaky deadlines
@given(rounds=paired_rounds)
def test_bounded_stability_figures(rounds):
    change = compare_rounds(experts(rounds[0]), experts(rounds[1]), FIVE)
    assert 0 <= change.distribution_change_pct <= 100
    assert 0 <= change.pct_changed <= 100
    assert change.spearman_rho is None or -1 - 1e-12 <= change.spearman_rho <= 1 + 1e-12
    assert change.wilcoxon_p is None or 0 <= change.wilcoxon_p <= 1


def test_no_experts_in_common():
    change = compare_rounds({"a": 4}, {"b": 4}, FIVE)
    assert change.n_paired == 0
    assert change.attrition == 1
    assert change.distribution_change_pct == 0
    assert change.pct_changed is None
    assert change.kappa_linear is None


def test_stop_rules():
    consensus = describe_item([4, 4, 5, 5], FIVE)
    open_item = describe_item([1, 3, 5, 4], FIVE)
    stable = compare_rounds(experts([1, 3, 5, 4]), experts([1, 3, 5, 4]), FIVE)
    moving = compare_rounds(experts([1, 1, 1, 1]), experts([5, 5, 5, 4]), FIVE)
    assert should_retire(consensus, None, FIVE)
    assert should_retire(open_item, stable, FIVE)
    assert not should_retire(open_item, stable, Settings(retire_stable=False))
    assert not should_retire(open_item, moving, FIVE)
    assert not should_retire(open_item, None, FIVE)
    assert study_finished(0, 2, FIVE)
    assert not study_finished(3, 9, FIVE)
    assert study_finished(3, 3, Settings(round_cap=3))


def test_to_dict_holds_the_contract_fields_and_the_extras():
    change = compare_rounds(experts([4, 5]), experts([4, 4]), FIVE)
    assert list(change.to_dict())[:13] == [
        "n_paired", "distribution_change_pct", "pct_changed", "pct_band_changed",
        "mean_abs_change", "wilcoxon_p", "mcnemar_p", "kappa_linear", "kappa_quadratic",
        "spearman_rho", "delta_iqr", "delta_cv", "stable",
    ]  # fmt: skip
    assert {"attrition", "mean_movement_to_median", "bowker_p"} <= set(change.to_dict())
