"""Matching quality on the dev set: BM25, dense and hybrid, both query sets, plus cross-lingual checks.

`python -m bench.quality [--engine NAME] [--cache DIR]` prints one JSON object:

- ``h2020_titles`` and ``he``: for each method (bm25, dense, hybrid) the line that
  ``python -m embeddings.evaluate`` prints (nDCG@10, Recall@10, MRR@10, ...), and
  ``hybrid_over_bm25``: hybrid nDCG@10 / BM25 nDCG@10 (goal: >= 1.10 on titles, >= 1.00 on he);
- ``xling``: the line of ``python -m embeddings.evaluate xling`` (goal: every accuracy >= 0.90).

The corpus is indexed once and every run goes through `Embeddings.search`, the platform's code.
Without ``--cache`` the corpus is encoded once (a few minutes on 2 cores with USE multilingual v3).
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import time
from pathlib import Path
from typing import Any

from embeddings.encoders import DEFAULT_ENGINE
from embeddings.evaluate import build_engine, evaluate_engine, evaluate_xling, judged_only, load_set
from embeddings.ranking import METHODS

ROOT = Path(__file__).resolve().parent.parent
EVALDATA = Path(os.environ.get("PROEFTUIN_EVALDATA", ROOT.parent / "shared" / "evaldata"))
QUERY_SETS = ("h2020_titles", "he")


def main() -> None:
    """Run the evaluation and print one JSON object."""
    parser = argparse.ArgumentParser(prog="python -m bench.quality", description=__doc__.split("\n")[0])
    parser.add_argument("--engine", default=DEFAULT_ENGINE)
    parser.add_argument("--cache", default=None, help="folder to cache vectors in")
    parser.add_argument("--data", default=str(EVALDATA), help="the evaldata folder (with dev/ and xling/)")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("bm25s").setLevel(logging.WARNING)  # it sets DEBUG on itself
    started = time.perf_counter()
    dev = Path(args.data) / "dev"
    sets = {name: judged_only(load_set(str(dev / "corpus.jsonl"), str(dev / f"queries_{name}.jsonl"),
                                       str(dev / f"qrels_{name}.tsv"))) for name in QUERY_SETS}
    embeddings = build_engine(sets[QUERY_SETS[0]].docs, args.engine, "hybrid", args.cache)
    index_seconds = round(time.perf_counter() - started, 2)
    result: dict[str, Any] = {"engine": embeddings.encoder.id, "index_seconds": index_seconds}
    for name, data in sets.items():
        runs = {method: evaluate_engine(embeddings, data, method, args.cache) for method in METHODS}
        runs["hybrid_over_bm25"] = round(runs["hybrid"]["ndcg@10"] / runs["bm25"]["ndcg@10"], 4)
        result[name] = runs
    result["xling"] = evaluate_xling(str(Path(args.data) / "xling"), args.engine, args.cache)
    result["seconds"] = round(time.perf_counter() - started, 2)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
