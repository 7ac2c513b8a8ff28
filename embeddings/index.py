"""Vector index of the matching engine: FAISS keyed by database ids.

The index is a per-process cache of the vectors stored in the database (the database is the source of
truth; see DESIGN.md, "The matching engine"). It holds L2-normalised ``float32`` vectors under their
database primary keys, in an ``IndexIDMap2`` so the ids come back from FAISS directly, and scores by
inner product, which on normalised vectors is cosine similarity.

Two layouts, chosen by size:

- exact: ``IDMap2,Flat`` with ``METRIC_INNER_PRODUCT``, up to ``approximate_above`` vectors;
- approximate: ``IDMap2,HNSW{m},Flat`` (``index_factory``, ``METRIC_INNER_PRODUCT``) above it.

FAISS' HNSW cannot remove vectors, so the approximate layout removes by tombstone: the graph keeps the
node, its position is dropped from an ``IDSelectorBitmap`` passed to every search (the graph is still
walked through the dead node, it is only never returned), and the index is rebuilt from the live
vectors once tombstones exceed ``max_deleted_fraction`` of the stored nodes. An upsert of an id in the
approximate layout is a tombstone plus an add.

Shared between processes (``load(path, mapped=True)``): the FAISS part of a snapshot is extracted once
per host into a plain FAISS file named by the snapshot's checksum, and every process memory-maps it
(``IO_FLAG_MMAP_IFC``), so the operating system holds its vectors once for all of them. A mapped index
is never written: a change tombstones the id in the mapped base and keeps its new vector in a small
in-process delta that is searched exactly beside it, until the process swaps in a newer snapshot.

The defaults (``DEFAULT_APPROXIMATE_ABOVE``, ``DEFAULT_EF_SEARCH``, ``DEFAULT_EF_CONSTRUCTION``) come from
``python -m bench.index_bench`` on the 2-core development machine; the ``VectorIndex`` docstring gives
the figures and ``bench/results/index.json`` the whole run.
"""
from __future__ import annotations

import contextlib
import json
import logging
import os
import struct
import threading
import time
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any

import numpy as np

from .files import replaced_atomically

try:  # FAISS is imported conditionally so that the error says what to install (CONVENTIONS.md 14).
    import faiss
except ImportError:  # pragma: no cover - exercised only where faiss-cpu is missing
    faiss = None

logger = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_APPROXIMATE_ABOVE",
    "DEFAULT_EF_SEARCH",
    "Hit",
    "IndexCorrupt",
    "VectorIndex",
    "configure_threads",
]

# Measured with bench/index_bench.py (dim 512, clustered synthetic vectors, 2 cores, k=10, one query at
# a time; bench/results/index.json). The VectorIndex docstring gives the figures behind each of them.
DEFAULT_APPROXIMATE_ABOVE = 10_000
DEFAULT_EF_SEARCH = 128
DEFAULT_HNSW_M = 32
DEFAULT_EF_CONSTRUCTION = 80
DEFAULT_MAX_DELETED_FRACTION = 0.25

_MAGIC = b"PTVIDX\x00\x01"  # file start: format 1
_END_MAGIC = b"PTVIDXOK"  # file end: the writer got to the footer
_FOOTER = struct.Struct("<QQI8s")  # faiss payload length, tombstone payload length, crc32, end magic
_HEADER_LEN = struct.Struct("<I")
_READ_CHUNK = 1 << 22
_MAPPED_SUFFIX = ".mmap"  # "<snapshot>.<crc32 hex>.mmap": the FAISS part of a snapshot, for memory mapping

_faiss_ready = False
_BUILD_CHUNK = 100_000  # rows per add_with_ids call when building, so long builds log their progress


