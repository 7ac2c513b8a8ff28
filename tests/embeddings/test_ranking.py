"""HybridRanker with the hashing test encoder: state changes, filters, methods, fusion across languages."""
from __future__ import annotations

import numpy as np
import pytest

from embeddings.encoders import get_encoder
from embeddings.ranking import Document, HybridRanker, RankingParams

DOCS = [
    Document(1, "Smart traffic lights that count cyclists at crossings", "en"),
    Document(2, "Air quality sensors for school streets", "en"),
    Document(3, "Slimme verkeerslichten die fietsers tellen aan kruispunten", "nl"),
    Document(4, "Waste bins that report when they are full", "en"),
    Document(5, "Feux de circulation intelligents qui comptent les cyclistes", "fr"),
]


@pytest.fixture
def ranker() -> HybridRanker:
    ranker = HybridRanker(get_encoder("hashing-test"))
    ranker.index(DOCS)
    return ranker


def ids(results) -> list[int]:
    return [r.id for r in results]


def test_index_stores_whole_text_row_and_reuses_given_vectors(ranker):
    assert len(ranker) == 5 and 3 in ranker
    vectors = ranker.doc_vectors(1)
    assert vectors.shape == (1, 256)  # a short text: one row, the whole text
    np.testing.assert_allclose(vectors, ranker.encode_document(DOCS[0]))
    long_doc = Document(9, " ".join(["This sentence has exactly seven words."] * 40))
    assert ranker.encode_document(long_doc).shape == (1 + len(ranker.passages_of(long_doc.text)), 256)
    given = {doc.id: np.eye(256, dtype=np.float32)[[doc.id]] for doc in DOCS}
    other = HybridRanker(get_encoder("hashing-test"))
    other.index(DOCS, given)
    np.testing.assert_array_equal(other.doc_vectors(4), given[4])
    assert ranker.engine_id.startswith("hashing-test@256|")


def test_methods_rank_the_matching_document_first(ranker):
    for method in ("bm25", "dense", "hybrid"):
        results = ranker.rank("traffic lights counting cyclists", "en", k=3, method=method)
        assert results[0].id == 1, method
        assert all(isinstance(v, float) for r in results for v in r.parts.values())
    hybrid = ranker.rank("traffic lights counting cyclists", "en", k=5)
    assert set(hybrid[0].parts) >= {"lexical", "dense", "fused"}
    assert [r.score for r in hybrid] == sorted((r.score for r in hybrid), reverse=True)
    with pytest.raises(ValueError):
        ranker.rank("x", method="rrf")


def test_bm25_returns_only_matching_documents(ranker):
    assert ids(ranker.rank("waste bins", "en", k=5, method="bm25")) == [4]
    assert ranker.rank("verkeerslichten fietsers", "nl", k=5, method="bm25")[0].id == 3


def test_allowed_filters_before_ranking(ranker):
    results = ranker.rank("traffic lights counting cyclists", "en", k=3, allowed={2, 4, 99})
    assert set(ids(results)) == {2, 4}
    assert ranker.rank("traffic lights", "en", allowed=set()) == []
    assert ids(ranker.rank("waste bins", "en", k=1, method="bm25", allowed={1, 2})) == []


def test_upsert_replaces_and_remove_forgets(ranker):
    ranker.upsert(Document(4, "Parking sensors that guide drivers to a free spot", "en"))
    assert len(ranker) == 5
    assert ranker.rank("waste bins", "en", method="bm25") == []
    assert ranker.rank("parking spot sensors", "en", k=1)[0].id == 4
    ranker.upsert(Document(6, "Waste bins with fill level sensors", "en"))
    assert ranker.rank("waste bins", "en", k=1, method="bm25")[0].id == 6
    ranker.remove(1)
    ranker.remove(1)  # removing twice is fine
    assert 1 not in ranker and len(ranker) == 5
    assert 1 not in ids(ranker.rank("traffic lights counting cyclists", "en", k=10))
    assert ranker.rank("waste bins", "en", k=1, method="bm25")[0].id == 6  # the moved document still scores
    with pytest.raises(KeyError):
        ranker.doc_vectors(1)
    for doc_id in [2, 3, 4, 5, 6]:
        ranker.remove(doc_id)
    assert len(ranker) == 0 and ranker.rank("anything") == []


def test_cross_language_documents_compete_on_dense_alone():
    """A document the query's BM25 cannot see gets its dense part in place of the lexical part."""
    ranker = HybridRanker(get_encoder("hashing-test"), RankingParams(dense_weight=0.4))
    ranker.index(DOCS)
    results = {r.id: r for r in ranker.rank("Slimme verkeerslichten voor fietsers", "nl", k=5)}
    for doc_id in (1, 2, 4, 5):  # not Dutch
        assert results[doc_id].parts["lexical_norm"] == pytest.approx(results[doc_id].parts["dense_norm"])
        assert results[doc_id].score == pytest.approx(results[doc_id].parts["dense_norm"], abs=1e-5)
    assert ids(ranker.rank("Slimme verkeerslichten voor fietsers", "nl", k=1)) == [3]


def test_query_vectors_can_be_given(ranker):
    vectors = ranker.encode_query("air quality near schools")
    given = ranker.rank("air quality near schools", "en", k=2, query_vectors=vectors)
    assert ids(given) == ids(ranker.rank("air quality near schools", "en", k=2))
    assert ids(ranker.rank("air quality near schools", "en", k=2, query_vectors=vectors[0])) == ids(given)


def test_explain_gives_pairs_terms_and_parts(ranker):
    explanation = ranker.explain("Sensors measuring air quality in school streets", 2, "en", top=2)
    assert explanation.passage_pairs[0][1] == DOCS[1].text
    assert -1.0 <= explanation.passage_pairs[0][2] <= 1.0
    assert {"air", "quality", "school", "streets"} <= set(explanation.shared_terms)
    assert "fused" in explanation.parts
