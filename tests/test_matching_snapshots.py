"""SECURITY.md T22: the snapshot swap survives crashes; a bad snapshot is rebuilt, never a 500."""
from __future__ import annotations

import json
import os

import pytest

from proeftuin.extensions import db
from proeftuin.models import StartupProfile
from proeftuin.services import matching, snapshots
from proeftuin.services.texts import PROFILE
from tests.conftest import login


def fresh_process(app) -> matching.ProcessIndex:
    """Forget this process's in-memory index, as a newly started worker would have none."""
    app.extensions.get("proeftuin_matching", {}).clear()
    return matching.current()


def expected_profiles() -> set[int]:
    return set(db.session.scalars(db.select(StartupProfile.id)))


def change_a_profile(world) -> None:
    profile = db.session.get(StartupProfile, world.ids["profile"])
    profile.capabilities = "Entirely new capabilities: flood sensors along canals."
    db.session.commit()
    matching.sync_object(profile)


def test_snapshot_is_used_and_followed_by_newer_rows(app, world):
    with app.app_context():
        matching.rebuild()
        index_path, meta_path = snapshots.paths(PROFILE, matching.engine_key())
        assert index_path.exists() and json.loads(meta_path.read_text())["count"] == 2
        change_a_profile(world)
        state = fresh_process(app)
        assert state.engines[PROFILE].approximate_ids() == expected_profiles() == state.ids(PROFILE)


def test_crash_before_the_swap_keeps_the_previous_snapshot(app, world, monkeypatch):
    with app.app_context():
        matching.rebuild()
        index_path, _ = snapshots.paths(PROFILE, matching.engine_key())
        before = index_path.read_bytes()
        change_a_profile(world)

        def crash(*args, **kwargs):
            raise OSError("disk full")

        monkeypatch.setattr("embeddings.index.os.replace", crash)
        with pytest.raises(OSError):
            matching.write_snapshots(matching.encoder(), matching.current_version(matching.engine_key()))
        monkeypatch.undo()
        assert index_path.read_bytes() == before
        assert [p for p in os.listdir(index_path.parent) if p.endswith(".tmp")] == []
        state = fresh_process(app)
        assert state.engines[PROFILE].approximate_ids() == expected_profiles()


def test_crash_between_index_and_version_note_is_harmless(app, world, monkeypatch):
    with app.app_context():
        matching.rebuild()
        change_a_profile(world)

        def crash(*args, **kwargs):
            raise OSError("killed")

        monkeypatch.setattr(snapshots, "_write_json", crash)
        with pytest.raises(OSError):
            matching.write_snapshots(matching.encoder(), matching.current_version(matching.engine_key()))
        monkeypatch.undo()
        state = fresh_process(app)
        assert state.engines[PROFILE].approximate_ids() == expected_profiles()


@pytest.mark.parametrize("damage", ["truncate", "garbage", "ahead_of_database", "missing_note"])
def test_bad_snapshot_is_rebuilt_and_pages_still_render(app, world, damage):
    with app.app_context():
        matching.rebuild()
        index_path, meta_path = snapshots.paths(PROFILE, matching.engine_key())
        if damage == "truncate":
            index_path.write_bytes(index_path.read_bytes()[:100])
        elif damage == "garbage":
            index_path.write_bytes(b"not a faiss index at all" * 10)
        elif damage == "ahead_of_database":
            meta = json.loads(meta_path.read_text())
            meta_path.write_text(json.dumps({**meta, "version": 10**9}))
        else:
            meta_path.unlink()
        app.extensions.get("proeftuin_matching", {}).clear()
    client = app.test_client()
    login(client, world.emails["muniA"])
    assert client.get(f"/challenges/{world.ids['published']}/suggestions").status_code == 200
    with app.app_context():
        assert matching.current().engines[PROFILE].approximate_ids() == expected_profiles()


def test_unavailable_engine_shows_a_notice_not_a_500(app, world, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("model file missing")

    monkeypatch.setattr(matching, "current", broken)
    client = app.test_client()
    login(client, world.emails["muniA"])
    page = client.get(f"/challenges/{world.ids['published']}/suggestions")
    assert page.status_code == 200
    assert "temporarily unavailable" in page.get_data(as_text=True) or "tijdelijk" in page.get_data(as_text=True)
    assert client.get("/challenges/?describe=school+streets").status_code == 200


def test_a_web_process_swaps_in_the_workers_newer_snapshot(app, world):
    """The worker writes a new snapshot once enough has changed; a web process maps it in the
    background and keeps answering with every change, before and after the swap."""
    import time

    from proeftuin.services import suggestions

    with app.app_context():
        app.config.update(MATCHING_EXACT_LIMIT=1, MATCHING_SNAPSHOT_CHECK_SECONDS=0)
        matching.rebuild()
        state = fresh_process(app)
        engine = state.engines[PROFILE]
        assert engine.approximate and engine.vector_index_mapped
        first = state.snapshot_versions[PROFILE]
        change_a_profile(world)
        assert matching.refresh_snapshots(min_changes=5) == {}  # one change: not worth a snapshot yet
        written = matching.refresh_snapshots(min_changes=1)
        assert written[PROFILE] > first
        matching.current()  # applies the new row, then notices the newer snapshot
        deadline = time.monotonic() + 20
        while state.snapshot_versions[PROFILE] != written[PROFILE] and time.monotonic() < deadline:
            time.sleep(0.05)
            matching.current()
        assert state.snapshot_versions[PROFILE] == written[PROFILE]
        assert engine.vector_index_mapped and engine.approximate_ids() == expected_profiles()
        found = suggestions.search_profiles("flood sensors along canals", "en",
                                            suggestions.profile_service.ProfileFilters())
        assert found and found[0].target.id == world.ids["profile"]


def test_a_starting_web_worker_loads_its_index_in_the_background(app, world):
    """gunicorn's post_worker_init hook: the first visitor does not pay the full load."""
    with app.app_context():
        matching.rebuild()
    app.extensions.get("proeftuin_matching", {}).clear()
    matching.warm_up(app).join(60)
    state = matching._state(app)
    assert state.seen >= 0
    with app.app_context():
        assert state.ids(PROFILE) == expected_profiles()


def test_a_snapshot_that_cannot_be_mapped_is_read_instead_of_rebuilt(app, world, monkeypatch, caplog):
    from embeddings.index import VectorIndex

    with app.app_context():
        matching.rebuild()

        def vanished(*args, **kwargs):
            raise FileNotFoundError("the partial copy was removed")

        monkeypatch.setattr(VectorIndex, "_mapped_copy", staticmethod(vanished))
        monkeypatch.setattr(VectorIndex, "build", classmethod(lambda *a, **k: pytest.fail("rebuilt")))
        state = fresh_process(app)
        engine = state.engines[PROFILE]
        assert not engine.vector_index_mapped and engine.approximate_ids() == expected_profiles()
        assert "mapped" in caplog.text


def test_the_snapshot_writers_clean_up_leaves_a_copy_being_mapped(app, world):
    with app.app_context():
        matching.rebuild()
        index_path, _ = snapshots.paths(PROFILE, matching.engine_key())
        partial = index_path.parent / f".{index_path.name}.0badc0de.mmap.abc123.part"
        partial.write_bytes(b"being written by another process")
        snapshots.find(PROFILE, matching.engine_key(), matching.current_version(matching.engine_key()))
        assert partial.exists()
