"""The evaluation command gives exactly ranx's metrics for the ranker's run."""
from __future__ import annotations

import json

import pytest
from ranx import Qrels, Run, evaluate

from embeddings import evaluate as evaluation
from embeddings.encoders import get_encoder
from embeddings.ranking import Document, HybridRanker

CORPUS = [
    {"id": "d-air", "title": "Air quality", "text": "Sensors measure air quality and fine dust near schools."},
    {"id": "d-bike", "title": "Bike counting", "text": "Cameras count cyclists and pedestrians at crossings."},
    {"id": "d-waste", "title": "Smart waste", "text": "Bins report their fill level so trucks drive less."},
    {"id": "d-heat", "title": "Heat maps", "text": "Satellite images show urban heat islands in summer."},
    {"id": "d-park", "title": "Parking", "text": "An app guides drivers to free parking spots downtown."},
    {"id": "d-water", "title": "Water", "text": "Sensors in sewers warn of flooding after heavy rain."},
]
QUERIES = [
    {"id": "q1", "text": "fine dust sensors near schools"},
    {"id": "q2", "text": "counting cyclists at crossings"},
    {"id": "q3", "text": "flooding sensors in sewers"},
    {"id": "q-unjudged", "text": "parking app"},
]
QRELS = [("q1", "d-air", 1), ("q2", "d-bike", 1), ("q2", "d-heat", 1), ("q3", "d-water", 1), ("q3", "d-waste", 0)]


@pytest.fixture
def files(tmp_path):
    corpus, queries, qrels = tmp_path / "corpus.jsonl", tmp_path / "queries.jsonl", tmp_path / "qrels.tsv"
    corpus.write_text("".join(json.dumps(row) + "\n" for row in CORPUS), encoding="utf-8")
    queries.write_text("".join(json.dumps(row) + "\n" for row in QUERIES), encoding="utf-8")
    qrels.write_text("query_id\tdoc_id\trelevance\n" + "".join(f"{q}\t{d}\t{r}\n" for q, d, r in QRELS),
                     encoding="utf-8")
    return str(corpus), str(queries), str(qrels)


def expected_metrics(method: str) -> dict[str, float]:
    """The same run built by hand with the ranker, scored by ranx directly."""
    ranker = HybridRanker(get_encoder("hashing-test"))
    ranker.index([Document(i, f"{row['title']}\n{row['text']}") for i, row in enumerate(CORPUS)])
    run = {}
    for query in QUERIES[:3]:
        ranked = ranker.rank(query["text"], "en", evaluation.RUN_DEPTH, method=method)
        run[query["id"]] = {CORPUS[r.id]["id"]: r.score for r in ranked}
    qrels = {}
    for q, d, r in QRELS:
        qrels.setdefault(q, {})[d] = r
    scores = evaluate(Qrels(qrels), Run(run), ["ndcg@10", "recall@10", "mrr@10"])
    return {name: round(float(value), 4) for name, value in scores.items()}


@pytest.mark.parametrize("method", ["bm25", "dense", "hybrid"])
def test_command_prints_ranx_metrics_of_the_rankers_run(files, method, capsys):
    corpus, queries, qrels = files
    code = evaluation.main(["--corpus", corpus, "--queries", queries, "--qrels", qrels,
                            "--method", method, "--engine", "hashing-test"])
    assert code == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1
    result = json.loads(lines[0])
    assert list(result) == ["ndcg@10", "recall@10", "mrr@10", "n_queries", "method", "engine", "seconds"]
    assert result["n_queries"] == 3
    assert result["method"] == method
    assert result["engine"] == get_encoder("hashing-test").id
    expected = expected_metrics(method)
    for name in evaluation.METRICS:
        assert result[name] == expected[name], name
    assert 0 < result["ndcg@10"] <= 1


def test_cache_gives_the_same_result(files, tmp_path):
    corpus, queries, qrels = files
    plain = evaluation.evaluate_retrieval(corpus, queries, qrels, "hybrid", "hashing-test")
    for _ in range(2):
        cached = evaluation.evaluate_retrieval(corpus, queries, qrels, "hybrid", "hashing-test",
                                               cache_dir=str(tmp_path / "cache"))
        assert {k: cached[k] for k in evaluation.METRICS} == {k: plain[k] for k in evaluation.METRICS}
    assert (tmp_path / "cache" / "vectors.sqlite3").exists()


def test_xling_reports_every_direction(tmp_path, capsys):
    lines = ["one sentence here", "another line entirely", "a third different text"]
    names = {name for _, source, target in evaluation.XLING_PAIRS for name in (source, target)}
    for name in names:
        (tmp_path / name).write_text("".join(f" {line} \n" for line in lines), encoding="utf-8")
    assert evaluation.main(["xling", "--dir", str(tmp_path), "--engine", "hashing-test"]) == 0
    result = json.loads(capsys.readouterr().out)
    directions = [k for k in result if "->" in k]
    assert len(directions) == 10
    assert {"tatoeba.nld->eng", "tatoeba.eng->nld", "flores.nld->fra", "flores.fra->nld"} <= set(directions)
    assert all(result[k] == 1.0 for k in directions)
    assert result["min_accuracy"] == 1.0


def test_bitext_accuracy_counts_both_directions():
    import numpy as np

    source = np.eye(3, dtype=np.float32)
    target = np.array([[1, 0, 0], [0, 0.9, 0.1], [0, 0.95, 0.05]], dtype=np.float32)
    forward, backward = evaluation.bitext_accuracy(source, target)
    assert forward == pytest.approx(1 / 3)  # source 1 picks target 2, source 2 picks target 1
    assert backward == pytest.approx(2 / 3)
