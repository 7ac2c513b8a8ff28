"""Tests of embeddings.index.VectorIndex: small random vectors, exact and approximate layouts."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from embeddings.index import Hit, IndexCorrupt, VectorIndex

DIM = 16
EXACT = {"approximate_above": 1_000_000}
APPROX = {"approximate_above": 0, "ef_search": 128}
LAYOUTS = pytest.mark.parametrize("layout", [EXACT, APPROX], ids=["exact", "approximate"])


def unit(rng: np.random.Generator, n: int, dim: int = DIM) -> np.ndarray:
    x = rng.standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


@pytest.fixture
def corpus(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    ids = np.arange(200, dtype=np.int64) * 7 + 11  # database-like ids, not positions
    return ids, unit(rng, 200)


def exact_top(ids: np.ndarray, x: np.ndarray, q: np.ndarray, k: int) -> list[int]:
    scores = x @ q
    return ids[np.argsort(-scores)[:k]].tolist()


# --------------------------------------------------------------------------------------- add / search


@LAYOUTS
def test_search_returns_ids_best_first_with_cosine_scores(layout: dict, corpus: tuple) -> None:
    ids, x = corpus
    index = VectorIndex.build(ids, x, **layout)
    assert index.is_approximate is (layout is APPROX)
    assert len(index) == 200
    hits = index.search_one(x[3], 5)
    assert all(isinstance(h, Hit) for h in hits)
    assert [h.id for h in hits] == exact_top(ids, x, x[3], 5)
    assert hits[0].id == ids[3]
    assert hits[0].score == pytest.approx(1.0, abs=1e-5)
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)
    for h in hits:
        row = int(np.flatnonzero(ids == h.id)[0])
        assert h.score == pytest.approx(float(x[row] @ x[3]), abs=1e-5)


@LAYOUTS
def test_batch_search_gives_one_list_per_query(layout: dict, corpus: tuple) -> None:
    ids, x = corpus
    index = VectorIndex.build(ids, x, **layout)
    results = index.search(x[:4], 3)
    assert [r[0].id for r in results] == ids[:4].tolist()
    assert all(len(r) == 3 for r in results)


@LAYOUTS
def test_k_larger_than_index_returns_what_there_is(layout: dict, rng: np.random.Generator) -> None:
    x = unit(rng, 3)
    index = VectorIndex.build([5, 6, 7], x, **layout)
    hits = index.search_one(x[0], 10)
    assert sorted(h.id for h in hits) == [5, 6, 7]
    assert all(h.id >= 0 for h in hits)


def test_empty_index_returns_empty_lists(rng: np.random.Generator) -> None:
    index = VectorIndex(DIM)
    assert len(index) == 0
    assert index.search(unit(rng, 2), 5) == [[], []]
    assert index.search_one(unit(rng, 1)[0], 5) == []


@LAYOUTS
def test_upsert_replaces_instead_of_duplicating(layout: dict, corpus: tuple, rng: np.random.Generator) -> None:
    ids, x = corpus
    index = VectorIndex.build(ids, x, **layout)
    ntotal = index._index.ntotal
    new = unit(rng, 1)
    index.add([ids[10]], new)
    assert len(index) == 200
    if layout is EXACT:
        assert index._index.ntotal == ntotal  # replaced in place of being stored twice
    hits = index.search_one(new[0], 200)
    assert [h.id for h in hits].count(int(ids[10])) == 1
    assert hits[0].id == ids[10] and hits[0].score == pytest.approx(1.0, abs=1e-5)
    old_hits = index.search_one(x[10], 200)
    assert [h.id for h in old_hits].count(int(ids[10])) == 1
    (again,) = [h for h in old_hits if h.id == ids[10]]
    assert again.score == pytest.approx(float(new[0] @ x[10]), abs=1e-5)


def test_repeated_id_in_one_batch_keeps_the_last_vector(rng: np.random.Generator) -> None:
    x = unit(rng, 3)
    index = VectorIndex.build([1, 2, 1], x)
    assert len(index) == 2
    assert index.search_one(x[2], 1)[0] == Hit(1, pytest.approx(1.0, abs=1e-5))


# ----------------------------------------------------------------------------------------------- remove


@LAYOUTS
def test_remove(layout: dict, corpus: tuple) -> None:
    ids, x = corpus
    index = VectorIndex.build(ids, x, **layout)
    gone = ids[[3, 4, 5]].tolist()
    assert index.remove(gone + [gone[0], 999_999]) == 3  # duplicates and unknown ids are ignored
    assert index.remove(gone) == 0
    assert len(index) == 197
    assert all(i not in index for i in gone) and int(ids[6]) in index
    assert index.ids() == set(ids.tolist()) - set(gone)
    for row in (3, 4, 5):
        returned = [h.id for h in index.search_one(x[row], 200)]
        assert not set(returned) & set(gone)
        assert len(returned) == 197


def test_exact_and_approximate_agree_on_a_small_set(corpus: tuple, rng: np.random.Generator) -> None:
    ids, x = corpus
    exact = VectorIndex.build(ids, x, **EXACT)
    approx = VectorIndex.build(ids, x, **APPROX)
    gone = ids[::9]
    assert exact.remove(gone) == approx.remove(gone) == gone.size
    assert len(exact) == len(approx)
    queries = np.concatenate([x[::9], unit(rng, 20)])  # the removed vectors themselves, and random ones
    for a, b in zip(exact.search(queries, 5), approx.search(queries, 5), strict=True):
        assert [h.id for h in a] == [h.id for h in b]
        assert [h.score for h in a] == pytest.approx([h.score for h in b], abs=1e-5)
        assert not {h.id for h in b} & set(gone.tolist())


def test_growing_past_the_threshold_switches_to_hnsw(rng: np.random.Generator) -> None:
    x = unit(rng, 80)
    index = VectorIndex(DIM, approximate_above=50)
    index.add(range(40), x[:40])
    assert not index.is_approximate
    index.add(range(40, 80), x[40:])
    assert index.is_approximate
    assert len(index) == 80
    assert index.search_one(x[70], 1)[0].id == 70
    assert index.search_one(x[5], 1)[0].id == 5


def test_tombstones_are_compacted_and_a_small_index_returns_to_exact(rng: np.random.Generator) -> None:
    x = unit(rng, 100)
    index = VectorIndex.build(range(100), x, approximate_above=60, max_deleted_fraction=0.25)
    assert index.is_approximate
    index.remove(range(20))
    assert index.deleted_count == 20 and index.is_approximate
    index.remove(range(20, 30))  # 30 tombstones among 100 stored: rebuild from the 70 live vectors
    assert index.deleted_count == 0 and index.is_approximate
    index.remove(range(30, 50))  # 20 of 70 stored: rebuild with 50 live, at or below the threshold
    assert not index.is_approximate
    assert index.ids() == set(range(50, 100))
    assert index.search_one(x[60], 1)[0].id == 60
    index.remove(range(50, 100))
    assert len(index) == 0 and index.search_one(x[0], 3) == []


# ------------------------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("ids", "vectors", "message"),
    [
        ([1, 2], np.zeros((3, DIM), np.float32), "2 ids for 3 vectors"),
        ([1], np.zeros((1, DIM + 1), np.float32), "shape"),
        ([1], np.zeros(DIM, np.float32), "shape"),
        ([1.5], np.zeros((1, DIM), np.float32), "integers"),
        ([-1], np.zeros((1, DIM), np.float32), "non-negative"),
        ([[1]], np.zeros((1, DIM), np.float32), "one-dimensional"),
        ([1], np.full((1, DIM), np.nan, np.float32), "NaN"),
    ],
)
def test_add_validates_input(ids: list, vectors: np.ndarray, message: str) -> None:
    index = VectorIndex(DIM)
    with pytest.raises(ValueError, match=message):
        index.add(ids, vectors)
    assert len(index) == 0


def test_search_validates_input(rng: np.random.Generator) -> None:
    index = VectorIndex.build([1, 2], unit(rng, 2))
    with pytest.raises(ValueError, match="shape"):
        index.search(unit(rng, 1)[0], 1)  # 1-D: search_one is for that
    with pytest.raises(ValueError, match="shape"):
        index.search(unit(rng, 1, DIM + 1), 1)
    with pytest.raises(ValueError, match="k must be"):
        index.search(unit(rng, 1), 0)
    with pytest.raises(ValueError, match="search_one"):
        index.search_one(unit(rng, 2), 1)


def test_float64_and_list_input_is_accepted(rng: np.random.Generator) -> None:
    x = unit(rng, 2).astype(np.float64)
    index = VectorIndex.build(np.array([3, 4], dtype=np.uint32), x)
    assert index.search_one(x[1].tolist(), 1)[0].id == 4
    assert 4 in index and np.int64(3) in index and "3" not in index


def test_constructor_validates_parameters() -> None:
    for bad in ({"approximate_above": -1}, {"hnsw_m": 0}, {"ef_search": 0}, {"max_deleted_fraction": 1.0}):
        with pytest.raises(ValueError):
            VectorIndex(DIM, **bad)
    with pytest.raises(ValueError):
        VectorIndex(0)


# --------------------------------------------------------------------------------------------- snapshot


@LAYOUTS
def test_save_load_round_trip(layout: dict, corpus: tuple, tmp_path: Path, rng: np.random.Generator) -> None:
    ids, x = corpus
    index = VectorIndex.build(ids, x, **layout)
    index.remove(ids[:7])
    index.add([ids[20]], unit(rng, 1))  # an upsert: a tombstone in the approximate layout
    path = tmp_path / "challenges.faiss"
    index.save(path)
    loaded = VectorIndex.load(path)
    assert loaded.is_approximate == index.is_approximate
    assert loaded.ids() == index.ids() and len(loaded) == len(index) == 193
    assert loaded.deleted_count == index.deleted_count
    assert loaded.ef_search == index.ef_search
    queries = np.concatenate([x[:10], unit(rng, 5)])
    assert loaded.search(queries, 8) == index.search(queries, 8)
    loaded.add([10**9], unit(rng, 1))  # still a working index
    assert 10**9 in loaded
    assert os.listdir(tmp_path) == ["challenges.faiss"]


def test_failed_replace_keeps_the_previous_snapshot(
    corpus: tuple, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids, x = corpus
    path = tmp_path / "index.faiss"
    first = VectorIndex.build(ids[:50], x[:50])
    first.save(path)
    second = VectorIndex.build(ids, x)

    def crash(src: str, dst: str) -> None:
        assert Path(src).exists() and Path(src).parent == tmp_path  # the temp file was fully written
        raise OSError("simulated crash before the swap")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="simulated crash"):
        second.save(path)
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ["index.faiss"]  # no temp file left behind
    assert VectorIndex.load(path).ids() == set(ids[:50].tolist())


def test_failed_write_leaves_no_temp_file(corpus: tuple, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ids, x = corpus
    index = VectorIndex.build(ids, x)

    def boom(*args: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(index._faiss, "write_index", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        index.save(tmp_path / "index.faiss")
    assert os.listdir(tmp_path) == []


@pytest.fixture
def snapshot(corpus: tuple, tmp_path: Path) -> Path:
    ids, x = corpus
    path = tmp_path / "index.faiss"
    index = VectorIndex.build(ids, x, **APPROX)
    index.remove(ids[:3])
    index.save(path)
    return path


@pytest.mark.parametrize("keep", [0, 5, 0.5, -1, -30])
def test_truncated_snapshot_is_corrupt(snapshot: Path, keep: float) -> None:
    data = snapshot.read_bytes()
    cut = int(len(data) * keep) if isinstance(keep, float) else (keep if keep >= 0 else len(data) + keep)
    snapshot.write_bytes(data[:cut])
    with pytest.raises(IndexCorrupt):
        VectorIndex.load(snapshot)


def test_damaged_snapshot_is_corrupt(snapshot: Path) -> None:
    data = bytearray(snapshot.read_bytes())
    data[len(data) // 2] ^= 0xFF
    snapshot.write_bytes(bytes(data))
    with pytest.raises(IndexCorrupt, match="checksum"):
        VectorIndex.load(snapshot)


def test_garbage_and_foreign_files_are_corrupt(tmp_path: Path, corpus: tuple) -> None:
    garbage = tmp_path / "garbage"
    garbage.write_bytes(os.urandom(5000))
    with pytest.raises(IndexCorrupt):
        VectorIndex.load(garbage)
    raw = tmp_path / "raw.faiss"  # a plain FAISS file, not our snapshot format
    index = VectorIndex.build(*corpus)
    index._faiss.write_index(index._index, str(raw))
    with pytest.raises(IndexCorrupt):
        VectorIndex.load(raw)


def test_missing_snapshot_is_corrupt(tmp_path: Path) -> None:
    with pytest.raises(IndexCorrupt, match="cannot read"):
        VectorIndex.load(tmp_path / "nope.faiss")
    with pytest.raises(IndexCorrupt):
        VectorIndex.load(tmp_path)  # a directory


# ------------------------------------------------------------------------------------------ concurrency


@LAYOUTS
def test_concurrent_searches_while_another_thread_mutates(layout: dict, rng: np.random.Generator) -> None:
    base_ids = np.arange(400, dtype=np.int64)
    x = unit(rng, 400)
    index = VectorIndex.build(base_ids, x, **layout)
    removed: set[int] = set()
    removed_lock = threading.Lock()
    stop = threading.Event()
    errors: list[BaseException] = []
    searches = [0] * 4
    ready = threading.Barrier(5)

    def searcher(slot: int) -> None:
        local = np.random.default_rng(slot)
        try:
            ready.wait(timeout=30)
            while True:  # at least one search each, then until the mutator is done
                finished = stop.is_set()
                with removed_lock:
                    gone_before = frozenset(removed)  # removals completed before this search starts
                rows = local.integers(0, 400, 8)
                for hits in index.search(x[rows], 5):
                    returned = {h.id for h in hits}
                    assert not returned & gone_before, f"removed ids returned: {returned & gone_before}"
                searches[slot] += 1
                if finished:
                    break
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    def mutator() -> None:
        local = np.random.default_rng(99)
        order = local.permutation(400)
        try:
            ready.wait(timeout=30)
            for step in range(40):
                index.add(np.arange(5) + 10_000 + 5 * step, unit(local, 5))
                index.add([int(order[399 - step])], unit(local, 1))  # an upsert of a base id kept live
                batch = order[5 * step : 5 * step + 5]
                assert index.remove(batch) == 5
                with removed_lock:
                    removed.update(batch.tolist())
        except BaseException as exc:
            errors.append(exc)
        finally:
            stop.set()

    threads = [threading.Thread(target=searcher, args=(i,)) for i in range(4)]
    threads.append(threading.Thread(target=mutator))
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    assert not errors, errors
    assert all(searches)
    assert len(index) == 400 - 200 + 200
    assert not index.ids() & removed
    for hits in index.search(x, 10):
        assert not {h.id for h in hits} & removed


def test_no_flask_or_proeftuin_import() -> None:
    code = "import sys, embeddings.index; assert not {'flask', 'proeftuin'} & set(sys.modules), sorted(sys.modules)"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parents[2])


# ----------------------------------------------------------------------------------- shared (mapped)


@LAYOUTS
def test_a_mapped_index_answers_like_an_owned_one_through_changes(layout: dict, corpus: tuple, tmp_path: Path,
                                                                   rng: np.random.Generator) -> None:
    """Changes to a memory-mapped index go to tombstones and a delta; every answer stays that of an
    index holding the same vectors, and the mapped file is never written."""
    ids, x = corpus
    path = tmp_path / "profile.faiss"
    VectorIndex.build(ids, x, **layout).save(path)
    mapped = VectorIndex.load(path, mapped=True)
    copies = list(tmp_path.glob("profile.faiss.*.mmap"))
    assert mapped.is_mapped and len(copies) == 1
    before = copies[0].read_bytes()
    truth = dict(zip(ids.tolist(), x, strict=True))
    for step in range(60):
        if step % 3 == 2:
            gone = [int(i) for i in rng.choice(list(truth), 2, replace=False)]
            assert mapped.remove(gone) == 2
            for i in gone:
                del truth[i]
        else:
            changed = [int(rng.choice(list(truth))), 10_000 + step]  # one replaced, one new
            vectors = unit(rng, 2)
            mapped.add(changed, vectors)
            truth.update(zip(changed, vectors, strict=True))
    assert mapped.is_mapped and mapped.delta_count > 0
    assert mapped.ids() == set(truth) and len(mapped) == len(truth)
    live_ids = np.asarray(sorted(truth), dtype=np.int64)
    live_x = np.vstack([truth[i] for i in live_ids.tolist()])
    assert np.allclose(mapped.vectors(live_ids), live_x)
    for q in np.concatenate([live_x[:10], unit(rng, 10)]):
        got = mapped.search_one(q, 8)
        want = exact_top(live_ids, live_x, q, 8)
        if layout is EXACT:
            assert [h.id for h in got] == want
        else:  # HNSW over the base: the delta's vectors and the top hit are exact
            assert got[0].id == want[0] and len(got) == 8
        assert all(h.id in truth for h in got)
    assert copies[0].read_bytes() == before  # the shared file is read-only for every process


def test_processes_share_one_mapped_copy_and_a_new_snapshot_replaces_it(corpus: tuple, tmp_path: Path,
                                                                        rng: np.random.Generator) -> None:
    ids, x = corpus
    path = tmp_path / "challenge.faiss"
    VectorIndex.build(ids, x, **APPROX).save(path)
    first, second = VectorIndex.load(path, mapped=True), VectorIndex.load(path, mapped=True)
    assert len(list(tmp_path.glob("*.mmap"))) == 1  # one copy on disk, mapped by both
    newer = VectorIndex.build(ids[:100], x[:100], **APPROX)
    newer.save(path)
    assert not list(tmp_path.glob("*.mmap"))  # the old copy is unlinked...
    assert first.search_one(x[150], 1)[0].id == ids[150]  # ...and still mapped by its readers
    third = VectorIndex.load(path, mapped=True)
    assert third.ids() == set(ids[:100].tolist()) and second.ids() == set(ids.tolist())
    # Saving a mapped index with a delta writes one index holding everything.
    third.add([5], unit(rng, 1))
    third.save(tmp_path / "again.faiss")
    assert VectorIndex.load(tmp_path / "again.faiss").ids() == set(ids[:100].tolist()) | {5}
