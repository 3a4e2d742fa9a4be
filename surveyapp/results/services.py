"""A study's statement results: the stats core run on the study's ratings."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
from flask_babel import lazy_gettext as _l

from surveyapp.extensions import db
from surveyapp.models import Coordinator, Item, Round, RoundState, Study
from surveyapp.stats import (
    ItemStats,
    Stability,
    analyse,
    compare_rounds,
    describe_item,
    shown_groups,
)
from surveyapp.stats import should_retire as stop_rule_met
from surveyapp.stats.frames import lineage_roots, rating_frame, study_settings
from surveyapp.studies.services import StudyError, add_item, next_draft_round


@dataclass(frozen=True)
class StatementFigures:
    """One statement followed through the rounds that rated it."""

    item: Item  # the statement as asked in its latest round
    rounds: tuple[tuple[int, ItemStats], ...]  # (round number, figures), oldest first
    changes: tuple[tuple[int, int, Stability], ...]  # (from round, to round, movement)
    groups: tuple[tuple[str, ItemStats], ...]  # latest round per panel group large enough
    retire: bool  # the stop rule says: do not ask again

    @property
    def latest(self) -> ItemStats:
        return self.rounds[-1][1]

    @property
    def latest_change(self) -> Stability | None:
        return self.changes[-1][2] if self.changes else None


def _values(frame: pd.DataFrame) -> list[float | None]:
    return [None if pd.isna(v) else float(v) for v in frame["value"]]


@dataclass(frozen=True)
class ResultsPage:
    statements: list[StatementFigures]
    panel: list[PanelFigures]


def results_page(study: Study) -> ResultsPage:
    """Everything the results page shows, from one read of the ratings."""
    frame, items = rating_frame(db.session, study.id)
    return ResultsPage(_statement_figures(study, frame, items), _panel_figures(study, frame))


def study_results(study: Study) -> list[StatementFigures]:
    """Compute figures for every rated statement of the study, in asking order."""
    return _statement_figures(study, *rating_frame(db.session, study.id))


def _statement_figures(
    study: Study, frame: pd.DataFrame, items: dict[int, Item]
) -> list[StatementFigures]:
    roots = lineage_roots(items)
    latest_item: dict[int, Item] = {}
    asked: dict[int, list[int]] = {}
    for item in items.values():  # ordered by round, so the last one wins
        latest_item[roots[item.id]] = item
        asked.setdefault(roots[item.id], []).append(item.round.number)
    results: list[StatementFigures] = []
    for root, item in latest_item.items():
        settings = study_settings(study, item.scale_points or 5)
        rows = frame[frame["item"] == root]
        asked_in = asked[root]
        by_round = {number: rows[rows["round"] == number] for number in asked_in}
        rounds = tuple((n, describe_item(_values(r), settings)) for n, r in by_round.items())
        changes = tuple(
            (a, b, compare_rounds(_by_expert(by_round[a]), _by_expert(by_round[b]), settings))
            for a, b in itertools.pairwise(asked_in)
        )
        last = by_round[asked_in[-1]]
        shown = shown_groups(
            {str(e): g for e, g in zip(last["expert"], last["group"], strict=True)},
            study.min_group_size,
        )
        groups = tuple(
            (name, describe_item(_values(part), settings))
            for name, part in last.groupby("group", sort=True)
            if name in shown
        )
        latest = rounds[-1][1]
        retire = latest.n > 0 and stop_rule_met(
            latest, changes[-1][2] if changes else None, settings
        )
        results.append(StatementFigures(item, rounds, changes, groups, retire))
    return results


def _by_expert(rows: pd.DataFrame) -> dict[int, float | None]:
    return {
        int(expert): (None if pd.isna(value) else float(value))
        for expert, value in zip(rows["expert"], rows["value"], strict=True)
    }


@dataclass(frozen=True)
class PanelFigures:
    """Agreement across the statements of one round that share a scale."""

    round: int
    scale_points: int
    statements: int
    krippendorff_alpha_ordinal: float | None


def _panel_figures(study: Study, frame: pd.DataFrame) -> list[PanelFigures]:
    """Krippendorff's alpha (ordinal) per round, over the statements of each scale."""
    figures = []
    for points, part in frame.groupby("scale_points", sort=True):
        analysis = analyse(
            part[["expert", "item", "round", "value"]], study_settings(study, int(points))
        )
        for row in analysis.panel:
            statements = part.loc[part["round"] == row.round, "item"].nunique()
            figures.append(
                PanelFigures(
                    int(row.round), int(points), statements, row.krippendorff_alpha_ordinal
                )
            )
    return sorted(figures, key=lambda f: (f.round, f.scale_points))


def prepare_next_round(
    actor: Coordinator, statements: Sequence[StatementFigures], study: Study
) -> tuple[Round, list[Item]]:
    """Carry the last closed round's statements the stop rule keeps into the next round.

    The next round is the draft that follows (statements made while coding may have started
    it already), or a new one. Statements carried before are not carried twice.
    """
    db.session.get(Study, study.id, with_for_update=True)  # one carry-forward at a time
    closed = [r for r in study.rounds if r.state is RoundState.CLOSED]
    if not closed:
        raise StudyError(_l("close a round first"))
    source = closed[-1]
    target = next_draft_round(actor, study)
    carried_before = {item.previous_item_id for item in target.items}
    carried = [
        add_item(
            actor,
            target,
            kind=item.kind,
            text=item.text,
            section=item.section,
            scale_points=item.scale_points,
            previous_item=item,
            scale_labels=item.scale_labels,
            ask_rationale=item.ask_rationale,
        )
        for item in (f.item for f in statements if not f.retire)
        if item.round_id == source.id and item.id not in carried_before
    ]
    return target, carried
