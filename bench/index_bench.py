"""Benchmark of the vector index: exact Flat against HNSW, on synthetic clustered vectors.

Run ``python -m bench.index_bench [--sizes 10000,100000,1000000] [--dim 512] [--queries 200]``. It prints
one JSON object to stdout (progress goes to stderr) and writes the same object to
``bench/results/index.json``.

Data: ``--clusters`` centres drawn uniformly on the unit sphere; each point is a centre plus noise,
L2-normalised. The noise is mostly low-rank (a shared ``--noise-rank``-dimensional subspace) plus a
little isotropic noise: sentence embeddings have a low intrinsic dimension, whereas purely isotropic
noise in 512 dimensions makes every point of a cluster nearly equidistant from a query, which measures
ties rather than search. Queries are corpus points perturbed the same way, more weakly.

Per size: build time, single-query latency p50/p99 (ms, k=10, one query at a time through
``VectorIndex.search_one``) for exact and HNSW, recall@10 of HNSW against exact search (the exact batch
search is the ground truth), serialised index size and process max RSS. Latency is measured with
FAISS on all CPUs (the library default) and on one OpenMP thread.
At ``--sweep-sizes``: an ``efSearch`` sweep; at ``--tombstone-size``: a check with 10 % of the ids removed
(tombstones). First: a crossover sweep of small sizes to find where exact p99 exceeds HNSW p99. At
``--ivf-sizes``: an IVF-Flat comparison (raw FAISS, not ``VectorIndex``). Beware that IVF looks perfect
here because its coarse clustering can recover the generator's 2,000 Gaussian clusters exactly; real
embeddings are not that tidy, so the IVF figures are an upper bound, not a reason to switch.

Absolute timings depend on the machine and on whatever else runs on it (the load average is recorded);
ratios of figures measured in the same process are the ones to quote.
"""
from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import platform
import resource
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from embeddings import index as index_module
from embeddings.index import Hit, VectorIndex, configure_threads

logger = logging.getLogger(__name__)

RESULTS = Path(__file__).resolve().parent / "results" / "index.json"
K = 10
GOALS = {100_000: 50.0, 1_000_000: 100.0}  # size -> p99 budget in ms for the approximate index
GOAL_RECALL = 0.95


# ----------------------------------------------------------------------------------------------- data


class ClusteredData:
    """Generator of clustered, L2-normalised synthetic vectors.

    Args:
        dim: Vector dimension.
        clusters: Number of cluster centres on the unit sphere.
        noise_rank: Dimension of the shared subspace holding most of the within-cluster noise.
        noise: Norm of the low-rank noise added to a centre (the centre has norm 1).
        iso_noise: Norm of the isotropic noise added to a centre.
        seed: Random seed.
    """

    def __init__(
        self, dim: int, clusters: int, noise_rank: int, noise: float, iso_noise: float, seed: int
    ) -> None:
        self.dim, self.noise, self.iso_noise = dim, noise, iso_noise
        self.rng = np.random.default_rng(seed)
        self.centres = _normalise(self.rng.standard_normal((clusters, dim), dtype=np.float32))
        basis, _ = np.linalg.qr(self.rng.standard_normal((dim, noise_rank)))
        self.basis = np.ascontiguousarray(basis.T, dtype=np.float32)  # (rank, dim), orthonormal rows

    def _noise(self, n: int, scale: float) -> np.ndarray:
        rank = self.basis.shape[0]
        low = self.rng.standard_normal((n, rank), dtype=np.float32) @ self.basis * (self.noise / np.sqrt(rank))
        iso = self.rng.standard_normal((n, self.dim), dtype=np.float32) * (self.iso_noise / np.sqrt(self.dim))
        return (low + iso) * scale

    def points(self, n: int, chunk: int = 100_000) -> np.ndarray:
        """Return ``n`` points, each a random centre plus noise, normalised."""
        out = np.empty((n, self.dim), dtype=np.float32)
        for start in tqdm(range(0, n, chunk), desc=f"data {n:,}", file=sys.stderr, leave=False):
            m = min(chunk, n - start)
            centre = self.centres[self.rng.integers(0, len(self.centres), m)]
            out[start : start + m] = _normalise(centre + self._noise(m, 1.0))
        return out

    def queries(self, corpus: np.ndarray, n: int, scale: float = 0.35) -> np.ndarray:
        """Return ``n`` queries: random corpus points perturbed by ``scale`` times the cluster noise."""
        picked = corpus[self.rng.integers(0, corpus.shape[0], n)]
        return _normalise(picked + self._noise(n, scale))


