"""Results: consensus per statement, movement between rounds, and carrying items forward."""

from sqlalchemy import select

from surveyapp.extensions import db
from surveyapp.models import Item, RoundState
from surveyapp.results.services import study_results
from tests.builders import (
    csrf_token,
    likert,
    login,
    make_coordinator,
    make_group,
    make_member,
    make_response,
    make_round,
    make_study,
)


def _rated_study():
    """Two statements rated by ten experts: one agreed on, one split."""
    coordinator = make_coordinator()
    study = make_study(coordinator, min_group_size=5)
    round_ = make_round(study, items=[likert("Eens"), likert("Verdeeld")], state=RoundState.CLOSED)
    agreed, split = round_.items
    groups = [make_group(study, "politie en OM"), make_group(study, "ngo")]
    for i in range(10):
        member = make_member(study, group=groups[i % 2])
        make_response(member, round_, {agreed: 4 + (i % 2), split: 1 if i % 2 else 5})
    make_response(make_member(study), round_, {agreed: None, split: None})  # no opinion
    return coordinator, study, round_


def test_figures_and_consensus_per_statement(app):
    _, study, _ = _rated_study()
    agreed, split = study_results(study)
    assert (agreed.latest.n, agreed.latest.no_opinion) == (10, 1)
    assert agreed.latest.median == 4.5
    assert agreed.latest.percent_agreement == 100.0
    assert agreed.latest.consensus == "in"
    assert split.latest.consensus == "none"
    assert split.latest.iqr == 4.0
    assert agreed.retire
    assert not split.retire


def test_groups_are_broken_out_only_when_no_one_can_be_singled_out(app):
    _, study, _ = _rated_study()
    agreed, _ = study_results(study)
    # Two groups of five, and one expert in no group: naming both groups would give away
    # that one expert's rating by subtraction, so the smaller (ngo, by name) stays hidden.
    assert [name for name, _ in agreed.groups] == ["politie en OM"]
    assert agreed.groups[0][1].n == 5
    study.min_group_size = 6
    db.session.commit()
    agreed, _ = study_results(study)
    assert agreed.groups == ()


def test_results_page_shows_figures(client, app):
    coordinator, study, _ = _rated_study()
    login(client, coordinator)
    page = client.get(f"/studies/{study.id}/results/?lang=en").get_data(as_text=True)
    assert "Verdeeld" in page
    assert "consensus: agree" in page
    assert "no consensus" in page
    for member in study.members:
        assert member.email not in page


def test_carry_forward_keeps_only_statements_without_consensus(client, app):
    coordinator, study, round_ = _rated_study()
    login(client, coordinator)
    client.get("/")
    response = client.post(
        f"/studies/{study.id}/results/carry-forward", data={"csrf_token": csrf_token(client)}
    )
    assert response.status_code == 302
    carried = db.session.scalars(select(Item).where(Item.previous_item_id.is_not(None))).all()
    assert [(i.text, i.round.number, i.previous_item_id) for i in carried] == [
        ("Verdeeld", 2, round_.items[1].id)
    ]


def test_movement_between_rounds_is_measured_per_expert(app):
    _, study, round1 = _rated_study()
    round2 = make_round(
        study, items=[likert("Verdeeld", previous_item=round1.items[1])], state=RoundState.CLOSED
    )
    for response in round1.items[1].round.study.members[:10]:
        make_response(response, round2, {round2.items[0]: 3})
    _, split = study_results(study)
    assert [number for number, _ in split.rounds] == [1, 2]
    (from_round, to_round, change) = split.changes[0]
    assert (from_round, to_round, change.n_paired) == (1, 2, 10)
    assert change.pct_changed == 100.0
    assert split.latest.median == 3.0


def test_results_page_shows_every_measure_and_panel_agreement(client, app):
    coordinator, study, _ = _rated_study()
    login(client, coordinator)
    page = client.get(f"/studies/{study.id}/results/?lang=en").get_data(as_text=True)
    for label in ("Tastle &amp; Wierman", "Leik D", "Van der Eijk", "rWG", "Krippendorff"):
        assert label in page


def test_rules_that_do_not_fit_a_scale_fall_back_instead_of_failing(client, app):
    """Three agreement points overlap on a 5-point scale; 70/15 exists on 1-9 scales only."""
    coordinator, study, _ = _rated_study()
    study.agree_points = 3
    study.consensus_rule = "70/15"
    db.session.commit()
    agreed, _split = study_results(study)
    assert agreed.latest.percent_agreement == 100.0  # the 5-point default band 4-5
    assert agreed.latest.consensus == "in"  # judged by the default rule
    login(client, coordinator)
    assert client.get(f"/studies/{study.id}/results/").status_code == 200


def test_carry_forward_after_coding_uses_the_draft_round_and_never_doubles(client, app):
    from surveyapp.models import ItemKind

    coordinator, study, round_ = _rated_study()
    round_.items[1].scale_labels = ["Nee", "Eerder nee", "Neutraal", "Eerder ja", "Ja"]
    round_.items[1].ask_rationale = False
    draft = make_round(study, items=[{"kind": ItemKind.LIKERT, "text": "Uit het coderen"}])
    login(client, coordinator)
    for _ in range(2):
        client.get("/")
        client.post(
            f"/studies/{study.id}/results/carry-forward", data={"csrf_token": csrf_token(client)}
        )
    db.session.expire_all()
    assert [r.number for r in study.rounds] == [1, 2]
    assert [i.text for i in draft.items] == ["Uit het coderen", "Verdeeld"]
    carried = draft.items[1]
    assert carried.scale_labels == ["Nee", "Eerder nee", "Neutraal", "Eerder ja", "Ja"]
    assert carried.ask_rationale is False
