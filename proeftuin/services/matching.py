"""The matching engine inside the platform: the only module joining database rows with `embeddings/`.

- Vectors live in the `embedding` table (per object, engine and content hash); only changed texts
  are encoded, and a new engine id means every object is encoded again.
- Every process (gunicorn worker) keeps one `embeddings.Embeddings` per kind in memory and follows
  the `index_state` version: before each use it reads the version, and applies the rows written
  since (their `seq`).
- Other services use the engine through the functions here (`rank`, `explain`, `similar`,
  `similarities`, ...), never through `embeddings/` itself.
- A re-ranking learned from facilitators' decisions (`services/learning.py`, one active
  `LearningRun` per kind and engine) is handed to the kind's engine when the process loads it and
  at the periodic check (`_follow_learned`); it changes the order, never the stored vectors.
- Results are candidate ids: callers pass `allowed`, computed from the database for the user, and
  every object shown is loaded and checked again (SECURITY.md T8).
"""
from __future__ import annotations

import ctypes
import gc
import logging
import threading
import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import sqlalchemy as sa
from flask import Flask, current_app, g, has_request_context
from sqlalchemy import orm

from embeddings import (
    Document,
    Embeddings,
    Encoder,
    Explanation,
    Hit,
    IndexCorrupt,
    Ranked,
    Strength,
    configure_threads,
    content_hash,
    get_encoder,
)
from embeddings.evidence import strength as measured_strength
from embeddings.learned import FEATURES, LearnedRanking
from proeftuin.enums import ChallengeStatus, LearningStatus
from proeftuin.extensions import db
from proeftuin.models import Challenge, Embedding, ExpertProfile, IndexState, LearningRun, StartupProfile
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


_CODECS: dict[str, Embeddings] = {}


def _codec(engine: Encoder) -> Embeddings:
    """An empty engine for `engine`, kept per encoder: it encodes texts and names the layout."""
    codec = _CODECS.get(engine.id)
    if codec is None or codec.encoder is not engine:
        codec = _CODECS[engine.id] = Embeddings(engine)
    return codec


def engine_key(engine: Encoder | None = None) -> str:
    """The key vectors are stored under: encoder id plus the engine's vector layout.

    A new model or a new layout gives a new key, so stored vectors are encoded again rather than
    misread.
    """
    return _codec(engine or encoder()).engine_id


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
    """One process's engines, one `Embeddings` per kind, kept equal to the database rows up to `seen`."""

    engine: Encoder
    engines: dict[str, Embeddings]
    exact_limit: int
    candidates: int
    hashes: dict[str, dict[int, str]] = field(default_factory=lambda: {k: {} for k in KINDS})
    seen: int = -1
    lock: threading.RLock = field(default_factory=threading.RLock)
    shared: bool = False  # vector indexes memory-mapped from the snapshots (MATCHING_SHARED_INDEX)
    snapshot_versions: dict[str, int] = field(default_factory=dict)  # the snapshot each kind's index came from
    next_snapshot_check: float = 0.0
    swapping: threading.Lock = field(default_factory=threading.Lock)
    learned_runs: dict[str, int | None] = field(default_factory=dict)  # the LearningRun each kind's engine uses
    next_learned_check: float = 0.0

    def ids(self, kind: str) -> set[int]:
        return set(self.hashes[kind])

    def new_engine(self) -> Embeddings:
        return Embeddings(self.engine, exact_limit=self.exact_limit, candidates=self.candidates)


_STATE_LOCK = threading.Lock()


def _state(app: Flask) -> ProcessIndex:
    states = app.extensions.setdefault("proeftuin_matching", {})
    name = app.config["EMBEDDING_MODEL"]
    if name in states:
        return states[name]
    with _STATE_LOCK:  # the warm-up thread and a first request: one state, one full load
        return states[name] if name in states else _new_state(app, states, name)


def _new_state(app: Flask, states: dict, name: str) -> ProcessIndex:
    if has_request_context():
        # One FAISS thread per web worker: on 2 cores a second thread made single-query search
        # slower, not faster (bench/results/index.json); re-index commands keep every core.
        configure_threads(1)
    engine = get_encoder(name)
    state = ProcessIndex(engine=engine, engines={}, exact_limit=app.config["MATCHING_EXACT_LIMIT"],
                         candidates=app.config["MATCHING_CANDIDATES"],
                         shared=app.config.get("MATCHING_SHARED_INDEX", False))
    state.engines = {k: state.new_engine() for k in KINDS}
    states[name] = state
    return state


