"""How strong a match is, as municipalities and start-ups see it: a measured band and one sentence of
why; the raw score parts only in the facilitators' details panel.

The strength model here is a display fixture for the "hashing-test" encoder, not a matching claim.
"""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from embeddings import evidence
from embeddings.evidence import StrengthModel
from proeftuin.enums import Language
from proeftuin.extensions import db
from proeftuin.models import Challenge, MatchSuggestion, Organisation, User
from proeftuin.services import matching
from proeftuin.services import suggestions as suggestion_service
from tests.conftest import login, make_challenge

PRECISION = {"strong": 0.9, "good": 0.6, "possible": 0.2}
FLOORS = {"strong": 0.5, "good": 0.2}
ALWAYS_STRONG = StrengthModel(coefficients=(50.0, 0.0, 0.0, 0.0, 0.0), floors=FLOORS, precision=PRECISION)
ALWAYS_POSSIBLE = StrengthModel(coefficients=(-50.0, 0.0, 0.0, 0.0, 0.0), floors=FLOORS, precision=PRECISION)


@pytest.fixture
def sensors(app, world) -> int:
    """A published challenge of Gent that shares words with Startup A's profile; the index rebuilt."""
    with app.app_context():
        gent = db.session.get(Organisation, world.ids["org_muniA"])
        challenge = make_challenge(gent, "Sensors for school streets", language=Language.EN,
                                   problem="We want sensors that count traffic in school streets.")
        db.session.commit()
        matching.rebuild()
        return challenge.id


def _model(monkeypatch, model: StrengthModel | None) -> None:
    if model is None:
        monkeypatch.delitem(evidence.STRENGTH_MODELS, "hashing-test", raising=False)
    else:
        monkeypatch.setitem(evidence.STRENGTH_MODELS, "hashing-test", model)


def _locale(app, world, key: str, locale: str) -> None:
    with app.app_context():
        db.session.get(User, world.ids[key]).locale = locale
        db.session.commit()


def _as(app, world, key: str):
    client = app.test_client()
    login(client, world.emails[key])
    return client


def _no_raw_numbers(body: str) -> None:
    assert 'class="score-details"' not in body and 'class="score-parts"' not in body
    assert "Score parts" not in body and "Onderdelen van de score" not in body


def test_municipality_sees_the_band_and_why_but_no_score_parts(app, world, sensors, monkeypatch):
    _model(monkeypatch, ALWAYS_STRONG)
    _locale(app, world, "muniA", "en")
    body = _as(app, world, "muniA").get(f"/challenges/{sensors}/suggestions").get_data(as_text=True)
    assert "Startup A" in body
    assert 'class="match-band match-band-strong"' in body and "<strong>Strong match</strong>" in body
    assert "The texts say much the same thing and share the terms " in body
    _no_raw_numbers(body)
    assert "· score " not in body


def test_the_band_is_translated(app, world, sensors, monkeypatch):
    _model(monkeypatch, ALWAYS_STRONG)
    _locale(app, world, "muniA", "nl")
    body = _as(app, world, "muniA").get(f"/challenges/{sensors}/suggestions").get_data(as_text=True)
    assert "<strong>Sterke match</strong>" in body and "De teksten zeggen grotendeels hetzelfde" in body
    _no_raw_numbers(body)
    _model(monkeypatch, ALWAYS_POSSIBLE)
    _locale(app, world, "muniA", "fr")
    body = _as(app, world, "muniA").get(f"/challenges/{sensors}/suggestions").get_data(as_text=True)
    assert "<strong>Correspondance possible</strong>" in body
    assert "Partage les termes clés " in body or "Assez proches par le sens" in body


def test_facilitator_sees_the_details_panel(app, world, sensors, monkeypatch):
    _model(monkeypatch, ALWAYS_STRONG)
    _locale(app, world, "facilitator", "en")
    body = _as(app, world, "facilitator").get(f"/challenges/{sensors}/suggestions").get_data(as_text=True)
    assert "<strong>Strong match</strong>" in body
    assert 'class="score-details"' in body and "<summary>Details</summary>" in body
    assert "Score parts" in body and "Meaning (embeddings)" in body and "Shared words (BM25)" in body
    assert "Precision of this band (held-out)" in body


def test_without_a_strength_model_no_band_is_shown(app, world, sensors, monkeypatch):
    _model(monkeypatch, None)
    response = _as(app, world, "muniA").get(f"/challenges/{sensors}/suggestions")
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "Startup A" in body
    assert "match-band" not in body and "Strong match" not in body and "Sterke match" not in body
    _no_raw_numbers(body)


def test_startups_and_searchers_see_bands_without_numbers(app, world, sensors, monkeypatch):
    _model(monkeypatch, ALWAYS_STRONG)
    _locale(app, world, "suA", "en")
    body = _as(app, world, "suA").get("/startups/recommendations").get_data(as_text=True)
    assert "Sensors for school streets" in body and "<strong>Strong match</strong>" in body
    _no_raw_numbers(body)
    assert "· score " not in body
    anonymous = app.test_client()
    for url in ("/startups/?describe=sensors+that+count+traffic", "/challenges/?describe=sensors+that+count+traffic"):
        body = anonymous.get(url, headers={"Accept-Language": "en"}).get_data(as_text=True)
        assert "<strong>Strong match</strong>" in body, url
        _no_raw_numbers(body)


def test_review_queue_and_match_page_show_the_band(app, world, sensors, monkeypatch):
    _model(monkeypatch, ALWAYS_STRONG)
    with app.app_context():
        suggestion_service.refresh_suggestions(db.session.get(Challenge, sensors))
        row = db.session.scalar(sa.select(MatchSuggestion).where(
            MatchSuggestion.challenge_id == sensors, MatchSuggestion.profile_id == world.ids["profile"]))
        assert {"dense", "lexical"} <= set(row.components)
        row_id = row.id
    _locale(app, world, "facilitator", "en")
    facilitator = _as(app, world, "facilitator")
    queue = facilitator.get("/review/").get_data(as_text=True)
    assert 'class="status match-band-strong"' in queue and ">Strong match</span>" in queue
    assert facilitator.post("/review/decide", data={"ids": [row_id], "decision": "accept"}).status_code == 302
    page = facilitator.get(f"/matches/{row_id}").get_data(as_text=True)
    assert "<strong>Strong match</strong>" in page and 'class="score-details"' in page
    _locale(app, world, "muniA", "en")
    page = _as(app, world, "muniA").get(f"/matches/{row_id}").get_data(as_text=True)
    assert "<strong>Strong match</strong>" in page
    _no_raw_numbers(page)
    assert "similarity" not in page
