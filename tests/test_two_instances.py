"""Two platform instances (own instance folders) on one PostgreSQL database and one Redis queue stay
in step under edits: a change committed through one is findable through both once a worker ran."""
from __future__ import annotations

import os

import pytest
import sqlalchemy as sa

from proeftuin.enums import Language, Maturity, OrgKind, Role, Theme
from proeftuin.extensions import db
from proeftuin.models import StartupProfile, User
from proeftuin.services import matching, profiles
from proeftuin.services.texts import PROFILE
from tests.conftest import make_org, make_user

pytestmark = pytest.mark.skipif(
    not (os.environ.get("TEST_DATABASE_URL") and os.environ.get("TEST_REDIS_URL")),
    reason="needs TEST_DATABASE_URL (PostgreSQL) and TEST_REDIS_URL",
)


def _instance(make_app, monkeypatch, tmp_path, name: str, reset: bool):
    monkeypatch.setenv("PROEFTUIN_INSTANCE_PATH", str(tmp_path / name))
    return make_app(reset=reset, WORKER_QUEUE="redis", REDIS_URL=os.environ["TEST_REDIS_URL"])


def _findable(app, word: str) -> set[int]:
    with app.app_context():
        ids = set(db.session.scalars(sa.select(StartupProfile.id)))
        # Findable by the word itself: BM25 evidence, not just the nearest of one dense vector.
        return {r.id for r in matching.rank(PROFILE, word, "en", ids, k=5) if r.parts.get("lexical", 0) > 0}


def _save(app, email: str, capabilities: str) -> int:
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == email))
        data = profiles.ProfileData(tagline="Counting", capabilities=capabilities, maturity=Maturity.PILOT_READY,
                                    themes=[Theme.MOBILITY], language=Language.EN)
        return profiles.save(user, data).id


def _run_one_job(app) -> None:
    """One worker step on the shared Redis queue: take a nudge, run it."""
    huey = app.extensions["proeftuin_worker"].huey
    task = huey.dequeue()
    assert task is not None, "the other instance's nudge is on the shared queue"
    huey.execute(task)


def test_two_instances_follow_one_database_and_one_queue(make_app, monkeypatch, tmp_path):
    first = _instance(make_app, monkeypatch, tmp_path, "first", reset=True)
    first.extensions["proeftuin_worker"].huey.flush()
    second = _instance(make_app, monkeypatch, tmp_path, "second", reset=False)
    assert first.instance_path != second.instance_path
    with first.app_context():
        org = make_org(OrgKind.STARTUP, "Counting Co")
        make_user("ann@counting.example", Role.STARTUP, org)
        db.session.commit()
    # No worker runs while instance one records the change: the nudge waits in Redis.
    profile_id = _save(first, "ann@counting.example", "Radar counters for zebracrossings near schools.")
    assert _findable(second, "zebracrossings") == set()
    _run_one_job(second)  # instance two's worker picks up instance one's nudge from Redis
    assert _findable(second, "zebracrossings") == {profile_id}
    assert _findable(first, "zebracrossings") == {profile_id}
    # An edit: the old word disappears and the new one appears in both, after one more job.
    _save(first, "ann@counting.example", "Lidar counters for bicyclelanes near schools.")
    _run_one_job(second)
    for app in (first, second):
        assert _findable(app, "bicyclelanes") == {profile_id}
        assert _findable(app, "zebracrossings") == set()
