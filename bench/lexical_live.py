"""Live index at scale: one upsert then one rank, incremental ranker against the former rebuild.

Run ``python -m bench.lexical_live [--sizes 5000,20000,100000] [--rounds 20] [--tantivy-sizes 5000,20000]``.
It prints one JSON line to stdout (progress goes to stderr); the defaults take about 100 s on the 2-core
development machine (``--tantivy-sizes 5000,20000,100000`` adds about 35 s).

Data: synthetic documents of ``--words`` words (default 60) drawn from a Zipf(1.1) vocabulary of 20,000
made-up English-looking words, all indexed as English (one language: the former code rebuilt the
sub-index of the changed document's language, so one language is its worst case); random unit
vectors (dimension 256, the ``hashing-test`` encoder's) are given to ``index`` and queries carry their
vectors, so nothing is encoded. Queries have 10 words of the same distribution.

Per size, with the ranker's default (hybrid, words plus bigrams) parameters:

- ``legacy_s``: one upsert (a new text for an existing document) then one ``rank``, with the former
  implementation (a bm25s sub-index rebuilt after any change, every vector re-stacked): the
  ``LegacyRanker`` below, a faithful copy of the code this benchmark replaced, measured in the same
  process. The median of ``--legacy-rounds`` rounds (1 at 100,000: a round costs ~45 s there).
- ``incremental_s``: the same with `embeddings.ranking.HybridRanker` (median of ``--rounds``);
  ``incremental_p90_s`` its 90th percentile; ``rank_only_s``: a ``rank`` with no change before it.
- ``ratio``: legacy_s / incremental_s.
- ``build_*_s``: ``index()`` of all documents plus the first ``rank``.
- ``lexical_incremental_s``: the lexical side alone, one upsert then the scores of every matching
  document (what the ranker's fusion needs), with `embeddings.lexical.LexicalIndex`;
  ``lexical_tantivy_s`` at ``--tantivy-sizes`` (when the optional ``tantivy`` package is importable,
  null otherwise): the same with an in-RAM tantivy index of the same pre-analysed tokens (delete +
  add + commit + reload, then a boolean query of the stems with ``limit`` = all documents), median
  of at most 10 rounds.

Absolute timings depend on the machine and on what else runs on it; the ratios are measured in the
same process.
"""
from __future__ import annotations

import argparse
import gc
import json
import logging
import math
import os
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import bm25s
import numpy as np

from embeddings.encoders import get_encoder
from embeddings.lexical import Bm25Params, LexicalIndex, analyze, language_of
from embeddings.ranking import Document, HybridRanker

logger = logging.getLogger("bench.lexical_live")


# ---- the former implementation (embeddings/lexical.py and ranking.py before the incremental index) ----

@dataclass
class _LegacySub:
    positions: np.ndarray
    model: bm25s.BM25
    doc_freq: dict[str, int] = field(default_factory=dict)


