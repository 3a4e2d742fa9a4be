"""Access control: a coordinator reaches only the studies they are on, by every route.

The routes are enumerated from app.url_map, so a route added later is covered (or fails the
completeness check) without anyone remembering to add it here. Each request goes to a victim
study with data behind every id; the text of that data carries a canary that must never show
up in a response, and the whole database must be exactly as it was after the attempts.
"""

from __future__ import annotations

import io
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import select
from werkzeug.routing import Rule

from surveyapp.extensions import db
from surveyapp.models import (
    Answer,
    AnthologyBuild,
    Base,
    BuildState,
    Coordinator,
    InvitationToken,
    Item,
    ItemKind,
    PanelMember,
    Quote,
    Round,
    RoundState,
    Study,
    Theme,
    hash_token,
    utcnow,
)
from tests.builders import (
    csrf_token,
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

# --- which routes are what ------------------------------------------------------------

# Reachable without a coordinator's study rights: the login pages, static files, and the
# expert's questionnaire (reached by a personal link; tested separately below).
PUBLIC_ENDPOINTS = {"static", "auth.login", "auth.logout"}
PUBLIC_BLUEPRINTS = {"questionnaire"}

# Pages for account admins only: any other coordinator gets 403.
ADMIN_ONLY_ENDPOINTS = {"auth.accounts", "auth.toggle_account"}

# Pages of the logged-in coordinator's own account, tied to no study: the list of their
# studies and the form for a new one. Tested separately: they must show no other study.
ACCOUNT_ENDPOINTS = {"studies.index", "studies.new"}

# Arguments that name a thing of a study by its global id: with the attacker's own study id
# in the same URL they must still be refused. (A round `number` is relative to the study.)
FOREIGN_ID_ARGUMENTS = {"item_id", "member_id", "build_id"}

CANARY = "canary"  # every text of a fixture study carries "<tag>-canary"
SAFE_METHODS = ("GET", "POST")
MISSING_ID = 987_654


def is_public(rule: Rule) -> bool:
    return rule.endpoint in PUBLIC_ENDPOINTS or rule.endpoint.split(".")[0] in PUBLIC_BLUEPRINTS


def is_study_scoped(rule: Rule) -> bool:
    return "study_id" in rule.arguments


def methods_of(rule: Rule) -> list[str]:
    return [m for m in SAFE_METHODS if m in (rule.methods or ())]


def coordinator_rules(app: Flask) -> list[Rule]:
    return sorted((r for r in app.url_map.iter_rules() if not is_public(r)), key=lambda r: r.rule)


def study_rules(app: Flask) -> list[Rule]:
    return [r for r in coordinator_rules(app) if is_study_scoped(r)]


# --- a study with data behind every id ------------------------------------------------


@dataclass
class StudyData:
    owner: Coordinator
    study: Study
    section: Theme
    rounds: list[Round]
    open_item: Item
    likert_items: list[Item]
    members: list[PanelMember]
    open_answers: list[Answer]
    quotes: list[Quote]
    build: AnthologyBuild
    files: list[Path] = field(default_factory=list)

    @property
    def items(self) -> list[Item]:
        return [self.open_item, *self.likert_items]

    def values(self) -> dict[str, list[int]]:
        """Every value this study gives each URL argument."""
        return {
            "study_id": [self.study.id],
            "number": [r.number for r in self.rounds],
            "item_id": [i.id for i in self.items],
            "member_id": [m.id for m in self.members],
            "build_id": [self.build.id],
            "quote_id": [q.id for q in self.quotes],
            "section_id": [self.section.id],
            "group": sorted({q.group for q in self.quotes}),
            "coordinator_id": [self.owner.id],
        }


def tiny_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "white").save(buffer, format="PNG")
    return buffer.getvalue()


