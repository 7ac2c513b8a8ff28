"""Effects run after commit, through the outbox and a real Huey queue; a crash or a worker that is
down loses nothing and sends nothing twice; a rolled-back change sends nothing."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from proeftuin.enums import SuggestionStatus
from proeftuin.extensions import db
from proeftuin.models import MatchSuggestion, OutboxEffect
from proeftuin.services import outbox
from tests.conftest import login, outbox_messages
from tests.test_review import _suggest

ROOT = Path(__file__).resolve().parent.parent


def _mails_to(app, email: str) -> list[str]:
    return [m for m in outbox_messages(app) if f"To: {email}" in m]


def test_a_bulk_review_that_rolls_back_sends_no_mail(app, world):
    ids = _suggest(app, world)
    accepted, still_open = ids[world.ids["profile"]], ids[world.ids["profile_b"]]
    with app.app_context():
        db.session.get(MatchSuggestion, accepted).status = SuggestionStatus.ACCEPTED
        db.session.commit()
    client = app.test_client()
    login(client, world.emails["facilitator"])
    # The open suggestion comes first, so its introduction was written before the accepted one fails.
    response = client.post("/review/decide", data={"ids": [still_open, accepted], "decision": "accept"})
    assert response.status_code in (302, 409)
    with app.app_context():
        assert db.session.get(MatchSuggestion, still_open).status != SuggestionStatus.ACCEPTED
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxEffect)) == 0
    assert _mails_to(app, world.emails["suB"]) == [] and _mails_to(app, world.emails["muniA"]) == []


@pytest.fixture
def queued_app(make_app, tmp_path):
    """The app with a real SQLite queue and no consumer running: the worker is down."""
    return make_app(WORKER_QUEUE="sqlite", WORKER_QUEUE_PATH=str(tmp_path / "queue.sqlite3"))


def _reset_link_request(app, email: str):
    return app.test_client().post("/auth/reset", data={"email": email})


def test_the_worker_being_down_degrades_nothing_and_effects_catch_up_exactly_once(queued_app):
    from proeftuin.enums import OrgKind, Role
    from tests.conftest import make_org, make_user

    app = queued_app
    with app.app_context():
        org = make_org(OrgKind.MUNICIPALITY, "Gent", "44021")
        make_user("city@example.org", Role.MUNICIPALITY, org)
        db.session.commit()
    response = _reset_link_request(app, "city@example.org")
    assert response.status_code == 302  # the page answers as usual
    assert outbox_messages(app) == []  # committed, queued, not sent: nobody consumes the queue
    with app.app_context():
        assert outbox.pending_count() == 1
    # The process that committed died here; a worker (re)starts and drains: the mail leaves once.
    runner = app.test_cli_runner()
    result = runner.invoke(args=["worker", "--drain"])
    assert result.exit_code == 0 and "1 effects ran" in result.output
    assert len(_mails_to(app, "city@example.org")) == 1
    assert "/auth/reset/" in _mails_to(app, "city@example.org")[0]
    # Draining again (a second worker, a retried nudge) sends nothing more.
    assert "0 effects ran" in runner.invoke(args=["worker", "--drain"]).output
    assert len(_mails_to(app, "city@example.org")) == 1
    # The queue holds the nudges the requests left for the worker.
    assert app.extensions["proeftuin_worker"].huey.pending_count() >= 1


def test_a_failing_effect_is_retried_with_its_error_kept(app):
    with app.app_context():
        outbox.record("no-such-effect", {})
        db.session.commit()
        assert outbox.drain() == 0
        effect = db.session.scalar(sa.select(OutboxEffect))
        assert effect.done_at is None and effect.attempts >= 1 and "no handler" in effect.last_error


def _serve_worker(env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "flask", "worker", "--threads", "1"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


@pytest.mark.parametrize("queue", ["sqlite", "redis"])
def test_a_real_worker_process_sends_the_mail_after_commit(make_app, tmp_path, queue):
    """`flask worker` (Huey's consumer) picks up the nudge of a request served by another process."""
    if queue == "redis" and not os.environ.get("TEST_REDIS_URL"):
        pytest.skip("TEST_REDIS_URL is not set")
    from proeftuin.enums import OrgKind, Role
    from tests.conftest import make_org, make_user

    database = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_path / 'shared.sqlite'}"
    settings = {"SQLALCHEMY_DATABASE_URI": database, "WORKER_QUEUE": queue,
                "WORKER_QUEUE_PATH": str(tmp_path / "queue.sqlite3"),
                "REDIS_URL": os.environ.get("TEST_REDIS_URL")}
    app = make_app(**settings)
    if queue == "redis":
        app.extensions["proeftuin_worker"].huey.flush()
    with app.app_context():
        org = make_org(OrgKind.MUNICIPALITY, "Gent", "44021")
        make_user("city@example.org", Role.MUNICIPALITY, org)
        db.session.commit()
    env = {**os.environ, "FLASK_APP": "app.py", "PROEFTUIN_ENV": "development", "HF_HUB_OFFLINE": "1",
           "PROEFTUIN_INSTANCE_PATH": str(tmp_path / "instance"), "DATABASE_URL": database,
           "WORKER_QUEUE": queue, "WORKER_QUEUE_PATH": str(tmp_path / "queue.sqlite3"),
           "MAIL_OUTBOX_DIR": app.config["MAIL_OUTBOX_DIR"], "PROEFTUIN_EMBEDDING_MODEL": "hashing-test"}
    if queue == "redis":
        env["REDIS_URL"] = os.environ["TEST_REDIS_URL"]
    worker = _serve_worker(env)
    try:
        _reset_link_request(app, "city@example.org")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not _mails_to(app, "city@example.org"):
            assert worker.poll() is None, worker.stdout.read()
            time.sleep(0.2)
        assert len(_mails_to(app, "city@example.org")) == 1
    finally:
        worker.terminate()
        output = worker.communicate(timeout=20)[0]
    assert '"level": "INFO"' in output or "worker:" in output  # JSON log lines from the consumer


def test_two_drains_at_once_run_each_effect_once(make_app, tmp_path):
    """A nudge and the periodic drain (or two workers) racing never send a mail twice."""
    import threading

    database = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_path / 'race.sqlite'}"
    app = make_app(SQLALCHEMY_DATABASE_URI=database, WORKER_QUEUE="sqlite",
                   WORKER_QUEUE_PATH=str(tmp_path / "queue.sqlite3"))  # no consumer: the drains below race
    with app.app_context():
        for n in range(20):
            outbox.record("mail", {"to": f"user{n}@example.org", "subject": "Hello", "body": "Body"})
        db.session.commit()
    barrier = threading.Barrier(3)
    counts: list[int] = []

    def drain() -> None:
        with app.app_context():
            barrier.wait()
            counts.append(outbox.drain())

    threads = [threading.Thread(target=drain) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sum(counts) == 20
    recipients = [line for m in outbox_messages(app) for line in m.splitlines() if line.startswith("To: ")]
    assert sorted(recipients) == sorted(f"To: user{n}@example.org" for n in range(20))
