"""Exports: pseudonymous ratings that round-trip into `surveyapp stats`, codebook, XLSX, SPSS."""

from __future__ import annotations

import csv
import io
import json

import pandas as pd
import pyreadstat
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from surveyapp.exports.services import (
    codebook,
    open_answers_table,
    pseudonyms,
    ratings_table,
    shown_groups,
    study_workbook,
    to_csv,
    to_xlsx,
)
from surveyapp.extensions import db
from surveyapp.models import Answer, InvitationToken, ItemKind, RoundState, utcnow
from surveyapp.results.services import study_results
from surveyapp.stats.command import stats_command
from tests.builders import (
    likert,
    login,
    make_coordinator,
    make_group,
    make_member,
    make_quote,
    make_response,
    make_round,
    make_section,
    make_study,
)

KEY = b"test-secret-key"


@pytest.fixture
def rated(app):
    """Round 1 open, round 2 two statements, round 3 one of them again.

    Six police experts, two inspectors (too few to name), three without a group; one more
    member has a draft only.
    """
    coordinator = make_coordinator()
    study = make_study(coordinator, title="Mensenhandel 2025", min_group_size=5)
    section = make_section(study, "1.3", "Beleid vs. uitvoering")
    round1 = make_round(
        study,
        items=[{"kind": ItemKind.OPEN, "text": "Welke trends ziet u?", "section": section}],
        state=RoundState.CLOSED,
    )
    round2 = make_round(
        study,
        items=[likert("Uitbuiting neemt toe", section=section), likert("Ketens werken samen")],
        state=RoundState.CLOSED,
    )
    rising, chains = round2.items
    round3 = make_round(
        study, items=[likert("Ketens werken samen", previous_item=chains)], state=RoundState.CLOSED
    )
    police, inspection = make_group(study, "politie en OM"), make_group(study, "inspectie")
    tokens = []
    for i, group in enumerate([police] * 6 + [inspection] * 2 + [None] * 3):
        member = make_member(study, email=f"geheim{i}@example.org", group=group)
        member.token = InvitationToken(token_hash=f"{i:064d}")
        tokens.append(member.token.reissue(utcnow()))
        make_response(member, round1, {round1.items[0]: f"=Antwoord {i} van één expert"})
        make_response(member, round2, {rising: None if i == 0 else 3 + i % 3, chains: 1 + i % 5})
        make_response(member, round3, {round3.items[0]: 2 + i % 3})
    late = make_member(study, email="laat@example.org", group=police)
    make_response(late, round1, {round1.items[0]: "Nog niet ingediend"}, submitted=False)
    db.session.commit()
    return coordinator, study, tokens


def _secrets(study, tokens) -> list[bytes]:
    """Everything that could identify an expert or open their link, as bytes."""
    values = [m.email for m in study.members] + tokens
    values += [m.token.token_hash for m in study.members if m.token]
    values += [f"geheim{i}" for i in range(11)]
    return [value.encode() for value in values]


