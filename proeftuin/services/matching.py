"""The matching engine inside the platform: the only module joining database rows with `embeddings/`.

- Vectors live in the `embedding` table (per object, engine and content hash); only changed texts
  are encoded, and a new engine id means every object is encoded again.
- Every process (gunicorn worker) keeps its own rankers in memory and follows the `index_state`
  version: before each use it reads the version, and applies the rows written since (their `seq`).
- Results are candidate ids: callers pass `allowed`, computed from the database for the user, and
  every object shown is loaded and checked again (SECURITY.md T8).
"""
from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import sqlalchemy as sa
from flask import Flask, current_app, g, has_request_context

from embeddings.encoders import Encoder, get_encoder
from embeddings.index import VectorIndex, configure_threads
from embeddings.ranking import Document, HybridRanker, Ranked
from embeddings.text import content_hash
from proeftuin.enums import ChallengeStatus
from proeftuin.extensions import db
from proeftuin.models import Challenge, Embedding, ExpertProfile, IndexState, StartupProfile
from proeftuin.services import outbox, snapshots
from proeftuin.services.texts import CHALLENGE, EXPERT, PROFILE, kind_of, text_of

logger = logging.getLogger(__name__)

KINDS = (CHALLENGE, PROFILE, EXPERT)
MODELS = {CHALLENGE: Challenge, PROFILE: StartupProfile, EXPERT: ExpertProfile}
INDEXED_CHALLENGE_STATUSES = (
    ChallengeStatus.PUBLISHED,
    ChallengeStatus.CLOSED,
    ChallengeStatus.IN_EXPERIMENT,
    ChallengeStatus.COMPLETED,
)


class MatchingUnavailable(RuntimeError):
    """The engine cannot answer now (model or index problem); pages degrade, never 500."""


def engine_name() -> str:
    return current_app.config["EMBEDDING_MODEL"]


def encoder() -> Encoder:
    return get_encoder(engine_name())


def engine_key(engine: Encoder | None = None) -> str:
    """The key vectors are stored under: encoder id plus the ranker's vector layout.

    A new model or a new layout gives a new key, so stored vectors are encoded again rather than
    misread.
    """
    engine = engine or encoder()
    return HybridRanker(engine).engine_id


def model_of(kind: str) -> type[Challenge] | type[StartupProfile] | type[ExpertProfile]:
    return MODELS[kind]


def indexable(obj: Challenge | StartupProfile | ExpertProfile) -> bool:
    if isinstance(obj, Challenge):
        return obj.status in INDEXED_CHALLENGE_STATUSES
    if isinstance(obj, ExpertProfile):
        return obj.available and obj.user.active
    return True


def document_of(obj: Challenge | StartupProfile) -> Document:
    return Document(id=obj.id, text=text_of(obj), language=obj.language.value)


# ---- the watermark -------------------------------------------------------------------------

def current_version(engine_id: str) -> int:
    return db.session.scalar(sa.select(IndexState.version).where(IndexState.engine_id == engine_id)) or 0


def _next_seq(engine_id: str) -> int:
    """Bump the engine's version inside the caller's transaction and return it."""
    state = db.session.scalar(
        sa.select(IndexState).where(IndexState.engine_id == engine_id).with_for_update()
    )
    if state is None:
        state = IndexState(engine_id=engine_id, version=0)
        db.session.add(state)
    state.version += 1
    db.session.flush()
    return state.version


# ---- per-process state ---------------------------------------------------------------------

@dataclass
class ProcessIndex:
    """One process's rankers, kept equal to the database rows up to `seen`."""

    engine: Encoder
    rankers: dict[str, HybridRanker]
    vectors: dict[str, VectorIndex] = field(default_factory=dict)
    hashes: dict[str, dict[int, str]] = field(default_factory=lambda: {k: {} for k in KINDS})
    seen: int = -1
    lock: threading.RLock = field(default_factory=threading.RLock)

    def ids(self, kind: str) -> set[int]:
        return set(self.hashes[kind])


def _state(app: Flask) -> ProcessIndex:
    states = app.extensions.setdefault("proeftuin_matching", {})
    name = app.config["EMBEDDING_MODEL"]
    if name not in states:
        if has_request_context():
            # One FAISS thread per web worker: on 2 cores a second thread made single-query search
            # slower, not faster (bench/results/index.json); re-index commands keep every core.
            configure_threads(1)
        engine = get_encoder(name)
        states[name] = ProcessIndex(engine=engine, rankers={k: HybridRanker(engine) for k in KINDS})
    return states[name]


