"""The demo: a Dutch study with two closed rounds and an open third, loaded once."""

import re
from pathlib import Path

from sqlalchemy import func, select

from surveyapp.cli import cli
from surveyapp.extensions import db
from surveyapp.models import Item, PanelMember, Quote, RoundState, Study
from surveyapp.results.services import study_results
from surveyapp.stats.frames import rating_frame


def test_demo_loads_a_study_prints_a_login_and_a_link_and_builds_the_anthology(app):
    runner = app.test_cli_runner()
    result = runner.invoke(cli, ["demo"])
    assert result.exit_code == 0, result.output
    assert "demo@example.org" in result.output
    study = db.session.scalar(select(Study))
    assert study.title == "Trends en knelpunten in de aanpak van mensenhandel"
    assert "1.3 Beleid vs. uitvoering" in [t.label for t in study.themes]
    assert sorted(g.name for g in study.groups) == ["gemeente", "ngo", "politie en OM", "zorg"]
    assert 25 <= db.session.scalar(select(func.count()).select_from(PanelMember)) <= 35
    assert [r.state for r in study.rounds] == [
        RoundState.CLOSED,
        RoundState.CLOSED,
        RoundState.OPEN,
    ]
    assert db.session.scalar(select(func.count()).select_from(Quote)) > 40

    # Round 3 carries exactly the statements the stop rule kept, with their lineage.
    carried = study.rounds[2].items
    assert carried
    assert all(item.previous_item_id for item in carried)
    results = study_results(study)
    asked_again = [f for f in results if f.item.round.number == 3]
    retired = [f for f in results if f.item.round.number == 2]
    assert len(asked_again) == len(carried)
    assert retired
    assert all(dict(f.rounds)[2].consensus == "none" for f in asked_again)
    assert all(f.retire for f in retired)

    # Panel groups differ on some statements of round 2.
    frame, _ = rating_frame(db.session, study.id)
    medians = frame[frame["round"] == 2].groupby(["item", "group"])["value"].median()
    assert (medians.groupby("item").max() - medians.groupby("item").min()).max() >= 2

    link = re.search(r"http://testserver/q/\S+", result.output).group(0)
    assert link
    reports = Path(app.config["REPORTS_DIR"])
    assert (reports / "demo-bloemlezing.pdf").read_bytes().startswith(b"%PDF")
    assert "Beleid vs. uitvoering" in (reports / "demo-bloemlezing.html").read_text("utf-8")


def test_demo_twice_changes_nothing(app):
    runner = app.test_cli_runner()
    runner.invoke(cli, ["demo"])
    counts = db.session.scalar(select(func.count()).select_from(Item))
    again = runner.invoke(cli, ["demo"])
    assert again.exit_code == 0
    assert "already there" in again.output
    assert db.session.scalar(select(func.count()).select_from(Item)) == counts
    assert db.session.scalar(select(func.count()).select_from(Study)) == 1
