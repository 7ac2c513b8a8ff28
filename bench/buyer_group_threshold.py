"""How similar must two challenges be to propose a buyer group? The threshold, chosen on data.

`python -m bench.buyer_group_threshold [--cache DIR]` prints one JSON object.

- Positives: pairs of CORDIS projects funded under the same call topic (evaldata/dev, both qrels
  files: documents sharing a query id). Two projects the Commission funded for one topic answer
  the same need, as two municipalities' challenges in one buyer group would.
- Negatives: random pairs of judged projects that share no topic, `--ratio` (20) per positive,
  seeded. Some of them are related all the same (topics overlap), so precision is a lower bound.
- Measures, from the default engine (USE multilingual v3, texts encoded as the platform stores
  them: the whole text, then its passages): `document_cosine`, the cosine of the document vectors
  (`embeddings.document_vector`, the whole-text vector: the one vector the platform ranks, searches
  and groups with), `mean_passage_cosine`, the cosine of the normalised mean passage vectors (the
  measure the threshold was first chosen on), and `pooled_passage_cosine`, each passage of one
  text against its best passage of the other, averaged, made symmetric by averaging both
  directions.
- For each: ROC AUC, the threshold with the best F1 (precision and recall there), the lowest
  threshold with precision >= 0.9, and the figures at the constants of `services.buyer_groups`.
- Clustering check on CORDIS: connected components versus average linkage at the threshold, as
  pairwise precision and recall against the topics, and the largest cluster.
- Cross-check on the demo challenges (written for this project, so a smoke test): the intended
  groups' pairs found, the other pairs above the threshold, and the clusters.

Documents are `title + "\\n" + text`, as in `embeddings.evaluate`. `--cache DIR` keeps the
vectors in DIR (`embeddings.cache`); without it the texts and their passages are encoded (a minute
or two on 2 cores).
"""
from __future__ import annotations

import argparse
import collections
import itertools
import json
import os
import random
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
EVALDATA = Path(os.environ.get("PROEFTUIN_EVALDATA", ROOT.parent / "shared" / "evaldata")) / "dev"
DEMO = ROOT / "proeftuin" / "data" / "demo_challenges.json"
QRELS = ("qrels_he.tsv", "qrels_h2020_titles.tsv")
DEMO_GROUPS = {
    "school streets": ["antw-schoolstraten", "mech-schoolomgeving-data", "schaerbeek-abords-ecoles"],
    "heat islands": ["gent-hittestress-pleinen", "kortrijk-hitte-eilanden", "aalst-koele-marktpleinen"],
    "loneliness": ["hasselt-vereenzaming-ouderen", "leuven-isolated-older-residents"],
    "digital counter": ["sintniklaas-klare-taal-formulieren", "pajottegem-digitaal-loket"],
}
GROUPABLE = ("published", "closed", "in_experiment")


