"""The transactional outbox: effects recorded with a change, run by the worker after commit.

A service records what must follow its change (`record("mail", {...})`) before it commits; the row
commits or rolls back with the change. After a commit that wrote effects, the request (or CLI
command) hands the worker a nudge (`dispatch_if_committed`); the worker runs `drain`, which marks
each effect done once it ran. A periodic job drains too, so effects recorded while the worker was
down, or whose nudge was lost in a crash, still run. Every handler is idempotent.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from proeftuin.extensions import db
from proeftuin.models import OutboxEffect

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
CLAIM_SECONDS = 300
Handler = Callable[[OutboxEffect], None]
HANDLERS: dict[str, Handler] = {}


def handler(kind: str) -> Callable[[Handler], Handler]:
    """Register the function that runs effects of `kind`."""
    def register(function: Handler) -> Handler:
        HANDLERS[kind] = function
        return function
    return register


def record(kind: str, payload: dict) -> OutboxEffect:
    """Add an effect to the current transaction (the caller commits)."""
    effect = OutboxEffect(kind=kind, payload=payload)
    db.session.add(effect)
    return effect


# ---- after commit: nudge the worker --------------------------------------------------------

@event.listens_for(Session, "after_flush")
def _note_new_effects(session: Session, flush_context) -> None:
    if any(isinstance(obj, OutboxEffect) for obj in session.new):
        session.info["outbox_flushed"] = True


@event.listens_for(Session, "after_commit")
def _note_committed_effects(session: Session) -> None:
    if session.info.pop("outbox_flushed", False):
        session.info["outbox_committed"] = True


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back_effects(session: Session) -> None:
    session.info.pop("outbox_flushed", None)


def dispatch_if_committed() -> bool:
    """Nudge the worker when this context committed effects; True when it did.

    Called after each request and at the end of each app context (CLI, tests). Never raises: a
    lost nudge only delays the effect until the periodic drain.
    """
    info = db.session.info
    if not info.pop("outbox_committed", False):
        return False
    try:
        current_app.extensions["proeftuin_worker"].nudge()
    except Exception:  # the queue is down: the periodic drain catches up
        logger.exception("could not nudge the worker; the periodic drain will run the effects")
    return True


# ---- the worker's side ---------------------------------------------------------------------

def _claimable(now: datetime) -> sa.ColumnElement[bool]:
    return sa.and_(OutboxEffect.done_at.is_(None), OutboxEffect.attempts < MAX_ATTEMPTS,
                   sa.or_(OutboxEffect.claimed_until.is_(None), OutboxEffect.claimed_until < now))


def _claim_next() -> OutboxEffect | None:
    """Claim the oldest pending effect for this worker, or None when there is none.

    The claim is one conditional UPDATE, committed before the effect runs: of two drains racing
    for the same row (a nudge and the periodic drain, two workers, two hosts) exactly one sees its
    UPDATE change a row, on SQLite and PostgreSQL alike. A claim lasts `CLAIM_SECONDS`, so the
    effects of a worker that died are run by the next drain after that.
    """
    while True:
        now = datetime.now(UTC)
        effect_id = db.session.scalar(sa.select(OutboxEffect.id).where(_claimable(now))
                                      .order_by(OutboxEffect.id).limit(1))
        if effect_id is None:
            return None
        taken = db.session.execute(
            sa.update(OutboxEffect).where(OutboxEffect.id == effect_id, _claimable(now))
            .values(claimed_until=now + timedelta(seconds=CLAIM_SECONDS))
            .execution_options(synchronize_session=False))
        db.session.commit()
        if taken.rowcount == 1:
            return db.session.get(OutboxEffect, effect_id)


def drain(limit: int = 500) -> int:
    """Run pending effects in order, each in its own transaction; returns how many ran.

    An effect that fails is retried by a later drain, up to `MAX_ATTEMPTS`, with its error kept.
    """
    ran = 0
    db.session.rollback()  # start from committed state only
    while ran < limit:
        effect = _claim_next()
        if effect is None:
            break
        run = HANDLERS.get(effect.kind)
        try:
            if run is None:
                raise LookupError(f"no handler for effect kind {effect.kind!r}")
            run(effect)
        except Exception as exc:
            db.session.rollback()
            effect = db.session.get(OutboxEffect, effect.id)
            effect.attempts += 1
            effect.claimed_until = None
            effect.last_error = f"{type(exc).__name__}: {exc}"[:500]
            logger.exception("effect %s (%s) failed, attempt %d", effect.id, effect.kind, effect.attempts)
            db.session.commit()
            continue
        effect.done_at = datetime.now(UTC)
        effect.attempts += 1
        db.session.commit()
        ran += 1
    return ran


def pending_count() -> int:
    """Effects not run yet (for the health page and the CLI)."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(OutboxEffect).where(
        OutboxEffect.done_at.is_(None), OutboxEffect.attempts < MAX_ATTEMPTS)) or 0


# ---- handlers ------------------------------------------------------------------------------

@handler("mail")
def _mail(effect: OutboxEffect) -> None:
    from proeftuin.services.mail import deliver

    p = effect.payload
    deliver(p["to"], p["subject"], p["body"], message_id=f"<outbox-{effect.id}@proeftuin>")