def _normalise(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x / np.linalg.norm(x, axis=1, keepdims=True), dtype=np.float32)


def make_ids(n: int, rng: np.random.Generator) -> np.ndarray:
    """Database-like ids: unique, not equal to positions, in shuffled order."""
    return (rng.permutation(n).astype(np.int64) * 3 + 1_000).astype(np.int64)


# ------------------------------------------------------------------------------------------ measuring


def percentiles(ms: Sequence[float]) -> dict[str, float]:
    """p50, p99, mean and max of latencies in milliseconds."""
    arr = np.asarray(ms, dtype=np.float64)
    return {
        "p50_ms": round(float(np.percentile(arr, 50)), 3),
        "p99_ms": round(float(np.percentile(arr, 99)), 3),
        "mean_ms": round(float(arr.mean()), 3),
        "max_ms": round(float(arr.max()), 3),
    }


def timed_queries(search: Callable[[np.ndarray], list[int]], queries: np.ndarray, desc: str, warmup: int = 10) -> tuple[
    dict[str, float], list[list[int]]
]:
    """Run queries one at a time; return latency figures and the ids each query returned."""
    for q in queries[:warmup]:
        search(q)
    times, results = [], []
    for q in tqdm(queries, desc=desc, file=sys.stderr, leave=False):
        started = time.perf_counter()
        ids = search(q)
        times.append((time.perf_counter() - started) * 1000.0)
        results.append(ids)
    return percentiles(times), results


def index_search(index: VectorIndex) -> Callable[[np.ndarray], list[int]]:
    """Single-query search through the library, returning ids."""

    def run(q: np.ndarray) -> list[int]:
        hits: list[Hit] = index.search_one(q, K)
        return [h.id for h in hits]

    return run


def recall(found: list[list[int]], truth: list[list[int]]) -> float:
    """Mean recall@k of ``found`` against ``truth`` (both one id list per query)."""
    values = [len(set(f) & set(t)) / len(t) for f, t in zip(found, truth, strict=True) if t]
    return round(float(np.mean(values)), 4)


def serialized_bytes(faiss_index: Any) -> int:
    """Size of the FAISS index as ``write_index`` would store it, without holding a copy."""
    import faiss

    total = 0

    def count(data: bytes) -> int:
        nonlocal total
        total += len(data)
        return len(data)

    faiss.write_index(faiss_index, faiss.PyCallbackIOWriter(count))
    return total


