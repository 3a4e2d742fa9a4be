"""`surveyapp anthology render`: files written whole, or nothing and exit status 2."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from surveyapp.anthology.command import anthology_group

from .conftest import SEED


def _run(*arguments: str):
    return CliRunner().invoke(anthology_group, ["render", *arguments])


def test_render_writes_pdf_and_html(tmp_path):
    pdf, html = tmp_path / "bloemlezing.pdf", tmp_path / "bloemlezing.html"
    result = _run(str(SEED), "--out", str(pdf), "--html", str(html))
    assert result.exit_code == 0, result.output
    assert pdf.read_bytes().startswith(b"%PDF-")
    assert html.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "bloemlezing.html",
        "bloemlezing.pdf",
    ]


def test_invalid_input_exits_2_with_one_line_naming_the_place_and_writes_nothing(tmp_path):
    data = json.loads(SEED.read_text(encoding="utf-8"))
    data["sections"][1]["groups"][0][3] = ""
    source = tmp_path / "kapot.json"
    source.write_text(json.dumps(data), encoding="utf-8")
    pdf, html = tmp_path / "uit.pdf", tmp_path / "uit.html"

    result = _run(str(source), "--out", str(pdf), "--html", str(html))

    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        f"Error: {source}: sections[1].groups[0][3]: empty quote"
    ]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["kapot.json"]


def test_an_existing_file_is_left_alone_when_input_is_invalid(tmp_path):
    pdf = tmp_path / "uit.pdf"
    pdf.write_bytes(b"old")
    result = _run(str(tmp_path / "missing.json"), "--out", str(pdf))
    assert result.exit_code == 2
    assert "cannot read" in result.output
    assert pdf.read_bytes() == b"old"


def test_a_missing_output_folder_is_reported_before_building(tmp_path):
    target = tmp_path / "nergens" / "uit.pdf"
    result = _run(str(SEED), "--out", str(target))
    assert result.exit_code == 2
    assert result.output == f"Error: {target}: folder {target.parent} does not exist\n"
    assert not list(tmp_path.iterdir())


def test_progress_reaches_the_end(tmp_path):
    result = _run(str(SEED), "--out", str(tmp_path / "uit.pdf"))
    assert result.exit_code == 0
    assert "PDF" in result.output
    assert Path(tmp_path / "uit.pdf").exists()
