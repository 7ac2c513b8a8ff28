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


# ---- queries in another language than the corpus -------------------------------------------------

TRANSLATIONS = {
    "nl": ["fijnstof sensoren bij scholen", "fietsers tellen op kruispunten", "sensoren voor overstromingen in riolen",
           "parkeerapp"],
    "fr": ["capteurs de particules fines près des écoles", "compter les cyclistes aux carrefours",
           "capteurs d'inondation dans les égouts", "application de stationnement"],
}


def write_queries(path, language: str | None, texts: list[str] | None = None, skip: set[str] = frozenset()):
    """QUERIES with other texts and a `language` field (none when `language` is None)."""
    rows = []
    for query, text in zip(QUERIES, texts or [q["text"] for q in QUERIES], strict=True):
        if query["id"] in skip:
            continue
        row = {"id": query["id"], "text": text}
        if language is not None:
            row["language"] = language
        rows.append(row)
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return str(path)


@pytest.fixture
def translated(files, tmp_path):
    """The English files plus Dutch and French query files with the same ids and judgements."""
    corpus, queries, qrels = files
    folder = tmp_path / "xling"
    folder.mkdir()
    paths = {lang: write_queries(folder / f"queries.{lang}.jsonl", lang, texts) for lang, texts in TRANSLATIONS.items()}
    return corpus, queries, qrels, paths


def run_main(args: list[str], capsys) -> dict:
    assert evaluation.main(args) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1
    return json.loads(lines[0])


def test_each_query_is_searched_in_the_language_of_its_row(translated, monkeypatch, capsys):
    corpus, queries, qrels, paths = translated
    seen: dict[str, set[str]] = {}
    search = evaluation.Embeddings.search

    def spy(self, query, language="en", *args, **kwargs):
        seen.setdefault(query, set()).add(language)
        return search(self, query, language, *args, **kwargs)

    monkeypatch.setattr(evaluation.Embeddings, "search", spy)
    run_main(["--corpus", corpus, "--queries", queries, "--queries", paths["nl"], "--queries", paths["fr"],
              "--qrels", qrels, "--engine", "hashing-test"], capsys)
    judged = [q["id"] for q in QUERIES[:3]]
    expected = {q["text"]: {"en"} for q in QUERIES if q["id"] in judged}  # no language field: English
    for lang, texts in TRANSLATIONS.items():
        expected.update({text: {lang} for text in texts[:len(judged)]})
    assert seen == expected


@pytest.mark.parametrize("method", ["bm25", "dense", "hybrid"])
def test_several_query_files_report_each_language_and_its_ratio_to_english(translated, method, capsys):
    corpus, queries, qrels, paths = translated
    result = run_main(["--corpus", corpus, "--queries", queries, "--queries", paths["nl"], "--queries", paths["fr"],
                       "--qrels", qrels, "--method", method, "--engine", "hashing-test"], capsys)
    assert list(result) == ["method", "engine", "languages", "seconds"]
    assert result["method"] == method and result["engine"] == get_encoder("hashing-test").id
    assert list(result["languages"]) == ["en", "nl", "fr"]
    for label, path in [("en", queries), *paths.items()]:
        entry = result["languages"][label]
        assert list(entry) == ["ndcg@10", "recall@10", "mrr@10", "n_queries", "language", "queries", "vs_en",
                               "seconds"]
        assert entry["language"] == label and entry["queries"] == path.rsplit("/", 1)[-1]
        # Each entry is what a run of that file alone gives.
        alone = evaluation.evaluate_retrieval(corpus, path, qrels, method, "hashing-test")
        assert {k: entry[k] for k in (*evaluation.METRICS, "n_queries")} == \
               {k: alone[k] for k in (*evaluation.METRICS, "n_queries")}
    english = result["languages"]["en"]
    assert english["vs_en"] == {name: 1.0 for name in evaluation.METRICS}
    for label in TRANSLATIONS:
        entry = result["languages"][label]
        for name in evaluation.METRICS:
            if english[name] > 0:
                assert entry["vs_en"][name] == pytest.approx(entry[name] / english[name], rel=2e-3, abs=2e-4), \
                    (label, name)
            else:
                assert entry["vs_en"][name] is None
    assert result["languages"]["nl"]["vs_en"] != english["vs_en"]  # the Dutch words are not the English ones