def max_rss_bytes() -> int:
    """Peak resident set size of this process (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def current_rss_bytes() -> int:
    """Current resident set size of this process."""
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:  # pragma: no cover - not Linux
        return 0


def load_average() -> float:
    """One-minute load average (other work on the machine skews timings)."""
    return round(os.getloadavg()[0], 2)


def latency_by_threads(
    search: Callable[[np.ndarray], list[int]], queries: np.ndarray, desc: str, threads: dict[str, int]
) -> tuple[dict[str, dict[str, float]], list[list[int]]]:
    """Latency under each OpenMP thread setting; the results of the first (default) setting."""
    out: dict[str, dict[str, float]] = {}
    first: list[list[int]] | None = None
    for label, n in threads.items():
        configure_threads(n)
        out[label], results = timed_queries(search, queries, f"{desc} {label}")
        first = results if first is None else first
    configure_threads(threads["default"])
    assert first is not None
    return out, first


def ratio(a: float, b: float) -> float | None:
    return round(a / b, 2) if b > 0 else None


# ------------------------------------------------------------------------------------------ scenarios


def bench_size(
    n: int, data: ClusteredData, args: argparse.Namespace, threads: dict[str, int], rng: np.random.Generator
) -> dict[str, Any]:
    """Exact and HNSW at one size (plus the ef sweep, tombstones and IVF where asked)."""
    logger.info("size %d: generating data", n)
    x = data.points(n)
    ids = make_ids(n, rng)
    queries = data.queries(x, args.queries)
    row: dict[str, Any] = {"n": n, "load_average_start": load_average()}

    started = time.perf_counter()
    exact = VectorIndex.build(ids, x, approximate_above=n)
    row["exact_build_s"] = round(time.perf_counter() - started, 3)
    assert not exact.is_approximate
    started = time.perf_counter()
    exact_hits = exact.search(queries, K)
    row["ground_truth_batch_s"] = round(time.perf_counter() - started, 3)
    truth = [[h.id for h in hits] for hits in exact_hits]
    # How hard the data is: mean cosine of the 1st (the perturbed source point), 2nd and 10th neighbour.
    row["mean_cosine_rank_1_2_10"] = [round(float(np.mean([h[r].score for h in exact_hits])), 3) for r in (0, 1, 9)]
    row["exact_latency"], exact_found = latency_by_threads(index_search(exact), queries, f"exact {n:,}", threads)
    row["exact_single_vs_batch_recall"] = recall(exact_found, truth)  # 1.0 unless float ties reorder
    row["exact_index_bytes"] = serialized_bytes(exact._index)
    del exact
    gc.collect()

    rss_before = current_rss_bytes()
    started = time.perf_counter()
    approx = VectorIndex.build(
        ids,
        x,
        approximate_above=0,
        hnsw_m=args.hnsw_m,
        ef_search=args.ef_search,
        ef_construction=args.ef_construction,
    )
    row["approx_build_s"] = round(time.perf_counter() - started, 3)
    row["approx_rss_delta_bytes"] = current_rss_bytes() - rss_before
    assert approx.is_approximate
    row["approx_index"] = f"HNSW{args.hnsw_m},Flat efConstruction={args.ef_construction} efSearch={args.ef_search}"
    row["approx_latency"], found = latency_by_threads(index_search(approx), queries, f"hnsw {n:,}", threads)
    row["approx_recall_at_10"] = recall(found, truth)
    row["approx_index_bytes"] = serialized_bytes(approx._index)
    row["exact_p99_over_approx_p99"] = {
        label: ratio(row["exact_latency"][label]["p99_ms"], row["approx_latency"][label]["p99_ms"]) for label in threads
    }

    if n in args.sweep_sizes:
        row["ef_sweep"] = ef_sweep(approx, queries, truth, args)
    if n == args.tombstone_size:
        row["tombstones"] = tombstone_check(approx, x, ids, queries, rng, args)
    del approx
    gc.collect()
    if n in args.ivf_sizes:
        row["ivf"] = ivf_bench(x, ids, queries, truth, args, rng)
    row["max_rss_bytes"] = max_rss_bytes()
    row["load_average_end"] = load_average()
    del x
    gc.collect()
    return row


def ef_sweep(index: VectorIndex, queries: np.ndarray, truth: list[list[int]], args: argparse.Namespace) -> list[dict]:
    """Recall@10 and latency of one HNSW index for several ``efSearch`` values."""
    rows = []
    for ef in args.ef_values:
        index.ef_search = ef
        lat, found = timed_queries(index_search(index), queries, f"ef {ef}")
        rows.append({"ef_search": ef, "recall_at_10": recall(found, truth), **lat})
    index.ef_search = args.ef_search
    return rows


def tombstone_check(
    index: VectorIndex,
    x: np.ndarray,
    ids: np.ndarray,
    queries: np.ndarray,
    rng: np.random.Generator,
    args: argparse.Namespace,
) -> dict[str, Any]:
    """Remove 10 % of the ids from the HNSW index: none may come back; recall against the live set."""
    n = ids.size
    removed_mask = np.zeros(n, dtype=bool)
    removed_mask[rng.choice(n, n // 10, replace=False)] = True
    started = time.perf_counter()
    count = index.remove(ids[removed_mask])
    remove_s = time.perf_counter() - started
    live = np.flatnonzero(~removed_mask)
    scores = queries @ x[live].T
    top = np.argsort(-scores, axis=1)[:, :K]
    truth = [ids[live[row]].tolist() for row in top]
    lat, found = timed_queries(index_search(index), queries, "tombstones")
    removed = set(ids[removed_mask].tolist())
    return {
        "removed": count,
        "remove_s": round(remove_s, 3),
        "live": len(index),
        "tombstones": index.deleted_count,
        "removed_ids_returned": sum(1 for row in found for i in row if i in removed),
        "recall_at_10": recall(found, truth),
        **lat,
    }


def ivf_bench(
    x: np.ndarray,
    ids: np.ndarray,
    queries: np.ndarray,
    truth: list[list[int]],
    args: argparse.Namespace,
    rng: np.random.Generator,
) -> dict[str, Any]:
    """IVF-Flat (raw FAISS, inner product) as an alternative to HNSW: build time and an nprobe sweep."""
    import faiss

    n = ids.size
    nlist = args.ivf_nlist or int(4 * np.sqrt(n) // 64 * 64) or 64
    train_n = min(n, nlist * 64)
    index = faiss.index_factory(x.shape[1], f"IVF{nlist},Flat", faiss.METRIC_INNER_PRODUCT)
    started = time.perf_counter()
    index.train(x[rng.choice(n, train_n, replace=False)])
    train_s = time.perf_counter() - started
    for start in tqdm(range(0, n, 100_000), desc="ivf add", file=sys.stderr, leave=False):
        index.add_with_ids(x[start : start + 100_000], ids[start : start + 100_000])
    build_s = time.perf_counter() - started
    sweep = []
    for nprobe in args.nprobe_values:
        params = faiss.SearchParametersIVF(nprobe=nprobe)

        def run(q: np.ndarray, params: Any = params) -> list[int]:
            _, labels = index.search(q.reshape(1, -1), K, params=params)
            return [int(i) for i in labels[0] if i >= 0]

        lat, found = timed_queries(run, queries, f"ivf nprobe {nprobe}")
        sweep.append({"nprobe": nprobe, "recall_at_10": recall(found, truth), **lat})
    return {
        "index": f"IVF{nlist},Flat (raw FAISS, trained on {train_n:,} points)",
        "train_s": round(train_s, 3),
        "build_s": round(build_s, 3),
        "index_bytes": serialized_bytes(index),
        "nprobe_sweep": sweep,
    }


def crossover(data: ClusteredData, args: argparse.Namespace, threads: dict[str, int], rng: np.random.Generator) -> dict:
    """Exact and HNSW p99 at small sizes, and the first size where exact p99 exceeds HNSW p99."""
    largest = max(args.crossover_sizes)
    x_all = data.points(largest)
    ids_all = make_ids(largest, rng)
    rows = []
    for n in args.crossover_sizes:
        x, ids = x_all[:n], ids_all[:n]
        queries = data.queries(x, args.crossover_queries)
        exact = VectorIndex.build(ids, x, approximate_above=n)
        truth = [[h.id for h in hits] for hits in exact.search(queries, K)]
        exact_lat, _ = latency_by_threads(index_search(exact), queries, f"x-exact {n:,}", threads)
        started = time.perf_counter()
        approx = VectorIndex.build(
            ids, x, approximate_above=0, hnsw_m=args.hnsw_m, ef_search=args.ef_search,
            ef_construction=args.ef_construction,
        )
        build_s = time.perf_counter() - started
        approx_lat, found = latency_by_threads(index_search(approx), queries, f"x-hnsw {n:,}", threads)
        rows.append(
            {
                "n": n,
                "exact_p50_ms": {t: exact_lat[t]["p50_ms"] for t in threads},
                "exact_p99_ms": {t: exact_lat[t]["p99_ms"] for t in threads},
                "approx_p50_ms": {t: approx_lat[t]["p50_ms"] for t in threads},
                "approx_p99_ms": {t: approx_lat[t]["p99_ms"] for t in threads},
                "exact_p99_over_approx_p99": {
                    t: ratio(exact_lat[t]["p99_ms"], approx_lat[t]["p99_ms"]) for t in threads
                },
                "approx_recall_at_10": recall(found, truth),
                "approx_build_s": round(build_s, 3),
                "load_average": load_average(),
            }
        )
        del exact, approx
        gc.collect()
    first = {
        t: next((r["n"] for r in rows if r["exact_p99_ms"][t] > r["approx_p99_ms"][t]), None) for t in threads
    }
    first_p50 = {
        t: next((r["n"] for r in rows if r["exact_p50_ms"][t] > r["approx_p50_ms"][t]), None) for t in threads
    }
    return {
        "queries": args.crossover_queries,
        "rows": rows,
        "first_size_exact_p99_above_approx_p99": first,
        "first_size_exact_p50_above_approx_p50": first_p50,
    }


# ----------------------------------------------------------------------------------------------- main


def _int_list(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.index_bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=_int_list, default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--clusters", type=int, default=2_000)
    parser.add_argument("--noise-rank", type=int, default=64)
    parser.add_argument("--noise", type=float, default=0.8, help="norm of the low-rank within-cluster noise")
    parser.add_argument("--iso-noise", type=float, default=0.3, help="norm of the isotropic noise")
    parser.add_argument("--hnsw-m", type=int, default=index_module.DEFAULT_HNSW_M)
    parser.add_argument("--ef-search", type=int, default=index_module.DEFAULT_EF_SEARCH)
    parser.add_argument("--ef-construction", type=int, default=index_module.DEFAULT_EF_CONSTRUCTION)
    parser.add_argument("--sweep-sizes", type=_int_list, default=[100_000, 1_000_000], help="sizes with an ef sweep")
    parser.add_argument("--ef-values", type=_int_list, default=[16, 32, 64, 128, 256, 512])
    parser.add_argument("--tombstone-size", type=int, default=100_000, help="size that gets the 10 %% removal check")
    parser.add_argument("--crossover-sizes", type=_int_list, default=[1_000, 2_000, 5_000, 10_000, 20_000, 50_000])
    parser.add_argument("--crossover-queries", type=int, default=500)
    parser.add_argument("--ivf-sizes", type=_int_list, default=[1_000_000], help="sizes that also get IVF")
    parser.add_argument("--ivf-nlist", type=int, default=0, help="IVF lists (0: about 4 sqrt(n))")
    parser.add_argument("--nprobe-values", type=_int_list, default=[8, 16, 32, 64])
    parser.add_argument("--seed", type=int, default=20250101)
    parser.add_argument("--output", type=Path, default=RESULTS)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark, print the JSON report and write it to ``--output``."""
    args = parse_args(argv)
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    import faiss

    default_threads = configure_threads()
    threads = {"default": default_threads, "one_thread": 1} if default_threads > 1 else {"default": 1}
    rng = np.random.default_rng(args.seed)
    data = ClusteredData(args.dim, args.clusters, args.noise_rank, args.noise, args.iso_noise, args.seed)
    started = time.perf_counter()
    report: dict[str, Any] = {
        "benchmark": "embeddings.index VectorIndex: exact Flat vs HNSW (inner product, k=10, one query at a time)",
        "machine": {
            "cpus_affinity": default_threads,
            "python": platform.python_version(),
            "platform": platform.platform(),
            "faiss": faiss.__version__,
            "numpy": np.__version__,
            "load_average_start": load_average(),
        },
        "threads": threads,
        "data": {
            "dim": args.dim,
            "clusters": args.clusters,
            "noise_rank": args.noise_rank,
            "noise": args.noise,
            "iso_noise": args.iso_noise,
            "queries": args.queries,
            "query_noise_scale": 0.35,
            "seed": args.seed,
        },
        "library_defaults": {
            "approximate_above": index_module.DEFAULT_APPROXIMATE_ABOVE,
            "ef_search": index_module.DEFAULT_EF_SEARCH,
            "hnsw_m": index_module.DEFAULT_HNSW_M,
            "ef_construction": index_module.DEFAULT_EF_CONSTRUCTION,
        },
        "bench_params": {"hnsw_m": args.hnsw_m, "ef_search": args.ef_search, "ef_construction": args.ef_construction},
    }
    if args.crossover_sizes:
        logger.info("crossover sweep %s", args.crossover_sizes)
        report["crossover"] = crossover(data, args, threads, rng)
    report["sizes"] = []
    for n in args.sizes:
        report["sizes"].append(bench_size(n, data, args, threads, rng))
        _write(report, args.output)  # partial results survive an interrupted run
    goals = {}
    for row in report["sizes"]:
        budget = GOALS.get(row["n"])
        if budget is None:
            continue
        p99 = row["approx_latency"]["default"]["p99_ms"]
        goals[str(row["n"])] = {
            "p99_budget_ms": budget,
            "approx_p99_ms": p99,
            "approx_recall_at_10": row["approx_recall_at_10"],
            "met": p99 < budget and row["approx_recall_at_10"] >= GOAL_RECALL,
            "exact_p99_ms": row["exact_latency"]["default"]["p99_ms"],
        }
    report["goals"] = goals
    report["smallest_ef_search_with_recall_0_95"] = {
        str(row["n"]): min((r["ef_search"] for r in row["ef_sweep"] if r["recall_at_10"] >= GOAL_RECALL), default=None)
        for row in report["sizes"]
        if "ef_sweep" in row
    }
    report["max_rss_bytes"] = max_rss_bytes()
    report["total_s"] = round(time.perf_counter() - started, 1)
    report["machine"]["load_average_end"] = load_average()
    _write(report, args.output)
    json.dump(report, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


def _write(report: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(report, indent=2) + "\n")
    os.replace(tmp, path)


if __name__ == "__main__":
    raise SystemExit(main())
