"""Start-up profiles: keep your own, browse everyone's, never write another's."""
from __future__ import annotations

import re

import sqlalchemy as sa

from proeftuin.extensions import db
from proeftuin.models import Organisation, StartupProfile
from tests.conftest import login

FORM = {
    "tagline": "Sensors that count cyclists", "language": "en", "maturity": "market_ready",
    "capabilities": "We install low-cost radar counters and publish open data dashboards for cities.",
    "themes": ["mobility", "digital_services"], "trl": "8", "team_size": "12",
    "languages": ["nl", "en"], "regions_served": ["antwerpen", "brussels"],
    "website": "https://counters.example",
}


def test_startup_edits_its_profile(app, world):
    client = app.test_client()
    login(client, world.emails["suA"])
    response = client.post("/startups/profile", data=FORM)
    assert response.status_code == 302 and response.location.endswith(f"/startups/{world.slugs['suA']}")
    page = app.test_client().get(response.location).get_data(as_text=True)
    assert "Sensors that count cyclists" in page and "https://counters.example" in page
    with app.app_context():
        profile = db.session.get(StartupProfile, world.ids["profile"])
        assert {t.value for t in profile.themes} == {"mobility", "digital_services"}
        assert profile.languages == ["nl", "en"] and profile.trl == 8


def test_profile_errors_are_per_field_and_keep_the_text(app, world):
    client = app.test_client()
    login(client, world.emails["suB"])
    page = client.post("/startups/profile", data=dict(FORM, trl="12", website="javascript:alert(1)",
                                                      tagline="Kept tagline here")).get_data(as_text=True)
    assert page.count('aria-invalid="true"') >= 2
    assert 'value="Kept tagline here"' in page


def test_profile_text_is_escaped(app, world):
    client = app.test_client()
    login(client, world.emails["suA"])
    payload = '"><svg onload=alert(1)><script>alert(2)</script>'
    client.post("/startups/profile", data=dict(FORM, tagline="XSS " + payload[:100], capabilities=payload * 3))
    page = app.test_client().get(f"/startups/{world.slugs['suA']}").get_data(as_text=True)
    assert "<script>alert(2)</script>" not in page and "<svg onload" not in page
    assert "&lt;script&gt;" in page


def test_startup_cannot_write_another_profile_or_verify_itself(app, world):
    with app.app_context():  # the fixture's organisations are verified; B is not, here
        db.session.get(Organisation, world.ids["org_suB"]).verified_at = None
        db.session.commit()
    client = app.test_client()
    login(client, world.emails["suB"])
    client.post("/startups/profile", data=dict(FORM, organisation_id=world.ids["org_suA"], verified_at="2020-01-01",
                                                 role="admin"))
    with app.app_context():
        profile_a = db.session.get(StartupProfile, world.ids["profile"])
        assert profile_a.tagline == "Sensors for school streets"
        org_b = db.session.get(Organisation, world.ids["org_suB"])
        assert org_b.verified_at is None
        assert db.session.scalar(sa.select(sa.func.count()).select_from(StartupProfile)) == 2


def test_browse_profiles_with_filters(app, world):
    client = app.test_client()
    body = client.get("/startups/?region=antwerpen").get_data(as_text=True)
    assert "Startup A" in body and "Startup B" not in body
    body = client.get("/startups/?q=else+entirely").get_data(as_text=True)
    assert re.findall(r'<a href="/startups/[^"]+">([^<]+)</a>', body) == ["Startup B"]
