"""How often a search calls a query thin ("nothing fits well"), for real and for contentless queries.

Run ``python -m bench.thin_queries [--engine NAME] [--cache DIR]``. Over the dev corpus
(``../shared/evaldata/dev``, 2,347 CORDIS projects) it takes the title queries in English and their
Dutch and French translations (every one has a relevant document), and the 44 contentless queries of
``bench/thin_queries.json`` (random letters, stop words only, fillers, digits, in nl/fr/en). For each
query: the best dense cosine and the best BM25 score over the corpus. It prints one JSON line with
the share of each set that `embeddings.evidence` calls thin at the engine's floors, and the same for a
small grid of floors around them (how `evidence.FLOORS` were chosen); it is saved to
``bench/results/thin_queries.json`` (``thin_queries-<engine>.json`` for another engine).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from embeddings.encoders import DEFAULT_ENGINE
from embeddings.evaluate import build_engine, load_language_sets
from embeddings.evidence import floors

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "evaldata"
THIN = ROOT / "bench" / "thin_queries.json"
RESULTS = ROOT / "bench" / "results" / "thin_queries.json"


def evidence(embeddings, text: str, language: str) -> tuple[float, float]:
    dense = embeddings.search(text, language, 1, method="dense")
    lexical = embeddings.search(text, language, 1, method="bm25")
    return (dense[0].score if dense else 0.0), (lexical[0].score if lexical else 0.0)


def share(points: list[tuple[float, float]], dense_floor: float, lexical_floor: float) -> float:
    return round(float(np.mean([d < dense_floor and b < lexical_floor for d, b in points])), 3)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--engine", default=DEFAULT_ENGINE)
    parser.add_argument("--cache", default=None, help="folder to cache vectors in")
    parser.add_argument("--no-save", action="store_true")
    args = parser.parse_args(argv)
    dev, xling = DATA / "dev", DATA / "xling_retrieval" / "dev"
    files = [(str(dev / "queries_h2020_titles.jsonl"), str(dev / "qrels_h2020_titles.tsv"))]
    files += [(str(xling / f"queries_h2020_titles.{lang}.jsonl"), str(xling / "qrels_h2020_titles.tsv"))
              for lang in ("nl", "fr")]
    sets, _ = load_language_sets(str(dev / "corpus.jsonl"), files)
    embeddings = build_engine(next(iter(sets.values())).docs, args.engine, "hybrid", args.cache)
    real = {label: [evidence(embeddings, text, language) for text, language in data.queries.values()]
            for label, data in sets.items()}
    thin_queries = json.loads(THIN.read_text())["queries"]
    thin = [evidence(embeddings, q["text"], q["language"]) for q in thin_queries]
    chosen = floors(embeddings.encoder.id)
    # Fixed floors around USE's, and the contentless queries' own best cosines (another encoder's scale).
    dense_grid = sorted({0.15, 0.18, 0.2, 0.22, *np.percentile([d for d, _ in thin], [50, 75, 90, 95, 100])
                        .round(3).tolist()})
    row = {
        "engine": embeddings.encoder.id,
        "corpus_docs": len(embeddings),
        "floors": chosen,
        "real_queries": {label: len(points) for label, points in real.items()},
        "thin_queries": len(thin),
        "dense_max_percentiles_real": {label: np.percentile([d for d, _ in points], [1, 5, 50]).round(3).tolist()
                                       for label, points in real.items()},
        "dense_max_percentiles_thin": np.percentile([d for d, _ in thin], [50, 95, 100]).round(3).tolist(),
        "grid": [{"dense_floor": d, "lexical_floor": b, "thin_called_thin": share(thin, d, b),
                  "real_called_thin": {label: share(points, d, b) for label, points in real.items()}}
                 for d in dense_grid for b in (3.0, 5.0, 8.0)],
    }
    if chosen is not None:
        row["at_floors"] = {"thin_called_thin": share(thin, *chosen),
                            "real_called_thin": {label: share(points, *chosen) for label, points in real.items()}}
    print(json.dumps(row), flush=True)
    if not args.no_save:
        RESULTS.parent.mkdir(exist_ok=True)
        target = RESULTS if args.engine == DEFAULT_ENGINE else RESULTS.with_name(f"thin_queries-{args.engine}.json")
        target.write_text(json.dumps(row, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