@contextlib.contextmanager
def _exclusive(lock_path: str) -> Iterator[None]:
    """Hold an exclusive advisory lock on `lock_path` (created if missing) between processes."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: no lock
        yield
        return
    with open(lock_path, "a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def configure_threads(n: int | None = None) -> int:
    """Set how many OpenMP threads FAISS uses in this process.

    By default FAISS uses every CPU this process may run on. Single-query searches gain little from
    more threads, and where several worker processes share a few cores, threads fighting over the cores
    can make a FAISS call far slower than one thread (see the ``threads`` figures in
    ``bench/results/index.json``): a deployment may want ``configure_threads(1)`` per worker.

    Args:
        n: Thread count; ``None`` means the CPUs in this process's affinity mask.

    Returns:
        The thread count now in force.

    Raises:
        ImportError: FAISS is not installed.
        ValueError: ``n`` is not a positive integer.
    """
    global _faiss_ready
    if faiss is None:
        raise ImportError(
            "The vector index needs FAISS, which is not installed. Install the CPU build with "
            "`pip install faiss-cpu` (it is pinned in requirements.txt)."
        )
    if n is None:
        try:
            n = len(os.sched_getaffinity(0))
        except AttributeError:  # pragma: no cover - not Linux
            n = os.cpu_count() or 1
    n = _positive_int("n", n)
    faiss.omp_set_num_threads(n)
    _faiss_ready = True
    return n


def _faiss() -> Any:
    """Return the ``faiss`` module, its thread count set on first use (``configure_threads``).

    Raises:
        ImportError: FAISS is not installed.
    """
    if not _faiss_ready:
        configure_threads()
    return faiss


def _positive_int(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


@dataclass(frozen=True)
class Hit:
    """One search result.

    Attributes:
        id: The database id the vector was added under.
        score: Inner product of the query and the stored vector; cosine similarity for L2-normalised vectors.
    """

    id: int
    score: float


class IndexCorrupt(Exception):
    """A snapshot on disk cannot be used: missing, truncated, not an index file, or inconsistent.

    The index is a cache, so the remedy is always a rebuild from the vectors in the database.
    """


class _RWLock:
    """A writer-preferring readers-writer lock built on one ``threading.Lock``.

    FAISS CPU indexes may be searched from several threads at once (searches release the GIL) but not
    mutated during a search. Readers share the lock, a writer has it alone, and a waiting writer holds
    back new readers so a steady stream of searches cannot starve it. Not re-entrant: a holder must not
    acquire it again.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._readers = 0
        self._writer = False
        self._writers_waiting = 0

    @contextlib.contextmanager
    def read(self) -> Iterator[None]:
        """Hold the lock shared for the duration of the ``with`` block."""
        with self._cond:
            while self._writer or self._writers_waiting:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                if not self._readers:
                    self._cond.notify_all()

    @contextlib.contextmanager
    def write(self) -> Iterator[None]:
        """Hold the lock exclusively for the duration of the ``with`` block."""
        with self._cond:
            self._writers_waiting += 1
            try:
                while self._writer or self._readers:
                    self._cond.wait()
            finally:
                self._writers_waiting -= 1
            self._writer = True
        try:
            yield
        finally:
            with self._cond:
                self._writer = False
                self._cond.notify_all()