def test_xling_dir_adds_the_translations_of_the_query_file(translated, tmp_path, capsys):
    corpus, queries, qrels, paths = translated
    explicit = run_main(["--corpus", corpus, "--queries", queries, "--queries", paths["fr"], "--queries", paths["nl"],
                         "--qrels", qrels, "--engine", "hashing-test"], capsys)
    found = run_main(["--corpus", corpus, "--queries", queries, "--qrels", qrels,
                      "--xling-dir", str(tmp_path / "xling"), "--engine", "hashing-test"], capsys)
    assert list(found["languages"]) == ["en", "fr", "nl"]  # the translations in name order
    for result in (explicit, found):
        for entry in result["languages"].values():
            entry.pop("seconds")
    assert found["languages"] == explicit["languages"]


def test_xling_dir_finds_a_subfolder_named_like_the_query_files_folder(tmp_path, capsys):
    dev = tmp_path / "dev"
    dev.mkdir()
    corpus = dev / "corpus.jsonl"
    corpus.write_text("".join(json.dumps(row) + "\n" for row in CORPUS), encoding="utf-8")
    queries = write_queries(dev / "queries_titles.jsonl", "en")
    (dev / "qrels_titles.tsv").write_text("query_id\tdoc_id\trelevance\nq1\td-air\t1\nq2\td-bike\t1\n",
                                          encoding="utf-8")
    xling = tmp_path / "xling_retrieval" / "dev"
    xling.mkdir(parents=True)
    write_queries(xling / "queries_titles.nl.jsonl", "nl", TRANSLATIONS["nl"])
    # Judgements next to the translations are used for them: here only q3, which the English lack.
    (xling / "qrels_titles.tsv").write_text("query_id\tdoc_id\trelevance\nq3\td-water\t1\n", encoding="utf-8")
    result = run_main(["--corpus", str(corpus), "--queries", queries, "--qrels", str(dev / "qrels_titles.tsv"),
                       "--xling-dir", str(tmp_path / "xling_retrieval"), "--engine", "hashing-test"], capsys)
    assert result["languages"]["en"]["n_queries"] == 2
    assert result["languages"]["nl"]["n_queries"] == 1
    assert "vs_en" not in result["languages"]["nl"]  # no query in common with the English file


def test_vs_en_compares_the_queries_both_files_have(translated, tmp_path, capsys):
    corpus, queries, qrels, _ = translated
    dutch = write_queries(tmp_path / "queries.nl.jsonl", "nl", TRANSLATIONS["nl"], skip={"q3"})
    result = run_main(["--corpus", corpus, "--queries", queries, "--queries", dutch, "--qrels", qrels,
                       "--method", "dense", "--engine", "hashing-test"], capsys)
    # The judgements decide the queries, as in a one-file run: q3 counts 0 for Dutch ...
    alone = evaluation.evaluate_retrieval(corpus, dutch, qrels, "dense", "hashing-test")
    assert result["languages"]["nl"]["n_queries"] == alone["n_queries"] == 3
    assert result["languages"]["nl"]["ndcg@10"] == alone["ndcg@10"]
    # ... but the ratio to English compares q1 and q2 only, the queries both files hold.
    # The English run restricted to q1 and q2, scored by ranx directly.
    embeddings = evaluation.build_engine(evaluation.load_set(corpus, queries, qrels).docs, "hashing-test", "dense",
                                         None)
    runs = {}
    for path in (queries, dutch):
        data = evaluation.judged_only(evaluation.load_set(corpus, path, qrels))
        data.qrels = {q: data.qrels[q] for q in ("q1", "q2")}
        runs[path] = evaluation.run_queries(embeddings, data, "dense")
    judged = {q: {d: r for qq, d, r in QRELS if qq == q} for q in ("q1", "q2")}
    english = evaluate(Qrels(judged), Run(runs[queries]), ["ndcg@10"])
    dutch_score = evaluate(Qrels(judged), Run(runs[dutch]), ["ndcg@10"])
    assert result["languages"]["nl"]["vs_en"]["ndcg@10"] == pytest.approx(dutch_score / english, abs=1e-4)


