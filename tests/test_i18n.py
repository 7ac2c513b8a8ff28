"""Dutch first, French and English on request; dates and numbers in the reader's locale."""
from __future__ import annotations

from datetime import date

from proeftuin.extensions import db
from proeftuin.models import Challenge
from tests.conftest import login


def test_dutch_is_the_default(client):
    body = client.get("/").get_data(as_text=True)
    assert '<html lang="nl"' in body and "Uitdagingen" in body


def test_browser_language_is_honoured_then_the_switch_wins(client):
    body = client.get("/", headers={"Accept-Language": "fr-BE,fr;q=0.9"}).get_data(as_text=True)
    assert '<html lang="fr"' in body and "Défis" in body
    client.post("/language", data={"locale": "en", "next": "/challenges/"})
    body = client.get("/", headers={"Accept-Language": "fr-BE"}).get_data(as_text=True)
    assert '<html lang="en"' in body and "Challenges" in body


def test_switch_returns_to_the_same_page_only_if_local(client):
    assert client.post("/language", data={"locale": "fr", "next": "/startups/?theme=health"}).location == \
        "/startups/?theme=health"
    assert client.post("/language", data={"locale": "fr", "next": "https://evil.example"}).location == "/"
    assert client.post("/language", data={"locale": "de"}).status_code == 400


def test_signed_in_users_keep_their_language(app, world):
    client = app.test_client()
    login(client, world.emails["suA"])
    client.post("/language", data={"locale": "fr"})
    other_device = app.test_client()
    login(other_device, world.emails["suA"])
    assert '<html lang="fr"' in other_device.get("/").get_data(as_text=True)


def test_dates_and_amounts_follow_the_locale(app, world):
    with app.app_context():
        challenge = db.session.get(Challenge, world.ids["published"])
        challenge.deadline = date(2031, 3, 14)
        challenge.budget_min, challenge.budget_max = 10000, 1250000
        db.session.commit()
    url = f"/challenges/{world.ids['published']}"
    client = app.test_client()
    client.post("/language", data={"locale": "nl"})
    nl = client.get(url).get_data(as_text=True)
    assert "14 maart 2031" in nl and "1.250.000" in nl
    client.post("/language", data={"locale": "fr"})
    fr = client.get(url).get_data(as_text=True)
    assert "14 mars 2031" in fr and "1\u202f250\u202f000" in fr
    client.post("/language", data={"locale": "en"})
    en = client.get(url).get_data(as_text=True)
    assert "March 14, 2031" in en and "1,250,000" in en


def test_form_errors_are_translated(app, world):
    client = app.test_client()
    login(client, world.emails["suA"])
    client.post("/language", data={"locale": "fr"})
    body = client.post("/startups/profile", data={"tagline": "x"}).get_data(as_text=True)
    assert "Ce champ est requis" in body or "obligatoire" in body