def load_cordis(directory: Path) -> tuple[dict[str, str], dict[str, set[str]]]:
    docs = {}
    with open(directory / "corpus.jsonl", encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            docs[row["id"]] = f"{row.get('title') or ''}\n{row.get('text') or ''}".strip()
    topics: dict[str, set[str]] = collections.defaultdict(set)
    for name in QRELS:
        with open(directory / name, encoding="utf-8") as handle:
            next(handle)
            for line in handle:
                query, doc, relevance = line.rstrip("\n").split("\t")
                if int(relevance) > 0 and doc in docs:
                    topics[query].add(doc)
    return docs, topics


def make_pairs(topics: dict[str, set[str]], ratio: int, seed: int) -> tuple[list, list, list[str]]:
    positives = sorted({pair for ds in topics.values() for pair in itertools.combinations(sorted(ds), 2)})
    topic_of: dict[str, set[str]] = collections.defaultdict(set)
    for query, ds in topics.items():
        for doc in ds:
            topic_of[doc].add(query)
    judged = sorted(topic_of)
    rng = random.Random(seed)
    negatives: set[tuple[str, str]] = set()
    while len(negatives) < ratio * len(positives):
        a, b = sorted(rng.sample(judged, 2))
        if not topic_of[a] & topic_of[b]:
            negatives.add((a, b))
    return positives, sorted(negatives), judged


def encode_all(texts: dict[str, str], cache_dir: str | None) -> dict[str, np.ndarray]:
    """Vectors per text, cut and encoded exactly as the platform stores them (whole text, passages)."""
    from embeddings import DEFAULT_ENGINE, Embeddings, get_encoder

    encoder = get_encoder(DEFAULT_ENGINE)
    engine = Embeddings(encoder)
    keys = list(texts)
    cut = [engine.texts_to_encode(texts[k]) for k in keys]
    flat = [p for parts in cut for p in parts]
    if cache_dir:
        from embeddings.cache import VectorCache

        cache = VectorCache(cache_dir)
        encoded = cache.encode(encoder, flat)
        cache.close()
    else:
        encoded = encoder.encode(flat, kind="passage")
    out, start = {}, 0
    for key, parts in zip(keys, cut, strict=True):
        out[key] = encoded[start:start + len(parts)]
        start += len(parts)
    return out


def passage_rows(vectors: np.ndarray) -> np.ndarray:
    """The passage rows of stored vectors (the whole-text row when the text is one passage)."""
    return vectors[1:] if len(vectors) > 1 else vectors


def document_vectors(stored: list[np.ndarray]) -> np.ndarray:
    """One row per object: its document vector, as the platform compares challenges."""
    from embeddings import document_vector

    return np.vstack([document_vector(v) for v in stored])


def similarity_matrix(vectors: np.ndarray) -> np.ndarray:
    return np.asarray(vectors @ vectors.T, dtype=np.float32)


def pooled(a: np.ndarray, b: np.ndarray) -> float:
    """Max over b's passages, mean over a's, both directions averaged."""
    sims = passage_rows(a) @ passage_rows(b).T
    return float((sims.max(axis=1).mean() + sims.max(axis=0).mean()) / 2)


def mean_passage_cosine(a: np.ndarray, b: np.ndarray) -> float:
    va, vb = (passage_rows(v).mean(axis=0) for v in (a, b))
    return float(va @ vb / (np.linalg.norm(va) * np.linalg.norm(vb)))


def document_cosine(a: np.ndarray, b: np.ndarray) -> float:
    va, vb = document_vectors([a, b])
    return float(va @ vb)


MEASURES = {"document_cosine": document_cosine, "mean_passage_cosine": mean_passage_cosine,
            "pooled_passage_cosine": pooled}


def at(pos: np.ndarray, neg: np.ndarray, threshold: float) -> dict:
    tp, fp = int((pos >= threshold).sum()), int((neg >= threshold).sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / len(pos)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"threshold": round(float(threshold), 3), "precision": round(precision, 3), "recall": round(recall, 3),
            "f1": round(f1, 3)}


def curve(pos: np.ndarray, neg: np.ndarray) -> dict:
    scores = np.concatenate([pos, neg])
    labels = np.concatenate([np.ones(len(pos), bool), np.zeros(len(neg), bool)])
    order = np.argsort(-scores, kind="stable")
    scores, labels = scores[order], labels[order]
    tp = np.cumsum(labels)
    fp = np.cumsum(~labels)
    last = np.r_[scores[1:] != scores[:-1], True]  # evaluate each distinct score once
    tp, fp, cut = tp[last], fp[last], scores[last]
    precision = tp / (tp + fp)
    recall = tp / len(pos)
    f1 = np.where(precision + recall > 0, 2 * precision * recall / np.maximum(precision + recall, 1e-12), 0)
    best = int(np.argmax(f1))
    ranks = scores.argsort(kind="stable").argsort() + 1  # for the AUC (Mann-Whitney)
    auc = (ranks[labels].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg))
    precise = np.nonzero(precision >= 0.9)[0]
    result = {"auc": round(float(auc), 3), "best_f1": at(pos, neg, float(cut[best])),
              "precision_0_9": at(pos, neg, float(cut[precise.max()])) if len(precise) else None,
              "positives_median": round(float(np.median(pos)), 3),
              "negatives_median": round(float(np.median(neg)), 3),
              "negatives_p99": round(float(np.percentile(neg, 99)), 3)}
    return result


def cluster_check(vectors: dict[str, np.ndarray], topics: dict[str, set[str]], judged: list[str],
                  threshold: float) -> dict:
    from proeftuin.services.buyer_groups import average_linkage

    sims = similarity_matrix(document_vectors([vectors[d] for d in judged]))
    n = len(judged)
    topic_of = collections.defaultdict(set)
    for query, ds in topics.items():
        for doc in ds:
            topic_of[doc].add(query)
    upper = np.triu_indices(n, 1)
    gold = np.array([[bool(topic_of[a] & topic_of[b]) for b in judged] for a in judged])[upper]

    def score(labels: np.ndarray) -> dict:
        same = (labels[:, None] == labels[None, :])[upper]
        tp, fp, fn = int((same & gold).sum()), int((same & ~gold).sum()), int((~same & gold).sum())
        sizes = collections.Counter(labels.tolist())
        precision = tp / (tp + fp) if tp + fp else 0.0
        return {"pair_precision": round(precision, 3), "pair_recall": round(tp / (tp + fn), 3),
                "largest_cluster": max(sizes.values()), "clusters": sum(1 for v in sizes.values() if v > 1)}

    parent = list(range(n))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for i, j in zip(*np.nonzero(np.triu(sims >= threshold, k=1)), strict=True):
        parent[find(int(i))] = find(int(j))
    components = np.array([find(i) for i in range(n)])
    labels = np.arange(n)
    for number, members in enumerate(average_linkage(sims, list(range(n)), threshold)):
        labels[members] = n + number
    return {"documents": n, "threshold": threshold, "connected_components": score(components),
            "average_linkage": score(labels)}


