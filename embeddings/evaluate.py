"""Evaluation command: the platform's search (`Embeddings.search`) on BEIR-like files.

Usage::

    python -m embeddings.evaluate --corpus C.jsonl --queries Q.jsonl --qrels R.tsv \
        [--method bm25|dense|hybrid] [--engine NAME] [--cache DIR] [--exact-limit N] [--candidates N]
    python -m embeddings.evaluate --corpus C.jsonl --queries Q.jsonl [--queries Q.nl.jsonl ...] \
        --qrels R.tsv [--qrels R.nl.tsv ...] [--xling-dir DIR] [--method ...] ...
    python -m embeddings.evaluate xling --dir DIR [--engine NAME] [--cache DIR]

Each prints one JSON line. Metrics come from `ranx`. `--exact-limit` below the corpus size measures
the approximate path (the vector index proposes `--candidates` documents per query first, as the
platform does past `MATCHING_EXACT_LIMIT`); the line then names the candidates.

Every query is searched in its own language: the `language` field of its JSON object ("en" when
absent) is passed to `Embeddings.search` as the query language, whatever the corpus's language.

With one query file the line is the metrics of that file (the format `bench.quality` and the tests
read). With several (`--queries` repeated, and/or `--xling-dir DIR`, which adds the translations
`DIR/<queries name>.<lang>.jsonl` of each query file, e.g. ``xling_retrieval/dev``), the corpus is
indexed once and the line holds one entry per query language under ``languages``, each with its
metrics and ``vs_en``: its metrics divided by those of the English file on the queries both share
(see `evaluate_languages`).
"""
from __future__ import annotations

import argparse
import csv
import glob
import json
import logging
import os
import sys
import time
from collections.abc import Mapping, Sequence
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
#: The language the other query languages are compared with (`vs_en`).
REFERENCE_LANGUAGE = "en"

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


def read_corpus(path: str) -> tuple[list[str], list[Document]]:
    """The corpus file's string ids and its documents, with integer ids 0..n-1 in file order."""
    rows = read_jsonl(path)
    doc_ids = [str(row["id"]) for row in rows]
    docs = [Document(id=i, text=f"{row.get('title') or ''}\n{row.get('text') or ''}".strip(),
                     language=row.get("language") or "en") for i, row in enumerate(rows)]
    return doc_ids, docs


def read_queries(path: str) -> dict[str, tuple[str, str]]:
    """Query id -> (text, language) from a JSONL file; the language is "en" when a row has none."""
    return {str(row["id"]): (row["text"], row.get("language") or "en") for row in read_jsonl(path)}


def load_set(corpus: str, queries: str, qrels: str) -> EvalSet:
    """Read the three files; documents get integer ids 0..n-1 in file order."""
    doc_ids, docs = read_corpus(corpus)
    return EvalSet(doc_ids=doc_ids, docs=docs, queries=read_queries(queries), qrels=read_qrels(qrels))


def build_engine(docs: Sequence[Document], engine: str, method: str, cache_dir: str | None,
                 params: RankingParams | None = None, exact_limit: int = DEFAULT_EXACT_LIMIT,
                 candidates: int = DEFAULT_CANDIDATES) -> Embeddings:
    """An engine over `docs`, as the platform builds one; vectors come from the cache when one is given.

    With whole-text pooling (`RankingParams.doc_pooling`, the default) the ranker scores row 0 only
    and the passage rows serve explanations, which the evaluation never asks for: only the whole
    texts are encoded then (the same scores, a fraction of the encoding time with a slow encoder).
    """
    encoder = get_encoder(engine)
    embeddings = Embeddings(encoder, params, exact_limit=exact_limit, candidates=candidates)
    vectors: dict[int, np.ndarray] = {}
    if method == "bm25":
        # BM25 needs no vectors: a zero row per document stands in for the unused dense part.
        vectors = {doc.id: np.zeros((1, encoder.dim), dtype=np.float32) for doc in docs}
    else:
        whole_only = embeddings.params.doc_pooling == "whole"
        texts: list[str] = []
        counts: list[int] = []
        for doc in docs:
            parts = [doc.text] if whole_only else embeddings.texts_to_encode(doc.text)
            texts += parts
            counts.append(len(parts))
        if cache_dir:
            cache = VectorCache(cache_dir)
            encoded = cache.encode(encoder, texts)
            cache.close()
        else:
            encoded = encoder.encode(texts, kind="passage")
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


def query_language(data: EvalSet) -> str | None:
    """The one language of the judged queries of `data` ("nl-BE" counts as "nl"), None when mixed."""
    languages = {data.queries[q][1].lower().replace("_", "-").split("-")[0]
                 for q in data.qrels if q in data.queries}
    return languages.pop() if len(languages) == 1 else None


