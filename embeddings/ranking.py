"""Hybrid ranking: BM25 and dense similarity, normalised and fused convexly.

This is the ranking code of both the platform and the evaluation command (`embeddings.evaluate`).

Vectors: a text is encoded as one row for the whole text, followed by one row per passage when it
has more than one passage (`text.passages`). Row 0 ranks (whole texts matched better than pooled
passages on dev); the passage rows explain (which sentences matched).

``method="hybrid"`` (parameters in `RankingParams`, tuned on the dev set):

1. lexical: BM25 of the query against every document, words plus adjacent-word bigrams, one
   sub-index per document language searched with the query's stemmer; dense: cosine of the whole
   query with the whole document.
2. both z-normalised over the candidate documents and combined convexly. A document in another
   language than the query has no lexical evidence (BM25 cannot match across languages), so its
   lexical part is replaced by its dense part: cross-language documents compete on dense alone and
   are never drowned by lexical zeros.
3. optionally (off by default, see `RankingParams`), Rocchio feedback in embedding space: the
   centroid of the top fused documents as a second dense query, then fused again.

``method="bm25"`` is plain BM25 (words only, no bigrams); ``method="dense"`` is the cosine alone.
"""
from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from .encoders import Encoder
from .lexical import Bm25Params, LexicalIndex, analyze, key_terms, language_of
from .text import content_hash, passages

logger = logging.getLogger(__name__)

METHODS = ("bm25", "dense", "hybrid")
#: Version of the vector layout (row 0 = whole text, then passages); part of `HybridRanker.engine_id`.
LAYOUT = "whole+passages-v1"


def document_vector(vectors: np.ndarray) -> np.ndarray:
    """The one vector of a document or query: row 0 of its vectors, the whole-text vector.

    The ranker's dense score, the approximate index's candidates (`engine.Embeddings`) and the
    similarity of two documents all use this vector (L2-normalised, as the encoder makes it).

    Args:
        vectors: (1 + n_passages, dim) as from `HybridRanker.encode_document`, or a single (dim,)
            vector.

    Returns:
        float32 array (dim,).
    """
    return np.atleast_2d(np.asarray(vectors, dtype=np.float32))[0]


@dataclass
class Document:
    """A text to rank, by database id."""

    id: int
    text: str
    language: str = "en"


@dataclass
class Ranked:
    """One ranked document: its final score and the parts of it (for explanations)."""

    id: int
    score: float
    parts: dict[str, float] = field(default_factory=dict)


@dataclass
class Explanation:
    """Why a document matched a query."""

    passage_pairs: list[tuple[str, str, float]]
    shared_terms: list[str]
    parts: dict[str, float]


@dataclass
class RankingParams:
    """The handful of tuned parameters; the defaults are the values chosen on dev (bench/README notes).

    nDCG@10 figures below are (h2020_titles, he) on dev with use-multilingual-v3.
    """

    # BM25 as usual (bm25s "lucene" k1=1.5, b=0.75): k1 0.9-1.5 and b 0.4-0.9 moved nDCG@10 by < 0.005.
    k1: float = 1.5
    b: float = 0.75
    # Hybrid's lexical part adds adjacent-word bigrams: BM25 0.543/0.879 -> 0.559/0.888 alone.
    bigrams: bool = True
    # Passages of up to this many words, used for explanations (and for "max"/"mean" pooling).
    passage_words: int = 100
    # Dense score of a document: "whole" (whole-text vectors, 0.307/0.671), "max" over passages
    # (0.258/0.650) or "mean" over passages (0.263/0.533).
    doc_pooling: str = "whole"
    # How each part is normalised over the candidates before fusion: "zscore" or "minmax" (minmax at
    # weight 0.3: 0.576/0.892, the same; z-scores kept). Weighted reciprocal rank fusion (k=60) lost:
    # 0.535/0.854 at best.
    normalisation: str = "zscore"
    # Weight of the dense part in the convex combination (lexical gets 1 - this): 0.3 -> 0.573/0.890,
    # 0.4 -> 0.577/0.891, 0.5 -> 0.575/0.886.
    dense_weight: float = 0.4
    # Rocchio feedback: number of top fused documents (0 = off) and share of their centroid in the
    # dense score. 5 documents at 0.5: 0.574/0.884, worse on both: off.
    prf_docs: int = 0
    rocchio_weight: float = 0.0


