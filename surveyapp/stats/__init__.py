"""Consensus and stability statistics for Delphi studies: plain functions on plain data.

No Flask, no database: the app reaches the data through ``frames.py`` and calls these.
"""

from surveyapp.stats.analysis import (
    Analysis,
    GroupResult,
    ItemChange,
    ItemRound,
    PanelRound,
    analyse,
    should_retire,
    shown_groups,
    study_finished,
)
from surveyapp.stats.consensus import ConsensusRule, Criterion, RuleError, parse_rule
from surveyapp.stats.measures import (
    DEFAULT_RULE,
    QUANTILE_METHODS,
    ItemStats,
    Settings,
    default_bands,
    describe_item,
)
from surveyapp.stats.panel import (
    KendallW,
    fleiss_kappa,
    kendall_w,
    krippendorff_alpha_ordinal,
)
from surveyapp.stats.stability import Stability, compare_rounds

__all__ = [
    "DEFAULT_RULE",
    "QUANTILE_METHODS",
    "Analysis",
    "ConsensusRule",
    "Criterion",
    "GroupResult",
    "ItemChange",
    "ItemRound",
    "ItemStats",
    "KendallW",
    "PanelRound",
    "RuleError",
    "Settings",
    "Stability",
    "analyse",
    "compare_rounds",
    "default_bands",
    "describe_item",
    "fleiss_kappa",
    "kendall_w",
    "krippendorff_alpha_ordinal",
    "parse_rule",
    "should_retire",
    "shown_groups",
    "study_finished",
]