def _load_texts(kind: str, ids: Iterable[int]) -> dict[int, Challenge | StartupProfile]:
    ids = list(ids)
    if not ids:
        return {}
    model = model_of(kind)
    return {obj.id: obj for obj in db.session.scalars(sa.select(model).where(model.id.in_(ids)))}


def _apply_rows(state: ProcessIndex, rows: list[Embedding]) -> None:
    by_kind: dict[str, list[Embedding]] = {k: [] for k in KINDS}
    for row in rows:
        by_kind[row.object_type].append(row)
    for kind, kind_rows in by_kind.items():
        objects = _load_texts(kind, [r.object_id for r in kind_rows if r.vectors is not None])
        ranker = state.rankers[kind]
        vector_index = state.vectors[kind]
        for row in kind_rows:
            obj = objects.get(row.object_id)
            if row.vectors is None or obj is None:
                vector_index.remove([row.object_id])
                if row.object_id in state.hashes[kind]:
                    ranker.remove(row.object_id)
                    del state.hashes[kind][row.object_id]
                continue
            ranker.upsert(document_of(obj), row.matrix())
            vector_index.add([row.object_id], snapshots.centroid(row.matrix())[None, :])
            state.hashes[kind][row.object_id] = row.content_hash


def _vector_index(kind: str, state: ProcessIndex, live: list[Embedding], version: int) -> VectorIndex:
    """The FAISS index for a kind: the snapshot plus the rows written after it, or a fresh build."""
    engine_id = engine_key(state.engine)
    expected = {r.object_id for r in live}
    snapshot = snapshots.load(kind, engine_id, version)
    if snapshot is not None:
        index, snapshot_version = snapshot
        newer = db.session.scalars(
            sa.select(Embedding).where(Embedding.engine_id == engine_id, Embedding.object_type == kind,
                                       Embedding.seq > snapshot_version)
        ).all()
        for row in newer:
            if row.vectors is None or row.object_id not in expected:
                index.remove([row.object_id])
            else:
                index.add([row.object_id], snapshots.centroid(row.matrix())[None, :])
        if index.ids() == expected:
            return index
        logger.warning("snapshot of %s disagrees with the database; rebuilding", kind)
    return build_vector_index(live, state.engine.dim)


def build_vector_index(rows: list[Embedding], dim: int) -> VectorIndex:
    if not rows:
        return VectorIndex(dim)
    ids = np.array([r.object_id for r in rows], dtype=np.int64)
    return VectorIndex.build(ids, np.vstack([snapshots.centroid(r.matrix()) for r in rows]))


def _live_rows(engine_id: str, kind: str) -> list[Embedding]:
    return list(db.session.scalars(
        sa.select(Embedding).where(
            Embedding.engine_id == engine_id, Embedding.object_type == kind, Embedding.vectors.is_not(None)
        )
    ))


def _full_load(state: ProcessIndex, version: int) -> None:
    engine_id = engine_key(state.engine)
    for kind in KINDS:
        rows = _live_rows(engine_id, kind)
        objects = _load_texts(kind, [r.object_id for r in rows])
        live = [r for r in rows if r.object_id in objects]
        ranker = HybridRanker(state.engine)
        ranker.index(
            [document_of(objects[r.object_id]) for r in live],
            vectors={r.object_id: r.matrix() for r in live},
        )
        state.rankers[kind] = ranker
        state.vectors[kind] = _vector_index(kind, state, live, version)
        state.hashes[kind] = {r.object_id: r.content_hash for r in live}


def current(app: Flask | None = None) -> ProcessIndex:
    """This process's index, first brought up to the database's version (the watermark)."""
    app = app or current_app._get_current_object()
    state = _state(app)
    version = current_version(engine_key(state.engine))
    if has_request_context():
        g.index_version = version
    if version == state.seen:
        return state
    with state.lock:
        if state.seen < 0:
            _full_load(state, version)
            if not app.testing:
                # The index's many long-lived objects leave the collector's generations, so a full
                # collection no longer walks them during a request (bench/suggestion_bench.py).
                gc.collect()
                gc.freeze()
        elif version > state.seen:
            rows = db.session.scalars(
                sa.select(Embedding)
                .where(Embedding.engine_id == engine_key(state.engine), Embedding.seq > state.seen)
                .order_by(Embedding.seq)
            ).all()
            _apply_rows(state, rows)
        state.seen = version
    logger.info("index %s at version %d", engine_key(state.engine), version)
    return state


