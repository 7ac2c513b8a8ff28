"""The engine's one facade, `Embeddings`, in the spirit of txtai's `Embeddings`.

A caller indexes documents, changes them (`upsert`, `remove`), searches them within the ids it
allows, asks why one matched (`explain`) and which documents are alike (`similar`,
`similarity`), and saves and loads the part that is costly to rebuild. Behind it sit the
`HybridRanker` (BM25 and dense, fused) and the `VectorIndex` (FAISS) over the same documents;
callers never touch either.

The facade owns the switch from exact to approximate search:

- up to `exact_limit` documents, a search ranks every allowed document exactly;
- above it, the vector index first proposes the `candidates` documents nearest to the query, and
  the ranker fuses lexical and dense evidence over those (and the allowed ids) only.

A document has one vector, `ranking.document_vector` (row 0 of its vectors, the whole text): the
ranker's dense score, the vector index's candidates and `similar` all use it.

Documents and vectors belong to the caller's store (the platform's database is their source of
truth), as in txtai with content storage off: `save` writes the vector index only, and `load`
takes the documents and vectors again, checks the saved index against them and repairs it.
"""
from __future__ import annotations

import logging
import os
import threading
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from . import evidence
from .encoders import Encoder
from .files import replaced_atomically
from .index import Hit, IndexCorrupt, VectorIndex
from .learned import LearnedRanking
from .ranking import Document, Explanation, HybridRanker, Ranked, RankingParams, document_vector

logger = logging.getLogger(__name__)

__all__ = ["DEFAULT_CANDIDATES", "DEFAULT_EXACT_LIMIT", "Embeddings"]

#: Documents ranked exactly before the vector index proposes candidates (bench/results/suggestion.json:
#: exact fusion over 10,000 profiles has p99 7.8 ms on 2 cores; README "Speed and scale").
DEFAULT_EXACT_LIMIT = 20_000
#: Candidates the vector index proposes above the exact limit.
DEFAULT_CANDIDATES = 500
#: Rows compared at a time when `load` checks a saved index against the vectors given.
_COMPARE_CHUNK = 65_536


def _document_vectors(ids: Sequence[int], vectors: Mapping[int, np.ndarray], dim: int) -> np.ndarray:
    """(len(ids), dim) float32: the document vector of each id."""
    if not ids:
        return np.empty((0, dim), dtype=np.float32)
    return np.vstack([document_vector(vectors[i]) for i in ids])


def _rows_paths(path: str | os.PathLike[str]) -> tuple[str, str]:
    base = os.fspath(path)
    return base + ".rows.npy", base + ".ids.npy"


