"""The incremental indexes give what a fresh build gives: BM25 as bm25s computes it, ranks as `index()` ranks.

Random sequences of upserts, replacements and removals (Hypothesis) run with the storage thresholds
shrunk, so that segment flushes, merges, purges, slot renumbering and passage compaction all happen
in a few operations.
"""
from __future__ import annotations

from collections import Counter
from contextlib import ExitStack
from unittest import mock

import bm25s
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from embeddings import lexical
from embeddings.encoders import get_encoder
from embeddings.lexical import Bm25Params, LexicalIndex, analyze, language_of
from embeddings.ranking import Document, HybridRanker, RankingParams, _DenseRows

WORDS = {
    "en": ["air", "quality", "sensors", "sensor", "traffic", "lights", "cyclists", "waste", "bins", "school",
           "street", "water", "flooding", "the", "and", "smart", "city", "data"],
    "nl": ["lucht", "kwaliteit", "sensoren", "verkeerslichten", "fietsers", "afval", "school", "straat",
           "water", "de", "en", "slimme", "stad", "data"],
    "fr": ["air", "qualité", "capteurs", "feux", "cyclistes", "déchets", "école", "rue", "eau", "les", "et",
           "ville", "données"],
}
QUERIES = [
    ("air quality sensors near the school", "en"),
    ("smart smart traffic lights for cyclists", "en"),  # a repeated word: weight 2
    ("slimme verkeerslichten voor fietsers in de stad", "nl"),
    ("capteurs de qualité de l'air", "fr"),
    ("data", "en"),
    ("nothing matches zzz", "en"),
]

language_st = st.sampled_from(["en", "nl", "fr", "NL-be", None])


@st.composite
def texts(draw) -> tuple[str, str | None]:
    code = draw(language_st)
    words = WORDS[language_of(code)]
    return " ".join(draw(st.lists(st.sampled_from(words), min_size=0, max_size=14))), code


operation_st = st.one_of(
    st.tuples(st.just("upsert"), st.integers(0, 11), texts()),
    st.tuples(st.just("remove"), st.integers(0, 11), st.none()),
)
thresholds_st = st.tuples(st.sampled_from([1, 5, 40, 1 << 16]),   # FLUSH_POSTINGS
                          st.sampled_from([1, 8, 1 << 13]),       # SMALL_SEGMENT
                          st.sampled_from([0, 3, 4096]),          # RENUMBER_SLACK
                          st.sampled_from([10, 60, 1 << 20]))     # MAX_MERGE


def shrunk(thresholds: tuple[int, int, int, int]) -> ExitStack:
    stack = ExitStack()
    names = ("FLUSH_POSTINGS", "SMALL_SEGMENT", "RENUMBER_SLACK", "MAX_MERGE")
    for name, value in zip(names, thresholds, strict=True):
        stack.enter_context(mock.patch.object(lexical, name, value))
    return stack


def bm25s_scores(docs: dict[int, tuple[str, str | None]], size: int, query: str, language: str,
                 params: Bm25Params, bigrams: bool) -> np.ndarray:
    """What the former implementation computed: one bm25s index per language, rebuilt from scratch."""
    out = np.zeros(size, dtype=np.float32)
    weights = Counter(analyze(query, language, bigrams))
    for code in {language_of(lang) for _, lang in docs.values()}:
        positions = sorted(p for p, (_, lang) in docs.items() if language_of(lang) == code)
        model = bm25s.BM25(k1=params.k1, b=params.b)
        model.index([analyze(docs[p][0], code, bigrams) or [""] for p in positions], show_progress=False)
        column = np.zeros(len(positions), dtype=np.float64)
        ids = [(model.vocab_dict[s], w) for s, w in weights.items() if s in model.vocab_dict and s and w > 0]
        if ids:
            indptr, indices, data = model.scores["indptr"], model.scores["indices"], model.scores["data"]
            chunks = [(indices[indptr[t]:indptr[t + 1]], data[indptr[t]:indptr[t + 1]] * w) for t, w in ids]
            column = np.bincount(np.concatenate([c[0] for c in chunks]),
                                 weights=np.concatenate([c[1] for c in chunks]), minlength=len(positions))
        out[positions] = column.astype(np.float32)
    return out


@settings(max_examples=80, deadline=None)
@given(initial=st.lists(texts(), max_size=8), operations=st.lists(operation_st, max_size=40),
       thresholds=thresholds_st, bigrams=st.booleans())
def test_lexical_index_scores_equal_a_bm25s_rebuild(initial, operations, thresholds, bigrams):
    params = Bm25Params()
    with shrunk(thresholds):
        index = LexicalIndex(params, bigrams=bigrams)
        docs: dict[int, tuple[str, str | None]] = {}
        for text, code in initial:
            index.resize(len(docs) + 1)
            index.set_document(len(docs), text, code)
            docs[len(docs)] = (text, code)
        for kind, slot, payload in operations:
            if kind == "upsert":
                position = min(slot, len(docs))  # replace one, or add at the end
                index.resize(max(len(docs), position + 1))
                index.set_document(position, *payload)
                docs[position] = payload
            elif docs:  # remove like the ranker: the last document moves into the hole
                position, last = slot % len(docs), len(docs) - 1
                index.remove_document(position)
                if position != last:
                    index.move_document(last, position)
                    docs[position] = docs[last]
                del docs[last]
                index.resize(last)
            for query, language in QUERIES[:2]:  # queries in between flush pending documents
                np.testing.assert_array_equal(index.scores(query, language),
                                              bm25s_scores(docs, len(docs), query, language, params, bigrams))
        for query, language in QUERIES:
            np.testing.assert_array_equal(index.scores(query, language),
                                          bm25s_scores(docs, len(docs), query, language, params, bigrams))
        assert index.languages() == sorted({language_of(lang) for _, lang in docs.values()})
        for position, (text, code) in docs.items():
            assert Counter(index.tokens(position)) == Counter(analyze(text, code, bigrams))
        for code in ("en", "nl", "fr"):
            assert index.language_mask(code).tolist() == [language_of(docs[p][1]) == code for p in range(len(docs))]
            n = sum(language_of(lang) == code for _, lang in docs.values())
            df = sum("sensor" in analyze(text, lang, bigrams) for text, lang in docs.values()
                     if language_of(lang) == code)
            expected = float(np.log(1 + (n - df + 0.5) / (df + 0.5))) if n else 0.0
            assert index.idf("sensor", code) == pytest.approx(expected)