#: Ids per `IN (...)` when loading texts: psycopg refuses more than 65,535 parameters in one query.
LOAD_BATCH = 10_000


def _load_texts(kind: str, ids: Iterable[int]) -> dict[int, Challenge | StartupProfile]:
    """The objects behind `ids`, with what their text needs loaded in the same round trips."""
    ids = list(ids)
    model = model_of(kind)
    options = []
    if model is StartupProfile:
        # The text names the organisation: one query per batch, not one per profile.
        options = [orm.selectinload(StartupProfile.organisation), orm.selectinload(StartupProfile.theme_rows)]
    found: dict[int, Challenge | StartupProfile] = {}
    for start in range(0, len(ids), LOAD_BATCH):
        batch = ids[start:start + LOAD_BATCH]
        found.update((obj.id, obj) for obj in db.session.scalars(
            sa.select(model).where(model.id.in_(batch)).options(*options)))
    return found


def _apply_rows(state: ProcessIndex, rows: list[Embedding]) -> None:
    by_kind: dict[str, list[Embedding]] = {k: [] for k in KINDS}
    for row in rows:
        by_kind[row.object_type].append(row)
    for kind, kind_rows in by_kind.items():
        objects = _load_texts(kind, [r.object_id for r in kind_rows if r.vectors is not None])
        engine = state.engines[kind]
        for row in kind_rows:
            obj = objects.get(row.object_id)
            if row.vectors is None or obj is None:
                engine.remove([row.object_id])
                state.hashes[kind].pop(row.object_id, None)
                continue
            engine.upsert([document_of(obj)], {row.object_id: row.matrix()})
            state.hashes[kind][row.object_id] = row.content_hash


def _index_kind(kind: str, state: ProcessIndex, live: list[Embedding],
                objects: dict[int, Challenge | StartupProfile], version: int) -> Embeddings:
    """A kind's engine over the live rows: the vector index from the snapshot (checked and repaired
    against the rows), or built anew when there is no usable snapshot."""
    engine = state.new_engine()
    documents = [document_of(objects[r.object_id]) for r in live]
    vectors = {r.object_id: r.matrix() for r in live}
    snapshot = snapshots.find(kind, engine_key(state.engine), version)
    if snapshot is not None:
        noted = snapshots.version(kind, engine_key(state.engine))
        for mapped in dict.fromkeys((state.shared, False)):  # a mapping that fails: read it instead
            try:
                engine.load(snapshot, documents, vectors, mapped=mapped)
                if noted is not None:
                    state.snapshot_versions[kind] = noted
                return engine
            except (IndexCorrupt, OSError) as exc:
                logger.warning("ignoring snapshot %s (%s): %s", snapshot, "mapped" if mapped else "read", exc)
        logger.warning("rebuilding the %s index from the database", kind)
    engine.index(documents, vectors)
    return engine


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
        state.engines[kind] = _index_kind(kind, state, live, objects, version)
        state.hashes[kind] = {r.object_id: r.content_hash for r in live}
    state.learned_runs = {}  # new engines: hand them the active models again
    state.next_learned_check = 0.0


def _return_freed_memory() -> None:
    """Give the heap freed after a full load (the rows read from the database) back to the system.

    glibc keeps freed blocks in its arenas, so a process stays at its loading peak (about 0.5 GB
    more than it holds at 100,000 profiles) unless asked to trim; elsewhere this does nothing.
    """
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def warm_up(app: Flask) -> threading.Thread:
    """Load the model and this process's index in a background thread (a web worker that starts),
    so that no visitor's request pays the full load; requests meanwhile wait for it as before."""
    def load() -> None:
        try:
            configure_threads(1)  # as a request would (`_state`): one FAISS thread per web worker
            with app.app_context():
                current(app)
        except Exception:  # the first request retries, and logs what fails
            logger.exception("index warm-up failed")

    thread = threading.Thread(target=load, name="index-warm-up", daemon=True)
    thread.start()
    return thread


