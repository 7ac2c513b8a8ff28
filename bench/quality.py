"""Matching quality on the dev set: BM25, dense and hybrid, both query sets, plus cross-lingual checks.

`python -m bench.quality [--engine NAME] [--cache DIR]` prints one JSON object:

- ``h2020_titles`` and ``he``: for each method (bm25, dense, hybrid) the line that
  ``python -m embeddings.evaluate`` prints (nDCG@10, Recall@10, MRR@10, ...), and
  ``hybrid_over_bm25``: hybrid nDCG@10 / BM25 nDCG@10 (goal: >= 1.10 on titles, >= 1.00 on he);
- ``xling_retrieval``: the ``h2020_titles`` queries in English and in their Dutch and French
  translations (``xling_retrieval/dev``, English documents): for each method the line that
  ``python -m embeddings.evaluate --queries ... --xling-dir ...`` prints (per query language the
  metrics and ``vs_en``, the ratio to the English queries), and ``hybrid_vs_en``: each language's
  hybrid nDCG@10 / the English queries' (goal: >= 0.75 for nl and fr);
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
from embeddings.engine import Embeddings
from embeddings.evaluate import (
    REFERENCE_LANGUAGE,
    build_engine,
    evaluate_engine,
    evaluate_languages,
    evaluate_xling,
    judged_only,
    load_language_sets,
    load_set,
    translated_files,
)
from embeddings.ranking import METHODS

ROOT = Path(__file__).resolve().parent.parent
EVALDATA = Path(os.environ.get("PROEFTUIN_EVALDATA", ROOT.parent / "shared" / "evaldata"))
QUERY_SETS = ("h2020_titles", "he")
#: The query set whose translations `xling_retrieval/dev` holds.
XLING_QUERY_SET = "h2020_titles"


def xling_retrieval(embeddings: Embeddings, data: Path, cache: str | None) -> dict[str, Any]:
    """The English `XLING_QUERY_SET` queries and their translations, every method, on `embeddings`.

    Args:
        embeddings: the engine indexed over ``dev/corpus.jsonl``.
        data: the evaldata folder.
        cache: a folder to cache query vectors in, or None.

    Returns:
        The `evaluate_languages` line per method and ``hybrid_vs_en`` (hybrid nDCG@10 ratio to the
        English queries, per other language); ``{"missing": folder}`` when the translations are absent.
    """
    dev, translations = data / "dev", data / "xling_retrieval" / "dev"
    english = (str(dev / f"queries_{XLING_QUERY_SET}.jsonl"), str(dev / f"qrels_{XLING_QUERY_SET}.tsv"))
    try:
        files = [english, *translated_files(str(translations), *english)]
    except FileNotFoundError:
        return {"missing": str(translations)}
    sets, paths = load_language_sets(str(dev / "corpus.jsonl"), files)
    result: dict[str, Any] = {method: evaluate_languages(embeddings, sets, method, cache, files=paths)
                              for method in METHODS}
    result["hybrid_vs_en"] = {label: entry["vs_en"]["ndcg@10"]
                              for label, entry in result["hybrid"]["languages"].items()
                              if label != REFERENCE_LANGUAGE and "vs_en" in entry}
    return result


def main() -> None:
    """Run the evaluation and print one JSON object."""
    parser = argparse.ArgumentParser(prog="python -m bench.quality", description=__doc__.split("\n")[0])
    parser.add_argument("--engine", default=DEFAULT_ENGINE)
    parser.add_argument("--cache", default=None, help="folder to cache vectors in")
    parser.add_argument("--data", default=str(EVALDATA),
                        help="the evaldata folder (with dev/, xling/ and xling_retrieval/)")
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
    result["xling_retrieval"] = xling_retrieval(embeddings, Path(args.data), args.cache)
    result["xling"] = evaluate_xling(str(Path(args.data) / "xling"), args.engine, args.cache)
    result["seconds"] = round(time.perf_counter() - started, 2)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
