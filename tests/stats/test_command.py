"""``surveyapp stats FILE.csv``: the output contract and the refusal of malformed files."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner

from surveyapp.stats.command import stats_command

HEADER = "expert,item,round,value\n"
TWO_ROUNDS = HEADER + (
    "e1,s1,1,4\ne2,s1,1,5\ne3,s1,1,2\ne4,s1,1,NA\n"
    "e1,s1,2,4\ne2,s1,2,4\ne3,s1,2,4\ne4,s1,2,\n"
    "e1,s2,1,3\ne2,s2,1,3\n"
)


@pytest.fixture
def run(tmp_path):
    """Write the CSV text (or bytes) to a file and run the command on it."""

    def run_command(content: str | bytes, *options: str):
        path = tmp_path / "answers.csv"
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        else:
            path.write_bytes(content)
        return CliRunner().invoke(stats_command, [str(path), *options])

    return run_command


def test_json_output_follows_the_contract(run):
    result = run(TWO_ROUNDS)
    assert result.exit_code == 0, result.output
    output = json.loads(result.stdout)
    assert list(output) == ["settings", "items", "stability", "panel"]
    assert output["settings"]["quantile"] == "linear"
    assert output["settings"]["scale"] == [1, 5]
    assert output["settings"]["agree"] == [4, 5]
    first = output["items"][0]
    assert (first["item"], first["round"], first["n"], first["no_opinion"]) == ("s1", 1, 3, 1)
    assert first["distribution"] == [0, 1, 0, 1, 1]
    assert first["mean"] == 11 / 3  # full precision
    assert first["rand_di"] is None
    assert first["rule_70_15"] is False
    assert first["consensus"] == "none"
    later = output["items"][1]
    assert later["consensus"] == "in"
    (change,) = output["stability"]
    assert (change["item"], change["from_round"], change["to_round"]) == ("s1", 1, 2)
    assert change["n_paired"] == 3
    assert change["stable"] is False
    assert isinstance(output["stability"][0]["stable"], bool)
    assert [p["round"] for p in output["panel"]] == [1, 2]


def test_undefined_values_are_null_never_nan(run):
    result = run(HEADER + "e1,s1,1,3\ne2,s2,1,NA\n")
    assert result.exit_code == 0
    assert "NaN" not in result.stdout
    single, empty = json.loads(result.stdout)["items"]
    assert single["sd"] is None
    assert empty["median"] is None


def test_options_reach_the_settings(run):
    content = HEADER + "".join(f"e{n},s1,1,{v}\n" for n, v in enumerate([7, 8, 8, 9, 9, 5, 7]))
    result = run(
        content,
        "--scale", "1-9",
        "--agree", "7-9",
        "--disagree", "1-3",
        "--quantile", "weibull",
        "--rule", "70/15",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    output = json.loads(result.stdout)
    assert output["settings"]["rule"] == "70/15"
    assert output["settings"]["quantile"] == "weibull"
    (item,) = output["items"]
    assert item["rule_70_15"] is True
    assert item["rand_class"] == "appropriate"
    assert item["consensus"] == "in"
    assert item["percent_agreement"] == 600 / 7


def test_csv_output_is_long_form(run):
    result = run(TWO_ROUNDS, "--format", "csv")
    assert result.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(rows[0]) == ["table", "group", "item", "round", "to_round", "measure", "value"]
    lookup = {(r["table"], r["item"], r["round"], r["measure"]): r["value"] for r in rows}
    assert lookup[("settings", "", "", "quantile")] == "linear"
    assert lookup[("items", "s1", "1", "distribution_5")] == "1"
    assert lookup[("items", "s1", "1", "mean")] == repr(11 / 3)
    assert lookup[("items", "s1", "1", "sd")] != ""
    assert lookup[("items", "s2", "1", "rand_di")] == ""  # null
    assert lookup[("stability", "s1", "1", "stable")] == "false"
    assert lookup[("panel", "", "1", "krippendorff_alpha_ordinal")] != ""


def test_groups_are_broken_out_above_the_minimum_size(run):
    lines = ["expert,item,round,value,group"]
    lines += [f"p{n},s1,1,{4 + n % 2},politie" for n in range(5)]
    lines += [f"n{n},s1,1,3,ngo" for n in range(6)]
    lines += [f"z{n},s1,1,2,zorg" for n in range(2)]
    result = run("\n".join(lines) + "\n")
    assert result.exit_code == 0, result.output
    groups = json.loads(result.stdout)["groups"]
    # zorg (2) is below the minimum of 5; naming politie too would leave zorg's two
    # readable by subtraction, so only the larger ngo is broken out.
    assert [(g["group"], g["members"]) for g in groups] == [("ngo", 6)]
    assert groups[0]["items"][0]["n"] == 6


def test_ranking_adds_kendall_w(run):
    content = HEADER + "".join(
        f"e{e},{item},1,{rank}\n"
        for e, ranks in enumerate([(1, 2, 3), (1, 3, 2), (2, 1, 3), (1, 2, 3)])
        for item, rank in zip(("a", "b", "c"), ranks, strict=True)
    )
    result = run(content, "--ranking")
    assert result.exit_code == 0, result.output
    (panel,) = json.loads(result.stdout)["panel"]
    assert 0 < panel["kendall_w"] < 1
    assert panel["kendall_df"] == 2
    assert {"kendall_chi2", "kendall_p", "kendall_f"} <= set(panel)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("expert,item,value\ne1,s1,3\n", "line 1: missing column(s) round"),
        ("expert,item,round,value,colour\n", "line 1: unknown column 'colour'"),
        (HEADER + "e1,s1,1,3\ne1,s1,1,6\n", "line 3: value 6 is off the scale 1-5"),
        (HEADER + "e1,s1,1,3\ne1,s1,1,4\n", "line 3: expert 'e1' answered item 's1' in round 1"),
        (HEADER + "e1,s1,1,3\n\ne1,s1,x,4\n", "line 4: round 'x' is not a whole number"),
        (HEADER + "e1,s1,1,3,4\n", "line 2: expected 4 fields, found 5"),
        (HEADER + "e1,s1,1,high\n", "line 2: value 'high' is not a number"),
        (HEADER + "e1,s1,1,2.5\n", "line 2: value 2.5 is off the scale"),
        (HEADER + ",s1,1,2\n", "line 2: expert and item must not be empty"),
        ("", "line 1: the file is empty"),
        (
            "expert,item,round,value,group\ne1,s1,1,3,a\ne1,s2,1,3,b\n",
            "line 3: expert 'e1' is in group 'b' here but in 'a' on line 2",
        ),
    ],
)
def test_malformed_files_get_one_line_naming_the_line_and_status_2(run, content, message):
    result = run(content)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_file_that_is_not_utf8_is_refused_with_its_line(run):
    result = run(HEADER.encode() + b"e1,s1,1,3\ne\xe9,s1,1,4\n")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "line 3: the file is not UTF-8 text" in result.stderr


def test_a_rank_above_the_items_of_its_round_names_the_line(run):
    result = run(HEADER + "e1,a,1,1\ne1,b,1,3\n", "--ranking")
    assert result.exit_code == 2
    assert "line 3: rank 3 is higher than the 2 items of round 1" in result.stderr


def test_a_bom_and_crlf_line_ends_are_accepted(run):
    result = run(b"\xef\xbb\xbf" + TWO_ROUNDS.replace("\n", "\r\n").encode())
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)["items"]) == 3


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (("--rule", "agreement=>75"), "cannot read criterion"),
        (("--scale", "5"), "not a range"),
        (("--rule", "70/15"), "1-9 scale only"),
        (("--agree", "2-5"), "overlap"),
    ],
)
def test_bad_options_are_usage_errors(run, options, message):
    result = run(TWO_ROUNDS, *options)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert message in result.stderr
