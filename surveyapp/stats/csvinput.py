"""Read and check the answers CSV of ``surveyapp stats``: expert,item,round,value[,group].

Every problem is reported with the line it is on; nothing is analysed from a file with one.
"""

from __future__ import annotations

import csv
import io
import math
import re

import numpy as np
import pandas as pd

from surveyapp.stats.measures import Settings

REQUIRED = ("expert", "item", "round", "value")
OPTIONAL = ("group",)
NO_OPINION = frozenset({"", "na"})
_WHOLE = re.compile(r"^[-+]?\d+$")


class InputError(ValueError):
    """A problem in the input file, on a given line."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise InputError(line, "the file is not UTF-8 text") from None


def _header(row: list[str]) -> dict[str, int]:
    names = [name.strip().lower() for name in row]
    for name in names:
        if name not in REQUIRED + OPTIONAL:
            expected = ",".join(REQUIRED)
            raise InputError(
                1, f"unknown column {name!r}; the columns are {expected} and optionally group"
            )
        if names.count(name) > 1:
            raise InputError(1, f"column {name!r} appears twice")
    missing = [name for name in REQUIRED if name not in names]
    if missing:
        raise InputError(1, f"missing column(s) {', '.join(missing)}")
    return {name: names.index(name) for name in names}


def _number(text: str, line: int) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InputError(
            line, f"value {text!r} is not a number (leave it empty or NA for no opinion)"
        ) from None
    if not math.isfinite(value):
        raise InputError(line, f"value {text!r} is not a number")
    return value


def read_answers(data: bytes, settings: Settings, *, ranking: bool = False) -> pd.DataFrame:
    """Parse and check the CSV bytes; return a frame ready for ``analyse``.

    Raises InputError naming the line of the first problem: not UTF-8, a missing or unknown
    column, a wrong number of fields, an empty expert or item, a round that is not a whole
    number, a value off the scale (ranks: outside 1..items of the round), an expert answering
    an item twice in a round, or an expert in two groups.
    """
    reader = csv.reader(io.StringIO(_decode(data), newline=""))
    try:
        header = next(reader, None)
        if header is None:
            raise InputError(1, "the file is empty; expected the header expert,item,round,value")
        columns = _header(header)
        rows, lines = [], []
        seen: dict[tuple[str, str, int], int] = {}
        groups: dict[str, tuple[str | None, int]] = {}
        for row in reader:
            line = reader.line_num
            if not row or all(not field.strip() for field in row):
                continue
            if len(row) != len(columns):
                raise InputError(line, f"expected {len(columns)} fields, found {len(row)}")
            expert, item = row[columns["expert"]].strip(), row[columns["item"]].strip()
            round_text = row[columns["round"]].strip()
            value_text = row[columns["value"]].strip()
            if not expert or not item:
                raise InputError(line, "expert and item must not be empty")
            if not _WHOLE.match(round_text):
                raise InputError(line, f"round {round_text!r} is not a whole number")
            round_number = int(round_text)
            value = None if value_text.lower() in NO_OPINION else _number(value_text, line)
            on_scale = value is None or (
                value.is_integer() and settings.scale_min <= value <= settings.scale_max
            )
            if not ranking and not on_scale:
                raise InputError(
                    line,
                    f"value {value_text} is off the scale "
                    f"{settings.scale_min}-{settings.scale_max}",
                )
            if value is not None and ranking and (not value.is_integer() or value < 1):
                raise InputError(line, f"rank {value_text} is not a whole number from 1 up")
            key = (expert, item, round_number)
            if key in seen:
                raise InputError(
                    line,
                    f"expert {expert!r} answered item {item!r} in round {round_number} "
                    f"already on line {seen[key]}",
                )
            seen[key] = line
            group = None
            if "group" in columns:
                group = row[columns["group"]].strip() or None
                earlier = groups.setdefault(expert, (group, line))
                if earlier[0] != group:
                    raise InputError(
                        line,
                        f"expert {expert!r} is in group {group!r} here but in "
                        f"{earlier[0]!r} on line {earlier[1]}",
                    )
            rows.append((expert, item, round_number, value, group))
            lines.append(line)
    except csv.Error as error:
        raise InputError(reader.line_num, f"malformed CSV: {error}") from None

    frame = pd.DataFrame(rows, columns=[*REQUIRED, "group"])
    frame["value"] = frame["value"].astype(float)
    frame["round"] = frame["round"].astype(np.int64)
    if ranking:
        _check_ranks(frame, lines)
    if "group" not in columns:
        frame = frame.drop(columns="group")
    return frame


def _check_ranks(frame: pd.DataFrame, lines: list[int]) -> None:
    """Ranks in a round run from 1 to the number of items ranked in that round."""
    items = frame.groupby("round")["item"].transform("nunique").to_numpy()
    values = frame["value"].to_numpy()
    too_high = np.flatnonzero(values > items)  # NaN compares False
    if len(too_high):
        row = too_high[0]
        raise InputError(
            lines[row],
            f"rank {values[row]:g} is higher than the {items[row]} items of round "
            f"{frame['round'].iloc[row]}",
        )
