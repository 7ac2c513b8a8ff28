"""Matching claims checked with the real bundled multilingual model (USE multilingual v3)."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from embeddings.text import normalise
from proeftuin.enums import ChallengeStatus, Language, OrgKind, Role, SuggestionStatus, Theme
from proeftuin.extensions import db
from proeftuin.models import MatchSuggestion
from proeftuin.services import suggestions as suggestion_service
from proeftuin.services.texts import challenge_text, profile_text
from tests.conftest import login, make_challenge, make_org, make_profile, make_user

CHALLENGE = (
    "Elke ochtend en middag rijden honderden ouders met de auto tot aan de schoolpoort. "
    "Kinderen die te voet of met de fiets komen, moeten tussen manoeuvrerende wagens door. "
    "We willen de schoolomgeving autovrij maken tijdens de begin- en einduren van de school, "
    "zonder dat een gemeenschapswacht elke dag een hek moet verplaatsen."
)
ENGLISH = ("We automate school streets: number-plate cameras and retractable barriers close the street "
           "to through traffic at school opening and closing times, while residents and emergency "
           "services keep access. Municipalities get counts of vehicles and children walking or cycling.")
FRENCH = ("Nous installons des capteurs de trafic aux abords des écoles pour mesurer le passage des voitures, "
          "des vélos et des piétons aux heures d'entrée et de sortie des classes, et nous aidons la commune "
          "à fermer la rue scolaire aux voitures en toute sécurité.")
UNRELATED = [
    "We sell accounting software for small bakeries with invoices and VAT returns.",
    "Onze drone-service inspecteert landbouwgewassen en voorspelt de oogst van aardappelen.",
    "Nous développons des jeux vidéo éducatifs pour apprendre la chimie au lycée.",
    "A marketplace for second-hand designer furniture with home delivery.",
    "Wij verhuren professionele geluidsinstallaties voor festivals en concerten.",
    "Logiciel de gestion pour cabinets dentaires: agenda, dossiers patients et facturation.",
    "We produce cheese-ripening sensors that track humidity in dairy cellars.",
    "Wij bouwen chatbots voor webwinkels in mode en schoenen.",
]


@pytest.fixture(scope="module")
def warm_model():
    from embeddings.encoders import get_encoder
    encoder = get_encoder("use-multilingual-v3")
    encoder.encode(["warm up"])
    return encoder


@pytest.fixture
def real_app(make_app, warm_model):
    return make_app(EMBEDDING_MODEL="use-multilingual-v3")


def _seed(app):
    with app.app_context():
        gent = make_org(OrgKind.MUNICIPALITY, "Gent", "44021")
        make_user("gent@example.org", Role.MUNICIPALITY, gent)
        challenge = make_challenge(gent, "Autovrije schoolstraten zonder manueel hek", ChallengeStatus.PUBLISHED,
                                   problem=CHALLENGE, themes=(Theme.MOBILITY, Theme.SAFETY))
        english = make_profile(make_org(OrgKind.STARTUP, "Hushlane"), "Automated school streets", ENGLISH,
                               language=Language.EN, themes=(Theme.MOBILITY,))
        french = make_profile(make_org(OrgKind.STARTUP, "Carrefour Serein"), "Capteurs aux abords des écoles",
                              FRENCH, language=Language.FR, themes=(Theme.SAFETY,))
        for n, text in enumerate(UNRELATED):
            language = Language.NL if " de " in text or "Wij" in text or "Onze" in text else Language.EN
            make_profile(make_org(OrgKind.STARTUP, f"Other {n}"), text[:60], text, language=language,
                         themes=(Theme.ECONOMY_EMPLOYMENT,))
        db.session.commit()
        ids = challenge.id, english.id, french.id
    result = app.test_cli_runner().invoke(args=["index", "rebuild"])
    assert result.exit_code == 0, result.output
    return ids


def test_dutch_challenge_finds_english_and_french_profiles(real_app):
    challenge_id, english_id, french_id = _seed(real_app)
    with real_app.app_context():
        from proeftuin.models import Challenge
        challenge = db.session.get(Challenge, challenge_id)
        suggestions = suggestion_service.startups_for_challenge(challenge, k=10)
        top_two = {s.target.id for s in suggestions[:2]}
        assert top_two == {english_id, french_id}
        best = suggestions[0]
        # The explanation names the passages that matched, from both texts.
        assert best.passages, "no passage pairs"
        query_passage, doc_passage, similarity = best.passages[0]
        assert query_passage and normalise(query_passage) in normalise(challenge_text(challenge))
        assert doc_passage and normalise(doc_passage) in normalise(profile_text(best.target))
        assert similarity > 0.3


def test_the_municipality_sees_suggestions_with_reasons_and_rows_are_written(real_app):
    challenge_id, english_id, french_id = _seed(real_app)
    client = real_app.test_client()
    login(client, "gent@example.org")
    page = client.get(f"/challenges/{challenge_id}/suggestions").get_data(as_text=True)
    names = re.findall(r'<a href="/startups/[^"]+">([^<]+)</a>', page)
    assert set(names[:2]) == {"Hushlane", "Carrefour Serein"}
    assert "Why this suggestion?" in page or "Waarom" in page
    with real_app.app_context():
        rows = db.session.scalars(sa.select(MatchSuggestion).where(MatchSuggestion.challenge_id == challenge_id)
                                  .order_by(MatchSuggestion.rank)).all()
        assert {r.profile_id for r in rows[:2]} == {english_id, french_id}
        assert all(r.status == SuggestionStatus.PROPOSED and r.explanation["passages"] for r in rows[:2])


def test_describe_what_you_need_in_french_finds_the_dutch_challenge(real_app):
    challenge_id, _, _ = _seed(real_app)
    client = real_app.test_client()
    client.post("/language", data={"locale": "fr"})
    page = client.get("/challenges/?describe=fermer+la+rue+de+l%27%C3%A9cole+aux+voitures").get_data(as_text=True)
    assert f'href="/challenges/{challenge_id}"' in page


def test_a_description_without_real_content_says_nothing_fits(real_app):
    """Random letters or filler words get "nothing fits well", not ten confident best fits; a real
    description in another language still gets its match; "AI" alone gets a hint, never a 400."""
    challenge_id, _, _ = _seed(real_app)
    client = real_app.test_client()
    client.post("/language", data={"locale": "en"})
    for nonsense in ("asdf qwerty", "de het een en van", "lorem ipsum dolor"):
        page = client.get("/startups/?describe=" + nonsense.replace(" ", "+")).get_data(as_text=True)
        assert "Nothing fits this description well" in page, nonsense
        assert 'class="results"' not in page
    page = client.get("/startups/?describe=schoolstraat+afsluiten+voor+autoverkeer").get_data(as_text=True)
    assert "Nothing fits" not in page and "Hushlane" in page
    short = client.get("/challenges/?describe=AI")
    assert short.status_code == 200 and "Describe what you need in a few words" in short.get_data(as_text=True)
    page = client.get("/challenges/?describe=asdf+qwerty").get_data(as_text=True)
    assert "Nothing fits this description well" in page and f'href="/challenges/{challenge_id}"' not in page
