"""The coordinator's side: a study, its themes and panel, rules, rounds and items."""

from sqlalchemy import func, select

from surveyapp.extensions import db
from surveyapp.models import (
    Item,
    OutboxMessage,
    PanelMember,
    RoundState,
    Study,
    Theme,
    utcnow,
)
from tests.builders import (
    csrf_token,
    likert,
    login,
    make_coordinator,
    make_member,
    make_round,
    make_section,
    make_study,
)


def _post(client, url, **data):
    client.get("/")
    return client.post(url + "?lang=en", data={"csrf_token": csrf_token(client), **data})


def _count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def test_create_a_study(client, app):
    login(client, make_coordinator())
    response = _post(client, "/studies/new", title="Trends en knelpunten", language="nl")
    assert response.status_code == 302
    study = db.session.scalar(select(Study))
    assert study.slug == "trends-en-knelpunten"
    page = client.get(response.location + "?lang=en").get_data(as_text=True)
    assert "Trends en knelpunten" in page
    assert "No rounds yet" in page  # a helpful empty state


def test_a_study_without_a_title_is_refused(client, app):
    login(client, make_coordinator())
    response = _post(client, "/studies/new", title="")
    assert response.status_code == 200
    assert "This field is required" in response.get_data(as_text=True)
    assert _count(Study) == 0


def test_themes_are_added_as_numbered_chapters_and_sections(client, app):
    coordinator = make_coordinator()
    study = make_study(coordinator)
    login(client, coordinator)
    _post(client, f"/studies/{study.id}/themes", themes="1 Trends\n1.3 Beleid vs. uitvoering")
    sections = db.session.scalars(select(Theme).where(Theme.parent_id.is_not(None))).all()
    assert [(s.number, s.title, s.parent.number) for s in sections] == [
        ("1.3", "Beleid vs. uitvoering", "1")
    ]


def test_a_bad_theme_line_adds_nothing(client, app):
    coordinator = make_coordinator()
    study = make_study(coordinator)
    login(client, coordinator)
    response = _post(client, f"/studies/{study.id}/themes", themes="1 Trends\nno number here")
    page = client.get(response.location + "?lang=en").get_data(as_text=True)
    assert "line 2" in page
    assert _count(Theme) == 0


def test_panel_paste_adds_members_with_a_group_and_skips_duplicates(client, app):
    coordinator = make_coordinator()
    study = make_study(coordinator)
    login(client, coordinator)
    _post(
        client,
        f"/studies/{study.id}/panel",
        emails="a@x.nl\nB@x.nl, c@x.nl",
        group="zorg",
        language="nl",
    )
    response = _post(
        client, f"/studies/{study.id}/panel", emails="a@x.nl; d@x.nl", group="zorg", language="en"
    )
    page = client.get(
        response.location + "&lang=en"
        if "?" in response.location
        else response.location + "?lang=en"
    ).get_data(as_text=True)
    assert "1 member added. 1 was on the panel already." in page
    members = db.session.scalars(select(PanelMember).order_by(PanelMember.email)).all()
    assert [(m.email, m.group.name) for m in members] == [
        ("a@x.nl", "zorg"),
        ("b@x.nl", "zorg"),
        ("c@x.nl", "zorg"),
        ("d@x.nl", "zorg"),
    ]


def test_a_panel_paste_with_a_bad_address_adds_nobody(client, app):
    coordinator = make_coordinator()
    study = make_study(coordinator)
    login(client, coordinator)
    response = _post(
        client, f"/studies/{study.id}/panel", emails="a@x.nl\nnot-an-address", group=""
    )
    assert "not-an-address" in response.get_data(as_text=True)
    assert _count(PanelMember) == 0


def test_rules_can_change_before_round_one_and_not_after(client, app):
    coordinator = make_coordinator()
    study = make_study(coordinator)
    login(client, coordinator)
    rules = {
        "consensus_rule": "agreement >= 80, iqr <= 1",
        "agree_points": 2,
        "quantile_method": "weibull",
        "stability_threshold": "15",
        "retire_stable": "y",
        "round_cap": 3,
        "min_group_size": 5,
    }
    assert _post(client, f"/studies/{study.id}/rules", **rules).status_code == 302
    db.session.expire_all()
    assert study.quantile_method == "weibull"
    assert study.consensus_rule.replace(" ", "") == "agreement>=80,iqr<=1"

    bad = _post(client, f"/studies/{study.id}/rules", **(rules | {"consensus_rule": "vibes>=3"}))
    assert bad.status_code == 200
    db.session.expire_all()
    assert study.consensus_rule.replace(" ", "") == "agreement>=80,iqr<=1"

    make_round(study, state=RoundState.OPEN)
    _post(client, f"/studies/{study.id}/rules", **(rules | {"quantile_method": "linear"}))
    db.session.expire_all()
    assert study.quantile_method == "weibull"
    assert study.rule_fixed_at is not None


