"""The facade `Embeddings`: changes, search within allowed ids, the exact-to-approximate switch,
explanations, similarity, and save/load (with repair of a stale saved index)."""
from __future__ import annotations

import threading

import numpy as np
import pytest

from embeddings import Document, Embeddings, IndexCorrupt, document_vector, get_encoder
from embeddings.encoders import HashingEncoder
from embeddings.index import VectorIndex

DOCS = [
    Document(1, "Smart traffic lights that count cyclists at crossings", "en"),
    Document(2, "Air quality sensors for school streets", "en"),
    Document(3, "Slimme verkeerslichten die fietsers tellen aan kruispunten", "nl"),
    Document(4, "Waste bins that report when they are full", "en"),
    Document(5, "Feux de circulation intelligents qui comptent les cyclistes", "fr"),
]
LONG = Document(9, " ".join(f"Sentence {n} is about heat islands and cool squares in summer." for n in range(60)))


@pytest.fixture
def engine() -> Embeddings:
    engine = Embeddings(get_encoder("hashing-test"))
    engine.index(DOCS)
    return engine


def ids(results) -> list[int]:
    return [r.id for r in results]


def test_index_upsert_remove_keep_ranker_and_vector_index_together(engine):
    assert len(engine) == 5 and 3 in engine and engine.ids() == engine.approximate_ids() == {1, 2, 3, 4, 5}
    engine.upsert([Document(6, "Sensors that warn of flooding in sewers", "en"), LONG])
    assert engine.ids() == engine.approximate_ids() == {1, 2, 3, 4, 5, 6, 9}
    assert ids(engine.search("flooding sewers", k=1)) == [6]
    engine.upsert([Document(6, "Benches in the park for older residents", "en")])  # replaced, not added
    assert len(engine) == 7 and ids(engine.search("benches park older residents", k=1)) == [6]
    assert engine.remove([6, 9, 12345]) == 2
    assert engine.ids() == engine.approximate_ids() == {1, 2, 3, 4, 5}
    assert engine.remove([6]) == 0


def test_upsert_uses_the_given_vectors(engine):
    given = np.eye(engine.dim, dtype=np.float32)[[7]]
    engine.upsert([Document(7, "Bike sheds at stations", "en")], {7: given})
    np.testing.assert_array_equal(engine.vectors(7), given)
    np.testing.assert_array_equal(engine.vector(7), given[0])


def test_search_only_returns_allowed_ids(engine):
    query = "traffic lights counting cyclists"
    assert ids(engine.search(query, k=1)) == [1]
    found = engine.search(query, k=5, allowed={2, 3, 4, 99})
    assert found and set(ids(found)) <= {2, 3, 4}
    assert engine.search(query, k=5, allowed=set()) == []
    for method in ("bm25", "dense", "hybrid"):
        assert set(ids(engine.search(query, k=5, method=method, allowed={1, 5}))) <= {1, 5}


def test_one_document_vector_for_ranking_searching_and_similarity(engine, tmp_path):
    engine.upsert([LONG])
    stored = engine.vectors(LONG.id)
    assert stored.shape[0] > 1  # the whole text, then its passages
    np.testing.assert_array_equal(document_vector(stored), stored[0])
    np.testing.assert_array_equal(engine.vector(LONG.id), stored[0])
    engine.save(tmp_path / "engine.faiss")
    np.testing.assert_array_equal(VectorIndex.load(tmp_path / "engine.faiss").vectors([LONG.id])[0], stored[0])
    dense = engine.search(LONG.text, k=1, method="dense", query_vectors=stored)[0]
    assert dense.id == LONG.id and dense.score == pytest.approx(1.0, abs=1e-5)


# ---- the exact-to-approximate switch ---------------------------------------------------------

CLUSTERS, PER_CLUSTER, DIM = 12, 25, 64


