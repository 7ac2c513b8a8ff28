"""What a match score means: the share of relevant results per band, measured on dev, at two corpus sizes.

Run ``python -m bench.calibration [--engine NAME] [--cache DIR]``. On the dev corpus it ranks the
``h2020_titles`` queries in English, Dutch and French and the ``he`` queries with the hybrid search
and keeps every top-10 result with its parts and whether CORDIS judged it relevant (a stand-in for a
facilitator's decision until there are decisions). Two calibrations are compared, each
cross-validated by query (5 folds: every result is calibrated by a model that never saw its query):

- ``fused``: isotonic regression on the fused score. That score is made of z-scores over the
  searched documents, so its scale moves with the corpus size (and the candidate set).
- ``raw``: logistic regression on the raw cosine and log(1 + raw BM25) of the result, which do not
  depend on how many documents are searched (measured: it calibrates worse, see the Brier scores).

``fused.model`` is what `embeddings.evidence.STRENGTH_MODELS` holds for the engine (the pages' bands).

Band floors: the lowest calibrated probability reaching 0.5 is "strong match", 0.2 "good match";
below, "possible match". Then the same queries are run against a random quarter of the corpus
(``--subset``, the relevant documents that fall out simply are not found) and both calibrations, fitted
on the full corpus, are scored there: a band that means the same at both sizes keeps its precision.
One JSON line is printed and saved to ``bench/results/calibration.json`` (``calibration-<engine>.json``
for another engine).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

from embeddings.cache import VectorCache
from embeddings.encoders import DEFAULT_ENGINE
from embeddings.evaluate import build_engine, load_language_sets

ROOT = Path(__file__).resolve().parent.parent
EVALDATA = Path(os.environ.get("PROEFTUIN_EVALDATA", ROOT.parent / "shared" / "evaldata"))
RESULTS = ROOT / "bench" / "results" / "calibration.json"
TARGETS = (("strong", 0.5), ("good", 0.2))
FOLDS = 5


def observations(engine: str, cache: str | None, subset: float = 1.0, seed: int = 7) -> list[dict]:
    """Every top-10 hybrid result of every dev query set: query key, fused score, raw parts, relevance.

    Args:
        engine: the encoder name.
        cache: a folder to cache vectors in, or None.
        subset: the share of the corpus to search (a seeded random sample when below 1).
        seed: the sample's seed.
    """
    dev, xling = EVALDATA / "dev", EVALDATA / "xling_retrieval" / "dev"
    groups = [[(str(dev / "queries_h2020_titles.jsonl"), str(dev / "qrels_h2020_titles.tsv")),
               (str(xling / "queries_h2020_titles.nl.jsonl"), str(xling / "qrels_h2020_titles.tsv")),
               (str(xling / "queries_h2020_titles.fr.jsonl"), str(xling / "qrels_h2020_titles.tsv"))],
              [(str(dev / "queries_he.jsonl"), str(dev / "qrels_he.tsv"))]]
    rows: list[dict] = []
    embeddings = None
    vector_cache = VectorCache(cache) if cache else None
    for files in groups:
        sets, _ = load_language_sets(str(dev / "corpus.jsonl"), files)
        if embeddings is None:
            docs = next(iter(sets.values())).docs
            if subset < 1.0:
                keep = np.random.default_rng(seed).random(len(docs)) < subset
                docs = [doc for doc, kept in zip(docs, keep, strict=True) if kept]
            embeddings = build_engine(docs, engine, "hybrid", cache)
        for label, data in sets.items():
            for query_id, (text, language) in data.queries.items():
                judged = data.qrels.get(query_id, {})
                vectors = None
                if vector_cache is not None:
                    vectors = vector_cache.encode(embeddings.encoder, embeddings.texts_to_encode(text), kind="query")
                for result in embeddings.search(text, language, 10, query_vectors=vectors):
                    rows.append({"key": f"{files[0][0]}:{label}:{query_id}", "score": float(result.score),
                                 "dense": float(result.parts.get("dense", 0.0)),
                                 "lexical": float(result.parts.get("lexical", 0.0)),
                                 "relevant": int(judged.get(data.doc_ids[result.id], 0) > 0)})
    if vector_cache is not None:
        vector_cache.close()
    return rows


def raw_inputs(rows: list[dict]) -> np.ndarray:
    """The raw model's inputs: raw cosine and log(1 + raw BM25)."""
    return np.array([[r["dense"], np.log1p(max(r["lexical"], 0.0))] for r in rows])


def fit_raw(rows: list[dict]) -> LogisticRegression:
    """Logistic regression of relevance on the raw parts."""
    return LogisticRegression(C=10.0, max_iter=1000).fit(raw_inputs(rows), [r["relevant"] for r in rows])


def fit_fused(rows: list[dict]) -> IsotonicRegression:
    """Isotonic regression of relevance on the fused score."""
    return IsotonicRegression(out_of_bounds="clip", y_min=0, y_max=1).fit([r["score"] for r in rows],
                                                                          [r["relevant"] for r in rows])


def predict(kind: str, model, rows: list[dict]) -> np.ndarray:
    """Calibrated probabilities of `rows` by a model of `kind` ("fused" or "raw")."""
    if kind == "fused":
        return model.predict([r["score"] for r in rows])
    return model.predict_proba(raw_inputs(rows))[:, 1]


