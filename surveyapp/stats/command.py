"""``surveyapp stats FILE.csv``: analyse answers collected anywhere, without a database."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from typing import Any

import click

from surveyapp.stats.analysis import analyse
from surveyapp.stats.consensus import RuleError, parse_rule
from surveyapp.stats.csvinput import InputError, read_answers
from surveyapp.stats.measures import DEFAULT_RULE, QUANTILE_METHODS, Settings

_RANGE = re.compile(r"^\s*(-?\d+)\s*-\s*(-?\d+)\s*$")
CSV_COLUMNS = ("table", "group", "item", "round", "to_round", "measure", "value")


class InputProblem(click.ClickException):
    """A malformed input file: one line on standard error, exit status 2."""

    exit_code = 2


def _range(ctx: click.Context, param: click.Parameter, value: str | None) -> tuple[int, int] | None:
    if value is None:
        return None
    match = _RANGE.match(value)
    if match is None:
        raise click.BadParameter(f"{value!r} is not a range like 1-5")
    low, high = int(match.group(1)), int(match.group(2))
    if low > high:
        raise click.BadParameter(f"{value!r}: the first number must not be the larger")
    return low, high


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _settings_rows(settings: dict[str, object]) -> Iterator[tuple[str, object]]:
    for key, value in settings.items():
        if isinstance(value, dict):
            for name, text in value.items():
                yield f"{key}.{name}", text
        elif isinstance(value, list):
            yield key, "-".join(str(part) for part in value)
        else:
            yield key, value


_IDENTITY = ("item", "round", "from_round", "to_round")


def _row_cells(
    table: str, group: object, row: dict[str, Any], scale_min: int
) -> Iterator[list[str]]:
    start = row.get("round", row.get("from_round"))
    where = [table, _cell(group), _cell(row.get("item")), _cell(start), _cell(row.get("to_round"))]
    for name, value in row.items():
        if name in _IDENTITY:
            continue
        if name == "distribution":
            for point, count in enumerate(value, start=scale_min):
                yield [*where, f"distribution_{point}", str(count)]
        else:
            yield [*where, name, _cell(value)]


def to_csv(result: dict[str, Any]) -> str:
    """Write the analysis in long form: one figure per line, easy to filter and pivot.

    Columns: table (settings, items, stability, panel), group (empty for the whole panel),
    item, round (the earlier round for stability), to_round, measure, value. The distribution
    becomes one measure per scale point, distribution_1 to distribution_k.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for key, value in _settings_rows(result["settings"]):
        writer.writerow(["settings", "", "", "", "", key, _cell(value)])
    scale_min = result["settings"]["scale"][0]
    sections = [(None, result)] + [(group["group"], group) for group in result.get("groups", [])]
    for group, section in sections:
        for table in ("items", "stability"):
            for row in section[table]:
                writer.writerows(_row_cells(table, group, row, scale_min))
    for row in result["panel"]:
        writer.writerows(_row_cells("panel", None, row, scale_min))
    return buffer.getvalue()


@click.command("stats")
@click.argument("csv_file", metavar="FILE.csv", type=click.File("rb"))
@click.option("--scale", default="1-5", show_default=True, callback=_range, help="Rating scale.")
@click.option("--agree", callback=_range, help="Agreement band [default: top two points].")
@click.option("--disagree", callback=_range, help="Disagreement band [default: bottom two].")
@click.option(
    "--quantile",
    type=click.Choice(list(QUANTILE_METHODS)),
    default="linear",
    show_default=True,
    help="Quantile method (numpy names; SPSS uses weibull).",
)
@click.option("--rule", default=DEFAULT_RULE, show_default=True, help="Consensus rule.")
@click.option("--ranking", is_flag=True, help="Values are ranks: add Kendall's W.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["json", "csv"]),
    default="json",
    show_default=True,
)
@click.option(
    "--stability-threshold",
    type=click.FloatRange(0, 100),
    default=15.0,
    show_default=True,
    help="Largest distribution change (percent) that counts as stable.",
)
@click.option(
    "--min-group-size",
    type=click.IntRange(min=1),
    default=5,
    show_default=True,
    help="Smaller panel groups are not broken out.",
)
def stats_command(
    csv_file: io.BufferedReader,
    scale: tuple[int, int],
    agree: tuple[int, int] | None,
    disagree: tuple[int, int] | None,
    quantile: str,
    rule: str,
    ranking: bool,
    output_format: str,
    stability_threshold: float,
    min_group_size: int,
) -> None:
    """Analyse consensus and stability of the answers in FILE.csv.

    FILE.csv has the header expert,item,round,value and optionally group; an empty value or NA
    means no opinion. Figures go to standard output as JSON or as long-form CSV.
    """
    try:
        consensus_rule = parse_rule(rule)
    except RuleError as error:
        raise click.BadParameter(str(error), param_hint="--rule") from None
    try:
        settings = Settings(
            scale_min=scale[0],
            scale_max=scale[1],
            agree=agree,
            disagree=disagree,
            quantile=quantile,
            rule=consensus_rule,
            stability_threshold=stability_threshold,
            min_group_size=min_group_size,
        )
    except ValueError as error:
        raise click.UsageError(str(error)) from None

    name = getattr(csv_file, "name", "input")
    try:
        frame = read_answers(csv_file.read(), settings, ranking=ranking)
        analysis = analyse(frame, settings, ranking=ranking)
    except InputError as error:
        raise InputProblem(f"{name}: {error}") from None
    except ValueError as error:
        raise InputProblem(f"{name}: {error}") from None

    result = analysis.to_dict()
    if "group" not in frame.columns:
        del result["groups"]
    if output_format == "json":
        output = json.dumps(result, allow_nan=False, ensure_ascii=False, indent=2)
    else:
        output = to_csv(result).rstrip("\n")
    click.echo(output)