def populate(owner: Coordinator, tag: str, reports: Path) -> StudyData:
    """A study with a closed and an open round, answers, a quote, tokens and a finished build."""
    mark = f"{tag}-{CANARY}"
    study = make_study(owner, title=f"{mark} study", slug=f"{mark}-study", logo=tiny_png())
    section = make_section(study, "1.1", f"{mark} section")
    group = make_group(study, f"{mark} group")
    members = [
        make_member(study, email=f"{mark}-expert-{n}@example.org", group=group) for n in (1, 2, 3)
    ]
    for n, member in enumerate(members, start=1):
        member.token = InvitationToken(token_hash=hash_token(f"{mark}-token-{n}"))
    db.session.commit()

    first = make_round(
        study,
        items=[
            {"kind": ItemKind.OPEN, "text": f"{mark} open question?", "section": section},
            likert(f"{mark} statement", section=section),
        ],
        state=RoundState.CLOSED,
    )
    open_item, rated = first.items
    responses = [
        make_response(member, first, {open_item: f"{mark} answer of expert {n}", rated: 4})
        for n, member in enumerate(members, start=1)
    ]
    open_answers = [a for r in responses for a in r.answers if a.item_id == open_item.id]
    quotes = [
        make_quote(answer, section, text=f"{mark} quote {n}", position=n)
        for n, answer in enumerate(open_answers[:2], start=1)
    ]

    second = make_round(
        study,
        items=[likert(f"{mark} statement again", section=section, previous_item=rated)],
        state=RoundState.OPEN,
    )
    make_response(members[0], second, {second.items[0]: 5})
    make_response(members[1], second, {second.items[0]: 2}, submitted=False)

    reports.mkdir(parents=True, exist_ok=True)
    pdf = reports / f"{mark}.pdf"
    html = reports / f"{mark}.html"
    pdf.write_bytes(f"%PDF-1.4 {mark} anthology".encode())
    html.write_text(f"<html><body>{mark} anthology</body></html>")
    build = AnthologyBuild(
        study_id=study.id,
        requested_by_id=owner.id,
        state=BuildState.DONE,
        pdf_path=str(pdf),
        html_path=str(html),
        started_at=utcnow(),
        finished_at=utcnow(),
    )
    db.session.add(build)
    db.session.commit()
    return StudyData(
        owner=owner,
        study=study,
        section=section,
        rounds=[first, second],
        open_item=open_item,
        likert_items=[rated, second.items[0]],
        members=members,
        open_answers=open_answers,
        quotes=quotes,
        build=build,
        files=[pdf, html],
    )


# --- requests -------------------------------------------------------------------------

_ARGUMENT = re.compile(r"<(?:[^<>:]+:)?([^<>]+)>")


def fill(rule: Rule, params: dict[str, Any]) -> str:
    return _ARGUMENT.sub(lambda m: str(params[m.group(1)]), rule.rule)


def combinations(rule: Rule, values: dict[str, list[int]]) -> Iterator[dict[str, int]]:
    names = sorted(rule.arguments)
    missing = [n for n in names if n not in values]
    assert not missing, (
        f"{rule.rule}: no test value for URL argument(s) {missing}; "
        "add them to StudyData.values() so the new route is tested"
    )
    for combo in itertools.product(*(values[n] for n in names)):
        yield dict(zip(names, combo, strict=True))


def form_for(endpoint: str, data: StudyData, sections_of: StudyData, email: str) -> dict[str, Any]:
    """A form that would do real harm if the permission check were missing.

    `data` gives the answers the form names, `sections_of` the study whose sections it picks
    (the study in the URL, which the form's choices come from).
    """
    section = sections_of.section.id
    forms: dict[str, dict[str, Any]] = {
        "studies.edit": {"title": "HIJACKED", "language": "nl"},
        "studies.share": {"email": email},
        "studies.add_themes": {"themes": "9 HIJACKED\n9.1 HIJACKED"},
        "studies.panel": {"emails": "intruder@example.org", "group": "", "language": "nl"},
        "studies.rules": {
            "consensus_rule": "agreement >= 50",
            "agree_points": 2,
            "quantile_method": "weibull",
            "stability_threshold": "40",
            "round_cap": 9,
            "min_group_size": 1,
        },
        "studies.create_round": {"title": "HIJACKED"},
        "studies.add_item": {"kind": "open", "text": "HIJACKED", "section": 0, "scale_points": 5},
        "coding.move_quote": {"direction": "down"},
        "coding.save_quote": {
            "answer_id": data.open_answers[1].id,
            "section": section,
            "text": "HIJACKED",
            "included": "y",
        },
        "coding.create_statement": {
            "text": "HIJACKED",
            "section": section,
            "scale_points": 5,
            "sources": [a.id for a in data.open_answers],
        },
        "auth.accounts": {
            "email": "intruder@example.org",
            "password": "a long enough password",
            "is_admin": "y",
        },
    }
    return forms.get(endpoint, {})


@dataclass
class Outcome:
    method: str
    url: str
    status: int
    location: str
    content_type: str
    disposition: str
    body: bytes

    def leaks(self, tag: str) -> bool:
        """Whether the body shows any data of the study marked `tag`."""
        return f"{tag}-{CANARY}".encode() in self.body.lower()

    def describe(self) -> str:
        where = f" -> {self.location}" if self.location else ""
        return f"{self.method} {self.url}: {self.status}{where}"


