"""On-disk snapshots of the FAISS vector index, one per object kind and engine.

A snapshot saves each process the index build (minutes for HNSW at a million vectors): a process
loads it, then applies the `embedding` rows written after the snapshot's version. Applying rows is
idempotent (an add replaces, a remove of an absent id is a no-op), so a snapshot whose version
note lags behind its content is still safe. A snapshot that cannot be read, or that claims a
version the database has not reached (a restored backup), is ignored and rebuilt from the database.
"""
from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import tempfile
from pathlib import Path

import numpy as np
from flask import current_app

from embeddings.index import IndexCorrupt, VectorIndex

logger = logging.getLogger(__name__)


def folder(engine_id: str) -> Path:
    base = current_app.config.get("INDEX_PATH") or os.path.join(current_app.instance_path, "index")
    return Path(base) / re.sub(r"[^A-Za-z0-9_.-]+", "_", engine_id)


def paths(kind: str, engine_id: str) -> tuple[Path, Path]:
    directory = folder(engine_id)
    return directory / f"{kind}.faiss", directory / f"{kind}.json"


def centroid(vectors: np.ndarray) -> np.ndarray:
    """One vector per object for the FAISS index: the normalised mean of its passage vectors."""
    mean = vectors.mean(axis=0)
    norm = float(np.linalg.norm(mean))
    return (mean / norm if norm > 0 else mean).astype(np.float32)


def _write_json(path: Path, data: dict) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(data, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def save(kind: str, engine_id: str, index: VectorIndex, version: int) -> None:
    """Write the index, then its version note; each file is swapped in with os.replace."""
    index_path, meta_path = paths(kind, engine_id)
    index_path.parent.mkdir(parents=True, exist_ok=True)
    index.save(index_path)
    _write_json(meta_path, {"engine": engine_id, "kind": kind, "version": version, "count": len(index)})
    logger.info("snapshot %s/%s written at version %d (%d vectors)", engine_id, kind, version, len(index))


def remove_leftovers(kind: str, engine_id: str) -> int:
    """Delete temporary files a crashed writer left behind; returns how many."""
    directory = folder(engine_id)
    if not directory.is_dir():
        return 0
    removed = 0
    for leftover in directory.glob(f".{kind}.*.tmp"):
        with contextlib.suppress(FileNotFoundError):
            leftover.unlink()
            removed += 1
    return removed


def load(kind: str, engine_id: str, database_version: int) -> tuple[VectorIndex, int] | None:
    """The snapshot and its version, or None when it is missing, corrupt or ahead of the database."""
    index_path, meta_path = paths(kind, engine_id)
    remove_leftovers(kind, engine_id)
    if not index_path.exists():
        return None
    try:
        meta = json.loads(meta_path.read_text())
        version = int(meta["version"])
        if meta.get("engine") != engine_id:
            raise IndexCorrupt("snapshot of another engine")
        index = VectorIndex.load(index_path)
    except (OSError, ValueError, KeyError, TypeError, IndexCorrupt) as exc:
        logger.warning("ignoring snapshot %s: %s; rebuilding from the database", index_path, exc)
        return None
    if version > database_version:
        logger.warning("snapshot %s is at version %d, the database at %d; rebuilding", index_path, version,
                       database_version)
        return None
    return index, version