def clustered() -> tuple[list[Document], dict[int, np.ndarray], np.ndarray]:
    """Documents in clusters, each vector near its cluster's centre. In every cluster the key word
    occurs 0 to 4 times (5 documents each), so a cluster's 5 best answers to it are clear."""
    rng = np.random.default_rng(3)
    centres = rng.standard_normal((CLUSTERS, DIM)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    docs, vectors = [], {}
    for n in range(CLUSTERS * PER_CLUSTER):
        cluster, level = n % CLUSTERS, (n // CLUSTERS) % 5
        words = [f"c{cluster}w{w}" for w in rng.integers(0, 15, 8)]
        words += [f"c{cluster}key"] * level + [f"common{w}" for w in rng.integers(0, 30, 4 - level)]
        docs.append(Document(n + 1, " ".join(words), "en"))
        vector = centres[cluster] + 0.08 * rng.standard_normal(DIM).astype(np.float32)
        vectors[n + 1] = (vector / np.linalg.norm(vector))[None, :].astype(np.float32)
    return docs, vectors, centres


def test_the_approximate_path_finds_the_exact_top_results():
    docs, vectors, centres = clustered()
    encoder = HashingEncoder(dim=DIM)
    exact = Embeddings(encoder)
    exact.index(docs, vectors)
    # Candidates from the vector index past 50 documents; HNSW past 100 vectors.
    approximate = Embeddings(encoder, exact_limit=50, candidates=3 * PER_CLUSTER,
                             index_options={"approximate_above": 100})
    approximate.index(docs, vectors)
    assert not exact.approximate and approximate.approximate
    allowed = {d.id for d in docs if d.id % 7}
    for cluster in range(CLUSTERS):
        query_vector = centres[cluster][None, :]
        for within in (None, allowed):
            want = exact.search(f"c{cluster}key", k=5, allowed=within, query_vectors=query_vector)
            got = approximate.search(f"c{cluster}key", k=5, allowed=within, query_vectors=query_vector)
            # The same documents and the same best one; the order of near ties may differ, as the
            # parts are normalised over the candidates rather than over every document.
            assert len(got) == 5 and set(ids(got)) == set(ids(want)) and got[0].id == want[0].id, cluster
            assert within is None or set(ids(got)) <= within
            if within is None:
                assert all(f"c{cluster}key " * 4 in docs[i - 1].text + " " for i in ids(got))
    # The switch is in force: with one cluster's worth of candidates, a query whose vector lies in
    # another cluster only reaches that cluster, whatever its words.
    narrow = Embeddings(encoder, exact_limit=50, candidates=PER_CLUSTER)
    narrow.index(docs, vectors)
    far = centres[5][None, :]
    assert {(i - 1) % CLUSTERS for i in ids(narrow.search("c0key", k=5, query_vectors=far))} == {5}
    assert {(i - 1) % CLUSTERS for i in ids(exact.search("c0key", k=5, query_vectors=far))} == {0}
    # BM25 never uses the vector index: the same ranking either way.
    bm25 = [approximate.search("c1w1 c1w2", k=5, method="bm25"), exact.search("c1w1 c1w2", k=5, method="bm25")]
    assert ids(bm25[0]) == ids(bm25[1])


def test_parameters_are_checked():
    with pytest.raises(ValueError):
        Embeddings(get_encoder("hashing-test"), exact_limit=-1)
    with pytest.raises(ValueError):
        Embeddings(get_encoder("hashing-test"), candidates=0)


# ---- explain and similar ---------------------------------------------------------------------

def test_explain_names_passages_terms_and_parts(engine):
    explanation = engine.explain("traffic lights counting cyclists", 1)
    assert explanation.passage_pairs and explanation.passage_pairs[0][1] == DOCS[0].text
    assert "traffic" in explanation.shared_terms
    assert set(explanation.parts) >= {"lexical", "dense", "fused"}
    assert engine.explain("traffic lights", 1, with_parts=False).parts == {}
    engine.upsert([LONG])
    long_pairs = engine.explain("cool squares against heat islands", LONG.id, top=2).passage_pairs
    assert len(long_pairs) == 1 and long_pairs[0][1] in engine.texts_to_encode(LONG.text)[1:]
    with pytest.raises(KeyError):
        engine.explain("anything", 12345)


def test_similar_and_similarity_use_the_document_vectors(engine):
    matrix = engine.similarity([1, 3, 4])
    assert matrix.shape == (3, 3) and matrix.dtype == np.float32
    np.testing.assert_allclose(np.diag(matrix), 1.0, atol=1e-5)
    np.testing.assert_allclose(matrix, matrix.T)
    assert matrix[0, 1] == pytest.approx(float(engine.vector(1) @ engine.vector(3)), abs=1e-6)
    assert engine.similarity([]).shape == (0, 0)
    hits = engine.similar(1, k=10)
    assert 1 not in [h.id for h in hits] and len(hits) == 4
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert {h.id for h in engine.similar(1, k=10, allowed={2, 4, 1, 77})} == {2, 4}
    assert all(h.score >= 0.2 for h in engine.similar(1, k=10, threshold=0.2))
    assert engine.similar(1, k=0) == []
    with pytest.raises(KeyError):
        engine.similar(12345)


def test_similar_breaks_ties_by_id():
    engine = Embeddings(get_encoder("hashing-test"))
    same = np.eye(engine.dim, dtype=np.float32)[[0]]
    engine.index([Document(i, f"text {i}") for i in (5, 2, 9, 1)], {i: same for i in (5, 2, 9, 1)})
    assert [h.id for h in engine.similar(5, k=3)] == [1, 2, 9]


# ---- save and load ---------------------------------------------------------------------------

def test_save_load_round_trip(engine, tmp_path):
    path = tmp_path / "engine.faiss"
    engine.save(path)
    vectors = {doc.id: engine.vectors(doc.id) for doc in DOCS}
    loaded = Embeddings(get_encoder("hashing-test"), exact_limit=0, candidates=3)
    loaded.load(path, DOCS, vectors)
    assert loaded.ids() == loaded.approximate_ids() == engine.ids()
    exact = Embeddings(get_encoder("hashing-test"), exact_limit=0, candidates=3)
    exact.index(DOCS, vectors)
    for query in ("traffic lights counting cyclists", "school air sensors", "full waste bins"):
        want = [(r.id, r.score) for r in exact.search(query, k=3)]
        assert [(r.id, r.score) for r in loaded.search(query, k=3)] == want
    assert Embeddings.save_vectors(tmp_path / "vectors.faiss", vectors, engine.dim) == 5
    from_vectors = Embeddings(get_encoder("hashing-test"))
    from_vectors.load(tmp_path / "vectors.faiss", DOCS, vectors)
    assert from_vectors.approximate_ids() == engine.ids()


def test_load_repairs_a_stale_saved_index(engine, tmp_path):
    path = tmp_path / "engine.faiss"
    engine.save(path)
    changed = Document(2, "Benches in the park for older residents", "en")
    now = [DOCS[0], changed, DOCS[2], DOCS[3], Document(8, "Sensors that warn of flooding in sewers", "en")]
    loaded = Embeddings(get_encoder("hashing-test"), exact_limit=0, candidates=1)
    loaded.load(path, now)  # 5 left, 2 changed, 8 new: the saved index is repaired
    assert loaded.ids() == loaded.approximate_ids() == {1, 2, 3, 4, 8}
    np.testing.assert_array_equal(VectorIndex.load(path).vectors([1]), loaded.vectors(1))  # unchanged ones kept
    # With one candidate per query, only a vector index holding the new vectors finds these.
    assert ids(loaded.search("benches park older residents", k=1)) == [2]
    assert ids(loaded.search("flooding sewers", k=1)) == [8]


def test_a_mostly_stale_index_is_rebuilt(engine, tmp_path, caplog):
    path = tmp_path / "engine.faiss"
    engine.save(path)
    others = [Document(i, f"Entirely different text number {i}") for i in range(20, 30)]
    loaded = Embeddings(get_encoder("hashing-test"))
    with caplog.at_level("WARNING"):
        loaded.load(path, others)
    assert "rebuilding" in caplog.text
    assert loaded.ids() == loaded.approximate_ids() == set(range(20, 30))


def test_an_unusable_file_raises_and_changes_nothing(engine, tmp_path):
    damaged = tmp_path / "damaged.faiss"
    engine.save(damaged)
    damaged.write_bytes(damaged.read_bytes()[:100])
    for path in (damaged, tmp_path / "missing.faiss"):
        with pytest.raises(IndexCorrupt):
            engine.load(path, DOCS[:2])
        assert engine.ids() == engine.approximate_ids() == {1, 2, 3, 4, 5}
    other_dim = Embeddings(HashingEncoder(dim=32))
    other_dim.index(DOCS)
    other_dim.save(tmp_path / "small.faiss")
    with pytest.raises(IndexCorrupt):
        engine.load(tmp_path / "small.faiss", DOCS)


def test_concurrent_searches_and_changes(engine):
    errors: list[BaseException] = []

    def search() -> None:
        try:
            for _ in range(30):
                assert set(ids(engine.search("traffic lights cyclists", k=3, allowed={1, 2, 3, 50}))) <= {1, 2, 3, 50}
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    def change() -> None:
        try:
            for n in range(30):
                engine.upsert([Document(50, f"Cyclists counted at traffic lights, version {n}", "en")])
                engine.remove([50])
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=search) for _ in range(3)] + [threading.Thread(target=change)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert engine.ids() == engine.approximate_ids() == {1, 2, 3, 4, 5}


def test_a_newer_snapshot_is_swapped_in_with_the_changes_made_since(tmp_path):
    """What a web process does when the worker has written a newer snapshot: it reads it (mapped),
    re-applies what changed since, and searches it; the answers are those of a fresh engine."""
    docs, vectors, centres = clustered()
    encoder = HashingEncoder(dim=DIM)
    options = {"exact_limit": 50, "candidates": 3 * PER_CLUSTER, "index_options": {"approximate_above": 100}}
    live = Embeddings(encoder, **options)
    path = tmp_path / "profile.faiss"
    Embeddings.save_vectors(path, vectors, DIM, options["index_options"])
    live.load(path, docs, vectors, mapped=True)
    assert live.vector_index_mapped
    rng = np.random.default_rng(5)
    moved = {}  # documents of cluster 0 moved to cluster 7 after the snapshot, one removed
    for doc in docs[:3]:
        vector = centres[7] + 0.01 * rng.standard_normal(DIM).astype(np.float32)
        moved[doc.id] = (vector / np.linalg.norm(vector))[None, :].astype(np.float32)
    live.upsert([d for d in docs if d.id in moved], moved)
    live.remove([docs[3].id])
    fresh = Embeddings.read_snapshot(path)  # the snapshot still holds the old vectors
    live.swap_snapshot(fresh, changed=list(moved) + [docs[3].id])
    assert live.vector_index_mapped and live.approximate_ids() == live.ids()
    reference = Embeddings(encoder, **options)
    current = {**vectors, **moved}
    reference.index([d for d in docs if d.id != docs[3].id], current)
    for cluster in (0, 7):
        query = centres[cluster][None, :]
        got = live.search("c0key", k=5, query_vectors=query)
        want = reference.search("c0key", k=5, query_vectors=query)
        assert set(ids(got)) == set(ids(want)), cluster
    assert set(moved) <= set(ids(live.search("c0key", k=8, query_vectors=centres[7][None, :])))
    assert docs[3].id not in ids(live.search("c0key", k=50, query_vectors=centres[0][None, :]))


def test_mapped_rows_stay_shared_until_a_document_changes(tmp_path):
    """A process loading a snapshot writes the ranker's rows into the snapshot's rows mapped
    copy-on-write: unchanged rows are never written (their pages stay shared), changed and new
    documents are, and the answers are those of an engine that holds its own rows."""
    docs, vectors, centres = clustered()
    encoder = HashingEncoder(dim=DIM)
    options = {"exact_limit": 50, "candidates": 3 * PER_CLUSTER, "index_options": {"approximate_above": 100}}
    path = tmp_path / "profile.faiss"
    Embeddings.save_vectors(path, vectors, DIM, options["index_options"])
    on_disk = np.load(str(path) + ".rows.npy").copy()
    # Since the snapshot: one document removed, one changed, one added.
    rng = np.random.default_rng(8)
    changed = (centres[3] + 0.01 * rng.standard_normal(DIM).astype(np.float32))[None, :]
    changed /= np.linalg.norm(changed)
    current = {**vectors, docs[1].id: changed, 999: vectors[docs[2].id]}
    del current[docs[0].id]
    now = [d for d in docs if d.id != docs[0].id] + [Document(999, "c2key c2key brand new", "en")]
    shared = Embeddings(encoder, **options)
    shared.load(path, now, current, mapped=True)
    own = Embeddings(encoder, **options)
    own.index(now, current)
    assert shared.rows_shared and not own.rows_shared
    assert shared.ids() == own.ids() == set(current)
    for doc_id in current:
        assert np.array_equal(shared.vector(doc_id), own.vector(doc_id))
    for cluster in range(CLUSTERS):
        query = centres[cluster][None, :]
        assert ids(shared.search(f"c{cluster}key", k=5, query_vectors=query)) == \
            ids(own.search(f"c{cluster}key", k=5, query_vectors=query))
    assert np.array_equal(np.load(str(path) + ".rows.npy"), on_disk)  # the file itself is never written