# ---- writing vectors -----------------------------------------------------------------------

def _store(kind: str, object_id: int, engine_id: str, digest: str, vectors: np.ndarray | None) -> None:
    seq = _next_seq(engine_id)
    row = db.session.scalar(
        sa.select(Embedding).where(
            Embedding.object_type == kind, Embedding.object_id == object_id, Embedding.engine_id == engine_id
        )
    )
    if row is None:
        row = Embedding(object_type=kind, object_id=object_id, engine_id=engine_id)
        db.session.add(row)
    matrix = None if vectors is None else np.ascontiguousarray(vectors, dtype=np.float32)
    row.content_hash = digest
    row.dim = int(matrix.shape[1]) if matrix is not None else 0
    row.n_passages = int(matrix.shape[0]) if matrix is not None else 0
    row.vectors = matrix.tobytes() if matrix is not None else None
    row.seq = seq


def needs_encoding(obj: Challenge | StartupProfile, engine_id: str) -> bool:
    row = db.session.scalar(
        sa.select(Embedding).where(
            Embedding.object_type == kind_of(obj), Embedding.object_id == obj.id, Embedding.engine_id == engine_id
        )
    )
    if not indexable(obj):
        return row is not None and row.vectors is not None
    return row is None or row.vectors is None or row.content_hash != content_hash(text_of(obj))


def sync_object(obj: Challenge | StartupProfile) -> bool:
    """Bring one object's vectors in line with its text and status; True when something changed.

    Encodes only when the text changed (content hash) or the engine has no vectors for it.
    """
    engine = encoder()
    if not needs_encoding(obj, engine_key(engine)):
        return False
    kind = kind_of(obj)
    if not indexable(obj):
        _store(kind, obj.id, engine_key(engine), content_hash(text_of(obj)), None)
    else:
        ranker = HybridRanker(engine)
        _store(kind, obj.id, engine_key(engine), content_hash(text_of(obj)), ranker.encode_document(document_of(obj)))
    db.session.commit()
    return True


@outbox.handler("index.sync")
def _sync_effect(effect) -> None:
    obj = db.session.get(model_of(effect.payload["kind"]), effect.payload["id"])
    if obj is None:
        forget(effect.payload["kind"], effect.payload["id"])
    else:
        sync_object(obj)


def forget(kind: str, object_id: int) -> None:
    """Tombstone an object that was deleted, so every process drops it at its next check."""
    engine = encoder()
    _store(kind, object_id, engine_key(engine), "", None)
    db.session.commit()


def reconcile(limit: int = 1000) -> dict[str, int]:
    """Re-sync objects whose vectors disagree with their text or status (the worker's periodic check).

    Returns:
        How many objects were stale and how many were brought in line.
    """
    key = engine_key()
    stale = [obj for kind in KINDS for obj in db.session.scalars(sa.select(MODELS[kind]))
             if needs_encoding(obj, key)]
    fixed = sum(1 for obj in stale[:limit] if sync_object(obj))
    return {"stale": len(stale), "fixed": fixed}


@dataclass
class RebuildReport:
    engine_id: str
    encoded: int
    removed: int
    unchanged: int
    version: int