def test_other_language_queries_rank_english_documents_on_dense_alone(files, tmp_path):
    """A query labelled Dutch gets no lexical evidence from English documents: hybrid ranks as dense does;
    the same texts labelled English (no field: the default) are fused with BM25."""
    corpus, queries, qrels = files
    labelled_nl = write_queries(tmp_path / "q.nl.jsonl", "nl")  # the English texts, labelled Dutch
    orders = {}
    for name, path in (("en", queries), ("nl", labelled_nl)):
        data = evaluation.judged_only(evaluation.load_set(corpus, path, qrels))
        embeddings = evaluation.build_engine(data.docs, "hashing-test", "hybrid", None)
        for method in ("dense", "hybrid"):
            run = evaluation.run_queries(embeddings, data, method)
            orders[name, method] = {q: sorted(docs, key=lambda d, docs=docs: (-docs[d], d)) for q, docs in run.items()}
    assert orders["nl", "hybrid"] == orders["nl", "dense"]
    assert orders["en", "dense"] == orders["nl", "dense"]
    assert orders["en", "hybrid"] != orders["en", "dense"]


def test_one_english_file_per_run_and_one_qrels_or_one_per_file(translated, tmp_path, capsys):
    corpus, queries, qrels, paths = translated
    unlabelled = write_queries(tmp_path / "other.jsonl", None)
    with pytest.raises(SystemExit) as raised:
        evaluation.main(["--corpus", corpus, "--queries", queries, "--queries", unlabelled, "--qrels", qrels,
                         "--engine", "hashing-test"])
    assert raised.value.code == 2
    assert "both 'en'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        evaluation.main(["--corpus", corpus, "--queries", queries, "--queries", paths["nl"], "--queries", paths["fr"],
                         "--qrels", qrels, "--qrels", qrels, "--engine", "hashing-test"])
    with pytest.raises(SystemExit):
        evaluation.main(["--corpus", corpus, "--queries", queries, "--qrels", qrels, "--xling-dir", str(tmp_path),
                         "--engine", "hashing-test"])  # no queries.<lang>.jsonl there
    assert "no translation" in capsys.readouterr().err


def test_one_query_file_keeps_the_single_line_format(translated, capsys):
    corpus, _, qrels, paths = translated
    result = run_main(["--corpus", corpus, "--queries", paths["nl"], "--qrels", qrels, "--engine", "hashing-test"],
                      capsys)
    assert list(result) == ["ndcg@10", "recall@10", "mrr@10", "n_queries", "method", "engine", "seconds"]


def test_engine_encodes_whole_texts_only_and_ranks_as_the_platform_does(tmp_path):
    """The evaluation encodes row 0 only (whole-text pooling scores nothing else): the same ranking as an
    engine that encodes passages too."""
    from embeddings.engine import Embeddings

    long_text = " ".join(f"word{i} sensors air quality" for i in range(60))  # 240 words: several passages
    docs = [Document(0, long_text), Document(1, "Cameras count cyclists at crossings."),
            Document(2, "Air quality sensors near schools measure dust.")]
    platform = Embeddings(get_encoder("hashing-test"))
    platform.index(docs)
    assert len(platform.vectors(0)) > 1
    for cache_dir in (None, str(tmp_path / "cache")):
        engine = evaluation.build_engine(docs, "hashing-test", "hybrid", cache_dir)
        assert len(engine.vectors(0)) == 1
        for method in ("dense", "hybrid"):
            for query in ("air quality sensors", "cyclists crossings"):
                mine = [(r.id, round(r.score, 5)) for r in engine.search(query, "en", 3, method=method)]
                theirs = [(r.id, round(r.score, 5)) for r in platform.search(query, "en", 3, method=method)]
                assert mine == theirs


