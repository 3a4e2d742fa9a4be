"""The statistics core's one bridge to the database: a study's ratings as a DataFrame."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveyapp.models import (
    Answer,
    Item,
    ItemKind,
    PanelGroup,
    PanelMember,
    Response,
    ResponseState,
    Round,
    Study,
)
from surveyapp.stats.consensus import NINE_POINT_KEYS, ConsensusRule, parse_rule
from surveyapp.stats.measures import DEFAULT_RULE, Settings

NINE_POINTS = 9

COLUMNS = ("expert", "item", "item_id", "round", "value", "group", "scale_points")


def study_settings(study: Study, scale_points: int) -> Settings:
    """Return the stats settings a study's rules give for a scale of this many points.

    The rules are fixed for the whole study, but its items may use different scales. Where
    the study's agreement band does not fit a scale (three points on a 5-point scale would
    overlap the disagreement band), the scale's default bands apply; criteria defined on the
    1-9 scale only (70/15, RAND's DI) apply to 9-point items only, and a rule left without
    criteria falls back to the default rule.
    """
    top = study.agree_points
    if top > 0 and 2 * top < scale_points:
        bands = {"agree": (scale_points - top + 1, scale_points), "disagree": (1, top)}
    else:
        bands = {}
    rule = parse_rule(study.consensus_rule)
    if scale_points != NINE_POINTS and rule.needs_nine_point_scale:
        kept = tuple(c for c in rule.criteria if c.key not in NINE_POINT_KEYS)
        rule = ConsensusRule(kept) if kept else parse_rule(DEFAULT_RULE)
    return Settings(
        scale_min=1,
        scale_max=scale_points,
        quantile=study.quantile_method,
        rule=rule,
        stability_threshold=study.stability_threshold,
        min_group_size=study.min_group_size,
        retire_stable=study.retire_stable,
        round_cap=study.round_cap,
        **bands,
    )


def lineage_roots(items: dict[int, Item]) -> dict[int, int]:
    """Map each item id to the id of the first item of its lineage across rounds."""
    roots: dict[int, int] = {}
    for item_id in items:
        current = item_id
        while (previous := items[current].previous_item_id) is not None and previous in items:
            current = previous
        roots[item_id] = current
    return roots


def rating_frame(session: Session, study_id: int) -> tuple[pd.DataFrame, dict[int, Item]]:
    """Return every submitted rating of a study, one row per expert, item and round.

    `item` is the statement's identity across rounds (its lineage root), `item_id` the
    round's own item; `value` is NaN for "no opinion"; `expert` is an opaque member id.
    The rating items are returned too, by id.
    """
    items = {
        item.id: item
        for item in session.scalars(
            select(Item)
            .join(Round)
            .where(Round.study_id == study_id, Item.kind == ItemKind.LIKERT)
            .order_by(Round.number, Item.position)
        )
    }
    rows = session.execute(
        select(PanelMember.id, Answer.item_id, Round.number, Answer.value, PanelGroup.name)
        .select_from(Answer)
        .join(Response, Answer.response_id == Response.id)
        .join(Round, Response.round_id == Round.id)
        .join(PanelMember, Response.member_id == PanelMember.id)
        .outerjoin(PanelGroup, PanelMember.group_id == PanelGroup.id)
        .where(
            Round.study_id == study_id,
            Response.state == ResponseState.SUBMITTED,
            Answer.item_id.in_(list(items)),
            Answer.value.is_not(None) | Answer.no_opinion,
        )
    ).all()
    roots = lineage_roots(items)
    frame = pd.DataFrame(
        [
            (
                member_id,
                roots[item_id],
                item_id,
                number,
                float("nan") if value is None else float(value),
                group,
                items[item_id].scale_points,
            )
            for member_id, item_id, number, value, group in rows
        ],
        columns=list(COLUMNS),
    )
    return frame.astype({"value": "float64"}), items
