"""Builders for the statistics tests."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

import pandas as pd
import pytest


def build_answers(
    ratings: Mapping[tuple[str, int], Iterable[float | None]],
    groups: Mapping[int, str] | None = None,
) -> pd.DataFrame:
    """Make an answers frame from {(item, round): ratings of experts e0, e1, ...}.

    A rating None is "no opinion"; a shorter list means the later experts did not answer.
    """
    rows = []
    for (item, round_number), values in ratings.items():
        for number, value in enumerate(values):
            row = {"expert": f"e{number}", "item": item, "round": round_number, "value": value}
            if groups is not None:
                row["group"] = groups[number]
            rows.append(row)
    frame = pd.DataFrame(rows)
    frame["value"] = frame["value"].astype(float)
    return frame


@pytest.fixture
def make_answers() -> Callable[..., pd.DataFrame]:
    return build_answers