def band_table(probability: np.ndarray, labels: np.ndarray) -> dict[str, dict]:
    """Results, precision and mean calibrated probability per band."""
    strong, good = TARGETS[0][1], TARGETS[1][1]
    edges = [("strong", strong, np.inf), ("good", good, strong), ("possible", -np.inf, good)]
    out = {}
    for name, low, high in edges:
        inside = (probability >= low) & (probability < high)
        out[name] = {"results": int(inside.sum()),
                     "precision": round(float(labels[inside].mean()), 3) if inside.any() else None,
                     "mean_calibrated": round(float(probability[inside].mean()), 3) if inside.any() else None}
    return out


def floor_table(scores: list[float], labels: np.ndarray, floors: dict[str, float | None]) -> dict[str, dict]:
    """Results and precision per band when the bands are drawn by fused-score floors."""
    values = np.array(scores)
    strong = np.inf if floors["strong"] is None else floors["strong"]
    good = strong if floors["good"] is None else floors["good"]
    out = {}
    for name, low, high in (("strong", strong, np.inf), ("good", good, strong), ("possible", -np.inf, good)):
        inside = (values >= low) & (values < high)
        out[name] = {"results": int(inside.sum()),
                     "precision": round(float(labels[inside].mean()), 3) if inside.any() else None}
    return out


def cross_validated(kind: str, rows: list[dict]) -> np.ndarray:
    """Held-out probabilities: each query's results calibrated by a model fitted on the other folds."""
    queries = sorted({r["key"] for r in rows})
    fold_of = {key: n % FOLDS for n, key in enumerate(np.random.default_rng(7).permutation(queries).tolist())}
    folds = np.array([fold_of[r["key"]] for r in rows])
    held_out = np.zeros(len(rows))
    fit = fit_fused if kind == "fused" else fit_raw
    for fold in range(FOLDS):
        train = [r for r, f in zip(rows, folds, strict=True) if f != fold]
        test = [r for r, f in zip(rows, folds, strict=True) if f == fold]
        held_out[folds == fold] = predict(kind, fit(train), test)
    return held_out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--engine", default=DEFAULT_ENGINE)
    parser.add_argument("--cache", default=None)
    parser.add_argument("--subset", type=float, default=0.25, help="share of the corpus for the scale check")
    parser.add_argument("--no-save", action="store_true")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    rows = observations(args.engine, args.cache)
    small = observations(args.engine, args.cache, subset=args.subset)
    labels = np.array([r["relevant"] for r in rows])
    small_labels = np.array([r["relevant"] for r in small])
    out: dict = {"engine": args.engine, "results": len(rows), "queries": len({r["key"] for r in rows}),
                 "relevant_share": round(float(labels.mean()), 3), "subset": args.subset,
                 "subset_results": len(small), "subset_relevant_share": round(float(small_labels.mean()), 3)}
    for kind in ("fused", "raw"):
        held_out = cross_validated(kind, rows)
        full_model = fit_fused(rows) if kind == "fused" else fit_raw(rows)
        on_small = predict(kind, full_model, small)
        entry = {"bands_held_out": band_table(held_out, labels),
                 "brier_held_out": round(float(np.mean((held_out - labels) ** 2)), 4),
                 "bands_on_subset": band_table(on_small, small_labels),
                 "brier_on_subset": round(float(np.mean((on_small - small_labels) ** 2)), 4)}
        if kind == "fused":
            scores = np.array([r["score"] for r in rows])
            grid = np.linspace(scores.min(), scores.max(), 2000)
            probability = full_model.predict(grid)
            floors = {name: (round(float(grid[probability >= target].min()), 2)
                             if (probability >= target).any() else None) for name, target in TARGETS}
            # Knots for `StrengthModel`: where each step of the isotonic curve starts, and its end.
            xs, ps = full_model.X_thresholds_, full_model.y_thresholds_
            starts = [0] + [i for i in range(1, len(ps)) if ps[i] > ps[i - 1] + 1e-9] + [len(ps) - 1]
            knots = [[round(float(xs[i]), 3), round(float(ps[i]), 4)] for i in sorted(set(starts))]
            by_floor = floor_table([r["score"] for r in rows], labels, floors)
            entry["model"] = {"knots": knots, "floors": floors,
                              "precision": {name: band["precision"] for name, band in by_floor.items()}}
            # The bands as the pages draw them (score floors, not probabilities), on the subset too.
            entry["bands_by_floor"] = by_floor
            entry["bands_by_floor_on_subset"] = floor_table([r["score"] for r in small], small_labels, floors)
        else:
            entry["coefficients"] = {"bias": round(float(full_model.intercept_[0]), 4),
                                     "dense": round(float(full_model.coef_[0][0]), 4),
                                     "log1p_bm25": round(float(full_model.coef_[0][1]), 4)}
        out[kind] = entry
    out["brier_constant"] = round(float(np.mean((labels.mean() - labels) ** 2)), 4)
    print(json.dumps(out), flush=True)
    if not args.no_save:
        target = RESULTS if args.engine == DEFAULT_ENGINE else RESULTS.with_name(f"calibration-{args.engine}.json")
        target.write_text(json.dumps(out, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
