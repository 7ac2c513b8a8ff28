"""An optional on-disk cache of text vectors keyed by (encoder id, content hash), in one SQLite file.

Used by the evaluation command (``--cache DIR``) so that reruns do not re-encode the corpus.
The platform keeps its vectors in its own database instead.
"""
from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Sequence

import numpy as np

from .encoders import Encoder
from .text import content_hash

logger = logging.getLogger(__name__)


class VectorCache:
    """Vectors of single texts by encoder id and content hash."""

    def __init__(self, directory: str) -> None:
        os.makedirs(directory, exist_ok=True)
        self.path = os.path.join(directory, "vectors.sqlite3")
        self._db = sqlite3.connect(self.path)
        self._db.execute("CREATE TABLE IF NOT EXISTS vectors (engine TEXT NOT NULL, hash TEXT NOT NULL, "
                         "vector BLOB NOT NULL, PRIMARY KEY (engine, hash))")

    def close(self) -> None:
        """Close the database file."""
        self._db.close()

    def encode(self, encoder: Encoder, texts: Sequence[str], kind: str = "passage") -> np.ndarray:
        """Vectors of `texts`, encoding (and storing) only those not cached yet.

        Args:
            encoder: the encoder; its `id` is part of the key.
            texts: the texts.
            kind: "query" or "passage" (part of the key when the encoder uses it).

        Returns:
            float32 array (len(texts), encoder.dim).
        """
        parts = getattr(encoder, "parts", None)
        if parts is not None:  # a CombinedEncoder: each part is cached on its own
            return encoder.combine([self.encode(part, texts, kind) for part, _weight in parts])
        # Encoders that ignore `kind` (uses_kind False) share one entry for queries and passages.
        engine = f"{encoder.id}|{kind}" if getattr(encoder, "uses_kind", True) else f"{encoder.id}|passage"
        hashes = [content_hash(t) for t in texts]
        found: dict[str, np.ndarray] = {}
        unique = sorted(set(hashes))
        for start in range(0, len(unique), 500):
            chunk = unique[start:start + 500]
            marks = ",".join("?" * len(chunk))
            for key, blob in self._db.execute(
                    f"SELECT hash, vector FROM vectors WHERE engine = ? AND hash IN ({marks})", [engine, *chunk]):
                found[key] = np.frombuffer(blob, dtype=np.float32)
        missing: dict[str, str] = {}
        for key, text in zip(hashes, texts, strict=True):
            if key not in found:
                missing.setdefault(key, text)
        if missing:
            logger.info("encoding %d of %d texts with %s", len(missing), len(texts), encoder.id)
            vectors = encoder.encode(list(missing.values()), kind=kind)
            rows = [(engine, key, vec.astype(np.float32).tobytes()) for key, vec in zip(missing, vectors, strict=True)]
            with self._db:
                self._db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)", rows)
            found.update({key: vec for key, vec in zip(missing, vectors, strict=True)})
        out = np.zeros((len(texts), encoder.dim), dtype=np.float32)
        for row, key in enumerate(hashes):
            out[row] = found[key]
        return out