def test_feedback_by_group_is_set_apart_from_the_rules_also_after_round_one(client, app):
    coordinator = make_coordinator()
    study = make_study(coordinator)
    login(client, coordinator)
    make_round(study, state=RoundState.OPEN)
    page = client.get(f"/studies/{study.id}/rules?lang=en").get_data(as_text=True)
    assert "Also show the feedback per panel group" in page
    assert 'name="feedback_by_group"' in page
    assert "checked" not in page

    url = f"/studies/{study.id}/feedback"
    assert _post(client, url, feedback_by_group="y").status_code == 302
    db.session.expire_all()
    assert study.feedback_by_group is True
    assert "checked" in client.get(f"/studies/{study.id}/rules").get_data(as_text=True)

    assert _post(client, url).status_code == 302
    db.session.expire_all()
    assert study.feedback_by_group is False


def test_build_a_round_open_it_and_close_it(client, app):
    coordinator = make_coordinator()
    study = make_study(coordinator)
    section = make_section(study, "1.3", "Beleid vs. uitvoering")
    make_member(study)
    make_member(study)
    login(client, coordinator)
    response = _post(client, f"/studies/{study.id}/rounds", title="Verkenning")
    assert response.location.endswith(f"/studies/{study.id}/rounds/1")
    _post(
        client,
        f"/studies/{study.id}/rounds/1/items",
        kind="open",
        text="Welke trends?",
        section=section.id,
        scale_points=5,
    )
    _post(
        client,
        f"/studies/{study.id}/rounds/1/items",
        kind="likert",
        text="Er is te weinig capaciteit.",
        section=0,
        scale_points=7,
    )
    items = db.session.scalars(select(Item).order_by(Item.position)).all()
    assert [(i.kind.value, i.scale_points, i.section_id) for i in items] == [
        ("open", None, section.id),
        ("likert", 7, None),
    ]
    opened = _post(client, f"/studies/{study.id}/rounds/1/open")
    page = client.get(opened.location + "?lang=en").get_data(as_text=True)
    assert "invitations are queued" in page
    db.session.expire_all()
    round_ = study.rounds[0]
    assert round_.state is RoundState.OPEN
    assert study.rule_fixed_at is not None
    assert _count(OutboxMessage) == 2
    _post(client, f"/studies/{study.id}/rounds/1/close")
    db.session.expire_all()
    assert round_.state is RoundState.CLOSED
    assert round_.closed_at is not None


def test_a_round_without_panel_does_not_open(client, app):
    coordinator = make_coordinator()
    study = make_study(coordinator)
    make_round(study)
    login(client, coordinator)
    response = _post(client, f"/studies/{study.id}/rounds/1/open")
    page = client.get(response.location + "?lang=en").get_data(as_text=True)
    assert "add panel members before opening a round" in page
    db.session.expire_all()
    assert study.rounds[0].state is RoundState.DRAFT
    assert _count(OutboxMessage) == 0


def test_items_cannot_be_added_to_an_open_round(client, app):
    coordinator = make_coordinator()
    study = make_study(coordinator)
    make_round(study, items=[likert("A")], state=RoundState.OPEN)
    login(client, coordinator)
    response = _post(
        client,
        f"/studies/{study.id}/rounds/1/items",
        kind="open",
        text="B",
        section=0,
        scale_points=5,
    )
    page = client.get(response.location + "?lang=en").get_data(as_text=True)
    assert "only be added while the round is a draft" in page
    assert _count(Item) == 1


def test_a_closed_round_does_not_reopen(client, app):
    coordinator = make_coordinator()
    study = make_study(coordinator)
    make_member(study)
    make_round(study, state=RoundState.CLOSED)
    login(client, coordinator)
    response = _post(client, f"/studies/{study.id}/rounds/1/open")
    page = client.get(response.location + "?lang=en").get_data(as_text=True)
    assert "only a draft round with items can open" in page
    db.session.expire_all()
    assert study.rounds[0].state is RoundState.CLOSED


