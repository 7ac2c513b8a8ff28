"""Latency of a whole suggestion at scale: encode, search, fuse, explain.

`python -m bench.suggestion_bench [--sizes 10000,100000,1000000] [--queries 100]` prints one JSON object.

Profiles are synthetic but clustered: each profile belongs to one of 2,000 topics; its text is
drawn from that topic's vocabulary plus common words, and its vector is the topic centre plus
noise (dim 512, like USE multilingual v3), so lexical and dense evidence agree as in real data.
Encoding real texts at 1M would take hours on 2 cores, which is why the vectors are synthetic; the
query encoding is measured separately with the real model on real challenge texts.

The pipeline is the platform's (proeftuin.services.matching.rank -> embeddings.Embeddings.search),
taken apart here to time its pieces: up to the exact limit the HybridRanker scores every allowed
profile; past it the FAISS index (exact below its threshold, HNSW above) proposes 500 dense
candidates, and the ranker fuses lexical and dense evidence over those; then the top 10 are
explained (the synthetic profiles have one vector each, so it is their document vector).
Figures are per query, one at a time: p50 and p99 in ms, and the ratio to the 10k figure
measured in the same process.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import sys
import time

import numpy as np
from tqdm import tqdm

from embeddings.encoders import HashingEncoder
from embeddings.index import VectorIndex
from embeddings.ranking import Document, HybridRanker

DIM = 512
TOPICS = 2000
EXACT_LIMIT = 20000  # proeftuin.config MATCHING_EXACT_LIMIT
CANDIDATES = 500  # proeftuin.config MATCHING_CANDIDATES
FREEZE = os.environ.get("BENCH_GC_FREEZE", "1") == "1"


class FixedDimEncoder(HashingEncoder):
    """Stands in for the real model inside the ranker: queries come with their vectors."""

    def __init__(self) -> None:
        super().__init__(dim=DIM)


def synthetic(n: int, rng: np.random.Generator, dim: int = DIM) -> tuple[list[Document], np.ndarray, np.ndarray]:
    common = [f"w{i}" for i in range(300)]
    vocab = [[f"t{t}x{j}" for j in range(40)] for t in range(TOPICS)]
    centres = rng.standard_normal((TOPICS, dim)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    topics = rng.integers(0, TOPICS, n)
    vectors = centres[topics] + 0.6 * rng.standard_normal((n, dim)).astype(np.float32) / np.sqrt(dim) * 8
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    docs = []
    for i in range(n):
        words = list(rng.choice(vocab[topics[i]], 12)) + list(rng.choice(common, 8))
        docs.append(Document(id=i + 1, text=" ".join(words), language="en"))
    return docs, vectors.astype(np.float32), topics


def percentile(values: list[float], q: float) -> float:
    return round(float(np.percentile(values, q)), 2)


def run_size(n: int, queries: int, rng: np.random.Generator) -> dict:
    started = time.perf_counter()
    docs, vectors, topics = synthetic(n, rng)
    made = time.perf_counter() - started
    ranker = HybridRanker(FixedDimEncoder())
    started = time.perf_counter()
    ranker.index(docs, vectors={d.id: vectors[i][None, :] for i, d in enumerate(docs)})
    ranker_build = time.perf_counter() - started
    started = time.perf_counter()
    ids = np.arange(1, n + 1, dtype=np.int64)
    index = VectorIndex.build(ids, vectors)
    faiss_build = time.perf_counter() - started
    allowed = set(range(1, n + 1))
    # The first query pays the ranker's lazy set-up (matrices, lexical statistics): not a suggestion.
    ranker.rank(docs[0].text, "en", k=10, allowed={1}, query_vectors=vectors[0][None, :])
    ranker.explain(docs[0].text, 1, "en", query_vectors=vectors[0][None, :], with_parts=False)
    if FREEZE:
        # What a worker does after loading its index (proeftuin.services.matching): the millions of
        # long-lived objects leave the garbage collector's generations, so a collection no longer
        # walks them in the middle of a request.
        gc.collect()
        gc.freeze()
    timings, search_only = [], []
    for _ in tqdm(range(queries), desc=f"{n} profiles", file=sys.stderr):
        doc = int(rng.integers(0, n))
        query_text = " ".join(docs[doc].text.split()[:8])
        query_vector = vectors[doc] + 0.05 * rng.standard_normal(DIM).astype(np.float32)
        query_vector /= np.linalg.norm(query_vector)
        started = time.perf_counter()
        candidates = allowed
        if n > EXACT_LIMIT:
            candidates = {hit.id for hit in index.search_one(query_vector, CANDIDATES)}
        ranked = ranker.rank(query_text, "en", k=10, allowed=candidates, query_vectors=query_vector[None, :])
        searched = time.perf_counter()
        for item in ranked:
            ranker.explain(query_text, item.id, "en", query_vectors=query_vector[None, :], with_parts=False)
        timings.append(1000 * (time.perf_counter() - started))
        search_only.append(1000 * (searched - started))
    return {
        "profiles": n,
        "path": "faiss candidates + fuse" if n > EXACT_LIMIT else "exact fuse over all",
        "faiss_layout": "HNSW" if index.is_approximate else "Flat (exact)",
        "synthetic_data_s": round(made, 1),
        "ranker_build_s": round(ranker_build, 1),
        "faiss_build_s": round(faiss_build, 1),
        "search_fuse_p50_ms": percentile(search_only, 50),
        "search_fuse_p99_ms": percentile(search_only, 99),
        "suggestion_p50_ms": percentile(timings, 50),
        "suggestion_p99_ms": percentile(timings, 99),
        "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def query_encoding(samples: int = 20) -> dict:
    """Real model, real challenge texts: the part the synthetic vectors leave out."""
    from embeddings.encoders import DEFAULT_ENGINE, get_encoder
    from embeddings.ranking import HybridRanker as Ranker

    path = os.path.join(os.path.dirname(__file__), "..", "proeftuin", "data", "demo_challenges.json")
    challenges = json.load(open(path, encoding="utf-8"))
    texts = ["\n".join([c["title"], c["summary"], c["problem"], c["desired_outcome"]]) for c in challenges]
    encoder = get_encoder(DEFAULT_ENGINE)
    ranker = Ranker(encoder)
    encoder.encode(["warm up"])
    timings = []
    for text in (texts * 3)[:samples]:
        started = time.perf_counter()
        ranker.encode_query(text + f" {len(timings)}")  # a fresh text each time (no cache)
        timings.append(1000 * (time.perf_counter() - started))
    return {"engine": encoder.id, "challenge_query_encode_p50_ms": percentile(timings, 50),
            "challenge_query_encode_p99_ms": percentile(timings, 99)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    rows = [run_size(int(n), args.queries, rng) for n in args.sizes.split(",")]
    base = rows[0]["suggestion_p99_ms"]
    for row in rows:
        row["p99_over_first_size"] = round(row["suggestion_p99_ms"] / base, 2)
    print(json.dumps({"benchmark": "whole suggestion (search, fuse, explain top 10) per query",
                      "gc_freeze": FREEZE,
                      "cores": len(os.sched_getaffinity(0)), "load_average": os.getloadavg()[0],
                      "sizes": rows, "query_encoding": query_encoding()}))


if __name__ == "__main__":
    main()
