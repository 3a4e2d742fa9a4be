"""Whole-study analysis: every item and round, every pair of rounds, the panel, the groups.

Input is a long DataFrame, one row per answer: expert, item, round, value (NaN or None for
"no opinion") and optionally group. All items are computed together: answers are counted per
item, round and scale point in one pass, and consecutive-round pairs are found by sorting
once, so the cost grows with the number of answers, not with items times experts.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import pandas as pd

from surveyapp.stats.measures import ItemStats, Settings, item_measures, item_stats_rows
from surveyapp.stats.panel import KendallW, alpha_ordinal_from_counts, kendall_w
from surveyapp.stats.stability import (
    CONTRACT_FIELDS,
    Stability,
    stability_measures,
    stability_rows,
)

REQUIRED_COLUMNS = ("expert", "item", "round", "value")

METHODS = {
    "wilcoxon": "normal approximation, tie-corrected, no continuity correction",
    "mcnemar": "exact binomial, two-sided",
    "distribution_change": "Scheibe et al. 1975, all valid answers of each round",
    "paired_figures": "experts with a valid rating in both rounds",
    "kendall_w": "mid-ranks per expert, tie-corrected; experts who ranked every item",
}


@dataclass(frozen=True)
class ItemRound:
    """The figures of one item in one round."""

    item: Hashable
    round: int
    stats: ItemStats

    def to_dict(self) -> dict[str, object]:
        return {"item": self.item, "round": self.round, **self.stats.to_dict()}


@dataclass(frozen=True)
class ItemChange:
    """The movement of one item from one round to the next."""

    item: Hashable
    from_round: int
    to_round: int
    stability: Stability

    def to_dict(self) -> dict[str, object]:
        figures = self.stability.to_dict()
        return {
            "item": self.item,
            "from_round": self.from_round,
            "to_round": self.to_round,
            **{name: figures[name] for name in CONTRACT_FIELDS},
        }


@dataclass(frozen=True)
class PanelRound:
    """Panel-wide agreement in one round; ``kendall`` only for ranking items."""

    round: int
    krippendorff_alpha_ordinal: float | None
    kendall: KendallW | None = None

    def to_dict(self) -> dict[str, object]:
        result: dict[str, object] = {
            "round": self.round,
            "krippendorff_alpha_ordinal": self.krippendorff_alpha_ordinal,
        }
        if self.kendall is not None:
            result.update(
                kendall_w=self.kendall.w,
                kendall_chi2=self.kendall.chi2,
                kendall_df=self.kendall.df,
                kendall_p=self.kendall.p,
                kendall_f=self.kendall.f,
            )
        return result


@dataclass(frozen=True)
class GroupResult:
    """Per-item figures of one panel group large enough to be shown."""

    group: Hashable
    members: int
    items: tuple[ItemRound, ...]
    stability: tuple[ItemChange, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "group": self.group,
            "members": self.members,
            "items": [row.to_dict() for row in self.items],
            "stability": [row.to_dict() for row in self.stability],
        }


@dataclass(frozen=True)
class Analysis:
    """The whole study's figures; ``settings`` are those in effect (ranks: scale 1..items)."""

    settings: Settings
    ranking: bool
    items: tuple[ItemRound, ...]
    stability: tuple[ItemChange, ...]
    panel: tuple[PanelRound, ...]
    groups: tuple[GroupResult, ...]

    def to_dict(self) -> dict[str, object]:
        settings = self.settings.to_dict()
        if self.ranking:
            settings["agree"] = settings["disagree"] = None
        settings["ranking"] = self.ranking
        settings["methods"] = dict(METHODS)
        return {
            "settings": settings,
            "items": [row.to_dict() for row in self.items],
            "stability": [row.to_dict() for row in self.stability],
            "panel": [row.to_dict() for row in self.panel],
            "groups": [group.to_dict() for group in self.groups],
        }

    def item(self, item: Hashable, round_number: int) -> ItemRound:
        """Return one item's figures in one round."""
        for row in self.items:
            if row.item == item and row.round == round_number:
                return row
        raise KeyError((item, round_number))


def should_retire(item_stats: ItemStats, stability: Stability | None, settings: Settings) -> bool:
    """Tell whether an item leaves the next round: consensus (in or out), or stable."""
    if item_stats.consensus in ("in", "out"):
        return True
    return bool(settings.retire_stable and stability is not None and stability.stable)


