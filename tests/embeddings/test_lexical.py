"""BM25 per language, bigrams and key terms."""
from __future__ import annotations

import numpy as np

from embeddings.lexical import LexicalIndex, analyze, key_terms, language_of


def test_analyze_stems_and_drops_stop_words_per_language():
    assert analyze("De fietsers en de fietspaden van de stad", "nl") == ["fietser", "fietspaad", "stad"]
    assert analyze("Les vélos et les pistes cyclables de la ville", "fr") == ["vélos", "pist", "cyclabl", "vill"]
    assert analyze("The cyclists and the cycling lanes", "en") == ["cyclist", "cycl", "lane"]
    assert analyze("smart traffic lights", "en", bigrams=True) == [
        "smart", "traffic", "light", "smart_traffic", "traffic_light"]


def test_language_of_maps_unknown_codes_to_english():
    assert language_of("NL-be") == "nl"
    assert language_of("fr_BE") == "fr"
    assert language_of("de") == "en"
    assert language_of(None) == "en"


def test_mixed_language_corpus_has_one_sub_index_per_language():
    index = LexicalIndex()
    index.resize(4)
    index.set_document(0, "Slimme verkeerslichten voor fietsers in de stad", "nl")
    index.set_document(1, "Feux de circulation intelligents pour les cyclistes", "fr")
    index.set_document(2, "Smart traffic lights for cyclists in the city", "en")
    index.set_document(3, "Afvalbeheer met sensoren in containers", "nl")
    assert index.languages() == ["en", "fr", "nl"]
    dutch = index.scores("verkeerslichten voor fietsers", "nl")
    assert dutch.shape == (4,)
    assert dutch[0] > 0 and dutch[3] == 0
    assert dutch[2] == 0  # a Dutch query finds nothing in an English document: expected
    english = index.scores("traffic lights", "en")
    assert int(np.argmax(english)) == 2
    french = index.scores("feux de circulation", "fr")
    assert int(np.argmax(french)) == 1
    assert index.language_mask("nl").tolist() == [True, False, False, True]


def test_remove_and_move_rebuild_only_what_changed():
    index = LexicalIndex()
    index.resize(3)
    for position, text in enumerate(["air quality sensors", "parking app", "air pollution map"]):
        index.set_document(position, text, "en")
    assert index.scores("air", "en")[[0, 2]].min() > 0
    index.remove_document(0)
    index.move_document(2, 0)
    index.resize(2)
    scores = index.scores("air", "en")
    assert scores.shape == (2,)
    assert scores[0] > 0 and scores[1] == 0


def test_key_terms_are_readable_shared_words():
    query = "We zoeken sensoren die de luchtkwaliteit meten in schoolstraten."
    doc = "Onze sensoren meten de luchtkwaliteit en het verkeer rond scholen; elke sensor stuurt data."
    terms = key_terms(query, doc, "nl", "nl")
    assert set(terms) >= {"sensoren", "luchtkwaliteit", "meten"}
    assert "de" not in terms
    across = key_terms("Capteurs LoRaWAN pour la qualité de l'air", "LoRaWAN air quality sensors", "fr", "en")
    assert "lorawan" in across
    assert key_terms("", doc, "nl", "nl") == []
    assert len(key_terms(doc, doc, "nl", "nl", top=2)) == 2