def send(client: FlaskClient, method: str, url: str, form: dict[str, Any]) -> Outcome:
    if method == "POST":
        response = client.post(url, data={"csrf_token": csrf_token(client), **form})
    else:
        response = client.get(url)
    outcome = Outcome(
        method=method,
        url=url,
        status=response.status_code,
        location=response.headers.get("Location", ""),
        content_type=response.content_type or "",
        disposition=response.headers.get("Content-Disposition", ""),
        body=response.get_data(),
    )
    response.close()
    return outcome


def snapshot() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, to show that nothing at all changed."""
    db.session.expire_all()
    rows = {}
    for table in Base.metadata.sorted_tables:
        rows[table.name] = sorted(
            (tuple(row) for row in db.session.execute(select(table))), key=repr
        )
    db.session.commit()
    return rows


def changed_tables(before: dict[str, list], after: dict[str, list]) -> list[str]:
    return [name for name in before if before[name] != after[name]]


def file_bytes(data: StudyData) -> list[bytes]:
    return [path.read_bytes() for path in data.files]


def refused(outcome: Outcome, status: int, victim: str) -> bool:
    """The request got `status`, an ordinary error page, and no trace of the victim's data."""
    return (
        outcome.status == status
        and not outcome.disposition
        and outcome.content_type.startswith("text/html")
        and not outcome.leaks(victim)
        and b"%PDF" not in outcome.body
    )


def attempt_everything(
    app: Flask, client: FlaskClient, attacker: Coordinator, victim: StudyData, own: StudyData
) -> tuple[list[str], set[tuple[str, str, bool]]]:
    """Try every study-scoped route on the victim's study, and on the attacker's own study
    with the victim's ids; return the requests not refused with a plain 404, and which
    (endpoint, method, own study in the URL) were tried.
    """
    problems: list[str] = []
    tried: set[tuple[str, str, bool]] = set()
    for rule in study_rules(app):
        for params in combinations(rule, victim.values()):
            mixed = (
                [dict(params, study_id=own.study.id)] if FOREIGN_ID_ARGUMENTS & set(params) else []
            )
            for method, target in itertools.product(methods_of(rule), [params, *mixed]):
                in_own = target["study_id"] == own.study.id
                form = form_for(rule.endpoint, victim, own if in_own else victim, attacker.email)
                outcome = send(client, method, fill(rule, target), form)
                tried.add((rule.endpoint, method, in_own))
                if not refused(outcome, 404, "victim"):
                    problems.append(outcome.describe())
    return problems, tried


@pytest.fixture
def world(app: Flask, tmp_path: Path) -> dict[str, Any]:
    reports = Path(app.config["REPORTS_DIR"])
    victim = populate(make_coordinator("owner@victim.example"), "victim", reports)
    attacker = make_coordinator("attacker@example.org")
    own = populate(attacker, "own", reports)
    return {"victim": victim, "attacker": attacker, "own": own}


# --- the route table itself -----------------------------------------------------------


def test_every_route_is_classified_so_a_new_route_cannot_slip_past(app):
    unclassified = [
        f"{rule.endpoint} {rule.rule}"
        for rule in coordinator_rules(app)
        if not (
            is_study_scoped(rule)
            or rule.endpoint in ADMIN_ONLY_ENDPOINTS
            or rule.endpoint in ACCOUNT_ENDPOINTS
        )
    ]
    assert not unclassified, (
        "routes that are neither study-scoped (<study_id> in the URL), admin-only nor "
        f"account pages: {unclassified}; classify them in tests/test_access.py and test them"
    )
    endpoints = {r.endpoint for r in app.url_map.iter_rules()}
    stale = (PUBLIC_ENDPOINTS | ADMIN_ONLY_ENDPOINTS | ACCOUNT_ENDPOINTS) - endpoints
    assert not stale, f"allow-lists name endpoints the app no longer has: {stale}"
    # Every route that reaches study data must be tested by the loops below.
    assert len(study_rules(app)) >= 30


def test_every_study_scoped_route_and_method_uses_only_known_arguments(app, world):
    for rule in study_rules(app):
        assert list(combinations(rule, world["victim"].values()))
        assert methods_of(rule), f"{rule.rule} takes neither GET nor POST"


# --- positive controls: the ids are real and the forms would work ---------------------


