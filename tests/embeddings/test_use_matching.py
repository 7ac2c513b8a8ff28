"""With the real models (USE multilingual v3, and USE + e5-small in one vector): a Dutch challenge finds
English and French profiles."""
from __future__ import annotations

import numpy as np
import pytest

from embeddings.encoders import DEFAULT_ENGINE, get_encoder
from embeddings.ranking import Document, HybridRanker
from embeddings.text import normalise

CHALLENGE = (
    "Schoolstraten in onze gemeente. "
    "Sinds 2021 zijn de straten rond zes basisscholen bij het begin en het einde van de schooldag afgesloten "
    "voor gemotoriseerd verkeer. Ouders, leerkrachten en buurtbewoners reageren positief, maar het "
    "gemeentebestuur wil weten of de maatregel ook echt werkt en waar ze moet worden uitgebreid. "
    "De mobiliteitsdienst telt het verkeer vandaag met de hand, twee keer per jaar, en dat volstaat niet. "
    "Wat we zoeken. "
    "We zoeken goedkope sensoren die de luchtkwaliteit meten aan de schoolpoort: stikstofdioxide en fijn stof, "
    "elke paar minuten, het hele jaar door. De metingen moeten op een dashboard komen dat ambtenaren, "
    "directies en ouders kunnen lezen, met een vergelijking voor en na de invoering van de schoolstraat. "
    "De gegevens blijven eigendom van de gemeente en worden als open data gepubliceerd."
)
ENGLISH = (
    "AirKid builds low-cost air quality sensors for school streets. Our solar-powered boxes measure nitrogen "
    "dioxide and particulate matter every two minutes and send the readings over LoRaWAN. A public dashboard "
    "shows city officials, head teachers and parents how the air at the school gate changes before and after "
    "traffic measures. Cities keep ownership of the data, which we publish as open data."
)
FRENCH = (
    "Respire-École développe des capteurs de qualité de l'air à bas coût pour les rues scolaires. Nos boîtiers "
    "mesurent le dioxyde d'azote et les particules fines en continu, toute l'année. Un tableau de bord public "
    "permet aux communes, aux directions d'école et aux parents de comparer la pollution avant et après la "
    "fermeture de la rue à la circulation. Les données restent la propriété de la commune."
)
UNRELATED = [
    ("nl", "Wij optimaliseren de ophaalrondes van huisvuil met slimme routeplanning voor afvalintercommunales."),
    ("en", "A mobile app for public libraries: borrow e-books, reserve study rooms and pay fines online."),
    ("fr", "Des robots de compagnie pour les maisons de repos, qui rappellent les médicaments aux résidents."),
    ("nl", "Zonnepanelen op sociale woningen, gefinancierd via een coöperatie van huurders en de gemeente."),
    ("en", "A tourism chatbot that answers visitors' questions about museums, events and opening hours."),
    ("fr", "Paiement du stationnement par smartphone, avec des tarifs réduits pour les résidents du quartier."),
    ("nl", "Boekhoudsoftware voor sportclubs en jeugdbewegingen, met ledenbeheer en facturatie."),
    ("en", "Drones that inspect bridges and quay walls and detect cracks in concrete with computer vision."),
]
ENGLISH_ID, FRENCH_ID = 101, 102


@pytest.fixture(scope="module", params=[DEFAULT_ENGINE, "use-multilingual-v3+e5-small"])
def ranker(request) -> HybridRanker:
    ranker = HybridRanker(get_encoder(request.param))
    docs = [Document(ENGLISH_ID, ENGLISH, "en"), Document(FRENCH_ID, FRENCH, "fr")]
    docs += [Document(i, text, language) for i, (language, text) in enumerate(UNRELATED)]
    ranker.index(docs)
    return ranker


def test_default_engine_is_multilingual_use():
    encoder = get_encoder(DEFAULT_ENGINE)
    assert encoder.id.startswith("use-multilingual-v3@")
    vectors = encoder.encode(["Goedemorgen", "Good morning"])
    assert vectors.shape == (2, 512) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    assert float(vectors[0] @ vectors[1]) > 0.7


@pytest.mark.parametrize("method", ["hybrid", "dense"])
def test_dutch_challenge_finds_the_english_and_french_profile(ranker, method):
    results = ranker.rank(CHALLENGE, "nl", k=3, method=method)
    assert {r.id for r in results[:2]} == {ENGLISH_ID, FRENCH_ID}


def test_explain_names_the_passages_that_matched(ranker):
    assert len(ranker.passages_of(CHALLENGE)) >= 2
    explanation = ranker.explain(CHALLENGE, ENGLISH_ID, "nl", top=2)
    query_passage, doc_passage, cosine = explanation.passage_pairs[0]
    assert normalise(query_passage) in normalise(CHALLENGE)
    assert normalise(doc_passage) in normalise(ENGLISH)
    assert "luchtkwaliteit" in query_passage  # the passage about what is sought, not the background
    assert cosine > 0.4
    assert explanation.passage_pairs == sorted(explanation.passage_pairs, key=lambda p: -p[2])
    assert explanation.parts["fused"] > 0