class LegacyLexicalIndex:
    """The former `LexicalIndex`: a language's bm25s index rebuilt from all its documents after a change."""

    def __init__(self, params: Bm25Params | None = None, bigrams: bool = False) -> None:
        self.params = params or Bm25Params()
        self.bigrams = bigrams
        self._tokens: dict[int, list[str]] = {}
        self._language: dict[int, str] = {}
        self._subs: dict[str, _LegacySub] = {}
        self._dirty: set[str] = set()
        self.size = 0

    def set_document(self, position: int, text: str, language: str, stems: list[str] | None = None) -> None:
        # `stems` is ignored: the former code analysed the text in each index
        language = language_of(language)
        old = self._language.get(position)
        if old is not None:
            self._dirty.add(old)
        self._tokens[position] = analyze(text, language, self.bigrams)
        self._language[position] = language
        self._dirty.add(language)
        self.size = max(self.size, position + 1)

    def remove_document(self, position: int) -> None:
        old = self._language.pop(position, None)
        self._tokens.pop(position, None)
        if old is not None:
            self._dirty.add(old)

    def move_document(self, source: int, target: int) -> None:
        language = self._language.pop(source)
        self._tokens[target] = self._tokens.pop(source)
        self._language[target] = language
        self._dirty.add(language)

    def resize(self, size: int) -> None:
        self.size = size

    def _refresh(self) -> None:
        for language in sorted(self._dirty):
            positions = np.array(sorted(p for p, lang in self._language.items() if lang == language), dtype=np.int64)
            if len(positions) == 0:
                self._subs.pop(language, None)
                continue
            corpus = [self._tokens[int(p)] or [""] for p in positions]
            model = bm25s.BM25(k1=self.params.k1, b=self.params.b)
            model.index(corpus, show_progress=False)
            doc_freq = Counter(stem for tokens in corpus for stem in set(tokens))
            self._subs[language] = _LegacySub(positions=positions, model=model, doc_freq=dict(doc_freq))
        self._dirty.clear()

    def scores(self, query: str | Mapping[str, float], language: str) -> np.ndarray:
        self._refresh()
        weights = Counter(analyze(query, language, self.bigrams)) if isinstance(query, str) else query
        out = np.zeros(self.size, dtype=np.float32)
        for sub in self._subs.values():
            model = sub.model
            vocab = model.vocab_dict
            ids = [(vocab[s], w) for s, w in weights.items() if s in vocab and s and w > 0]
            if not ids:
                continue
            indptr, indices, data = model.scores["indptr"], model.scores["indices"], model.scores["data"]
            chunks = [(indices[indptr[t]:indptr[t + 1]], data[indptr[t]:indptr[t + 1]] * w) for t, w in ids]
            out[sub.positions] = np.bincount(np.concatenate([c[0] for c in chunks]),
                                             weights=np.concatenate([c[1] for c in chunks]),
                                             minlength=model.scores["num_docs"]).astype(np.float32)
        return out

    def idf(self, stem: str, language: str) -> float:
        self._refresh()
        sub = self._subs.get(language_of(language))
        if sub is None:
            return 0.0
        n, df = len(sub.positions), sub.doc_freq.get(stem, 0)
        return math.log(1.0 + (n - df + 0.5) / (df + 0.5))