def study_finished(items_left: int, rounds_held: int, settings: Settings) -> bool:
    """Tell whether the study stops: no item left, or the round cap reached."""
    return items_left == 0 or (settings.round_cap is not None and rounds_held >= settings.round_cap)


@dataclass(frozen=True)
class _Answers:
    """The frame as integer codes; ``rating`` is the 0-based scale index, -1 for no opinion."""

    item: np.ndarray
    expert: np.ndarray
    round: np.ndarray
    rating: np.ndarray
    item_labels: list[Hashable]
    round_labels: list[int]
    expert_count: int


def analyse(frame: pd.DataFrame, settings: Settings, ranking: bool = False) -> Analysis:
    """Analyse a whole study; with ``ranking`` the values are ranks and Kendall's W is added.

    Raises ValueError for a malformed frame: a missing column, a value off the scale (or a
    rank outside 1..items of its round), a round that is not a whole number, or an expert
    answering one item twice in one round.
    """
    missing = [name for name in REQUIRED_COLUMNS if name not in frame.columns]
    if missing:
        raise ValueError(f"missing column(s): {', '.join(missing)}")
    answers, settings = _encode(frame, settings, ranking)
    first, second = _consecutive_pairs(answers)
    bands = not ranking

    items, stability = _tables(
        answers.item, len(answers.item_labels), answers, first, second, settings, bands
    )
    item_rows = _item_rounds(items, answers.item_labels, answers.round_labels)
    change_rows = _item_changes(stability, answers.item_labels, answers.round_labels)
    panel = _panel(items, answers, ranking)
    groups = _groups(frame, answers, first, second, settings, bands)
    return Analysis(settings, ranking, item_rows, change_rows, panel, groups)


def _encode(frame: pd.DataFrame, settings: Settings, ranking: bool) -> tuple[_Answers, Settings]:
    if frame["expert"].isna().any() or frame["item"].isna().any():
        raise ValueError("every answer needs an expert and an item")
    item, item_labels = pd.factorize(frame["item"], sort=False)
    expert, expert_labels = pd.factorize(frame["expert"], sort=False)
    try:
        rounds = pd.to_numeric(frame["round"]).to_numpy(dtype=float)
        values = pd.to_numeric(frame["value"]).to_numpy(dtype=float)
    except (TypeError, ValueError) as error:
        raise ValueError(f"round and value must be numbers: {error}") from None
    if np.isnan(rounds).any() or (rounds != np.round(rounds)).any():
        raise ValueError("every round must be a whole number")
    round_labels, round_code = np.unique(rounds.astype(np.int64), return_inverse=True)
    valid = ~np.isnan(values)

    if ranking:
        slot = item * len(round_labels) + round_code
        items_per_round = np.bincount(
            round_code[np.unique(slot, return_index=True)[1]], minlength=len(round_labels)
        )
        top = items_per_round[round_code]
        bad = valid & ((values < 1) | (values > top) | (values != np.round(values)))
        if bad.any():
            row = np.flatnonzero(bad)[0]
            raise ValueError(
                f"rank {values[row]:g} of item {item_labels[item[row]]!r} is not a whole number "
                f"from 1 to {top[row]} (the items of round {round_labels[round_code[row]]})"
            )
        settings = dataclasses.replace(
            settings,
            scale_min=1,
            scale_max=max(2, int(items_per_round.max(initial=0))),
            agree=None,
            disagree=None,
        )
    else:
        bad = valid & (
            (values < settings.scale_min)
            | (values > settings.scale_max)
            | (values != np.round(values))
        )
        if bad.any():
            row = np.flatnonzero(bad)[0]
            raise ValueError(
                f"value {values[row]:g} of item {item_labels[item[row]]!r} is not a point of "
                f"the scale {settings.scale_min}-{settings.scale_max}"
            )
    rating = np.where(valid, np.nan_to_num(values) - settings.scale_min, -1).astype(np.int64)
    answers = _Answers(
        item=item.astype(np.int64),
        expert=expert.astype(np.int64),
        round=round_code.astype(np.int64),
        rating=rating,
        item_labels=item_labels.tolist(),
        round_labels=round_labels.tolist(),
        expert_count=len(expert_labels),
    )
    return answers, settings


