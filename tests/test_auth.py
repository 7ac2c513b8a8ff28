"""Registration, log-in, sessions, password reset (SECURITY.md T9-T13)."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from proeftuin.enums import Role
from proeftuin.extensions import db
from proeftuin.models import AuditEvent, Organisation, User
from tests.conftest import PASSWORD, USING_POSTGRES, link_in, login, outbox_messages


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
    # No automatic log-in (the answer must not tell whether the address was new): log in, then land.
    assert response.status_code == 302 and response.location.startswith("/auth/login?next=")
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == "ann@parkeerslim.example"))
        assert user.role == Role.STARTUP
        assert user.organisation.name == "Parkeerslim" and user.organisation.verified_at is None
        assert user.password_hash.startswith("$argon2id$")
    landed = client.post(response.location, data={"email": "ann@parkeerslim.example", "password": PASSWORD})
    assert landed.status_code == 302 and landed.location == "/startups/profile"
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


# ---- registration: required start-up fields, no account oracle, rate limit, races (issue 7) ----

def test_startup_without_company_name_or_region_is_refused(app, client):
    client.post("/language", data={"locale": "en"})
    for name, region, message in (("", "antwerpen", "Enter the name of your company."),
                                  ("   ", "antwerpen", "Enter the name of your company."),
                                  ("Parkeerslim", "", "Choose where the company is based.")):
        response = register(client, organisation_name=name, region=region, name="Ann Peeters")
        page = response.get_data(as_text=True)
        assert response.status_code == 200, (name, region)
        assert message in page and 'aria-invalid="true"' in page
        assert 'value="Ann Peeters"' in page and 'value="ann@parkeerslim.example"' in page
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Organisation)) == 0


def test_municipality_registration_needs_a_municipality(app, client):
    client.post("/language", data={"locale": "en"})
    page = register(client, kind="municipality", municipality="", email="it@mechelen.be").get_data(as_text=True)
    assert "Choose your municipality." in page
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Organisation)) == 0


def _normalised_answer(client, response) -> tuple:
    """What the visitor sees: status, target, the page it leads to (CSRF tokens aside), logged in or not."""
    landing = client.get(response.location).get_data(as_text=True)
    landing = re.sub(r'name="csrf_token"[^>]*value="[^"]*"', "CSRF", landing)
    with client.session_transaction() as sess:
        logged_in = "_user_id" in sess
    return response.status_code, response.location, landing, logged_in


def test_registering_an_existing_email_answers_identically_and_mails_the_owner(app, world):
    newcomer, existing = app.test_client(), app.test_client()
    fresh = register(newcomer, email="ann@parkeerslim.example")
    taken = register(existing, email=world.emails["suA"].upper(), organisation_name="Other name")
    assert _normalised_answer(newcomer, fresh) == _normalised_answer(existing, taken)
    assert fresh.status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Organisation).where(
            Organisation.name == "Other name")) == 0
        owner = db.session.get(User, world.ids["suA"])
        assert owner.organisation.name == "Startup A"
    messages = outbox_messages(app)
    to_owner = [m for m in messages if f"To: {world.emails['suA']}" in m]
    assert len(to_owner) == 1
    assert link_in(to_owner[0], "/auth/reset") and link_in(to_owner[0], "/auth/login")
    assert any("To: ann@parkeerslim.example" in m for m in messages)  # the newcomer's welcome
    # The existing password still works and nothing about the account changed.
    assert login(app.test_client(), world.emails["suA"]).status_code == 302


def test_eleventh_registration_attempt_is_refused(make_app):
    app = make_app(RATELIMIT_ENABLED=True)
    client = app.test_client()
    statuses = [register(client, email=f"ann{i}@example.org", password="short", password_repeat="short").status_code
                for i in range(11)]
    assert statuses[:10] == [200] * 10
    assert statuses[10] == 429
    assert client.get("/auth/register").status_code == 200  # only the POSTs are counted


def test_registration_races_lost_at_the_database_get_the_normal_answer(app, world, monkeypatch):
    """SQLite, in sequence: the pre-checks miss the winner, the unique constraint catches it."""
    from proeftuin.services import accounts

    client = app.test_client()
    client.post("/language", data={"locale": "en"})
    assert register(client, kind="municipality", municipality="12025", email="it@mechelen.be").status_code == 302
    real_taken, real_owner = accounts._municipality_taken, accounts._email_owner
    misses = {"municipality": 1, "email": 1}

    def blind(check, key):
        def wrapped(value):
            if misses[key]:
                misses[key] -= 1
                return None if key == "email" else False
            return check(value)
        return wrapped

    monkeypatch.setattr(accounts, "_municipality_taken", blind(real_taken, "municipality"))
    monkeypatch.setattr(accounts, "_email_owner", blind(real_owner, "email"))
    second = register(client, kind="municipality", municipality="12025", email="other@mechelen.be")
    assert second.status_code == 200 and "This municipality already has an account." in second.get_data(as_text=True)
    same_email = register(client, email="IT@mechelen.be", organisation_name="Sneaky")
    assert same_email.status_code == 302 and same_email.location.startswith("/auth/login")
    assert misses == {"municipality": 0, "email": 0}
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Organisation).where(
            Organisation.municipality_nis == "12025")) == 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User).where(
            User.email == "it@mechelen.be")) == 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Organisation).where(
            Organisation.name == "Sneaky")) == 0


@pytest.mark.skipif(not USING_POSTGRES, reason="parallel transactions need PostgreSQL (TEST_DATABASE_URL)")
def test_parallel_registrations_on_postgres(app, world):
    import threading

    def race(forms: list[dict]) -> list[int]:
        barrier = threading.Barrier(len(forms))
        statuses: list[int] = []

        def one(form):
            client = app.test_client()
            barrier.wait()
            statuses.append(register(client, **form).status_code)

        threads = [threading.Thread(target=one, args=(f,)) for f in forms]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return statuses

    same_municipality = race([{"kind": "municipality", "municipality": "12025", "email": f"it{i}@mechelen.be"}
                              for i in range(6)])
    assert sorted(same_municipality) == [200] * 5 + [302]
    same_email = race([{"email": "ann@parkeerslim.example", "organisation_name": f"Parkeerslim {i}"}
                       for i in range(6)])
    assert same_email == [302] * 6
    same_name = race([{"email": f"ann{i}@counters.example", "organisation_name": "Counters"} for i in range(6)])
    assert same_name == [302] * 6  # the slug is unique too: the losers retry with another one
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Organisation).where(
            Organisation.municipality_nis == "12025")) == 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User).where(
            User.email == "ann@parkeerslim.example")) == 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Organisation).where(
            Organisation.name == "Counters")) == 6


def test_member_corrects_the_organisation_name(app, world):
    client = app.test_client()
    client.post("/language", data={"locale": "en"})
    login(client, world.emails["suA"])
    assert 'value="Startup A"' in client.get("/auth/account").get_data(as_text=True)
    empty = client.post("/auth/account/organisation", data={"org-organisation_name": "  "})
    assert empty.status_code == 200 and 'aria-invalid="true"' in empty.get_data(as_text=True)
    response = client.post("/auth/account/organisation", data={"org-organisation_name": "  Startup   Alpha "})
    assert response.status_code == 302 and response.location.endswith("/auth/account")
    with app.app_context():
        org = db.session.get(Organisation, world.ids["org_suA"])
        assert org.name == "Startup Alpha" and org.slug == world.slugs["suA"]
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "organisation.rename"))
        assert event.detail == {"old": "Startup A", "new": "Startup Alpha"} and event.actor_id == world.ids["suA"]
        # A verified name is what others trusted: the new one goes back to the verification queue.
        assert org.verified_at is None
    assert "verifies your organisation again" in client.get("/auth/account").get_data(as_text=True)
    # Another organisation's name cannot be reached: the form has no organisation id to send.
    client.post("/auth/account/organisation", data={"org-organisation_name": "Hijack", "organisation_id":
                                                    world.ids["org_suB"]})
    with app.app_context():
        assert db.session.get(Organisation, world.ids["org_suB"]).name == "Startup B"