class VectorIndex:
    """FAISS index keyed by database ids (``IndexIDMap2``), scored by inner product.

    Exact (``Flat``, inner product) up to ``approximate_above`` vectors, approximate (HNSW via
    ``index_factory``, inner product) above it. ``build`` picks the layout by size; ``add`` switches an
    exact index to HNSW (a rebuild from the stored vectors, logged) when it grows past the threshold; a
    compaction rebuild of an approximate index that has shrunk to the threshold or below goes back to
    exact. Vectors are expected L2-normalised (``Encoder.encode`` guarantees it), so scores are cosines.

    Defaults, measured by ``python -m bench.index_bench`` (bench/results/index.json: dim 512, synthetic
    vectors in 2,000 clusters, 2 shared cores, k=10, one query at a time, recall@10 against exact search):

    - ``approximate_above=10_000``: the crossover. Up to 5k exact search is as fast as HNSW (p50 0.20 ms
      against 0.25 ms) and exact; at 10k exact p99 first exceeds HNSW p99 (1.37 ms against 0.54 ms with
      FAISS on 2 threads; 0.58 against 0.55 ms on one), and from there exact grows linearly while HNSW
      stays near 1 ms: exact p50 on one thread is 1.6 ms at 20k, 6.5 ms at 50k, 9.1 ms at 100k and 66 ms
      at 1M (p99 92 ms; 152 ms on 2 threads), HNSW p99 is 1.3 ms at 50k and 100k and 1.4 ms at 1M.
      Crossing the threshold costs one HNSW build of the live set: 1.4 s at 10k, 11 s at 20k, 31 s at 50k.
    - ``ef_search=128``: recall@10 1.000 at 100k and 0.9985 at 1M with p99 1.3 and 1.4 ms. At 1M,
      ``efSearch=64`` gave 0.973 and 32 gave 0.856 (the smallest value meeting 0.95 is 64 at 1M, 16 at
      100k); 128 is the smallest with a margin at every size measured, at about 1 ms.
    - ``ef_construction=80``, ``hnsw_m=32``: with FAISS' default ``efConstruction=40`` (two runs of the
      benchmark at 1M with ``--ef-construction 40``, not in index.json) the 1M graph reached only
      recall@10 0.74-0.78 at ``efSearch=64``, 0.87 at 128 and 0.959 at 1024 (p99 30 ms); with
      ``efConstruction=80`` it is 0.973 / 0.9985 at 64 / 128. The cost: the 1M build took 377 s on 2
      cores (682 s when the machine was busier; 309-368 s with 40), inside the 15 minutes allowed.
    - Memory: the serialised HNSW32 index is 2.33 GB at 1M (Flat: 2.06 GB), i.e. 4 bytes per dimension
      plus about 270 bytes of graph per vector; the id maps in Python add about 100 bytes per vector.

    Thread safety: searches share a readers-writer lock and run concurrently; ``add``, ``remove`` and
    rebuilds hold it exclusively. A rebuild (the exact-to-HNSW switch, a compaction) blocks searches
    while it runs; run large rebuilds from a CLI command or a job, never in a request.

    Args:
        dim: Vector dimension.
        approximate_above: Largest number of vectors kept in the exact layout.
        hnsw_m: Neighbours per HNSW node (``HNSW{m}`` in the factory string).
        ef_search: HNSW ``efSearch`` (raised to ``k`` when ``k`` is larger).
        ef_construction: HNSW ``efConstruction``.
        max_deleted_fraction: Tombstone share of stored HNSW nodes that triggers a compaction rebuild.

    Raises:
        ValueError: A parameter is out of range.
        ImportError: FAISS is not installed.
    """

    def __init__(
        self,
        dim: int,
        *,
        approximate_above: int = DEFAULT_APPROXIMATE_ABOVE,
        hnsw_m: int = DEFAULT_HNSW_M,
        ef_search: int = DEFAULT_EF_SEARCH,
        ef_construction: int = DEFAULT_EF_CONSTRUCTION,
        max_deleted_fraction: float = DEFAULT_MAX_DELETED_FRACTION,
    ) -> None:
        self._faiss = _faiss()
        self._dim = _positive_int("dim", dim)
        if (
            isinstance(approximate_above, bool)
            or not isinstance(approximate_above, int | np.integer)
            or approximate_above < 0
        ):
            raise ValueError(f"approximate_above must be a non-negative integer, got {approximate_above!r}")
        self._approximate_above = int(approximate_above)
        self._hnsw_m = _positive_int("hnsw_m", hnsw_m)
        self._ef_search = _positive_int("ef_search", ef_search)
        self._ef_construction = _positive_int("ef_construction", ef_construction)
        if not 0.0 < float(max_deleted_fraction) < 1.0:
            raise ValueError(f"max_deleted_fraction must lie strictly between 0 and 1, got {max_deleted_fraction!r}")
        self._max_deleted_fraction = float(max_deleted_fraction)
        self._lock = _RWLock()
        self._set_index(self._new_faiss_index(approximate=False), np.empty(0, dtype=np.int64))

    # ----------------------------------------------------------------------------------------------- state

    def _new_faiss_index(self, *, approximate: bool) -> Any:
        spec = f"IDMap2,HNSW{self._hnsw_m},Flat" if approximate else "IDMap2,Flat"
        index = self._faiss.index_factory(self._dim, spec, self._faiss.METRIC_INNER_PRODUCT)
        if approximate:
            hnsw = self._faiss.downcast_index(index.index).hnsw
            hnsw.efConstruction = self._ef_construction
            hnsw.efSearch = self._ef_search
        return index

    def _set_index(self, index: Any, labels: np.ndarray) -> None:
        """Install ``index``; ``labels`` maps each stored position to its id, -1 for a tombstone."""
        self._index = index
        self._inner = self._faiss.downcast_index(index.index)
        self._approximate = isinstance(self._inner, self._faiss.IndexHNSW)
        self._labels = labels
        live = np.flatnonzero(labels >= 0)
        self._pos: dict[int, int] = dict(zip(labels[live].tolist(), live.tolist(), strict=True))
        self._n_dead = int(labels.size - live.size)
        self._selector: tuple[np.ndarray, Any] | None = None
        self._mapped = False
        self._clear_delta()

    def _clear_delta(self) -> None:
        """No delta: every vector is in the FAISS index."""
        self._delta_ids: list[int] = []  # delta row -> id
        self._delta_pos: dict[int, int] = {}  # id -> delta row
        self._delta_x = np.empty((0, self._dim), dtype=np.float32)

    def _delta_put(self, ids: np.ndarray, x: np.ndarray) -> None:
        """Write vectors into the delta (a mapped index): replace an id's row or append one."""
        for i, row in zip(ids.tolist(), x, strict=True):
            at = self._delta_pos.get(i)
            if at is None:
                at = len(self._delta_ids)
                if at == len(self._delta_x):
                    grown = np.empty((max(64, 2 * at), self._dim), dtype=np.float32)
                    grown[:at] = self._delta_x
                    self._delta_x = grown
                self._delta_ids.append(i)
                self._delta_pos[i] = at
            self._delta_x[at] = row

    def _delta_drop(self, ids: list[int]) -> None:
        """Remove ids from the delta; the last row moves into a freed one."""
        for i in ids:
            at = self._delta_pos.pop(i)
            last = len(self._delta_ids) - 1
            if at != last:
                moved = self._delta_ids[last]
                self._delta_x[at] = self._delta_x[last]
                self._delta_ids[at] = moved
                self._delta_pos[moved] = at
            self._delta_ids.pop()

    # ------------------------------------------------------------------------------------------ validation

    def _as_ids(self, ids: Sequence[int] | np.ndarray) -> np.ndarray:
        arr = np.asarray(ids)
        if arr.size == 0:
            return np.empty(0, dtype=np.int64)
        if arr.ndim != 1:
            raise ValueError(f"ids must be one-dimensional, got shape {arr.shape}")
        if arr.dtype.kind not in "iu":
            raise ValueError(f"ids must be integers, got dtype {arr.dtype}")
        if arr.dtype.kind == "u" and arr.max() > np.iinfo(np.int64).max:
            raise ValueError("ids must fit in a signed 64-bit integer")
        arr = arr.astype(np.int64, copy=False)
        if arr.min() < 0:
            raise ValueError("ids must be non-negative (FAISS uses -1 for 'no result')")
        return np.ascontiguousarray(arr)

    def _as_matrix(self, vectors: np.ndarray, what: str) -> np.ndarray:
        x = np.asarray(vectors)
        if x.ndim != 2 or x.shape[1] != self._dim:
            raise ValueError(f"{what} must have shape (n, {self._dim}), got {x.shape}")
        if x.dtype.kind not in "fiu":
            raise ValueError(f"{what} must be numeric, got dtype {x.dtype}")
        x = np.ascontiguousarray(x, dtype=np.float32)
        for start in range(0, x.shape[0], _BUILD_CHUNK):  # in chunks: no full-size boolean temporary
            if not np.isfinite(x[start : start + _BUILD_CHUNK]).all():
                raise ValueError(f"{what} contain NaN or infinite values")
        return x

    def _as_batch(self, ids: Sequence[int] | np.ndarray, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        id_arr = self._as_ids(ids)
        x = self._as_matrix(vectors, "vectors")
        if id_arr.shape[0] != x.shape[0]:
            raise ValueError(f"got {id_arr.shape[0]} ids for {x.shape[0]} vectors")
        if id_arr.size and np.unique(id_arr).size != id_arr.size:
            # Upsert semantics inside one batch as well: the last vector given for an id wins.
            _, first_in_reversed = np.unique(id_arr[::-1], return_index=True)
            keep = np.sort(id_arr.size - 1 - first_in_reversed)
            id_arr, x = id_arr[keep], x[keep]
        return id_arr, x

    # ------------------------------------------------------------------------------------------- mutation

    @classmethod
    def build(cls, ids: Sequence[int] | np.ndarray, vectors: np.ndarray, **kw: Any) -> VectorIndex:
        """Build an index in bulk, exact or approximate according to the number of vectors.

        Args:
            ids: Database ids, one per row of ``vectors``; a repeated id keeps its last vector.
            vectors: ``(n, dim)`` array of L2-normalised vectors; ``dim`` is taken from it.
            **kw: Keyword arguments of ``VectorIndex`` (``approximate_above``, ``hnsw_m``, ...).

        Returns:
            The new index.

        Raises:
            ValueError: The shapes or ids are invalid.
        """
        x = np.asarray(vectors)
        if x.ndim != 2 or x.shape[1] < 1:
            raise ValueError(f"vectors must have shape (n, dim), got {x.shape}")
        index = cls(int(x.shape[1]), **kw)
        id_arr, x = index._as_batch(ids, x)
        with index._lock.write():
            index._rebuild_from(id_arr, x)
        return index

    def add(self, ids: Sequence[int] | np.ndarray, vectors: np.ndarray) -> None:
        """Add or replace vectors (upsert): an id already present is replaced, never stored twice.

        Args:
            ids: Database ids, one per row of ``vectors``; a repeated id keeps its last vector.
            vectors: ``(n, dim)`` array of L2-normalised vectors.

        Raises:
            ValueError: The shapes or ids are invalid.
        """
        id_arr, x = self._as_batch(ids, vectors)
        if not id_arr.size:
            return
        with self._lock.write():
            present = [i for i in id_arr.tolist() if i in self._pos]
            if self._mapped:  # the mapped base is read-only: tombstone there, keep the vector in the delta
                if present:
                    self._tombstone(present)
                self._delta_put(id_arr, x)
                return
            if not self._approximate:
                if present:
                    self._remove_exact(present)
                if len(self._pos) + id_arr.size > self._approximate_above:
                    logger.info(
                        "vector index grows past %d vectors: switching to HNSW%d", self._approximate_above, self._hnsw_m
                    )
                    live_ids, live_x = self._live_vectors()
                    self._rebuild_from(np.concatenate([live_ids, id_arr]), np.concatenate([live_x, x]))
                    return
            elif present:
                self._tombstone(present)
            start = self._labels.size
            self._index.add_with_ids(x, id_arr)
            self._labels = np.concatenate([self._labels, id_arr])
            self._pos.update(zip(id_arr.tolist(), range(start, start + id_arr.size), strict=True))
            self._selector = None
            self._maybe_compact()

    def remove(self, ids: Sequence[int] | np.ndarray) -> int:
        """Remove vectors by id; ids not in the index are ignored.

        Args:
            ids: Database ids.

        Returns:
            How many vectors were removed.

        Raises:
            ValueError: The ids are invalid.
        """
        id_arr = self._as_ids(ids)
        with self._lock.write():
            unique = list(dict.fromkeys(id_arr.tolist()))
            present = [i for i in unique if i in self._pos]
            if self._mapped:
                in_delta = [i for i in unique if i in self._delta_pos]
                self._delta_drop(in_delta)
                if present:
                    self._tombstone(present)
                return len(present) + len(in_delta)
            if not present:
                return 0
            if self._approximate:
                self._tombstone(present)
                self._maybe_compact()
            else:
                self._remove_exact(present)
            return len(present)

    def rebuild(self) -> None:
        """Rebuild from the live vectors: drops tombstones and re-chooses exact or approximate by size."""
        with self._lock.write():
            self._rebuild_from(*self._live_vectors())

    def _remove_exact(self, ids: list[int]) -> None:
        removed = self._index.remove_ids(self._faiss.IDSelectorBatch(np.asarray(ids, dtype=np.int64)))
        if removed != len(ids):  # pragma: no cover - would mean _pos and FAISS disagree
            raise RuntimeError(f"FAISS removed {removed} vectors, expected {len(ids)}")
        self._set_index(self._index, self._faiss.vector_to_array(self._index.id_map).astype(np.int64, copy=False))

    def _tombstone(self, ids: list[int]) -> None:
        positions = np.fromiter((self._pos.pop(i) for i in ids), dtype=np.int64, count=len(ids))
        self._labels[positions] = -1  # a search translating concurrently at worst drops a just-removed id
        self._n_dead += positions.size
        self._selector = None

    def _maybe_compact(self) -> None:
        if not self._approximate or not self._n_dead:
            return
        if not self._pos or self._n_dead > self._max_deleted_fraction * self._labels.size:
            logger.info(
                "vector index compaction: %d tombstones among %d stored vectors", self._n_dead, self._labels.size
            )
            self._rebuild_from(*self._live_vectors())

    def _live_vectors(self) -> tuple[np.ndarray, np.ndarray]:
        positions = np.flatnonzero(self._labels >= 0)
        delta_ids = np.asarray(self._delta_ids, dtype=np.int64)
        delta_x = self._delta_x[:len(self._delta_ids)]
        if not positions.size:
            return delta_ids, delta_x.copy()
        base = self._labels[positions], self._inner.reconstruct_batch(positions)
        if not delta_ids.size:
            return base
        return np.concatenate([base[0], delta_ids]), np.concatenate([base[1], delta_x])

    def _rebuild_from(self, ids: np.ndarray, x: np.ndarray) -> None:
        approximate = ids.size > self._approximate_above
        started = time.perf_counter()
        index = self._new_faiss_index(approximate=approximate)
        for start in range(0, ids.size, _BUILD_CHUNK):
            stop = min(start + _BUILD_CHUNK, ids.size)
            index.add_with_ids(x[start:stop], ids[start:stop])
            if approximate and ids.size > _BUILD_CHUNK:
                logger.info("HNSW build: %d/%d vectors, %.0f s", stop, ids.size, time.perf_counter() - started)
        self._set_index(index, ids.copy())
        if approximate:
            logger.info(
                "built HNSW%d index of %d vectors in %.1f s", self._hnsw_m, ids.size, time.perf_counter() - started
            )

    # ---------------------------------------------------------------------------------------------- search

    def search(self, vectors: np.ndarray, k: int) -> list[list[Hit]]:
        """Find the ``k`` nearest stored vectors by inner product for each query row.

        Args:
            vectors: ``(nq, dim)`` array of L2-normalised query vectors.
            k: Number of hits per query; fewer come back when the index holds fewer vectors.

        Returns:
            One list per query row, best (highest score) first; removed ids are never returned.

        Raises:
            ValueError: The shape or ``k`` is invalid.
        """
        k = _positive_int("k", k)
        x = self._as_matrix(vectors, "query vectors")
        with self._lock.read():
            n_live = len(self._pos)
            if not n_live or not x.shape[0]:
                return [[] for _ in range(x.shape[0])]
            kk = min(k, n_live)
            params = None
            # The (bitmap, selector) pair stays referenced here for the whole search: SWIG's
            # `params.sel` does not keep it alive, and a concurrent search may replace the cache.
            live = self._live_selector() if self._n_dead else None
            if self._approximate:
                params = self._faiss.SearchParametersHNSW()
                params.efSearch = max(self._ef_search, kk)
                if live is not None:
                    params.sel = live[1]
            elif live is not None:  # a mapped exact base: tombstones instead of removals
                params = self._faiss.SearchParameters()
                params.sel = live[1]
            scores, positions = self._inner.search(x, kk, params=params)
            del live
            labels = self._labels
            ids = np.where(positions >= 0, labels[np.maximum(positions, 0)], -1)
            if self._delta_ids:
                scores, ids = self._with_delta(x, scores, ids, kk)
        return [
            [Hit(int(i), float(s)) for i, s in zip(row_ids.tolist(), row_scores.tolist(), strict=True) if i >= 0]
            for row_ids, row_scores in zip(ids, scores, strict=True)
        ]

    def _with_delta(self, x: np.ndarray, scores: np.ndarray, ids: np.ndarray,
                    k: int) -> tuple[np.ndarray, np.ndarray]:
        """The best k of the base's hits and the delta's rows (scored exactly), per query row."""
        delta_scores = x @ self._delta_x[:len(self._delta_ids)].T
        all_scores = np.concatenate([np.where(ids >= 0, scores, -np.inf), delta_scores], axis=1)
        all_ids = np.concatenate([ids, np.broadcast_to(np.asarray(self._delta_ids, dtype=np.int64),
                                                       delta_scores.shape)], axis=1)
        order = np.argsort(-all_scores, axis=1, kind="stable")[:, :k]
        best_scores = np.take_along_axis(all_scores, order, axis=1)
        best_ids = np.where(np.isfinite(best_scores), np.take_along_axis(all_ids, order, axis=1), -1)
        return best_scores.astype(np.float32), best_ids

    def _live_selector(self) -> tuple[np.ndarray, Any]:
        """(bitmap, ``IDSelectorBitmap``) over stored positions, live ones set; cached until the next
        mutation. The caller keeps the pair referenced while FAISS uses the selector."""
        cached = self._selector
        if cached is None:
            bitmap = np.packbits(self._labels >= 0, bitorder="little")
            selector = self._faiss.IDSelectorBitmap(self._labels.size, self._faiss.swig_ptr(bitmap))
            cached = (bitmap, selector)  # the bitmap must outlive the selector
            self._selector = cached
        return cached

    def search_one(self, vector: np.ndarray, k: int) -> list[Hit]:
        """Search with a single query vector.

        Args:
            vector: ``(dim,)`` or ``(1, dim)`` L2-normalised query vector.
            k: Number of hits.

        Returns:
            Up to ``k`` hits, best first.

        Raises:
            ValueError: The shape or ``k`` is invalid.
        """
        x = np.asarray(vector)
        if x.ndim == 1:
            x = x.reshape(1, -1)
        if x.ndim != 2 or x.shape[0] != 1:
            raise ValueError(f"search_one takes one vector of shape ({self._dim},), got {np.asarray(vector).shape}")
        return self.search(x, k)[0]

    # -------------------------------------------------------------------------------------------- inspection

    def __len__(self) -> int:
        with self._lock.read():
            return len(self._pos) + len(self._delta_pos)

    def __contains__(self, id: object) -> bool:
        if isinstance(id, bool) or not isinstance(id, int | np.integer):
            return False
        with self._lock.read():
            return int(id) in self._pos or int(id) in self._delta_pos

    def ids(self) -> set[int]:
        """Return the ids currently in the index."""
        with self._lock.read():
            return set(self._pos) | set(self._delta_pos)

    def vectors(self, ids: Sequence[int] | np.ndarray) -> np.ndarray:
        """The stored vectors of ``ids``, in that order (as FAISS holds them: float32).

        Args:
            ids: Ids in the index.

        Returns:
            ``(len(ids), dim)`` array.

        Raises:
            KeyError: An id is not in the index.
            ValueError: The ids are invalid.
        """
        id_arr = self._as_ids(ids)
        with self._lock.read():
            if self._delta_pos:
                return np.vstack([self._delta_x[self._delta_pos[i]][None, :] if i in self._delta_pos
                                  else self._inner.reconstruct(self._pos[i])[None, :] for i in id_arr.tolist()]
                                 or [np.empty((0, self._dim), dtype=np.float32)])
            positions = np.fromiter((self._pos[i] for i in id_arr.tolist()), dtype=np.int64, count=id_arr.size)
            if not positions.size:
                return np.empty((0, self._dim), dtype=np.float32)
            return self._inner.reconstruct_batch(positions)

    @property
    def dim(self) -> int:
        """Vector dimension."""
        return self._dim

    @property
    def is_approximate(self) -> bool:
        """True when the index is HNSW, False when it is exact (Flat)."""
        return self._approximate

    @property
    def is_mapped(self) -> bool:
        """True when the FAISS index reads its vectors from a memory-mapped file shared with other processes."""
        return self._mapped

    @property
    def delta_count(self) -> int:
        """Vectors kept beside a mapped base (changed or added since its snapshot); 0 when not mapped."""
        return len(self._delta_ids)

    @property
    def deleted_count(self) -> int:
        """Tombstones still stored in the HNSW graph (always 0 for the exact layout)."""
        return self._n_dead

    @property
    def ef_search(self) -> int:
        """HNSW ``efSearch`` used by searches of the approximate layout."""
        return self._ef_search

    @ef_search.setter
    def ef_search(self, value: int) -> None:
        self._ef_search = _positive_int("ef_search", value)

    def __repr__(self) -> str:
        kind = f"HNSW{self._hnsw_m}" if self._approximate else "Flat"
        mapped = f" mapped delta={len(self._delta_ids)}" if self._mapped else ""
        return f"<VectorIndex {kind} dim={self._dim} n={len(self)} deleted={self._n_dead}{mapped}>"

    # --------------------------------------------------------------------------------------------- snapshot

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write a snapshot crash-safely: a temporary file in the same folder, fsync, then ``os.replace``.

        The previous snapshot at ``path`` stays intact until the new one is complete; on failure the
        temporary file is removed. The file holds a JSON header, the FAISS index, the tombstoned positions
        and a footer with a CRC-32 of everything before it.

        Args:
            path: Destination file.

        Raises:
            OSError: The file cannot be written.
        """
        path = os.fspath(path)
        if self._mapped and self._delta_ids:  # the file holds one FAISS index: fold the delta in first
            with self._lock.read():
                ids, x = self._live_vectors()
            VectorIndex.build(ids, x, **self._options()).save(path)
            return
        folder = os.path.dirname(os.path.abspath(path))
        with replaced_atomically(path) as raw, self._lock.read():
            self._write_snapshot(raw)
        with contextlib.suppress(OSError):  # make the rename itself durable; not possible everywhere
            dir_fd = os.open(folder, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        removed = self.remove_mapped_copies(path)
        logger.debug("vector index saved to %s (%d vectors, %d mapped copies removed)", path, len(self), removed)

    def _options(self) -> dict[str, Any]:
        return {"approximate_above": self._approximate_above, "hnsw_m": self._hnsw_m, "ef_search": self._ef_search,
                "ef_construction": self._ef_construction, "max_deleted_fraction": self._max_deleted_fraction}

    @staticmethod
    def remove_mapped_copies(path: str | os.PathLike[str]) -> int:
        """Delete the memory-mappable copies of earlier snapshots at ``path`` (after a new one is saved).

        A process that has mapped one keeps its pages until it lets go (the file is only unlinked).

        Returns:
            How many files were deleted.
        """
        path = os.fspath(path)
        folder, name = os.path.split(os.path.abspath(path))
        removed = 0
        with contextlib.suppress(FileNotFoundError):
            for entry in os.listdir(folder):
                if entry.startswith(name + ".") and entry.endswith(_MAPPED_SUFFIX) or \
                        entry.startswith(f".{name}.") and entry.endswith(_MAPPED_SUFFIX + ".part"):
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(os.path.join(folder, entry))
                        removed += 1
        return removed

    def _write_snapshot(self, raw: IO[bytes]) -> None:
        crc = 0

        def write(data: bytes) -> int:
            nonlocal crc
            crc = zlib.crc32(data, crc)
            raw.write(data)
            return len(data)

        header = json.dumps(
            {
                "format": 1,
                "dim": self._dim,
                "approximate": self._approximate,
                "approximate_above": self._approximate_above,
                "hnsw_m": self._hnsw_m,
                "ef_search": self._ef_search,
                "ef_construction": self._ef_construction,
                "max_deleted_fraction": self._max_deleted_fraction,
                "stored": int(self._labels.size),
                "live": len(self._pos),
            }
        ).encode()
        write(_MAGIC)
        write(_HEADER_LEN.pack(len(header)))
        write(header)
        before = raw.tell()
        self._faiss.write_index(self._index, self._faiss.PyCallbackIOWriter(write))
        faiss_len = raw.tell() - before
        dead = np.flatnonzero(self._labels < 0).astype("<i8").tobytes()
        write(dead)
        raw.write(_FOOTER.pack(faiss_len, len(dead), crc, _END_MAGIC))

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, mapped: bool = False) -> VectorIndex:
        """Read a snapshot written by ``save``.

        Args:
            path: Snapshot file.
            mapped: memory-map the vectors from a plain FAISS copy of the snapshot's FAISS part
                (``<path>.<crc32>.mmap``, written once per snapshot and shared by every process that
                maps it) instead of reading them into this process; changes then go to a delta.

        Returns:
            The index, with the parameters it was saved with.

        Raises:
            IndexCorrupt: The file is missing, unreadable, truncated, not a snapshot, or inconsistent.
        """
        path = os.fspath(path)
        try:
            with open(path, "rb") as raw:
                return cls._read_snapshot(raw, path, mapped)
        except IndexCorrupt:
            raise
        except OSError as exc:
            raise IndexCorrupt(f"cannot read vector index snapshot {path!r}: {exc}") from exc

    @classmethod
    def _read_snapshot(cls, raw: IO[bytes], path: str, mapped: bool = False) -> VectorIndex:
        fx = _faiss()
        size = os.fstat(raw.fileno()).st_size
        fixed = len(_MAGIC) + _HEADER_LEN.size + _FOOTER.size
        if size < fixed:
            raise IndexCorrupt(f"{path!r} is too short ({size} bytes) to be a vector index snapshot")
        if raw.read(len(_MAGIC)) != _MAGIC:
            raise IndexCorrupt(f"{path!r} is not a vector index snapshot (bad magic)")
        raw.seek(size - _FOOTER.size)
        faiss_len, dead_len, crc_expected, end_magic = _FOOTER.unpack(raw.read(_FOOTER.size))
        if end_magic != _END_MAGIC:
            raise IndexCorrupt(f"{path!r} is truncated or damaged (no footer)")
        # Check the CRC before anything is parsed, so FAISS never reads damaged bytes.
        raw.seek(0)
        crc, remaining = 0, size - _FOOTER.size
        while remaining:
            chunk = raw.read(min(_READ_CHUNK, remaining))
            if not chunk:
                raise IndexCorrupt(f"{path!r} shrank while being read")
            crc = zlib.crc32(chunk, crc)
            remaining -= len(chunk)
        if crc != crc_expected:
            raise IndexCorrupt(f"{path!r} is damaged (checksum mismatch)")
        raw.seek(len(_MAGIC))
        (header_len,) = _HEADER_LEN.unpack(raw.read(_HEADER_LEN.size))
        if fixed + header_len + faiss_len + dead_len != size or dead_len % 8:
            raise IndexCorrupt(f"{path!r} has inconsistent section lengths")
        try:
            meta = json.loads(raw.read(header_len))
            if meta.get("format") != 1:
                raise IndexCorrupt(f"{path!r} has unknown snapshot format {meta.get('format')!r}")
            index = cls(
                int(meta["dim"]),
                approximate_above=int(meta["approximate_above"]),
                hnsw_m=int(meta["hnsw_m"]),
                ef_search=int(meta["ef_search"]),
                ef_construction=int(meta["ef_construction"]),
                max_deleted_fraction=float(meta["max_deleted_fraction"]),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise IndexCorrupt(f"{path!r} has an invalid header: {exc}") from exc
        end = raw.tell() + faiss_len

        def read(n: int) -> bytes:
            return raw.read(max(0, min(n, end - raw.tell())))

        try:
            if mapped:
                copy = cls._mapped_copy(raw, path, crc_expected, faiss_len)
                faiss_index = fx.read_index(copy, fx.IO_FLAG_MMAP_IFC)
                raw.seek(end)
            else:
                faiss_index = fx.read_index(fx.PyCallbackIOReader(read))
        except (RuntimeError, MemoryError, ValueError) as exc:
            raise IndexCorrupt(f"{path!r} holds an unreadable FAISS index: {exc}") from exc
        if raw.tell() != end:
            raise IndexCorrupt(f"{path!r}: the FAISS index does not fill its section")
        dead = np.frombuffer(raw.read(dead_len), dtype="<i8").astype(np.int64)
        if not isinstance(faiss_index, fx.IndexIDMap2) or faiss_index.d != index._dim:
            raise IndexCorrupt(f"{path!r} does not hold an IDMap2 index of dimension {index._dim}")
        if faiss_index.metric_type != fx.METRIC_INNER_PRODUCT:
            raise IndexCorrupt(f"{path!r} holds an index that is not inner-product")
        labels = fx.vector_to_array(faiss_index.id_map).astype(np.int64, copy=False)
        if labels.size != faiss_index.ntotal or labels.size != meta.get("stored"):
            raise IndexCorrupt(f"{path!r}: id map and vector count disagree")
        if dead.size and (dead.min() < 0 or dead.max() >= labels.size or np.unique(dead).size != dead.size):
            raise IndexCorrupt(f"{path!r} lists invalid tombstones")
        labels = labels.copy()
        labels[dead] = -1
        live = labels[labels >= 0]
        if np.unique(live).size != live.size or live.size != meta.get("live"):
            raise IndexCorrupt(f"{path!r} stores an id twice or disagrees with its header")
        inner = fx.downcast_index(faiss_index.index)
        if isinstance(inner, fx.IndexHNSW) != bool(meta.get("approximate")) or (dead.size and not meta["approximate"]):
            raise IndexCorrupt(f"{path!r}: index layout disagrees with its header")
        index._set_index(faiss_index, labels)
        index._mapped = mapped
        logger.debug("vector index loaded from %s (%d vectors%s)", path, len(index._pos), ", mapped" if mapped else "")
        return index

    @staticmethod
    def _mapped_copy(raw: IO[bytes], path: str, crc: int, length: int) -> str:
        """The plain FAISS file holding the FAISS part of the (checked) snapshot ``raw``; written if missing."""
        copy = f"{path}.{crc:08x}{_MAPPED_SUFFIX}"
        with _exclusive(os.path.join(os.path.dirname(os.path.abspath(path)), f".{os.path.basename(path)}.lock")):
            # One writer at a time: processes starting together must map the same file (the same
            # inode), or each would hold its own copy and nothing would be shared.
            with contextlib.suppress(OSError):
                if os.path.getsize(copy) == length:
                    return copy  # another process (or an earlier start) wrote it; the name carries the checksum
            return VectorIndex._write_mapped_copy(raw, path, copy, length)

    @staticmethod
    def _write_mapped_copy(raw: IO[bytes], path: str, copy: str, length: int) -> str:
        """Write the next `length` bytes of `raw` (a snapshot's FAISS part) to `copy`, atomically."""
        start = raw.tell()
        try:
            # Not "*.tmp": a snapshot writer's clean-up of its own leftovers must not take a copy being written.
            with replaced_atomically(copy, suffix=".part") as out:
                remaining = length
                while remaining:
                    chunk = raw.read(min(_READ_CHUNK, remaining))
                    if not chunk:
                        raise IndexCorrupt(f"{path!r} shrank while being read")
                    out.write(chunk)
                    remaining -= len(chunk)
        except FileNotFoundError:
            # Our partial copy was removed (a new snapshot was saved meanwhile); another process may
            # have finished the same copy: use it if it is whole, else the caller reads without mapping.
            if os.path.exists(copy) and os.path.getsize(copy) == length:
                raw.seek(start)
                return copy
            raise
        raw.seek(start)
        return copy