def write_evaldata(root, translations: bool = True):
    """A tiny evaldata folder as bench.quality reads it."""
    dev = root / "dev"
    dev.mkdir(parents=True)
    (dev / "corpus.jsonl").write_text("".join(json.dumps(row) + "\n" for row in CORPUS), encoding="utf-8")
    write_queries(dev / "queries_h2020_titles.jsonl", "en")
    (dev / "qrels_h2020_titles.tsv").write_text(
        "query_id\tdoc_id\trelevance\n" + "".join(f"{q}\t{d}\t{r}\n" for q, d, r in QRELS), encoding="utf-8")
    if translations:
        xling = root / "xling_retrieval" / "dev"
        xling.mkdir(parents=True)
        for lang, texts in TRANSLATIONS.items():
            write_queries(xling / f"queries_h2020_titles.{lang}.jsonl", lang, texts)
    return dev


def test_bench_quality_reports_every_method_per_language(tmp_path):
    from bench import quality

    dev = write_evaldata(tmp_path)
    data = evaluation.judged_only(evaluation.load_set(
        str(dev / "corpus.jsonl"), str(dev / "queries_h2020_titles.jsonl"), str(dev / "qrels_h2020_titles.tsv")))
    embeddings = evaluation.build_engine(data.docs, "hashing-test", "hybrid", None)
    result = quality.xling_retrieval(embeddings, tmp_path, None)
    assert list(result) == ["bm25", "dense", "hybrid", "hybrid_vs_en"]
    for method in ("bm25", "dense", "hybrid"):
        assert result[method]["method"] == method
        assert list(result[method]["languages"]) == ["en", "fr", "nl"]
        assert result[method]["languages"]["en"]["ndcg@10"] == evaluation.evaluate_engine(embeddings, data,
                                                                                          method)["ndcg@10"]
    hybrid = result["hybrid"]["languages"]
    assert result["hybrid_vs_en"] == {"fr": hybrid["fr"]["vs_en"]["ndcg@10"], "nl": hybrid["nl"]["vs_en"]["ndcg@10"]}
    missing = tmp_path / "bare"
    write_evaldata(missing, translations=False)
    assert quality.xling_retrieval(embeddings, missing, None) == {"missing": str(missing / "xling_retrieval" / "dev")}


def test_offline_fusion_reproduces_the_rankers_hybrid_in_every_language(tmp_path):
    from bench import dense_fusion
    from embeddings.ranking import RankingParams

    dev = write_evaldata(tmp_path)
    english = (str(dev / "queries_h2020_titles.jsonl"), str(dev / "qrels_h2020_titles.tsv"))
    files = [english, *evaluation.translated_files(str(tmp_path / "xling_retrieval"), *english)]
    sets, _ = evaluation.load_language_sets(str(dev / "corpus.jsonl"), files)
    result = dense_fusion.evaluate_variants(sets, ["hashing-test"], [1.0], None, RankingParams())
    for label in ("en", "nl", "fr"):
        own, offline = result[label]["hashing-test"], result[label]["offline_hashing-test"]
        assert offline["hybrid"] == own["hybrid"]
        engine = evaluation.build_engine(sets[label].docs, "hashing-test", "hybrid", None)
        for method in ("dense", "hybrid"):
            line = evaluation.evaluate_engine(engine, sets[label], method)
            assert {k: own[method][k] for k in evaluation.METRICS} == {k: line[k] for k in evaluation.METRICS}
    assert result["en"]["hashing-test"]["hybrid"]["vs_en"] == 1.0
    # Across languages the "all lexical" variant uses the BM25 the ranker leaves out: it may differ.
    assert set(result["nl"]) == {"hashing-test", "offline_hashing-test", "hashing-test_all_lexical"}
