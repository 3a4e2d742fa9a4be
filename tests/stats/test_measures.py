"""Per-item figures within one round, against published values and definitions."""

from __future__ import annotations

import math
import statistics

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from surveyapp.stats import Settings, default_bands, describe_item
from surveyapp.stats.measures import (
    QUANTILE_METHODS,
    leik_d,
    quantiles_from_counts,
    tastle_wierman,
    van_der_eijk_a,
)

FIVE = Settings()
NINE = Settings(scale_min=1, scale_max=9, agree=(7, 9), disagree=(1, 3))

answers = st.lists(st.one_of(st.none(), st.integers(1, 5)), max_size=40)
ratings = st.lists(st.integers(1, 5), min_size=1, max_size=40)


def counts(*frequencies: int) -> np.ndarray:
    return np.array([frequencies])


def test_default_bands_are_the_top_two_and_bottom_two_points():
    assert default_bands(1, 5) == ((4, 5), (1, 2))
    assert default_bands(1, 9) == ((8, 9), (1, 2))
    assert Settings(scale_min=1, scale_max=7).agree == (6, 7)


def test_tastle_wierman_matches_agrmt_reference_example():
    """agrmt::consensus documentation: c(30,40,210,130,530,50,10) gives 0.7256876.

    agrmt implements Tastle & Wierman (2007), Int. J. Approximate Reasoning 45:531.
    """
    value = tastle_wierman(counts(30, 40, 210, 130, 530, 50, 10), np.arange(1.0, 8.0))[0]
    assert value == pytest.approx(0.7256876, abs=1e-7)


def test_tastle_wierman_end_points_and_uniform_distribution():
    """Tastle & Wierman (2007): 1 for one category, 0 for a split between the two ends.

    The uniform 5-point value follows from the definition:
    1 + 0.2 (2 log2(1/2) + 2 log2(3/4)) = 0.43398...
    """
    points = np.arange(1.0, 6.0)
    assert tastle_wierman(counts(0, 0, 7, 0, 0), points)[0] == 1
    assert tastle_wierman(counts(5, 0, 0, 0, 5), points)[0] == pytest.approx(0, abs=1e-15)
    uniform = 1 + 0.2 * (2 * math.log2(0.5) + 2 * math.log2(0.75))
    assert tastle_wierman(counts(1, 1, 1, 1, 1), points)[0] == pytest.approx(uniform)


def test_tastle_wierman_uses_the_width_of_the_scale_not_of_the_answers():
    """STATISTICS.md: d = k - 1. Answers 4 and 5 only, on 1-5: 1 + log2(1 - 0.5/4)."""
    stats = describe_item([4, 5], FIVE)
    assert stats.tastle_wierman == pytest.approx(1 + math.log2(1 - 0.5 / 4))


def test_van_der_eijk_matches_agrmt_and_the_article():
    """agrmt::agreement documentation (0.6113333) and van der Eijk (2001), Quality & Quantity
    35:325, PvdA and D66 placements on a 7-point scale (0.61 and 0.48), plus the agrmt
    vignette's collapse() example (0.31)."""
    assert van_der_eijk_a(counts(30, 40, 210, 130, 530, 50, 10))[0] == pytest.approx(
        0.6113333, abs=1e-7
    )
    pvda = np.array([[2.4, 2.8, 3.2, 6.2, 13.5, 30.4, 41.6]])
    d66 = np.array([[1.6, 2.6, 8.2, 21, 29.3, 27, 10.3]])
    assert van_der_eijk_a(pvda)[0] == pytest.approx(0.61, abs=0.005)
    assert van_der_eijk_a(d66)[0] == pytest.approx(0.48, abs=0.005)
    assert van_der_eijk_a(counts(6, 8, 5, 3, 2))[0] == pytest.approx(0.31, abs=0.005)


def test_van_der_eijk_end_points():
    """Van der Eijk (2001): 1 one category, 0 uniform, -1 split over the two ends."""
    rows = np.array([[0, 9, 0, 0, 0], [4, 4, 4, 4, 4], [3, 0, 0, 0, 3], [1, 1, 0, 0, 0]])
    assert van_der_eijk_a(rows).tolist() == pytest.approx([1, 0, -1, 0.75])


def test_leik_by_definition_and_end_points():
    """Leik (1966): D = 2 sum F'_i / (k - 1); F = .125, .25, .375, .625 -> F' sums to 1.125."""
    assert leik_d(counts(1, 1, 1, 2, 3))[0] == pytest.approx(2 * 1.125 / 4)
    assert leik_d(counts(0, 0, 5, 0, 0))[0] == 0
    assert leik_d(counts(5, 0, 0, 0, 5))[0] == 1


