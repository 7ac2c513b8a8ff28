"""How long the platform keeps what it does not need for ever (the periods the privacy statement names).

`apply_retention` runs daily in the worker. What is not listed here is kept as long as the account or
the organisation it belongs to (see `templates/legal/privacy_*.html`).
"""
from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from proeftuin.extensions import db
from proeftuin.models import AuditEvent, Notification, OutboxEffect
from proeftuin.services.outbox import MAX_ATTEMPTS

logger = logging.getLogger(__name__)

# The periods, in days; the privacy statement quotes them (tests/test_account_data.py checks it).
OUTBOX_DAYS = 30  # sent mail and finished index effects (and effects given up after MAX_ATTEMPTS)
NOTIFICATION_DAYS = 365
AUDIT_DAYS = 5 * 365


def apply_retention(now: datetime | None = None) -> dict[str, int]:
    """Delete outbox effects, notifications and audit events older than their period.

    Pending effects are never deleted, however old: they have not run yet.

    Returns:
        How many rows of each kind were deleted.
    """
    now = now or datetime.now(UTC)
    outbox_cut = now - timedelta(days=OUTBOX_DAYS)
    finished = sa.or_(OutboxEffect.done_at < outbox_cut,
                      sa.and_(OutboxEffect.done_at.is_(None), OutboxEffect.attempts >= MAX_ATTEMPTS,
                              OutboxEffect.created_at < outbox_cut))
    counts = {
        "outbox": db.session.execute(sa.delete(OutboxEffect).where(finished)).rowcount,
        "notifications": db.session.execute(sa.delete(Notification).where(
            Notification.created_at < now - timedelta(days=NOTIFICATION_DAYS))).rowcount,
        "audit": db.session.execute(sa.delete(AuditEvent).where(
            AuditEvent.at < now - timedelta(days=AUDIT_DAYS))).rowcount,
    }
    db.session.commit()
    logger.info("retention applied outbox=%d notifications=%d audit=%d",
                counts["outbox"], counts["notifications"], counts["audit"])
    return counts
