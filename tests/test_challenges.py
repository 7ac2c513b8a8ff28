"""Writing, publishing and browsing challenges."""
from __future__ import annotations

import sqlalchemy as sa

from proeftuin.enums import ChallengeStatus, Language, Theme
from proeftuin.extensions import db
from proeftuin.models import AuditEvent, Challenge, Organisation
from tests.conftest import login, make_challenge

FORM = {
    "title": "Veilige schoolomgeving", "summary": "Ouders en kinderen voelen zich onveilig aan de schoolpoort.",
    "problem": "Elke ochtend rijden honderden auto's tot aan de schoolpoort; kinderen steken tussen wagens over.",
    "desired_outcome": "Minder auto's aan de poort en meer kinderen die te voet of per fiets komen.",
    "themes": ["mobility", "safety"], "language": "nl", "procurement_route": "market_consultation",
    "budget_min": "10000", "budget_max": "50000", "deadline": "2099-06-30",
}


def test_municipality_writes_publishes_and_closes_a_challenge(app, world):
    client = app.test_client()
    login(client, world.emails["muniA"])
    response = client.post("/challenges/new", data=FORM)
    assert response.status_code == 302
    url = response.location
    # A draft is invisible to everyone but its municipality and staff.
    assert app.test_client().get(url).status_code == 404
    other = app.test_client()
    login(other, world.emails["muniB"])
    assert other.get(url).status_code == 404
    assert "Veilige schoolomgeving" not in app.test_client().get("/challenges/").get_data(as_text=True)

    challenge_id = int(url.rsplit("/", 1)[1])
    assert client.post(f"/challenges/{challenge_id}/status", data={"action": "publish"}).status_code == 302
    assert app.test_client().get(url).status_code == 200
    assert "Veilige schoolomgeving" in app.test_client().get("/challenges/").get_data(as_text=True)
    client.post(f"/challenges/{challenge_id}/status", data={"action": "close"})
    with app.app_context():
        challenge = db.session.get(Challenge, challenge_id)
        assert challenge.status == ChallengeStatus.CLOSED
        assert {t.value for t in challenge.themes} == {"mobility", "safety"}
        actions = db.session.scalars(
            sa.select(AuditEvent.action).where(AuditEvent.object_id == challenge_id,
                                               AuditEvent.object_type == "Challenge")).all()
        assert actions == ["challenge.create", "challenge.publish", "challenge.close"]


def test_invalid_challenge_keeps_the_text_and_saves_nothing(app, world):
    client = app.test_client()
    login(client, world.emails["muniA"])
    data = dict(FORM, budget_min="90000", budget_max="1000", title="Mijn titel die blijft staan")
    page = client.post("/challenges/new", data=data)
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'value="Mijn titel die blijft staan"' in body
    assert "Elke ochtend rijden honderden" in body
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).where(Challenge.title == data["title"])) == 0


def test_missing_theme_is_a_field_error(app, world):
    client = app.test_client()
    login(client, world.emails["muniA"])
    page = client.post("/challenges/new", data={k: v for k, v in FORM.items() if k != "themes"})
    assert page.status_code == 200 and 'aria-invalid="true"' in page.get_data(as_text=True)


def test_edit_updates_themes_and_text(app, world):
    client = app.test_client()
    login(client, world.emails["muniA"])
    data = dict(FORM, title="Draft edited", themes=["climate_energy"])
    assert client.post(f"/challenges/{world.ids['draft']}/edit", data=data).status_code == 302
    with app.app_context():
        challenge = db.session.get(Challenge, world.ids["draft"])
        assert challenge.title == "Draft edited" and list(challenge.themes) == [Theme.CLIMATE_ENERGY]


def test_other_municipality_cannot_write_the_challenge(app, world):
    client = app.test_client()
    login(client, world.emails["muniB"])
    assert client.post(f"/challenges/{world.ids['draft']}/edit", data=FORM).status_code == 404
    assert client.post(f"/challenges/{world.ids['draft']}/status", data={"action": "publish"}).status_code == 404
    with app.app_context():
        challenge = db.session.get(Challenge, world.ids["draft"])
        assert challenge.status == ChallengeStatus.DRAFT and challenge.title.startswith("Draft ")


def test_publishing_with_a_past_deadline_is_refused(app, world):
    with app.app_context():
        org = db.session.get(Organisation, world.ids["org_muniA"])
        late = make_challenge(org, "Late one", ChallengeStatus.DRAFT, deadline_days=-1)
        db.session.commit()
        late_id = late.id
    client = app.test_client()
    login(client, world.emails["muniA"])
    page = client.post(f"/challenges/{late_id}/status", data={"action": "publish"}, follow_redirects=True)
    assert page.status_code == 200
    with app.app_context():
        assert db.session.get(Challenge, late_id).status == ChallengeStatus.DRAFT


def _titles(client, query: str) -> set[str]:
    import re
    body = client.get("/challenges/" + query).get_data(as_text=True)
    return set(re.findall(r'<a href="/challenges/\d+" lang="\w+">([^<]+)</a>', body))


def test_browse_filters(app, world):
    with app.app_context():
        gent = db.session.get(Organisation, world.ids["org_muniA"])
        make_challenge(gent, "Hittestress op pleinen", themes=(Theme.CLIMATE_ENERGY,))
        make_challenge(gent, "Digital counter in English", themes=(Theme.DIGITAL_SERVICES,), language=Language.EN)
        make_challenge(gent, "Closed one", ChallengeStatus.CLOSED)
        db.session.commit()
    client = app.test_client()
    assert _titles(client, "?theme=climate_energy") == {"Hittestress op pleinen"}
    assert _titles(client, "?language=en") == {"Digital counter in English"}
    assert _titles(client, "?municipality=24062") == {"Open challenge of Leuven"}
    assert _titles(client, "?province=Vlaams-Brabant") == {"Open challenge of Leuven"}
    assert _titles(client, "?status=closed") == {"Closed one"}
    assert _titles(client, "?q=hittestress") == {"Hittestress op pleinen"}
    assert _titles(client, "?q=100%25") == set()
    assert world.markers["draft"] not in client.get("/challenges/?q=Draft").get_data(as_text=True)
    assert _titles(client, "?per_page=2&sort=title") == {"Closed one", "Digital counter in English"}
    assert _titles(client, "?per_page=2&sort=title&page=2") == {"Hittestress op pleinen", "Open challenge of Gent"}


def test_unknown_filter_values_are_a_clear_400(client):
    for query in ("?theme=bogus", "?sort=id;drop", "?status=draft", "?per_page=1000", "?page=x",
                  "?language=de", "?municipality=abc", "?province=Nowhere"):
        assert client.get("/challenges/" + query).status_code == 400, query
    for query in ("?maturity=bogus", "?region=mars", "?sort=x", "?per_page=0"):
        assert client.get("/startups/" + query).status_code == 400, query


def test_oversized_body_is_413(client, world):
    assert client.post("/auth/login", data={"email": "x" * (2 * 1024 * 1024)}).status_code == 413
