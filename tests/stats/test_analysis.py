"""Whole-study analysis: the same figures as item by item, groups, ranking, bad frames."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from surveyapp.stats import Settings, analyse, compare_rounds, describe_item, kendall_w

FIVE = Settings()

ITEM_KEYS = [
    "item", "round", "n", "no_opinion", "distribution", "median", "q1", "q3", "iqr", "mean",
    "sd", "cv", "percent_agreement", "percent_disagreement", "rule_70_15", "rand_p30",
    "rand_p70", "rand_ipr", "rand_ipras", "rand_di", "rand_class", "tastle_wierman", "leik_d",
    "van_der_eijk_a", "rwg", "consensus",
]  # fmt: skip
STABILITY_KEYS = [
    "item", "from_round", "to_round", "n_paired", "distribution_change_pct", "pct_changed",
    "pct_band_changed", "mean_abs_change", "wilcoxon_p", "mcnemar_p", "kappa_linear",
    "kappa_quadratic", "spearman_rho", "delta_iqr", "delta_cv", "stable",
]  # fmt: skip


def random_study(seed: int, experts: int = 12, items: int = 4, rounds: int = 3) -> pd.DataFrame:
    """A study with no-opinion answers, experts leaving and joining, and a missing item."""
    rng = np.random.default_rng(seed)
    rows = []
    for round_number in range(1, rounds + 1):
        for expert in range(experts):
            if rng.random() < 0.15:
                continue  # this expert skipped the round
            for item in range(items):
                if round_number == rounds and item == 0:
                    continue  # item 0 was retired before the last round
                value = float(rng.integers(1, 6)) if rng.random() > 0.1 else np.nan
                rows.append(
                    {
                        "expert": f"e{expert}",
                        "item": f"s{item}",
                        "round": round_number,
                        "value": value,
                        "group": "small" if expert < 2 else ("a" if expert % 2 else "b"),
                    }
                )
    return pd.DataFrame(rows)


def answers_of(frame: pd.DataFrame, item: str, round_number: int) -> dict[str, float | None]:
    rows = frame[(frame["item"] == item) & (frame["round"] == round_number)]
    return {
        e: (None if np.isnan(v) else v) for e, v in zip(rows["expert"], rows["value"], strict=True)
    }


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_analyse_gives_the_figures_of_describe_item_and_compare_rounds(seed):
    frame = random_study(seed)
    analysis = analyse(frame, FIVE)
    asked = frame.groupby(["item", "round"]).size()
    assert len(analysis.items) == len(asked)
    for row in analysis.items:
        expected = describe_item(list(answers_of(frame, row.item, row.round).values()), FIVE)
        assert row.stats == expected
    assert {(c.item, c.from_round) for c in analysis.stability} == {
        (f"s{i}", r) for i in range(4) for r in (1, 2) if not (i == 0 and r == 2)
    }
    for change in analysis.stability:
        expected = compare_rounds(
            answers_of(frame, change.item, change.from_round),
            answers_of(frame, change.item, change.to_round),
            FIVE,
        )
        assert change.stability == expected


def test_row_order_does_not_matter():
    frame = random_study(7)
    shuffled = frame.sample(frac=1, random_state=3)

    def figures(analysis):
        return sorted((row.item, row.from_round, row.stability) for row in analysis.stability)

    assert figures(analyse(shuffled, FIVE)) == figures(analyse(frame, FIVE))


def test_groups_below_the_minimum_size_are_left_out():
    frame = random_study(11)
    # "small" has 2 members: left out. Its two would then be the only experts left unnamed,
    # readable by subtraction, so one more named group goes too (of two groups of five,
    # the first by name: "a").
    assert [g.group for g in analyse(frame, Settings(min_group_size=3)).groups] == ["b"]
    assert [g.group for g in analyse(frame, Settings(min_group_size=2)).groups] == [
        "a",
        "b",
        "small",
    ]
    analysis = analyse(frame, Settings(min_group_size=2))
    group_a = analysis.groups[0]
    assert group_a.members == 5
    members = frame[frame["group"] == "a"]
    first = group_a.items[0]
    expected = describe_item(list(answers_of(members, first.item, first.round).values()), FIVE)
    assert first.stats == expected
    change = group_a.stability[0]
    assert change.stability == compare_rounds(
        answers_of(members, change.item, change.from_round),
        answers_of(members, change.item, change.to_round),
        FIVE,
    )
    assert analyse(frame, Settings(min_group_size=7)).groups == ()


def test_an_expert_in_two_groups_is_refused(make_answers):
    frame = make_answers({("s1", 1): [4, 5], ("s1", 2): [4, 4]}, groups={0: "a", 1: "b"})
    frame.loc[3, "group"] = "a"
    with pytest.raises(ValueError, match="more than one group"):
        analyse(frame, FIVE)


def test_to_dict_is_the_json_contract(make_answers):
    frame = make_answers({("s1", 1): [4, 5, None], ("s1", 2): [4, 4, 5]})
    result = analyse(frame, FIVE).to_dict()
    assert list(result) == ["settings", "items", "stability", "panel", "groups"]
    assert [list(row) for row in result["items"]] == [ITEM_KEYS, ITEM_KEYS]
    assert [list(row) for row in result["stability"]] == [STABILITY_KEYS]
    assert [list(row) for row in result["panel"]] == [["round", "krippendorff_alpha_ordinal"]] * 2
    assert result["settings"]["quantile"] == "linear"
    assert result["settings"]["rule"] == "agreement>=75,iqr<=1"
    json.dumps(result, allow_nan=False)  # no NaN anywhere


def test_krippendorff_alpha_per_round_is_computed_across_items(make_answers):
    frame = make_answers({("s1", 1): [1, 1, 1], ("s2", 1): [5, 5, 5], ("s3", 1): [3, 3]})
    (panel,) = analyse(frame, FIVE).panel
    assert panel.krippendorff_alpha_ordinal == 1
    assert panel.kendall is None


def test_ranking_adds_kendall_w_over_complete_rankings(make_answers):
    frame = make_answers(
        {
            ("a", 1): [1, 1, 2, 1, 3],
            ("b", 1): [2, 3, 1, 2, None],  # the fifth expert did not rank b
            ("c", 1): [3, 2, 3, 2, 1],  # the fourth expert tied b and c
        }
    )
    analysis = analyse(frame, FIVE, ranking=True)
    (panel,) = analysis.panel
    expected = kendall_w(np.array([[1, 2, 3], [1, 3, 2], [2, 1, 3], [1, 2, 2]]))
    assert panel.kendall == expected
    assert set(panel.to_dict()) == {
        "round", "krippendorff_alpha_ordinal", "kendall_w", "kendall_chi2", "kendall_df",
        "kendall_p", "kendall_f",
    }  # fmt: skip
    item = analysis.item("a", 1).stats
    assert item.percent_agreement is None
    assert item.median == 1
    assert item.distribution == (3, 1, 1)  # ranks 1-3
    assert analysis.to_dict()["settings"]["agree"] is None


def test_a_rank_above_the_number_of_items_is_refused(make_answers):
    frame = make_answers({("a", 1): [1, 2], ("b", 1): [3, 1]})
    with pytest.raises(ValueError, match="rank 3"):
        analyse(frame, FIVE, ranking=True)


def test_rounds_need_not_start_at_one(make_answers):
    frame = make_answers({("s1", 2): [4, 5], ("s1", 3): [4, 4]})
    analysis = analyse(frame, FIVE)
    assert [(c.from_round, c.to_round) for c in analysis.stability] == [(2, 3)]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.drop(columns="value"), "missing column"),
        (lambda f: f.assign(value=f["value"].replace(4.0, 6.0)), "not a point of the scale"),
        (lambda f: f.assign(round=f["round"] + 0.5), "whole number"),
        (lambda f: pd.concat([f, f.iloc[:1]]), "twice in round 1"),
        (lambda f: f.assign(value="x"), "must be numbers"),
    ],
)
def test_malformed_frames_are_refused(make_answers, change, message):
    frame = make_answers({("s1", 1): [4, 5], ("s1", 2): [4, 4]})
    with pytest.raises(ValueError, match=message):
        analyse(change(frame), FIVE)


def test_an_empty_study(make_answers):
    frame = make_answers({("s1", 1): [None, None]})
    analysis = analyse(frame, FIVE)
    assert analysis.items[0].stats.n == 0
    assert analysis.panel[0].krippendorff_alpha_ordinal is None
    json.dumps(analysis.to_dict(), allow_nan=False)
