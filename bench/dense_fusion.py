"""Offline fusion of several dense encoders with BM25, per query language: what a ranker that fuses
two encoders would score, measured before the ranker is changed.

`python -m bench.dense_fusion --engine use-multilingual-v3 --engine e5-small [--cache DIR]` prints one
JSON object. For the ``h2020_titles`` queries in English and their Dutch and French translations
(``xling_retrieval/dev``; documents in English), and for each language:

- ``<engine>``: that engine's own ``dense`` and ``hybrid`` metrics, taken from `Embeddings.search`;
- ``offline_<engine>``: the same hybrid recomputed here from the score parts (a check of this
  script: it must equal ``<engine>``'s hybrid);
- ``zsum``: the dense cosines of all engines z-normalised over the corpus and summed with
  ``--weights`` (``dense``), and that sum z-normalised again in place of the one dense part of the
  ranker's fusion (``hybrid``: lexical z-scores over same-language documents, the dense part
  standing in for the lexical one of other-language documents, ``dense_weight`` from
  `RankingParams`);
- ``cosine_sum``: the raw cosines summed with fixed weights ``1 / spread`` (``cosine_spread``: the
  median over the English queries of each engine's standard deviation of cosines over the corpus),
  then fused as the ranker fuses one dense part: what `CombinedEncoder` gives the ranker (one vector,
  one inner product), against the per-query ``zsum`` it approximates;
- ``*_all_lexical``: hybrid as above, but the BM25 of the query (its own stemmer) is also used
  against documents of another language instead of being replaced by the dense part (what shared
  acronyms, names and cognates are worth across languages).

Every figure has ``vs_en``: nDCG@10 divided by the English queries' for the same variant. Nothing
here changes the ranking code; it only reads the parts `Embeddings.search` reports.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bench.quality import EVALDATA, XLING_QUERY_SET
from embeddings.cache import VectorCache
from embeddings.engine import Embeddings
from embeddings.evaluate import (
    REFERENCE_LANGUAGE,
    EvalSet,
    build_engine,
    load_language_sets,
    score_run,
    translated_files,
)
from embeddings.lexical import language_of
from embeddings.ranking import RankingParams

logger = logging.getLogger(__name__)


def zscore(values: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """(values - mean) / std over the masked entries, as the ranker normalises (0 outside the mask)."""
    mask = np.ones(values.shape, dtype=bool) if mask is None else mask
    out = np.zeros(values.shape, dtype=np.float64)
    if not mask.any():
        return out
    selected = values[mask].astype(np.float64)
    std = float(selected.std())
    out[mask] = (selected - float(selected.mean())) / (std if std > 1e-9 else 1.0)
    return out


def score_parts(embeddings: Embeddings, data: EvalSet, cache_dir: str | None) -> dict[str, dict[str, np.ndarray]]:
    """For every judged query, the raw dense cosine, hybrid BM25 and fused score of every document, by id.

    Args:
        embeddings: an engine over `data.docs` (the exact path: every document is scored).
        data: the evaluation set.
        cache_dir: a folder to cache query vectors in, or None.

    Returns:
        {query id: {"dense": (n_docs,), "lexical": (n_docs,), "fused": (n_docs,)}}; "fused" is the
        engine's own hybrid score.
    """
    n_docs = len(data.docs)
    cache = VectorCache(cache_dir) if cache_dir else None
    out: dict[str, dict[str, np.ndarray]] = {}
    for query_id in data.qrels:
        if query_id not in data.queries:
            continue
        text, language = data.queries[query_id]
        vectors = None
        if cache is not None:
            vectors = cache.encode(embeddings.encoder, embeddings.texts_to_encode(text), kind="query")
        ranked = embeddings.search(text, language, n_docs, method="hybrid", query_vectors=vectors)
        dense, lexical, fused = np.zeros(n_docs), np.zeros(n_docs), np.full(n_docs, -np.inf)
        for result in ranked:
            dense[result.id] = result.parts["dense"]
            lexical[result.id] = result.parts["lexical"]
            fused[result.id] = result.score
        out[query_id] = {"dense": dense, "lexical": lexical, "fused": fused}
    if cache is not None:
        cache.close()
    return out


def fuse(lexical: np.ndarray, dense: np.ndarray, same_language: np.ndarray, dense_weight: float,
         all_lexical: bool = False) -> np.ndarray:
    """The ranker's convex fusion (`HybridRanker._fuse`: exact path, Rocchio feedback
    off, as by default) of one query.

    Args:
        lexical: raw BM25 per document.
        dense: the dense score per document (already z-normalised or not: it is normalised here).
        same_language: documents in the query's language.
        dense_weight: weight of the dense part.
        all_lexical: normalise and use BM25 over every document, whatever its language.

    Returns:
        The fused score per document.
    """
    lexical_mask = np.ones_like(same_language) if all_lexical else same_language
    lexical_n = zscore(lexical, lexical_mask)
    dense_n = zscore(dense)
    lexical_n = np.where(lexical_mask, lexical_n, dense_n)
    return (1.0 - dense_weight) * lexical_n + dense_weight * dense_n


def to_run(data: EvalSet, scores: Mapping[str, np.ndarray], depth: int = 100) -> dict[str, dict[str, float]]:
    """The top `depth` documents of each query as a ranx run (ties by document position)."""
    run: dict[str, dict[str, float]] = {}
    for query_id, values in scores.items():
        order = np.lexsort((np.arange(len(values)), -values))[:depth]
        run[query_id] = {data.doc_ids[i]: float(values[i]) for i in order}
    return run


def evaluate_variants(sets: Mapping[str, EvalSet], engines: Sequence[str], weights: Sequence[float],
                      cache_dir: str | None, params: RankingParams) -> dict[str, Any]:
    """Every variant for every language (see the module docstring).

    Args:
        sets: judged evaluation sets by language, over one corpus.
        engines: encoder names.
        weights: the weight of each encoder's z-score in ``zsum``.
        cache_dir: a folder to cache vectors in, or None.
        params: ranking parameters (for ``dense_weight``).

    Returns:
        {language: {variant: {"dense"|"hybrid": metrics with vs_en}}}.
    """
    docs = next(iter(sets.values())).docs
    doc_languages = np.array([language_of(doc.language) for doc in docs])
    parts: dict[str, dict[str, dict[str, dict[str, np.ndarray]]]] = {}  # engine -> language -> query -> part
    engine_ids: dict[str, str] = {}
    for engine in engines:
        embeddings = build_engine(docs, engine, "hybrid", cache_dir, params)
        engine_ids[engine] = embeddings.encoder.id
        parts[engine] = {label: score_parts(embeddings, data, cache_dir) for label, data in sets.items()}
    reference = REFERENCE_LANGUAGE if REFERENCE_LANGUAGE in sets else next(iter(sets))
    spread = {e: float(np.median([float(np.std(p["dense"])) for p in parts[e][reference].values()]))
              for e in engines}
    runs: dict[str, dict[str, dict[str, dict[str, dict[str, float]]]]] = {}
    w = params.dense_weight
    for label, data in sets.items():
        variants: dict[str, dict[str, dict[str, np.ndarray]]] = {}
        queries = list(parts[engines[0]][label])
        same = {q: doc_languages == language_of(data.queries[q][1]) for q in queries}
        for engine in engines:
            p = parts[engine][label]
            variants[engine] = {"dense": {q: p[q]["dense"] for q in queries},
                                "hybrid": {q: p[q]["fused"] for q in queries}}
            variants[f"offline_{engine}"] = {"hybrid": {q: fuse(p[q]["lexical"], p[q]["dense"], same[q], w)
                                                        for q in queries}}
            variants[f"{engine}_all_lexical"] = {"hybrid": {q: fuse(p[q]["lexical"], p[q]["dense"], same[q], w, True)
                                                            for q in queries}}
        if len(engines) > 1:
            lexical = {q: parts[engines[0]][label][q]["lexical"] for q in queries}
            zsum = {q: sum(weight * zscore(parts[e][label][q]["dense"]) for e, weight in zip(engines, weights,
                                                                                             strict=True))
                    for q in queries}
            variants["zsum"] = {"dense": zsum, "hybrid": {q: fuse(lexical[q], zsum[q], same[q], w) for q in queries}}
            variants["zsum_all_lexical"] = {"hybrid": {q: fuse(lexical[q], zsum[q], same[q], w, True)
                                                       for q in queries}}
            total = sum(1.0 / spread[e] for e in engines)
            cosine_sum = {q: sum((1.0 / spread[e] / total) * parts[e][label][q]["dense"] for e in engines)
                          for q in queries}
            variants["cosine_sum"] = {"dense": cosine_sum,
                                      "hybrid": {q: fuse(lexical[q], cosine_sum[q], same[q], w) for q in queries}}
        runs[label] = {name: {method: to_run(data, scores) for method, scores in methods.items()}
                       for name, methods in variants.items()}
    result: dict[str, Any] = {"engines": engine_ids, "weights": list(weights), "dense_weight": w,
                              "cosine_spread": {e: round(v, 4) for e, v in spread.items()}}
    for label, data in sets.items():
        entry: dict[str, Any] = {}
        for name, methods in runs[label].items():
            entry[name] = {}
            for method, run in methods.items():
                metrics = {k: round(v, 4) for k, v in score_run(data.qrels, run).items()}
                if REFERENCE_LANGUAGE in sets:
                    reference = sets[REFERENCE_LANGUAGE]
                    shared = [q for q in data.qrels if q in reference.qrels]
                    mine = score_run({q: data.qrels[q] for q in shared}, {q: run.get(q, {}) for q in shared})
                    theirs_run = runs[REFERENCE_LANGUAGE][name][method]
                    theirs = score_run({q: reference.qrels[q] for q in shared},
                                       {q: theirs_run.get(q, {}) for q in shared})
                    if theirs["ndcg@10"] > 0:
                        metrics["vs_en"] = round(mine["ndcg@10"] / theirs["ndcg@10"], 4)
                entry[name][method] = metrics
        result[label] = entry
    return result


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point; prints one JSON object."""
    parser = argparse.ArgumentParser(prog="python -m bench.dense_fusion", description=__doc__.split("\n")[0])
    parser.add_argument("--engine", action="append", required=True, help="an encoder name; repeat for each")
    parser.add_argument("--weights", type=float, nargs="*", default=None,
                        help="weight of each engine's dense z-score in zsum (default 1 each)")
    parser.add_argument("--cache", default=None, help="folder to cache vectors in")
    parser.add_argument("--data", default=str(EVALDATA),
                        help="the evaldata folder (with dev/ and xling_retrieval/)")
    args = parser.parse_args(argv)
    weights = args.weights or [1.0] * len(args.engine)
    if len(weights) != len(args.engine):
        parser.error("give one --weights value per --engine")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    started = time.perf_counter()
    data = Path(args.data)
    dev = data / "dev"
    english = (str(dev / f"queries_{XLING_QUERY_SET}.jsonl"), str(dev / f"qrels_{XLING_QUERY_SET}.tsv"))
    files = [english, *translated_files(str(data / "xling_retrieval" / "dev"), *english)]
    sets, _ = load_language_sets(str(dev / "corpus.jsonl"), files)
    result = evaluate_variants(sets, args.engine, weights, args.cache, RankingParams())
    result["seconds"] = round(time.perf_counter() - started, 2)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
