"""The anthology from a study: included quotes by section and group, built outside requests."""

import io
from datetime import timedelta
from pathlib import Path

import pdfplumber
from sqlalchemy import select

from surveyapp.cli import cli
from surveyapp.extensions import db
from surveyapp.models import AnthologyBuild, BuildState, ItemKind, RoundState, utcnow
from surveyapp.publishing.services import gather_anthology, request_build
from surveyapp.worker import run_next_build
from tests.builders import (
    csrf_token,
    login,
    make_coordinator,
    make_member,
    make_quote,
    make_response,
    make_round,
    make_section,
    make_study,
)


def _study_with_quotes():
    coordinator = make_coordinator()
    study = make_study(coordinator, title="Trends 2026", footer_text="bloemlezing - test")
    section = make_section(study, "1.3", "Beleid vs. uitvoering")
    round_ = make_round(
        study, items=["Welke trends?", "Welke knelpunten?"], state=RoundState.CLOSED
    )
    texts = {
        (0, "Zorgen over minderjarige slachtoffers."),
        (0, "Er is een wildgroei aan zorgpartijen."),
        (1, "Veel beleid, weinig uitvoering."),
        (1, "Left out of the anthology"),
    }
    for position, text in sorted(texts):
        item = round_.items[position]
        answer = make_response(make_member(study), round_, {item: text}).answers[0]
        make_quote(answer, section, group=item.position, included=not text.startswith("Left"))
    return coordinator, study


def test_gathered_anthology_holds_included_quotes_by_section_and_group(app):
    _, study = _study_with_quotes()
    anthology = gather_anthology(study)
    assert anthology.title == "Trends 2026"
    assert anthology.footer_text == "bloemlezing - test"
    [chapter] = anthology.chapters
    [section] = chapter.sections
    assert (section.number, section.title) == ("1.3", "Beleid vs. uitvoering")
    assert [tuple(group.in_order()) for group in section.groups] == [
        ("Er is een wildgroei aan zorgpartijen.", "Zorgen over minderjarige slachtoffers."),
        ("Veel beleid, weinig uitvoering.",),
    ]


def test_build_from_the_study_page_runs_outside_the_request(client, app):
    coordinator, study = _study_with_quotes()
    login(client, coordinator)
    client.get(f"/studies/{study.id}/anthology/")
    client.post(f"/studies/{study.id}/anthology/build", data={"csrf_token": csrf_token(client)})
    build = db.session.scalar(select(AnthologyBuild))
    assert build.state is BuildState.QUEUED  # the request only queued it
    page = client.get(f"/studies/{study.id}/anthology/?lang=en").get_data(as_text=True)
    assert "Building the anthology" in page

    run_next_build(Path(app.config["REPORTS_DIR"]))
    db.session.expire_all()
    assert build.state is BuildState.DONE
    assert client.get(f"/studies/{study.id}/anthology/status").get_json()["state"] == "done"
    page = client.get(f"/studies/{study.id}/anthology/?lang=en").get_data(as_text=True)
    assert "Download the PDF" in page

    base = f"/studies/{study.id}/anthology/{build.id}"
    with client.get(f"{base}/anthology.pdf") as pdf:
        assert pdf.mimetype == "application/pdf"
        with pdfplumber.open(io.BytesIO(pdf.data)) as document:
            text = " ".join(page.extract_text() or "" for page in document.pages)
    assert "Veel beleid, weinig uitvoering." in text
    assert "Left out of the anthology" not in text
    with client.get(f"{base}/anthology.html") as html:
        assert "Veel beleid, weinig uitvoering." in html.get_data(as_text=True)
    with client.get(f"{base}/download.html") as download:
        assert "attachment" in download.headers["Content-Disposition"]