def current(app: Flask | None = None) -> ProcessIndex:
    """This process's index, first brought up to the database's version (the watermark)."""
    app = app or current_app._get_current_object()
    state = _state(app)
    version = current_version(engine_key(state.engine))
    if has_request_context():
        g.index_version = version
    if version == state.seen:
        _follow_learned(app, state)
        return state
    with state.lock:
        if state.seen < 0:
            _full_load(state, version)
            if not app.testing:
                # The index's many long-lived objects leave the collector's generations, so a full
                # collection no longer walks them during a request (bench/suggestion_bench.py).
                gc.collect()
                gc.freeze()
                _return_freed_memory()
        elif version > state.seen:
            rows = db.session.scalars(
                sa.select(Embedding)
                .where(Embedding.engine_id == engine_key(state.engine), Embedding.seq > state.seen)
                .order_by(Embedding.seq)
            ).all()
            _apply_rows(state, rows)
        state.seen = version
    logger.info("index %s at version %d", engine_key(state.engine), version)
    if state.shared:
        _look_for_snapshots(app, state)
    _follow_learned(app, state)
    return state


# ---- learned re-rankings, followed like the snapshots ------------------------------------------

def _follow_learned(app: Flask, state: ProcessIndex) -> None:
    """At most every MATCHING_SNAPSHOT_CHECK_SECONDS (and right after a full load): hand each kind's
    engine the active learned model of this engine, or None for the plain hybrid.

    One small query (the active runs' ids); a model is read and parsed only when the active id
    changed. A model that does not load (other features, a broken text) is ignored with a warning
    and the engine ranks with the plain hybrid: never a failed search.
    """
    now = time.monotonic()
    if now < state.next_learned_check:
        return
    with state.lock:
        if now < state.next_learned_check:
            return
        state.next_learned_check = now + app.config.get("MATCHING_SNAPSHOT_CHECK_SECONDS", 15)
        key = engine_key(state.engine)
        active = dict(db.session.execute(
            sa.select(LearningRun.kind, LearningRun.id).where(
                LearningRun.status == LearningStatus.ACTIVE, LearningRun.engine_id == key)
        ).all())
        first = not state.learned_runs
        for kind in KINDS:
            run_id = active.get(kind)
            if kind in state.learned_runs and state.learned_runs[kind] == run_id:
                continue
            state.engines[kind].use_learned(_load_learned(run_id) if run_id is not None else None)
            state.learned_runs[kind] = run_id
            if run_id is not None:
                logger.info("%s searches re-ranked by learned model %d", kind, run_id)
        if first:
            _warn_other_engines(key, active)


def _load_learned(run_id: int) -> LearnedRanking | None:
    """The model of a learning run, checked by scoring one row; None (and a warning) when unusable."""
    run = db.session.get(LearningRun, run_id)
    if run is None or not run.model_json:
        return None
    try:
        model = LearnedRanking.from_json(run.model_json)
        model.scores(np.zeros((1, len(FEATURES)), dtype=np.float32))  # parses the booster now, not mid-search
    except Exception as exc:  # ValueError (other features), JSON or LightGBM errors: all mean "unusable"
        logger.warning("ignoring learned model %d (%s): ranking with the plain hybrid", run_id, exc)
        return None
    return model


def _warn_other_engines(key: str, active: Mapping[str, int]) -> None:
    others = db.session.execute(
        sa.select(LearningRun.id, LearningRun.kind, LearningRun.engine_id).where(
            LearningRun.status == LearningStatus.ACTIVE, LearningRun.engine_id != key)
    ).all()
    for run_id, kind, engine_id in others:
        if kind not in active:
            logger.warning("ignoring learned model %d: trained on engine %s, this process runs %s",
                           run_id, engine_id, key)


def reload_learned(app: Flask | None = None) -> None:
    """Look for a newly active learned model now rather than at the next periodic check."""
    state = _state(app or current_app._get_current_object())
    state.next_learned_check = 0.0
    _follow_learned(app or current_app._get_current_object(), state)


def learned_model(kind: str) -> LearnedRanking | None:
    """The learned re-ranking this process's engine for `kind` uses, or None (plain hybrid)."""
    return current().engines[kind].learned


def scored(kind: str, query: str, language: str, ids: Collection[int],
           query_vectors: np.ndarray | None = None) -> list[Ranked]:
    """The hybrid parts of `ids` for a query, normalised as a full search would (`Embeddings.scored`)."""
    if not query.strip():
        return []
    return current().engines[kind].scored(query, language, ids, query_vectors=query_vectors)


def plain_rank(kind: str, query: str, language: str, k: int,
               query_vectors: np.ndarray | None = None) -> list[Ranked]:
    """The hybrid's top `k` for a query, without any learned re-ranking (what a model would re-order)."""
    if not query.strip():
        return []
    engine = current().engines[kind]
    learned = engine.learned
    if learned is None:
        return engine.search(query, language, k, query_vectors=query_vectors)
    # The learned model re-orders the hybrid's best `depth`: the same set, so re-sort it by the fused score.
    results = engine.search(query, language, max(k, learned.depth), query_vectors=query_vectors)
    return sorted(results, key=lambda r: -r.score)[:k]


