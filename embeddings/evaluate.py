"""Evaluation command: the platform's search (`Embeddings.search`) on BEIR-like files.

Usage::

    python -m embeddings.evaluate --corpus C.jsonl --queries Q.jsonl --qrels R.tsv \
        [--method bm25|dense|hybrid] [--engine NAME] [--cache DIR] [--exact-limit N] [--candidates N]
    python -m embeddings.evaluate xling --dir DIR [--engine NAME] [--cache DIR]

Each prints one JSON line. Metrics come from `ranx`. `--exact-limit` below the corpus size measures
the approximate path (the vector index proposes `--candidates` documents per query first, as the
platform does past `MATCHING_EXACT_LIMIT`); the line then names the candidates.
"""
from __future__ import annotations

import argparse
import csv
import json
import logging
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .cache import VectorCache
from .encoders import DEFAULT_ENGINE, Encoder, get_encoder
from .engine import DEFAULT_CANDIDATES, DEFAULT_EXACT_LIMIT, Embeddings
from .ranking import METHODS, Document, RankingParams

logger = logging.getLogger(__name__)

METRICS = ("ndcg@10", "recall@10", "mrr@10")
#: Results per query handed to ranx (the metrics look at the first 10).
RUN_DEPTH = 100

#: (name, source file, target file) of the cross-lingual checks, both directions each.
XLING_PAIRS = (
    ("tatoeba.nld-eng", "tatoeba.nld-eng.nld", "tatoeba.nld-eng.eng"),
    ("tatoeba.fra-eng", "tatoeba.fra-eng.fra", "tatoeba.fra-eng.eng"),
    ("flores.nld-eng", "flores.nld.devtest", "flores.eng.devtest"),
    ("flores.fra-eng", "flores.fra.devtest", "flores.eng.devtest"),
    ("flores.nld-fra", "flores.nld.devtest", "flores.fra.devtest"),
)


@dataclass
class EvalSet:
    """Documents, queries and judgements, read from files."""

    doc_ids: list[str]
    docs: list[Document]
    queries: dict[str, tuple[str, str]]  # query id -> (text, language)
    qrels: dict[str, dict[str, int]]


