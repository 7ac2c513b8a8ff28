"""What a match band means: the share of relevant results per band, measured on dev at several corpus sizes.

Run ``python -m bench.calibration [--engine NAME] [--cache DIR]``. On the dev corpus it ranks the
``h2020_titles`` queries in English, Dutch and French and the ``he`` queries with the hybrid search
and keeps every top-10 result with its parts and whether CORDIS judged it relevant (a stand-in for a
facilitator's decision until there are decisions), in four situations:

- ``full``: the whole corpus (2,347 projects);
- ``quarter``: a random quarter of it (relevant documents that fall out are simply not found);
- ``small_30`` and ``small_300``: for each query, its relevant documents among 30 or 300 random
  others, a platform in its first months that holds the right match.

The fused score is made of z-scores over the searched documents, so a score of 3 is a clear winner
among 30 documents and an ordinary one among 2,000: an isotonic curve on the fused score fitted on
the full corpus calls nearly everything "possible" on a small platform (``fused_only``). The model
kept (`embeddings.evidence.StrengthModel`) is a logistic regression on the fused score,
log(documents searched), their product and the raw cosine, fitted on every situation together and
cross-validated by query (5 folds: every result is calibrated by a model that never saw its query or
its translations). A probability of 0.5 is "strong match", 0.2 "good match", below "possible
match". It prints one JSON line with the coefficients and, per situation, the held-out precision
of each band; saved to ``bench/results/calibration.json`` (``calibration-<engine>.json`` for another
engine) and, with ``--write-model``, into ``embeddings/strength_models.json``.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import zlib
from pathlib import Path

import numpy as np
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

from embeddings.cache import VectorCache
from embeddings.encoders import DEFAULT_ENGINE, get_encoder
from embeddings.engine import Embeddings
from embeddings.evaluate import build_engine, load_language_sets
from embeddings.evidence import engine_name

ROOT = Path(__file__).resolve().parent.parent
EVALDATA = Path(os.environ.get("PROEFTUIN_EVALDATA", ROOT.parent / "shared" / "evaldata"))
RESULTS = ROOT / "bench" / "results" / "calibration.json"
MODELS = ROOT / "embeddings" / "strength_models.json"
TARGETS = (("strong", 0.5), ("good", 0.2))
FOLDS = 5
SITUATIONS = ("full", "quarter", "small_30", "small_300")


def query_sets() -> list[dict]:
    """The judged dev query sets (h2020 titles en/nl/fr, he), over one corpus."""
    dev, xling = EVALDATA / "dev", EVALDATA / "xling_retrieval" / "dev"
    files = [(str(dev / "queries_h2020_titles.jsonl"), str(dev / "qrels_h2020_titles.tsv")),
             (str(xling / "queries_h2020_titles.nl.jsonl"), str(xling / "qrels_h2020_titles.tsv")),
             (str(xling / "queries_h2020_titles.fr.jsonl"), str(xling / "qrels_h2020_titles.tsv"))]
    sets, _ = load_language_sets(str(dev / "corpus.jsonl"), files)
    he, _ = load_language_sets(str(dev / "corpus.jsonl"), [(str(dev / "queries_he.jsonl"), str(dev / "qrels_he.tsv"))])
    return [{"label": f"h2020.{label}", "data": data} for label, data in sets.items()] + \
        [{"label": "he.en", "data": he["en"]}]


def _row(situation: str, label: str, query_id: str, result, relevant: int) -> dict:
    return {"situation": situation, "key": query_id if label.startswith("h2020") else f"he:{query_id}",
            "score": float(result.score), "dense": float(result.parts.get("dense", 0.0)),
            "searched": float(result.parts.get("searched", 0.0)), "relevant": relevant}


def observations(engine: str, cache_dir: str | None, seed: int = 7) -> list[dict]:
    """Every top-10 hybrid result in every situation (see the module docstring)."""
    sets = query_sets()
    docs = sets[0]["data"].docs
    full = build_engine(docs, engine, "hybrid", cache_dir)
    rng = np.random.default_rng(seed)
    keep = rng.random(len(docs)) < 0.25
    quarter = build_engine([d for d, k in zip(docs, keep, strict=True) if k], engine, "hybrid", cache_dir)
    vectors = {doc.id: full.vectors(doc.id) for doc in docs}
    cache = VectorCache(cache_dir) if cache_dir else None
    rows: list[dict] = []
    for entry in sets:
        data, label = entry["data"], entry["label"]
        position = {doc_id: i for i, doc_id in enumerate(data.doc_ids)}
        for query_id, (text, language) in data.queries.items():
            judged = data.qrels.get(query_id, {})
            relevant = [position[d] for d, grade in judged.items() if grade > 0 and d in position]
            if not relevant:
                continue
            query_vectors = (cache.encode(full.encoder, full.texts_to_encode(text), kind="query")
                             if cache is not None else full.encode_query(text))
            engines = [("full", full), ("quarter", quarter)]
            for size in (30, 300):
                chosen = sorted(set(relevant) | {int(i) for i in rng.choice(len(docs), size, replace=False)})
                small = Embeddings(full.encoder, full.params)
                small.index([docs[i] for i in chosen], {docs[i].id: vectors[docs[i].id] for i in chosen})
                engines.append((f"small_{size}", small))
            for situation, engine_ in engines:
                for result in engine_.search(text, language, 10, query_vectors=query_vectors):
                    grade = int(judged.get(data.doc_ids[result.id], 0) > 0)
                    rows.append(_row(situation, label, query_id, result, grade))
    if cache is not None:
        cache.close()
    return rows


def features(rows: list[dict]) -> np.ndarray:
    """The strength model's inputs: fused, log(searched), their product, raw cosine."""
    out = np.zeros((len(rows), 4))
    for i, r in enumerate(rows):
        size = np.log(max(r["searched"], 2.0))
        out[i] = (r["score"], size, r["score"] * size, r["dense"])
    return out