def test_control_the_owner_reaches_every_get_route_with_the_victim_ids(client, app, world):
    """Without this, a 404 below could mean a wrong id rather than a refusal."""
    victim: StudyData = world["victim"]
    login(client, victim.owner)
    codable = {victim.open_item.id}
    failures = []
    for rule in study_rules(app):
        if "GET" not in methods_of(rule):
            continue
        for params in combinations(rule, victim.values()):
            expected = 200
            if rule.endpoint.startswith("coding.") and params.get("item_id") not in (
                None,
                *codable,
            ):
                expected = 404  # only open questions are coded, for the owner too
            outcome = send(client, "GET", fill(rule, params), {})
            if outcome.status != expected:
                failures.append(f"{outcome.describe()} (expected {expected})")
    assert not failures, failures
    pdf = send(
        client, "GET", f"/studies/{victim.study.id}/anthology/{victim.build.id}/anthology.pdf", {}
    )
    assert pdf.body == victim.files[0].read_bytes()


def test_control_the_attacker_s_forms_work_on_their_own_study(client, app, world):
    """The same CSRF token and forms succeed on the attacker's own study: refusals below are
    about permission, not about a stale token or an invalid form."""
    attacker, own = world["attacker"], world["own"]
    login(client, attacker)
    client.get("/")
    # Statements go to the next draft round, which cannot exist while round 2 is open.
    closed = send(client, "POST", f"/studies/{own.study.id}/rounds/2/close", {})
    assert closed.status == 302
    failures = []
    for rule in study_rules(app):
        if "POST" not in methods_of(rule):
            continue
        params = next(
            p
            for p in combinations(rule, own.values())
            if p.get("item_id") in (None, own.open_item.id) and p.get("number") in (None, 2)
        )
        outcome = send(
            client, "POST", fill(rule, params), form_for(rule.endpoint, own, own, attacker.email)
        )
        if outcome.status not in (200, 302):
            failures.append(outcome.describe())
    assert not failures, f"the forms used in these tests are refused on one's own study: {failures}"


# --- another coordinator -------------------------------------------------------------


def test_a_coordinator_reaches_no_route_of_another_coordinator_s_study(client, app, world):
    victim: StudyData = world["victim"]
    attacker, own = world["attacker"], world["own"]
    login(client, attacker)
    client.get("/")
    files = file_bytes(victim)
    before = snapshot()

    problems, tried = attempt_everything(app, client, attacker, victim, own)

    expected = {(r.endpoint, m, False) for r in study_rules(app) for m in methods_of(r)}
    expected |= {
        (r.endpoint, m, True)
        for r in study_rules(app)
        if FOREIGN_ID_ARGUMENTS & r.arguments
        for m in methods_of(r)
    }
    assert tried == expected
    assert not problems, (
        "a coordinator who is not on the study got something other than a plain 404 "
        f"(or saw its data): {problems}"
    )
    after = snapshot()
    assert not changed_tables(before, after), (
        f"refused requests changed the database: {changed_tables(before, after)}"
    )
    db.session.expire_all()
    assert all(m.token.revoked_at is None for m in victim.members)
    assert [c.id for c in victim.study.coordinators] == [victim.owner.id]
    assert file_bytes(victim) == files


def test_a_refusal_looks_the_same_as_a_study_that_does_not_exist(client, app, world):
    """No oracle: another's study and no study at all get the same answer."""
    victim: StudyData = world["victim"]
    login(client, world["attacker"])
    client.get("/")
    different = []
    for rule in study_rules(app):
        params = next(combinations(rule, victim.values()))
        for method in methods_of(rule):
            theirs = send(client, method, fill(rule, params), {})
            nobody = send(client, method, fill(rule, dict(params, study_id=MISSING_ID)), {})
            if (theirs.status, theirs.content_type) != (nobody.status, nobody.content_type):
                different.append(f"{theirs.describe()} vs {nobody.describe()}")
    assert not different, different


def test_the_attacker_s_own_pages_show_nothing_of_another_study(client, app, world):
    """Every page and file of one's own study, and the account pages, stay free of others'
    data (a query that forgets its study filter would show it here)."""
    attacker, own = world["attacker"], world["own"]
    login(client, attacker)
    leaking, broken = [], []
    urls = ["/", "/studies/new", f"/studies/{own.study.id}/exports/open-answers.csv?quotes=1"]
    for rule in study_rules(app):
        if "GET" in methods_of(rule):
            urls += [fill(rule, p) for p in combinations(rule, own.values())]
    for url in urls:
        outcome = send(client, "GET", url, {})
        if outcome.leaks("victim") or b"owner@victim.example" in outcome.body:
            leaking.append(url)
        if outcome.status not in (200, 404):
            broken.append(outcome.describe())
    assert not leaking, f"another coordinator's study shows on the attacker's own pages: {leaking}"
    assert not broken, broken
    index = send(client, "GET", "/", {})
    assert b"own-canary study" in index.body