def test_rwg_james_demaree_wolf():
    """James, Demaree & Wolf (1984): rWG = 1 - s^2 / ((k^2 - 1) / 12); 4,4,5,4,3 on 1-5:
    s^2 = 0.5, sigma^2_EU = 2, rWG = 0.75; s^2 above sigma^2_EU is truncated to give 0."""
    assert describe_item([4, 4, 5, 4, 3], FIVE).rwg == pytest.approx(0.75)
    assert describe_item([1, 5, 1, 5], FIVE).rwg == 0


def test_descriptives_match_the_standard_library():
    values = [1, 2, 2, 4, 5, 5, 5, None]
    stats = describe_item(values, FIVE)
    valid = [v for v in values if v is not None]
    assert stats.n == 7
    assert stats.no_opinion == 1
    assert stats.distribution == (1, 2, 0, 1, 3)
    assert stats.mean == pytest.approx(statistics.mean(valid))
    assert stats.sd == pytest.approx(statistics.stdev(valid))
    assert stats.cv == pytest.approx(statistics.stdev(valid) / statistics.mean(valid))
    assert stats.percent_agreement == pytest.approx(400 / 7)
    assert stats.percent_disagreement == pytest.approx(300 / 7)


@pytest.mark.parametrize("method", list(QUANTILE_METHODS))
@settings(max_examples=40, deadline=None)
@given(values=st.lists(st.integers(1, 9), min_size=1, max_size=30))
def test_quantiles_from_counts_equal_numpy(method, values):
    probabilities = (0.25, 0.3, 0.5, 0.7, 0.75)
    table = np.bincount(np.array(values) - 1, minlength=9)[None, :]
    ours = quantiles_from_counts(table, np.arange(1.0, 10.0), probabilities, method)[0]
    expected = np.quantile(np.array(values, dtype=float), probabilities, method=method)
    assert ours.tolist() == expected.tolist()


def test_quantile_method_can_flip_the_iqr_verdict():
    """STATISTICS.md: linear (type 7) and SPSS's weibull (type 6) differ on small panels."""
    values = [3, 4, 4, 5]
    assert describe_item(values, FIVE).iqr == 0.5  # 3.75 to 4.25
    assert describe_item(values, Settings(quantile="weibull")).iqr == 1.5  # 3.25 to 4.75


def test_rand_ucla_appropriate_without_disagreement():
    """RAND/UCLA manual (Fitch et al. 2001) definitions, type 7 percentiles:
    5,6,7,7,8,8,8,9,9 -> P30 = 7, P70 = 8, IPR = 1, IPRCP = 7.5, IPRAS = 2.35 + 1.5 x 2.5."""
    stats = describe_item([7, 7, 8, 8, 8, 9, 9, 6, 5], NINE)
    assert (stats.rand_p30, stats.rand_p70, stats.rand_ipr) == (7, 8, 1)
    assert stats.rand_ipras == pytest.approx(6.1)
    assert stats.rand_di == pytest.approx(1 / 6.1)
    assert stats.rand_class == "appropriate"


def test_rand_ucla_disagreement_makes_an_item_uncertain():
    """1,1,1,2,5,9,9,9,9: P30 = 1.4, P70 = 9, IPRAS = 2.35 + 1.5 x 0.2, DI = 7.6 / 2.65 > 1."""
    stats = describe_item([1, 1, 1, 2, 5, 9, 9, 9, 9], NINE)
    assert stats.rand_p30 == pytest.approx(1.4)
    assert stats.rand_di == pytest.approx(7.6 / 2.65)
    assert stats.rand_class == "uncertain"
    assert describe_item([1, 2, 2, 2, 3, 3], NINE).rand_class == "inappropriate"


def test_rand_and_70_15_are_only_defined_on_nine_point_scales():
    stats = describe_item([4, 5, 5], FIVE)
    assert stats.rand_di is None
    assert stats.rand_class is None
    assert stats.rule_70_15 is False  # not defined here, so not met; still a boolean


def test_rule_70_15():
    """Core-outcome-set convention: >= 70 % in 7-9 and < 15 % in 1-3."""
    assert describe_item([7] * 7 + [5, 5, 2], NINE).rule_70_15 is True  # 70 % and 10 %
    assert describe_item([7] * 7 + [5, 2, 2], NINE).rule_70_15 is False  # 20 % in 1-3
    assert describe_item([7] * 6 + [5] * 4, NINE).rule_70_15 is False  # 60 %