def test_other_coordinators_cannot_see_a_study(client, app):
    owner = make_coordinator()
    study = make_study(owner)
    login(client, make_coordinator())
    assert client.get(f"/studies/{study.id}").status_code == 404
    assert study.title not in client.get("/").get_data(as_text=True)


def test_the_panel_page_lists_members_and_revoking_ends_a_link(client, app):
    coordinator = make_coordinator()
    study = make_study(coordinator)
    member = make_member(study, email="weg@example.org")
    make_member(study, email="blijft@example.org")
    make_round(study, state=RoundState.DRAFT)
    login(client, coordinator)
    _post(client, f"/studies/{study.id}/rounds/1/open")
    db.session.expire_all()
    assert member.token is not None
    page = client.get(f"/studies/{study.id}/panel?lang=en").get_data(as_text=True)
    assert "weg@example.org" in page
    assert "active" in page

    body = db.session.scalar(select(OutboxMessage.body).where(OutboxMessage.member_id == member.id))
    link = "/q/" + body.split("/q/")[1].split()[0]
    expert = app.test_client()
    assert expert.get(link).status_code == 302  # the link opens the round

    _post(client, f"/studies/{study.id}/panel/{member.id}/revoke")
    db.session.expire_all()
    assert member.token.revoked_at is not None
    revoked, unknown = expert.get(link), expert.get("/q/an-unknown-token")
    assert revoked.status_code == unknown.status_code == 404
    assert revoked.get_data() == unknown.get_data()
    page = client.get(f"/studies/{study.id}/panel?lang=en").get_data(as_text=True)
    assert "revoked" in page


def test_reminders_go_to_members_who_have_not_submitted(client, app):
    from tests.builders import make_response

    coordinator = make_coordinator()
    study = make_study(coordinator)
    done, waiting = make_member(study), make_member(study)
    make_round(study, items=[likert("A")])
    login(client, coordinator)
    _post(client, f"/studies/{study.id}/rounds/1/open")
    db.session.expire_all()
    round_ = study.rounds[0]
    make_response(done, round_, {round_.items[0]: 4})
    response = _post(client, f"/studies/{study.id}/rounds/1/remind")
    page = client.get(response.location + "?lang=en").get_data(as_text=True)
    assert "1 reminder is queued" in page
    reminders = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "reminder")
    ).all()
    assert [m.member_id for m in reminders] == [waiting.id]


def test_no_reminders_for_a_closed_round(client, app):
    coordinator = make_coordinator()
    study = make_study(coordinator)
    make_member(study)
    make_round(study, state=RoundState.CLOSED)
    login(client, coordinator)
    response = _post(client, f"/studies/{study.id}/rounds/1/remind")
    page = client.get(response.location + "?lang=en").get_data(as_text=True)
    assert "only while the round is open" in page
    assert _count(OutboxMessage) == 0


def test_a_study_can_be_shared_with_a_colleague(client, app):
    owner, colleague = make_coordinator(), make_coordinator(email="collega@example.org")
    study = make_study(owner)
    login(client, owner)
    _post(client, f"/studies/{study.id}/coordinators", email="collega@example.org")
    db.session.expire_all()
    assert colleague in study.coordinators
    response = _post(client, f"/studies/{study.id}/coordinators", email="niemand@example.org")
    page = client.get(response.location + "?lang=en").get_data(as_text=True)
    assert "there is no active account" in page


def test_a_study_s_details_can_be_edited_later(client, app):
    coordinator = make_coordinator()
    study = make_study(coordinator, title="Oud")
    slug = study.slug
    login(client, coordinator)
    _post(
        client,
        f"/studies/{study.id}/edit",
        title="Nieuw",
        language="nl",
        introduction="Eerste alinea.\n\nTweede *alinea*.",
        footer_text="bloemlezing - test",
    )
    db.session.expire_all()
    assert (study.title, study.footer, study.slug) == ("Nieuw", "bloemlezing - test", slug)
    assert "Tweede *alinea*." in study.introduction