def test_a_coordinator_cannot_use_the_account_pages_of_admins(client, app, world):
    victim: StudyData = world["victim"]
    login(client, world["attacker"])
    client.get("/")
    before = snapshot()
    problems = []
    for rule in coordinator_rules(app):
        if rule.endpoint not in ADMIN_ONLY_ENDPOINTS:
            continue
        for params in combinations(rule, victim.values()):
            for method in methods_of(rule):
                form = form_for(rule.endpoint, victim, victim, "intruder@example.org")
                outcome = send(client, method, fill(rule, params), form)
                if not refused(outcome, 403, "victim"):
                    problems.append(outcome.describe())
    assert not problems, f"admin-only pages answered a coordinator: {problems}"
    assert not changed_tables(before, snapshot())
    db.session.expire_all()
    assert victim.owner.active


# --- admins ----------------------------------------------------------------------------


def test_an_admin_who_is_not_on_a_study_gets_404_like_anyone_else(client, app, world):
    """Admins manage accounts, not studies: being admin opens no study one is not on.

    Today studies.services.can_manage and visible_studies let every admin into every study,
    so this fails until that rule changes.
    """
    victim: StudyData = world["victim"]
    admin = make_coordinator("admin@example.org", is_admin=True)
    own = populate(admin, "adminown", Path(app.config["REPORTS_DIR"]))
    login(client, admin)
    index = send(client, "GET", "/", {})
    files = file_bytes(victim)
    before = snapshot()

    problems, _ = attempt_everything(app, client, admin, victim, own)

    changed = changed_tables(before, snapshot())
    overreach = [*problems, *(["GET / lists the victim's study"] if index.leaks("victim") else [])]
    overreach += [f"table {name} changed" for name in changed]
    assert not overreach, (
        "ADMIN OVERREACH: admins manage accounts, not studies; an admin who is not on a study "
        f"must get 404 like anyone else. {len(overreach)} violations: {overreach}"
    )
    assert file_bytes(victim) == files


# --- not logged in, or logged in as an expert --------------------------------------------


def _assert_redirected_to_login(client: FlaskClient, app: Flask, victim: StudyData) -> None:
    before = snapshot()
    problems = []
    for rule in coordinator_rules(app):
        for params in combinations(rule, victim.values()):
            for method in methods_of(rule):
                form = form_for(rule.endpoint, victim, victim, "intruder@example.org")
                outcome = send(client, method, fill(rule, params), form)
                if not (
                    outcome.status == 302
                    and outcome.location.startswith("/login")
                    and not outcome.leaks("victim")
                ):
                    problems.append(outcome.describe())
    assert not problems, f"coordinator routes answered without a coordinator login: {problems}"
    assert not changed_tables(before, snapshot()), changed_tables(before, snapshot())


def test_anonymous_requests_are_sent_to_login_and_change_nothing(client, app, world):
    client.get("/login")  # a session with a CSRF token: the refusal is about the login
    _assert_redirected_to_login(client, app, world["victim"])


def test_an_expert_s_session_reaches_no_coordinator_route(client, app, world):
    victim: StudyData = world["victim"]
    opened = client.get("/q/victim-canary-token-1")
    assert opened.status_code == 302
    assert opened.location.endswith("/q/")
    assert client.get("/q/").status_code == 200  # the expert's questionnaire, and only that
    _assert_redirected_to_login(client, app, victim)


@pytest.mark.parametrize("who", ["owner", "attacker"])
def test_a_coordinator_s_session_does_not_open_a_questionnaire(client, app, world, who):
    victim: StudyData = world["victim"]
    coordinator = victim.owner if who == "owner" else world["attacker"]
    login(client, coordinator)
    client.get("/")
    before = snapshot()
    outcomes = [
        send(client, "GET", "/q/", {}),
        send(client, "POST", "/q/", {"round_id": victim.rounds[1].id, "action": "submit"}),
        send(client, "GET", "/q/not-a-token", {}),
    ]
    assert [o.status for o in outcomes] == [404, 404, 404]
    autosave = client.post(
        "/q/autosave",
        json={"round_id": victim.rounds[1].id, "fields": {}},
        headers={"X-CSRFToken": csrf_token(client)},
    )
    assert autosave.status_code == 403
    assert not any(o.leaks("victim") for o in outcomes)
    assert b"victim-canary" not in autosave.get_data().lower()
    assert not changed_tables(before, snapshot())