def rebuild(progress: Callable[[Iterable], Iterable] | None = None, batch: int = 32) -> RebuildReport:
    """Encode every changed or missing object, tombstone the rest (CLI only, never in a request).

    Args:
        progress: wraps the iterable of objects (a progress bar in the CLI).
        batch: commit every `batch` objects so a crash keeps the work done so far.
    """
    engine = encoder()
    objects: list[Challenge | StartupProfile | ExpertProfile] = [
        obj for kind in KINDS for obj in db.session.scalars(sa.select(MODELS[kind]).order_by(MODELS[kind].id))
    ]
    live = {(kind_of(o), o.id) for o in objects if indexable(o)}
    encoded = unchanged = removed = 0
    ranker = HybridRanker(engine)
    iterable = progress(objects) if progress else objects
    for n, obj in enumerate(iterable, start=1):
        if not needs_encoding(obj, engine_key(engine)):
            unchanged += 1
        elif indexable(obj):
            vectors = ranker.encode_document(document_of(obj))
            _store(kind_of(obj), obj.id, engine_key(engine), content_hash(text_of(obj)), vectors)
            encoded += 1
        else:
            _store(kind_of(obj), obj.id, engine_key(engine), content_hash(text_of(obj)), None)
            removed += 1
        if n % batch == 0:
            db.session.commit()
    orphans = db.session.scalars(
        sa.select(Embedding).where(Embedding.engine_id == engine_key(engine), Embedding.vectors.is_not(None))
    ).all()
    for row in orphans:
        if (row.object_type, row.object_id) not in live:
            _store(row.object_type, row.object_id, engine_key(engine), row.content_hash, None)
            removed += 1
    state = db.session.get(IndexState, engine_key(engine))
    if state is None:
        state = IndexState(engine_id=engine_key(engine), version=0)
        db.session.add(state)
    state.rebuilt_at = datetime.now(UTC)
    db.session.commit()
    version = current_version(engine_key(engine))
    write_snapshots(engine, version)
    return RebuildReport(engine_key(engine), encoded, removed, unchanged, version)


def write_snapshots(engine: Encoder, version: int) -> None:
    """Save each kind's FAISS index for the processes that start next (CLI, after a rebuild)."""
    key = engine_key(engine)
    for kind in KINDS:
        snapshots.save(kind, key, build_vector_index(_live_rows(key, kind), engine.dim), version)


@dataclass
class IndexStatus:
    engine_id: str
    version: int
    indexed: dict[str, int]
    stale: dict[str, int]
    other_engines: dict[str, int]


def status() -> IndexStatus:
    engine = encoder()
    indexed = {}
    stale = {}
    for kind in KINDS:
        model = model_of(kind)
        objs = list(db.session.scalars(sa.select(model)))
        indexed[kind] = db.session.scalar(
            sa.select(sa.func.count()).select_from(Embedding).where(
                Embedding.engine_id == engine_key(engine), Embedding.object_type == kind, Embedding.vectors.is_not(None)
            )
        )
        stale[kind] = sum(1 for o in objs if needs_encoding(o, engine_key(engine)))
    others = dict(
        db.session.execute(
            sa.select(Embedding.engine_id, sa.func.count())
            .where(Embedding.engine_id != engine_key(engine), Embedding.vectors.is_not(None))
            .group_by(Embedding.engine_id)
        ).all()
    )
    return IndexStatus(engine_key(engine), current_version(engine_key(engine)), indexed, stale, others)


# ---- ranking -------------------------------------------------------------------------------

def query_vectors(obj: Challenge | StartupProfile, state: ProcessIndex) -> np.ndarray | None:
    """The stored vectors of an indexed object whose text is unchanged (saves an encode)."""
    kind = kind_of(obj)
    if state.hashes[kind].get(obj.id) == content_hash(text_of(obj)):
        return state.rankers[kind].doc_vectors(obj.id)
    return None


def rank(
    kind: str,
    query: str,
    language: str,
    allowed: Collection[int],
    k: int,
    vectors: np.ndarray | None = None,
) -> list[Ranked]:
    """Rank the indexed objects of `kind` in `allowed` for a query text (hybrid)."""
    state = current()
    candidates = set(allowed) & state.ids(kind)
    if not candidates or not query.strip():
        return []
    ranker = state.rankers[kind]
    if len(ranker) > current_app.config["MATCHING_EXACT_LIMIT"]:
        # Past the exact limit the FAISS index proposes the dense candidates; the ranker then
        # fuses lexical and dense evidence over those (and the allowed set) only.
        if vectors is None:
            vectors = ranker.encode_query(query)
        hits = state.vectors[kind].search_one(snapshots.centroid(np.atleast_2d(vectors)),
                                              current_app.config["MATCHING_CANDIDATES"])
        candidates &= {hit.id for hit in hits}
    return ranker.rank(query, language, k=k, method="hybrid", allowed=candidates, query_vectors=vectors)
