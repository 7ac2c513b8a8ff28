"""The background worker: Huey runs the outbox's effects after commit, and periodic checks.

Why Huey: one small, well-kept library that offers an embedded queue on SQLite (``make run`` needs
no extra server) and Redis in production, periodic tasks and a consumer; RQ needs Redis even for
development, Celery and Dramatiq bring a broker each and more than this platform uses.

The queue only carries nudges ("drain the outbox"); what must happen lives in the database
(`services.outbox`), so a lost nudge, a queue that is down or a worker that crashed loses nothing:
the periodic drain runs every minute and catches up.
"""
from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask
from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey, crontab

logger = logging.getLogger(__name__)


class Worker:
    """The app's queue and its tasks; `nudge` asks a worker process to drain the outbox."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.huey = _make_huey(app)
        huey = self.huey

        @huey.task(name="drain_outbox")
        def drain_outbox() -> int:
            return self.drain()

        @huey.periodic_task(crontab(minute="*"), name="drain_outbox_periodically")
        def drain_periodically() -> int:
            return self.drain()

        @huey.periodic_task(crontab(minute="*/10"), name="check_index")
        def check_index() -> dict:
            return self.check_index()

        @huey.periodic_task(crontab(hour="3", minute="17"), name="apply_retention")
        def apply_retention() -> dict:
            from proeftuin.services.retention import apply_retention as run

            with self.app.app_context():
                return run()

        self._drain_task = drain_outbox

    def nudge(self) -> None:
        """Enqueue one drain (runs inline when the queue is immediate, as in tests)."""
        self._drain_task()

    def drain(self) -> int:
        from proeftuin.services import (
            outbox,
            suggestions,  # noqa: F401  (registers its handlers)
        )

        with self.app.app_context():
            ran = outbox.drain()
        if ran:
            logger.info("outbox drained", extra={"effects": ran})
        return ran

    def check_index(self) -> dict:
        """Re-check that the index matches the database; re-sync what drifted (bounded by the drift);
        write a new index snapshot for the web processes to swap in once enough has changed."""
        from proeftuin.services import matching

        with self.app.app_context():
            report = matching.reconcile()
            report["snapshots"] = matching.refresh_snapshots()
        logger.info("index checked", extra=report)
        return report

    def consumer(self, workers: int = 2):
        """A Huey consumer for this app's queue (``flask worker``)."""
        return self.huey.create_consumer(workers=workers, worker_type="thread", periodic=True,
                                         check_worker_health=True)


def _make_huey(app: Flask) -> Huey:
    kind = app.config["WORKER_QUEUE"]
    if kind == "immediate":
        return MemoryHuey("proeftuin", immediate=True)
    if kind == "redis":
        return RedisHuey("proeftuin", url=app.config["REDIS_URL"])
    path = Path(app.config.get("WORKER_QUEUE_PATH") or Path(app.instance_path) / "queue.sqlite3")
    path.parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("proeftuin", filename=str(path))


def register_worker(app: Flask) -> None:
    """Bind the queue to the app and nudge the worker after each request that committed effects."""
    from proeftuin.services import outbox

    app.extensions["proeftuin_worker"] = Worker(app)

    @app.after_request
    def nudge_after_request(response):
        outbox.dispatch_if_committed()
        return response

    @app.teardown_appcontext
    def nudge_at_teardown(exc):
        if exc is None and "sqlalchemy" in app.extensions:
            try:
                outbox.dispatch_if_committed()
            except Exception:  # never fail a teardown
                logger.exception("nudge at teardown failed")
