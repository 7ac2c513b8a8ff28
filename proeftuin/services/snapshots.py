"""On-disk snapshots of the engine's vector index, one per object kind and engine: where they lie
and their version notes. The files themselves are written and read by the engine
(`Embeddings.save_vectors`, `Embeddings.load`, through `matching`).

A snapshot saves each process the index build (minutes for HNSW at a million vectors): a process
loads it and the engine checks it against the `embedding` rows, repairing what changed since, so
a snapshot whose version note lags behind its content is still safe. A snapshot that cannot be
read, or that claims a version the database has not reached (a restored backup), is ignored and
rebuilt from the database.
"""
from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path

from flask import current_app

logger = logging.getLogger(__name__)


def folder(engine_id: str) -> Path:
    base = current_app.config.get("INDEX_PATH") or os.path.join(current_app.instance_path, "index")
    return Path(base) / re.sub(r"[^A-Za-z0-9_.-]+", "_", engine_id)


def paths(kind: str, engine_id: str) -> tuple[Path, Path]:
    directory = folder(engine_id)
    return directory / f"{kind}.faiss", directory / f"{kind}.json"


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


def save(kind: str, engine_id: str, write: Callable[[Path], int], version: int) -> None:
    """Write the index, then its version note; each file is swapped in with os.replace.

    Args:
        kind: the object kind.
        engine_id: the engine key.
        write: writes the index file at the path given (crash-safely) and returns how many
            vectors it holds.
        version: the database version the index reflects.
    """
    index_path, meta_path = paths(kind, engine_id)
    index_path.parent.mkdir(parents=True, exist_ok=True)
    count = write(index_path)
    _write_json(meta_path, {"engine": engine_id, "kind": kind, "version": version, "count": count})
    logger.info("snapshot %s/%s written at version %d (%d vectors)", engine_id, kind, version, count)


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


def version(kind: str, engine_id: str) -> int | None:
    """The version note of a kind's snapshot (None when there is none or it cannot be read): cheap."""
    _, meta_path = paths(kind, engine_id)
    try:
        meta = json.loads(meta_path.read_text())
        return int(meta["version"]) if meta.get("engine") == engine_id else None
    except (OSError, ValueError, KeyError, TypeError):
        return None


def find(kind: str, engine_id: str, database_version: int) -> Path | None:
    """The snapshot file to load, or None when it is missing, its note unusable or ahead of the database.

    The file itself is checked when the engine loads it (a damaged one raises `IndexCorrupt` there).
    """
    index_path, meta_path = paths(kind, engine_id)
    remove_leftovers(kind, engine_id)
    if not index_path.exists():
        return None
    try:
        meta = json.loads(meta_path.read_text())
        version = int(meta["version"])
        if meta.get("engine") != engine_id:
            raise ValueError("snapshot of another engine")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        logger.warning("ignoring snapshot %s: %s; rebuilding from the database", index_path, exc)
        return None
    if version > database_version:
        logger.warning("snapshot %s is at version %d, the database at %d; rebuilding", index_path, version,
                       database_version)
        return None
    return index_path
