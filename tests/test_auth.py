"""Registration, log-in, sessions, password reset (SECURITY.md T9-T13)."""
from __future__ import annotations

import re

import sqlalchemy as sa

from proeftuin.enums import Role
from proeftuin.extensions import db
from proeftuin.models import Organisation, User
from tests.conftest import PASSWORD, link_in, login, outbox_messages


def register(client, **overrides):
    data = {
        "kind": "startup", "organisation_name": "Parkeerslim", "region": "antwerpen",
        "website": "https://parkeerslim.example", "name": "Ann", "email": "ann@parkeerslim.example",
        "password": PASSWORD, "password_repeat": PASSWORD,
    }
    data.update(overrides)
    return client.post("/auth/register", data=data)


def test_startup_registers_and_lands_on_its_profile_form(app, client):
    response = register(client)
    assert response.status_code == 302 and response.location.endswith("/startups/profile")
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == "ann@parkeerslim.example"))
        assert user.role == Role.STARTUP
        assert user.organisation.name == "Parkeerslim" and user.organisation.verified_at is None
        assert user.password_hash.startswith("$argon2id$")
    assert client.get("/startups/profile").status_code == 200


def test_municipality_registers_for_a_real_municipality_once(app, client):
    response = register(client, kind="municipality", municipality="12025", email="it@mechelen.example")
    assert response.status_code == 302
    with app.app_context():
        org = db.session.scalar(sa.select(Organisation).where(Organisation.municipality_nis == "12025"))
        assert org.name == "Mechelen" and org.region.value == "antwerpen"
    second = app.test_client()
    page = register(second, kind="municipality", municipality="12025", email="other@mechelen.example")
    assert page.status_code == 200
    assert "Ask a colleague to invite you" in page.get_data(as_text=True) or "collega" in page.get_data(as_text=True)


def test_bad_registration_keeps_what_was_typed_and_writes_nothing(app, client):
    response = register(client, password="short", password_repeat="short", name="Ann Peeters",
                        organisation_name="Mijn Bedrijf", email="not-an-email")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'value="Ann Peeters"' in page and 'value="Mijn Bedrijf"' in page
    assert 'value="not-an-email"' in page
    assert 'aria-invalid="true"' in page
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Organisation)) == 0


def test_common_password_is_refused(client):
    page = register(client, password="wachtwoord1", password_repeat="wachtwoord1").get_data(as_text=True)
    assert "too common" in page or "te vaak" in page or "veel gebruikt" in page


def test_long_passphrase_with_emoji_works(app, client):
    passphrase = "de kat 🐈 zit op de mat " * 4
    assert register(client, password=passphrase, password_repeat=passphrase).status_code == 302
    client.post("/auth/logout")
    assert login(client, "ann@parkeerslim.example", passphrase).status_code == 302
    assert client.get("/auth/account").status_code == 200


def test_login_does_not_reveal_which_accounts_exist(app, world):
    unknown = app.test_client().post("/auth/login", data={"email": "nobody@example.org", "password": "x" * 12})
    wrong = app.test_client().post("/auth/login", data={"email": world.emails["suA"], "password": "x" * 12})
    assert unknown.status_code == wrong.status_code == 200

    def normalised(response, email):
        body = response.get_data(as_text=True).replace(email, "EMAIL")
        return re.sub(r'name="csrf_token"[^>]*value="[^"]*"', "CSRF", body)

    assert normalised(unknown, "nobody@example.org") == normalised(wrong, world.emails["suA"])


def test_next_only_redirects_to_local_paths(app, world):
    for target in ("https://evil.example/x", "//evil.example", "/\\evil.example"):
        client = app.test_client()
        response = client.post(f"/auth/login?next={target}",
                               data={"email": world.emails["suA"], "password": PASSWORD})
        assert response.status_code == 302 and response.location == "/"
    client = app.test_client()
    response = client.post("/auth/login?next=/applications/", data={"email": world.emails["suA"], "password": PASSWORD})
    assert response.location == "/applications/"


def test_session_is_renewed_at_login(app, world):
    client = app.test_client()
    client.get("/auth/login")
    with client.session_transaction() as sess:
        sess["planted"] = "by an attacker"
    login(client, world.emails["suA"])
    with client.session_transaction() as sess:
        assert "planted" not in sess


def _cookies(client) -> dict[str, str]:
    return {c.key: c.value for c in client._cookies.values()}


def _replay(app, cookies: dict[str, str]):
    thief = app.test_client()
    for name, value in cookies.items():
        thief.set_cookie(name, value)
    return thief.get("/auth/account")


def test_copied_cookies_die_at_logout(app, world):
    client = app.test_client()
    client.post("/auth/login", data={"email": world.emails["suA"], "password": PASSWORD, "remember": "y"})
    stolen = _cookies(client)
    assert "remember_token" in stolen
    assert _replay(app, stolen).status_code == 200
    client.post("/auth/logout")
    replay = _replay(app, stolen)
    assert replay.status_code == 302 and "/auth/login" in replay.location


def test_copied_cookies_die_at_password_change(app, world):
    client = app.test_client()
    login(client, world.emails["muniA"])
    stolen = _cookies(client)
    response = client.post("/auth/account", data={
        "current_password": PASSWORD, "new_password": "another long passphrase",
        "new_password_repeat": "another long passphrase"})
    assert response.status_code == 302
    assert _replay(app, stolen).status_code == 302
    assert login(app.test_client(), world.emails["muniA"], "another long passphrase").status_code == 302


def test_password_change_needs_the_current_password(app, world):
    client = app.test_client()
    login(client, world.emails["muniA"])
    page = client.post("/auth/account", data={
        "current_password": "wrong password here", "new_password": "another long passphrase",
        "new_password_repeat": "another long passphrase"})
    assert page.status_code == 200
    assert login(app.test_client(), world.emails["muniA"]).status_code == 302


def test_password_reset_round_trip_is_single_use(app, world):
    client = app.test_client()
    same_for_unknown = app.test_client().post("/auth/reset", data={"email": "nobody@example.org"})
    response = client.post("/auth/reset", data={"email": world.emails["suB"]})
    assert response.status_code == same_for_unknown.status_code == 302
    assert response.location == same_for_unknown.location
    messages = outbox_messages(app)
    assert len(messages) == 1 and world.emails["suB"] in messages[0]
    path = link_in(messages[0], "/auth/reset/")
    assert client.get(path).status_code == 200
    done = client.post(path, data={"password": "a brand new passphrase", "password_repeat": "a brand new passphrase"})
    assert done.status_code == 302
    assert login(app.test_client(), world.emails["suB"], "a brand new passphrase").status_code == 302
    again = client.post(path, data={"password": "yet another passphrase", "password_repeat": "yet another passphrase"})
    assert again.status_code == 302 and again.location.endswith("/auth/reset")
    assert login(app.test_client(), world.emails["suB"], "yet another passphrase").status_code == 200



def test_eleventh_wrong_password_is_refused(make_app):
    app = make_app(RATELIMIT_ENABLED=True)
    client = app.test_client()
    statuses = [
        client.post("/auth/login", data={"email": "x@example.org", "password": "wrong password"}).status_code
        for _ in range(11)
    ]
    assert statuses[:10] == [200] * 10
    assert statuses[10] == 429