def _save_rows(path: str | os.PathLike[str], ids: np.ndarray, rows: np.ndarray) -> None:
    """Beside a saved vector index: its whole-text rows (with room to grow) and their ids, as .npy
    files a process maps copy-on-write (`load(mapped=True)`); each swapped in with os.replace."""
    rows_path, ids_path = _rows_paths(path)
    spare = np.zeros((len(ids) + len(ids) // 8 + 16, rows.shape[1] if rows.ndim == 2 else 0), dtype=np.float32)
    spare[:len(ids)] = rows
    for target, array in ((rows_path, spare), (ids_path, ids)):
        with replaced_atomically(target) as handle:
            np.save(handle, array)


def _load_rows(path: str | os.PathLike[str], dim: int) -> tuple[np.ndarray, np.ndarray] | None:
    """The rows `_save_rows` wrote, mapped copy-on-write, and their ids; None when unusable."""
    rows_path, ids_path = _rows_paths(path)
    try:
        ids = np.load(ids_path)
        rows = np.load(rows_path, mmap_mode="c")
    except (OSError, ValueError) as exc:
        logger.info("no shared rows beside %s: %s", os.fspath(path), exc)
        return None
    if ids.ndim != 1 or rows.ndim != 2 or rows.shape[1] != dim or len(rows) < len(ids) or rows.dtype != np.float32:
        logger.warning("ignoring the rows beside %s: shape %s for %d ids", os.fspath(path), rows.shape, len(ids))
        return None
    return ids.astype(np.int64, copy=False), rows


class Embeddings:
    """Index, search and explain documents with hybrid ranking; one object per set of documents.

    Thread-safe: `index`, `upsert`, `remove` and `load` hold one lock, so the ranker and the
    vector index change together (`similar` and `similarity` read their vectors under it too);
    searches run under the ranker's and the vector index's own locks (a search during an upsert
    sees the document as it was before or after).

    Args:
        encoder: the sentence encoder.
        params: the ranking parameters (the tuned defaults when None).
        exact_limit: the most documents ranked exactly; above it the vector index proposes
            candidates first.
        candidates: how many candidates the vector index proposes above `exact_limit`.
        index_options: keyword arguments of `VectorIndex` (`approximate_above`, `ef_search`, ...).

    Raises:
        ValueError: `exact_limit` is negative or `candidates` is below 1.
    """

    def __init__(self, encoder: Encoder, params: RankingParams | None = None, *,
                 exact_limit: int = DEFAULT_EXACT_LIMIT, candidates: int = DEFAULT_CANDIDATES,
                 index_options: Mapping[str, Any] | None = None) -> None:
        if exact_limit < 0:
            raise ValueError(f"exact_limit must not be negative, got {exact_limit!r}")
        if candidates < 1:
            raise ValueError(f"candidates must be at least 1, got {candidates!r}")
        self.exact_limit = int(exact_limit)
        self.candidates = int(candidates)
        self._index_options = dict(index_options or {})
        self._ranker = HybridRanker(encoder, params)
        self._vectors = VectorIndex(encoder.dim, **self._index_options)
        self._lock = threading.RLock()
        self._learned: LearnedRanking | None = None

    # ---- what it is ------------------------------------------------------------------------

    @property
    def encoder(self) -> Encoder:
        """The sentence encoder."""
        return self._ranker.encoder

    @property
    def params(self) -> RankingParams:
        """The ranking parameters."""
        return self._ranker.params

    @property
    def learned(self) -> LearnedRanking | None:
        """The learned re-ranking hybrid searches use, or None (`use_learned`)."""
        return self._learned

    def use_learned(self, model: LearnedRanking | None) -> None:
        """Re-rank hybrid searches with `model` from now on (None: the plain hybrid). Vectors are untouched."""
        self._learned = model

    @property
    def engine_id(self) -> str:
        """Encoder id plus vector layout: the key under which to store what `encode` returns."""
        return self._ranker.engine_id

    @property
    def dim(self) -> int:
        """The vector dimension."""
        return self.encoder.dim

    @property
    def approximate(self) -> bool:
        """True when searches start from the vector index's candidates (more than `exact_limit` documents)."""
        return len(self) > self.exact_limit

    def __len__(self) -> int:
        return len(self._ranker)

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._ranker

    def ids(self) -> set[int]:
        """The ids of the indexed documents."""
        return self._ranker.ids()

    def approximate_ids(self) -> set[int]:
        """The ids in the vector index; always equal to `ids()` (exposed for checks)."""
        return self._vectors.ids()

    # ---- vectors ---------------------------------------------------------------------------

    def texts_to_encode(self, text: str) -> list[str]:
        """What a text is encoded as: the whole text, then its passages if there are several."""
        return self._ranker.texts_to_encode(text)

    def encode(self, document: Document) -> np.ndarray:
        """Encode a document as the engine stores it.

        Returns:
            float32 array (1 + n_passages, dim), or (1, dim) for a one-passage text; row 0 is the
            whole text (`document_vector`). Store it under `engine_id`.
        """
        return self._ranker.encode_document(document)

    def encode_query(self, query: str) -> np.ndarray:
        """Encode a query like a document (the last 64 queries are cached)."""
        return self._ranker.encode_query(query)

    def vectors(self, doc_id: int) -> np.ndarray:
        """An indexed document's vectors, as `encode` made them (KeyError when not indexed)."""
        return self._ranker.doc_vectors(doc_id)

    def vector(self, doc_id: int) -> np.ndarray:
        """An indexed document's one vector, `document_vector` of its vectors (KeyError when not indexed)."""
        return document_vector(self._ranker.doc_vectors(doc_id))

    # ---- changes ---------------------------------------------------------------------------

    def index(self, documents: Sequence[Document], vectors: Mapping[int, np.ndarray] | None = None) -> None:
        """Replace every document: the ranker and the vector index are built anew.

        Args:
            documents: the documents, in the order positions are given (ties rank by it).
            vectors: their stored vectors by id (as from `encode`); documents without usable
                ones are encoded, in one batch.
        """
        ready = self._ranker.encode_documents(documents, vectors)
        ids = list(dict.fromkeys(doc.id for doc in documents))
        built = VectorIndex.build(np.asarray(ids, dtype=np.int64), _document_vectors(ids, ready, self.dim),
                                  **self._index_options)
        with self._lock:
            self._ranker.index(documents, ready)
            self._vectors = built

    def upsert(self, documents: Iterable[Document], vectors: Mapping[int, np.ndarray] | None = None) -> None:
        """Add or replace documents.

        Args:
            documents: the documents; one already indexed is replaced.
            vectors: their stored vectors by id (as from `encode`); documents without usable
                ones are encoded, in one batch.
        """
        documents = list(documents)
        if not documents:
            return
        ready = self._ranker.encode_documents(documents, vectors)
        ids = [doc.id for doc in documents]
        with self._lock:
            for doc in documents:
                self._ranker.upsert(doc, ready[doc.id])
            self._vectors.add(np.asarray(ids, dtype=np.int64), _document_vectors(ids, ready, self.dim))

    def remove(self, ids: Iterable[int]) -> int:
        """Remove documents by id; ids not indexed are ignored.

        Returns:
            How many documents were removed.
        """
        ids = list(dict.fromkeys(int(i) for i in ids))
        with self._lock:
            removed = sum(1 for i in ids if i in self._ranker)
            for doc_id in ids:
                self._ranker.remove(doc_id)
            self._vectors.remove(np.asarray(ids, dtype=np.int64))
            return removed

    # ---- questions -------------------------------------------------------------------------

    def scored(self, query: str, language: str, ids: Collection[int], *,
               query_vectors: np.ndarray | None = None) -> list[Ranked]:
        """The hybrid parts of `ids` for a query, normalised over the same documents as a search
        would (every document, or above `exact_limit` the index's candidates plus `ids`), best first.

        What `embeddings.learned.feature_rows` needs for decisions made on these documents, wherever
        they rank; ids not indexed are left out.
        """
        wanted = [i for i in ids if i in self._ranker]
        if not wanted:
            return []
        allowed: set[int] | None = None
        if self.approximate:
            if query_vectors is None:
                query_vectors = self._ranker.encode_query(query)
            hits = self._vectors.search_one(document_vector(query_vectors), self.candidates)
            allowed = {hit.id for hit in hits} | set(wanted)
        return self._ranker.rank(query, language, len(wanted), method="hybrid", allowed=allowed,
                                 query_vectors=query_vectors, only=wanted)

    def search(self, query: str, language: str = "en", k: int = 10, *, allowed: Collection[int] | None = None,
               method: str = "hybrid", query_vectors: np.ndarray | None = None) -> list[Ranked]:
        """Rank the documents for a query, within `allowed`.

        Up to `exact_limit` documents every allowed one is ranked. Above it (methods "dense" and
        "hybrid") the vector index proposes the `candidates` documents whose vector is nearest to
        the query's, and only those that are also allowed are ranked. With a learned model
        (`use_learned`), a hybrid search returns the model's order of the hybrid's best `depth`.

        Args:
            query: the query text, in any language.
            language: the query's language ("nl", "fr", "en").
            k: how many results at most.
            allowed: if given, only these ids can be returned (filtered before ranking).
            method: "bm25", "dense" or "hybrid".
            query_vectors: the query's vectors if already known (as from `encode_query`, or a
                document's `vectors` to find what is like it).

        Returns:
            Up to k results, best first, with the parts of each score.

        Raises:
            ValueError: unknown method.
        """
        if method != "bm25" and self.approximate:
            if query_vectors is None:
                query_vectors = self._ranker.encode_query(query)
            hits = self._vectors.search_one(document_vector(query_vectors), self.candidates)
            proposed = {hit.id for hit in hits}
            # Only the candidates are checked against `allowed`: no set the size of the platform.
            allowed = proposed if allowed is None else {i for i in proposed if i in allowed}
        learned = self._learned if method == "hybrid" else None
        if learned is None:
            return self._ranker.rank(query, language, k, method=method, allowed=allowed, query_vectors=query_vectors)
        results = self._ranker.rank(query, language, max(k, learned.depth), method=method, allowed=allowed,
                                    query_vectors=query_vectors)
        return learned.rerank(results, query, k)

    def explain(self, query: str, doc_id: int, language: str = "en", top: int = 3, *,
                query_vectors: np.ndarray | None = None, with_parts: bool = True) -> Explanation:
        """Why `doc_id` matches `query`: the best passage pairs, shared key terms and score parts.

        Args:
            query: the query text.
            doc_id: an indexed document id (KeyError otherwise).
            language: the query's language.
            top: how many passage pairs at most.
            query_vectors: the query's vectors if already known (as for `search`).
            with_parts: also score the document against all documents for `parts`; pass False
                when the parts from `search` are at hand (it saves a scoring pass).

        Returns:
            The explanation; passage pairs best first, each passage used once.
        """
        return self._ranker.explain(query, doc_id, language, top, query_vectors=query_vectors,
                                    with_parts=with_parts)

    def similar(self, doc_id: int, k: int = 10, *, allowed: Collection[int] | None = None,
                threshold: float | None = None) -> list[Hit]:
        """The documents most like an indexed one: cosine of their document vectors, exact.

        Args:
            doc_id: an indexed document id (KeyError otherwise).
            k: how many at most.
            allowed: if given, only these ids are compared (ids not indexed are ignored).
            threshold: if given, the lowest cosine returned.

        Returns:
            Up to k hits, most similar first (ties by id); never `doc_id` itself.
        """
        with self._lock:  # no change between choosing the ids and reading their vectors
            own = self.vector(doc_id)
            pool = self.ids() if allowed is None else {i for i in allowed if i in self._ranker}
            pool.discard(doc_id)
            ids = sorted(pool)
            if not ids or k <= 0:
                return []
            matrix = self._ranker.whole_vectors(ids)
        scores = matrix @ own
        order = [int(i) for i in np.argsort(-scores, kind="stable") if threshold is None or scores[i] >= threshold]
        return [Hit(ids[i], float(scores[i])) for i in order[:k]]

    def similarity(self, ids: Sequence[int]) -> np.ndarray:
        """The cosine of every pair of indexed documents' vectors.

        Args:
            ids: indexed document ids (KeyError otherwise).

        Returns:
            float32 array (len(ids), len(ids)), in the order of `ids`.
        """
        if not ids:
            return np.zeros((0, 0), dtype=np.float32)
        matrix = self._ranker.whole_vectors(ids)
        return np.asarray(matrix @ matrix.T, dtype=np.float32)

    # ---- save and load ---------------------------------------------------------------------

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the vector index to `path`, crash-safely (temporary file, fsync, `os.replace`).

        The documents and their vectors are not written: they belong to the caller's store, and
        `load` takes them again.

        Raises:
            OSError: the file cannot be written.
        """
        self._vectors.save(path)

    @staticmethod
    def save_vectors(path: str | os.PathLike[str], vectors: Mapping[int, np.ndarray], dim: int,
                     index_options: Mapping[str, Any] | None = None) -> int:
        """Write the file `save` would write for an engine holding these vectors, without indexing texts.

        For a process that only writes snapshots (a command line run), which needs no ranker.

        Args:
            path: destination file.
            vectors: stored vectors by document id (as from `encode`).
            dim: the vector dimension.
            index_options: keyword arguments of `VectorIndex`.

        Returns:
            How many documents the file holds.

        Raises:
            OSError: the file cannot be written.
        """
        ids = sorted(vectors)
        rows = _document_vectors(ids, vectors, dim)
        index = VectorIndex.build(np.asarray(ids, dtype=np.int64), rows, **dict(index_options or {}))
        index.save(path)
        _save_rows(path, np.asarray(ids, dtype=np.int64), rows)
        return len(index)

    def load(self, path: str | os.PathLike[str], documents: Sequence[Document],
             vectors: Mapping[int, np.ndarray] | None = None, *, mapped: bool = False) -> None:
        """Replace every document as `index` does, taking the vector index from a file `save` wrote.

        The saved index is checked against the documents' vectors and repaired: documents it
        lacks or holds with another vector are added, ids that are not among `documents` are
        removed; when more than half disagree it is built anew. The saved index keeps the
        `VectorIndex` options it was saved with.

        Args:
            path: a file written by `save` or `save_vectors`.
            documents: the documents, as for `index`.
            vectors: their stored vectors by id, as for `index`.
            mapped: memory-map the saved vectors (shared with every process that maps the same
                snapshot); later changes are kept beside them (`VectorIndex.load`).

        Raises:
            IndexCorrupt: the file cannot be used (missing, damaged, another dimension); the
                engine is unchanged.
        """
        saved = VectorIndex.load(path, mapped=mapped)
        if saved.dim != self.dim:
            raise IndexCorrupt(f"{os.fspath(path)!r} holds vectors of dimension {saved.dim}, not {self.dim}")
        ready = self._ranker.encode_documents(documents, vectors)
        ids = list(dict.fromkeys(doc.id for doc in documents))
        rows = _document_vectors(ids, ready, self.dim)
        saved = self._repaired(saved, ids, rows, os.fspath(path))
        shared = _load_rows(path, self.dim) if mapped else None
        with self._lock:
            if shared is None:
                self._ranker.index(documents, ready)
            else:
                self._index_on_rows(documents, ready, *shared)
            self._vectors = saved

    def _index_on_rows(self, documents: Sequence[Document], ready: dict[int, np.ndarray],
                       file_ids: np.ndarray, rows: np.ndarray) -> None:
        """Index with the ranker's rows in a snapshot's mapped rows: the documents in the file's order,
        so every unchanged row is the one already there (and stays a shared page)."""
        by_id = {doc.id: doc for doc in documents}
        in_file = file_ids.tolist()
        gone = [i for i in in_file if i not in by_id]  # removed since the snapshot: placeholders
        ordered = [by_id.get(i) or Document(i, "", "en") for i in in_file]
        known = set(in_file)
        ordered += [doc for doc in documents if doc.id not in known]
        given = dict(ready)
        given.update((i, rows[n][None, :]) for n, i in enumerate(in_file) if i not in by_id)
        self._ranker.index(ordered, given, rows=rows)
        for doc_id in gone:
            self._ranker.remove(doc_id)

    @staticmethod
    def read_snapshot(path: str | os.PathLike[str], *, mapped: bool = True) -> VectorIndex:
        """Read a newer snapshot of the vector index for `swap_snapshot` (slow part, no lock held).

        Raises:
            IndexCorrupt: the file cannot be used.
        """
        return VectorIndex.load(path, mapped=mapped)

    def swap_snapshot(self, fresh: VectorIndex, changed: Iterable[int]) -> None:
        """Search the vector index `fresh` from now on (atomically), brought up to date first.

        Args:
            fresh: from `read_snapshot`.
            changed: every id whose vector may have changed since the snapshot was written; each
                gets this engine's current vector, or is removed when it is no longer indexed.

        Raises:
            IndexCorrupt: `fresh` holds vectors of another dimension.
        """
        if fresh.dim != self.dim:
            raise IndexCorrupt(f"the snapshot holds vectors of dimension {fresh.dim}, not {self.dim}")
        with self._lock:
            changed = list(dict.fromkeys(int(i) for i in changed))
            gone = [i for i in changed if i not in self._ranker]
            kept = [i for i in changed if i in self._ranker]
            if gone:
                fresh.remove(np.asarray(gone, dtype=np.int64))
            if kept:
                fresh.add(np.asarray(kept, dtype=np.int64), self._ranker.whole_vectors(kept))
            self._vectors = fresh
        logger.info("vector index swapped: %d documents, %d changed since its snapshot", len(fresh), len(changed))

    @property
    def vector_index_mapped(self) -> bool:
        """True when the vector index is memory-mapped from a snapshot (shared with other processes)."""
        return self._vectors.is_mapped

    def is_thin(self, results: Sequence[Ranked]) -> bool:
        """True when `results` of a search show no real evidence for its query (`evidence.is_thin`)."""
        return evidence.is_thin(results, self.encoder.id)

    def strength(self, parts: Mapping[str, float]) -> evidence.Strength | None:
        """How strong a result is, from its raw parts (`evidence.strength`); None when not measured."""
        return evidence.strength(parts, self.encoder.id)

    @property
    def rows_shared(self) -> bool:
        """True when the ranker's rows lie in a snapshot's memory-mapped file (copy-on-write)."""
        return self._ranker.rows_mapped

    def _repaired(self, saved: VectorIndex, ids: list[int], rows: np.ndarray, path: str) -> VectorIndex:
        """`saved` with exactly `ids` -> `rows`; built anew when more than half disagree."""
        held = saved.ids()
        extra = held - set(ids)
        stale: list[int] = []
        for start in range(0, len(ids), _COMPARE_CHUNK):
            chunk = ids[start:start + _COMPARE_CHUNK]
            present = [n for n, doc_id in enumerate(chunk) if doc_id in held]
            stale += [doc_id for n, doc_id in enumerate(chunk) if doc_id not in held]
            if present:
                ours = rows[start:start + _COMPARE_CHUNK][present]
                theirs = saved.vectors([chunk[n] for n in present])
                stale += [chunk[present[n]] for n in np.flatnonzero(~(ours == theirs).all(axis=1)).tolist()]
        if len(extra) + len(stale) > len(ids) // 2 and extra | set(stale):
            logger.warning("vector index %s disagrees with the documents (%d stale, %d extra of %d); rebuilding",
                           path, len(stale), len(extra), len(ids))
            return VectorIndex.build(np.asarray(ids, dtype=np.int64), rows, **self._index_options)
        if extra:
            saved.remove(np.asarray(sorted(extra), dtype=np.int64))
        if stale:
            position = {doc_id: n for n, doc_id in enumerate(ids)}
            saved.add(np.asarray(stale, dtype=np.int64), rows[[position[i] for i in stale]])
        logger.info("vector index %s loaded: %d documents, %d repaired, %d removed", path, len(ids), len(stale),
                    len(extra))
        return saved

    def __repr__(self) -> str:
        mode = "approximate" if self.approximate else "exact"
        return f"<Embeddings {self.engine_id} n={len(self)} {mode}>"
