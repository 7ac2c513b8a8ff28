"""Does a learned re-ranking beat the hybrid? LightGBM LambdaRank over the score parts, cross-validated on dev.

Run ``python -m bench.ltr [--engine NAME] [--cache DIR] [--depth 30] [--folds 5] [--save FILE]``.

On the dev corpus (2,347 CORDIS projects) it runs the hybrid search for the ``h2020_titles`` queries
in English, Dutch and French (``xling_retrieval/dev``) and for the ``he`` queries, keeps each
query's best `depth` results with their parts (`embeddings.learned.feature_rows`) and its CORDIS
judgments, and cross-validates `embeddings.learned.train` by query: the folds are drawn by query id,
so a title and its translations are always in the same fold, and every query is re-ranked by a model
that saw neither it nor its translations. It prints one JSON object, per query set: nDCG@10 of BM25,
of the hybrid and of the learned re-ranking (with the learned / hybrid and learned / BM25 ratios,
and ``vs_en`` for the translations), then the mean over folds. ``--save`` writes the model trained
on all of dev (the one shipped in ``embeddings/models/``). Saved to ``bench/results/ltr.json``.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import time
import zlib
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
    load_set,
    score_run,
    translated_files,
)
from embeddings.learned import DEFAULT_DEPTH, DEFAULT_ROUNDS, JudgedList, train

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "ltr.json"
ENGINE = "use-multilingual-v3+e5-small"

logger = logging.getLogger(__name__)


def query_sets(data: Path) -> dict[str, EvalSet]:
    """The judged dev query sets over one corpus: h2020 titles in en/nl/fr, and he (English)."""
    dev = data / "dev"
    english = (str(dev / f"queries_{XLING_QUERY_SET}.jsonl"), str(dev / f"qrels_{XLING_QUERY_SET}.tsv"))
    files = [english, *translated_files(str(data / "xling_retrieval" / "dev"), *english)]
    sets, _ = load_language_sets(str(dev / "corpus.jsonl"), files)
    out = {f"{XLING_QUERY_SET}.{label}": value for label, value in sets.items()}
    out["he.en"] = load_set(str(dev / "corpus.jsonl"), str(dev / "queries_he.jsonl"), str(dev / "qrels_he.tsv"))
    return out


def judged_lists(embeddings: Embeddings, data: EvalSet, depth: int, cache: VectorCache | None,
                 method: str = "hybrid") -> dict[str, tuple[list[Any], JudgedList]]:
    """Per judged query: its best `depth` results and their features and grades."""
    from embeddings.learned import feature_rows

    out: dict[str, tuple[list[Any], JudgedList]] = {}
    for query_id, judged in data.qrels.items():
        if query_id not in data.queries or not any(v > 0 for v in judged.values()):
            continue
        text, language = data.queries[query_id]
        vectors = None
        if cache is not None and method != "bm25":
            vectors = cache.encode(embeddings.encoder, embeddings.texts_to_encode(text), kind="query")
        results = embeddings.search(text, language, depth, method=method, query_vectors=vectors)
        grades = np.array([judged.get(data.doc_ids[r.id], 0) for r in results], dtype=np.float64)
        out[query_id] = (results, JudgedList(features=feature_rows(results, text), grades=grades, key=query_id))
    return out


def fold_of(query_id: str, folds: int) -> int:
    """The fold of a query: by its id, so its translations share it."""
    return zlib.crc32(query_id.encode()) % folds


def run_of(data: EvalSet, ranked: Mapping[str, Sequence[int]]) -> dict[str, dict[str, float]]:
    """A ranx run from ranked document positions per query."""
    return {q: {data.doc_ids[i]: float(len(ids) - rank) for rank, i in enumerate(ids)} for q, ids in ranked.items()}


def evaluate(sets: Mapping[str, EvalSet], embeddings: Embeddings, cache_dir: str | None, depth: int,
             folds: int, rounds: int) -> tuple[dict[str, Any], list[JudgedList]]:
    """Cross-validated nDCG@10 per query set (see the module docstring), and every judged list."""
    cache = VectorCache(cache_dir) if cache_dir else None
    lists = {label: judged_lists(embeddings, data, depth, cache) for label, data in sets.items()}
    bm25 = {label: judged_lists(embeddings, data, 10, None, method="bm25") for label, data in sets.items()}
    if cache is not None:
        cache.close()
    learned_order: dict[str, dict[str, list[int]]] = {label: {} for label in sets}
    per_fold: list[dict[str, float]] = []
    for fold in range(folds):
        training = [judged for label in sets for q, (_r, judged) in lists[label].items() if fold_of(q, folds) != fold]
        model = train(training, rounds=rounds, depth=depth)
        for label in sets:
            for query_id, (results, judged) in lists[label].items():
                if fold_of(query_id, folds) != fold:
                    continue
                scores = model.scores(judged.features)
                order = sorted(range(len(results)), key=lambda i: (-scores[i], i))
                learned_order[label][query_id] = [results[i].id for i in order]
        per_fold.append({"training_lists": len(training)})
    report: dict[str, Any] = {}
    for label, data in sets.items():
        hybrid = run_of(data, {q: [r.id for r in results] for q, (results, _j) in lists[label].items()})
        lexical = run_of(data, {q: [r.id for r in results] for q, (results, _j) in bm25[label].items()})
        learned = run_of(data, learned_order[label])
        entry = {"queries": len(lists[label]),
                 "bm25": round(score_run(data.qrels, lexical)["ndcg@10"], 4),
                 "hybrid": round(score_run(data.qrels, hybrid)["ndcg@10"], 4),
                 "learned": round(score_run(data.qrels, learned)["ndcg@10"], 4)}
        entry["learned_vs_hybrid"] = round(entry["learned"] / entry["hybrid"], 4) if entry["hybrid"] else None
        entry["hybrid_vs_bm25"] = round(entry["hybrid"] / entry["bm25"], 4) if entry["bm25"] else None
        entry["learned_vs_bm25"] = round(entry["learned"] / entry["bm25"], 4) if entry["bm25"] else None
        report[label] = entry
    english = report.get(f"{XLING_QUERY_SET}.{REFERENCE_LANGUAGE}")
    for label, entry in report.items():
        if english and label.startswith(XLING_QUERY_SET) and label != f"{XLING_QUERY_SET}.{REFERENCE_LANGUAGE}":
            entry["hybrid_vs_en"] = round(entry["hybrid"] / english["hybrid"], 4)
            entry["learned_vs_en"] = round(entry["learned"] / english["learned"], 4)
    everything = [judged for label in sets for _r, judged in lists[label].values()]
    return {"sets": report, "folds": per_fold}, everything


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point; prints one JSON object."""
    parser = argparse.ArgumentParser(prog="python -m bench.ltr", description=__doc__.split("\n")[0])
    parser.add_argument("--engine", default=ENGINE)
    parser.add_argument("--cache", default=None, help="folder to cache vectors in")
    parser.add_argument("--depth", type=int, default=DEFAULT_DEPTH)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=DEFAULT_ROUNDS)
    parser.add_argument("--data", default=str(EVALDATA))
    parser.add_argument("--save", default=None, help="write the model trained on all of dev here")
    parser.add_argument("--no-results", action="store_true", help="do not write bench/results/ltr.json")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    logging.basicConfig(level=logging.WARNING)
    started = time.perf_counter()
    sets = query_sets(Path(args.data))
    embeddings = build_engine(next(iter(sets.values())).docs, args.engine, "hybrid", args.cache)
    result, everything = evaluate(sets, embeddings, args.cache, args.depth, args.folds, args.rounds)
    result = {"engine": embeddings.encoder.id, "depth": args.depth, "rounds": args.rounds, "folds_n": args.folds,
              **result}
    if args.save:
        model = train(everything, rounds=args.rounds, depth=args.depth)
        model.info.update({"trained_on": "dev judgments (h2020_titles en/nl/fr, he)", "engine": embeddings.encoder.id,
                           "cross_validated": result["sets"]})
        Path(args.save).parent.mkdir(parents=True, exist_ok=True)
        Path(args.save).write_text(model.to_json(), encoding="utf-8")
    result["seconds"] = round(time.perf_counter() - started, 1)
    if not args.no_results:
        RESULTS.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