# ---- newer snapshots, swapped in without stopping searches ------------------------------------

def _look_for_snapshots(app: Flask, state: ProcessIndex) -> None:
    """At most every MATCHING_SNAPSHOT_CHECK_SECONDS: swap in, in the background, any kind's newer
    snapshot (the worker writes one after enough changes, `refresh_snapshots`)."""
    now = time.monotonic()
    if now < state.next_snapshot_check:
        return
    state.next_snapshot_check = now + app.config.get("MATCHING_SNAPSHOT_CHECK_SECONDS", 15)
    key = engine_key(state.engine)
    newer = [kind for kind in KINDS if state.engines[kind].approximate
             and (snapshots.version(kind, key) or -1) > state.snapshot_versions.get(kind, -1)]
    if newer and state.swapping.acquire(blocking=False):
        threading.Thread(target=_swap_snapshots, args=(app, state, newer), name="index-snapshot-swap",
                         daemon=True).start()


def _swap_snapshots(app: Flask, state: ProcessIndex, kinds: list[str]) -> None:
    """Read each kind's newer snapshot (no lock held), then install it with the changes made since."""
    try:
        with app.app_context():
            key = engine_key(state.engine)
            for kind in kinds:
                noted = snapshots.version(kind, key)
                path = snapshots.find(kind, key, current_version(key))
                if noted is None or path is None:
                    continue
                try:
                    fresh = Embeddings.read_snapshot(path, mapped=True)
                except IndexCorrupt as exc:
                    logger.warning("not swapping in snapshot %s: %s", path, exc)
                    continue
                with state.lock:  # no row is applied meanwhile: the changes below are all of them
                    if state.seen < noted:
                        continue  # this process has not caught up with the snapshot yet; next time
                    changed = db.session.scalars(
                        sa.select(Embedding.object_id).where(
                            Embedding.engine_id == key, Embedding.object_type == kind, Embedding.seq > noted,
                        )
                    ).all()
                    state.engines[kind].swap_snapshot(fresh, changed)
                    state.snapshot_versions[kind] = noted
    except Exception:
        logger.exception("swapping in a newer index snapshot failed")
    finally:  # the app context's teardown has closed the session
        state.swapping.release()


def refresh_snapshots(min_changes: int | None = None) -> dict[str, int]:
    """Write a new snapshot of each kind whose objects changed `min_changes` times or more since its
    last one (the worker's periodic job; web processes then swap it in). Heavy: never in a request.

    Returns:
        The kinds written, with the version each snapshot notes.
    """
    engine = encoder()
    key = engine_key(engine)
    limit = current_app.config["MATCHING_SNAPSHOT_CHANGES"] if min_changes is None else min_changes
    version = current_version(key)  # read before the rows: a snapshot never notes more than it holds
    written = {}
    for kind in KINDS:
        noted = snapshots.version(kind, key)
        changes = db.session.scalar(
            sa.select(sa.func.count()).select_from(Embedding).where(
                Embedding.engine_id == key, Embedding.object_type == kind, Embedding.seq > (noted or -1),
            )
        )
        if noted is not None and changes < limit:
            continue
        if noted is None and not changes:
            continue
        _write_snapshot(kind, key, engine.dim, version)
        written[kind] = version
    return written


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
        _store(kind, obj.id, engine_key(engine), content_hash(text_of(obj)), _codec(engine).encode(document_of(obj)))
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
    codec = _codec(engine)
    iterable = progress(objects) if progress else objects
    for n, obj in enumerate(iterable, start=1):
        if not needs_encoding(obj, engine_key(engine)):
            unchanged += 1
        elif indexable(obj):
            vectors = codec.encode(document_of(obj))
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
    """Save each kind's vector index for the processes that start next (CLI, after a rebuild).

    Written from the stored vectors alone (`Embeddings.save_vectors`): no texts are indexed here.
    """
    key = engine_key(engine)
    for kind in KINDS:
        _write_snapshot(kind, key, engine.dim, version)


def _write_snapshot(kind: str, key: str, dim: int, version: int) -> None:
    vectors = {r.object_id: r.matrix() for r in _live_rows(key, kind)}
    snapshots.save(kind, key, lambda path: Embeddings.save_vectors(path, vectors, dim), version)


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