def read_jsonl(path: str) -> list[dict[str, Any]]:
    """The JSON objects of a JSON-lines file (blank lines skipped)."""
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def read_qrels(path: str) -> dict[str, dict[str, int]]:
    """A TSV with header `query_id doc_id relevance` as {query: {doc: relevance}}."""
    qrels: dict[str, dict[str, int]] = {}
    with open(path, encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            qrels.setdefault(row["query_id"], {})[row["doc_id"]] = int(row["relevance"])
    return qrels


def load_set(corpus: str, queries: str, qrels: str) -> EvalSet:
    """Read the three files; documents get integer ids 0..n-1 in file order."""
    rows = read_jsonl(corpus)
    doc_ids = [str(row["id"]) for row in rows]
    docs = [Document(id=i, text=f"{row.get('title') or ''}\n{row.get('text') or ''}".strip(),
                     language=row.get("language") or "en") for i, row in enumerate(rows)]
    query_rows = {str(row["id"]): (row["text"], row.get("language") or "en") for row in read_jsonl(queries)}
    return EvalSet(doc_ids=doc_ids, docs=docs, queries=query_rows, qrels=read_qrels(qrels))


def build_engine(docs: Sequence[Document], engine: str, method: str, cache_dir: str | None,
                 params: RankingParams | None = None, exact_limit: int = DEFAULT_EXACT_LIMIT,
                 candidates: int = DEFAULT_CANDIDATES) -> Embeddings:
    """An engine over `docs`, as the platform builds one; vectors come from the cache when one is given."""
    encoder = get_encoder(engine)
    embeddings = Embeddings(encoder, params, exact_limit=exact_limit, candidates=candidates)
    vectors: dict[int, np.ndarray] = {}
    if method == "bm25":
        # BM25 needs no vectors: a zero row per document stands in for the unused dense part.
        vectors = {doc.id: np.zeros((1, encoder.dim), dtype=np.float32) for doc in docs}
    elif cache_dir:
        cache = VectorCache(cache_dir)
        texts: list[str] = []
        counts: list[int] = []
        for doc in docs:
            parts = embeddings.texts_to_encode(doc.text)
            texts += parts
            counts.append(len(parts))
        encoded = cache.encode(encoder, texts)
        cache.close()
        start = 0
        for doc, count in zip(docs, counts, strict=True):
            vectors[doc.id] = encoded[start:start + count]
            start += count
    embeddings.index(docs, vectors)
    return embeddings


def run_queries(embeddings: Embeddings, data: EvalSet, method: str, depth: int = RUN_DEPTH,
                cache_dir: str | None = None) -> dict[str, dict[str, float]]:
    """Rank every judged query; the run as {query: {doc: score}} with the files' string ids."""
    run: dict[str, dict[str, float]] = {}
    cache = VectorCache(cache_dir) if cache_dir and method != "bm25" else None
    for query_id in data.qrels:
        if query_id not in data.queries:
            continue
        text, language = data.queries[query_id]
        vectors = None
        if cache is not None:
            vectors = cache.encode(embeddings.encoder, embeddings.texts_to_encode(text), kind="query")
        ranked = embeddings.search(text, language, depth, method=method, query_vectors=vectors)
        run[query_id] = {data.doc_ids[r.id]: r.score for r in ranked}
    if cache is not None:
        cache.close()
    return run


def score_run(qrels: dict[str, dict[str, int]], run: dict[str, dict[str, float]]) -> dict[str, float]:
    """nDCG@10, Recall@10 and MRR@10 by ranx, over the judged queries (unanswered ones count 0)."""
    from ranx import Qrels, Run, evaluate

    ranx_run = Run({q: (docs or {}) for q, docs in run.items()})
    scores = evaluate(Qrels(qrels), ranx_run, list(METRICS), make_comparable=True)
    return {name: float(scores[name]) for name in METRICS}


def judged_only(data: EvalSet) -> EvalSet:
    """Keep the queries that have at least one relevant document (as ranx counts them)."""
    data.qrels = {q: judged for q, judged in data.qrels.items() if any(v > 0 for v in judged.values())}
    return data


def evaluate_engine(embeddings: Embeddings, data: EvalSet, method: str,
                    cache_dir: str | None = None) -> dict[str, Any]:
    """Search every judged query of `data` with `embeddings` and score the run with ranx.

    Args:
        embeddings: an engine indexed over `data.docs`.
        data: the evaluation set (judged queries only, see `judged_only`).
        method: "bm25", "dense" or "hybrid".
        cache_dir: a folder to cache query vectors in, or None.

    Returns:
        The metrics (rounded to 4 decimals), n_queries, method, engine, candidates (only when the
        approximate path ran) and seconds (query time).
    """
    started = time.perf_counter()
    run = run_queries(embeddings, data, method, cache_dir=cache_dir)
    metrics = score_run(data.qrels, run)
    result = {**{name: round(value, 4) for name, value in metrics.items()}, "n_queries": len(data.qrels),
              "method": method, "engine": embeddings.encoder.id}
    if embeddings.approximate and method != "bm25":
        result["candidates"] = embeddings.candidates
    result["seconds"] = round(time.perf_counter() - started, 2)
    return result


def evaluate_retrieval(corpus: str, queries: str, qrels: str, method: str = "hybrid",
                       engine: str = DEFAULT_ENGINE, cache_dir: str | None = None,
                       params: RankingParams | None = None, exact_limit: int = DEFAULT_EXACT_LIMIT,
                       candidates: int = DEFAULT_CANDIDATES) -> dict[str, Any]:
    """Index the corpus, search every judged query with `Embeddings.search`, score with ranx.

    Args:
        corpus: JSONL with id, title, text (and optionally language).
        queries: JSONL with id, text (and optionally language).
        qrels: TSV with header `query_id doc_id relevance`.
        method: "bm25", "dense" or "hybrid".
        engine: the encoder name.
        cache_dir: a folder to cache text vectors in, or None.
        params: ranking parameters (the tuned defaults when None).
        exact_limit: the most documents ranked exactly (`Embeddings`); a smaller corpus size
            measures the approximate path.
        candidates: the candidates per query on the approximate path.

    Returns:
        The metrics, n_queries, method, engine and seconds (indexing included).
    """
    started = time.perf_counter()
    data = judged_only(load_set(corpus, queries, qrels))
    embeddings = build_engine(data.docs, engine, method, cache_dir, params, exact_limit, candidates)
    result = evaluate_engine(embeddings, data, method, cache_dir)
    result["seconds"] = round(time.perf_counter() - started, 2)
    return result


def _read_lines(path: str) -> list[str]:
    with open(path, encoding="utf-8") as handle:
        return [line.strip() for line in handle.read().splitlines()]


def bitext_accuracy(source: np.ndarray, target: np.ndarray) -> tuple[float, float]:
    """Share of rows whose nearest target (by cosine) is the aligned one, in both directions."""
    sims = source @ target.T
    truth = np.arange(len(source))
    forward = float((sims.argmax(axis=1) == truth).mean())
    backward = float((sims.argmax(axis=0) == truth).mean())
    return forward, backward


def evaluate_xling(directory: str, engine: str = DEFAULT_ENGINE, cache_dir: str | None = None) -> dict[str, Any]:
    """Bitext retrieval accuracy on Tatoeba and FLORES (nld/fra/eng), both directions.

    Args:
        directory: the folder with the xling files (see its README).
        engine: the encoder name.
        cache_dir: a folder to cache text vectors in, or None.

    Returns:
        accuracy per direction ("tatoeba.nld->eng", ...), min_accuracy, engine and seconds.
    """
    started = time.perf_counter()
    encoder: Encoder = get_encoder(engine)
    cache = VectorCache(cache_dir) if cache_dir else None
    vectors: dict[str, np.ndarray] = {}

    def encode(name: str) -> np.ndarray:
        if name not in vectors:
            lines = _read_lines(os.path.join(directory, name))
            vectors[name] = cache.encode(encoder, lines) if cache else encoder.encode(lines)
        return vectors[name]

    result: dict[str, Any] = {}
    for label, source_file, target_file in XLING_PAIRS:
        corpus, pair = label.split(".")
        source_lang, target_lang = pair.split("-")
        forward, backward = bitext_accuracy(encode(source_file), encode(target_file))
        result[f"{corpus}.{source_lang}->{target_lang}"] = round(forward, 4)
        result[f"{corpus}.{target_lang}->{source_lang}"] = round(backward, 4)
    if cache:
        cache.close()
    accuracies = list(result.values())
    result.update(min_accuracy=min(accuracies), engine=encoder.id, seconds=round(time.perf_counter() - started, 2))
    return result


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point; prints one JSON line."""
    argv = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("bm25s").setLevel(logging.WARNING)  # it sets DEBUG on itself
    if argv and argv[0] == "xling":
        parser = argparse.ArgumentParser(prog="python -m embeddings.evaluate xling")
        parser.add_argument("--dir", required=True, help="folder with the Tatoeba and FLORES files")
        parser.add_argument("--engine", default=DEFAULT_ENGINE)
        parser.add_argument("--cache", default=None, help="folder to cache vectors in")
        args = parser.parse_args(argv[1:])
        print(json.dumps(evaluate_xling(args.dir, args.engine, args.cache)))
        return 0
    parser = argparse.ArgumentParser(prog="python -m embeddings.evaluate")
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--queries", required=True)
    parser.add_argument("--qrels", required=True)
    parser.add_argument("--method", choices=METHODS, default="hybrid")
    parser.add_argument("--engine", default=DEFAULT_ENGINE)
    parser.add_argument("--cache", default=None, help="folder to cache vectors in")
    parser.add_argument("--exact-limit", type=int, default=DEFAULT_EXACT_LIMIT,
                        help="most documents ranked exactly; above it the vector index proposes candidates")
    parser.add_argument("--candidates", type=int, default=DEFAULT_CANDIDATES,
                        help="candidates per query on the approximate path")
    args = parser.parse_args(argv)
    print(json.dumps(evaluate_retrieval(args.corpus, args.queries, args.qrels, args.method, args.engine,
                                        args.cache, exact_limit=args.exact_limit, candidates=args.candidates)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