def fold_of(key: str) -> int:
    return zlib.crc32(key.encode()) % FOLDS


def band_table(probability: np.ndarray, labels: np.ndarray) -> dict[str, dict]:
    """Results and precision per band."""
    strong, good = TARGETS[0][1], TARGETS[1][1]
    out = {}
    for name, low, high in (("strong", strong, np.inf), ("good", good, strong), ("possible", -np.inf, good)):
        inside = (probability >= low) & (probability < high)
        out[name] = {"results": int(inside.sum()),
                     "precision": round(float(labels[inside].mean()), 3) if inside.any() else None}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--engine", default=DEFAULT_ENGINE)
    parser.add_argument("--cache", default=None)
    parser.add_argument("--no-save", action="store_true")
    parser.add_argument("--write-model", action="store_true", help="store the model in embeddings/strength_models.json")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    rows = observations(args.engine, args.cache)
    x, y = features(rows), np.array([r["relevant"] for r in rows])
    folds = np.array([fold_of(r["key"]) for r in rows])
    situation = np.array([r["situation"] for r in rows])
    held_out, fused_only = np.zeros(len(rows)), np.zeros(len(rows))
    for fold in range(FOLDS):
        train, test = folds != fold, folds == fold
        model = LogisticRegression(C=1.0, max_iter=2000).fit(x[train], y[train])
        held_out[test] = model.predict_proba(x[test])[:, 1]
        # The previous calibration, for comparison: isotonic on the fused score, full corpus only.
        full_train = train & (situation == "full")
        curve = IsotonicRegression(out_of_bounds="clip", y_min=0, y_max=1).fit(x[full_train, 0], y[full_train])
        fused_only[test] = curve.predict(x[test, 0])
    final = LogisticRegression(C=1.0, max_iter=2000).fit(x, y)
    out: dict = {"engine": args.engine, "results": len(rows), "queries": len({r["key"] for r in rows}),
                 "coefficients": [round(float(final.intercept_[0]), 5), *[round(float(c), 5) for c in final.coef_[0]]],
                 "floors": dict(TARGETS), "situations": {}}
    for name in SITUATIONS:
        inside = situation == name
        out["situations"][name] = {
            "results": int(inside.sum()), "relevant_share": round(float(y[inside].mean()), 3),
            "searched_median": float(np.median([r["searched"] for r, k in zip(rows, inside, strict=True) if k])),
            "bands_held_out": band_table(held_out[inside], y[inside]),
            "brier_held_out": round(float(np.mean((held_out[inside] - y[inside]) ** 2)), 4),
            "fused_only_bands": band_table(fused_only[inside], y[inside]),
            "brier_fused_only": round(float(np.mean((fused_only[inside] - y[inside]) ** 2)), 4),
            "brier_constant": round(float(np.mean((y[inside].mean() - y[inside]) ** 2)), 4)}
    overall = band_table(held_out, y)
    out["precision"] = {name: band["precision"] for name, band in overall.items()}
    out["bands_held_out"] = overall
    print(json.dumps(out), flush=True)
    if not args.no_save:
        target = RESULTS if args.engine == DEFAULT_ENGINE else RESULTS.with_name(f"calibration-{args.engine}.json")
        target.write_text(json.dumps(out, indent=1) + "\n")
    if args.write_model:
        models = json.loads(MODELS.read_text()) if MODELS.exists() else {}
        models[engine_name(get_encoder(args.engine).id)] = {
            "coefficients": out["coefficients"], "floors": out["floors"], "precision": out["precision"],
            "measured": f"python -m bench.calibration --engine {args.engine} ({out['results']} top-10 results, "
                        f"{out['queries']} queries, four corpus sizes; precision held out by query)"}
        MODELS.write_text(json.dumps(models, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