def _rows(data: bytes) -> list[dict[str, str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_ratings_csv_round_trips_into_surveyapp_stats(app, tmp_path, rated):
    _, study, _ = rated
    path = tmp_path / "ratings.csv"
    path.write_bytes(to_csv(ratings_table(study, key=KEY)))
    result = CliRunner().invoke(
        stats_command, [str(path), "--scale", "1-5", "--min-group-size", "5"]
    )
    assert result.exit_code == 0, result.output
    figures = {(row["item"], row["round"]): row for row in json.loads(result.output)["items"]}
    by_text = {s.item.text: s for s in study_results(study)}
    for code, text in (("S01", "Uitbuiting neemt toe"), ("S02", "Ketens werken samen")):
        for number, stats in by_text[text].rounds:
            row = figures[(code, number)]
            assert (row["median"], row["n"], row["no_opinion"]) == (
                stats.median,
                stats.n,
                stats.no_opinion,
            )
            assert row["percent_agreement"] == stats.percent_agreement


def test_statement_keeps_its_code_across_rounds(app, rated):
    _, study, _ = rated
    table = ratings_table(study, key=KEY)
    assert list(table.columns) == ["expert", "item", "round", "value", "group"]
    assert sorted(set(zip(table["item"], table["round"], strict=True))) == [
        ("S01", 2),
        ("S02", 2),
        ("S02", 3),
    ]
    rows = codebook(study).rows
    assert [(r.code, r.rounds, r.kind) for r in rows] == [
        ("S01", (2,), "statement"),
        ("S02", (2, 3), "statement"),
        ("Q01", (1,), "open"),
    ]


def test_no_opinion_is_empty_never_zero(app, rated):
    _, study, _ = rated
    rows = _rows(to_csv(ratings_table(study, key=KEY)))
    values = [row["value"] for row in rows]
    assert "0" not in values
    assert values.count("") == 1
    assert all(v == "" or v in {"1", "2", "3", "4", "5"} for v in values)


def test_small_groups_are_blank_and_cannot_be_singled_out(app, rated):
    _, study, _ = rated
    rows = _rows(to_csv(ratings_table(study, key=KEY)))
    group_of = {row["expert"]: row["group"] for row in rows}
    assert sorted(group_of.values()).count("politie en OM") == 6
    assert "inspectie" not in group_of.values()
    assert list(group_of.values()).count("") == 5  # two inspectors, three without a group


def test_unnamed_experts_must_be_a_crowd_too():
    # Naming every group but one small one would point at that group's members.
    assert shown_groups({"a": "x", "b": "x", "c": "y"}, 2) == set()
    experts = {f"p{i}": "police" for i in range(6)} | {"i1": "insp", "i2": "insp"}
    assert shown_groups(experts, 5) == set()
    experts |= {f"n{i}": "ngo" for i in range(5)}
    assert shown_groups(experts, 5) == {"police"}
    assert shown_groups(experts | {f"x{i}": None for i in range(3)}, 5) == {"police", "ngo"}


def test_pseudonyms_are_stable_and_not_the_member_order(app, rated):
    _, study, _ = rated
    names = pseudonyms(study, KEY)
    assert names == pseudonyms(study, KEY)
    assert sorted(names.values()) == [f"E{n:03d}" for n in range(1, 13)]
    by_id = [names[member_id] for member_id in sorted(names)]
    assert by_id != sorted(by_id)  # this key happens to shuffle; another key, another order
    assert pseudonyms(study, b"another key") != names


def test_no_email_member_id_or_token_in_any_export(client, app, rated):
    coordinator, study, tokens = rated
    login(client, coordinator)
    forbidden = _secrets(study, tokens)
    for path in (
        "ratings.csv",
        "open-answers.csv",
        "open-answers.csv?quotes=1",
        "codebook.csv",
        "study.xlsx",
        "ratings.sav",
    ):
        response = client.get(f"/studies/{study.id}/exports/{path}")
        assert response.status_code == 200, path
        assert response.headers["Content-Disposition"].startswith("attachment;")
        assert response.headers["Cache-Control"] == "no-store"
        data = response.get_data()
        assert not [secret for secret in forbidden if secret in data], path
    table = ratings_table(study, key=KEY)
    member_ids = {str(m.id) for m in study.members}
    assert not member_ids & set(table["expert"])


def test_xlsx_has_every_sheet_with_a_bold_frozen_header(app, rated):
    _, study, tokens = rated
    data = study_workbook(study, key=KEY)
    assert not [secret for secret in _secrets(study, tokens) if secret in data]
    workbook = load_workbook(io.BytesIO(data))
    assert workbook.sheetnames == ["ratings", "open answers", "codebook", "settings"]
    for sheet in workbook:
        assert sheet.freeze_panes == "A2"
        assert all(cell.font.bold for cell in sheet[1])
    ratings = workbook["ratings"]
    assert [c.value for c in ratings[1]] == ["expert", "item", "round", "value", "group"]
    assert None in [row[3] for row in ratings.iter_rows(min_row=2, values_only=True)]
    answers = workbook["open answers"]
    assert [c.value for c in answers[1]] == ["item", "round", "section", "text"]
    texts = [row[3] for row in answers.iter_rows(min_row=2, values_only=True)]
    assert "=Antwoord 0 van één expert" in texts  # kept as text, not run as a formula
    assert all(cell.data_type == "s" for cell in answers["D"][1:])
    settings = dict(workbook["settings"].iter_rows(min_row=2, values_only=True))
    assert settings["consensus_rule"] == study.consensus_rule
    assert settings["quantile_method"] == "linear"


def test_open_answers_carry_no_expert_and_only_submitted_ones(app, rated):
    _, study, _ = rated
    table = open_answers_table(study)
    assert list(table.columns) == ["item", "round", "section", "text"]
    assert len(table) == 11
    assert "Nog niet ingediend" not in set(table["text"])
    assert set(table["section"]) == {"1.3 Beleid vs. uitvoering"}
    rows = _rows(to_csv(table))
    assert rows[0]["text"].startswith("'=")  # a spreadsheet shows it, never runs it


def test_quotes_only_gives_the_anonymised_quote_text(app, rated):
    _, study, _ = rated
    section = study.themes[1]
    answer = db.session.scalars(
        db.select(Answer).where(Answer.text == "=Antwoord 3 van één expert")
    ).one()
    make_quote(answer, section, "Een expert zag meer uitbuiting in [sector].")
    table = open_answers_table(study, quotes_only=True)
    assert table.to_dict("records") == [
        {
            "item": "Q01",
            "round": 1,
            "section": "1.3 Beleid vs. uitvoering",
            "text": "Een expert zag meer uitbuiting in [sector].",
        }
    ]


def test_codebook_lists_scale_labels_and_bands(app, rated):
    _, study, _ = rated
    book = codebook(study)
    first = book.rows[0]
    assert first.text == "Uitbuiting neemt toe"
    assert first.section == "1.3 Beleid vs. uitvoering"
    assert (first.scale_points, first.agree_band, first.disagree_band) == (5, (4, 5), (1, 2))
    assert first.scale_labels[0] == "Helemaal oneens"  # the study's language, Dutch
    assert dict(book.settings)["min_group_size"] == "5"


def test_sav_opens_with_variable_and_value_labels(client, app, tmp_path, rated):
    coordinator, study, _ = rated
    login(client, coordinator)
    response = client.get(f"/studies/{study.id}/exports/ratings.sav")
    assert response.headers["Content-Disposition"].endswith(f"{study.slug}-ratings.sav")
    path = tmp_path / "ratings.sav"
    path.write_bytes(response.get_data())
    frame, meta = pyreadstat.read_sav(str(path))
    assert list(frame.columns) == ["expert", "group", "S01_R2", "S02_R2", "S02_R3"]
    assert meta.column_names_to_labels["S01_R2"] == "S01 R2: Uitbuiting neemt toe"
    assert meta.variable_value_labels["S02_R3"][1.0] == "Helemaal oneens"
    assert meta.variable_value_labels["S02_R3"][99.0] == "geen mening"
    assert frame["S01_R2"].isna().sum() == 1  # "no opinion" is user-missing, read as missing
    raw, _ = pyreadstat.read_sav(str(path), user_missing=True)
    assert (raw["S01_R2"] == 99).sum() == 1
    assert set(frame["group"]) == {"politie en OM", ""}


def test_coordinator_without_access_gets_404(client, app, rated):
    _, study, _ = rated
    login(client, make_coordinator())
    for path in ("ratings.csv", "open-answers.csv", "codebook.csv", "study.xlsx", "ratings.sav"):
        assert client.get(f"/studies/{study.id}/exports/{path}").status_code == 404


def test_results_page_links_every_export(client, app, rated):
    coordinator, study, _ = rated
    login(client, coordinator)
    page = client.get(f"/studies/{study.id}/results/?lang=en").get_data(as_text=True)
    assert "Export" in page
    for path in ("ratings.csv", "study.xlsx", "ratings.sav", "codebook.csv", "open-answers.csv"):
        assert f"/studies/{study.id}/exports/{path}" in page


def test_to_xlsx_never_writes_a_formula():
    data = to_xlsx({"t": pd.DataFrame({"text": ["=1+1", "@SUM(A1)", "gewoon"]})})
    sheet = load_workbook(io.BytesIO(data))["t"]
    assert [c.value for c in sheet["A"][1:]] == ["=1+1", "@SUM(A1)", "gewoon"]
    assert {c.data_type for c in sheet["A"][1:]} == {"s"}


def test_a_study_without_answers_exports_empty_files(client, app):
    coordinator = make_coordinator()
    study = make_study(coordinator)
    make_round(study, items=[likert("Nog niet beoordeeld")], state=RoundState.OPEN)
    login(client, coordinator)
    for path in ("ratings.csv", "open-answers.csv", "codebook.csv", "study.xlsx", "ratings.sav"):
        response = client.get(f"/studies/{study.id}/exports/{path}")
        assert response.status_code == 200, path
    assert _rows(to_csv(ratings_table(study, key=KEY))) == []


def test_the_export_command_writes_the_ratings_for_surveyapp_stats(app, tmp_path):
    from surveyapp.cli import cli

    study = make_study()
    round_ = make_round(study, items=[likert("A")], state=RoundState.CLOSED)
    for value in (4, 5, None):
        make_response(make_member(study), round_, {round_.items[0]: value})
    out = tmp_path / "ratings.csv"
    result = app.test_cli_runner().invoke(cli, ["export", study.slug, "--out", str(out)])
    assert result.exit_code == 0, result.output
    lines = out.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].startswith("expert,item,round,value")
    assert len(lines) == 4
    unknown = app.test_cli_runner().invoke(cli, ["export", "nope", "--out", str(out)])
    assert unknown.exit_code == 1
    assert "no study 'nope'" in unknown.output
