"""In-app notifications: list, count and mark as read (each user sees only their own)."""
from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from proeftuin.extensions import db
from proeftuin.models import Notification, User


def unread_count(user: User) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(Notification).where(
            Notification.user_id == user.id, Notification.read_at.is_(None))
    ) or 0


def for_user_query(user: User) -> sa.Select:
    return sa.select(Notification).where(Notification.user_id == user.id).order_by(Notification.created_at.desc())


def mark_all_read(user: User) -> int:
    result = db.session.execute(
        sa.update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=datetime.now(UTC))
    )
    db.session.commit()
    return result.rowcount or 0
