"""Coordinator login: argon2id hashes, CSRF, clear refusals, a rate limit."""

import pytest
from sqlalchemy import select

from surveyapp.extensions import db
from surveyapp.models import AuditEntry, Coordinator, Study
from tests.builders import PASSWORD, csrf_token, login, make_coordinator


def test_password_is_stored_as_argon2id(app):
    coordinator = make_coordinator()
    assert coordinator.password_hash.startswith("$argon2id$")
    assert PASSWORD not in coordinator.password_hash


def test_login_and_logout(client, app):
    coordinator = make_coordinator()
    assert client.get("/").status_code == 302  # studies need a login
    login(client, coordinator)
    page = client.get("/")
    assert page.status_code == 200
    assert "Log out" in page.get_data(as_text=True) or "Uitloggen" in page.get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_token(client)})
    assert client.get("/").status_code == 302


def test_wrong_password_is_refused_with_a_message(client, app):
    coordinator = make_coordinator()
    client.get("/login")
    response = client.post(
        "/login?lang=en",
        data={"email": coordinator.email, "password": "wrong", "csrf_token": csrf_token(client)},
    )
    assert response.status_code == 401
    assert "do not match an account" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302
    db.session.expire_all()
    assert db.session.get(Coordinator, coordinator.id).last_login_at is None
    assert db.session.scalars(select(AuditEntry)).all() == []


def test_unknown_email_gets_the_same_answer(client, app):
    make_coordinator()
    client.get("/login")
    response = client.post(
        "/login?lang=en",
        data={"email": "nobody@example.org", "password": "x", "csrf_token": csrf_token(client)},
    )
    assert response.status_code == 401
    assert "do not match an account" in response.get_data(as_text=True)


def test_login_without_csrf_token_changes_nothing(client, app):
    coordinator = make_coordinator()
    response = client.post("/login", data={"email": coordinator.email, "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/").status_code == 302


def test_login_is_rate_limited(app, client):
    app.config["LOGIN_RATE_LIMIT"] = "3 per minute"
    coordinator = make_coordinator()
    client.get("/login")
    token = csrf_token(client)
    codes = [
        client.post(
            "/login", data={"email": coordinator.email, "password": "nope", "csrf_token": token}
        ).status_code
        for _ in range(4)
    ]
    assert codes == [401, 401, 401, 429]
    page = client.post(
        "/login?lang=en",
        data={"email": coordinator.email, "password": PASSWORD, "csrf_token": token},
    )
    assert "Too many attempts" in page.get_data(as_text=True)
    assert client.get("/").status_code == 302  # even the right password waits


def test_an_expired_form_says_so_and_changes_nothing(client, app):
    coordinator = make_coordinator()
    login(client, coordinator)
    response = client.post("/studies/new?lang=en", data={"title": "Zonder token"})
    assert response.status_code == 400
    assert "This form has expired" in response.get_data(as_text=True)
    assert db.session.scalars(select(Study)).all() == []


def test_unknown_pages_get_a_friendly_page(client, app):
    response = client.get("/no/such/page?lang=en")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)


def test_dutch_is_the_default_language(client, app):
    page = client.get("/login").get_data(as_text=True)
    assert 'lang="nl"' in page
    assert "Inloggen" in page
    english = client.get("/login?lang=en").get_data(as_text=True)
    assert 'lang="en"' in english
    assert "Log in" in english


def test_an_admin_creates_and_switches_off_accounts(client, app):
    admin = make_coordinator(is_admin=True)
    login(client, admin)
    client.get("/accounts")
    client.post(
        "/accounts",
        data={
            "email": "nieuw@example.org",
            "password": "lang genoeg wachtwoord",
            "csrf_token": csrf_token(client),
        },
    )
    new = db.session.scalar(select(Coordinator).where(Coordinator.email == "nieuw@example.org"))
    assert new is not None
    assert new.active
    client.post(f"/accounts/{new.id}/active", data={"csrf_token": csrf_token(client)})
    db.session.expire_all()
    assert not new.active
    # A switched-off account cannot log in.
    other = app.test_client()
    other.get("/login")
    response = other.post(
        "/login",
        data={
            "email": "nieuw@example.org",
            "password": "lang genoeg wachtwoord",
            "csrf_token": csrf_token(other),
        },
    )
    assert response.status_code == 401


def test_an_admin_cannot_switch_off_their_own_account(client, app):
    admin = make_coordinator(is_admin=True)
    login(client, admin)
    client.get("/accounts")
    client.post(f"/accounts/{admin.id}/active", data={"csrf_token": csrf_token(client)})
    db.session.expire_all()
    assert admin.active


def test_accounts_are_for_admins_only(client, app):
    login(client, make_coordinator())
    assert client.get("/accounts").status_code == 403


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example", "/\t/evil.example", "/\\evil.example", "evil"],
)
def test_login_never_redirects_off_the_site(client, app, target):
    coordinator = make_coordinator()
    client.get("/login")
    response = client.post(
        "/login",
        query_string={"next": target},
        data={"email": coordinator.email, "password": PASSWORD, "csrf_token": csrf_token(client)},
    )
    assert response.status_code == 302
    assert response.location == "/"


def test_login_returns_to_the_page_asked_for(client, app):
    coordinator = make_coordinator()
    client.get("/login")
    response = client.post(
        "/login",
        query_string={"next": "/studies/new"},
        data={"email": coordinator.email, "password": PASSWORD, "csrf_token": csrf_token(client)},
    )
    assert response.location == "/studies/new"


def test_admins_do_not_see_studies_they_are_not_on(client, app):
    from tests.builders import make_study

    study = make_study(make_coordinator(), title="Vertrouwelijk")
    login(client, make_coordinator(is_admin=True))
    assert "Vertrouwelijk" not in client.get("/").get_data(as_text=True)
    assert client.get(f"/studies/{study.id}").status_code == 404