def text_hash(obj: Challenge | StartupProfile | ExpertProfile) -> str:
    """The content hash of an object's matching text (what its stored vectors were made from)."""
    return content_hash(text_of(obj))


def is_indexed(kind: str, object_id: int) -> bool:
    """Whether this process's index holds the object (no set of every id built)."""
    return object_id in current().engines[kind]


def indexed_ids(kind: str) -> set[int]:
    """The ids of the objects of `kind` this process's index holds."""
    return current().ids(kind)


def query_vectors(obj: Challenge | StartupProfile) -> np.ndarray | None:
    """The stored vectors of an indexed object whose text is unchanged (saves an encode)."""
    state = current()
    kind = kind_of(obj)
    if state.hashes[kind].get(obj.id) == text_hash(obj):
        return state.engines[kind].vectors(obj.id)
    return None


def stored_vectors(kind: str, object_id: int) -> np.ndarray | None:
    """The vectors the index holds for an object (None when it is not indexed), to use as a query."""
    engine = current().engines[kind]
    return engine.vectors(object_id) if object_id in engine else None


def rank(
    kind: str,
    query: str,
    language: str,
    allowed: Collection[int] | None,
    k: int,
    vectors: np.ndarray | None = None,
) -> list[Ranked]:
    """Rank the indexed objects of `kind` in `allowed` for a query text (hybrid).

    `allowed` None means every indexed object (a public search without filters): no set of every
    id is built. Past `MATCHING_EXACT_LIMIT` objects the engine's vector index proposes
    `MATCHING_CANDIDATES` candidates first (`Embeddings.search`).
    """
    if not query.strip():
        return []
    state = current()
    engine = state.engines[kind]
    if allowed is None:
        return engine.search(query, language, k, query_vectors=vectors)
    candidates = allowed if isinstance(allowed, (set, frozenset)) else set(allowed)
    if not candidates:
        return []
    return engine.search(query, language, k, allowed=candidates, query_vectors=vectors)


def is_thin(kind: str, results: Sequence[Ranked]) -> bool:
    """True when a description search's results show no real evidence (`Embeddings.is_thin`)."""
    return current().engines[kind].is_thin(results)


def strength(kind: str, parts: Mapping[str, float]) -> Strength | None:
    """How strong a match is from its raw text parts ("dense", "lexical"), as a measured band
    (`embeddings.evidence.strength`); None when the engine has no measured model."""
    return current().engines[kind].strength(parts)


def stored_strength(parts: Mapping[str, float], engine_id: str) -> Strength | None:
    """How strong a stored match is (a `MatchSuggestion`'s components), by the measured model of the
    engine that scored it (its `engine_id`), so the band does not need this process's index; None when
    that engine has no measured model."""
    return measured_strength(parts, engine_id)


def explain(kind: str, query: str, language: str, ids: Iterable[int], *, top: int = 3,
            query_vectors: np.ndarray | None = None, with_parts: bool = True) -> dict[int, Explanation]:
    """Why each indexed object of `ids` matches a query text (`Embeddings.explain`).

    Args:
        kind: the objects' kind.
        query: the query text.
        language: the query's language.
        ids: the object ids, as `rank` returned them; ids no longer indexed are left out.
        top: how many passage pairs per object at most.
        query_vectors: the query's vectors if known (as for `rank`).
        with_parts: also compute the score parts against all objects (False when `rank`'s are at hand).

    Returns:
        The explanation by object id.
    """
    engine = current().engines[kind]
    out: dict[int, Explanation] = {}
    for object_id in ids:
        try:
            out[object_id] = engine.explain(query, object_id, language, top, query_vectors=query_vectors,
                                            with_parts=with_parts)
        except KeyError:  # removed since it was ranked
            continue
    return out


def similar(kind: str, object_id: int, allowed: Collection[int], k: int,
            threshold: float | None = None) -> list[Hit]:
    """The indexed objects of `allowed` most like an indexed object, by document-vector cosine.

    Returns:
        Up to k hits (id, cosine), most similar first (ties by id); [] when `object_id` is not indexed.
    """
    engine = current().engines[kind]
    if object_id not in engine:
        return []
    return engine.similar(object_id, k, allowed=allowed, threshold=threshold)


def similarities(kind: str, ids: Sequence[int]) -> np.ndarray:
    """The document-vector cosine of every pair of indexed objects, (len(ids), len(ids)), in that order."""
    return current().engines[kind].similarity(ids)