def translated_files(directory: str, queries: str, qrels: str) -> list[tuple[str, str]]:
    """The translations of a query file in `directory`, with the judgements to score them by.

    For ``.../dev/queries_X.jsonl`` these are ``directory/queries_X.<lang>.jsonl`` or, when there
    are none, those in the subfolder named like the query file's folder (``directory/dev/``), in
    name order. Each is scored with
    ``qrels_*.tsv`` of the same name as `qrels` next to it when there is one, else with `qrels`.

    Args:
        directory: the folder of the translated query files (e.g. ``evaldata/xling_retrieval/dev``).
        queries: the original query file.
        qrels: the original judgements.

    Returns:
        (query file, qrels file) pairs.

    Raises:
        FileNotFoundError: no translation of `queries` is there.
    """
    stem = os.path.basename(queries).removesuffix(".jsonl")
    for folder in (directory, os.path.join(directory, os.path.basename(os.path.dirname(os.path.abspath(queries))))):
        found = sorted(glob.glob(os.path.join(glob.escape(folder), f"{glob.escape(stem)}.*.jsonl")))
        if found:
            beside = os.path.join(folder, os.path.basename(qrels))
            return [(path, beside if os.path.isfile(beside) else qrels) for path in found]
    raise FileNotFoundError(f"no translation {stem}.<lang>.jsonl of {queries} in {directory}")


def _ratios(data: EvalSet, run: dict[str, dict[str, float]], reference: EvalSet,
            reference_run: dict[str, dict[str, float]]) -> dict[str, float | None] | None:
    """Metrics of `run` over those of `reference_run` on the judged queries both query files hold (None
    when they share none; a metric's ratio is None where the reference scores 0)."""
    shared = [q for q in data.qrels if q in data.queries and q in reference.qrels and q in reference.queries]
    if not shared:
        return None
    mine = score_run({q: data.qrels[q] for q in shared}, {q: run.get(q, {}) for q in shared})
    theirs = score_run({q: reference.qrels[q] for q in shared}, {q: reference_run.get(q, {}) for q in shared})
    return {name: round(mine[name] / theirs[name], 4) if theirs[name] > 0 else None for name in METRICS}


def evaluate_languages(embeddings: Embeddings, sets: Mapping[str, EvalSet], method: str,
                       cache_dir: str | None = None, files: Mapping[str, str] | None = None,
                       reference: str = REFERENCE_LANGUAGE) -> dict[str, Any]:
    """Search several query sets over one indexed corpus, each query in its own language.

    Args:
        embeddings: an engine indexed over the sets' documents (the same corpus for every set).
        sets: the evaluation sets by label, usually the query language (judged queries only).
        method: "bm25", "dense" or "hybrid".
        cache_dir: a folder to cache query vectors in, or None.
        files: the query file of each label, named in its entry when given.
        reference: the label the others are compared with.

    Returns:
        method, engine, ``languages``, candidates (only when the approximate path ran) and seconds
        (query time). ``languages`` holds, by label: the metrics, n_queries, language (of its
        queries; None when mixed), queries (the file's name, with `files`), ``vs_en`` (when
        `reference` is among the sets: each metric divided by the reference's, both scored on the
        judged queries both query files hold; 1.0 for the reference itself) and seconds. As in a
        one-file run, a judged query missing from a query file counts 0 in that file's metrics and
        in n_queries.
    """
    started = time.perf_counter()
    runs: dict[str, dict[str, dict[str, float]]] = {}
    seconds: dict[str, float] = {}
    for label, data in sets.items():
        set_started = time.perf_counter()
        runs[label] = run_queries(embeddings, data, method, cache_dir=cache_dir)
        seconds[label] = round(time.perf_counter() - set_started, 2)
    languages: dict[str, dict[str, Any]] = {}
    for label, data in sets.items():
        metrics = score_run(data.qrels, runs[label])
        entry: dict[str, Any] = {**{name: round(value, 4) for name, value in metrics.items()},
                                 "n_queries": len(data.qrels), "language": query_language(data)}
        if files and label in files:
            entry["queries"] = os.path.basename(files[label])
        if reference in sets:
            ratios = _ratios(data, runs[label], sets[reference], runs[reference])
            if ratios is not None:
                entry["vs_en"] = ratios
        entry["seconds"] = seconds[label]
        languages[label] = entry
    result: dict[str, Any] = {"method": method, "engine": embeddings.encoder.id, "languages": languages}
    if embeddings.approximate and method != "bm25":
        result["candidates"] = embeddings.candidates
    result["seconds"] = round(time.perf_counter() - started, 2)
    return result


def load_language_sets(corpus: str, files: Sequence[tuple[str, str]]) -> tuple[dict[str, EvalSet], dict[str, str]]:
    """Read one corpus and several (query file, qrels file) pairs, labelled by query language.

    Args:
        corpus: JSONL with id, title, text (and optionally language).
        files: (queries JSONL, qrels TSV) pairs.

    Returns:
        The judged evaluation sets by label, and the query file of each label. The label is the
        language of the file's judged queries, or the file's name when they are of several languages.

    Raises:
        ValueError: two files get the same label (say, two English files): run them separately.
    """
    doc_ids, docs = read_corpus(corpus)
    sets: dict[str, EvalSet] = {}
    paths: dict[str, str] = {}
    for queries, qrels in files:
        data = judged_only(EvalSet(doc_ids=doc_ids, docs=docs, queries=read_queries(queries),
                                   qrels=read_qrels(qrels)))
        label = query_language(data) or os.path.basename(queries).removesuffix(".jsonl")
        if label in sets:
            raise ValueError(f"{queries} and {paths[label]} are both {label!r}: give one query file per language")
        sets[label], paths[label] = data, queries
    return sets, paths


