"""What a match score means: the share of relevant results per score band, measured on dev.

Run ``python -m bench.calibration [--engine NAME] [--cache DIR]``. On the dev corpus it ranks the
``h2020_titles`` queries in English, Dutch and French and the ``he`` queries with the hybrid search
and keeps every top-10 result with its fused score and whether CORDIS judged it relevant (a stand-in
for a facilitator's decision until there are decisions). It fits an isotonic regression from score to
P(relevant), cross-validated by query (5 folds: every result is calibrated by a model that never saw
its query), reads the band floors off it (the lowest score whose calibrated probability reaches 0.5
for "strong match" and 0.2 for "good match"; below: "possible match"), and prints one JSON line with
the floors and, per band, the measured precision of the held-out results; saved to
``bench/results/calibration.json``. `embeddings.evidence.BANDS` holds the floors chosen from it.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np
from sklearn.isotonic import IsotonicRegression

from embeddings.encoders import DEFAULT_ENGINE
from embeddings.evaluate import build_engine, load_language_sets

ROOT = Path(__file__).resolve().parent.parent
EVALDATA = Path(os.environ.get("PROEFTUIN_EVALDATA", ROOT.parent / "shared" / "evaldata"))
RESULTS = ROOT / "bench" / "results" / "calibration.json"
TARGETS = (("strong", 0.5), ("good", 0.2))
FOLDS = 5


def observations(engine: str, cache: str | None) -> list[tuple[str, float, int]]:
    """(query key, fused score, relevant 0/1) for every top-10 hybrid result of every dev query set."""
    dev, xling = EVALDATA / "dev", EVALDATA / "xling_retrieval" / "dev"
    groups = [[(str(dev / "queries_h2020_titles.jsonl"), str(dev / "qrels_h2020_titles.tsv")),
               (str(xling / "queries_h2020_titles.nl.jsonl"), str(xling / "qrels_h2020_titles.tsv")),
               (str(xling / "queries_h2020_titles.fr.jsonl"), str(xling / "qrels_h2020_titles.tsv"))],
              [(str(dev / "queries_he.jsonl"), str(dev / "qrels_he.tsv"))]]
    rows: list[tuple[str, float, int]] = []
    embeddings = None
    for files in groups:
        sets, _ = load_language_sets(str(dev / "corpus.jsonl"), files)
        if embeddings is None:
            embeddings = build_engine(next(iter(sets.values())).docs, engine, "hybrid", cache)
        for label, data in sets.items():
            for query_id, (text, language) in data.queries.items():
                judged = data.qrels.get(query_id, {})
                for result in embeddings.search(text, language, 10):
                    relevant = int(judged.get(data.doc_ids[result.id], 0) > 0)
                    rows.append((f"{files[0][0]}:{label}:{query_id}", float(result.score), relevant))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--engine", default=DEFAULT_ENGINE)
    parser.add_argument("--cache", default=None)
    parser.add_argument("--no-save", action="store_true")
    args = parser.parse_args(argv)
    rows = observations(args.engine, args.cache)
    queries = sorted({key for key, _, _ in rows})
    fold_of = {key: n % FOLDS for n, key in enumerate(np.random.default_rng(7).permutation(queries).tolist())}
    scores = np.array([s for _, s, _ in rows])
    labels = np.array([r for _, _, r in rows])
    folds = np.array([fold_of[key] for key, _, _ in rows])
    held_out = np.zeros(len(rows))
    for fold in range(FOLDS):
        model = IsotonicRegression(out_of_bounds="clip", y_min=0, y_max=1).fit(scores[folds != fold],
                                                                             labels[folds != fold])
        held_out[folds == fold] = model.predict(scores[folds == fold])
    full = IsotonicRegression(out_of_bounds="clip", y_min=0, y_max=1).fit(scores, labels)
    grid = np.linspace(scores.min(), scores.max(), 2000)
    probability = full.predict(grid)
    floors = {}
    for name, target in TARGETS:
        reached = grid[probability >= target]
        floors[name] = round(float(reached.min()), 2) if reached.size else None
    bands = {}
    edges = [("strong", floors["strong"], np.inf), ("good", floors["good"], floors["strong"]),
             ("possible", -np.inf, floors["good"])]
    for name, low, high in edges:
        low = -np.inf if low is None else low
        high = np.inf if high is None else high
        inside = (scores >= low) & (scores < high)
        bands[name] = {"results": int(inside.sum()),
                       "precision": round(float(labels[inside].mean()), 3) if inside.any() else None,
                       "mean_calibrated_held_out": round(float(held_out[inside].mean()), 3) if inside.any() else None}
    row = {"engine": args.engine, "results": len(rows), "queries": len(queries), "relevant_share":
           round(float(labels.mean()), 3), "floors": floors, "bands": bands,
           "brier_held_out": round(float(np.mean((held_out - labels) ** 2)), 4),
           "brier_constant": round(float(np.mean((labels.mean() - labels) ** 2)), 4)}
    print(json.dumps(row), flush=True)
    if not args.no_save:
        RESULTS.write_text(json.dumps(row, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