def _consecutive_pairs(answers: _Answers) -> tuple[np.ndarray, np.ndarray]:
    """Row numbers of each expert's valid ratings of one item in two consecutive rounds."""
    rounds = len(answers.round_labels)
    person_item = answers.item * answers.expert_count + answers.expert
    key = person_item * rounds + answers.round
    order = np.argsort(key, kind="stable")
    ordered = key[order]
    repeated = ordered[1:] == ordered[:-1]
    if repeated.any():
        row = order[np.flatnonzero(repeated)[0]]
        raise ValueError(
            f"an expert answered item {answers.item_labels[answers.item[row]]!r} twice in "
            f"round {answers.round_labels[answers.round[row]]}"
        )
    earlier, later = order[:-1], order[1:]
    paired = (
        (person_item[earlier] == person_item[later])
        & (answers.round[later] == answers.round[earlier] + 1)
        & (answers.rating[earlier] >= 0)
        & (answers.rating[later] >= 0)
    )
    return earlier[paired], later[paired]


@dataclass(frozen=True)
class _ItemTable:
    columns: dict[str, np.ndarray]
    asked: np.ndarray  # (units * rounds) slots with at least one answer


def _tables(
    unit: np.ndarray,
    units: int,
    answers: _Answers,
    first: np.ndarray,
    second: np.ndarray,
    settings: Settings,
    bands: bool,
) -> tuple[_ItemTable, _ItemTable]:
    """Item figures per (unit, round) slot and stability per (unit, round pair) slot."""
    rounds = len(answers.round_labels)
    k = settings.points
    slot = unit * rounds + answers.round
    slots = units * rounds
    valid = answers.rating >= 0
    counts = np.bincount(slot[valid] * k + answers.rating[valid], minlength=slots * k).reshape(
        slots, k
    )
    no_opinion = np.bincount(slot[~valid], minlength=slots)
    asked = np.bincount(slot, minlength=slots) > 0
    items = item_measures(counts, no_opinion, settings, bands=bands)

    before_slot = (np.arange(units)[:, None] * rounds + np.arange(rounds - 1)[None, :]).ravel()
    after_slot = before_slot + 1
    needed = ("n", "distribution", "median", "iqr", "cv")
    before = {name: items[name][before_slot] for name in needed}
    after = {name: items[name][after_slot] for name in needed}
    pair_group = unit[first] * (rounds - 1) + answers.round[first]
    stability = stability_measures(
        before,
        after,
        pair_group,
        answers.rating[first],
        answers.rating[second],
        settings,
        bands=bands,
    )
    return (
        _ItemTable(items, asked),
        _ItemTable(stability, asked[before_slot] & asked[after_slot]),
    )


def _select(columns: Mapping[str, np.ndarray], rows: np.ndarray) -> dict[str, np.ndarray]:
    return {name: values[rows] for name, values in columns.items()}