def test_a_failed_build_is_shown_with_its_reason(client, app):
    coordinator, study = _study_with_quotes()
    quote = study.themes[-1]
    from surveyapp.models import Quote

    broken = db.session.scalars(select(Quote)).first()
    broken.text = "bell\x07 in a quote"
    db.session.commit()
    login(client, coordinator)
    client.get(f"/studies/{study.id}/anthology/")
    client.post(f"/studies/{study.id}/anthology/build", data={"csrf_token": csrf_token(client)})
    run_next_build(Path(app.config["REPORTS_DIR"]))
    page = client.get(f"/studies/{study.id}/anthology/?lang=en").get_data(as_text=True)
    assert "The last build failed" in page
    assert "control character" in page
    assert quote is not None
    assert list(Path(app.config["REPORTS_DIR"]).glob("*.pdf")) == []


def test_other_coordinators_cannot_download(client, app):
    _, study = _study_with_quotes()
    build = AnthologyBuild(study_id=study.id, state=BuildState.DONE, pdf_path="/etc/passwd")
    db.session.add(build)
    db.session.commit()
    login(client, make_coordinator())
    assert client.get(f"/studies/{study.id}/anthology/{build.id}/anthology.pdf").status_code == 404


def test_cli_builds_an_anthology_by_slug(app, tmp_path):
    _, study = _study_with_quotes()
    out = tmp_path / "out" / "book.pdf"
    result = app.test_cli_runner().invoke(
        cli,
        ["anthology", "build", study.slug, "--out", str(out), "--html", str(tmp_path / "b.html")],
    )
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF")
    assert "Veel beleid" in (tmp_path / "b.html").read_text(encoding="utf-8")


def test_cli_names_an_unknown_study(app, tmp_path):
    result = app.test_cli_runner().invoke(
        cli, ["anthology", "build", "nope", "--out", str(tmp_path / "x.pdf")]
    )
    assert result.exit_code == 1
    assert "no study 'nope'" in result.output
    assert not (tmp_path / "x.pdf").exists()


def test_an_item_kind_is_stored_as_its_value(app):
    _, study = _study_with_quotes()
    assert study.rounds[0].items[0].kind is ItemKind.OPEN


def test_the_worker_builds_queued_anthologies_and_delivers_mail(app, tmp_path):
    coordinator, study = _study_with_quotes()
    request_build(coordinator, study, utcnow())
    db.session.commit()
    result = app.test_cli_runner().invoke(cli, ["worker", "--once"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    build = db.session.scalar(select(AnthologyBuild))
    assert build.state is BuildState.DONE
    assert Path(build.pdf_path).read_bytes().startswith(b"%PDF")


def test_a_build_whose_worker_stopped_does_not_block_new_builds(app):
    coordinator, study = _study_with_quotes()
    stuck = AnthologyBuild(
        study_id=study.id, state=BuildState.RUNNING, started_at=utcnow() - timedelta(hours=2)
    )
    db.session.add(stuck)
    db.session.commit()
    build = request_build(coordinator, study, utcnow())
    db.session.commit()
    assert build.id != stuck.id
    assert build.state is BuildState.QUEUED
    assert stuck.state is BuildState.FAILED
    assert "worker stopped" in stuck.error


def test_a_second_request_while_building_returns_the_same_build(app):
    coordinator, study = _study_with_quotes()
    first = request_build(coordinator, study, utcnow())
    db.session.commit()
    assert request_build(coordinator, study, utcnow()).id == first.id


def test_results_are_grouped_by_section_and_an_english_study_reads_english(app):
    coordinator = make_coordinator()
    study = make_study(coordinator, language="en", retire_stable=False)
    late, early = make_section(study, "1.3", "Later"), make_section(study, "1.1", "Earlier")
    round_ = make_round(
        study,
        items=[
            {"kind": ItemKind.LIKERT, "text": "In 1.3", "scale_points": 7, "section": late},
            {"kind": ItemKind.LIKERT, "text": "In 1.1", "scale_points": 7, "section": early},
        ],
        state=RoundState.CLOSED,
    )
    make_response(make_member(study), round_, dict.fromkeys(round_.items, 6))
    anthology = gather_anthology(study)
    assert [r.text for r in anthology.results] == ["In 1.1", "In 1.3"]
    assert anthology.results[0].scale_labels[0] == "Strongly disagree"
    assert anthology.methods.stop_rules.startswith("A statement leaves the next round")
    assert anthology.methods.panel[0].group == "(no group)"