def test_a_round_gets_a_closing_time_and_the_worker_closes_it_then(client, app):
    from datetime import UTC, datetime, timedelta

    from surveyapp.worker import run_once

    coordinator = make_coordinator()
    study = make_study(coordinator)
    make_member(study)
    round_ = make_round(study, items=[likert("A")], state=RoundState.OPEN)
    login(client, coordinator)
    _post(client, f"/studies/{study.id}/rounds/1/close-time", closes_at="2031-03-12T17:00")
    db.session.expire_all()
    # Typed in Netherlands time (CET in March), stored in UTC.
    assert round_.closes_at == datetime(2031, 3, 12, 16, 0, tzinfo=UTC)
    page = client.get(f"/studies/{study.id}/rounds/1?lang=en").get_data(as_text=True)
    assert 'value="2031-03-12T17:00"' in page

    response = _post(
        client, f"/studies/{study.id}/rounds/1/close-time", closes_at="2001-01-01T09:00"
    )
    page = client.get(response.location + "?lang=en").get_data(as_text=True)
    assert "must lie in the future" in page
    db.session.expire_all()
    assert round_.closes_at == datetime(2031, 3, 12, 16, 0, tzinfo=UTC)

    round_.closes_at = utcnow() - timedelta(minutes=1)  # the time has come
    db.session.commit()
    run_once(app)
    db.session.expire_all()
    assert round_.state is RoundState.CLOSED


def _png() -> bytes:
    import io as _io

    from PIL import Image

    buffer = _io.BytesIO()
    Image.new("RGB", (40, 20), "navy").save(buffer, format="PNG")
    return buffer.getvalue()


def test_a_logo_goes_on_the_cover_and_a_broken_image_is_refused(client, app):
    import io as _io

    from surveyapp.publishing.services import gather_anthology

    coordinator = make_coordinator()
    study = make_study(coordinator)
    login(client, coordinator)
    client.get(f"/studies/{study.id}/edit")
    broken = client.post(
        f"/studies/{study.id}/logo?lang=en",
        data={"csrf_token": csrf_token(client), "logo": (_io.BytesIO(b"not an image"), "x.png")},
        content_type="multipart/form-data",
    )
    page = client.get(broken.location + "?lang=en").get_data(as_text=True)
    assert "The logo was not saved" in page
    db.session.expire_all()
    assert study.logo is None

    png = _png()
    client.post(
        f"/studies/{study.id}/logo",
        data={"csrf_token": csrf_token(client), "logo": (_io.BytesIO(png), "logo.png")},
        content_type="multipart/form-data",
    )
    db.session.expire_all()
    assert study.logo == png
    assert gather_anthology(study).logo == png
    served = client.get(f"/studies/{study.id}/logo")
    assert served.mimetype == "image/png"
    assert served.data == png
    served.close()

    _post(client, f"/studies/{study.id}/logo/remove")
    db.session.expire_all()
    assert study.logo is None


def test_every_coordinator_page_has_a_plain_title(client, app):
    import re

    coordinator = make_coordinator()
    study = make_study(coordinator, title="Trends")
    make_round(study)
    login(client, coordinator)
    for url in (
        "/",
        "/studies/new",
        f"/studies/{study.id}",
        f"/studies/{study.id}/edit",
        f"/studies/{study.id}/panel",
        f"/studies/{study.id}/rules",
        f"/studies/{study.id}/rounds/1",
        f"/studies/{study.id}/coding/",
        f"/studies/{study.id}/results/",
        f"/studies/{study.id}/anthology/",
    ):
        page = client.get(url + "?lang=en").get_data(as_text=True)
        title = re.search(r"<title>(.*?)</title>", page, re.S).group(1)
        assert "<" not in title, (url, title)
        assert title.strip().endswith("· surveyapp"), (url, title)


def test_a_logo_of_too_many_pixels_is_refused_before_it_is_decoded(app):
    import io as _io

    import pytest
    from PIL import Image

    from surveyapp.studies.services import StudyError, set_logo

    coordinator = make_coordinator()
    study = make_study(coordinator)
    buffer = _io.BytesIO()
    Image.new("1", (6000, 6000)).save(buffer, format="PNG")  # tiny file, 36 megapixels
    with pytest.raises(StudyError, match="too large"):
        set_logo(coordinator, study, buffer.getvalue())
    assert study.logo is None


def test_a_round_past_its_closing_time_cannot_be_opened(client, app):
    from datetime import timedelta

    coordinator = make_coordinator()
    study = make_study(coordinator)
    make_member(study)
    round_ = make_round(study, items=[likert("A")])
    round_.closes_at = utcnow() - timedelta(minutes=5)
    db.session.commit()
    login(client, coordinator)
    response = _post(client, f"/studies/{study.id}/rounds/1/open")
    page = client.get(response.location + "?lang=en").get_data(as_text=True)
    assert "closing time has passed" in page
    db.session.expire_all()
    assert round_.state is RoundState.DRAFT
    assert _count(OutboxMessage) == 0