def scores_by_id(ranker: HybridRanker, query: str, language: str, method: str) -> dict[int, tuple[float, dict]]:
    return {r.id: (r.score, r.parts) for r in ranker.rank(query, language, k=len(ranker) + 1, method=method)}


def assert_same_ranking(incremental: HybridRanker, fresh: HybridRanker) -> None:
    for query, language in QUERIES:
        for method in ("bm25", "dense", "hybrid"):
            got = incremental.rank(query, language, k=5, method=method)
            want = fresh.rank(query, language, k=5, method=method)
            assert [r.score for r in got] == pytest.approx([r.score for r in want], abs=1e-5)
            all_got = scores_by_id(incremental, query, language, method)
            all_want = scores_by_id(fresh, query, language, method)
            assert set(all_got) == set(all_want)
            for doc_id, (score, parts) in all_want.items():
                assert all_got[doc_id][0] == pytest.approx(score, abs=1e-5), (method, doc_id)
                assert all_got[doc_id][1] == pytest.approx(parts, abs=1e-5)
            # the same documents in the same order, up to ties
            assert [round(s, 4) for s in sorted((v[0] for v in all_got.values()), reverse=True)] == \
                [round(s, 4) for s in sorted((v[0] for v in all_want.values()), reverse=True)]


ENCODER = get_encoder("hashing-test")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(initial=st.lists(texts(), max_size=6), operations=st.lists(operation_st, min_size=1, max_size=30),
       thresholds=thresholds_st, pooling=st.sampled_from(["whole", "max", "mean"]))
def test_incremental_ranker_ranks_like_a_fresh_index(initial, operations, thresholds, pooling):
    params = RankingParams(doc_pooling=pooling, passage_words=4)
    with shrunk(thresholds), mock.patch.object(_DenseRows, "COMPACT_MIN_ROWS", 2):
        ranker = HybridRanker(ENCODER, params)
        docs = {i: Document(i, text, code) for i, (text, code) in enumerate(initial)}
        ranker.index(list(docs.values()))
        for kind, doc_id, payload in operations:
            if kind == "upsert":
                docs[doc_id] = Document(doc_id, *payload)
                ranker.upsert(docs[doc_id])
            else:
                docs.pop(doc_id, None)
                ranker.remove(doc_id)
            if doc_id % 3 == 0:  # rank in between, sometimes
                ranker.rank(*QUERIES[doc_id % len(QUERIES)], k=3)
        assert len(ranker) == len(docs) and all(i in ranker for i in docs)
        fresh = HybridRanker(ENCODER, params)
        fresh.index(list(docs.values()), {i: ranker.doc_vectors(i) for i in docs})
        assert_same_ranking(ranker, fresh)
        for doc_id in list(docs)[:3]:
            got = ranker.explain(QUERIES[0][0], doc_id, "en")
            want = fresh.explain(QUERIES[0][0], doc_id, "en")
            assert got.shared_terms == want.shared_terms
            assert got.parts == pytest.approx(want.parts, abs=1e-5)


def test_dense_rows_grow_and_compact_in_place():
    rows = _DenseRows(dim=2, keep_passages=True)
    rows.COMPACT_MIN_ROWS = 0
    eye = np.eye(2, dtype=np.float32)
    for position in range(40):
        rows.put(position, np.stack([eye[position % 2], eye[0], eye[1]]), "en")
    assert rows.whole.shape == (40, 2) and rows.whole.base is not None  # a view, not a copy
    rows.put(3, np.stack([eye[0], eye[0]]), "nl")  # replaced: one passage now
    rows.remove(0)  # the last moves into position 0
    assert rows.n == 39 and rows.languages[3] == "nl"
    pooled = rows.pooled(eye[[1]], "max")
    assert pooled.shape == (1, 39)
    assert pooled[0, 3] == 0.0 and pooled[0, 0] == 1.0
    np.testing.assert_allclose(rows.pooled(eye[[1]], "mean")[0, [0, 3]], [0.5, 0.0])


def test_upsert_then_rank_reads_only_new_postings(monkeypatch):
    """After a bulk index, one upsert costs one small pending segment, not a rebuild."""
    monkeypatch.setattr(lexical, "SMALL_SEGMENT", 16)
    index = LexicalIndex()
    index.resize(200)
    for position in range(200):
        index.set_document(position, f"document number {position} about sensors", "en")
    index.scores("sensors", "en")
    sub = index._subs["en"]
    big = list(sub.segments)
    index.set_document(5, "a new text about bikes", "en")
    assert index.scores("bikes", "en")[5] > 0 and index.scores("sensors", "en")[5] == 0
    assert sub.segments[0] is big[0]  # the big segment was not rewritten