class _IdfLookup(Mapping[str, float]):
    """Read-only stem -> idf view of one language's sub-index (for `key_terms`)."""

    def __init__(self, lexical: LexicalIndex, language: str) -> None:
        self._lexical = lexical
        self._language = language

    def __getitem__(self, stem: str) -> float:
        return self._lexical.idf(stem, self._language)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0

    def get(self, stem: str, default: float | None = None) -> float:  # type: ignore[override]
        return self._lexical.idf(stem, self._language)


class _DenseRows:
    """The ranker's vectors by document position, changed in place.

    Whole-text rows sit in a preallocated matrix whose capacity grows by half when full: an upsert writes
    one row, a removal copies the last row into the freed one (positions stay compact, as in the
    ranker), and `whole` is a view of the rows in use, never a copy.

    Passage rows (kept only when a pooling needs them) are appended to one buffer, one block per
    document with its (start, count) by position; a replaced or removed document's block becomes
    garbage, compacted once there is more garbage than live rows (amortised O(1) per row).
    """

    #: Garbage passage rows tolerated before compaction regardless of the live rows.
    COMPACT_MIN_ROWS = 1024

    def __init__(self, dim: int, keep_passages: bool, capacity: int = 0, whole: np.ndarray | None = None) -> None:
        self.dim = dim
        self.keep_passages = keep_passages
        self.n = 0
        # `whole`: a matrix to write the rows into, e.g. a snapshot's rows mapped copy-on-write
        # (np.load(mmap_mode="c")): a row equal to the one already there is not written, so its
        # page stays shared with every process that maps the same file.
        if whole is not None and whole.shape[1] == dim and len(whole) >= capacity:
            capacity = len(whole)
        else:
            whole = np.zeros((capacity, dim), dtype=np.float32)
        self._whole = whole
        self._languages = np.zeros(capacity, dtype="<U2")
        self._rows = np.zeros((capacity if keep_passages else 0, dim), dtype=np.float32)
        self._used = 0
        self._garbage = 0
        self._start = np.zeros(capacity if keep_passages else 0, dtype=np.int64)
        self._count = np.zeros(capacity if keep_passages else 0, dtype=np.int64)

    @property
    def whole(self) -> np.ndarray:
        """(n, dim): row i is the whole-text vector of position i (a view)."""
        return self._whole[:self.n]

    @property
    def languages(self) -> np.ndarray:
        """(n,): the language code of position i (a view)."""
        return self._languages[:self.n]

    def put(self, position: int, vectors: np.ndarray, language: str) -> None:
        """Write the vectors of the document at `position` (at most `n`: n appends)."""
        if position == self.n:
            if self.n == len(self._whole):
                capacity = max(16, self.n + self.n // 2)
                self._whole = _with_rows(self._whole, capacity)
                self._languages = np.concatenate([self._languages, np.zeros(capacity - self.n, "<U2")])
                if self.keep_passages:
                    self._start = np.concatenate([self._start, np.zeros(capacity - self.n, np.int64)])
                    self._count = np.concatenate([self._count, np.zeros(capacity - self.n, np.int64)])
            self.n += 1
        elif self.keep_passages:
            self._garbage += int(self._count[position])
        row = document_vector(vectors)
        if not np.array_equal(self._whole[position], row):  # an equal row keeps a shared page shared
            self._whole[position] = row
        self._languages[position] = language
        if self.keep_passages:
            block = HybridRanker._passage_rows(vectors)
            if self._used + len(block) > len(self._rows):
                self._rows = _with_rows(self._rows, max(len(self._rows) * 3 // 2, self._used + len(block), 16))
            self._rows[self._used:self._used + len(block)] = block
            self._start[position], self._count[position] = self._used, len(block)
            self._used += len(block)
            self._compact_if_due()

    def remove(self, position: int) -> None:
        """Drop the document at `position`; the last one moves into its place."""
        last = self.n - 1
        if self.keep_passages:
            self._garbage += int(self._count[position])
        if position != last:
            self._whole[position] = self._whole[last]
            self._languages[position] = self._languages[last]
            if self.keep_passages:
                self._start[position], self._count[position] = self._start[last], self._count[last]
        self.n = last
        if self.keep_passages:
            self._compact_if_due()

    def _compact_if_due(self) -> None:
        if self._garbage <= max(self._used - self._garbage, self.COMPACT_MIN_ROWS):
            return
        start, count = self._start[:self.n], self._count[:self.n]
        total = int(count.sum())
        gather = np.repeat(start - (np.cumsum(count) - count), count) + np.arange(total)
        rows = np.zeros((max(total + total // 2, 16), self.dim), dtype=np.float32)
        rows[:total] = self._rows[gather]
        self._rows, self._used, self._garbage = rows, total, 0
        self._start[:self.n] = np.cumsum(count) - count

    def pooled(self, query_rows: np.ndarray, mode: str) -> np.ndarray:
        """Per position, the max ("max") or mean ("mean") cosine of its passage rows with each query
        row, shape (n_query_rows, n); the blocks are reduced where they lie in the buffer."""
        sims = query_rows @ self._rows[:self._used].T
        start, count = self._start[:self.n], self._count[:self.n]
        order = np.argsort(start, kind="stable")
        bounds = np.empty(2 * self.n, dtype=np.int64)
        bounds[0::2] = start[order]
        bounds[1::2] = start[order] + count[order]
        if bounds[-1] == self._used:
            bounds = bounds[:-1]  # the last block runs to the end
        ufunc = np.add if mode == "mean" else np.maximum
        reduced = ufunc.reduceat(sims, bounds, axis=1)[:, 0::2]  # odd entries: garbage between blocks
        if mode == "mean":
            reduced = reduced / count[order][None, :]
        pooled = np.empty_like(reduced)
        pooled[:, order] = reduced
        return pooled


def _with_rows(matrix: np.ndarray, capacity: int) -> np.ndarray:
    """A copy of `matrix` with `capacity` rows (the first ones copied, the others zero)."""
    bigger = np.zeros((capacity, matrix.shape[1]), dtype=matrix.dtype)
    bigger[:len(matrix)] = matrix
    return bigger


class HybridRanker:
    """Keeps lexical and dense state for a set of documents and ranks them for a query.

    Thread-safe: one lock guards the state. Document positions are compact (0..n-1); removing a
    document moves the last one into its place. Every change is incremental: the lexical index
    updates its postings and statistics in place (`lexical.LexicalIndex`) and the dense rows are
    written in place (`_DenseRows`), so neither a change nor the next query does work that grows
    with the number of documents beyond the search itself.
    """

    def __init__(self, encoder: Encoder, params: RankingParams | None = None) -> None:
        self.encoder = encoder
        self.params = params or RankingParams()
        self._lock = threading.RLock()
        self._docs: dict[int, Document] = {}
        # Passage rows of the documents that have several (their whole-text row is in `_dense_rows`
        # only): one copy of each vector per process, not two.
        self._passages: dict[int, np.ndarray] = {}
        self._ids: list[int] = []
        self._positions: dict[int, int] = {}
        self._lexical, self._lexical_hybrid = self._new_lexical()
        self._dense_rows = self._new_dense()
        self._query_cache: OrderedDict[str, np.ndarray] = OrderedDict()

    @property
    def engine_id(self) -> str:
        """Encoder id plus vector layout and passage size: the key under which to store `doc_vectors`."""
        return f"{self.encoder.id}|{LAYOUT}|p{self.params.passage_words}"

    def _new_dense(self, capacity: int = 0, whole: np.ndarray | None = None) -> _DenseRows:
        return _DenseRows(self.encoder.dim, self.params.doc_pooling != "whole", capacity, whole)

    @property
    def _whole(self) -> np.ndarray:
        return self._dense_rows.whole

    @property
    def rows_mapped(self) -> bool:
        """True when the whole-text rows lie in a memory-mapped file (`index(rows=...)`)."""
        return isinstance(self._dense_rows.whole, np.memmap)

    @property
    def _languages(self) -> np.ndarray:
        return self._dense_rows.languages

    def _new_lexical(self) -> tuple[LexicalIndex, LexicalIndex]:
        bm25 = Bm25Params(self.params.k1, self.params.b)
        plain = LexicalIndex(bm25)
        return plain, (LexicalIndex(bm25, bigrams=True) if self.params.bigrams else plain)

    # ---- documents ---------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._positions

    def ids(self) -> set[int]:
        """The ids of the indexed documents."""
        with self._lock:
            return set(self._ids)

    def passages_of(self, text: str) -> list[str]:
        """The passages of a text (more than one only for texts longer than `passage_words`)."""
        return passages(text, self.params.passage_words)

    def texts_to_encode(self, text: str) -> list[str]:
        """What a text is encoded as: the whole text, then its passages if there are several."""
        parts = self.passages_of(text)
        return [text, *parts] if len(parts) > 1 else [text]

    def encode_document(self, doc: Document) -> np.ndarray:
        """Encode a document.

        Args:
            doc: the document.

        Returns:
            float32 array (1 + n_passages, dim), or (1, dim) for a one-passage text: row 0 is the
            whole text. This is what the platform stores (under `engine_id`).
        """
        return self.encoder.encode(self.texts_to_encode(doc.text), kind="passage")

    def encode_query(self, query: str) -> np.ndarray:
        """Encode a query like a document (kind "query"); the last 64 queries are cached."""
        key = content_hash(query)
        with self._lock:
            cached = self._query_cache.get(key)
            if cached is not None:
                self._query_cache.move_to_end(key)
                return cached
        vectors = self.encoder.encode(self.texts_to_encode(query), kind="query")
        with self._lock:
            self._query_cache[key] = vectors
            while len(self._query_cache) > 64:
                self._query_cache.popitem(last=False)
        return vectors

    def _usable(self, vectors: np.ndarray | None) -> bool:
        return (vectors is not None and vectors.ndim == 2 and vectors.shape[0] > 0
                and vectors.shape[1] == self.encoder.dim)

    def encode_documents(self, docs: Sequence[Document],
                         vectors: Mapping[int, np.ndarray] | None = None) -> dict[int, np.ndarray]:
        """The vectors of `docs`: the given ones where usable, the others encoded in one batch.

        Args:
            docs: the documents.
            vectors: precomputed vectors by document id, as from `doc_vectors`; documents without
                (or with vectors of another dimension) are encoded.

        Returns:
            float32 vectors by document id, as `encode_document` makes them.
        """
        vectors = vectors or {}
        ready: dict[int, np.ndarray] = {}
        missing: list[Document] = []
        for doc in docs:
            given = vectors.get(doc.id)
            if given is not None and self._usable(given):
                ready[doc.id] = np.asarray(given, dtype=np.float32)
            else:
                missing.append(doc)
        if missing:
            logger.info("encoding %d of %d documents with %s", len(missing), len(docs), self.encoder.id)
            texts: list[str] = []
            counts: list[int] = []
            for doc in missing:
                parts = self.texts_to_encode(doc.text)
                texts += parts
                counts.append(len(parts))
            encoded = self.encoder.encode(texts, kind="passage")
            start = 0
            for doc, count in zip(missing, counts, strict=True):
                ready[doc.id] = encoded[start:start + count]
                start += count
        return ready

    def index(self, docs: Sequence[Document], vectors: Mapping[int, np.ndarray] | None = None, *,
              rows: np.ndarray | None = None) -> None:
        """Replace the whole state with `docs`.

        Args:
            docs: the documents.
            vectors: precomputed vectors by document id, as from `doc_vectors`; documents without
                (or with vectors of another dimension) are encoded, in one batch.
            rows: a matrix to hold the whole-text rows, row i for `docs[i]` (with room to grow):
                e.g. a snapshot's rows mapped copy-on-write, so that equal rows stay shared.
        """
        ready = self.encode_documents(docs, vectors)
        with self._lock:
            self._docs, self._passages, self._ids, self._positions = {}, {}, [], {}
            self._lexical, self._lexical_hybrid = self._new_lexical()
            # Room for some upserts; given rows bring their own (used when they hold every document).
            self._dense_rows = self._new_dense(len(docs) if rows is not None else len(docs) + len(docs) // 8, rows)
            for doc in docs:
                self._put(doc, ready[doc.id])

    def upsert(self, doc: Document, vectors: np.ndarray | None = None) -> None:
        """Add or replace one document.

        Args:
            doc: the document.
            vectors: its precomputed vectors (as from `doc_vectors`), or None to encode it.
        """
        if vectors is None or not self._usable(vectors):
            vectors = self.encode_document(doc)
        with self._lock:
            self._put(doc, np.asarray(vectors, dtype=np.float32))

    def _lexicals(self) -> list[LexicalIndex]:
        return [self._lexical] if self._lexical_hybrid is self._lexical else [self._lexical, self._lexical_hybrid]

    def _put(self, doc: Document, vectors: np.ndarray) -> None:
        position = self._positions.get(doc.id)
        old = self._docs.get(doc.id)
        if position is None:
            position = len(self._ids)
            self._ids.append(doc.id)
            self._positions[doc.id] = position
        self._docs[doc.id] = doc
        if len(vectors) > 1:
            self._passages[doc.id] = np.array(vectors[1:], dtype=np.float32)  # a copy: no row bytes kept
        else:
            self._passages.pop(doc.id, None)
        language = language_of(doc.language)
        self._dense_rows.put(position, vectors, language)
        if old is not None and old.text == doc.text and language_of(old.language) == language:
            return  # the same text: the same tokens
        stems = analyze(doc.text, language)  # once for both lexical indexes
        for lexical in self._lexicals():
            lexical.resize(len(self._ids))
            lexical.set_document(position, doc.text, doc.language, stems=stems)

    def remove(self, doc_id: int) -> None:
        """Remove a document (no error when it is not there)."""
        with self._lock:
            position = self._positions.pop(doc_id, None)
            if position is None:
                return
            self._docs.pop(doc_id, None)
            self._passages.pop(doc_id, None)
            last = len(self._ids) - 1
            for lexical in self._lexicals():
                lexical.remove_document(position)
                if position != last:
                    lexical.move_document(last, position)
                lexical.resize(last)
            if position != last:
                moved = self._ids[last]
                self._ids[position] = moved
                self._positions[moved] = position
            self._ids.pop()
            self._dense_rows.remove(position)

    def doc_vectors(self, doc_id: int) -> np.ndarray:
        """A document's vectors, (1 + n_passages, dim) or (1, dim); row 0 is the whole text (a copy)."""
        with self._lock:
            whole = self._whole[self._positions[doc_id]][None, :].copy()
            passages = self._passages.get(doc_id)
        return whole if passages is None else np.vstack([whole, passages])

    def whole_vectors(self, doc_ids: Sequence[int]) -> np.ndarray:
        """(len(doc_ids), dim): the whole-text vector of each document (KeyError when one is not indexed)."""
        with self._lock:
            return self._whole[[self._positions[i] for i in doc_ids]]

    @staticmethod
    def _passage_rows(vectors: np.ndarray) -> np.ndarray:
        """The passage rows of a vectors array (the whole-text row when there is only that)."""
        return vectors[1:] if len(vectors) > 1 else vectors

    # ---- scoring -----------------------------------------------------------------------

    def _dense(self, query_vectors: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        """Cosine of every document with the query, shape (n_docs,), pooled as `doc_pooling` says.

        With a mask covering a small share of the documents (candidates proposed by the FAISS index
        at large sizes), only those rows are multiplied; the others are left at 0 and are outside the
        mask anyway.
        """
        if self.params.doc_pooling == "whole":
            if mask is not None and 4 * int(mask.sum()) < len(mask):
                out = np.zeros(len(mask), dtype=np.float32)
                rows = np.flatnonzero(mask)
                out[rows] = self._whole[rows] @ document_vector(query_vectors)
                return out
            return self._whole @ document_vector(query_vectors)
        pooled = self._dense_rows.pooled(self._passage_rows(query_vectors), self.params.doc_pooling)
        return pooled.mean(axis=0)

    def _normalise(self, values: np.ndarray, mask: np.ndarray) -> np.ndarray:
        out = np.zeros(values.shape, dtype=np.float32)
        if not mask.any():
            return out
        selected = values[mask].astype(np.float64)
        if self.params.normalisation == "minmax":
            low, high = float(selected.min()), float(selected.max())
            out[mask] = (selected - low) / (high - low if high - low > 1e-9 else 1.0)
        else:
            std = float(selected.std())
            out[mask] = (selected - float(selected.mean())) / (std if std > 1e-9 else 1.0)
        return out

    def _fuse(self, lexical: np.ndarray, dense: np.ndarray, mask: np.ndarray,
              same_language: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        lexical_n = self._normalise(lexical, mask & same_language)
        dense_n = self._normalise(dense, mask)
        # No lexical evidence across languages: such documents compete on their dense score alone
        # (a word bridge from the dense top documents was measured and lowered nl/fr: README).
        lexical_n = np.where(same_language, lexical_n, dense_n)
        weight = self.params.dense_weight
        return (1.0 - weight) * lexical_n + weight * dense_n, lexical_n, dense_n

    def _mask(self, allowed: Collection[int] | None) -> np.ndarray:
        if allowed is None:
            return np.ones(len(self._ids), dtype=bool)
        mask = np.zeros(len(self._ids), dtype=bool)
        positions = [self._positions[i] for i in allowed if i in self._positions]
        mask[positions] = True
        return mask

    def _score(self, query: str, language: str, method: str, mask: np.ndarray,
               query_vectors: np.ndarray | None) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Scores of all positions (-inf outside the mask) and the parts by name."""
        language = language_of(language)
        parts: dict[str, np.ndarray] = {}
        if method == "bm25":
            parts["lexical"] = self._lexical.scores(query, language)
            return np.where(mask, parts["lexical"], -np.inf), parts
        if query_vectors is None:
            query_vectors = self.encode_query(query)
        dense = self._dense(np.atleast_2d(np.asarray(query_vectors, dtype=np.float32)), mask)
        parts["dense"] = dense
        if method == "dense":
            return np.where(mask, dense, -np.inf), parts
        lexical = self._lexical_hybrid.scores(query, language)
        parts["lexical"] = lexical
        same_language = self._languages == language
        fused, lexical_n, dense_n = self._fuse(lexical, dense, mask, same_language)
        if self.params.prf_docs > 0 and self.params.rocchio_weight > 0:
            top = _top_positions(np.where(mask, fused, -np.inf), self.params.prf_docs)
            centroid = self._whole[top].sum(axis=0)
            centroid /= max(float(np.linalg.norm(centroid)), 1e-9)
            parts["dense_prf"] = self._whole @ centroid
            weight = self.params.rocchio_weight
            dense = (1.0 - weight) * dense + weight * parts["dense_prf"]
            fused, lexical_n, dense_n = self._fuse(lexical, dense, mask, same_language)
        parts["lexical_norm"] = lexical_n
        parts["dense_norm"] = dense_n
        parts["fused"] = fused
        return np.where(mask, fused, -np.inf), parts

    def rank(self, query: str, language: str = "en", k: int = 10, *, method: str = "hybrid",
             allowed: Collection[int] | None = None, query_vectors: np.ndarray | None = None,
             only: Collection[int] | None = None) -> list[Ranked]:
        """Rank the documents for a query.

        Args:
            query: the query text, in any language.
            language: the query's language ("nl", "fr", "en").
            k: how many results at most.
            method: "bm25", "dense" or "hybrid".
            allowed: if given, only these document ids are ranked (filtered before ranking).
            query_vectors: the query's vectors if already known, as from `encode_query` or
                `doc_vectors` (row 0 = whole text); a single (dim,) vector is taken as row 0.
            only: if given, return these documents (those that are allowed), scored and normalised
                as in the full ranking, whatever their place in it (`k` is ignored): the parts a
                decision was made on, for learning.

        Returns:
            Up to k results, best first (for "bm25", only documents with a positive score).
        """
        if method not in METHODS:
            raise ValueError(f"unknown method {method!r}; use one of {METHODS}")
        with self._lock:
            if not self._ids or k <= 0:
                return []
            mask = self._mask(allowed)
            if not mask.any():
                return []
            if method != "bm25" and query_vectors is None:
                query_vectors = self.encode_query(query)
            scores, parts = self._score(query, language, method, mask, query_vectors)
            # The query's best evidence among the searchable documents (`evidence.is_thin`).
            evidence = {}
            if "dense" in parts:
                evidence["query_dense_max"] = float(np.max(parts["dense"][mask]))
                if "lexical" in parts:
                    evidence["query_lexical_max"] = float(np.max(parts["lexical"][mask]))
                # How many documents the z-scores were taken over: a fused score means more the more
                # documents it stands out from (`evidence.StrengthModel`).
                evidence["searched"] = float(mask.sum())
            results = []
            if only is not None:
                chosen = [self._positions[i] for i in only if i in self._positions]
                top = sorted((p for p in chosen if np.isfinite(scores[p])), key=lambda p: (-scores[p], p))
            else:
                top = list(_top_positions(scores, k))
            for position in top:
                score = float(scores[position])
                if not np.isfinite(score) or (method == "bm25" and score <= 0):
                    continue
                detail = {name: float(values[position]) for name, values in parts.items()}
                detail.update(evidence)
                results.append(Ranked(id=self._ids[position], score=score, parts=detail))
            if method == "hybrid":
                same = self._languages == language_of(language)
                for result in results:
                    result.parts["same_language"] = float(same[self._positions[result.id]])
            if method != "bm25" and results:
                self._add_part_cosines(results, query_vectors)
            return results

    def _add_part_cosines(self, results: list[Ranked], query_vectors: np.ndarray) -> None:
        """For a combined encoder, each part's own whole-text cosine as ``dense_0``, ``dense_1``, ...

        A combined vector is ``[sqrt(w_i) v_i]``: part i's cosine is the product of its blocks over w_i.
        """
        encoder_parts = getattr(self.encoder, "parts", None)
        if not encoder_parts:
            return
        query = document_vector(np.atleast_2d(np.asarray(query_vectors, dtype=np.float32)))
        rows = self._whole[[self._positions[r.id] for r in results]]
        start = 0
        for number, (part, weight) in enumerate(encoder_parts):
            block = slice(start, start + part.dim)
            start += part.dim
            cosines = rows[:, block] @ query[block] / max(weight, 1e-9)
            for result, cosine in zip(results, cosines, strict=True):
                result.parts[f"dense_{number}"] = float(cosine)

    def explain(self, query: str, doc_id: int, language: str = "en", top: int = 3, *,
                query_vectors: np.ndarray | None = None, with_parts: bool = True) -> Explanation:
        """Why `doc_id` matches `query`: the best passage pairs, shared terms and score parts.

        Args:
            query: the query text.
            doc_id: an indexed document id (KeyError otherwise).
            language: the query's language.
            top: how many passage pairs at most.
            query_vectors: the query's vectors if already known (as for `rank`).
            with_parts: also score the document against all documents for `parts`; callers that
                already hold the parts from `rank` pass False (it saves a full scoring pass).

        Returns:
            The explanation; passage pairs best first, each query and document passage used once.
            `parts` are the document's hybrid score parts against all documents (empty without
            `with_parts`).
        """
        with self._lock:
            doc = self._docs[doc_id]
            if query_vectors is None:
                query_vectors = self.encode_query(query)
            query_vectors = np.atleast_2d(np.asarray(query_vectors, dtype=np.float32))
            doc_rows = self.doc_vectors(doc_id)
            pairs = _best_pairs(self._passage_texts(query, len(self._passage_rows(query_vectors))),
                                self._passage_rows(query_vectors),
                                self._passage_texts(doc.text, len(self._passage_rows(doc_rows))),
                                self._passage_rows(doc_rows), top)
            detail: dict[str, float] = {}
            if with_parts:
                mask = np.ones(len(self._ids), dtype=bool)
                _, parts = self._score(query, language, "hybrid", mask, query_vectors)
                position = self._positions[doc_id]
                detail = {name: float(values[position]) for name, values in parts.items()}
            terms = key_terms(query, doc.text, language, doc.language, idf=_IdfLookup(self._lexical, doc.language))
            return Explanation(passage_pairs=pairs, shared_terms=terms, parts=detail)

    def _passage_texts(self, text: str, n_rows: int) -> list[str]:
        parts = self.passages_of(text)
        if len(parts) == n_rows:
            return parts
        return [text] * n_rows  # vectors made with other settings: name the whole text


def _best_pairs(query_texts: list[str], query_rows: np.ndarray, doc_texts: list[str], doc_rows: np.ndarray,
                top: int) -> list[tuple[str, str, float]]:
    """Greedy best (query passage, document passage, cosine) pairs, each passage used once."""
    sims = query_rows @ doc_rows.T
    pairs: list[tuple[str, str, float]] = []
    used_q: set[int] = set()
    used_d: set[int] = set()
    for flat in np.argsort(-sims, axis=None, kind="stable"):
        qi, di = divmod(int(flat), sims.shape[1])
        if qi in used_q or di in used_d:
            continue
        pairs.append((query_texts[qi], doc_texts[di], float(sims[qi, di])))
        used_q.add(qi)
        used_d.add(di)
        if len(pairs) >= top:
            break
    return pairs


def _top_positions(scores: np.ndarray, k: int) -> np.ndarray:
    """Positions of the k highest scores, best first (ties by position)."""
    k = min(k, len(scores))
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    candidates = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
    order = np.lexsort((candidates, -scores[candidates]))
    return candidates[order]