class LegacyRanker(HybridRanker):
    """The former ranker: the rebuilding lexical index, and every vector re-stacked after a change."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._dense_dirty = True
        self._stacked = np.zeros((0, self.encoder.dim), dtype=np.float32)
        self._stacked_languages = np.zeros(0, dtype="<U2")

    def _new_lexical(self):  # type: ignore[override]
        bm25 = Bm25Params(self.params.k1, self.params.b)
        plain = LegacyLexicalIndex(bm25)
        return plain, (LegacyLexicalIndex(bm25, bigrams=True) if self.params.bigrams else plain)

    def _put(self, doc: Document, vectors: np.ndarray) -> None:
        super()._put(doc, vectors)
        self._dense_dirty = True

    def remove(self, doc_id: int) -> None:
        super().remove(doc_id)
        self._dense_dirty = True

    @property
    def _whole(self) -> np.ndarray:  # type: ignore[override]
        return self._stacked

    @property
    def _languages(self) -> np.ndarray:  # type: ignore[override]
        return self._stacked_languages

    def _refresh_dense(self) -> None:
        if not self._dense_dirty:
            return
        blocks = [self._passage_rows(self._vectors[doc_id]) for doc_id in self._ids]
        self._stacked = (np.ascontiguousarray(np.stack([self._vectors[i][0] for i in self._ids]))
                         if self._ids else np.zeros((0, self.encoder.dim), np.float32))
        self._passages_legacy = np.ascontiguousarray(np.vstack(blocks)) if blocks else self._stacked
        self._stacked_languages = np.array([language_of(self._docs[i].language) for i in self._ids], dtype="<U2")
        self._dense_dirty = False

    def rank(self, *args: Any, **kwargs: Any):  # type: ignore[override]
        with self._lock:
            self._refresh_dense()
            return super().rank(*args, **kwargs)


# ---- data ----------------------------------------------------------------------------------

_LETTERS = np.array(list("abcdefghijklmnoprstuvwy"))


def vocabulary(size: int, rng: np.random.Generator) -> list[str]:
    words: set[str] = set()
    while len(words) < size:
        length = int(rng.integers(4, 11))
        words.add("".join(rng.choice(_LETTERS, length)))
    return sorted(words)


class TextMaker:
    """Texts of Zipf-distributed words."""

    def __init__(self, seed: int = 0, vocab_size: int = 20_000) -> None:
        self.rng = np.random.default_rng(seed)
        self.words = np.array(vocabulary(vocab_size, self.rng))
        ranks = np.arange(1, vocab_size + 1, dtype=np.float64)
        self.p = ranks ** -1.1 / (ranks ** -1.1).sum()

    def text(self, n_words: int) -> str:
        return " ".join(self.words[self.rng.choice(len(self.words), n_words, p=self.p)])

    def vector(self, dim: int) -> np.ndarray:
        v = self.rng.standard_normal((1, dim)).astype(np.float32)
        return v / np.linalg.norm(v)


# ---- measurements --------------------------------------------------------------------------

def timed(fn: Callable[[], Any]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def measure_ranker(cls: type[HybridRanker], docs: list[Document], vectors: dict[int, np.ndarray],
                   maker: TextMaker, rounds: int, words: int) -> tuple[dict[str, float], HybridRanker]:
    """Build time, then `rounds` of (upsert one document, rank one query), then ranks alone."""
    encoder = get_encoder("hashing-test")
    ranker = cls(encoder)
    query, qv = maker.text(10), maker.vector(encoder.dim)
    result: dict[str, float] = {}
    if cls is not LegacyRanker:  # the legacy build would cost a full rebuild; its first round has one
        result["build_s"] = round(timed(lambda: (ranker.index(docs, vectors), ranker.rank(query, "en", 10,
                                                                                        query_vectors=qv))), 3)
    else:
        result["build_s"] = round(timed(lambda: ranker.index(docs, vectors)), 3)
    times = []
    for _ in range(rounds):
        doc_id = int(maker.rng.integers(len(docs)))
        doc, doc_vectors = Document(doc_id, maker.text(words), "en"), maker.vector(encoder.dim)
        query, qv = maker.text(10), maker.vector(encoder.dim)
        times.append(timed(lambda d=doc, v=doc_vectors, q=query, w=qv: (ranker.upsert(d, v),
                                                                        ranker.rank(q, "en", 10, query_vectors=w))))
    result["upsert_rank_s"] = statistics.median(times)
    result["upsert_rank_p90_s"] = sorted(times)[min(len(times) - 1, int(0.9 * len(times)))]
    result["rank_only_s"] = statistics.median(timed(lambda: ranker.rank(maker.text(10), "en", 10, query_vectors=qv))
                                              for _ in range(max(3, min(rounds, 10))))
    return result, ranker


def measure_lexical(index: LexicalIndex, docs: list[Document], maker: TextMaker, rounds: int, words: int,
                    with_tantivy: bool) -> dict[str, float]:
    """Lexical side only: one upsert then the scores of every matching document.

    Args:
        index: a bigram `LexicalIndex` over `docs` at positions 0..n-1 (the incremental ranker's).
    """
    result: dict[str, float] = {}
    times = []
    for _ in range(rounds):
        position, text, query = int(maker.rng.integers(len(docs))), maker.text(words), maker.text(10)
        times.append(timed(lambda p=position, t=text, q=query: (index.set_document(p, t, "en"),
                                                                index.scores(q, "en"))))
    result["lexical_incremental_s"] = statistics.median(times)
    if not with_tantivy:
        return result
    try:
        import tantivy
    except ImportError:
        result["lexical_tantivy_s"] = None  # type: ignore[assignment]
        return result
    builder = tantivy.SchemaBuilder()
    builder.add_integer_field("id", stored=True, indexed=True, fast=True)
    builder.add_text_field("body", tokenizer_name="whitespace", index_option="freq")
    schema = builder.build()
    tindex = tantivy.Index(schema)
    writer = tindex.writer(heap_size=200_000_000, num_threads=1)
    started = time.perf_counter()
    for position, doc in enumerate(docs):
        writer.add_document(tantivy.Document(id=position, body=" ".join(analyze(doc.text, "en", True))))
    writer.commit()
    tindex.reload()
    result["build_tantivy_s"] = round(time.perf_counter() - started, 3)

    def upsert_and_search(position: int, text: str, query: str) -> None:
        writer.delete_documents_by_term("id", position)
        writer.add_document(tantivy.Document(id=position, body=" ".join(analyze(text, "en", True))))
        writer.commit()
        tindex.reload()
        stems = Counter(analyze(query, "en", True))
        q = tantivy.Query.boolean_query([(tantivy.Occur.Should, tantivy.Query.boost_query(
            tantivy.Query.term_query(schema, "body", stem), float(w))) for stem, w in stems.items()])
        searcher = tindex.searcher()
        scores = np.zeros(len(docs), dtype=np.float32)
        for score, address in searcher.search(q, limit=len(docs)).hits:  # fusion needs every match
            scores[searcher.doc(address)["id"][0]] = score

    times = []
    for _ in range(min(rounds, 10)):
        position, text, query = int(maker.rng.integers(len(docs))), maker.text(words), maker.text(10)
        times.append(timed(lambda p=position, t=text, q=query: upsert_and_search(p, t, q)))
    result["lexical_tantivy_s"] = statistics.median(times)
    return result


def run(sizes: Sequence[int], rounds: int, legacy_rounds: Sequence[int], words: int,
        tantivy_sizes: Collection[int]) -> dict[str, Any]:
    started = time.perf_counter()
    out: dict[str, Any] = {"bench": "lexical_live", "words_per_doc": words, "rounds": rounds,
                           "load_avg": round(os.getloadavg()[0], 2), "sizes": {}}
    dim = get_encoder("hashing-test").dim
    for size, n_legacy in zip(sizes, legacy_rounds, strict=True):
        maker = TextMaker(seed=size)
        docs = [Document(i, maker.text(words), "en") for i in range(size)]
        vectors = {doc.id: maker.vector(dim) for doc in docs}
        row: dict[str, Any] = {}
        print(f"{size}: incremental", file=sys.stderr, flush=True)
        new, ranker = measure_ranker(HybridRanker, docs, vectors, maker, rounds, words)
        print(f"{size}: lexical only", file=sys.stderr, flush=True)
        lexical = measure_lexical(ranker._lexical_hybrid, docs, maker, rounds, words, size in tantivy_sizes)
        del ranker
        gc.collect()
        print(f"{size}: legacy ({n_legacy} rounds)", file=sys.stderr, flush=True)
        old = measure_ranker(LegacyRanker, docs, vectors, maker, n_legacy, words)[0] if n_legacy else {}
        gc.collect()
        row["legacy_s"] = round(old["upsert_rank_s"], 4) if old else None
        row["incremental_s"] = round(new["upsert_rank_s"], 4)
        row["incremental_p90_s"] = round(new["upsert_rank_p90_s"], 4)
        row["rank_only_s"] = round(new["rank_only_s"], 4)
        row["ratio"] = round(old["upsert_rank_s"] / new["upsert_rank_s"], 1) if old else None
        row["build_legacy_s"] = old.get("build_s")
        row["build_incremental_s"] = new["build_s"]
        row.update({k: (round(v, 4) if isinstance(v, float) else v) for k, v in lexical.items()})
        out["sizes"][str(size)] = row
        print(f"{size}: {json.dumps(row)}", file=sys.stderr, flush=True)
    out["seconds"] = round(time.perf_counter() - started, 1)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.lexical_live", description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="5000,20000,100000")
    parser.add_argument("--legacy-rounds", default="3,2,1", help="rounds of the former code per size (0: skip)")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--words", type=int, default=60)
    parser.add_argument("--tantivy-sizes", default="5000,20000", help="sizes to measure tantivy at ('': none)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("bm25s").setLevel(logging.WARNING)  # it sets DEBUG on itself
    sizes = [int(s) for s in args.sizes.split(",")]
    legacy = [int(s) for s in args.legacy_rounds.split(",")]
    legacy = (legacy + [legacy[-1]] * len(sizes))[:len(sizes)]
    tantivy_sizes = {int(s) for s in args.tantivy_sizes.split(",") if s}
    print(json.dumps(run(sizes, args.rounds, legacy, args.words, tantivy_sizes)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