def evaluate_sets(sets: Mapping[str, EvalSet], method: str = "hybrid", engine: str = DEFAULT_ENGINE,
                  cache_dir: str | None = None, params: RankingParams | None = None,
                  exact_limit: int = DEFAULT_EXACT_LIMIT, candidates: int = DEFAULT_CANDIDATES,
                  files: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Index the sets' corpus once and evaluate every set on it (see `evaluate_languages`).

    Args:
        sets: judged evaluation sets over one corpus, by label (as from `load_language_sets`).
        method: "bm25", "dense" or "hybrid".
        engine: the encoder name.
        cache_dir: a folder to cache text vectors in, or None.
        params: ranking parameters (the tuned defaults when None).
        exact_limit: the most documents ranked exactly (`Embeddings`).
        candidates: the candidates per query on the approximate path.
        files: the query file of each label, named in its entry when given.

    Returns:
        What `evaluate_languages` returns, with seconds counting the indexing too.
    """
    started = time.perf_counter()
    embeddings = build_engine(next(iter(sets.values())).docs, engine, method, cache_dir, params, exact_limit,
                              candidates)
    result = evaluate_languages(embeddings, sets, method, cache_dir, files=files)
    result["seconds"] = round(time.perf_counter() - started, 2)
    return result


def evaluate_files(corpus: str, files: Sequence[tuple[str, str]], method: str = "hybrid",
                   engine: str = DEFAULT_ENGINE, cache_dir: str | None = None,
                   params: RankingParams | None = None, exact_limit: int = DEFAULT_EXACT_LIMIT,
                   candidates: int = DEFAULT_CANDIDATES) -> dict[str, Any]:
    """Index the corpus once and evaluate several query files on it, one entry per query language.

    Args:
        corpus: JSONL with id, title, text (and optionally language).
        files: (queries JSONL, qrels TSV) pairs, e.g. English titles and their Dutch and French
            translations with the same judgements.
        method: "bm25", "dense" or "hybrid".
        engine: the encoder name.
        cache_dir: a folder to cache text vectors in, or None.
        params: ranking parameters (the tuned defaults when None).
        exact_limit: the most documents ranked exactly (`Embeddings`).
        candidates: the candidates per query on the approximate path.

    Returns:
        What `evaluate_languages` returns, with seconds counting the reading and indexing too.

    Raises:
        ValueError: two files get the same label (see `load_language_sets`).
    """
    started = time.perf_counter()
    sets, paths = load_language_sets(corpus, files)
    result = evaluate_sets(sets, method, engine, cache_dir, params, exact_limit, candidates, files=paths)
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
    parser.add_argument("--queries", required=True, action="append",
                        help="query JSONL (each row's `language` is the query language, default en); repeat "
                             "for several files, reported per language")
    parser.add_argument("--qrels", required=True, action="append",
                        help="judgements TSV: one for all query files, or one per --queries in order")
    parser.add_argument("--xling-dir", default=None,
                        help="also evaluate the translations <queries name>.<lang>.jsonl of each query file "
                             "found in this folder (e.g. evaldata/xling_retrieval/dev)")
    parser.add_argument("--method", choices=METHODS, default="hybrid")
    parser.add_argument("--engine", default=DEFAULT_ENGINE)
    parser.add_argument("--cache", default=None, help="folder to cache vectors in")
    parser.add_argument("--exact-limit", type=int, default=DEFAULT_EXACT_LIMIT,
                        help="most documents ranked exactly; above it the vector index proposes candidates")
    parser.add_argument("--candidates", type=int, default=DEFAULT_CANDIDATES,
                        help="candidates per query on the approximate path")
    args = parser.parse_args(argv)
    if len(args.qrels) not in (1, len(args.queries)):
        parser.error(f"give one --qrels for all query files or one per --queries ({len(args.queries)})")
    qrels = args.qrels if len(args.qrels) == len(args.queries) else args.qrels * len(args.queries)
    files = list(zip(args.queries, qrels, strict=True))
    if args.xling_dir:
        try:
            files += [pair for queries, judged in list(files)
                      for pair in translated_files(args.xling_dir, queries, judged)]
        except FileNotFoundError as error:
            parser.error(str(error))
    if len(files) == 1:
        print(json.dumps(evaluate_retrieval(args.corpus, *files[0], args.method, args.engine, args.cache,
                                            exact_limit=args.exact_limit, candidates=args.candidates)))
        return 0
    started = time.perf_counter()
    try:
        sets, paths = load_language_sets(args.corpus, files)
    except ValueError as error:
        parser.error(str(error))
    result = evaluate_sets(sets, args.method, args.engine, args.cache, exact_limit=args.exact_limit,
                           candidates=args.candidates, files=paths)
    result["seconds"] = round(time.perf_counter() - started, 2)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