def demo_check(threshold: float, cache_dir: str | None) -> dict:
    from proeftuin.models import Challenge
    from proeftuin.services.buyer_groups import average_linkage
    from proeftuin.services.texts import challenge_text

    rows = [c for c in json.loads(DEMO.read_text(encoding="utf-8")) if c["status"] in GROUPABLE]
    texts = {c["key"]: challenge_text(Challenge(title=c["title"], summary=c["summary"], problem=c["problem"],
                                                desired_outcome=c["desired_outcome"])) for c in rows}
    vectors = encode_all(texts, cache_dir)
    keys = [c["key"] for c in rows]
    owners = [c["municipality_nis"] for c in rows]
    sims = similarity_matrix(document_vectors([vectors[k] for k in keys]))
    intended = {frozenset(p) for group in DEMO_GROUPS.values() for p in itertools.combinations(group, 2)}
    found, missed, others, candidates = [], [], [], 0
    for i, j in itertools.combinations(range(len(keys)), 2):
        if owners[i] == owners[j]:
            continue
        candidates += 1
        pair = [keys[i], keys[j], round(float(sims[i, j]), 3)]
        if frozenset((keys[i], keys[j])) in intended:
            (found if sims[i, j] >= threshold else missed).append(pair)
        elif sims[i, j] >= threshold:
            others.append(pair)
    clusters = []
    for members in average_linkage(sims, owners, threshold):
        taken = {owners[p] for p in members}
        near = [[keys[o], round(float(sims[o, members].max()), 3)] for o in range(len(keys))
                if owners[o] not in taken and sims[o, members].max() >= threshold]
        clusters.append({"members": [keys[p] for p in members], "near": near})
    return {"challenges": len(keys), "candidate_pairs": candidates, "intended_pairs": len(intended),
            "found": len(found), "found_pairs": sorted(found, key=lambda p: -p[2]),
            "missed_pairs": sorted(missed, key=lambda p: -p[2]),
            "other_pairs_above": len(others), "other_pairs": sorted(others, key=lambda p: -p[2]),
            "clusters": clusters}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", help="folder for cached passage vectors")
    parser.add_argument("--ratio", type=int, default=20, help="negatives per positive")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from embeddings.encoders import DEFAULT_ENGINE, get_encoder
    from proeftuin.services import buyer_groups

    started = time.perf_counter()
    docs, topics = load_cordis(EVALDATA)
    positives, negatives, judged = make_pairs(topics, args.ratio, args.seed)
    vectors = encode_all({d: docs[d] for d in judged}, args.cache)
    measures = {}
    for name, measure in MEASURES.items():
        pos = np.array([measure(vectors[a], vectors[b]) for a, b in positives])
        neg = np.array([measure(vectors[a], vectors[b]) for a, b in negatives])
        measures[name] = curve(pos, neg)
        if name == "document_cosine":
            measures[name]["at_THRESHOLD"] = at(pos, neg, buyer_groups.THRESHOLD)
            measures[name]["at_STRONG_THRESHOLD"] = at(pos, neg, buyer_groups.STRONG_THRESHOLD)
            measures[name]["f1_by_threshold"] = {f"{t:.2f}": at(pos, neg, t)["f1"]
                                                 for t in np.arange(0.50, 0.705, 0.02)}
    print(json.dumps({
        "engine": get_encoder(DEFAULT_ENGINE).id,
        "data": {"topics": len(topics), "documents": len(judged), "positive_pairs": len(positives),
                 "negative_pairs": len(negatives), "negatives_per_positive": args.ratio, "seed": args.seed},
        "measures": measures,
        "constants": {"THRESHOLD": buyer_groups.THRESHOLD, "STRONG_THRESHOLD": buyer_groups.STRONG_THRESHOLD,
                      "measure": "document_cosine"},
        "cordis_clustering": cluster_check(vectors, topics, judged, buyer_groups.THRESHOLD),
        "demo": demo_check(buyer_groups.THRESHOLD, args.cache),
        "seconds": round(time.perf_counter() - started, 1),
    }, indent=1))


if __name__ == "__main__":
    main()
