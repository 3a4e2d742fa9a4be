"""Consensus rules: the grammar, the canonical text, and classing items in, out or none."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from surveyapp.stats import ConsensusRule, RuleError, Settings, describe_item, parse_rule
from surveyapp.stats.consensus import MEASURES


def classify(values, rule, **settings):
    return describe_item(values, Settings(rule=parse_rule(rule), **settings)).consensus


def test_parse_rule_reads_criteria_and_the_70_15_keyword():
    rule = parse_rule(" Agreement >= 75 , iqr<=1,70/15 ")
    assert [(c.key, c.operator, c.threshold) for c in rule.criteria[:2]] == [
        ("agreement", ">=", 75.0),
        ("iqr", "<=", 1.0),
    ]
    assert str(rule) == "agreement>=75,iqr<=1,70/15"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "at least one criterion"),
        ("agreement>=75,", "empty criterion"),
        ("agreement=>75", "cannot read criterion"),
        ("consensus>=75", "unknown measure 'consensus'"),
        ("agreement>=175", "outside its range"),
        ("tastle_wierman>=1.5", "outside its range"),
        ("iqr<=one", "cannot read criterion"),
    ],
)
def test_bad_rules_are_refused_with_a_clear_message(text, message):
    with pytest.raises(RuleError, match=message):
        parse_rule(text)


criteria = st.one_of(
    st.just("70/15"),
    st.builds(
        lambda key, operator, number: f"{key}{operator}{number}",
        st.sampled_from(sorted(set(MEASURES) - {"van_der_eijk"})),
        st.sampled_from([">=", "<=", ">", "<"]),
        st.one_of(
            st.integers(0, 1).map(str),
            st.floats(0, 1, allow_nan=False).map(repr),
        ),
    ),
)


@settings(deadline=None)  # timings vary on a busy machine; no flaky deadlines
@given(st.lists(criteria, min_size=1, max_size=4).map(",".join))
def test_the_canonical_text_round_trips(text):
    rule = parse_rule(text)
    assert isinstance(rule, ConsensusRule)
    assert parse_rule(str(rule)) == rule
    assert str(parse_rule(str(rule))) == str(rule)


def test_agreement_rule_classes_in_out_and_none():
    rule = "agreement>=75,iqr<=1"
    assert classify([4, 4, 5, 5, 4, 3], rule) == "in"  # 83 %, IQR 1
    assert classify([1, 2, 2, 1, 2, 3], rule) == "out"  # 83 % in the disagreement band
    assert classify([1, 5, 4, 5, 2, 3], rule) == "none"


def test_every_criterion_must_hold():
    assert classify([3, 4, 4, 5, 5, 5, 5, 5], "agreement>=75,iqr<=1") == "in"
    assert classify([2, 4, 4, 4, 5, 5, 5, 5], "agreement>=75,iqr<=0.5") == "none"


def test_median_criteria_are_mirrored_through_the_middle_of_the_scale():
    assert classify([4, 4, 5], "median>=4") == "in"
    assert classify([2, 2, 1], "median>=4") == "out"  # median <= 6 - 4
    assert classify([3, 3, 3], "median>=4") == "none"


def test_a_rule_without_a_side_takes_its_side_from_the_median():
    assert classify([4, 4, 4, 5], "iqr<=1") == "in"
    assert classify([2, 2, 2, 1], "iqr<=1") == "out"
    assert classify([3, 3, 3, 3], "iqr<=1") == "none"  # agreement on the neutral middle


def test_70_15_rule_in_and_out_on_a_nine_point_scale():
    nine = {"scale_min": 1, "scale_max": 9}
    assert classify([8] * 7 + [5, 5, 1], "70/15", **nine) == "in"
    assert classify([2] * 7 + [5, 5, 9], "70/15", **nine) == "out"
    assert classify([8] * 7 + [1, 1, 1], "70/15", **nine) == "none"


def test_nine_point_measures_are_refused_on_other_scales():
    with pytest.raises(ValueError, match="1-9 scale only"):
        Settings(rule=parse_rule("70/15"))
    with pytest.raises(ValueError, match="1-9 scale only"):
        Settings(rule="di<=1")


def test_settings_accept_a_rule_string_and_check_bands():
    assert str(Settings(rule="rwg>=0.7").rule) == "rwg>=0.7"
    with pytest.raises(ValueError, match="overlap"):
        Settings(agree=(3, 5), disagree=(1, 3))
    with pytest.raises(ValueError, match="within the scale"):
        Settings(agree=(4, 6))
    with pytest.raises(ValueError, match="quantile"):
        Settings(quantile="type7")


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("tastle_wierman>=0.8", "in"),
        ("rwg>=0.7", "in"),
        ("leik>=0.8", "in"),
        ("van_der_eijk>=0.5", "in"),
        ("sd<=0.5", "in"),
        ("disagreement<=10", "in"),
    ],
)
def test_each_measure_can_drive_a_rule(rule, expected):
    assert classify([4, 4, 4, 4, 5], rule) == expected


def test_an_undefined_figure_never_satisfies_a_criterion():
    assert classify([None, None], "iqr<=1") == "none"
    assert classify([4], "rwg>=0") == "none"  # rWG needs two answers