def test_all_answers_equal():
    stats = describe_item([4] * 6, FIVE)
    assert (stats.median, stats.iqr, stats.sd, stats.cv) == (4, 0, 0, 0)
    assert (stats.tastle_wierman, stats.leik_d, stats.van_der_eijk_a, stats.rwg) == (1, 0, 1, 1)
    assert stats.percent_agreement == 100
    assert stats.consensus == "in"


def test_two_extremes_only():
    stats = describe_item([1, 1, 5, 5], FIVE)
    assert stats.tastle_wierman == pytest.approx(0, abs=1e-15)
    assert stats.leik_d == 1
    assert stats.van_der_eijk_a == -1
    assert stats.consensus == "none"


def test_one_answer_leaves_the_spread_undefined():
    stats = describe_item([None, 2], FIVE)
    assert (stats.n, stats.no_opinion, stats.median, stats.iqr) == (1, 1, 2, 0)
    assert stats.sd is None
    assert stats.cv is None
    assert stats.rwg is None


def test_all_no_opinion_gives_no_figures():
    stats = describe_item([None, math.nan, None], FIVE)
    assert stats.n == 0
    assert stats.no_opinion == 3
    assert stats.distribution == (0, 0, 0, 0, 0)
    figures = stats.to_dict()
    undefined = {k for k, v in figures.items() if v is None}
    assert undefined == set(figures) - {
        "n",
        "no_opinion",
        "distribution",
        "consensus",
        "rule_70_15",
    }
    assert stats.consensus == "none"
    assert stats.rule_70_15 is False  # a boolean by contract, and no rule is met


def test_a_value_off_the_scale_is_refused():
    with pytest.raises(ValueError, match="not a point of the scale 1-5"):
        describe_item([1, 6], FIVE)
    with pytest.raises(ValueError, match="not a point"):
        describe_item([2.5], FIVE)


def test_to_dict_lists_the_json_contract_fields_in_order():
    assert list(describe_item([3, 4], FIVE).to_dict()) == [
        "n", "no_opinion", "distribution", "median", "q1", "q3", "iqr", "mean", "sd", "cv",
        "percent_agreement", "percent_disagreement", "rule_70_15", "rand_p30", "rand_p70",
        "rand_ipr", "rand_ipras", "rand_di", "rand_class", "tastle_wierman", "leik_d",
        "van_der_eijk_a", "rwg", "consensus",
    ]  # fmt: skip


@settings(deadline=None)  # timings vary on a busy machine; no flaky deadlines
@given(answers)
def test_bounded_figures_stay_within_their_bounds(values):
    stats = describe_item(values, FIVE)
    if stats.n == 0:
        return
    assert 0 <= stats.percent_agreement <= 100
    assert 0 <= stats.percent_disagreement <= 100
    assert stats.percent_agreement + stats.percent_disagreement <= 100 + 1e-9
    assert -1e-12 <= stats.tastle_wierman <= 1 + 1e-12
    assert 0 <= stats.leik_d <= 1
    assert -1 - 1e-12 <= stats.van_der_eijk_a <= 1 + 1e-12
    assert stats.rwg is None or 0 <= stats.rwg <= 1
    assert 1 <= stats.q1 <= stats.median <= stats.q3 <= 5


@settings(deadline=None)  # timings vary on a busy machine; no flaky deadlines
@given(ratings, st.randoms(use_true_random=False))
def test_figures_do_not_depend_on_the_order_of_experts(values, random):
    shuffled = list(values)
    random.shuffle(shuffled)
    assert describe_item(shuffled, FIVE) == describe_item(values, FIVE)


@settings(deadline=None)  # timings vary on a busy machine; no flaky deadlines
@given(ratings)
def test_mirroring_the_answers_mirrors_location_and_keeps_consensus(values):
    stats = describe_item(values, FIVE)
    mirrored = describe_item([6 - v for v in values], FIVE)
    assert mirrored.median == pytest.approx(6 - stats.median)
    assert mirrored.percent_agreement == pytest.approx(stats.percent_disagreement)
    assert mirrored.tastle_wierman == pytest.approx(stats.tastle_wierman)
    assert mirrored.leik_d == pytest.approx(stats.leik_d)
    assert mirrored.van_der_eijk_a == pytest.approx(stats.van_der_eijk_a)
    assert {stats.consensus, mirrored.consensus} in ({"none"}, {"in", "out"})