def _item_rounds(
    table: _ItemTable, labels: list[Hashable], round_labels: list[int]
) -> tuple[ItemRound, ...]:
    rows = np.flatnonzero(table.asked)
    stats = item_stats_rows(_select(table.columns, rows))
    rounds = len(round_labels)
    return tuple(
        ItemRound(labels[row // rounds], round_labels[row % rounds], figures)
        for row, figures in zip(rows.tolist(), stats, strict=True)
    )


def _item_changes(
    table: _ItemTable, labels: list[Hashable], round_labels: list[int]
) -> tuple[ItemChange, ...]:
    rows = np.flatnonzero(table.asked)
    figures = stability_rows(_select(table.columns, rows))
    pairs = len(round_labels) - 1
    return tuple(
        ItemChange(
            labels[row // pairs], round_labels[row % pairs], round_labels[row % pairs + 1], change
        )
        for row, change in zip(rows.tolist(), figures, strict=True)
    )


def _panel(items: _ItemTable, answers: _Answers, ranking: bool) -> tuple[PanelRound, ...]:
    rounds = len(answers.round_labels)
    counts = items.columns["distribution"]
    panel = []
    for code, label in enumerate(answers.round_labels):
        alpha = alpha_ordinal_from_counts(counts[code::rounds])
        kendall = _kendall(answers, code) if ranking else None
        panel.append(PanelRound(label, alpha, kendall))
    return tuple(panel)


def _kendall(answers: _Answers, round_code: int) -> KendallW:
    """Kendall's W of one round over the experts who ranked every item of that round."""
    in_round = answers.round == round_code
    item_codes = np.unique(answers.item[in_round])
    ranked = in_round & (answers.rating >= 0)
    per_expert = np.bincount(answers.expert[ranked], minlength=answers.expert_count)
    complete = per_expert == len(item_codes)
    rows = ranked & complete[answers.expert]
    experts, expert_row = np.unique(answers.expert[rows], return_inverse=True)
    item_column = np.searchsorted(item_codes, answers.item[rows])
    matrix = np.zeros((len(experts), len(item_codes)))
    matrix[expert_row, item_column] = answers.rating[rows] + 1
    return kendall_w(matrix)


def _groups(
    frame: pd.DataFrame,
    answers: _Answers,
    first: np.ndarray,
    second: np.ndarray,
    settings: Settings,
    bands: bool,
) -> tuple[GroupResult, ...]:
    """Per-group item figures for the groups that may be named (see shown_groups)."""
    if "group" not in frame.columns:
        return ()
    code, labels = pd.factorize(frame["group"], sort=True)  # no group: code -1
    group_of_expert = np.full(answers.expert_count, -1)
    group_of_expert[answers.expert] = code
    differs = group_of_expert[answers.expert] != code
    if differs.any():
        row = np.flatnonzero(differs)[0]
        raise ValueError(f"expert {frame['expert'].iloc[row]!r} appears in more than one group")
    members = np.bincount(group_of_expert[group_of_expert >= 0], minlength=len(labels))
    labels = labels.tolist()
    sizes = {index: int(size) for index, size in enumerate(members)}
    shown = np.array(
        sorted(named_groups(sizes, answers.expert_count, settings.min_group_size)), dtype=int
    )
    if len(shown) == 0:
        return ()
    dense = np.full(len(labels) + 1, -1)
    dense[shown] = np.arange(len(shown))
    group_of_row = dense[code]  # code -1 (no group) maps to the last entry, -1
    kept = group_of_row >= 0
    units = len(answers.item_labels)
    unit = np.where(kept, group_of_row * units + answers.item, 0)
    sub = dataclasses.replace(
        answers,
        item=unit[kept],
        expert=answers.expert[kept],
        round=answers.round[kept],
        rating=answers.rating[kept],
    )
    renumber = np.cumsum(kept) - 1
    pair_kept = kept[first]
    items, stability = _tables(
        sub.item,
        len(shown) * units,
        sub,
        renumber[first[pair_kept]],
        renumber[second[pair_kept]],
        settings,
        bands,
    )
    labels_by_unit = answers.item_labels * len(shown)
    item_rows = _item_rounds(items, labels_by_unit, answers.round_labels)
    change_rows = _item_changes(stability, labels_by_unit, answers.round_labels)
    rounds = len(answers.round_labels)
    item_group = np.flatnonzero(items.asked) // (units * rounds)
    change_group = np.flatnonzero(stability.asked) // max(1, units * (rounds - 1))
    results = []
    for number, g in enumerate(shown.tolist()):
        item_range = np.searchsorted(item_group, [number, number + 1])
        change_range = np.searchsorted(change_group, [number, number + 1])
        results.append(
            GroupResult(
                group=labels[g],
                members=int(members[g]),
                items=item_rows[item_range[0] : item_range[1]],
                stability=change_rows[change_range[0] : change_range[1]],
            )
        )
    return tuple(results)


Group = TypeVar("Group", str, int)


def shown_groups(group_of_expert: Mapping[str, str | None], min_size: int) -> set[str]:
    """Return the groups that may be named: each shared by at least min_size experts.

    The experts left unnamed must be a crowd too: when a single small group is blanked and
    every other group is named, the blank rows are that group. So while the unnamed experts
    number between 1 and min_size - 1, the smallest named group is blanked as well.
    """
    sizes: dict[str, int] = {}
    for group in group_of_expert.values():
        if group is not None:
            sizes[group] = sizes.get(group, 0) + 1
    return named_groups(sizes, len(group_of_expert), min_size)


def named_groups(sizes: Mapping[Group, int], experts: int, min_size: int) -> set[Group]:
    """Return the groups, of these sizes among so many experts, that may be named."""
    shown = {group for group, size in sizes.items() if size >= min_size}
    unnamed = experts - sum(sizes[group] for group in shown)
    while shown and 0 < unnamed < min_size:
        smallest = min(shown, key=lambda group: (sizes[group], group))
        shown.remove(smallest)
        unnamed += sizes[smallest]
    return shown
